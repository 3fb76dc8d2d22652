// SPDX-License-Identifier: GPL-2.0-only
/*
 * The hostile-guest suite: role=hostile (2 vCPUs) throws malformed
 * hypercalls and races at the HMX controller while role=peer streams
 * checked messages to role=victim. Every hostile call must give the error
 * docs/hmx-abi.md documents; the victim must get every peer message intact
 * and in order, and nothing in rings the hostile guest may not reach.
 * tests/integration/test_hmx_hostile.py drives it.
 */
#include "rt.h"

#define EPERM 1
#define ENOENT 2
#define ESRCH 3
#define EAGAIN 11
#define EFAULT 14
#define EBUSY 16
#define EEXIST 17
#define EINVAL 22
#define ENOSPC 28
#define ENOSYS 38
#define EMSGSIZE 90
#define EADDRINUSE 98
#define ECONNRESET 104
#define ECONNREFUSED 111

#define VICTIM 3
#define HOSTILE 4
#define PEER 5
#define PORT_OPEN 1000 /* victim's wildcard ring */
#define PORT_SEALED 1001 /* victim's ring for the peer only */
#define PORT_PEER 3000
#define PORT_HOST 100
#define MSGS_OPEN 300
#define MSGS_SEALED 50
#define RING_LEN (HMX_PAGE_SIZE - HMX_RING_HEADER_SIZE)
#define SPIN_LIMIT 400000000ul
#define RAM_END (8ull << 20) /* the test gives the hostile guest 8 MiB */

static struct hmx hmx;
/* Per-vCPU call blocks and buffers: calls of two vCPUs run in parallel. */
static struct hmx_call calls[2] __attribute__((aligned(64)));
static struct hmx_iov iovs[2][HMX_MAXIOV + 1] __attribute__((aligned(16)));
static uint8_t bufs[2][512] __attribute__((aligned(16)));
static uint8_t ring_pages[8][HMX_PAGE_SIZE] __attribute__((aligned(4096)));
static uint64_t pfns[2][4] __attribute__((aligned(8)));
static uint8_t scratch[2 * HMX_PAGE_SIZE] __attribute__((aligned(4096)));

static struct hmx_call *blank_call(unsigned int cpu, uint32_t op)
{
	struct hmx_call *c = &calls[cpu];

	memset(c, 0, sizeof(*c));
	c->op = op;
	return c;
}

static int do_call(struct hmx_call *c)
{
	return hmx_hypercall(&hmx, c);
}

static int register_ring_at(unsigned int cpu, uint32_t aport, uint16_t partner,
			    unsigned int page, uint32_t len)
{
	struct hmx_call *c = blank_call(cpu, HMX_OP_REGISTER_RING);

	pfns[cpu][0] = (uintptr_t)ring_pages[page] >> 12;
	c->u.register_ring.aport = aport;
	c->u.register_ring.partner = partner;
	c->u.register_ring.len = len;
	c->u.register_ring.npages = 1;
	c->u.register_ring.pfn_list_gpa = (uintptr_t)pfns[cpu];
	return do_call(c);
}

/* ---- the peer: sequence-numbered messages the victim can verify ---- */

static uint32_t msg_len(uint32_t seq)
{
	return 1 + (seq * 37) % 200;
}

static uint8_t msg_byte(uint32_t seq, uint32_t i)
{
	return (uint8_t)(seq * 131 + i * 7 + 1);
}

static void make_msg(uint32_t seq, uint8_t *out)
{
	memcpy(out, &seq, 4);
	for (uint32_t i = 4; i < msg_len(seq) + 4; i++)
		out[i] = msg_byte(seq, i);
}

static void role_peer(void)
{
	uint8_t m[256];
	unsigned int sent = 0, again = 0;

	check_eq("peer: register its ring",
		 register_ring_at(0, PORT_PEER, HMX_DOMID_ANY, 0, RING_LEN), 0);
	for (uint32_t seq = 0; seq < MSGS_OPEN + MSGS_SEALED; seq++) {
		uint32_t port = seq < MSGS_OPEN ? PORT_OPEN : PORT_SEALED;
		int ret;

		make_msg(seq, m);
		for (unsigned long spin = 0; spin < SPIN_LIMIT; spin++) {
			ret = hmx_send(&hmx, PORT_PEER, VICTIM, port, m,
				       msg_len(seq) + 4);
			/* Full (the hostile guest floods it), or not yet there. */
			if (ret != -EAGAIN && ret != -EBUSY &&
			    ret != -ECONNREFUSED)
				break;
			again++;
			__asm__ volatile("pause");
		}
		if (ret == (int)msg_len(seq) + 4)
			sent++;
		else
			check_eq("peer: send", ret, msg_len(seq) + 4);
	}
	check_eq("peer: every message sent", sent, MSGS_OPEN + MSGS_SEALED);
	gprintf("peer: %u retries while the ring was full\n", again);
}

/* ---- the victim ---- */

struct reader {
	volatile struct hmx_ring *r;
	uint8_t *data;
	uint32_t len;
};

/* Next message, or false on timeout; reads rx_ptr and tx_ptr once each. */
static bool ring_next(struct reader *rd, struct hmx_msg_header *mh,
		      uint8_t *out, uint32_t cap)
{
	uint32_t rx = rd->r->rx_ptr, tx, n, at;

	for (unsigned long i = 0; (tx = rd->r->tx_ptr) == rx; i++) {
		if (i == SPIN_LIMIT)
			return false;
		__asm__ volatile("pause");
	}
	barrier();
	at = rx;
	for (n = 0; n < sizeof(*mh); n++, at = (at + 1) % rd->len)
		((uint8_t *)mh)[n] = rd->data[at];
	for (n = 0; n + sizeof(*mh) < mh->len && n < cap; n++) {
		out[n] = rd->data[at];
		at = (at + 1) % rd->len;
	}
	barrier();
	rd->r->rx_ptr = (rx + HMX_ROUNDUP(mh->len)) % rd->len;
	return true;
}

static void notify_consumed(void)
{
	do_call(blank_call(0, HMX_OP_NOTIFY)); /* wakes waiting senders */
}

static void role_victim(void)
{
	struct reader open = { (volatile struct hmx_ring *)ring_pages[0],
			       ring_pages[0] + 64, RING_LEN };
	struct reader sealed = { (volatile struct hmx_ring *)ring_pages[1],
				 ring_pages[1] + 64, RING_LEN };
	uint32_t next = 0, hostile_msgs = 0, bad = 0, bad_hostile = 0;
	bool flood_over = false;
	struct hmx_msg_header mh;
	uint8_t m[HMX_PAGE_SIZE];

	check_eq("victim: register the open ring",
		 register_ring_at(0, PORT_OPEN, HMX_DOMID_ANY, 0, RING_LEN), 0);
	check_eq("victim: register the peer-only ring",
		 register_ring_at(0, PORT_SEALED, PEER, 1, RING_LEN), 0);
	gprintf("victim: rings ready\n");
	while (next < MSGS_OPEN || !flood_over) {
		uint32_t seq;

		if (!ring_next(&open, &mh, m, sizeof(m)))
			break;
		notify_consumed();
		if (mh.source.domid == HOSTILE && mh.len == 16 + 4 &&
		    !memcmp(m, "DONE", 4)) {
			flood_over = true;
			continue;
		}
		if (mh.source.domid == HOSTILE) {
			hostile_msgs++;
			/* The hostile guest's data arrives as sent, too. */
			for (uint32_t i = 0; i + 16 < mh.len; i++)
				if (m[i] != (uint8_t)(0xa5 ^ i))
					bad_hostile++;
			continue;
		}
		memcpy(&seq, m, 4);
		if (mh.source.domid != PEER || mh.source.aport != PORT_PEER ||
		    seq != next || mh.len != 16 + msg_len(seq) + 4) {
			bad++;
			gprintf("victim: unexpected message from %u:%u seq %u len %u, want seq %u\n",
				mh.source.domid, mh.source.aport, seq, mh.len,
				next);
		}
		for (uint32_t i = 4; i < msg_len(seq) + 4; i++)
			if (m[i] != msg_byte(seq, i))
				bad++;
		next++;
	}
	check_eq("victim: every peer message on the open ring", next,
		 MSGS_OPEN);
	check_eq("victim: peer messages intact and in order", bad, 0);
	check_eq("victim: hostile messages arrive as sent", bad_hostile, 0);
	check(flood_over && hostile_msgs > 0,
	      "victim: the hostile flood reached the open ring", hostile_msgs,
	      1);
	for (next = MSGS_OPEN; next < MSGS_OPEN + MSGS_SEALED; next++) {
		uint32_t seq = 0;

		if (!ring_next(&sealed, &mh, m, sizeof(m)))
			break;
		notify_consumed();
		memcpy(&seq, m, 4);
		if (mh.source.domid != PEER || seq != next)
			bad++;
	}
	check_eq("victim: the peer-only ring got only the peer's messages", bad,
		 0);
	check_eq("victim: every peer message on the peer-only ring", next,
		 MSGS_OPEN + MSGS_SEALED);
	/* Nothing else: the ring is drained and quiet. */
	check_eq("victim: peer-only ring empty", sealed.r->rx_ptr,
		 sealed.r->tx_ptr);
}

/* ---- the hostile guest ---- */

static uint64_t lcg = 0x2545f4914f6cdd1dull;

static uint64_t rnd(void)
{
	lcg = lcg * 6364136223846793005ull + 1442695040888963407ull;
	return lcg >> 11;
}

/* The call block at gpa holds a sentinel result; returns it after a call. */
static int32_t call_at(uint64_t gpa, uint32_t op)
{
	struct hmx_call c = { .op = op, .result = 0x5a5a5a5a };

	bool in_ram = gpa <= RAM_END - sizeof(c); /* no wrap at 2^64 */

	outl(hmx.io + HMX_REG_CALL_HI, (uint32_t)(gpa >> 32));
	if (in_ram) {
		memcpy((void *)(uintptr_t)gpa, &c, sizeof(c));
		barrier();
	}
	outl(hmx.io + HMX_REG_CALL_LO, (uint32_t)gpa);
	barrier();
	if (!in_ram)
		return 0x5a5a5a5a;
	memcpy(&c, (void *)(uintptr_t)gpa, sizeof(c));
	return c.result;
}

static void hostile_call_blocks(void)
{
	uint8_t *page = scratch;

	check_eq("call: unknown op 0", call_at((uintptr_t)page, 0), -ENOSYS);
	check_eq("call: unknown op 99", call_at((uintptr_t)page, 99), -ENOSYS);
	/* Misaligned, page-crossing or outside RAM: nothing is written. */
	check_eq("call: misaligned block untouched",
		 call_at((uintptr_t)page + 8, 0), 0x5a5a5a5a);
	check_eq("call: page-crossing block untouched",
		 call_at((uintptr_t)page + HMX_PAGE_SIZE - 32, 0), 0x5a5a5a5a);
	call_at(0xfec00000ull, HMX_OP_SENDV); /* the IOAPIC */
	call_at(RAM_END, HMX_OP_SENDV);
	call_at(0xfffffffffffffff0ull, HMX_OP_SENDV);
	check(true, "call: blocks in MMIO, past RAM, at 2^64 - 16 survived", 0,
	      0);
}

static void hostile_register(void)
{
	struct hmx_call *c;
	int i;
	struct {
		const char *name;
		int want;
		uint16_t pad, partner;
		uint32_t aport, len, npages, flags, pad2;
		uint64_t pfn0, pfn1;
		int list_off; /* pfn_list_gpa offset, or -1 for outside RAM */
	} cases[] = {
		{ "register: pad", -EINVAL, 1, HOSTILE, 10, 4032, 1, 0, 0, 0, 0,
		  0 },
		{ "register: pad2", -EINVAL, 0, HOSTILE, 10, 4032, 1, 0, 1, 0,
		  0, 0 },
		{ "register: unknown flag", -EINVAL, 0, HOSTILE, 10, 4032, 1, 2,
		  0, 0, 0, 0 },
		{ "register: aport ANY", -EINVAL, 0, HOSTILE, HMX_PORT_ANY,
		  4032, 1, 0, 0, 0, 0, 0 },
		{ "register: bad partner", -EINVAL, 0, 0x7ff0, 10, 4032, 1, 0,
		  0, 0, 0, 0 },
		{ "register: len 47", -EINVAL, 0, HOSTILE, 10, 47, 1, 0, 0, 0,
		  0, 0 },
		{ "register: len not a slot multiple", -EINVAL, 0, HOSTILE, 10,
		  4024, 1, 0, 0, 0, 0, 0 },
		{ "register: len over 16 MiB", -EINVAL, 0, HOSTILE, 10,
		  (16u << 20) + 16, 4098, 0, 0, 0, 0, 0 },
		{ "register: npages wrong", -EINVAL, 0, HOSTILE, 10, 4032, 2, 0,
		  0, 0, 0, 0 },
		{ "register: list misaligned", -EINVAL, 0, HOSTILE, 10, 4032, 1,
		  0, 0, 0, 0, 4 },
		{ "register: list outside RAM", -EFAULT, 0, HOSTILE, 10, 4032,
		  1, 0, 0, 0, 0, -1 },
		{ "register: frame in MMIO", -EFAULT, 0, HOSTILE, 10, 4032, 1,
		  0, 0, 0xfec00, 0, 0 },
		{ "register: frame past RAM", -EFAULT, 0, HOSTILE, 10, 4032, 1,
		  0, 0, RAM_END >> 12, 0, 0 },
		{ "register: frame overflowing", -EFAULT, 0, HOSTILE, 10, 4032,
		  1, 0, 0, 1ull << 60, 0, 0 },
		{ "register: frame twice", -EINVAL, 0, HOSTILE, 10, 4096, 2, 0,
		  0, 1, 1, 0 },
		{ "register: partner gone", -ESRCH, 0, 77, 10, 4032, 1, 0, 0, 1,
		  0, 0 },
		{ "register: wildcard the firewall forbids", -EPERM, 0,
		  HMX_DOMID_ANY, 10, 4032, 1, 0, 0, 1, 0, 0 },
	};

	for (i = 0; i < (int)(sizeof(cases) / sizeof(cases[0])); i++) {
		uint64_t *list = (uint64_t *)(scratch + 64);

		c = blank_call(0, HMX_OP_REGISTER_RING);
		list[0] = cases[i].pfn0 ? cases[i].pfn0 :
					  (uintptr_t)ring_pages[2] >> 12;
		list[1] = cases[i].pfn1 ? cases[i].pfn1 :
					  (uintptr_t)ring_pages[3] >> 12;
		c->u.register_ring.aport = cases[i].aport;
		c->u.register_ring.partner = cases[i].partner;
		c->u.register_ring.pad = cases[i].pad;
		c->u.register_ring.len = cases[i].len;
		c->u.register_ring.npages = cases[i].npages;
		c->u.register_ring.flags = cases[i].flags;
		c->u.register_ring.pad2 = cases[i].pad2;
		c->u.register_ring.pfn_list_gpa =
			cases[i].list_off < 0 ?
				RAM_END + 4096 :
				(uintptr_t)list + cases[i].list_off;
		check_eq(cases[i].name, do_call(c), cases[i].want);
	}

	/*
	 * A long page list with one frame twice, at the end: the hypervisor
	 * sorts the whole list to find it (once killed by its own seccomp
	 * jail, through glibc's qsort, for lists over 1 KiB).
	 */
	{
		uint64_t *list = (uint64_t *)scratch;
		uint32_t n = sizeof(scratch) / sizeof(*list);

		for (uint32_t k = 0; k + 1 < n; k++)
			list[k] = (RAM_END >> 12) - n + k;
		list[n - 1] = list[0];
		c = blank_call(0, HMX_OP_REGISTER_RING);
		c->u.register_ring.aport = 10;
		c->u.register_ring.partner = HOSTILE;
		c->u.register_ring.len =
			n * HMX_PAGE_SIZE - HMX_RING_HEADER_SIZE;
		c->u.register_ring.npages = n;
		c->u.register_ring.pfn_list_gpa = (uintptr_t)list;
		check_eq("register: 1024 frames, the last a repeat", do_call(c),
			 -EINVAL);
	}

	/* Rings naming ourselves need no firewall rule. */
	check_eq("register: a ring naming itself",
		 register_ring_at(0, 20, HOSTILE, 2, RING_LEN), 0);
	c = blank_call(0, HMX_OP_REGISTER_RING);
	pfns[0][0] = (uintptr_t)ring_pages[2] >> 12;
	c->u.register_ring =
		(struct hmx_register_ring){ .aport = 20,
					    .partner = HOSTILE,
					    .len = RING_LEN,
					    .npages = 1,
					    .pfn_list_gpa = (uintptr_t)pfns[0],
					    .flags = HMX_REGISTER_FAIL_EXIST };
	check_eq("register: FAIL_EXIST", do_call(c), -EEXIST);
	check_eq("register: again with another size",
		 register_ring_at(0, 20, HOSTILE, 2, RING_LEN - 16), -EBUSY);
	check_eq("register: pages used by another ring",
		 register_ring_at(0, 21, HOSTILE, 2, RING_LEN), -EADDRINUSE);
	check_eq("unregister: no such ring", hmx_unregister(&hmx, 22, HOSTILE),
		 -ENOENT);
	check_eq("unregister: aport ANY",
		 hmx_unregister(&hmx, HMX_PORT_ANY, HOSTILE), -EINVAL);
	c = blank_call(0, HMX_OP_UNREGISTER_RING);
	c->u.unregister_ring = (struct hmx_unregister_ring){ .aport = 20,
							     .partner = HOSTILE,
							     .pad = 1 };
	check_eq("unregister: pad", do_call(c), -EINVAL);
	check_eq("unregister: the ring", hmx_unregister(&hmx, 20, HOSTILE), 0);
}

static int sendv_raw(struct hmx_sendv *s)
{
	struct hmx_call *c = blank_call(0, HMX_OP_SENDV);

	c->u.sendv = *s;
	return do_call(c);
}

static void hostile_sendv(void)
{
	struct hmx_iov *iov = iovs[0];
	struct hmx_sendv s;
	uint8_t big[17];

	check_eq("send: own ring for a source port",
		 register_ring_at(0, 30, HOSTILE, 4, RING_LEN), 0);
	check_eq("send: a 48-byte ring",
		 register_ring_at(0, 31, HOSTILE, 5, 48), 0);
	iov[0] = (struct hmx_iov){ .gpa = (uintptr_t)bufs[0], .len = 8 };
#define SEND(d, p)                                           \
	((s = (struct hmx_sendv){ .src.aport = 30,           \
				  .dst.domid = (d),          \
				  .dst.aport = (p),          \
				  .iov_gpa = (uintptr_t)iov, \
				  .niov = 1 }),              \
	 &s)
	SEND(HOSTILE, 30)->src.pad = 1;
	check_eq("send: src pad", sendv_raw(&s), -EINVAL);
	SEND(HOSTILE, 30)->niov = HMX_MAXIOV + 1;
	check_eq("send: 9 iovs", sendv_raw(&s), -EINVAL);
	check_eq("send: dst ANY", sendv_raw(SEND(HMX_DOMID_ANY, 30)), -EINVAL);
	check_eq("send: dst port ANY", sendv_raw(SEND(HOSTILE, HMX_PORT_ANY)),
		 -EINVAL);
	SEND(HOSTILE, 30)->iov_gpa += 4;
	check_eq("send: iov array misaligned", sendv_raw(&s), -EINVAL);
	SEND(HOSTILE, 30)->iov_gpa = RAM_END - 8;
	check_eq("send: iov array past RAM", sendv_raw(&s), -EFAULT);
	iov[0].pad = 1;
	check_eq("send: iov pad", sendv_raw(SEND(HOSTILE, 30)), -EINVAL);
	iov[0] = (struct hmx_iov){ .gpa = RAM_END - 4, .len = 8 };
	check_eq("send: data straddling the end of RAM",
		 sendv_raw(SEND(HOSTILE, 30)), -EFAULT);
	iov[0] = (struct hmx_iov){ .gpa = 0xfee00000, .len = 8 };
	check_eq("send: data in the local APIC", sendv_raw(SEND(HOSTILE, 30)),
		 -EFAULT);
	for (int i = 0; i < 8; i++)
		iov[i] = (struct hmx_iov){ .gpa = (uintptr_t)scratch,
					   .len = 0xffffffff };
	SEND(HOSTILE, 30)->niov = 8;
	check_eq("send: 4 GiB iovs are not in RAM", sendv_raw(&s), -EFAULT);
	for (int i = 0; i < 8; i++)
		iov[i] = (struct hmx_iov){ .gpa = 1u << 20, .len = 4u << 20 };
	check_eq("send: 32 MiB of payload, more than any ring", sendv_raw(&s),
		 -EMSGSIZE);
	iov[0] = (struct hmx_iov){ .gpa = (uintptr_t)bufs[0], .len = 8 };
	SEND(HOSTILE, 30)->src.aport = 9999;
	check_eq("send: spoofed source port", sendv_raw(&s), -EPERM);
	check_eq("send: firewall refuses the host",
		 sendv_raw(SEND(0, PORT_HOST)), -EPERM);
	check_eq("send: victim's other port refused by policy",
		 sendv_raw(SEND(VICTIM, 999)), -EPERM);
	check_eq("send: victim's peer-only ring does not exist for us",
		 sendv_raw(SEND(VICTIM, PORT_SEALED)), -EPERM);
	check_eq("send: no ring there", sendv_raw(SEND(HOSTILE, 12345)),
		 -ECONNREFUSED);
	memset(big, 1, sizeof(big));
	check_eq("send: too big for the 48-byte ring",
		 hmx_send(&hmx, 30, HOSTILE, 31, big, 17), -EMSGSIZE);
	check_eq("send: exactly fits the 48-byte ring",
		 hmx_send(&hmx, 30, HOSTILE, 31, big, 16), 16);
	check_eq("send: the 48-byte ring is full",
		 hmx_send(&hmx, 30, HOSTILE, 31, big, 1), -EAGAIN);
	check_eq("send: unregister the 48-byte ring",
		 hmx_unregister(&hmx, 31, HOSTILE), 0);
#undef SEND
}

static void hostile_notify(void)
{
	struct hmx_ring_data *q = (void *)scratch; /* room for the entries */
	struct hmx_call *c;

	memset(q, 0, sizeof(*q) + sizeof(q->data[0]));
	q->nent = HMX_NOTIFY_MAX_ENTRIES + 1;
	q->src_aport = HMX_PORT_ANY;
	c = blank_call(0, HMX_OP_NOTIFY);
	c->u.notify.ring_data_gpa = (uintptr_t)q;
	check_eq("notify: 257 entries", do_call(c), -EINVAL);
	q->nent = 1;
	q->src_aport = 9999;
	check_eq("notify: unowned source port", do_call(c), -EPERM);
	q->src_aport = HMX_PORT_ANY;
	q->data[0].pad = 1;
	check_eq("notify: entry pad", do_call(c), -EINVAL);
	c->u.notify.ring_data_gpa = (uintptr_t)q + 2;
	check_eq("notify: misaligned", do_call(c), -EINVAL);
	c->u.notify.ring_data_gpa = RAM_END;
	check_eq("notify: past RAM", do_call(c), -EFAULT);
	c = blank_call(0, HMX_OP_PEER_EVENTS);
	c->u.peer_events.domids_gpa = (uintptr_t)scratch + 1;
	c->u.peer_events.max = 4;
	check_eq("peer events: misaligned", do_call(c), -EINVAL);
	c->u.peer_events.domids_gpa = RAM_END;
	check_eq("peer events: past RAM", do_call(c), -EFAULT);
	c->u.peer_events.max = 0;
	check_eq("peer events: max 0", do_call(c), 0);
}

/* Hundreds of random blocks: every result is a documented one. */
static void hostile_random(void)
{
	unsigned int odd = 0, n;

	for (n = 0; n < 500; n++) {
		struct hmx_call *c = blank_call(0, (uint32_t)(rnd() % 7));
		uint64_t *w = (uint64_t *)c->u.raw;
		int ret;

		for (unsigned int i = 0; i < 5; i++) {
			uint64_t v = rnd();

			/* Half of the addresses point somewhere plausible. */
			if (v & 1)
				v = (uintptr_t)scratch + (v >> 40) % 8192;
			w[i] = v;
		}
		ret = do_call(c);
		if (ret >= 0)
			continue;
		switch (-ret) {
		case EINVAL:
		case EFAULT:
		case ENOSYS:
		case EPERM:
		case ECONNREFUSED:
		case EMSGSIZE:
		case ENOENT:
		case ESRCH:
		case EEXIST:
		case EBUSY:
		case EADDRINUSE:
		case ENOSPC:
		case EAGAIN:
		case ECONNRESET:
			break;
		default:
			odd++;
			gprintf("random call %u: op %u gave %d\n", n, c->op,
				ret);
		}
	}
	check_eq("random: 500 garbage calls, only documented errors", odd, 0);
}

/* The race partners on vCPU 1. */
static volatile uint32_t race_phase, race_ack, race_done;

void guest_ap_main(unsigned int vcpu)
{
	volatile struct hmx_ring *r = (volatile struct hmx_ring *)ring_pages[7];
	uint32_t x = 12345;

	if (vcpu != 1)
		return;
	while (race_phase == 0)
		__asm__ volatile("pause");
	/* Phase 1: the ring vCPU 0 sends to comes and goes. */
	while (race_phase == 1) {
		register_ring_at(1, 40, HOSTILE, 6, RING_LEN);
		hmx_unregister(&hmx, 40, HOSTILE); /* so it ends unregistered */
	}
	race_ack = 1;
	/* Phase 2: the rx_ptr of the ring being sent to turns to garbage. */
	while (race_phase == 2) {
		x = x * 1103515245u + 12345u;
		r->rx_ptr = x % 3 ? x :
				    x & 0xff0; /* misaligned, huge, or fine */
	}
	race_done = 1;
}

static void hostile_races(void)
{
	volatile struct hmx_ring *r = (volatile struct hmx_ring *)ring_pages[7];
	unsigned int ok = 0, refused = 0, reset = 0, odd = 0, full = 0;
	uint8_t m[64];

	for (int i = 0; i < 64; i++)
		m[i] = (uint8_t)(0xa5 ^ i);
	race_phase = 1;
	for (int n = 0; n < 300; n++) {
		int ret = hmx_send(&hmx, 30, HOSTILE, 40, m, 48);

		if (ret == 48)
			ok++;
		else if (ret == -ECONNREFUSED)
			refused++;
		else if (ret == -EAGAIN)
			full++;
		else
			odd++;
	}
	check_eq("race: unregister during sends, only documented results", odd,
		 0);
	check_eq("race: register the ring whose rx_ptr goes bad",
		 register_ring_at(0, 42, HOSTILE, 7, RING_LEN), 0);
	race_phase = 2;
	while (!race_ack)
		__asm__ volatile("pause");
	for (int n = 0; n < 300; n++) {
		int ret = hmx_send(&hmx, 30, HOSTILE, 42, m, 48);

		if (ret == 48)
			ok++;
		else if (ret == -ECONNRESET)
			reset++;
		else if (ret == -EAGAIN)
			full++;
		else
			odd++;
	}
	race_phase = 3;
	while (!race_done)
		__asm__ volatile("pause");
	gprintf("race: %u sent, %u refused, %u full, %u reset\n", ok, refused,
		full, reset);
	check_eq("race: garbage rx_ptr, only documented results", odd, 0);
	/* Whatever rx_ptr said, the hypervisor kept its producer in range. */
	check(r->tx_ptr < RING_LEN && r->tx_ptr % HMX_SLOT_SIZE == 0,
	      "race: tx_ptr in range and aligned", r->tx_ptr, 0);
	check(reset > 0, "race: garbage rx_ptr seen as -ECONNRESET", reset, 1);
}

/* The flood: as much as the victim's open ring takes, never its neighbour. */
static void hostile_flood(void)
{
	uint8_t m[256];
	unsigned int sent = 0, again = 0;

	for (int i = 0; i < 256; i++)
		m[i] = (uint8_t)(0xa5 ^ i);
	/*
	 * Until 200 got through: the peer fills the same ring meanwhile, so
	 * a fixed number of tries may all bounce off it.
	 */
	for (unsigned long n = 0; sent < 200 && n < SPIN_LIMIT; n++) {
		int ret = hmx_send(&hmx, 30, VICTIM, PORT_OPEN, m, 200);

		if (ret == 200) {
			sent++;
		} else if (ret == -EAGAIN || ret == -EBUSY ||
			   ret == -ECONNREFUSED) {
			again++;
			__asm__ volatile("pause");
		} else {
			check_eq("flood: send", ret, 200);
			break;
		}
	}
	gprintf("flood: %u sent, %u bounced off a full ring\n", sent, again);
	check(sent > 0, "flood: reached the victim", sent, 1);
	/* Tell the victim the flood is over; it may be full for a while. */
	for (unsigned long i = 0; i < SPIN_LIMIT; i++)
		if (hmx_send(&hmx, 30, VICTIM, PORT_OPEN, "DONE", 4) == 4)
			break;
}

static uint32_t status_word_at(uint64_t gpa)
{
	outl(hmx.io + HMX_REG_STATUS_HI, (uint32_t)(gpa >> 32));
	outl(hmx.io + HMX_REG_STATUS_LO, (uint32_t)gpa);
	return inl(hmx.io + HMX_REG_STATUS_LO);
}

/* The status word: only a 4-byte aligned word in RAM is taken. */
static void hostile_status_word(void)
{
	uint64_t word = (uintptr_t)scratch;

	check_eq("status word: the feature is offered",
		 inl(hmx.io + HMX_REG_FEATURES) & HMX_FEATURE_STATUS_WORD,
		 HMX_FEATURE_STATUS_WORD);
	check_eq("status word: misaligned refused", status_word_at(word + 2),
		 0);
	check_eq("status word: past RAM refused", status_word_at(RAM_END), 0);
	check_eq("status word: in the IOAPIC refused",
		 status_word_at(0xfec00000ull), 0);
	check_eq("status word: at 2^64 - 4 refused",
		 status_word_at(0xfffffffffffffffcull), 0);
	check_eq("status word: RAM's last word taken",
		 status_word_at(RAM_END - 4), 1);
	check_eq("status word: a refusal after it turns it off",
		 status_word_at(word + 1), 0);
	check_eq("status word: taken", status_word_at(word), 1);
	check_eq("status word: 0 turns it off", status_word_at(0), 0);
}

static void role_hostile(void)
{
	hostile_call_blocks();
	hostile_status_word();
	hostile_register();
	hostile_sendv();
	hostile_notify();
	hostile_random();
	hostile_races();
	hostile_flood();
	check_eq("hostile: the controller still answers",
		 inl(hmx.io + HMX_REG_ABI_VERSION), HMX_ABI_VERSION);
}

void guest_main(const uint8_t *zero_page)
{
	char role[12];

	(void)zero_page;
	if (!hmx_probe(&hmx)) {
		gprintf("FAIL probe: no HMX controller\nRESULT fail\n");
		return;
	}
	if (!cmdline_get("role", role, sizeof(role)))
		gprintf("FAIL role: none given\n");
	else if (!memcmp(role, "victim", 7))
		role_victim();
	else if (!memcmp(role, "peer", 5))
		role_peer();
	else
		role_hostile();
	gprintf("RESULT %s\n", test_failures ? "fail" : "pass");
}
