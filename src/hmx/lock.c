// SPDX-License-Identifier: GPL-2.0-only
#include "hmx/lock.h"

#include <stdio.h>
#include <stdlib.h>

#ifdef HMX_LOCK_DEBUG
#define LOCKDEP_MAX 8

/* Per-thread, so no shared mutable state: which locks this thread holds. */
struct lockdep_thread {
	const struct hmx_mutex *held[LOCKDEP_MAX];
	unsigned int depth;
	unsigned int read_depth;
};

static _Thread_local struct lockdep_thread lockdep;

static void __attribute__((noreturn))
lockdep_fail(const char *what, const struct hmx_mutex *mx)
{
	const struct hmx_mutex *top =
		lockdep.depth ? lockdep.held[lockdep.depth - 1] : NULL;

	fprintf(stderr,
		"hmx: lock hierarchy violation: %s %s (level %d) while holding %s (level %d), %u held, read depth %u\n",
		what, mx ? mx->name : "-", mx ? (int)mx->level : 0,
		top ? top->name : "nothing", top ? (int)top->level : 0,
		lockdep.depth, lockdep.read_depth);
	abort();
}

static void lockdep_acquire(const struct hmx_mutex *mx)
{
	if (lockdep.depth >= LOCKDEP_MAX)
		lockdep_fail("too deep acquiring", mx);
	if (lockdep.depth &&
	    lockdep.held[lockdep.depth - 1]->level >= mx->level)
		lockdep_fail("acquiring", mx);
	if (mx->level == HMX_LOCK_ADMIN && lockdep.read_depth)
		lockdep_fail("acquiring inside a read section", mx);
	lockdep.held[lockdep.depth++] = mx;
}

static void lockdep_release(const struct hmx_mutex *mx)
{
	if (!lockdep.depth || lockdep.held[lockdep.depth - 1] != mx)
		lockdep_fail("releasing out of order", mx);
	lockdep.depth--;
}

void (*hmx_race_after_alive_check)(void);

void hmx_lockdep_read_enter(void)
{
	lockdep.read_depth++;
}

void hmx_lockdep_read_leave(void)
{
	if (!lockdep.read_depth)
		lockdep_fail("leaving a read section never entered", NULL);
	lockdep.read_depth--;
}

void hmx_lockdep_assert_may_synchronize(void)
{
	if (lockdep.read_depth)
		lockdep_fail("waiting for a grace period inside a read section",
			     NULL);
	if (lockdep.depth > 1 ||
	    (lockdep.depth == 1 && lockdep.held[0]->level != HMX_LOCK_ADMIN))
		lockdep_fail("waiting for a grace period", NULL);
}

unsigned int hmx_lockdep_held(void)
{
	return lockdep.depth;
}
#else
void hmx_lockdep_read_enter(void)
{
}

void hmx_lockdep_read_leave(void)
{
}

void hmx_lockdep_assert_may_synchronize(void)
{
}

unsigned int hmx_lockdep_held(void)
{
	return 0;
}
#endif

void hmx_mutex_init(struct hmx_mutex *mx, enum hmx_lock_level level,
		    const char *name)
{
	pthread_mutex_init(&mx->m, NULL);
	mx->level = level;
	mx->name = name;
}

void hmx_mutex_destroy(struct hmx_mutex *mx)
{
	pthread_mutex_destroy(&mx->m);
}

#ifdef HMX_LOCK_DEBUG
void hmx_mutex_lock(struct hmx_mutex *mx)
{
	lockdep_acquire(mx);
	if (pthread_mutex_lock(&mx->m))
		abort();
}

void hmx_mutex_unlock(struct hmx_mutex *mx)
{
	lockdep_release(mx);
	pthread_mutex_unlock(&mx->m);
}
#else
void hmx_mutex_lock_failed(void)
{
	abort();
}
#endif
