// SPDX-License-Identifier: GPL-2.0-only
/* The per-host object: limits, domain table, signal batching. */
#include "hmx/internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

void hmx_limits_default(struct hmx_limits *lim)
{
	lim->max_rings_per_domain = 1024;
	lim->max_ring_len = HMX_RING_MAX_LEN;
	lim->max_ring_bytes_per_domain = 256ull << 20;
	lim->max_pending_per_ring = 128;
	lim->max_firewall_rules = 1u << 20;
	lim->max_port_grants = 64;
	lim->audit_capacity = 1024;
}

static bool limits_valid(const struct hmx_limits *l)
{
	return l->max_rings_per_domain >= 1 &&
	       l->max_rings_per_domain <= (1u << 20) &&
	       l->max_ring_len >= HMX_RING_MIN_LEN &&
	       l->max_ring_len <= HMX_RING_MAX_LEN &&
	       l->max_ring_len % HMX_SLOT_SIZE == 0 &&
	       l->max_pending_per_ring >= 1 &&
	       l->max_pending_per_ring <= HMX_NDOMIDS &&
	       l->max_firewall_rules <= (1u << 24) &&
	       l->max_port_grants <= 4096 && l->audit_capacity >= 1 &&
	       l->audit_capacity <= (1u << 24);
}

int hmx_host_create(const struct hmx_limits *limits, struct hmx_host **out)
{
	struct hmx_host *h;

	*out = NULL;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	if (limits)
		h->lim = *limits;
	else
		hmx_limits_default(&h->lim);
	if (!limits_valid(&h->lim)) {
		free(h);
		return -EINVAL;
	}
	if (getrandom(&h->hash_seed, sizeof(h->hash_seed), 0) !=
	    sizeof(h->hash_seed)) {
		free(h);
		return -EIO;
	}
	h->audit.e = calloc(h->lim.audit_capacity, sizeof(*h->audit.e));
	if (!h->audit.e) {
		free(h);
		return -ENOMEM;
	}
	h->audit.cap = h->lim.audit_capacity;
	hmx_mutex_init(&h->admin_lock, HMX_LOCK_ADMIN, "host admin");
	hmx_mutex_init(&h->audit.lock, HMX_LOCK_LEAF, "audit log");
	hmx_rcu_init(&h->rcu);
	atomic_init(&h->fw, NULL);
	for (uint32_t i = 0; i < HMX_NDOMIDS; i++)
		atomic_init(&h->domains[i], NULL);
	*out = h;
	return 0;
}

void hmx_host_destroy(struct hmx_host *h)
{
	if (!h)
		return;
	for (uint32_t i = 0; i < HMX_NDOMIDS; i++)
		if (atomic_load(&h->domains[i]))
			hmx_domain_remove(h, (uint16_t)i);
	hmx_fw_free(atomic_load(&h->fw));
	hmx_mutex_destroy(&h->audit.lock);
	hmx_mutex_destroy(&h->admin_lock);
	free(h->audit.e);
	free(h);
}

static void sigbatch_add(struct hmx_sigbatch *b, struct hmx_domain *d,
			 uint16_t domid, uint32_t bits)
{
	if (b->all) {
		b->all[domid] |= bits;
		return;
	}
	for (uint32_t i = 0; i < b->n; i++) {
		if (b->e[i].domid == domid) {
			b->e[i].bits |= bits;
			return;
		}
	}
	if (b->n < HMX_SIGBATCH_INLINE) {
		b->e[b->n].d = d;
		b->e[b->n].domid = domid;
		b->e[b->n].bits = bits;
		b->n++;
		return;
	}
	/* Many targets (a teardown): switch to a table indexed by domid. */
	b->all = calloc(HMX_NDOMIDS, sizeof(*b->all));
	if (!b->all) {
		/* Never lose a signal: spurious ones are allowed by the ABI. */
		b->lossy = true;
		return;
	}
	for (uint32_t i = 0; i < b->n; i++)
		b->all[b->e[i].domid] |= b->e[i].bits;
	b->all[domid] |= bits;
}

void hmx_sigbatch_add(struct hmx_sigbatch *b, uint16_t domid, uint32_t bits)
{
	sigbatch_add(b, NULL, domid, bits);
}

void hmx_sigbatch_add_slow(struct hmx_sigbatch *b, struct hmx_domain *d,
			   uint32_t bits)
{
	sigbatch_add(b, d, d->domid, bits);
}

static void signal_domain(struct hmx_host *h, uint16_t domid, uint32_t bits)
{
	struct hmx_domain *d = hmx_domain_get(h, domid);

	if (d && bits)
		d->signal(d->signal_opaque, bits);
}

void hmx_sigbatch_flush_slow(struct hmx_host *h, struct hmx_sigbatch *b)
{
	if (b->lossy) {
		for (uint32_t i = 0; i < HMX_NDOMIDS; i++)
			signal_domain(h, (uint16_t)i,
				      HMX_IRQ_DATA | HMX_IRQ_SPACE |
					      HMX_IRQ_PEER_GONE);
		free(b->all);
		b->all = NULL;
		b->lossy = false;
	} else if (b->all) {
		for (uint32_t i = 0; i < HMX_NDOMIDS; i++)
			if (b->all[i])
				signal_domain(h, (uint16_t)i, b->all[i]);
		free(b->all);
		b->all = NULL;
	} else {
		for (uint32_t i = 0; i < b->n; i++) {
			struct hmx_domain *d = b->e[i].d;

			if (!d)
				signal_domain(h, b->e[i].domid, b->e[i].bits);
			else if (!atomic_load_explicit(&d->dead,
						       memory_order_relaxed))
				d->signal(d->signal_opaque, b->e[i].bits);
		}
	}
	b->n = 0;
}
