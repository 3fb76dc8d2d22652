// SPDX-License-Identifier: GPL-2.0-only
/* Domain registry: add, teardown (with the peer-gone rule), peer events. */
#include "hmx/internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int hmx_domain_add(struct hmx_host *h, const struct hmx_domain_config *cfg)
{
	struct hmx_domain *d;
	int ret;

	if (!cfg || !hmx_domid_valid(cfg->domid) || !cfg->translate ||
	    !cfg->signal || cfg->max_rings > (1u << 20))
		return -EINVAL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->host = h;
	d->domid = cfg->domid;
	d->translate = cfg->translate;
	d->translate_opaque = cfg->translate_opaque;
	d->signal = cfg->signal;
	d->signal_opaque = cfg->signal_opaque;
	d->max_rings = cfg->max_rings ? cfg->max_rings :
					h->lim.max_rings_per_domain;
	atomic_init(&d->dead, false);
	atomic_init(&d->grants, NULL);
	hmx_mutex_init(&d->lock, HMX_LOCK_DOMAIN, "domain");
	hmx_mutex_init(&d->peer_lock, HMX_LOCK_LEAF, "domain peer events");
	hmx_mutex_init(&d->waitq_lock, HMX_LOCK_LEAF, "domain waiter list");
	ret = hmx_domain_tables_init(d);
	if (ret)
		goto err;

	hmx_mutex_lock(&h->admin_lock);
	if (atomic_load(&h->domains[d->domid])) {
		hmx_mutex_unlock(&h->admin_lock);
		ret = -EEXIST;
		goto err;
	}
	atomic_store(&h->domains[d->domid], d);
	hmx_mutex_unlock(&h->admin_lock);
	return 0;
err:
	hmx_domain_tables_free(d);
	hmx_mutex_destroy(&d->waitq_lock);
	hmx_mutex_destroy(&d->peer_lock);
	hmx_mutex_destroy(&d->lock);
	free(d);
	return ret;
}

/* Tell peer "owner of this state" that gone went away. */
static void peer_gone(struct hmx_host *h, struct hmx_sigbatch *b, uint16_t peer,
		      uint16_t gone)
{
	struct hmx_domain *p;

	if (peer == gone)
		return;
	p = hmx_domain_get(h, peer);
	if (!p)
		return;
	hmx_peer_event_add(p, gone);
	hmx_sigbatch_add(b, peer, HMX_IRQ_PEER_GONE);
}

/* Kill a ring already unlinked: no send may use it after the ring lock. */
static void ring_kill(struct hmx_host *h, struct hmx_sigbatch *b,
		      struct hmx_ring_info *r, uint16_t gone)
{
	hmx_mutex_lock(&r->lock);
	r->dead = true;
	for (uint32_t i = 0; i < r->npending; i++)
		peer_gone(h, b, r->pending[i].domid, gone);
	hmx_ring_set_npending(r, 0);
	hmx_mutex_unlock(&r->lock);
}

/*
 * Drop the pending entries of domain gone from a ring of another domain.
 * Always under the ring lock, never skipped on a zero npending_hint: a
 * sender that saw gone alive (hmx_ring_add_pending) stores its entry under
 * this lock, so the entry is either stored before we look or refused.
 */
static void ring_drop_pending(struct hmx_ring_info *r, uint16_t gone)
{
	uint32_t j = 0;

	hmx_mutex_lock(&r->lock);
	for (uint32_t i = 0; i < r->npending; i++)
		if (r->pending[i].domid != gone)
			r->pending[j++] = r->pending[i];
	hmx_ring_set_npending(r, j);
	hmx_mutex_unlock(&r->lock);
}

int hmx_domain_remove(struct hmx_host *h, uint16_t domid)
{
	struct hmx_ring_info *retire = NULL, *r, *next;
	struct hmx_sigbatch b;
	struct hmx_domain *d;
	struct hmx_grants *g;
	unsigned int slot;

	if (domid >= HMX_NDOMIDS)
		return -ESRCH;
	hmx_sigbatch_init(&b);
	hmx_mutex_lock(&h->admin_lock);
	d = atomic_load(&h->domains[domid]);
	if (!d) {
		hmx_mutex_unlock(&h->admin_lock);
		return -ESRCH;
	}
	/*
	 * Dead before any lock: a registration or pending entry racing with
	 * us re-checks "dead" under the lock we take next, so nothing can
	 * name this domain after we scanned it.
	 */
	atomic_store(&d->dead, true);
	atomic_store(&h->domains[domid], NULL);

	hmx_mutex_lock(&d->lock);
	while ((r = d->rings)) {
		hmx_ring_unlink_locked(d, r);
		ring_kill(h, &b, r, domid);
		if (r->partner != HMX_DOMID_ANY)
			peer_gone(h, &b, r->partner, domid);
		r->retire_next = retire;
		retire = r;
	}
	hmx_mutex_unlock(&d->lock);

	for (uint32_t x = 0; x < HMX_NDOMIDS; x++) {
		struct hmx_domain *o = atomic_load(&h->domains[x]);
		bool named = false;

		if (!o)
			continue;
		hmx_mutex_lock(&o->lock);
		for (r = o->rings; r; r = next) {
			next = r->list_next;
			if (r->partner == domid) {
				hmx_ring_unlink_locked(o, r);
				ring_kill(h, &b, r, domid);
				r->retire_next = retire;
				retire = r;
				named = true;
			} else {
				ring_drop_pending(r, domid);
			}
		}
		hmx_mutex_unlock(&o->lock);
		if (named)
			peer_gone(h, &b, o->domid, domid);
	}
	/*
	 * Signals go out with no HMX lock held (core.h's promise), inside a
	 * read section entered before the admin lock is released: a target
	 * removed meanwhile waits for it before it is freed.
	 */
	slot = hmx_rcu_enter(&h->rcu);
	hmx_mutex_unlock(&h->admin_lock);
	hmx_sigbatch_flush(h, &b);
	hmx_rcu_leave(&h->rcu, slot);
	hmx_rcu_synchronize(&h->rcu);

	for (r = retire; r; r = next) {
		next = r->retire_next;
		hmx_ring_free(r);
	}
	g = atomic_load(&d->grants);
	free(g);
	hmx_domain_tables_free(d);
	free(d->peer_seen);
	free(d->peer_queue);
	free(d->waiting);
	hmx_mutex_destroy(&d->waitq_lock);
	hmx_mutex_destroy(&d->peer_lock);
	hmx_mutex_destroy(&d->lock);
	free(d);
	return 0;
}

void hmx_peer_event_add(struct hmx_domain *d, uint16_t peer)
{
	hmx_mutex_lock(&d->peer_lock);
	if (!d->peer_seen) {
		d->peer_seen = calloc(HMX_NDOMIDS / 8 + 1, 1);
		d->peer_queue = calloc(HMX_NDOMIDS, sizeof(*d->peer_queue));
		if (!d->peer_seen || !d->peer_queue) {
			/* Still signalled; the guest just cannot learn who. */
			free(d->peer_seen);
			free(d->peer_queue);
			d->peer_seen = NULL;
			d->peer_queue = NULL;
			hmx_mutex_unlock(&d->peer_lock);
			return;
		}
	}
	if (!(d->peer_seen[peer / 8] & (1u << (peer % 8)))) {
		d->peer_seen[peer / 8] |= (uint8_t)(1u << (peer % 8));
		d->peer_queue[d->npeer++] = peer;
	}
	hmx_mutex_unlock(&d->peer_lock);
}

int hmx_op_peer_events(struct hmx_host *h, struct hmx_domain *d,
		       struct hmx_peer_events *req, struct hmx_sigbatch *b)
{
	uint32_t max = req->max, n;
	uint16_t *out = NULL;

	(void)h;
	req->count = 0;
	if (max > HMX_NDOMIDS)
		max = HMX_NDOMIDS;
	if (max) {
		if (req->domids_gpa % sizeof(uint16_t))
			return -EINVAL;
		out = hmx_dom_translate(d, req->domids_gpa,
					(uint64_t)max * sizeof(uint16_t));
		if (!out)
			return -EFAULT;
	}
	hmx_mutex_lock(&d->peer_lock);
	n = d->npeer < max ? d->npeer : max;
	for (uint32_t i = 0; i < n; i++) {
		uint16_t p = d->peer_queue[i];

		d->peer_seen[p / 8] &= (uint8_t) ~(1u << (p % 8));
		memcpy(&out[i], &p, sizeof(p));
	}
	if (n) {
		memmove(d->peer_queue, d->peer_queue + n,
			(d->npeer - n) * sizeof(*d->peer_queue));
		d->npeer -= n;
	}
	/* Some left: ask the guest to come back. */
	if (d->npeer)
		hmx_sigbatch_add(b, d->domid, HMX_IRQ_PEER_GONE);
	hmx_mutex_unlock(&d->peer_lock);
	req->count = n;
	return (int)n;
}

int hmx_peer_events(struct hmx_host *h, uint16_t domid,
		    struct hmx_peer_events *req)
{
	struct hmx_sigbatch b;
	struct hmx_domain *d;
	unsigned int slot;
	int ret;

	hmx_sigbatch_init(&b);
	slot = hmx_rcu_enter(&h->rcu);
	d = hmx_domain_get(h, domid);
	if (!d)
		ret = -ESRCH;
	else
		ret = hmx_op_peer_events(h, d, req, &b);
	hmx_sigbatch_flush(h, &b);
	hmx_rcu_leave(&h->rcu, slot);
	return ret;
}

int hmx_domain_set_port_grants(struct hmx_host *h, uint16_t domid,
			       const struct hmx_port_range *ranges, uint32_t n)
{
	struct hmx_grants *g = NULL, *old;
	struct hmx_domain *d;

	if (n > h->lim.max_port_grants)
		return -E2BIG;
	for (uint32_t i = 0; i < n; i++)
		if (ranges[i].first > ranges[i].last ||
		    ranges[i].last == HMX_PORT_ANY)
			return -EINVAL;
	if (n) {
		g = malloc(sizeof(*g) + n * sizeof(g->r[0]));
		if (!g)
			return -ENOMEM;
		g->n = n;
		memcpy(g->r, ranges, n * sizeof(g->r[0]));
	}
	hmx_mutex_lock(&h->admin_lock);
	d = hmx_domain_get(h, domid);
	if (!d) {
		hmx_mutex_unlock(&h->admin_lock);
		free(g);
		return -ESRCH;
	}
	old = atomic_exchange(&d->grants, g);
	hmx_rcu_synchronize(&h->rcu);
	hmx_mutex_unlock(&h->admin_lock);
	free(old);
	return 0;
}
