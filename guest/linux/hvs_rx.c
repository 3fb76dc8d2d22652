// SPDX-License-Identifier: GPL-2.0-only
/*
 * What hmx_core's rx worker hands us: each message to its socket by
 * (source address, destination port), as virtio-vsock does with packets.
 * The source address comes from the HMX header, so it is authenticated;
 * the destination port is the aport of the ring the message landed in.
 */
#include <linux/sched/signal.h>

#include "hvs.h"

int hvs_send_rst_to(u32 src_port, u16 dst_domid, u32 dst_port)
{
	struct hmx_vsock_hdr hdr = { .type = HMX_VSOCK_TYPE_STREAM };

	return hvs_hc_send_buf(src_port, dst_domid, dst_port, HMX_VSOCK_OP_RST,
			       &hdr, NULL, 0);
}

/* Answer a message that has no connection with RST, never an RST. */
static void hvs_rx_reject(const struct hmx_core_ring *ring,
			  const struct hmx_msg_header *mh, u32 op)
{
	if (op != HMX_VSOCK_OP_RST)
		hvs_send_rst_to(ring->aport, mh->source.domid,
				mh->source.aport);
}

static void hvs_rx_listen(struct sock *sk, const struct hmx_core_ring *ring,
			  const struct hmx_msg_header *mh, u32 op,
			  const struct hmx_vsock_hdr *vh)
{
	struct vsock_sock *vchild;
	struct hvs_sock *hs;
	struct sock *child;
	int ret;

	if (op != HMX_VSOCK_OP_REQUEST || sk_acceptq_is_full(sk) ||
	    sk->sk_shutdown == SHUTDOWN_MASK)
		goto reject;
	child = vsock_create_connected(sk);
	if (!child)
		goto reject;
	lock_sock_nested(child, SINGLE_DEPTH_NESTING);
	child->sk_state = TCP_ESTABLISHED;
	vchild = vsock_sk(child);
	vsock_addr_init(&vchild->local_addr,
			HMX_VSOCK_DOMID_TO_CID(hmx_core_domid()), ring->aport);
	vsock_addr_init(&vchild->remote_addr,
			HMX_VSOCK_DOMID_TO_CID(mh->source.domid),
			mh->source.aport);
	ret = vsock_assign_transport(vchild, vsock_sk(sk));
	if (ret || vchild->transport != &hvs_transport)
		goto drop_child;
	hs = vchild->trans;
	/* The connection's own ring: (port, peer), isolated from others. */
	if (hvs_ring_get(ring->aport, mh->source.domid, &hs->ring))
		goto drop_child;
	hs->peer_buf_alloc = vh->buf_alloc;
	hs->peer_fwd_cnt = vh->fwd_cnt;
	if (hvs_stream_alloc_rx(hs))
		goto drop_child;
	/* Queued (ring full) counts as sent: data waits behind it. */
	if (hvs_sock_send_ctl(vchild, HMX_VSOCK_OP_RESPONSE, 0) < 0) {
		/* Policy refuses our answer; the requester times out. */
		child->sk_state = TCP_CLOSE;
		release_sock(child);
		sock_put(child);
		return;
	}
	sk_acceptq_added(sk);
	vsock_insert_connected(vchild);
	vsock_enqueue_accept(sk, child);
	release_sock(child);
	sk->sk_data_ready(sk);
	return;

drop_child:
	child->sk_state = TCP_CLOSE;
	release_sock(child);
	sock_put(child);
reject:
	hvs_rx_reject(ring, mh, op);
}

static void hvs_rx_connecting(struct sock *sk, const struct hmx_core_ring *ring,
			      const struct hmx_msg_header *mh, u32 op)
{
	struct vsock_sock *vsk = vsock_sk(sk);
	struct hvs_sock *hs = vsk->trans;
	int err;

	switch (op) {
	case HMX_VSOCK_OP_RESPONSE:
		if (hvs_stream_alloc_rx(hs)) {
			err = ENOMEM;
			break;
		}
		sk->sk_state = TCP_ESTABLISHED;
		sk->sk_socket->state = SS_CONNECTED;
		vsock_insert_connected(vsk);
		sk->sk_state_change(sk);
		return;
	case HMX_VSOCK_OP_RST:
		/* Nobody listens there (or the listener gave up on us). */
		sk->sk_state = TCP_CLOSE;
		sk->sk_err = ECONNREFUSED;
		sk_error_report(sk);
		return;
	default:
		err = EPROTO;
		break;
	}
	hvs_rx_reject(ring, mh, op);
	sk->sk_state = TCP_CLOSE;
	sk->sk_err = err;
	sk_error_report(sk);
}

static void hvs_rx_connected(struct sock *sk, struct hmx_core_ring *ring,
			     const struct hmx_msg_header *mh, u32 op,
			     const struct hmx_vsock_hdr *vh, u32 off, u32 len)
{
	struct vsock_sock *vsk = vsock_sk(sk);

	switch (op) {
	case HMX_VSOCK_OP_RW:
		if (len) {
			hvs_stream_rx_copy(vsk, ring, off, len);
			vsock_data_ready(sk);
		}
		return;
	case HMX_VSOCK_OP_CREDIT_UPDATE:
		return; /* the caller applied the credit */
	case HMX_VSOCK_OP_SHUTDOWN:
		if (vh->flags & HMX_VSOCK_SHUTDOWN_RCV)
			vsk->peer_shutdown |= RCV_SHUTDOWN;
		if (vh->flags & HMX_VSOCK_SHUTDOWN_SEND)
			vsk->peer_shutdown |= SEND_SHUTDOWN;
		if (vsk->peer_shutdown == SHUTDOWN_MASK) {
			/*
			 * The peer closed and forgot the connection: what we
			 * hold stays readable, then EOF. Unlist it so the
			 * 4-tuple can be used again.
			 */
			sock_set_flag(sk, SOCK_DONE);
			if (vsock_stream_has_data(vsk) <= 0)
				sk->sk_state = TCP_CLOSING;
			vsock_remove_sock(vsk);
		}
		sk->sk_state_change(sk);
		return;
	case HMX_VSOCK_OP_RST:
		hvs_sock_reset(sk, ECONNRESET);
		return;
	default:
		hvs_rx_reject(ring, mh, op);
		hvs_sock_reset(sk, EPROTO);
		return;
	}
}

void hvs_rx_msg(struct hmx_core_ring *ring, const struct hmx_msg_header *mh,
		u32 off)
{
	u32 len = mh->len - sizeof(*mh);
	struct sockaddr_vm src, dst;
	struct hmx_vsock_hdr vh;
	struct vsock_sock *vsk;
	struct sock *sk;
	u32 op;

	/* Not ours, or too short to be: nothing to answer. */
	if ((mh->message_type & HMX_VSOCK_TAG_MASK) != HMX_VSOCK_TAG ||
	    len < sizeof(vh))
		return;
	op = HMX_VSOCK_MSG_OP(mh->message_type);
	hmx_core_ring_copy_out(ring, off, &vh, sizeof(vh));
	off = (off + sizeof(vh)) % ring->len;
	len -= sizeof(vh);

	if (op == HMX_VSOCK_OP_DGRAM) {
		if (vh.type == HMX_VSOCK_TYPE_DGRAM)
			hvs_dgram_rx(ring, mh, off, len);
		return;
	}
	if (vh.type != HMX_VSOCK_TYPE_STREAM) {
		hvs_rx_reject(ring, mh, op);
		return;
	}

	vsock_addr_init(&src, HMX_VSOCK_DOMID_TO_CID(mh->source.domid),
			mh->source.aport);
	vsock_addr_init(&dst, HMX_VSOCK_DOMID_TO_CID(hmx_core_domid()),
			ring->aport);
	sk = vsock_find_connected_socket(&src, &dst);
	if (!sk) {
		sk = vsock_find_bound_socket(&dst);
		if (!sk) {
			hvs_rx_reject(ring, mh, op);
			return;
		}
	}
	vsk = vsock_sk(sk);
	lock_sock(sk);
	if (sk->sk_type != SOCK_STREAM || sock_flag(sk, SOCK_DONE) ||
	    (sk->sk_state != TCP_LISTEN &&
	     !vsock_check_source(vsk, &hvs_transport, &src))) {
		hvs_rx_reject(ring, mh, op);
		goto out;
	}
	if (sk->sk_state != TCP_LISTEN) {
		struct hvs_sock *hs = vsk->trans;

		hs->peer_buf_alloc = vh.buf_alloc;
		hs->peer_fwd_cnt = vh.fwd_cnt;
		if (vsock_stream_has_space(vsk) > 0)
			sk->sk_write_space(sk);
	}
	switch (sk->sk_state) {
	case TCP_LISTEN:
		hvs_rx_listen(sk, ring, mh, op, &vh);
		break;
	case TCP_SYN_SENT:
		hvs_rx_connecting(sk, ring, mh, op);
		break;
	case TCP_ESTABLISHED:
		hvs_rx_connected(sk, ring, mh, op, &vh, off, len);
		break;
	case TCP_CLOSING:
		if (op == HMX_VSOCK_OP_RST)
			hvs_sock_reset(sk, ECONNRESET);
		break;
	default:
		hvs_rx_reject(ring, mh, op);
		break;
	}
out:
	release_sock(sk);
	sock_put(sk);
}

/* HMX_IRQ_SPACE: control messages first, data queues behind them. */
void hvs_rx_space(void)
{
	hvs_flush_ctl();
	hvs_wake_space_waiters();
}

void hvs_rx_pass_done(u32 bits)
{
	/*
	 * HMX drops the wake-ups promised on a dead domain's rings: let the
	 * sockets reset by peer_gone leave the waiting lists now.
	 */
	if (bits & HMX_IRQ_PEER_GONE)
		hvs_rx_space();
	/*
	 * A wake-up can also be lost with a ring its owner unregistered
	 * while we raced to wait on it: retry waiters once a second.
	 */
	spin_lock_bh(&hvs->ctl_lock);
	if (!list_empty(&hvs->ctl_socks) || !list_empty(&hvs->space_waiters))
		queue_delayed_work(hmx_core_wq(), &hvs->retry_work, HZ);
	spin_unlock_bh(&hvs->ctl_lock);
}
