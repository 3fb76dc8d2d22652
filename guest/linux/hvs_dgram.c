// SPDX-License-Identifier: GPL-2.0-only
/*
 * Datagram sockets. A bound socket holds the wildcard ring of its port if
 * policy lets anyone send to that port; otherwise (or as well) it holds a
 * ring at its port for each peer it sent to, which authenticates its port
 * as a source and receives that peer's replies. Datagrams are never
 * answered with RST; a full receive queue drops them, as UDP does.
 */
#include <linux/hash.h>
#include <linux/random.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>

#include "hvs.h"

/* Where a received datagram came from, kept in skb->cb. */
struct hvs_dgram_cb {
	u32 cid;
	u32 port;
};

static struct hlist_head *hvs_dgram_bucket(u32 port)
{
	return &hvs->dgram_hash[hash_32(port, HVS_DGRAM_HASH_BITS)];
}

/* sock_lock held. */
static struct hvs_sock *hvs_dgram_find(u32 port)
{
	struct hvs_sock *hs;

	hlist_for_each_entry(hs, hvs_dgram_bucket(port), dgram_hash)
	{
		if (hs->vsk->local_addr.svm_port == port)
			return hs;
	}
	return NULL;
}

int hvs_dgram_bind(struct vsock_sock *vsk, struct sockaddr_vm *addr)
{
	struct hvs_sock *hs = vsk->trans;
	u32 port = addr->svm_port;
	int ret = 0;

	if (!hs)
		return -ENODEV;
	if (port != VMADDR_PORT_ANY && port <= LAST_RESERVED_PORT &&
	    !capable(CAP_NET_BIND_SERVICE))
		return -EACCES;

	spin_lock_bh(&hvs->sock_lock);
	if (hs->dgram_bound) {
		ret = -EINVAL;
	} else if (port == VMADDR_PORT_ANY) {
		u32 span = VMADDR_PORT_ANY - LAST_RESERVED_PORT - 1;
		u32 start = LAST_RESERVED_PORT + 1 + get_random_u32_below(span);
		u32 i;

		ret = -EADDRNOTAVAIL;
		for (i = 0; i < 64; i++) {
			port = LAST_RESERVED_PORT + 1 +
			       (start - LAST_RESERVED_PORT - 1 + i) % span;
			if (!hvs_dgram_find(port)) {
				ret = 0;
				break;
			}
		}
	} else if (hvs_dgram_find(port)) {
		ret = -EADDRINUSE;
	}
	if (!ret) {
		vsock_addr_init(&vsk->local_addr, addr->svm_cid, port);
		hlist_add_head(&hs->dgram_hash, hvs_dgram_bucket(port));
		hs->dgram_bound = true;
	}
	spin_unlock_bh(&hvs->sock_lock);
	if (ret)
		return ret;
	/* Refused by policy (-EPERM) is fine: then only replies come in. */
	if (hvs_ring_get(port, HMX_DOMID_ANY, &hs->ring))
		hs->ring = NULL;
	return 0;
}

void hvs_dgram_unbind(struct hvs_sock *hs)
{
	spin_lock_bh(&hvs->sock_lock);
	if (hs->dgram_bound)
		hlist_del_init(&hs->dgram_hash);
	hs->dgram_bound = false;
	spin_unlock_bh(&hvs->sock_lock);
}

void hvs_dgram_put_rings(struct hvs_sock *hs)
{
	struct hvs_dgram_ring *dr, *tmp;

	hvs_dgram_unbind(hs);
	list_for_each_entry_safe(dr, tmp, &hs->dgram_rings, link)
	{
		hmx_core_ring_put(dr->ring);
		list_del(&dr->link);
		kfree(dr);
	}
}

/* Our port's ring for peer domid, so we may send from our port. */
static int hvs_dgram_source_ring(struct hvs_sock *hs, u16 domid)
{
	struct hvs_dgram_ring *dr, *tmp;
	int ret;

	if (hs->ring)
		return 0;
	list_for_each_entry_safe(dr, tmp, &hs->dgram_rings, link)
	{
		if (dr->ring->partner != domid)
			continue;
		if (!dr->ring->gone)
			return 0;
		/* The peer died; a new VM may have its domid now. */
		hmx_core_ring_put(dr->ring);
		list_del(&dr->link);
		kfree(dr);
	}
	dr = kmalloc(sizeof(*dr), GFP_KERNEL);
	if (!dr)
		return -ENOMEM;
	ret = hvs_ring_get(hs->vsk->local_addr.svm_port, domid, &dr->ring);
	if (ret) {
		kfree(dr);
		return ret == -ESRCH ? -EHOSTUNREACH : ret;
	}
	list_add_tail(&dr->link, &hs->dgram_rings);
	return 0;
}

int hvs_dgram_enqueue(struct vsock_sock *vsk, struct sockaddr_vm *remote,
		      struct msghdr *msg, size_t len)
{
	struct hmx_vsock_hdr hdr = { .type = HMX_VSOCK_TYPE_DGRAM };
	struct sock *sk = sk_vsock(vsk);
	struct hvs_sock *hs = vsk->trans;
	long timeo;
	u16 domid;
	u32 gen;
	int ret;

	if (len > HMX_VSOCK_MAX_DGRAM)
		return -EMSGSIZE;
	if (!hvs_cid_valid(remote->svm_cid))
		return -EINVAL;
	domid = hvs_cid_to_domid(remote->svm_cid);
	ret = hvs_dgram_source_ring(hs, domid);
	if (ret)
		return ret;
	timeo = sock_sndtimeo(sk, msg->msg_flags & MSG_DONTWAIT);
	for (;;) {
		ret = hvs_sock_send_data(vsk, domid, remote->svm_port,
					 HMX_VSOCK_OP_DGRAM, &hdr, msg, len,
					 &gen);
		if (ret >= 0)
			return len;
		if (ret != -EAGAIN)
			return ret;
		if (!timeo)
			return -EAGAIN;
		/* The receiver's ring is full: wait for HMX_IRQ_SPACE. */
		release_sock(sk);
		timeo = wait_event_interruptible_timeout(
			*sk_sleep(sk), hmx_core_space_gen() != gen, timeo);
		lock_sock(sk);
		if (timeo < 0)
			return sock_intr_errno(timeo);
		if (!timeo)
			return -EAGAIN;
	}
}

int hvs_dgram_dequeue(struct vsock_sock *vsk, struct msghdr *msg, size_t len,
		      int flags)
{
	struct sock *sk = sk_vsock(vsk);
	struct hvs_dgram_cb *cb;
	struct sk_buff *skb;
	size_t payload;
	int err = 0;

	if (flags & (MSG_OOB | MSG_ERRQUEUE))
		return -EOPNOTSUPP;
	skb = skb_recv_datagram(sk, flags, &err);
	if (!skb)
		return err;
	payload = skb->len;
	if (payload > len) {
		payload = len;
		msg->msg_flags |= MSG_TRUNC;
	}
	err = skb_copy_datagram_msg(skb, 0, msg, payload);
	if (!err) {
		if (msg->msg_name) {
			DECLARE_SOCKADDR(struct sockaddr_vm *, vm_addr,
					 msg->msg_name);

			cb = (struct hvs_dgram_cb *)skb->cb;
			vsock_addr_init(vm_addr, cb->cid, cb->port);
			msg->msg_namelen = sizeof(*vm_addr);
		}
		err = (flags & MSG_TRUNC) ? skb->len : payload;
	}
	skb_free_datagram(sk, skb);
	return err;
}

bool hvs_dgram_allow(u32 cid, u32 port)
{
	return hvs_cid_valid(cid);
}

/* Rx worker: a datagram for port ring->aport. */
void hvs_dgram_rx(struct hmx_core_ring *ring, const struct hmx_msg_header *mh,
		  u32 off, u32 len)
{
	struct hvs_dgram_cb *cb;
	struct sk_buff *skb;
	struct hvs_sock *hs;
	struct sock *sk = NULL;

	if (len > HMX_VSOCK_MAX_DGRAM)
		return;
	spin_lock_bh(&hvs->sock_lock);
	hs = hvs_dgram_find(ring->aport);
	if (hs) {
		sk = sk_vsock(hs->vsk);
		sock_hold(sk);
	}
	spin_unlock_bh(&hvs->sock_lock);
	if (!sk)
		return;
	skb = alloc_skb(len, GFP_KERNEL);
	if (skb) {
		hmx_core_ring_copy_out(ring, off, skb_put(skb, len), len);
		cb = (struct hvs_dgram_cb *)skb->cb;
		cb->cid = HMX_VSOCK_DOMID_TO_CID(mh->source.domid);
		cb->port = mh->source.aport;
		/* Never queue to a socket whose queue release purged. */
		lock_sock(sk);
		if (sock_flag(sk, SOCK_DEAD) || sock_queue_rcv_skb(sk, skb))
			kfree_skb(skb);
		release_sock(sk);
	}
	sock_put(sk);
}
