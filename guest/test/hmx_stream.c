// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fault isolation under load. role=sender streams checked messages to
 * role=receiver as fast as the ring takes them; the receiver verifies every
 * byte and, each time a 'm' arrives on its console, prints how many bytes
 * it has received and the TSC. role=flooder hammers HMX (its own rings,
 * the hoarder's rings, refused sends); role=hoarder registers rings and
 * never reads them. tests/integration/test_fault_isolation.py and
 * bench/isolation drive it (a fourth guest simply triple-faults).
 */
#include "rt.h"

#define EAGAIN 11
#define EBUSY 16
#define ECONNREFUSED 111

#define SENDER 3
#define RECEIVER 4
#define HOARDER 6
#define PORT_STREAM 5000
#define PORT_SENDER 5001
#define PORT_HOARD 7000
#define HOARD_RINGS 16
#define MSG_LEN 1024
#define RING_PAGES 16
#define RING_LEN (RING_PAGES * HMX_PAGE_SIZE - HMX_RING_HEADER_SIZE)
#define COM1_LSR 0x3fd
#define COM1 0x3f8

static struct hmx hmx;
static uint8_t msg[MSG_LEN] __attribute__((aligned(16)));
static uint8_t ring[HOARD_RINGS][RING_PAGES * HMX_PAGE_SIZE]
	__attribute__((aligned(4096)));

static uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

static int register_ring(uint32_t aport, uint16_t partner, unsigned int idx,
			 uint32_t pages)
{
	return hmx_register(&hmx, aport, partner, ring[idx], pages);
}

static int send(uint32_t src, uint16_t dst, uint32_t port, uint32_t len)
{
	return hmx_send(&hmx, src, dst, port, msg, len);
}

static uint8_t pattern(uint64_t seq, uint32_t i)
{
	return (uint8_t)(seq * 29 + i);
}

static void role_sender(void)
{
	uint64_t seq = 0, full = 0;

	check_eq("sender: its ring", register_ring(PORT_SENDER, RECEIVER, 0, 1),
		 0);
	gprintf("sender: streaming\n");
	for (;;) {
		int ret;

		memcpy(msg, &seq, sizeof(seq));
		for (uint32_t i = 8; i < MSG_LEN; i++)
			msg[i] = pattern(seq, i);
		ret = send(PORT_SENDER, RECEIVER, PORT_STREAM, MSG_LEN);
		if (ret == MSG_LEN) {
			seq++;
		} else if (ret == -EAGAIN || ret == -EBUSY ||
			   ret == -ECONNREFUSED) {
			full++; /* the receiver is behind, or not up yet */
			__asm__ volatile("pause");
		} else {
			gprintf("FAIL sender: send gave %d after %lu messages\n",
				ret, (unsigned long)seq);
			return;
		}
	}
}

static void role_receiver(void)
{
	volatile struct hmx_ring *r = (volatile struct hmx_ring *)ring[0];
	const uint8_t *data = ring[0] + HMX_RING_HEADER_SIZE;
	uint64_t seq = 0, bytes = 0, bad = 0, marks = 0;

	check_eq("receiver: the stream ring",
		 register_ring(PORT_STREAM, SENDER, 0, RING_PAGES), 0);
	gprintf("receiver: ready\n");
	for (;;) {
		uint32_t rx = r->rx_ptr, tx = r->tx_ptr;

		while (rx != tx) {
			struct hmx_msg_header mh;
			uint64_t got;

			barrier();
			/* A header never wraps (slots); a payload may. */
			memcpy(&mh, data + rx, sizeof(mh));
			got = 0;
			for (uint32_t i = 0; i < sizeof(got); i++)
				got |= (uint64_t)data[(rx + sizeof(mh) + i) %
						      RING_LEN]
				       << (8 * i);
			if (got != seq || mh.len != sizeof(mh) + MSG_LEN ||
			    mh.source.domid != SENDER)
				bad++;
			for (uint32_t i = 8; i < MSG_LEN; i += 61)
				if (data[(rx + sizeof(mh) + i) % RING_LEN] !=
				    pattern(seq, i))
					bad++;
			seq++;
			bytes += MSG_LEN;
			rx = (rx + HMX_ROUNDUP(mh.len)) % RING_LEN;
			r->rx_ptr = rx;
		}
		/* Let the sender, maybe waiting for space, go on. */
		hmx_notify_consumed(&hmx);
		if (inb(COM1_LSR) & 1) {
			char c = (char)inb(COM1);

			if (c == 'm')
				gprintf("mark %lu bytes %lu tsc %lu bad %lu\n",
					(unsigned long)marks++,
					(unsigned long)bytes,
					(unsigned long)rdtsc(),
					(unsigned long)bad);
			else if (c == 'q')
				return;
		}
	}
}

static void role_hoarder(void)
{
	unsigned int i;

	for (i = 0; i < HOARD_RINGS; i++)
		if (register_ring(PORT_HOARD + i, HMX_DOMID_ANY, i, 1) != 0)
			gprintf("FAIL hoarder: ring %u\n", i);
	gprintf("hoarder: %u rings, never read\n", HOARD_RINGS);
	for (;;)
		__asm__ volatile("hlt");
}

static void role_flooder(void)
{
	unsigned long n = 0, ok = 0, refused = 0;

	check_eq("flooder: its ring", register_ring(1, HMX_DOMID_ANY, 0, 1), 0);
	gprintf("flooder: flooding\n");
	memset(msg, 0x5a, sizeof(msg));
	for (;; n++) {
		/* Fill the hoarder's rings, then keep knocking on them. */
		int ret = send(1, HOARDER, PORT_HOARD + n % HOARD_RINGS,
			       1 + n % 512);

		ok += ret > 0;
		/* And the stream's receiver, which policy refuses to us. */
		refused += send(1, RECEIVER, PORT_STREAM, 64) == -1;
		if (n % 20000 == 0)
			gprintf("flooder: %lu calls, %lu delivered, %lu refused\n",
				n * 2, ok, refused);
	}
}

void guest_main(const uint8_t *zero_page)
{
	char role[12];

	(void)zero_page;
	if (!hmx_probe(&hmx)) {
		gprintf("FAIL probe: no HMX controller\n");
		return;
	}
	if (!cmdline_get("role", role, sizeof(role)))
		gprintf("FAIL role: none given\n");
	else if (!memcmp(role, "sender", 7))
		role_sender();
	else if (!memcmp(role, "receiver", 9))
		role_receiver();
	else if (!memcmp(role, "hoarder", 8))
		role_hoarder();
	else
		role_flooder();
	gprintf("RESULT %s\n", test_failures ? "fail" : "pass");
}
