/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Deferred reclamation for the lock-free read paths (domain table, ring
 * hash chains, firewall set, port grants): a minimal read-copy-update of our
 * own, per host (docs/hmx-abi.md, "Concurrency").
 *
 * A reader claims one of HMX_RCU_SLOTS cache-line-sized slots by moving its
 * sequence number from even (free) to odd (busy) with one CAS, and frees it
 * with a release store of the next even value. A writer first unpublishes
 * an object, then hmx_rcu_synchronize() waits until every slot that was busy
 * when it looked has changed its sequence: every reader that could have seen
 * the object has left. Readers never wait for writers.
 *
 * Pointers protected this way must be loaded with seq_cst atomics inside the
 * section and unpublished with seq_cst stores (plain moves on x86 loads).
 */
#ifndef BH_HMX_RCU_H
#define BH_HMX_RCU_H

#include "hmx/lock.h"

#include <stdatomic.h>
#include <stdint.h>

#define HMX_RCU_SLOTS 64u

struct hmx_rcu_slot {
	_Atomic uint64_t seq;
} __attribute__((aligned(64)));

struct hmx_rcu {
	struct hmx_rcu_slot slot[HMX_RCU_SLOTS];
};

void hmx_rcu_init(struct hmx_rcu *r);
unsigned int hmx_rcu_enter_slow(struct hmx_rcu *r);

/* This thread's preferred slot; HMX_RCU_SLOTS until first use. */
extern _Thread_local unsigned int hmx_rcu_hint;

/* Returns the slot to pass to hmx_rcu_leave(). Sections may nest. */
static inline unsigned int hmx_rcu_enter(struct hmx_rcu *r)
{
	unsigned int idx = hmx_rcu_hint;

	if (idx < HMX_RCU_SLOTS) {
		_Atomic uint64_t *seq = &r->slot[idx].seq;
		uint64_t v = atomic_load_explicit(seq, memory_order_relaxed);

		if (!(v & 1) &&
		    atomic_compare_exchange_strong(seq, &v, v + 1)) {
#ifdef HMX_LOCK_DEBUG
			hmx_lockdep_read_enter();
#endif
			return idx;
		}
	}
	return hmx_rcu_enter_slow(r);
}

static inline void hmx_rcu_leave(struct hmx_rcu *r, unsigned int idx)
{
	_Atomic uint64_t *seq = &r->slot[idx].seq;
	uint64_t v = atomic_load_explicit(seq, memory_order_relaxed);

	atomic_store_explicit(seq, v + 1, memory_order_release);
#ifdef HMX_LOCK_DEBUG
	hmx_lockdep_read_leave();
#endif
}
/* Wait for all sections that began before the call. */
void hmx_rcu_synchronize(struct hmx_rcu *r);

#endif
