// SPDX-License-Identifier: GPL-2.0-only
/*
 * hmx-peer: a freestanding guest that talks HMX under the policy bulkheadd
 * installs, for the toolstack tests and scripts/demo (its freestanding
 * pair beside the Debian guests). Everything it does comes from its
 * command line:
 *
 *   listen=PORT        register a ring at PORT; sends go from this port
 *                      (a sender must own its source port). A wildcard
 *                      ring needs a policy that lets someone in, which
 *                      may come only when a peer starts: an EPERM is
 *                      retried for a while.
 *   partner=DOMID      make that ring partner-specific (default: any)
 *   send=DOMID:PORT    send text= there, retrying while no ring exists
 *   deny=DOMID:PORT    send there too, expecting the firewall to refuse
 *   deny2=DOMID:PORT   and there
 *   expect=N           wait for N messages on the ring and print them
 *   text=WORD          what to send (default "hello")
 *   hold=1             when done, wait for a byte on the serial port
 *                      before powering off (it spins meanwhile)
 *
 * It prints one "peer: ..." line per step and powers off when done.
 */
#include "rt.h"

#define POLL_LIMIT 400000000ul
#define ECONNREFUSED_ 111
#define COM1_LSR 0x3fd
#define LSR_DR 0x01
#define REGISTER_TRIES 600
#define RETRY_CYCLES 100000000ull /* about 50 ms at 2 GHz */

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static void delay_cycles(uint64_t n)
{
	uint64_t start = rdtsc();

	while (rdtsc() - start < n)
		__asm__ volatile("pause");
}

static uint8_t ring_page[HMX_PAGE_SIZE] __attribute__((aligned(4096)));
static struct hmx hmx;

/* "DOMID:PORT" into a and p; false if malformed. */
static bool parse_addr(const char *s, uint16_t *d, uint32_t *p)
{
	unsigned long v = 0;
	bool digits = false;

	for (; *s >= '0' && *s <= '9'; s++, digits = true)
		v = v * 10 + (unsigned long)(*s - '0');
	if (!digits || *s++ != ':' || v > 0xffff)
		return false;
	*d = (uint16_t)v;
	v = 0;
	digits = false;
	for (; *s >= '0' && *s <= '9'; s++, digits = true)
		v = v * 10 + (unsigned long)(*s - '0');
	*p = (uint32_t)v;
	return digits && !*s && v <= 0xfffffffful;
}

static int register_ring(uint32_t aport, uint16_t partner)
{
	return hmx_register(&hmx, aport, partner, ring_page, 1);
}

static int send(uint32_t src_port, uint16_t dst, uint32_t dst_port,
		const char *text)
{
	return hmx_send(&hmx, src_port, dst, dst_port, text,
			(uint32_t)strlen(text));
}

/* Waits for one message; prints it. False on timeout. */
static bool receive_one(void)
{
	struct hmx_msg_header mh;
	char text[128];
	long n = hmx_ring_take(ring_page, 1, &mh, text, sizeof(text) - 1,
			       POLL_LIMIT);

	if (n < 0)
		return false;
	text[n < (long)sizeof(text) - 1 ? n : (long)sizeof(text) - 1] = '\0';
	gprintf("peer: received \"%s\" from %u:%u\n", text, mh.source.domid,
		mh.source.aport);
	return true;
}

/* Sends to the address in key=, expecting a refusal. */
static void try_denied(const char *key, uint32_t port, const char *text)
{
	char buf[32];
	uint32_t dport;
	uint16_t dom;
	int r;

	if (!cmdline_get(key, buf, sizeof(buf)) ||
	    !parse_addr(buf, &dom, &dport))
		return;
	r = send(port, dom, dport, text);
	gprintf("peer: send to %u:%u %s (%d)\n", dom, dport,
		r == -1 ? "refused by the firewall" : "not refused", r);
}

void guest_main(const uint8_t *zero_page);
void guest_main(const uint8_t *zero_page)
{
	char buf[64], text[64];
	uint32_t port = 0, dport;
	unsigned long expect;
	uint16_t dom;
	int r = 0;

	(void)zero_page;
	if (!hmx_probe(&hmx)) {
		gprintf("peer: no HMX controller\n");
		guest_poweroff();
	}
	gprintf("peer: up as domid %u\n", hmx.domid);
	if (!cmdline_get("text", text, sizeof(text)))
		memcpy(text, "hello", 6);
	if (cmdline_get("listen", buf, sizeof(buf))) {
		uint16_t partner =
			(uint16_t)cmdline_uint("partner", HMX_DOMID_ANY);

		port = (uint32_t)cmdline_uint("listen", 0);
		for (unsigned long i = 0; i < REGISTER_TRIES; i++) {
			r = register_ring(port, partner);
			if (r != -1) /* EPERM: no policy lets anyone in yet */
				break;
			/* Each refusal is audited: ask again only now and
			 * then. */
			delay_cycles(RETRY_CYCLES);
		}
		gprintf("peer: ring on port %u: %s (%d)\n", port,
			r ? "failed" : "registered", r);
	}
	if (cmdline_get("send", buf, sizeof(buf))) {
		if (!parse_addr(buf, &dom, &dport)) {
			gprintf("peer: send=%s is not DOMID:PORT\n", buf);
		} else {
			for (unsigned long i = 0; i < POLL_LIMIT; i++) {
				r = send(port, dom, dport, text);
				if (r != -ECONNREFUSED_)
					break;
				__asm__ volatile("pause");
			}
			if (r >= 0)
				gprintf("peer: sent \"%s\" to %u:%u\n", text,
					dom, dport);
			else
				gprintf("peer: send to %u:%u failed: %d\n", dom,
					dport, r);
		}
	}
	try_denied("deny", port, text);
	try_denied("deny2", port, text);
	expect = cmdline_uint("expect", 0);
	for (unsigned long i = 0; i < expect; i++) {
		if (!receive_one()) {
			gprintf("peer: no message after waiting\n");
			break;
		}
	}
	gprintf("peer: done\n");
	if (cmdline_uint("hold", 0)) {
		gprintf("peer: holding\n");
		while (!(inb(COM1_LSR) & LSR_DR))
			__asm__ volatile("pause");
	}
	guest_poweroff();
}
