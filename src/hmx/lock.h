/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Mutexes with a rank in the HMX lock hierarchy (docs/hmx-abi.md, "Lock
 * hierarchy"). A thread may only acquire a lock of a strictly higher level
 * than every lock it holds. With -Dlock_debug=true every thread keeps a
 * stack of held levels and a violation aborts with both lock names.
 */
#ifndef BH_HMX_LOCK_H
#define BH_HMX_LOCK_H

#include <pthread.h>

enum hmx_lock_level {
	HMX_LOCK_ADMIN = 1, /* host: domain add/remove, firewall, grants */
	HMX_LOCK_DOMAIN = 2, /* one domain: its ring tables and page set */
	HMX_LOCK_RING = 3, /* one ring: producer state, pending queue */
	HMX_LOCK_LEAF = 4, /* peer-event queue, audit log, arena */
};

struct hmx_mutex {
	pthread_mutex_t m;
	enum hmx_lock_level level;
	const char *name;
};

void hmx_mutex_init(struct hmx_mutex *mx, enum hmx_lock_level level,
		    const char *name);
void hmx_mutex_destroy(struct hmx_mutex *mx);
#ifdef HMX_LOCK_DEBUG
void hmx_mutex_lock(struct hmx_mutex *mx);
void hmx_mutex_unlock(struct hmx_mutex *mx);
#else
void hmx_mutex_lock_failed(void) __attribute__((noreturn));

static inline void hmx_mutex_lock(struct hmx_mutex *mx)
{
	if (pthread_mutex_lock(&mx->m))
		hmx_mutex_lock_failed();
}

static inline void hmx_mutex_unlock(struct hmx_mutex *mx)
{
	pthread_mutex_unlock(&mx->m);
}
#endif

/*
 * Read-side sections (rcu.h) and grace-period waits are checked too: a
 * thread inside a read section must not take the admin lock, and a grace
 * period may only be awaited holding nothing but the admin lock.
 */
void hmx_lockdep_read_enter(void);
void hmx_lockdep_read_leave(void);
void hmx_lockdep_assert_may_synchronize(void);
/* Number of locks the calling thread holds (0 without lock_debug). */
unsigned int hmx_lockdep_held(void);

#ifdef HMX_LOCK_DEBUG
/*
 * Race windows held open for tests (lock_debug builds only): called by a
 * sender that has seen its own domain alive, under the ring lock, before
 * it stores its wait (hmx_ring_add_pending).
 */
extern void (*hmx_race_after_alive_check)(void);
#endif

#endif
