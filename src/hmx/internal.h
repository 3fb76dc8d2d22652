/* SPDX-License-Identifier: GPL-2.0-only */
/* HMX core internals shared by the files of src/hmx/. */
#ifndef BH_HMX_INTERNAL_H
#define BH_HMX_INTERNAL_H

#include "hmx/core.h"
#include "hmx/lock.h"
#include "hmx/rcu.h"

#include <stdatomic.h>
#include <stdbool.h>

#define HMX_NDOMIDS (HMX_DOMID_LAST_GUEST + 1u)

/* Hashing: a keyed 64-bit mix (the seed is random per host). */
static inline uint64_t hmx_mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

/* A sender waiting for space in a ring (one entry per sender domain). */
struct hmx_pending {
	uint16_t domid;
	uint32_t space; /* bytes of ring needed: slot-rounded header+payload */
};

/*
 * A registered ring. Key fields are immutable while the ring is published;
 * everything under "lock" is read and written only with the ring lock held.
 */
struct hmx_ring_info {
	uint32_t aport;
	uint16_t owner;
	uint16_t partner;
	uint32_t len;
	struct hmx_domain *dom;

	/* Hash chains read without locks (RCU); written under dom->lock. */
	_Atomic(struct hmx_ring_info *) key_next;
	_Atomic(struct hmx_ring_info *) port_next;
	/* The owner's ring list, under dom->lock. */
	struct hmx_ring_info *list_prev, *list_next;

	struct hmx_mutex lock;
	bool dead; /* unpublished: sends must fail */
	uint32_t tx; /* private producer offset, the truth for tx_ptr */
	struct hmx_ring *hdr; /* page 0 of the ring */
	uint8_t *data; /* the data area if host-contiguous, else NULL */
	uint8_t **pages; /* npages host page pointers */
	uint64_t *pfns; /* npages guest frame numbers (for the page set) */
	uint32_t npages;
	struct hmx_pending *pending;
	uint32_t npending, pending_cap;
	_Atomic uint32_t npending_hint; /* lets teardown skip idle rings */
	bool on_waitq; /* under lock: in dom->waiting iff npending > 0 */
	uint32_t waitq_idx; /* under dom->waitq_lock: index in dom->waiting */

	struct hmx_ring_info *retire_next;
};

/* Source ports a domain may use without owning a ring (host policy). */
struct hmx_grants {
	uint32_t n;
	struct hmx_port_range r[];
};

struct hmx_domain {
	struct hmx_host *host;
	uint16_t domid;
	hmx_translate_fn translate;
	void *translate_opaque;
	hmx_signal_fn signal;
	void *signal_opaque;
	uint32_t max_rings;
	_Atomic bool dead;

	struct hmx_mutex lock; /* HMX_LOCK_DOMAIN */
	/* Two RCU hash tables over this domain's rings. */
	_Atomic(struct hmx_ring_info *) *key_buckets; /* (aport, partner) */
	_Atomic(struct hmx_ring_info *) *port_buckets; /* aport */
	uint32_t bucket_mask;
	struct hmx_ring_info *rings; /* list head, under lock */
	uint32_t nrings;
	uint64_t ring_bytes;
	/* Guest frames used by this domain's rings: open addressing, pfn+1. */
	uint64_t *pageset;
	uint32_t pageset_cap, pageset_count;

	_Atomic(struct hmx_grants *) grants;

	/* Rings of this domain with waiting senders, for notify. */
	struct hmx_mutex waitq_lock; /* HMX_LOCK_LEAF */
	struct hmx_ring_info **waiting;
	uint32_t nwaiting, waiting_cap;

	struct hmx_mutex peer_lock; /* HMX_LOCK_LEAF */
	uint8_t *peer_seen; /* bitmap over domids, allocated on first use */
	uint16_t *peer_queue;
	uint32_t npeer;
};

struct hmx_fw_set;

struct hmx_audit {
	struct hmx_mutex lock; /* HMX_LOCK_LEAF */
	struct hmx_audit_entry *e;
	uint32_t cap, head, count;
	uint64_t dropped;
};

struct hmx_host {
	struct hmx_limits lim;
	uint64_t hash_seed;
	struct hmx_mutex admin_lock; /* HMX_LOCK_ADMIN */
	struct hmx_rcu rcu;
	_Atomic(struct hmx_fw_set *) fw;
	uint64_t fw_generation; /* under admin_lock */
	struct hmx_audit audit;
	_Atomic(struct hmx_domain *) domains[HMX_NDOMIDS];
};

/* Signals gathered during one operation: at most one call per domain. */
#define HMX_SIGBATCH_INLINE 16
struct hmx_sigbatch {
	uint32_t n;
	struct {
		struct hmx_domain *d; /* NULL: look the domid up at flush */
		uint16_t domid;
		uint32_t bits;
	} e[HMX_SIGBATCH_INLINE];
	uint32_t *all; /* per-domid bits once the inline array is full */
	bool lossy; /* out of memory: flush signals every domain */
};

static inline void hmx_sigbatch_init(struct hmx_sigbatch *b)
{
	b->n = 0;
	b->all = NULL;
	b->lossy = false;
}

void hmx_sigbatch_add(struct hmx_sigbatch *b, uint16_t domid, uint32_t bits);
void hmx_sigbatch_add_slow(struct hmx_sigbatch *b, struct hmx_domain *d,
			   uint32_t bits);

/* The same for a domain pointer valid until the flush. */
static inline void hmx_sigbatch_add_dom(struct hmx_sigbatch *b,
					struct hmx_domain *d, uint32_t bits)
{
	if (!b->n) { /* the common case: one target */
		b->e[0].d = d;
		b->e[0].domid = d->domid;
		b->e[0].bits = bits;
		b->n = 1;
		return;
	}
	hmx_sigbatch_add_slow(b, d, bits);
}

void hmx_sigbatch_flush_slow(struct hmx_host *h, struct hmx_sigbatch *b);

/* Deliver and reset. Caller is in a read section or holds admin_lock. */
static inline void hmx_sigbatch_flush(struct hmx_host *h,
				      struct hmx_sigbatch *b)
{
	if (!b->n && !b->all && !b->lossy)
		return;
	if (b->n == 1 && b->e[0].d && !b->all && !b->lossy) {
		struct hmx_domain *d = b->e[0].d;

		b->n = 0;
		if (!atomic_load_explicit(&d->dead, memory_order_relaxed))
			d->signal(d->signal_opaque, b->e[0].bits);
		return;
	}
	hmx_sigbatch_flush_slow(h, b);
}

/* Domain helpers. */
static inline bool hmx_domid_valid(uint32_t domid)
{
	return domid == HMX_DOMID_HOST || (domid >= HMX_DOMID_FIRST_GUEST &&
					   domid <= HMX_DOMID_LAST_GUEST);
}

/* Live domain or NULL; caller is in a read section or holds admin_lock. */
static inline struct hmx_domain *hmx_domain_get(struct hmx_host *h,
						uint32_t domid)
{
	struct hmx_domain *d;

	if (domid >= HMX_NDOMIDS)
		return NULL;
	d = atomic_load(&h->domains[domid]);
	if (d && atomic_load_explicit(&d->dead, memory_order_relaxed))
		return NULL;
	return d;
}

static inline void *hmx_dom_translate(const struct hmx_domain *d, uint64_t gpa,
				      uint64_t len)
{
	if (!len || gpa + len < gpa)
		return NULL;
	return d->translate(d->translate_opaque, gpa, len);
}

void hmx_peer_event_add(struct hmx_domain *d, uint16_t peer);

/*
 * Ring registry (ring.c); lookups are lock-free inside a read section. The
 * keys are guest-chosen: the hash is seeded per host, and each domain has
 * its own tables, so a guest that collides its own keys slows only sends
 * to itself.
 */
static inline uint32_t hmx_key_hash(const struct hmx_domain *d, uint32_t aport,
				    uint16_t partner)
{
	uint64_t k = (((uint64_t)aport << 16) | partner) ^ d->host->hash_seed;

	k *= 0x9e3779b97f4a7c15ull;
	return (uint32_t)(k >> 32) & d->bucket_mask;
}

static inline uint32_t hmx_port_hash(const struct hmx_domain *d, uint32_t aport)
{
	uint64_t k = ((uint64_t)aport | (1ull << 48)) ^ d->host->hash_seed;

	k *= 0xc2b2ae3d27d4eb4full;
	return (uint32_t)(k >> 32) & d->bucket_mask;
}

static inline struct hmx_ring_info *
hmx_ring_lookup(const struct hmx_domain *owner, uint32_t aport,
		uint16_t partner)
{
	struct hmx_ring_info *r;

	r = atomic_load(
		&owner->key_buckets[hmx_key_hash(owner, aport, partner)]);
	for (; r; r = atomic_load(&r->key_next))
		if (r->aport == aport && r->partner == partner)
			return r;
	return NULL;
}

/* The ring that a message from src to (dst, aport) lands in. */
static inline struct hmx_ring_info *hmx_ring_match(const struct hmx_domain *dst,
						   uint32_t aport, uint16_t src)
{
	struct hmx_ring_info *r = hmx_ring_lookup(dst, aport, src);

	return r ? r : hmx_ring_lookup(dst, aport, HMX_DOMID_ANY);
}

/* Source authentication: a ring of d's at aport, or a host grant. */
bool hmx_domain_may_send_from(const struct hmx_domain *d, uint32_t aport);

static inline bool hmx_domain_owns_port(const struct hmx_domain *d,
					uint32_t aport)
{
	struct hmx_ring_info *r;

	r = atomic_load(&d->port_buckets[hmx_port_hash(d, aport)]);
	for (; r; r = atomic_load(&r->port_next))
		if (r->aport == aport)
			return true;
	return false;
}

void hmx_ring_unlink_locked(struct hmx_domain *d, struct hmx_ring_info *r);
void hmx_ring_free(struct hmx_ring_info *r);
int hmx_domain_tables_init(struct hmx_domain *d);
void hmx_domain_tables_free(struct hmx_domain *d);
/* Free bytes in the ring given a sanitized rx; ring lock held. */
uint32_t hmx_ring_free_space(const struct hmx_ring_info *r, uint32_t rx);
/* Read rx_ptr once; false if it is garbage. Ring lock held. */
bool hmx_ring_read_rx(const struct hmx_ring_info *r, uint32_t *rx);
/* Set npending (ring lock held), keeping the owner's waiter list right. */
int hmx_ring_set_npending(struct hmx_ring_info *r, uint32_t n);
/* Queue or update a pending entry. 0, or -EBUSY when the queue is full. */
int hmx_ring_add_pending(struct hmx_host *h, struct hmx_ring_info *r,
			 uint16_t domid, uint32_t space);
/*
 * A sender found too little space: queue its wait (which sets the ring's
 * HMX_RING_F_WANT_NOTIFY), then read rx_ptr again, because the receiver
 * may have consumed and read the flag clear in between. 0 with *rx
 * updated if the space is there now (no wait left queued), -EAGAIN if
 * queued, -EBUSY if it cannot be, -ECONNRESET for a garbage rx_ptr.
 * Ring lock held.
 */
int hmx_ring_wait_space(struct hmx_host *h, struct hmx_ring_info *r,
			uint16_t domid, uint32_t space, uint32_t *rx);

/*
 * Operations on a live domain, called inside a read section; signals go to
 * the batch, flushed by the caller after every lock is released.
 */
int hmx_op_register_ring(struct hmx_host *h, struct hmx_domain *d,
			 const struct hmx_register_ring *req);
/* Returns the unlinked ring to free after a grace period, or NULL. */
struct hmx_ring_info *
hmx_op_unregister_ring(struct hmx_host *h, struct hmx_domain *d,
		       const struct hmx_unregister_ring *req,
		       struct hmx_sigbatch *b, int *err);
int hmx_op_sendv(struct hmx_host *h, struct hmx_domain *d,
		 const struct hmx_sendv *req, struct hmx_sigbatch *b);
int hmx_op_notify(struct hmx_host *h, struct hmx_domain *d,
		  uint64_t ring_data_gpa, struct hmx_sigbatch *b);
int hmx_op_peer_events(struct hmx_host *h, struct hmx_domain *d,
		       struct hmx_peer_events *req, struct hmx_sigbatch *b);

/* Firewall (firewall.c). */
enum hmx_fw_verdict {
	HMX_FW_V_ACCEPT,
	HMX_FW_V_REJECT,
	HMX_FW_V_DEFAULT,
};
/* Full check with counters; refusals are audited. In a read section. */
bool hmx_fw_allow(struct hmx_host *h, uint32_t op, uint16_t sdom,
		  uint32_t sport, uint16_t ddom, uint32_t dport);
/* May a wildcard ring (ddom, dport) be registered? Audited if not. */
bool hmx_fw_allow_wildcard(struct hmx_host *h, uint16_t ddom, uint32_t dport);
void hmx_fw_free(struct hmx_fw_set *s);
/* The generation of the set in force now, for refusals not decided by it. */
uint64_t hmx_fw_current_generation(struct hmx_host *h);
void hmx_audit_add(struct hmx_host *h, uint64_t generation, uint32_t op,
		   uint32_t reason, uint16_t sdom, uint32_t sport,
		   uint16_t ddom, uint32_t dport, int32_t rule);

static inline uint32_t hmx_msg_space(uint32_t payload)
{
	return HMX_ROUNDUP(payload + (uint32_t)sizeof(struct hmx_msg_header));
}

#endif
