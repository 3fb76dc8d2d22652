// SPDX-License-Identifier: GPL-2.0-only
#include "hmx/rcu.h"

#include "hmx/lock.h"

#include <pthread.h>
#include <sched.h>

/* A per-thread starting slot, so that threads rarely contend for one. */
_Thread_local unsigned int hmx_rcu_hint = HMX_RCU_SLOTS;

static unsigned int rcu_thread_hint(void)
{
	if (hmx_rcu_hint >= HMX_RCU_SLOTS) {
		uint64_t x = (uint64_t)(uintptr_t)&hmx_rcu_hint;

		x ^= x >> 33;
		x *= 0xff51afd7ed558ccdull;
		x ^= x >> 33;
		hmx_rcu_hint = (unsigned int)(x % HMX_RCU_SLOTS);
	}
	return hmx_rcu_hint;
}

void hmx_rcu_init(struct hmx_rcu *r)
{
	for (unsigned int i = 0; i < HMX_RCU_SLOTS; i++)
		atomic_init(&r->slot[i].seq, 0);
}

unsigned int hmx_rcu_enter_slow(struct hmx_rcu *r)
{
	unsigned int start = rcu_thread_hint();

	for (unsigned int i = 0;; i++) {
		unsigned int idx = (start + i) % HMX_RCU_SLOTS;
		_Atomic uint64_t *seq = &r->slot[idx].seq;
		uint64_t v = atomic_load_explicit(seq, memory_order_relaxed);

		if (!(v & 1) &&
		    atomic_compare_exchange_strong(seq, &v, v + 1)) {
#ifdef HMX_LOCK_DEBUG
			hmx_lockdep_read_enter();
#endif
			return idx;
		}
		if (i && !(i % HMX_RCU_SLOTS))
			sched_yield();
	}
}

void hmx_rcu_synchronize(struct hmx_rcu *r)
{
	hmx_lockdep_assert_may_synchronize();
	for (unsigned int i = 0; i < HMX_RCU_SLOTS; i++) {
		_Atomic uint64_t *seq = &r->slot[i].seq;
		uint64_t v = atomic_load(seq);
		unsigned int spins = 0;

		if (!(v & 1))
			continue;
		while (atomic_load(seq) == v) {
			if (++spins > 64)
				sched_yield();
		}
	}
}
