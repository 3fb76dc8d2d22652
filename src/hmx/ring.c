// SPDX-License-Identifier: GPL-2.0-only
/*
 * Ring registry: per-domain RCU hash tables keyed by (aport, partner) and by
 * aport, the set of guest frames used by rings, register and unregister.
 */
#include "hmx/internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/heapsort.h"

#define PFN_MAX (UINT64_MAX / HMX_PAGE_SIZE)

int hmx_domain_tables_init(struct hmx_domain *d)
{
	uint32_t n = 16;

	while (n < d->max_rings)
		n <<= 1;
	d->key_buckets = calloc(n, sizeof(*d->key_buckets));
	d->port_buckets = calloc(n, sizeof(*d->port_buckets));
	if (!d->key_buckets || !d->port_buckets)
		return -ENOMEM;
	d->bucket_mask = n - 1;
	return 0;
}

void hmx_domain_tables_free(struct hmx_domain *d)
{
	free(d->key_buckets);
	free(d->port_buckets);
	free(d->pageset);
	d->key_buckets = d->port_buckets = NULL;
	d->pageset = NULL;
}

/* The page set: open addressing with linear probing, entries are pfn + 1. */
static uint32_t pageset_slot(const struct hmx_domain *d, uint64_t pfn)
{
	return (uint32_t)hmx_mix64(pfn ^ d->host->hash_seed) &
	       (d->pageset_cap - 1);
}

static bool pageset_has(const struct hmx_domain *d, uint64_t pfn)
{
	if (!d->pageset_cap)
		return false;
	for (uint32_t i = pageset_slot(d, pfn);;
	     i = (i + 1) & (d->pageset_cap - 1)) {
		if (!d->pageset[i])
			return false;
		if (d->pageset[i] == pfn + 1)
			return true;
	}
}

static void pageset_put(uint64_t *set, uint32_t cap, uint32_t slot, uint64_t v)
{
	while (set[slot])
		slot = (slot + 1) & (cap - 1);
	set[slot] = v;
}

static int pageset_reserve(struct hmx_domain *d, uint32_t more)
{
	uint64_t need = (uint64_t)d->pageset_count + more;
	uint32_t cap = d->pageset_cap ? d->pageset_cap : 64;
	uint32_t oldcap = d->pageset_cap;
	uint64_t *set, *old = d->pageset;

	while ((uint64_t)cap < need * 2)
		cap <<= 1;
	if (cap == d->pageset_cap)
		return 0;
	set = calloc(cap, sizeof(*set));
	if (!set)
		return -ENOMEM;
	d->pageset = set;
	d->pageset_cap = cap;
	for (uint32_t i = 0; i < oldcap; i++)
		if (old[i])
			pageset_put(set, cap, pageset_slot(d, old[i] - 1),
				    old[i]);
	free(old);
	return 0;
}

/* Caller reserved room with pageset_reserve() first. */
static void pageset_add(struct hmx_domain *d, uint64_t pfn)
{
	pageset_put(d->pageset, d->pageset_cap, pageset_slot(d, pfn), pfn + 1);
	d->pageset_count++;
}

/* Deletion by backward shift keeps every probe chain unbroken. */
static void pageset_del(struct hmx_domain *d, uint64_t pfn)
{
	uint32_t mask = d->pageset_cap - 1, i, j;

	if (!d->pageset_cap)
		return;
	for (i = pageset_slot(d, pfn); d->pageset[i] != pfn + 1;
	     i = (i + 1) & mask)
		if (!d->pageset[i])
			return;
	for (j = i;;) {
		uint32_t k;

		j = (j + 1) & mask;
		if (!d->pageset[j])
			break;
		k = pageset_slot(d, d->pageset[j] - 1);
		/* Entry j may move to i only if its home k is not in (i, j]. */
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		d->pageset[i] = d->pageset[j];
		i = j;
	}
	d->pageset[i] = 0;
	d->pageset_count--;
}

static void chain_unlink(_Atomic(struct hmx_ring_info *) *head,
			 struct hmx_ring_info *r, bool port)
{
	_Atomic(struct hmx_ring_info *) *p = head;
	struct hmx_ring_info *cur;

	while ((cur = atomic_load(p)) != r) {
		if (!cur)
			return;
		p = port ? &cur->port_next : &cur->key_next;
	}
	/* Readers standing on r still find r's successor: r is not freed. */
	atomic_store(p, atomic_load(port ? &r->port_next : &r->key_next));
}

void hmx_ring_unlink_locked(struct hmx_domain *d, struct hmx_ring_info *r)
{
	chain_unlink(&d->key_buckets[hmx_key_hash(d, r->aport, r->partner)], r,
		     false);
	chain_unlink(&d->port_buckets[hmx_port_hash(d, r->aport)], r, true);
	if (r->list_prev)
		r->list_prev->list_next = r->list_next;
	else
		d->rings = r->list_next;
	if (r->list_next)
		r->list_next->list_prev = r->list_prev;
	r->list_prev = r->list_next = NULL;
	d->nrings--;
	d->ring_bytes -= r->len;
	for (uint32_t i = 0; i < r->npages; i++)
		pageset_del(d, r->pfns[i]);
}

static void ring_link_locked(struct hmx_domain *d, struct hmx_ring_info *r)
{
	_Atomic(struct hmx_ring_info *) *kb, *pb;

	kb = &d->key_buckets[hmx_key_hash(d, r->aport, r->partner)];
	pb = &d->port_buckets[hmx_port_hash(d, r->aport)];
	atomic_store(&r->key_next, atomic_load(kb));
	atomic_store(&r->port_next, atomic_load(pb));
	/* The ring is fully initialised before these stores publish it. */
	atomic_store(kb, r);
	atomic_store(pb, r);
	r->list_prev = NULL;
	r->list_next = d->rings;
	if (d->rings)
		d->rings->list_prev = r;
	d->rings = r;
	d->nrings++;
	d->ring_bytes += r->len;
	for (uint32_t i = 0; i < r->npages; i++)
		pageset_add(d, r->pfns[i]);
}

void hmx_ring_free(struct hmx_ring_info *r)
{
	if (!r)
		return;
	hmx_mutex_destroy(&r->lock);
	free(r->pages);
	free(r->pfns);
	free(r->pending);
	free(r);
}

uint32_t hmx_ring_free_space(const struct hmx_ring_info *r, uint32_t rx)
{
	if (rx > r->tx)
		return rx - r->tx - HMX_SLOT_SIZE;
	return r->len - (r->tx - rx) - HMX_SLOT_SIZE;
}

bool hmx_ring_read_rx(const struct hmx_ring_info *r, uint32_t *rx)
{
	/* Acquire: the receiver's reads of what it consumed come first. */
	uint32_t v = __atomic_load_n(&r->hdr->rx_ptr, __ATOMIC_ACQUIRE);

	if (v >= r->len || v % HMX_SLOT_SIZE)
		return false;
	*rx = v;
	return true;
}

int hmx_ring_set_npending(struct hmx_ring_info *r, uint32_t n)
{
	struct hmx_domain *d = r->dom;

	if ((n > 0) != r->on_waitq) {
		hmx_mutex_lock(&d->waitq_lock);
		if (n) {
			if (d->nwaiting == d->waiting_cap) {
				uint32_t cap = d->waiting_cap ?
						       d->waiting_cap * 2 :
						       16;
				struct hmx_ring_info **w;

				w = realloc(d->waiting, cap * sizeof(*w));
				if (!w) {
					hmx_mutex_unlock(&d->waitq_lock);
					return -ENOMEM;
				}
				d->waiting = w;
				d->waiting_cap = cap;
			}
			r->waitq_idx = d->nwaiting;
			d->waiting[d->nwaiting++] = r;
		} else {
			struct hmx_ring_info *last = d->waiting[--d->nwaiting];

			d->waiting[r->waitq_idx] = last;
			last->waitq_idx = r->waitq_idx;
		}
		hmx_mutex_unlock(&d->waitq_lock);
		r->on_waitq = n > 0;
		/*
		 * Receivers NOTIFY only while this says a sender waits. A dead
		 * ring's pages are the guest's again: not written.
		 */
		if (!r->dead)
			__atomic_store_n(&r->hdr->flags,
					 n ? HMX_RING_F_WANT_NOTIFY : 0,
					 __ATOMIC_SEQ_CST);
	}
	r->npending = n;
	atomic_store_explicit(&r->npending_hint, n, memory_order_relaxed);
	return 0;
}

static void ring_drop_pending_of(struct hmx_ring_info *r, uint16_t domid)
{
	for (uint32_t i = 0; i < r->npending; i++) {
		if (r->pending[i].domid == domid) {
			r->pending[i] = r->pending[r->npending - 1];
			hmx_ring_set_npending(r, r->npending - 1);
			return;
		}
	}
}

int hmx_ring_wait_space(struct hmx_host *h, struct hmx_ring_info *r,
			uint16_t domid, uint32_t space, uint32_t *rx)
{
	int ret = hmx_ring_add_pending(h, r, domid, space);

	if (ret)
		return ret;
	/* The flag is set (seq_cst, now or by an earlier wait) before this. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!hmx_ring_read_rx(r, rx))
		return -ECONNRESET;
	if (hmx_ring_free_space(r, *rx) < space)
		return -EAGAIN;
	ring_drop_pending_of(r, domid);
	return 0;
}

int hmx_ring_add_pending(struct hmx_host *h, struct hmx_ring_info *r,
			 uint16_t domid, uint32_t space)
{
	uint32_t i;

	/* A dying sender must not be queued (see hmx_domain_remove()). */
	if (!hmx_domain_get(h, domid))
		return 0;
#ifdef HMX_LOCK_DEBUG
	if (hmx_race_after_alive_check)
		hmx_race_after_alive_check();
#endif
	for (i = 0; i < r->npending; i++) {
		if (r->pending[i].domid == domid) {
			r->pending[i].space = space;
			return 0;
		}
	}
	if (r->npending >= h->lim.max_pending_per_ring)
		return -EBUSY;
	if (r->npending == r->pending_cap) {
		uint32_t cap = r->pending_cap ? r->pending_cap * 2 : 4;
		struct hmx_pending *p;

		if (cap > h->lim.max_pending_per_ring)
			cap = h->lim.max_pending_per_ring;
		p = realloc(r->pending, cap * sizeof(*p));
		if (!p)
			return -EBUSY;
		r->pending = p;
		r->pending_cap = cap;
	}
	r->pending[r->npending].domid = domid;
	r->pending[r->npending].space = space;
	return hmx_ring_set_npending(r, r->npending + 1) ? -EBUSY : 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Copy the page list once, check every frame, resolve it to host pages. */
static int ring_load_pages(struct hmx_domain *d,
			   const struct hmx_register_ring *req,
			   struct hmx_ring_info *r)
{
	uint64_t bytes = (uint64_t)req->npages * sizeof(uint64_t);
	const void *src;
	uint64_t *sorted;
	bool contig = true;

	src = hmx_dom_translate(d, req->pfn_list_gpa, bytes);
	if (!src)
		return -EFAULT;
	r->pfns = malloc(bytes);
	r->pages = malloc(req->npages * sizeof(*r->pages));
	sorted = malloc(bytes);
	if (!r->pfns || !r->pages || !sorted) {
		free(sorted);
		return -ENOMEM;
	}
	memcpy(r->pfns, src, bytes);
	r->npages = req->npages;
	for (uint32_t i = 0; i < r->npages; i++) {
		uint64_t pfn = r->pfns[i];

		if (pfn > PFN_MAX) {
			free(sorted);
			return -EFAULT;
		}
		r->pages[i] = hmx_dom_translate(d, pfn * HMX_PAGE_SIZE,
						HMX_PAGE_SIZE);
		if (!r->pages[i]) {
			free(sorted);
			return -EFAULT;
		}
		if ((uintptr_t)r->pages[i] !=
		    (uintptr_t)r->pages[0] + (uintptr_t)i * HMX_PAGE_SIZE)
			contig = false;
	}
	memcpy(sorted, r->pfns, bytes);
	bh_heapsort(sorted, r->npages, sizeof(*sorted), cmp_u64);
	for (uint32_t i = 1; i < r->npages; i++) {
		if (sorted[i] == sorted[i - 1]) {
			free(sorted);
			return -EINVAL;
		}
	}
	free(sorted);
	r->hdr = (struct hmx_ring *)r->pages[0];
	r->data = contig ? r->pages[0] + HMX_RING_HEADER_SIZE : NULL;
	return 0;
}

static bool pages_free_in(const struct hmx_domain *d,
			  const struct hmx_ring_info *r)
{
	for (uint32_t i = 0; i < r->npages; i++)
		if (pageset_has(d, r->pfns[i]))
			return false;
	return true;
}

/* Same address, same size: move the ring onto the new pages. */
static int ring_replace_pages(struct hmx_domain *d, struct hmx_ring_info *old,
			      struct hmx_ring_info *r)
{
	int ret;

	for (uint32_t i = 0; i < old->npages; i++)
		pageset_del(d, old->pfns[i]);
	ret = pages_free_in(d, r) ? pageset_reserve(d, r->npages) : -EADDRINUSE;
	if (ret) {
		for (uint32_t i = 0; i < old->npages; i++)
			pageset_add(d, old->pfns[i]);
		return ret;
	}
	for (uint32_t i = 0; i < r->npages; i++)
		pageset_add(d, r->pfns[i]);

	hmx_mutex_lock(&old->lock);
	/* Swap so that r carries the old arrays away to be freed. */
	{
		uint8_t **pages = old->pages, *data = old->data;
		uint64_t *pfns = old->pfns;
		struct hmx_ring *hdr = old->hdr;
		uint32_t npages = old->npages;

		old->pages = r->pages;
		old->pfns = r->pfns;
		old->hdr = r->hdr;
		old->data = r->data;
		old->npages = r->npages;
		r->pages = pages;
		r->pfns = pfns;
		r->hdr = hdr;
		r->data = data;
		r->npages = npages;
	}
	__atomic_store_n(&old->hdr->tx_ptr, old->tx, __ATOMIC_RELEASE);
	__atomic_store_n(&old->hdr->flags,
			 old->on_waitq ? HMX_RING_F_WANT_NOTIFY : 0,
			 __ATOMIC_SEQ_CST);
	hmx_mutex_unlock(&old->lock);
	return 0;
}

static int register_locked(struct hmx_host *h, struct hmx_domain *d,
			   const struct hmx_register_ring *req,
			   struct hmx_ring_info *r)
{
	struct hmx_ring_info *old;
	int ret;

	if (atomic_load(&d->dead))
		return -ESRCH;
	old = hmx_ring_lookup(d, req->aport, req->partner);
	if (old) {
		if (req->flags & HMX_REGISTER_FAIL_EXIST)
			return -EEXIST;
		if (old->len != req->len)
			return -EBUSY;
		return ring_replace_pages(d, old, r);
	}
	if (d->nrings >= d->max_rings ||
	    d->ring_bytes + req->len > h->lim.max_ring_bytes_per_domain)
		return -ENOSPC;
	if (!pages_free_in(d, r))
		return -EADDRINUSE;
	/*
	 * The partner must be alive now. Checked under our domain lock so
	 * that the partner's teardown, which scans our rings under this
	 * lock after marking itself dead, either sees this ring or makes
	 * this check fail.
	 */
	if (req->partner != HMX_DOMID_ANY && req->partner != d->domid &&
	    !hmx_domain_get(h, req->partner))
		return -ESRCH;
	ret = pageset_reserve(d, r->npages);
	if (ret)
		return ret;
	__atomic_store_n(&r->hdr->rx_ptr, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&r->hdr->flags, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&r->hdr->tx_ptr, 0, __ATOMIC_RELEASE);
	ring_link_locked(d, r);
	return 1; /* r is now owned by the registry */
}

static int register_ring(struct hmx_host *h, struct hmx_domain *d,
			 const struct hmx_register_ring *req)
{
	struct hmx_ring_info *r;
	int ret;

	if (req->pad || req->pad2 || (req->flags & ~HMX_REGISTER_FAIL_EXIST) ||
	    req->aport == HMX_PORT_ANY ||
	    (req->partner != HMX_DOMID_ANY && !hmx_domid_valid(req->partner)) ||
	    req->len % HMX_SLOT_SIZE || req->len < HMX_RING_MIN_LEN ||
	    req->len > h->lim.max_ring_len ||
	    req->npages != (HMX_RING_HEADER_SIZE + req->len + HMX_PAGE_SIZE -
			    1) / HMX_PAGE_SIZE ||
	    req->pfn_list_gpa % sizeof(uint64_t))
		return -EINVAL;
	if (req->partner == HMX_DOMID_ANY &&
	    !hmx_fw_allow_wildcard(h, d->domid, req->aport))
		return -EPERM;

	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->aport = req->aport;
	r->owner = d->domid;
	r->partner = req->partner;
	r->len = req->len;
	r->dom = d;
	hmx_mutex_init(&r->lock, HMX_LOCK_RING, "ring");
	atomic_init(&r->key_next, NULL);
	atomic_init(&r->port_next, NULL);
	atomic_init(&r->npending_hint, 0);
	ret = ring_load_pages(d, req, r);
	if (!ret) {
		hmx_mutex_lock(&d->lock);
		ret = register_locked(h, d, req, r);
		hmx_mutex_unlock(&d->lock);
	}
	if (ret == 1)
		return 0;
	hmx_ring_free(r);
	return ret;
}

int hmx_op_register_ring(struct hmx_host *h, struct hmx_domain *d,
			 const struct hmx_register_ring *req)
{
	return register_ring(h, d, req);
}

int hmx_register_ring(struct hmx_host *h, uint16_t domid,
		      const struct hmx_register_ring *req)
{
	unsigned int slot = hmx_rcu_enter(&h->rcu);
	struct hmx_domain *d = hmx_domain_get(h, domid);
	int ret = d ? register_ring(h, d, req) : -ESRCH;

	hmx_rcu_leave(&h->rcu, slot);
	return ret;
}

/*
 * Unlink the ring and wake its waiting senders (they will find it gone).
 * Returns the ring to free after a grace period, or NULL with *err set.
 */
struct hmx_ring_info *
hmx_op_unregister_ring(struct hmx_host *h, struct hmx_domain *d,
		       const struct hmx_unregister_ring *req,
		       struct hmx_sigbatch *b, int *err)
{
	struct hmx_ring_info *r;

	(void)h;
	*err = -EINVAL;
	if (req->pad || req->aport == HMX_PORT_ANY ||
	    (req->partner != HMX_DOMID_ANY && !hmx_domid_valid(req->partner)))
		return NULL;
	hmx_mutex_lock(&d->lock);
	r = hmx_ring_lookup(d, req->aport, req->partner);
	if (!r) {
		hmx_mutex_unlock(&d->lock);
		*err = -ENOENT;
		return NULL;
	}
	hmx_ring_unlink_locked(d, r);
	hmx_mutex_lock(&r->lock);
	r->dead = true;
	for (uint32_t i = 0; i < r->npending; i++)
		hmx_sigbatch_add(b, r->pending[i].domid, HMX_IRQ_SPACE);
	hmx_ring_set_npending(r, 0);
	hmx_mutex_unlock(&r->lock);
	hmx_mutex_unlock(&d->lock);
	*err = 0;
	return r;
}

int hmx_unregister_ring(struct hmx_host *h, uint16_t domid,
			const struct hmx_unregister_ring *req)
{
	struct hmx_ring_info *r = NULL;
	struct hmx_sigbatch b;
	struct hmx_domain *d;
	unsigned int slot;
	int ret = -ESRCH;

	hmx_sigbatch_init(&b);
	slot = hmx_rcu_enter(&h->rcu);
	d = hmx_domain_get(h, domid);
	if (d)
		r = hmx_op_unregister_ring(h, d, req, &b, &ret);
	hmx_sigbatch_flush(h, &b);
	hmx_rcu_leave(&h->rcu, slot);
	if (r) {
		hmx_rcu_synchronize(&h->rcu);
		hmx_ring_free(r);
	}
	return ret;
}
