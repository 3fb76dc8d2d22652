// SPDX-License-Identifier: GPL-2.0-only
/* Domain teardown, PEER_EVENTS, the host domain, the lock hierarchy. */
#include "hmx_testlib.h"

#include "hmx/endpoint.h"
#include "hmx/internal.h"

#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
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

#ifdef HMX_LOCK_DEBUG
/* The most HMX locks a signal callback saw held. */
static _Atomic unsigned int held_in_signal;

static void record_held(struct tg *g, uint32_t bits)
{
	unsigned int n = hmx_lockdep_held();

	(void)g;
	(void)bits;
	if (n > atomic_load(&held_in_signal))
		atomic_store(&held_in_signal, n);
}

/*
 * core.h promises that the signal callback runs after every HMX lock of
 * the operation is released: a domain's teardown signals its peers too.
 */
static void test_remove_signals_unlocked(void **state)
{
	struct hmx_host *h = host_new(NULL);
	struct tg *a, *b;
	struct tring t;

	(void)state;
	fw_allow_all(h);
	a = tg_new(h, 3);
	b = tg_new(h, 4);
	/* b's ring names a: a's teardown kills it and tells b. */
	assert_int_equal(tg_ring(b, 10, 3, 256, false, &t), 0);
	tg_take_irq(b);
	b->hook = record_held;
	atomic_store(&held_in_signal, 0);
	assert_int_equal(hmx_domain_remove(h, 3), 0);
	assert_true(tg_take_irq(b) & HMX_IRQ_PEER_GONE);
	assert_int_equal(atomic_load(&held_in_signal), 0);
	tg_free(a);
	tg_free(b);
	hmx_host_destroy(h);
}

struct race {
	struct hmx_host *h;
	struct hmx_sendv req; /* in the sender's memory: 32 bytes to b:10 */
	pthread_mutex_t m;
	pthread_cond_t cv;
	bool alive_checked, removed;
};

static struct race race;

/*
 * In the sender, after it saw its domain alive: let the teardown run now,
 * and wait for it (up to 300 ms: a correct teardown waits for our ring
 * lock, so it cannot finish before we store the wait).
 */
static void race_hold_open(void)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_nsec += 300 * 1000000l;
	if (until.tv_nsec >= 1000000000l) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000l;
	}
	pthread_mutex_lock(&race.m);
	race.alive_checked = true;
	pthread_cond_broadcast(&race.cv);
	while (!race.removed &&
	       pthread_cond_timedwait(&race.cv, &race.m, &until) == 0)
		;
	pthread_mutex_unlock(&race.m);
}

static void *race_sender(void *arg)
{
	(void)arg;
	hmx_sendv(race.h, 5, &race.req); /* the ring is full: a wait */
	return NULL;
}

/*
 * A sender's wait stored while its domain is torn down must not survive
 * the teardown: a new domain that reuses the domid would be woken for a
 * ring it never sent to. The race window is held open by a lock_debug
 * hook, so this fails every time without the fix.
 */
static void test_no_stale_wait_after_teardown(void **state)
{
	struct hmx_host *h = host_new(NULL);
	uint8_t fill[224] = { 0 }, buf[256];
	struct tring rb, t;
	struct tg *a, *b, *s, *s2;
	pthread_t th;

	(void)state;
	fw_allow_all(h);
	a = tg_new(h, 3);
	b = tg_new(h, 4);
	s = tg_new(h, 5);
	assert_int_equal(tg_ring(a, 1, ANYD, 48, false, &t), 0);
	assert_int_equal(tg_ring(s, 1, ANYD, 48, false, &t), 0);
	/* One 224-byte message fills it: any other send waits. */
	assert_int_equal(tg_ring(b, 10, ANYD, 256, false, &rb), 0);
	assert_int_equal(tg_send(a, 1, 4, 10, 0, fill, sizeof(fill)),
			 (int)sizeof(fill));
	{
		struct hmx_iov iov = { .gpa = tg_alloc(s, 32, 16), .len = 32 };
		uint64_t at = tg_alloc(s, sizeof(iov), 16);

		memcpy(tg_ptr(s, at), &iov, sizeof(iov));
		race.req = (struct hmx_sendv){ .src.aport = 1,
					       .dst.domid = 4,
					       .dst.aport = 10,
					       .iov_gpa = at,
					       .niov = 1 };
	}
	race.h = h;
	pthread_mutex_init(&race.m, NULL);
	pthread_cond_init(&race.cv, NULL);
	hmx_race_after_alive_check = race_hold_open;
	assert_int_equal(pthread_create(&th, NULL, race_sender, NULL), 0);
	pthread_mutex_lock(&race.m);
	while (!race.alive_checked)
		pthread_cond_wait(&race.cv, &race.m);
	pthread_mutex_unlock(&race.m);
	assert_int_equal(hmx_domain_remove(h, 5), 0);
	pthread_mutex_lock(&race.m);
	race.removed = true;
	pthread_cond_broadcast(&race.cv);
	pthread_mutex_unlock(&race.m);
	pthread_join(th, NULL);
	hmx_race_after_alive_check = NULL;
	tg_free(s);
	/* The domid comes back; b drains and notifies. */
	s2 = tg_new(h, 5);
	assert_true(tring_recv(&rb, NULL, buf, sizeof(buf)) > 0);
	assert_int_equal(tg_notify(b, NULL, 0), 0);
	assert_false(tg_take_irq(s2) & HMX_IRQ_SPACE);
	tg_free(s2);
	tg_free(a);
	tg_free(b);
	hmx_host_destroy(h);
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
		/* Both need lock_debug: its lock count and its race hook. */
		cmocka_unit_test(test_no_stale_wait_after_teardown),
		cmocka_unit_test(test_remove_signals_unlocked),
		cmocka_unit_test(test_lock_order_asserted),
#endif
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
