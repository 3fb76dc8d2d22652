// SPDX-License-Identifier: GPL-2.0-only
/* The device entry point: one hypercall block, read once, written back. */
#include "hmx/internal.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

static int dispatch(struct hmx_host *h, struct hmx_domain *d,
		    struct hmx_call *c, uint8_t *blk, struct hmx_sigbatch *b,
		    struct hmx_ring_info **retire)
{
	int ret;

	switch (c->op) {
	case HMX_OP_REGISTER_RING:
		return hmx_op_register_ring(h, d, &c->u.register_ring);
	case HMX_OP_UNREGISTER_RING:
		*retire = hmx_op_unregister_ring(h, d, &c->u.unregister_ring, b,
						 &ret);
		return ret;
	case HMX_OP_SENDV:
		return hmx_op_sendv(h, d, &c->u.sendv, b);
	case HMX_OP_NOTIFY:
		return hmx_op_notify(h, d, c->u.notify.ring_data_gpa, b);
	case HMX_OP_PEER_EVENTS:
		ret = hmx_op_peer_events(h, d, &c->u.peer_events, b);
		memcpy(blk + offsetof(struct hmx_call, u.peer_events.count),
		       &c->u.peer_events.count, sizeof(uint32_t));
		return ret;
	default:
		return -ENOSYS;
	}
}

int hmx_call(struct hmx_host *h, uint16_t domid, uint64_t call_gpa)
{
	struct hmx_ring_info *retire = NULL;
	struct hmx_sigbatch b;
	struct hmx_domain *d;
	struct hmx_call c;
	unsigned int slot;
	uint8_t *blk;
	int ret;

	if (call_gpa % 16 ||
	    call_gpa % HMX_PAGE_SIZE + sizeof(c) > HMX_PAGE_SIZE)
		return -EINVAL;
	hmx_sigbatch_init(&b);
	slot = hmx_rcu_enter(&h->rcu);
	d = hmx_domain_get(h, domid);
	if (!d) {
		ret = -ESRCH;
		goto out;
	}
	blk = hmx_dom_translate(d, call_gpa, sizeof(c));
	if (!blk) {
		ret = -EFAULT;
		goto out;
	}
	memcpy(&c, blk, sizeof(c)); /* the only read of the block */
	ret = dispatch(h, d, &c, blk, &b, &retire);
	__atomic_store_n((int32_t *)(blk + offsetof(struct hmx_call, result)),
			 ret, __ATOMIC_RELEASE);
	hmx_sigbatch_flush(h, &b);
out:
	hmx_rcu_leave(&h->rcu, slot);
	if (retire) {
		hmx_rcu_synchronize(&h->rcu);
		hmx_ring_free(retire);
	}
	return ret;
}
