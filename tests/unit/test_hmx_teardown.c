// SPDX-License-Identifier: GPL-2.0-only
/* Domain teardown, PEER_EVENTS, the host domain, the lock hierarchy. */
#include "hmx_testlib.h"

#include "hmx/endpoint.h"
#include "hmx/internal.h"

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#define ANYD HMX_DOMID_ANY

/*
 * A (3) is torn down. B (4) has a partner ring naming A; A has a partner
 * ring naming C (5); D (6) waits for space on A's wildcard ring; A waits
 * for space on E's (7) ring; F (8) only sent to A's wildcard ring once.
 */
static void test_teardown_rule(void **state)
{
	struct hmx_host *h = host_new(NULL);
	struct tg *a, *b, *c, *d, *e, *fg;
	struct tring t, ta, te;
	uint16_t ev[8];
	uint8_t msg[64] = { 0 };

	(void)state;
	fw_allow_all(h);
	a = tg_new(h, 3);
	b = tg_new(h, 4);
	c = tg_new(h, 5);
	d = tg_new(h, 6);
	e = tg_new(h, 7);
	fg = tg_new(h, 8);
	assert_int_equal(tg_ring(b, 10, 3, 256, false, &t), 0);
	assert_int_equal(tg_ring(b, 11, ANYD, 256, false, &t), 0);
	assert_int_equal(tg_ring(a, 20, 5, 256, false, &t), 0);
	assert_int_equal(tg_ring(a, 21, ANYD, 64, false, &ta), 0);
	assert_int_equal(tg_ring(d, 1, ANYD, 48, false, &t), 0);
	assert_int_equal(tg_ring(fg, 1, ANYD, 48, false, &t), 0);
	assert_int_equal(tg_ring(e, 30, ANYD, 64, false, &te), 0);
	assert_int_equal(tg_send(d, 1, 3, 21, 0, msg, 32), 32);
	assert_int_equal(tg_send(d, 1, 3, 21, 0, msg, 32), -EAGAIN);
	assert_int_equal(tg_send(a, 21, 7, 30, 0, msg, 32), 32);
	assert_int_equal(tg_send(a, 21, 7, 30, 0, msg, 32), -EAGAIN);
	assert_int_equal(tg_send(fg, 1, 3, 21, 0, msg, 0), -EAGAIN);
	assert_int_equal(tg_send(fg, 1, 3, 21, 0, msg, 0), -EAGAIN);
	/* F's entry is there too; drop it so F only "sent once". */
	assert_int_equal(tg_ring(fg, 2, ANYD, 48, false, &t), 0);
	for (int i = 3; i <= 8; i++) {
		struct tg *g = i == 3 ? a :
			       i == 4 ? b :
			       i == 5 ? c :
			       i == 6 ? d :
			       i == 7 ? e :
					fg;

		tg_take_irq(g);
	}
	atomic_store(&b->nsig, 0);

	assert_int_equal(hmx_domain_remove(h, 3), 0);
	/* B: its partner ring naming A is gone; told once. */
	assert_int_equal(tg_take_irq(b), HMX_IRQ_PEER_GONE);
	assert_int_equal(atomic_load(&b->nsig), 1);
	assert_int_equal(tg_unring(b, 10, 3), -ENOENT);
	assert_int_equal(tg_unring(b, 11, ANYD), 0); /* untouched */
	/* C was named by A's partner ring; D had a pending entry on A. */
	assert_int_equal(tg_take_irq(c), HMX_IRQ_PEER_GONE);
	assert_int_equal(tg_take_irq(d), HMX_IRQ_PEER_GONE);
	/* F also waited on A's ring; E merely had A waiting: not told. */
	assert_int_equal(tg_take_irq(fg), HMX_IRQ_PEER_GONE);
	assert_int_equal(tg_take_irq(e), 0);
	/* PEER_EVENTS names A once, then is empty. */
	assert_int_equal(tg_peer_events(b, ev, 8), 1);
	assert_int_equal(ev[0], 3);
	assert_int_equal(tg_peer_events(b, ev, 8), 0);
	assert_int_equal(tg_peer_events(c, ev, 8), 1);
	assert_int_equal(tg_peer_events(e, ev, 8), 0);
	/* A's pending entry on E's ring was dropped: E's notify wakes no one. */
	assert_int_equal(tring_recv(&te, NULL, msg, sizeof(msg)), 32);
	assert_int_equal(tg_notify(e, NULL, 0), 0);
	/* Operations of and to A now fail cleanly. */
	assert_int_equal(hmx_call(h, 3, a->call_gpa), -ESRCH);
	{
		struct hmx_peer_events pe = { 0 };
		struct hmx_unregister_ring ur = { .aport = 21,
						  .partner = ANYD };

		assert_int_equal(hmx_notify(h, 3, 0), -ESRCH);
		assert_int_equal(hmx_peer_events(h, 3, &pe), -ESRCH);
		assert_int_equal(hmx_unregister_ring(h, 3, &ur), -ESRCH);
	}
	assert_int_equal(tg_send(d, 1, 3, 21, 0, msg, 0), -ECONNREFUSED);
	assert_int_equal(hmx_domain_remove(h, 3), -ESRCH);
	/* The domid comes back as a new domain: no old ring names it. */
	a->domid = 3;
	{
		struct tg *a2 = tg_new(h, 3);

		assert_int_equal(tg_ring(a2, 1, ANYD, 48, false, &t), 0);
		assert_int_equal(tg_send(a2, 1, 4, 10, 0, msg, 0),
				 -ECONNREFUSED);
		assert_int_equal(tg_send(a2, 1, 4, 11, 0, msg, 0),
				 -ECONNREFUSED);
		tg_free(a2);
	}
	free(a->mem);
	free(a);
	tg_free(b);
	tg_free(c);
	tg_free(d);
	tg_free(e);
	tg_free(fg);
	hmx_host_destroy(h);
}

static void test_peer_events_paging(void **state)
{
	struct hmx_host *h = host_new(NULL);
	struct tg *b, *peers[5];
	struct tring t;
	uint16_t ev[8];
	struct hmx_call c = { .op = HMX_OP_PEER_EVENTS };

	(void)state;
	fw_allow_all(h);
	b = tg_new(h, 4);
	for (int i = 0; i < 5; i++) {
		peers[i] = tg_new(h, (uint16_t)(10 + i));
		assert_int_equal(tg_ring(b, 100 + i, (uint16_t)(10 + i), 48,
					 false, &t),
				 0);
	}
	for (int i = 0; i < 5; i++)
		tg_free(peers[i]);
	tg_take_irq(b);
	/* max = 0 reports nothing and clears nothing. */
	assert_int_equal(tg_peer_events(b, ev, 0), 0);
	assert_int_equal(tg_take_irq(b), HMX_IRQ_PEER_GONE);
	assert_int_equal(tg_peer_events(b, ev, 2), 2);
	assert_int_equal(ev[0], 10);
	assert_int_equal(ev[1], 11);
	/* More are left: the guest is signalled again. */
	assert_int_equal(tg_take_irq(b), HMX_IRQ_PEER_GONE);
	assert_int_equal(tg_peer_events(b, ev, 8), 3);
	assert_int_equal(ev[2], 14);
	assert_int_equal(tg_take_irq(b), 0);
	/* Bad buffers. */
	c.u.peer_events.max = 4;
	c.u.peer_events.domids_gpa = TG_HOLE_LO;
	assert_int_equal(tg_call(b, &c), -EFAULT);
	c.u.peer_events.domids_gpa = 4097;
	assert_int_equal(tg_call(b, &c), -EINVAL);
	c.u.peer_events.domids_gpa = TG_RAM_SIZE - 4;
	assert_int_equal(tg_call(b, &c), -EFAULT);
	tg_free(b);
	hmx_host_destroy(h);
}

static void test_teardown_of_busy_host(void **state)
{
	struct hmx_host *h = host_new(NULL);
	struct tg *g[6];
	struct tring t;

	(void)state;
	fw_allow_all(h);
	for (int i = 0; i < 6; i++)
		g[i] = tg_new(h, (uint16_t)(3 + i));
	for (int i = 0; i < 6; i++)
		for (int j = 0; j < 6; j++)
			assert_int_equal(tg_ring(g[i], 50, (uint16_t)(3 + j),
						 48, j & 1, &t),
					 0);
	/* hmx_host_destroy() tears every domain down with the same rule. */
	hmx_host_destroy(h);
	for (int i = 0; i < 6; i++) {
		free(g[i]->mem);
		free(g[i]);
	}
}

static void host_signal(void *opaque, uint32_t bits)
{
	atomic_fetch_or((_Atomic uint32_t *)opaque, bits);
}

/* The host (domid 0) uses the same paths with an arena for memory. */
static void test_host_domain(void **state)
{
	struct hmx_host *h = host_new(NULL);
	struct hmx_domain_config cfg = { 0 };
	struct hmx_host_ring *hr, *hr2;
	struct hmx_msg_header mh;
	struct hmx_arena *arena;
	_Atomic uint32_t irq = 0;
	struct hmx_addr dst = { .aport = 100, .domid = 3 };
	struct tring t;
	struct tg *a;
	uint8_t buf[64];

	(void)state;
	assert_int_equal(hmx_arena_create(1 << 20, &arena), 0);
	cfg.domid = HMX_DOMID_HOST;
	cfg.translate = hmx_arena_translate;
	cfg.translate_opaque = arena;
	cfg.signal = host_signal;
	cfg.signal_opaque = &irq;
	assert_int_equal(hmx_domain_add(h, &cfg), 0);
	a = tg_new(h, 3);
	fw_allow_all(h);
	assert_int_equal(hmx_host_ring_open(h, 0, arena, 5555, ANYD, 4096, &hr),
			 0);
	assert_int_equal(hmx_host_ring_open(h, 0, arena, 5555, ANYD, 4096,
					    &hr2),
			 -EEXIST);
	assert_int_equal(tg_ring(a, 100, 0, 4096, true, &t), 0);
	/* Guest to host. */
	assert_int_equal(tg_send(a, 100, 0, 5555, 42, "ping", 4), 4);
	assert_int_equal(atomic_exchange(&irq, 0), HMX_IRQ_DATA);
	assert_int_equal(hmx_host_ring_recv(hr, &mh, buf, sizeof(buf)), 4);
	assert_memory_equal(buf, "ping", 4);
	assert_int_equal(mh.source.domid, 3);
	assert_int_equal(mh.source.aport, 100);
	assert_int_equal(mh.message_type, 42);
	assert_int_equal(hmx_notify(h, 0, 0), 0);
	/* Host to guest, from the port of its ring. */
	assert_int_equal(hmx_host_send(h, 0, arena, 5555, dst, 43, "pong", 4),
			 4);
	assert_int_equal(tring_recv(&t, &mh, buf, sizeof(buf)), 4);
	assert_memory_equal(buf, "pong", 4);
	assert_int_equal(mh.source.domid, 0);
	assert_int_equal(mh.source.aport, 5555);
	/* The host is subject to source checks and the firewall too. */
	assert_int_equal(hmx_host_send(h, 0, arena, 7, dst, 0, "x", 1), -EPERM);
	assert_int_equal(hmx_firewall_set(h, NULL, 0), 0);
	assert_int_equal(hmx_host_send(h, 0, arena, 5555, dst, 0, "x", 1),
			 -EPERM);
	hmx_host_ring_close(hr);
	assert_int_equal(hmx_arena_alloc(arena, 1 << 20, &(uint64_t){ 0 }), 0);
	tg_free(a);
	hmx_host_destroy(h);
	hmx_arena_destroy(arena);
}

static void test_arena(void **state)
{
	struct hmx_arena *a;
	uint64_t g1, g2, g3;
	uint8_t *p;

	(void)state;
	assert_int_equal(hmx_arena_create(0, &a), -EINVAL);
	assert_int_equal(hmx_arena_create(3 * 4096, &a), 0);
	assert_int_equal(hmx_arena_alloc(a, 5000, &g1), 0);
	assert_int_equal(g1, HMX_ARENA_BASE);
	assert_int_equal(hmx_arena_alloc(a, 1, &g2), 0);
	assert_int_equal(g2, HMX_ARENA_BASE + 8192);
	assert_int_equal(hmx_arena_alloc(a, 1, &g3), -ENOMEM);
	p = hmx_arena_ptr(a, g2);
	memset(p, 0x55, 4096);
	hmx_arena_free(a, g2, 1);
	assert_int_equal(p[100], 0); /* scrubbed */
	assert_null(hmx_arena_translate(a, HMX_ARENA_BASE - 1, 2));
	assert_null(hmx_arena_translate(a, HMX_ARENA_BASE + 3 * 4096 - 1, 2));
	assert_null(hmx_arena_translate(a, UINT64_MAX, 1));
	assert_non_null(hmx_arena_translate(a, HMX_ARENA_BASE, 3 * 4096));
	hmx_arena_destroy(a);
}

#ifdef HMX_LOCK_DEBUG
static void test_lock_order_asserted(void **state)
{
	pid_t pid;
	int status;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		struct hmx_mutex ring, dom;

		/* Silence the expected report. */
		if (!freopen("/dev/null", "w", stderr))
			_exit(3);
		hmx_mutex_init(&ring, HMX_LOCK_RING, "ring");
		hmx_mutex_init(&dom, HMX_LOCK_DOMAIN, "domain");
		hmx_mutex_lock(&ring);
		hmx_mutex_lock(&dom); /* inverted: must abort */
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGABRT);

	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		struct hmx_host *h;

		if (!freopen("/dev/null", "w", stderr))
			_exit(3);
		if (hmx_host_create(NULL, &h))
			_exit(4);
		/* Waiting for readers from inside a read section. */
		hmx_rcu_enter(&h->rcu);
		hmx_rcu_synchronize(&h->rcu);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGABRT);

	/* The right order is accepted. */
	{
		struct hmx_mutex ring, dom;

		hmx_mutex_init(&ring, HMX_LOCK_RING, "ring");
		hmx_mutex_init(&dom, HMX_LOCK_DOMAIN, "domain");
		hmx_mutex_lock(&dom);
		hmx_mutex_lock(&ring);
		assert_int_equal(hmx_lockdep_held(), 2);
		hmx_mutex_unlock(&ring);
		hmx_mutex_unlock(&dom);
		assert_int_equal(hmx_lockdep_held(), 0);
		hmx_mutex_destroy(&ring);
		hmx_mutex_destroy(&dom);
	}
}
#endif

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_teardown_rule),
		cmocka_unit_test(test_peer_events_paging),
		cmocka_unit_test(test_teardown_of_busy_host),
		cmocka_unit_test(test_host_domain),
		cmocka_unit_test(test_arena),
#ifdef HMX_LOCK_DEBUG
		cmocka_unit_test(test_lock_order_asserted),
#endif
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
