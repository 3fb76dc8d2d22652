// SPDX-License-Identifier: GPL-2.0-only
/* notify: wake senders waiting on the caller's rings, answer ring queries. */
#include "hmx/internal.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* Wake the senders whose requested space is free now. Ring lock held. */
static void ring_wake_pending(struct hmx_ring_info *r, struct hmx_sigbatch *b)
{
	uint32_t rx, space, j = 0;
	bool sane = hmx_ring_read_rx(r, &rx);

	space = sane ? hmx_ring_free_space(r, rx) : 0;
	for (uint32_t i = 0; i < r->npending; i++) {
		/* A corrupt ring wakes everyone: they get a clean error. */
		if (!sane || r->pending[i].space <= space)
			hmx_sigbatch_add(b, r->pending[i].domid, HMX_IRQ_SPACE);
		else
			r->pending[j++] = r->pending[i];
	}
	hmx_ring_set_npending(r, j);
}

/* Without memory for a snapshot: visit every ring of the domain. */
static void domain_wake_all(struct hmx_domain *d, struct hmx_sigbatch *b)
{
	hmx_mutex_lock(&d->lock);
	for (struct hmx_ring_info *r = d->rings; r; r = r->list_next) {
		if (!atomic_load_explicit(&r->npending_hint,
					  memory_order_relaxed))
			continue;
		hmx_mutex_lock(&r->lock);
		ring_wake_pending(r, b);
		hmx_mutex_unlock(&r->lock);
	}
	hmx_mutex_unlock(&d->lock);
}

/*
 * Visit only the rings with waiting senders: a snapshot of the domain's
 * waiter list, so that the cost does not grow with the number of rings.
 */
static void domain_wake_pending(struct hmx_domain *d, struct hmx_sigbatch *b)
{
	struct hmx_ring_info *stack[64], **list = stack;
	uint32_t n;

	hmx_mutex_lock(&d->waitq_lock);
	n = d->nwaiting;
	if (n > 64) {
		list = malloc(n * sizeof(*list));
		if (!list) {
			hmx_mutex_unlock(&d->waitq_lock);
			domain_wake_all(d, b);
			return;
		}
	}
	if (n)
		memcpy(list, d->waiting, n * sizeof(*list));
	hmx_mutex_unlock(&d->waitq_lock);
	/* Rings unregistered since are still in memory (read section). */
	for (uint32_t i = 0; i < n; i++) {
		hmx_mutex_lock(&list[i]->lock);
		if (!list[i]->dead)
			ring_wake_pending(list[i], b);
		hmx_mutex_unlock(&list[i]->lock);
	}
	if (list != stack)
		free(list);
}

/* Answer one query; the caller's view is filtered by the firewall. */
static void query_one(struct hmx_host *h, struct hmx_domain *c,
		      uint32_t src_aport, struct hmx_ring_data_ent *e)
{
	struct hmx_ring_info *r;
	struct hmx_domain *dst;
	uint32_t rx, max;
	uint16_t flags;

	e->flags = 0;
	e->max_message_size = 0;
	if (!hmx_domid_valid(e->ring.domid) || e->ring.aport == HMX_PORT_ANY)
		return;
	if (!hmx_fw_allow(h, HMX_OP_NOTIFY, c->domid, src_aport, e->ring.domid,
			  e->ring.aport))
		return;
	dst = hmx_domain_get(h, e->ring.domid);
	if (!dst)
		return;
	r = hmx_ring_match(dst, e->ring.aport, c->domid);
	if (!r)
		return;
	hmx_mutex_lock(&r->lock);
	if (r->dead) {
		hmx_mutex_unlock(&r->lock);
		return;
	}
	max = HMX_MAX_PAYLOAD(r->len);
	flags = HMX_RING_EXISTS;
	if (r->partner == HMX_DOMID_ANY)
		flags |= HMX_RING_SHARED;
	if (hmx_ring_read_rx(r, &rx)) {
		if (rx == r->tx)
			flags |= HMX_RING_EMPTY;
		if (e->space_required > max)
			flags |= HMX_RING_EMSGSIZE;
		else if (hmx_ring_free_space(r, rx) >=
			 hmx_msg_space(e->space_required))
			flags |= HMX_RING_SUFFICIENT;
		else
			switch (hmx_ring_wait_space(
				h, r, c->domid,
				hmx_msg_space(e->space_required), &rx)) {
			case 0:
				flags |= HMX_RING_SUFFICIENT;
				break;
			case -EAGAIN:
			case -ECONNRESET: /* the sender's next SENDV says so */
				break;
			default:
				flags |= HMX_RING_EBUSY;
			}
	}
	hmx_mutex_unlock(&r->lock);
	e->flags = flags;
	e->max_message_size = max;
}

int hmx_op_notify(struct hmx_host *h, struct hmx_domain *c,
		  uint64_t ring_data_gpa, struct hmx_sigbatch *b)
{
	struct hmx_ring_data_ent ent[HMX_NOTIFY_MAX_ENTRIES];
	struct hmx_ring_data rd;
	uint8_t *base = NULL;

	if (ring_data_gpa) {
		const void *p;

		if (ring_data_gpa % sizeof(uint32_t))
			return -EINVAL;
		p = hmx_dom_translate(c, ring_data_gpa, sizeof(rd));
		if (!p)
			return -EFAULT;
		memcpy(&rd, p, sizeof(rd)); /* read once */
		if (rd.nent > HMX_NOTIFY_MAX_ENTRIES)
			return -EINVAL;
		if (rd.nent) {
			base = hmx_dom_translate(c, ring_data_gpa + sizeof(rd),
						 rd.nent * sizeof(ent[0]));
			if (!base)
				return -EFAULT;
			memcpy(ent, base, rd.nent * sizeof(ent[0]));
		}
		for (uint32_t i = 0; i < rd.nent; i++)
			if (ent[i].ring.pad || ent[i].pad)
				return -EINVAL;
		/* Policy last: only a well-formed request is judged. */
		if (rd.src_aport != HMX_PORT_ANY &&
		    !hmx_domain_may_send_from(c, rd.src_aport)) {
			hmx_audit_add(h, hmx_fw_current_generation(h),
				      HMX_OP_NOTIFY, HMX_AUDIT_SOURCE, c->domid,
				      rd.src_aport, HMX_DOMID_ANY, HMX_PORT_ANY,
				      -1);
			return -EPERM;
		}
	} else {
		rd.nent = 0;
	}

	domain_wake_pending(c, b);

	for (uint32_t i = 0; i < rd.nent; i++) {
		uint8_t *out = base + i * sizeof(ent[0]);

		query_one(h, c, rd.src_aport, &ent[i]);
		memcpy(out + offsetof(struct hmx_ring_data_ent, flags),
		       &ent[i].flags, sizeof(ent[i].flags));
		memcpy(out + offsetof(struct hmx_ring_data_ent,
				      max_message_size),
		       &ent[i].max_message_size,
		       sizeof(ent[i].max_message_size));
	}
	return 0;
}

int hmx_notify(struct hmx_host *h, uint16_t domid, uint64_t ring_data_gpa)
{
	struct hmx_sigbatch b;
	struct hmx_domain *d;
	unsigned int slot;
	int ret;

	hmx_sigbatch_init(&b);
	slot = hmx_rcu_enter(&h->rcu);
	d = hmx_domain_get(h, domid);
	ret = d ? hmx_op_notify(h, d, ring_data_gpa, &b) : -ESRCH;
	hmx_sigbatch_flush(h, &b);
	hmx_rcu_leave(&h->rcu, slot);
	return ret;
}
