// SPDX-License-Identifier: GPL-2.0-only
/* HMX sendv and notify: layout, wrap-around, space, wake-ups, errors. */
#include "hmx_testlib.h"

#include "hmx/consumer.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

struct fx {
	struct hmx_host *h;
	struct tg *a, *b, *c;
};

static int setup(void **state)
{
	static struct fx f;

	f.h = host_new(NULL);
	fw_allow_all(f.h);
	f.a = tg_new(f.h, 3);
	f.b = tg_new(f.h, 4);
	f.c = tg_new(f.h, 5);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	tg_free(f->a);
	tg_free(f->b);
	tg_free(f->c);
	hmx_host_destroy(f->h);
	return 0;
}

static void fill(uint8_t *p, uint32_t n, uint32_t seed)
{
	for (uint32_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed * 131 + i * 7 + (i >> 8));
}

/* A (3) owns ring 1 (wildcard) to send from; B (4) receives on ring 100. */
static void test_send_layout(void **state)
{
	struct fx *f = *state;
	struct hmx_msg_header mh;
	struct hmx_sendv sv = { 0 };
	struct hmx_iov iov = { 0 };
	struct tring ra, rb;
	uint8_t buf[64];
	uint64_t at;

	assert_int_equal(tg_ring(f->a, 1, HMX_DOMID_ANY, 4096, false, &ra), 0);
	assert_int_equal(tg_ring(f->b, 100, HMX_DOMID_ANY, 4096, true, &rb), 0);
	tg_take_irq(f->b);
	atomic_store(&f->b->nsig, 0);
	/* A spoofed source domid is ignored: the hypervisor fills it in. */
	at = tg_alloc(f->a, 64, 16);
	memcpy(tg_ptr(f->a, at), "hello, world!", 13);
	iov.gpa = at;
	iov.len = 13;
	sv.src.aport = 1;
	sv.src.domid = 5;
	sv.dst.domid = 4;
	sv.dst.aport = 100;
	sv.niov = 1;
	sv.message_type = 0x1234;
	assert_int_equal(tg_sendv(f->a, &sv, &iov, 1), 13);
	assert_int_equal(tg_take_irq(f->b), HMX_IRQ_DATA);
	assert_int_equal(atomic_load(&f->b->nsig), 1);
	assert_int_equal(tg_take_irq(f->a), 0);
	/* Header at 0, payload at 16, padding zeroed, tx_ptr at 32. */
	memcpy(&mh, tring_byte(&rb, 0), sizeof(mh));
	assert_int_equal(mh.len, 13 + 16);
	assert_int_equal(mh.source.domid, 3);
	assert_int_equal(mh.source.aport, 1);
	assert_int_equal(mh.source.pad, 0);
	assert_int_equal(mh.message_type, 0x1234);
	assert_memory_equal(tring_byte(&rb, 16), "hello, world!", 13);
	assert_int_equal(*tring_byte(&rb, 29), 0);
	assert_int_equal(*tring_byte(&rb, 31), 0);
	assert_int_equal(tring_hdr(&rb)->tx_ptr, 32);
	assert_int_equal(tring_hdr(&rb)->rx_ptr, 0);
	assert_int_equal(tring_recv(&rb, &mh, buf, sizeof(buf)), 13);
	assert_int_equal(tring_recv(&rb, &mh, buf, sizeof(buf)), -EAGAIN);
	/* Zero-length message: header only. */
	assert_int_equal(tg_send(f->a, 1, 4, 100, 7, "", 0), 0);
	assert_int_equal(tring_recv(&rb, &mh, buf, sizeof(buf)), 0);
	assert_int_equal(mh.len, 16);
	assert_int_equal(mh.message_type, 7);
}

static void test_send_gather(void **state)
{
	struct fx *f = *state;
	struct hmx_iov iov[HMX_MAXIOV + 1];
	struct hmx_sendv sv = { 0 };
	uint8_t want[8 * 300], got[8 * 300];
	struct tring ra, rb;
	uint32_t total = 0;

	assert_int_equal(tg_ring(f->a, 1, 4, 4096, false, &ra), 0);
	assert_int_equal(tg_ring(f->b, 100, 3, 16384, true, &rb), 0);
	memset(iov, 0, sizeof(iov));
	for (uint32_t i = 0; i <= HMX_MAXIOV; i++) {
		uint32_t len = i == 3 ? 0 : 100 + i * 23;

		iov[i].gpa = tg_alloc(f->a, len + 1, 1);
		iov[i].len = len;
		fill(tg_ptr(f->a, iov[i].gpa), len, i);
		if (i < HMX_MAXIOV) {
			memcpy(want + total, tg_ptr(f->a, iov[i].gpa), len);
			total += len;
		}
	}
	sv.src.aport = 1;
	sv.dst.domid = 4;
	sv.dst.aport = 100;
	sv.niov = HMX_MAXIOV + 1;
	assert_int_equal(tg_sendv(f->a, &sv, iov, sv.niov), -EINVAL);
	sv.niov = 0xffffffff;
	assert_int_equal(tg_sendv(f->a, &sv, iov, 1), -EINVAL);
	sv.niov = HMX_MAXIOV;
	assert_int_equal(tg_sendv(f->a, &sv, iov, sv.niov), (int)total);
	assert_int_equal(tring_recv(&rb, NULL, got, sizeof(got)), (int)total);
	assert_memory_equal(got, want, total);

	/* Hostile iovs: padding, the hole, past RAM, wrapping addresses. */
	iov[1].pad = 1;
	assert_int_equal(tg_sendv(f->a, &sv, iov, sv.niov), -EINVAL);
	/* Every pad is checked before any range: iov 0 outside RAM loses. */
	{
		uint64_t gpa0 = iov[0].gpa;

		iov[0].gpa = TG_HOLE_LO - 10;
		assert_int_equal(tg_sendv(f->a, &sv, iov, sv.niov), -EINVAL);
		iov[1].pad = 0;
		assert_int_equal(tg_sendv(f->a, &sv, iov, sv.niov), -EFAULT);
		iov[0].gpa = gpa0;
	}
	iov[1].pad = 0;
	iov[1].gpa = TG_HOLE_LO - 10;
	assert_int_equal(tg_sendv(f->a, &sv, iov, sv.niov), -EFAULT);
	iov[1].gpa = TG_RAM_SIZE - 10;
	assert_int_equal(tg_sendv(f->a, &sv, iov, sv.niov), -EFAULT);
	iov[1].gpa = UINT64_MAX - 10;
	assert_int_equal(tg_sendv(f->a, &sv, iov, sv.niov), -EFAULT);
	/* A zero-length iov is not dereferenced. */
	iov[1].gpa = UINT64_MAX;
	iov[1].len = 0;
	assert_true(tg_sendv(f->a, &sv, iov, sv.niov) >= 0);
	/* The iov array itself outside RAM or misaligned. */
	{
		struct hmx_call c = { .op = HMX_OP_SENDV };

		c.u.sendv = sv;
		c.u.sendv.iov_gpa = TG_HOLE_LO;
		assert_int_equal(tg_call(f->a, &c), -EFAULT);
		c.u.sendv.iov_gpa = TG_RAM_SIZE - 64;
		assert_int_equal(tg_call(f->a, &c), -EFAULT);
		c.u.sendv.iov_gpa = iov[0].gpa | 4;
		assert_int_equal(tg_call(f->a, &c), -EINVAL);
		c.u.sendv = sv;
		c.u.sendv.iov_gpa = 64;
		c.u.sendv.src.pad = 1;
		assert_int_equal(tg_call(f->a, &c), -EINVAL);
		c.u.sendv.src.pad = 0;
		c.u.sendv.dst.pad = 1;
		assert_int_equal(tg_call(f->a, &c), -EINVAL);
		c.u.sendv.dst.pad = 0;
		c.u.sendv.dst.domid = HMX_DOMID_ANY;
		assert_int_equal(tg_call(f->a, &c), -EINVAL);
		c.u.sendv.dst.domid = 4;
		c.u.sendv.dst.aport = HMX_PORT_ANY;
		assert_int_equal(tg_call(f->a, &c), -EINVAL);
	}
}

static void test_send_sizes(void **state)
{
	struct fx *f = *state;
	struct hmx_iov iov[HMX_MAXIOV];
	struct hmx_sendv sv = { 0 };
	struct tring ra, rb;
	uint64_t big = tg_alloc(f->a, 1024, 16);

	assert_int_equal(tg_ring(f->a, 1, 4, 48, false, &ra), 0);
	assert_int_equal(tg_ring(f->b, 100, 3, 1024, false, &rb), 0);
	/* Max payload of a ring of len L is L - 32. */
	assert_int_equal(tg_send(f->a, 1, 4, 100, 0, tg_ptr(f->a, big), 993),
			 -EMSGSIZE);
	assert_int_equal(tg_send(f->a, 1, 4, 100, 0, tg_ptr(f->a, big), 992),
			 992);
	/* Lengths that would overflow 32 bits are refused, not wrapped. */
	for (uint32_t i = 0; i < HMX_MAXIOV; i++) {
		iov[i].gpa = 4096;
		iov[i].len = 0xffffffff;
		iov[i].pad = 0;
	}
	sv.src.aport = 1;
	sv.dst.domid = 4;
	sv.dst.aport = 100;
	sv.niov = HMX_MAXIOV;
	assert_int_equal(tg_sendv(f->a, &sv, iov, HMX_MAXIOV), -EFAULT);
	for (uint32_t i = 0; i < HMX_MAXIOV; i++)
		iov[i].len = 0x20000001u;
	assert_int_equal(tg_sendv(f->a, &sv, iov, HMX_MAXIOV), -EFAULT);
	for (uint32_t i = 0; i < HMX_MAXIOV; i++)
		iov[i].len = (3u << 20) - 1;
	assert_int_equal(tg_sendv(f->a, &sv, iov, HMX_MAXIOV), -EMSGSIZE);
}

/* Fill exactly, check the free slot, then wrap around. */
static void test_send_exact_fit_and_wrap(void **state)
{
	struct fx *f = *state;
	uint8_t msg[512], got[512];
	struct hmx_msg_header mh;
	struct tring ra, rb;

	assert_int_equal(tg_ring(f->a, 1, 4, 48, false, &ra), 0);
	assert_int_equal(tg_ring(f->b, 100, 3, 256, true, &rb), 0);
	fill(msg, sizeof(msg), 1);
	/* 256-byte ring: 240 usable, the last slot stays free. */
	assert_int_equal(tg_send(f->a, 1, 4, 100, 0, msg, 224), 224);
	assert_int_equal(tring_hdr(&rb)->tx_ptr, 240);
	assert_int_equal(tg_send(f->a, 1, 4, 100, 0, msg, 0), -EAGAIN);
	assert_int_equal(tring_recv(&rb, NULL, got, sizeof(got)), 224);
	assert_memory_equal(got, msg, 224);
	assert_int_equal(tring_hdr(&rb)->rx_ptr, 240);
	/* Empty (rx == tx == 240): a message of 100 wraps the end. */
	tg_take_irq(f->a);
	assert_int_equal(tg_notify(f->b, NULL, 0), 0);
	assert_int_equal(tg_take_irq(f->a), HMX_IRQ_SPACE);
	fill(msg, sizeof(msg), 2);
	assert_int_equal(tg_send(f->a, 1, 4, 100, 9, msg, 100), 100);
	assert_int_equal(tring_hdr(&rb)->tx_ptr, (240 + 128) % 256);
	assert_int_equal(tring_recv(&rb, &mh, got, sizeof(got)), 100);
	assert_memory_equal(got, msg, 100);
	assert_int_equal(mh.message_type, 9);
	/* Many rounds of odd sizes through the wrap, every byte checked. */
	for (uint32_t round = 0; round < 500; round++) {
		uint32_t len = (round * 37) % 200;

		fill(msg, len, round);
		assert_int_equal(tg_send(f->a, 1, 4, 100, round, msg, len),
				 (int)len);
		assert_int_equal(tring_recv(&rb, &mh, got, sizeof(got)),
				 (int)len);
		assert_int_equal(mh.message_type, round);
		assert_memory_equal(got, msg, len);
	}
	/* Exact fit after a wrap: free space is everything but one slot. */
	assert_int_equal(tg_send(f->a, 1, 4, 100, 0, msg, 224), 224);
	assert_int_equal(tg_send(f->a, 1, 4, 100, 0, msg, 0), -EAGAIN);
	assert_int_equal(tring_recv(&rb, NULL, got, sizeof(got)), 224);
	assert_memory_equal(got, msg, 224);
}

static void test_eagain_then_notify_wakes(void **state)
{
	struct fx *f = *state;
	struct tring ra, rb;
	uint8_t msg[200] = { 0 }, got[200];

	assert_int_equal(tg_ring(f->a, 1, 4, 48, false, &ra), 0);
	assert_int_equal(tg_ring(f->b, 100, HMX_DOMID_ANY, 512, false, &rb), 0);
	assert_int_equal(tg_send(f->a, 1, 4, 100, 0, msg, 200), 200);
	assert_int_equal(tg_send(f->a, 1, 4, 100, 0, msg, 200), 200);
	/* 512 - 2 * 224 = 64 left, 48 usable: a 100-byte message waits. */
	assert_int_equal(tg_send(f->a, 1, 4, 100, 0, msg, 100), -EAGAIN);
	tg_take_irq(f->a);
	/* Nothing consumed: notify wakes nobody. */
	assert_int_equal(tg_notify(f->b, NULL, 0), 0);
	assert_int_equal(tg_take_irq(f->a), 0);
	/* One message consumed: 224 + 48 free, enough for 100. */
	assert_int_equal(tring_recv(&rb, NULL, got, sizeof(got)), 200);
	assert_int_equal(tg_notify(f->b, NULL, 0), 0);
	assert_int_equal(tg_take_irq(f->a), HMX_IRQ_SPACE);
	/* Woken once: the entry is gone. */
	assert_int_equal(tg_notify(f->b, NULL, 0), 0);
	assert_int_equal(tg_take_irq(f->a), 0);
	assert_int_equal(tg_send(f->a, 1, 4, 100, 0, msg, 100), 100);
}

static void test_pending_queue_bounded(void **state)
{
	struct hmx_limits lim;
	struct hmx_host *h;
	struct tg *a, *b, *c;
	struct tring r;
	uint8_t msg[64] = { 0 };

	(void)state;
	hmx_limits_default(&lim);
	lim.max_pending_per_ring = 1;
	h = host_new(&lim);
	fw_allow_all(h);
	a = tg_new(h, 3);
	b = tg_new(h, 4);
	c = tg_new(h, 5);
	assert_int_equal(tg_ring(a, 1, HMX_DOMID_ANY, 48, false, &r), 0);
	assert_int_equal(tg_ring(c, 1, HMX_DOMID_ANY, 48, false, &r), 0);
	assert_int_equal(tg_ring(b, 100, HMX_DOMID_ANY, 64, false, &r), 0);
	assert_int_equal(tg_send(a, 1, 4, 100, 0, msg, 32), 32);
	assert_int_equal(tg_send(a, 1, 4, 100, 0, msg, 16), -EAGAIN);
	/* A again: its entry is updated, not duplicated. */
	assert_int_equal(tg_send(a, 1, 4, 100, 0, msg, 0), -EAGAIN);
	/* C finds the queue full: no wake-up can be promised. */
	assert_int_equal(tg_send(c, 1, 4, 100, 0, msg, 0), -EBUSY);
	{
		struct hmx_ring_data_ent e = { 0 };

		e.ring.domid = 4;
		e.ring.aport = 100;
		e.space_required = 16;
		assert_int_equal(tg_notify(c, &e, 1), 0);
		assert_int_equal(e.flags, HMX_RING_EXISTS | HMX_RING_SHARED |
						  HMX_RING_EBUSY);
	}
	tg_free(a);
	tg_free(b);
	tg_free(c);
	hmx_host_destroy(h);
}

/* One operation signals a domain at most once. */
static void test_signals_coalesced(void **state)
{
	struct fx *f = *state;
	struct tring ra, r1, r2;
	uint8_t msg[64] = { 0 }, got[64];

	assert_int_equal(tg_ring(f->a, 1, HMX_DOMID_ANY, 48, false, &ra), 0);
	assert_int_equal(tg_ring(f->b, 100, HMX_DOMID_ANY, 64, false, &r1), 0);
	assert_int_equal(tg_ring(f->b, 101, HMX_DOMID_ANY, 64, false, &r2), 0);
	assert_int_equal(tg_send(f->a, 1, 4, 100, 0, msg, 32), 32);
	assert_int_equal(tg_send(f->a, 1, 4, 101, 0, msg, 32), 32);
	assert_int_equal(tg_send(f->a, 1, 4, 100, 0, msg, 16), -EAGAIN);
	assert_int_equal(tg_send(f->a, 1, 4, 101, 0, msg, 16), -EAGAIN);
	assert_int_equal(tring_recv(&r1, NULL, got, sizeof(got)), 32);
	assert_int_equal(tring_recv(&r2, NULL, got, sizeof(got)), 32);
	atomic_store(&f->a->nsig, 0);
	tg_take_irq(f->a);
	assert_int_equal(tg_notify(f->b, NULL, 0), 0);
	assert_int_equal(atomic_load(&f->a->nsig), 1);
	assert_int_equal(tg_take_irq(f->a), HMX_IRQ_SPACE);
}

static void test_partner_beats_wildcard(void **state)
{
	struct fx *f = *state;
	struct tring ra, rc, wild, part;
	uint8_t got[16];
	struct hmx_msg_header mh;

	assert_int_equal(tg_ring(f->a, 1, HMX_DOMID_ANY, 48, false, &ra), 0);
	assert_int_equal(tg_ring(f->c, 1, HMX_DOMID_ANY, 48, false, &rc), 0);
	assert_int_equal(tg_ring(f->b, 100, HMX_DOMID_ANY, 256, false, &wild),
			 0);
	assert_int_equal(tg_ring(f->b, 100, 3, 256, false, &part), 0);
	assert_int_equal(tg_send(f->a, 1, 4, 100, 0, "A", 1), 1);
	assert_int_equal(tg_send(f->c, 1, 4, 100, 0, "C", 1), 1);
	assert_int_equal(tring_recv(&part, &mh, got, sizeof(got)), 1);
	assert_int_equal(got[0], 'A');
	assert_int_equal(tring_recv(&part, &mh, got, sizeof(got)), -EAGAIN);
	assert_int_equal(tring_recv(&wild, &mh, got, sizeof(got)), 1);
	assert_int_equal(got[0], 'C');
	assert_int_equal(mh.source.domid, 5);
	/* Partner ring gone: A falls back to the wildcard ring. */
	assert_int_equal(tg_unring(f->b, 100, 3), 0);
	assert_int_equal(tg_send(f->a, 1, 4, 100, 0, "a", 1), 1);
	assert_int_equal(tring_recv(&wild, &mh, got, sizeof(got)), 1);
	assert_int_equal(got[0], 'a');
	/* A partner ring accepts only its partner. */
	assert_int_equal(tg_unring(f->b, 100, HMX_DOMID_ANY), 0);
	assert_int_equal(tg_ring(f->b, 100, 3, 256, false, &part), 0);
	assert_int_equal(tg_send(f->c, 1, 4, 100, 0, "C", 1), -ECONNREFUSED);
	assert_int_equal(tg_send(f->a, 1, 4, 100, 0, "A", 1), 1);
}

static void test_source_authentication(void **state)
{
	struct fx *f = *state;
	struct hmx_port_range g = { .first = 5000, .last = 5009 };
	struct hmx_audit_entry e[8];
	struct hmx_msg_header mh;
	struct tring ra, rb;
	uint8_t got[16];

	assert_int_equal(tg_ring(f->b, 100, HMX_DOMID_ANY, 256, false, &rb), 0);
	hmx_audit_read(f->h, e, 8, NULL);
	/* No ring at port 7: refused and audited. */
	assert_int_equal(tg_send(f->a, 7, 4, 100, 0, "x", 1), -EPERM);
	assert_int_equal(hmx_audit_read(f->h, e, 8, NULL), 1);
	assert_int_equal(e[0].op, HMX_OP_SENDV);
	assert_int_equal(e[0].reason, HMX_AUDIT_SOURCE);
	assert_int_equal(e[0].src.domid, 3);
	assert_int_equal(e[0].src.aport, 7);
	assert_int_equal(e[0].dst.domid, 4);
	assert_int_equal(e[0].dst.aport, 100);
	/* Another domain's ring at that port does not help. */
	assert_int_equal(tg_ring(f->c, 7, HMX_DOMID_ANY, 48, false, &ra), 0);
	assert_int_equal(tg_send(f->a, 7, 4, 100, 0, "x", 1), -EPERM);
	/* A ring of one's own at that port, for any partner, does. */
	assert_int_equal(tg_ring(f->a, 7, 5, 48, false, &ra), 0);
	assert_int_equal(tg_send(f->a, 7, 4, 100, 0, "x", 1), 1);
	assert_int_equal(tg_unring(f->a, 7, 5), 0);
	assert_int_equal(tg_send(f->a, 7, 4, 100, 0, "x", 1), -EPERM);
	/* A host grant. */
	assert_int_equal(hmx_domain_set_port_grants(f->h, 3, &g, 1), 0);
	assert_int_equal(tg_send(f->a, 5009, 4, 100, 0, "g", 1), 1);
	assert_int_equal(tg_send(f->a, 5010, 4, 100, 0, "g", 1), -EPERM);
	assert_int_equal(hmx_domain_set_port_grants(f->h, 3, NULL, 0), 0);
	assert_int_equal(tg_send(f->a, 5009, 4, 100, 0, "g", 1), -EPERM);
	g.first = 10;
	g.last = 9;
	assert_int_equal(hmx_domain_set_port_grants(f->h, 3, &g, 1), -EINVAL);
	assert_int_equal(hmx_domain_set_port_grants(f->h, 99, NULL, 0), -ESRCH);
	assert_int_equal(tring_recv(&rb, &mh, got, sizeof(got)), 1);
	assert_int_equal(mh.source.aport, 7);
	assert_int_equal(tring_recv(&rb, &mh, got, sizeof(got)), 1);
	assert_int_equal(mh.source.aport, 5009);
	assert_int_equal(mh.source.domid, 3);
}

/* Garbage rx_ptr: a clean error, and nothing written anywhere. */
static void test_rx_ptr_garbage(void **state)
{
	struct fx *f = *state;
	static uint8_t before[TG_RAM_SIZE];
	struct hmx_ring_data_ent e = { 0 };
	struct tring ra, rb;
	uint8_t msg[64] = { 0 };
	const uint32_t bad[] = { 8, 256, 257, 0xfffffff0, 0x80000000, 1 };

	assert_int_equal(tg_ring(f->a, 1, 4, 48, false, &ra), 0);
	assert_int_equal(tg_ring(f->b, 100, 3, 256, true, &rb), 0);
	for (uint32_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		tring_hdr(&rb)->rx_ptr = bad[i];
		memcpy(before, f->b->mem, TG_RAM_SIZE);
		assert_int_equal(tg_send(f->a, 1, 4, 100, 0, msg, 16),
				 -ECONNRESET);
		assert_memory_equal(before, f->b->mem, TG_RAM_SIZE);
	}
	/* Notify reports the ring but promises nothing about it. */
	e.ring.domid = 4;
	e.ring.aport = 100;
	e.space_required = 16;
	assert_int_equal(tg_notify(f->a, &e, 1), 0);
	assert_int_equal(e.flags, HMX_RING_EXISTS);
	assert_int_equal(e.max_message_size, 224);
	/* Any aligned in-range rx is a legal (if odd) consumer position. */
	tring_hdr(&rb)->rx_ptr = 128;
	memcpy(before, f->b->mem, TG_RAM_SIZE);
	assert_int_equal(tg_send(f->a, 1, 4, 100, 0, msg, 64), 64);
	/* Only the 80 message bytes and tx_ptr changed. */
	for (uint32_t i = 0; i < TG_RAM_SIZE; i++) {
		bool in_msg = false;

		if (before[i] == f->b->mem[i])
			continue;
		for (uint32_t o = 0; o < 80; o++)
			if (tring_byte(&rb, o) == f->b->mem + i)
				in_msg = true;
		if ((uint8_t *)&tring_hdr(&rb)->tx_ptr <= f->b->mem + i &&
		    f->b->mem + i < (uint8_t *)&tring_hdr(&rb)->tx_ptr + 4)
			in_msg = true;
		if (!in_msg)
			fail_msg("byte %u outside the message changed", i);
	}
	/* tx has to stay behind rx: 128 - 80 - 16 = 32 bytes left. */
	assert_int_equal(tg_send(f->a, 1, 4, 100, 0, msg, 32), -EAGAIN);
	assert_int_equal(tg_send(f->a, 1, 4, 100, 0, msg, 16), 16);
}

static void test_notify_queries(void **state)
{
	struct fx *f = *state;
	struct hmx_ring_data_ent e[5];
	struct tring ra, rb, rb2;
	uint8_t msg[300] = { 0 };

	assert_int_equal(tg_ring(f->a, 1, 4, 48, false, &ra), 0);
	assert_int_equal(tg_ring(f->b, 100, HMX_DOMID_ANY, 512, false, &rb), 0);
	assert_int_equal(tg_ring(f->b, 101, 3, 1024, false, &rb2), 0);
	memset(e, 0, sizeof(e));
	e[0].ring.domid = 4;
	e[0].ring.aport = 100;
	e[0].space_required = 100;
	e[1].ring.domid = 4;
	e[1].ring.aport = 101;
	e[1].space_required = 993;
	e[2].ring.domid = 4;
	e[2].ring.aport = 102; /* no such ring */
	e[3].ring.domid = 77; /* no such domain */
	e[3].ring.aport = 100;
	e[4].ring.domid = HMX_DOMID_ANY; /* not a domain */
	e[4].ring.aport = 100;
	e[4].flags = 0xffff;
	assert_int_equal(tg_notify(f->a, e, 5), 0);
	assert_int_equal(e[0].flags, HMX_RING_EXISTS | HMX_RING_SHARED |
					     HMX_RING_EMPTY |
					     HMX_RING_SUFFICIENT);
	assert_int_equal(e[0].max_message_size, 480);
	assert_int_equal(e[1].flags,
			 HMX_RING_EXISTS | HMX_RING_EMPTY | HMX_RING_EMSGSIZE);
	assert_int_equal(e[1].max_message_size, 992);
	assert_int_equal(e[2].flags, 0);
	assert_int_equal(e[3].flags, 0);
	assert_int_equal(e[4].flags, 0);
	assert_int_equal(e[4].max_message_size, 0);
	/* Not empty, not sufficient: a wake-up is queued. */
	assert_int_equal(tg_send(f->a, 1, 4, 100, 0, msg, 300), 300);
	e[0].space_required = 200;
	assert_int_equal(tg_notify(f->a, e, 1), 0);
	assert_int_equal(e[0].flags, HMX_RING_EXISTS | HMX_RING_SHARED);
	assert_int_equal(tring_recv(&rb, NULL, msg, sizeof(msg)), 300);
	tg_take_irq(f->a);
	assert_int_equal(tg_notify(f->b, NULL, 0), 0);
	assert_int_equal(tg_take_irq(f->a), HMX_IRQ_SPACE);
}

static void test_notify_bad_arguments(void **state)
{
	struct fx *f = *state;
	struct hmx_call c = { .op = HMX_OP_NOTIFY };
	struct hmx_ring_data rd = { .src_aport = HMX_PORT_ANY };
	struct hmx_ring_data_ent e = { 0 };
	uint64_t at = tg_alloc(f->a, 8 + 257 * 20, 8);

	rd.nent = HMX_NOTIFY_MAX_ENTRIES + 1;
	memcpy(tg_ptr(f->a, at), &rd, sizeof(rd));
	c.u.notify.ring_data_gpa = at;
	assert_int_equal(tg_call(f->a, &c), -EINVAL);
	rd.nent = 1;
	rd.src_aport = 0x4242; /* a port the caller has no ring at */
	memcpy(tg_ptr(f->a, at), &rd, sizeof(rd));
	memcpy(tg_ptr(f->a, at + 8), &e, sizeof(e));
	assert_int_equal(tg_call(f->a, &c), -EPERM);
	/* Malformed before policy: a bad pad wins over the unowned port... */
	e.pad = 1;
	memcpy(tg_ptr(f->a, at + 8), &e, sizeof(e));
	assert_int_equal(tg_call(f->a, &c), -EINVAL);
	e.pad = 0;
	memcpy(tg_ptr(f->a, at + 8), &e, sizeof(e));
	/* ...and so do entries outside RAM. */
	rd.nent = 256;
	memcpy(tg_ptr(f->a, TG_HOLE_LO - 8), &rd, sizeof(rd));
	c.u.notify.ring_data_gpa = TG_HOLE_LO - 8;
	assert_int_equal(tg_call(f->a, &c), -EFAULT);
	c.u.notify.ring_data_gpa = at;
	rd.nent = 1;
	rd.src_aport = HMX_PORT_ANY;
	memcpy(tg_ptr(f->a, at), &rd, sizeof(rd));
	e.ring.pad = 1;
	memcpy(tg_ptr(f->a, at + 8), &e, sizeof(e));
	assert_int_equal(tg_call(f->a, &c), -EINVAL);
	e.ring.pad = 0;
	e.pad = 1;
	memcpy(tg_ptr(f->a, at + 8), &e, sizeof(e));
	assert_int_equal(tg_call(f->a, &c), -EINVAL);
	c.u.notify.ring_data_gpa = at + 2;
	assert_int_equal(tg_call(f->a, &c), -EINVAL);
	c.u.notify.ring_data_gpa = TG_HOLE_LO;
	assert_int_equal(tg_call(f->a, &c), -EFAULT);
	/* A header in RAM whose entries run into the hole. */
	rd.nent = 256;
	memcpy(tg_ptr(f->a, TG_HOLE_LO - 8), &rd, sizeof(rd));
	c.u.notify.ring_data_gpa = TG_HOLE_LO - 8;
	assert_int_equal(tg_call(f->a, &c), -EFAULT);
	/* nent == 0 is fine. */
	rd.nent = 0;
	memcpy(tg_ptr(f->a, at), &rd, sizeof(rd));
	c.u.notify.ring_data_gpa = at;
	assert_int_equal(tg_call(f->a, &c), 0);
}

static void test_unregister_wakes_waiters(void **state)
{
	struct fx *f = *state;
	struct tring ra, rb;
	uint8_t msg[64] = { 0 };

	assert_int_equal(tg_ring(f->a, 1, 4, 48, false, &ra), 0);
	assert_int_equal(tg_ring(f->b, 100, 3, 64, false, &rb), 0);
	assert_int_equal(tg_send(f->a, 1, 4, 100, 0, msg, 32), 32);
	assert_int_equal(tg_send(f->a, 1, 4, 100, 0, msg, 32), -EAGAIN);
	tg_take_irq(f->a);
	assert_int_equal(tg_unring(f->b, 100, 3), 0);
	assert_int_equal(tg_take_irq(f->a), HMX_IRQ_SPACE);
	assert_int_equal(tg_send(f->a, 1, 4, 100, 0, msg, 32), -ECONNREFUSED);
}

static void test_consumer_helper(void **state)
{
	struct fx *f = *state;
	struct hmx_msg_header mh;
	struct hmx_ring *ring;
	struct tring ra, rb;
	uint8_t got[300], msg[300];

	(void)state;
	assert_int_equal(tg_ring(f->a, 1, 4, 48, false, &ra), 0);
	assert_int_equal(tg_ring(f->b, 100, 3, 1024, false, &rb), 0);
	ring = tring_hdr(&rb);
	assert_true(hmx_ring_is_empty(ring));
	assert_int_equal(hmx_ring_recv(ring, 1024, &mh, got, 10), -EAGAIN);
	for (uint32_t i = 0; i < 50; i++) {
		uint32_t len = (i * 61) % 300;

		fill(msg, len, i);
		assert_int_equal(tg_send(f->a, 1, 4, 100, i, msg, len),
				 (int)len);
		if (len > 10) {
			assert_int_equal(hmx_ring_recv(ring, 1024, &mh, got,
						       10),
					 -EMSGSIZE);
		}
		assert_int_equal(hmx_ring_recv(ring, 1024, &mh, got,
					       sizeof(got)),
				 (int)len);
		assert_memory_equal(got, msg, len);
		assert_int_equal(mh.message_type, i);
	}
	/* Corrupt pointers or headers are reported, not followed. */
	assert_int_equal(tg_send(f->a, 1, 4, 100, 0, msg, 20), 20);
	ring->tx_ptr = 2000;
	assert_int_equal(hmx_ring_recv(ring, 1024, &mh, got, sizeof(got)),
			 -EPROTO);
	ring->tx_ptr = (ring->rx_ptr + 48) % 1024;
	memset(ring->ring + ring->rx_ptr, 0xff, 4);
	assert_int_equal(hmx_ring_recv(ring, 1024, &mh, got, sizeof(got)),
			 -EPROTO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_send_layout),
		T(test_send_gather),
		T(test_send_sizes),
		T(test_send_exact_fit_and_wrap),
		T(test_eagain_then_notify_wakes),
		cmocka_unit_test(test_pending_queue_bounded),
		T(test_signals_coalesced),
		T(test_partner_beats_wildcard),
		T(test_source_authentication),
		T(test_rx_ptr_garbage),
		T(test_notify_queries),
		T(test_notify_bad_arguments),
		T(test_unregister_wakes_waiters),
		T(test_consumer_helper),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
