// SPDX-License-Identifier: GPL-2.0-only
/*
 * Stream sockets: connection set-up, credit flow control, data, shutdown,
 * reset, and the vsock_transport the core calls. Every function the core
 * calls here runs with lock_sock held unless noted.
 */
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/uio.h>

#include "hvs.h"

/* The largest receive buffer a socket may ask for (SO_VM_SOCKETS_BUFFER_*). */
#define HVS_MAX_BUF (16u << 20)
/* A refused request is retried this often (10, 20, 40, 80 ms) ... */
#define HVS_CONNECT_TRIES 4
/* ... because a listener's ring appears up to one scan after listen(). */
#define HVS_CONNECT_RETRY_MS 10
/* -EBUSY promises no wake-up: poll again after this long. */
#define HVS_BUSY_RETRY_MS 10

bool hvs_cid_valid(u32 cid)
{
	return cid == HMX_VSOCK_CID_HOST ||
	       (cid >= HMX_DOMID_FIRST_GUEST && cid <= HMX_DOMID_LAST_GUEST);
}

u16 hvs_cid_to_domid(u32 cid)
{
	return (u16)HMX_VSOCK_CID_TO_DOMID(cid);
}

static u16 hvs_peer_domid(const struct vsock_sock *vsk)
{
	return hvs_cid_to_domid(vsk->remote_addr.svm_cid);
}

/* HMX errors of a connection request, as connect(2) reports them. */
static int hvs_connect_errno(int ret)
{
	switch (ret) {
	case -EPERM: /* the firewall refuses this flow */
	case -ECONNREFUSED:
	case -ENOMEM:
		return ret;
	case -ESRCH: /* no such VM */
		return -EHOSTUNREACH;
	case -ENOSPC: /* our ring limits */
		return -ENOBUFS;
	default:
		return -EIO;
	}
}

void hvs_fill_hdr(struct vsock_sock *vsk, struct hmx_vsock_hdr *hdr, u32 flags)
{
	struct hvs_sock *hs = vsk->trans;

	hdr->type = HMX_VSOCK_TYPE_STREAM;
	hdr->reserved = 0;
	hdr->flags = flags;
	hdr->buf_alloc = hs->buf_alloc;
	hdr->fwd_cnt = hs->fwd_cnt;
	hs->last_fwd_cnt = hs->fwd_cnt;
}

static int hvs_ctl_send_now(struct vsock_sock *vsk, u32 op, u32 flags)
{
	struct hmx_vsock_hdr hdr;

	hvs_fill_hdr(vsk, &hdr, flags);
	return hvs_hc_send_buf(vsk->local_addr.svm_port, hvs_peer_domid(vsk),
			       vsk->remote_addr.svm_port, op, &hdr, NULL, 0);
}

static void hvs_schedule_busy_retry(void)
{
	mod_delayed_work(hmx_core_wq(), &hvs->retry_work,
			 msecs_to_jiffies(HVS_BUSY_RETRY_MS));
}

static void hvs_ctl_queue(struct vsock_sock *vsk, u32 op, u32 flags)
{
	struct hvs_sock *hs = vsk->trans;

	if (op == HMX_VSOCK_OP_RST)
		hs->ctl_pending = BIT(op); /* nothing else matters now */
	else
		hs->ctl_pending |= BIT(op);
	if (op == HMX_VSOCK_OP_SHUTDOWN)
		hs->ctl_shutdown |= flags;
	spin_lock_bh(&hvs->ctl_lock);
	if (list_empty(&hs->ctl_link)) {
		sock_hold(sk_vsock(vsk));
		list_add_tail(&hs->ctl_link, &hvs->ctl_socks);
	}
	spin_unlock_bh(&hvs->ctl_lock);
}

/*
 * Send a control message, or queue it behind earlier ones if the peer's
 * ring is full (it goes out, in order, when space is signalled). Returns 0
 * when sent or queued, else the HMX error.
 */
int hvs_sock_send_ctl(struct vsock_sock *vsk, u32 op, u32 flags)
{
	struct hvs_sock *hs = vsk->trans;
	int ret;

	if (!hs || !hs->ring)
		return -ENOTCONN;
	/* The peer is dead: nothing to tell it, and no refusals to audit. */
	if (READ_ONCE(hs->ring->gone))
		return -ECONNRESET;
	if (hs->ctl_pending) {
		hvs_ctl_queue(vsk, op, flags);
		return 0;
	}
	ret = hvs_ctl_send_now(vsk, op, flags);
	if (ret == -EAGAIN || ret == -EBUSY) {
		hvs_ctl_queue(vsk, op, flags);
		if (ret == -EBUSY)
			hvs_schedule_busy_retry();
		return 0;
	}
	return ret < 0 ? ret : 0;
}

/* Send what is pending, in protocol order. True if something still is. */
static bool hvs_ctl_flush_one(struct vsock_sock *vsk)
{
	static const u32 order[] = {
		HMX_VSOCK_OP_REQUEST,	    HMX_VSOCK_OP_RESPONSE,
		HMX_VSOCK_OP_CREDIT_UPDATE, HMX_VSOCK_OP_SHUTDOWN,
		HMX_VSOCK_OP_RST,
	};
	struct hvs_sock *hs = vsk->trans;
	struct sock *sk = sk_vsock(vsk);
	unsigned int i;
	int ret;

	for (i = 0; i < ARRAY_SIZE(order); i++) {
		u32 op = order[i];

		if (!(hs->ctl_pending & BIT(op)))
			continue;
		ret = hvs_ctl_send_now(
			vsk, op,
			op == HMX_VSOCK_OP_SHUTDOWN ? hs->ctl_shutdown : 0);
		if (ret == -EAGAIN || ret == -EBUSY) {
			if (ret == -EBUSY)
				hvs_schedule_busy_retry();
			return true;
		}
		hs->ctl_pending &= ~BIT(op);
		if (ret < 0 && op == HMX_VSOCK_OP_REQUEST &&
		    sk->sk_state == TCP_SYN_SENT) {
			sk->sk_state = TCP_CLOSE;
			sk->sk_err = -hvs_connect_errno(ret);
			sk_error_report(sk);
		} else if (ret < 0 && op != HMX_VSOCK_OP_RST &&
			   sk->sk_state == TCP_ESTABLISHED) {
			hvs_sock_reset(sk, ECONNRESET);
		}
	}
	return false;
}

/* Rx worker, after HMX_IRQ_SPACE: retry queued control messages. */
void hvs_flush_ctl(void)
{
	struct hvs_sock *hs;
	LIST_HEAD(list);

	spin_lock_bh(&hvs->ctl_lock);
	list_splice_init(&hvs->ctl_socks, &list);
	spin_unlock_bh(&hvs->ctl_lock);

	for (;;) {
		struct sock *sk;
		bool again;

		spin_lock_bh(&hvs->ctl_lock);
		hs = list_first_entry_or_null(&list, struct hvs_sock, ctl_link);
		if (hs)
			list_del_init(&hs->ctl_link);
		spin_unlock_bh(&hvs->ctl_lock);
		if (!hs)
			break;
		sk = sk_vsock(hs->vsk);
		lock_sock(sk);
		again = hs->ctl_pending && hvs_ctl_flush_one(hs->vsk);
		if (again) {
			spin_lock_bh(&hvs->ctl_lock);
			if (list_empty(&hs->ctl_link)) {
				list_add_tail(&hs->ctl_link, &hvs->ctl_socks);
				sk = NULL; /* the list keeps our reference */
			}
			spin_unlock_bh(&hvs->ctl_lock);
		} else {
			/* Data may flow again. */
			sk->sk_write_space(sk);
		}
		release_sock(sk_vsock(hs->vsk));
		if (sk)
			sock_put(sk);
	}
}

static void hvs_space_wait(struct vsock_sock *vsk)
{
	struct hvs_sock *hs = vsk->trans;

	spin_lock_bh(&hvs->ctl_lock);
	if (list_empty(&hs->wait_link)) {
		sock_hold(sk_vsock(vsk));
		list_add_tail(&hs->wait_link, &hvs->space_waiters);
	}
	spin_unlock_bh(&hvs->ctl_lock);
}

/* Rx worker, after HMX_IRQ_SPACE: every blocked writer retries. */
void hvs_wake_space_waiters(void)
{
	struct hvs_sock *hs;
	LIST_HEAD(list);

	spin_lock_bh(&hvs->ctl_lock);
	list_splice_init(&hvs->space_waiters, &list);
	spin_unlock_bh(&hvs->ctl_lock);
	for (;;) {
		struct sock *sk;

		spin_lock_bh(&hvs->ctl_lock);
		hs = list_first_entry_or_null(&list, struct hvs_sock,
					      wait_link);
		if (hs)
			list_del_init(&hs->wait_link);
		spin_unlock_bh(&hvs->ctl_lock);
		if (!hs)
			break;
		sk = sk_vsock(hs->vsk);
		sk->sk_write_space(sk);
		sock_put(sk);
	}
}

/*
 * The connection is gone (RST, peer VM died, our send refused): what was
 * received stays readable, then reads and writes fail with err. Never
 * undoes an orderly close the peer already completed.
 */
void hvs_sock_reset(struct sock *sk, int err)
{
	struct vsock_sock *vsk = vsock_sk(sk);
	struct hvs_sock *hs = vsk->trans;

	if (hs)
		hs->ctl_pending = 0;
	if (sk->sk_state == TCP_SYN_SENT) {
		sk->sk_state = TCP_CLOSE;
		sk->sk_err = err;
		sk_error_report(sk);
		return;
	}
	if (vsk->peer_shutdown == SHUTDOWN_MASK && sock_flag(sk, SOCK_DONE))
		return;
	vsk->peer_shutdown = SHUTDOWN_MASK;
	sock_set_flag(sk, SOCK_DONE);
	sk->sk_err = err;
	vsock_remove_sock(vsk);
	sk_error_report(sk);
	sk->sk_state_change(sk);
}

/* Rx worker: domain domid went away; reset every connection with it. */
void hvs_peer_gone(u16 domid)
{
	u32 cid = HMX_VSOCK_DOMID_TO_CID(domid);
	struct sock **socks = NULL;
	unsigned int n = 0, cap = 0, i;
	struct hvs_sock *hs;

	for (;;) {
		spin_lock_bh(&hvs->sock_lock);
		n = 0;
		list_for_each_entry(hs, &hvs->socks, link)
		{
			if (hs->vsk->remote_addr.svm_cid != cid)
				continue;
			if (n < cap) {
				socks[n] = sk_vsock(hs->vsk);
				sock_hold(socks[n]);
			}
			n++;
		}
		spin_unlock_bh(&hvs->sock_lock);
		if (n <= cap)
			break;
		for (i = 0; i < cap; i++)
			sock_put(socks[i]);
		kfree(socks);
		cap = n + 16;
		socks = kmalloc_array(cap, sizeof(*socks), GFP_KERNEL);
		if (!socks)
			return;
	}
	for (i = 0; i < n; i++) {
		struct sock *sk = socks[i];

		lock_sock(sk);
		if (sk->sk_type == SOCK_STREAM &&
		    (sk->sk_state == TCP_SYN_SENT ||
		     sk->sk_state == TCP_ESTABLISHED))
			hvs_sock_reset(sk, ECONNRESET);
		release_sock(sk);
		sock_put(sk);
	}
	kfree(socks);
}

static void hvs_tx_free(struct hvs_sock *hs)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(hs->tx_pages); i++) {
		if (hs->tx_pages[i])
			__free_pages(hs->tx_pages[i], get_order(hs->tx_chunk));
		hs->tx_pages[i] = NULL;
	}
	hs->tx_chunk = 0;
}

/*
 * Bounce pages the hypervisor copies from: a few 16 KiB chunks, so one
 * message of HMX_VSOCK_MAX_DATA fits the iov limit; single pages if memory
 * is fragmented.
 */
static int hvs_tx_alloc(struct hvs_sock *hs)
{
	static const unsigned int orders[] = { 2, 0 };
	unsigned int o, i, n;

	if (hs->tx_chunk)
		return 0;
	for (o = 0; o < ARRAY_SIZE(orders); o++) {
		u32 chunk = PAGE_SIZE << orders[o];

		n = min_t(unsigned int, ARRAY_SIZE(hs->tx_pages),
			  DIV_ROUND_UP(HMX_VSOCK_MAX_DATA, chunk));
		hs->tx_chunk = chunk;
		for (i = 0; i < n; i++) {
			hs->tx_pages[i] = alloc_pages(GFP_KERNEL | __GFP_NOWARN,
						      orders[o]);
			if (!hs->tx_pages[i])
				break;
		}
		if (i == n)
			return 0;
		hvs_tx_free(hs);
	}
	return -ENOMEM;
}

/* Bytes one message can carry from the bounce pages. */
static u32 hvs_tx_capacity(const struct hvs_sock *hs, u32 max)
{
	unsigned int i;
	u32 cap = 0;

	for (i = 0; i < ARRAY_SIZE(hs->tx_pages) && hs->tx_pages[i]; i++)
		cap += hs->tx_chunk;
	return min(cap, max);
}

/* Copy len bytes of the iterator into the bounce pages. */
static int hvs_tx_fill(struct hvs_sock *hs, struct iov_iter *from, u32 len)
{
	unsigned int i;
	u32 done = 0;

	for (i = 0; done < len; i++) {
		u32 n = min(hs->tx_chunk, len - done);
		size_t got =
			copy_from_iter(page_address(hs->tx_pages[i]), n, from);

		done += got;
		if (got != n) {
			iov_iter_revert(from, done);
			return -EFAULT;
		}
	}
	return 0;
}

static int hvs_tx_send(struct vsock_sock *vsk, struct hvs_sock *hs, u16 domid,
		       u32 dst_port, u32 op, const struct hmx_vsock_hdr *hdr,
		       u32 len)
{
	return hvs_hc_send(vsk->local_addr.svm_port, domid, dst_port, op, hdr,
			   hs->tx_pages, hs->tx_chunk, len);
}

/* Shared with datagrams: send len bytes of msg, -EAGAIN if no room. */
int hvs_sock_send_data(struct vsock_sock *vsk, u16 domid, u32 dst_port, u32 op,
		       const struct hmx_vsock_hdr *hdr, struct msghdr *msg,
		       u32 len, u32 *gen)
{
	struct hvs_sock *hs = vsk->trans;
	int ret;

	ret = hvs_tx_alloc(hs);
	if (ret)
		return ret;
	ret = hvs_tx_fill(hs, &msg->msg_iter, len);
	if (ret)
		return ret;
	*gen = hmx_core_space_gen();
	ret = hvs_tx_send(vsk, hs, domid, dst_port, op, hdr, len);
	if (ret < 0) {
		iov_iter_revert(&msg->msg_iter, len);
		if (ret == -EAGAIN || ret == -EBUSY) {
			hvs_space_wait(vsk);
			if (ret == -EBUSY)
				hvs_schedule_busy_retry();
			ret = -EAGAIN;
		}
	}
	return ret;
}

static s64 hvs_credit(const struct hvs_sock *hs)
{
	s64 bytes =
		(s64)hs->peer_buf_alloc - (u32)(hs->tx_cnt - hs->peer_fwd_cnt);

	return bytes > 0 ? bytes : 0;
}

static ssize_t hvs_stream_enqueue(struct vsock_sock *vsk, struct msghdr *msg,
				  size_t len)
{
	struct sock *sk = sk_vsock(vsk);
	struct hvs_sock *hs = vsk->trans;
	struct hmx_vsock_hdr hdr;
	u32 n, gen;
	int ret;

	if (hvs_tx_alloc(hs))
		return -ENOMEM;
	n = (u32)min_t(u64, len, hvs_credit(hs));
	n = hvs_tx_capacity(hs, min(n, HMX_VSOCK_MAX_DATA));
	if (!n)
		return 0;
	hvs_fill_hdr(vsk, &hdr, 0);
	ret = hvs_sock_send_data(vsk, hvs_peer_domid(vsk),
				 vsk->remote_addr.svm_port, HMX_VSOCK_OP_RW,
				 &hdr, msg, n, &gen);
	if (ret >= 0) {
		hs->tx_cnt += n;
		/* The message carried our credit. */
		hs->ctl_pending &= ~BIT(HMX_VSOCK_OP_CREDIT_UPDATE);
		return n;
	}
	if (ret == -EAGAIN) {
		/* has_space reads 0 until HMX_IRQ_SPACE bumps space_gen. */
		hs->tx_blocked = true;
		hs->tx_gen = gen;
		return 0;
	}
	if (ret == -EFAULT || ret == -ENOMEM)
		return ret;
	hvs_sock_reset(sk, ret == -EPERM ? EPERM : ECONNRESET);
	return 0;
}

static s64 hvs_stream_has_space(struct vsock_sock *vsk)
{
	struct hvs_sock *hs = vsk->trans;

	if (!hs || sock_flag(sk_vsock(vsk), SOCK_DONE))
		return 0;
	if (hs->ctl_pending & ~BIT(HMX_VSOCK_OP_CREDIT_UPDATE))
		return 0;
	if (hs->tx_blocked) {
		if (hs->tx_gen == hmx_core_space_gen())
			return 0;
		hs->tx_blocked = false;
	}
	return hvs_credit(hs);
}

static s64 hvs_stream_has_data(struct vsock_sock *vsk)
{
	struct hvs_sock *hs = vsk->trans;

	return hs ? hs->rx_used : 0;
}

int hvs_stream_alloc_rx(struct hvs_sock *hs)
{
	if (hs->rx_buf)
		return 0;
	hs->rx_buf = kvmalloc(hs->buf_alloc, GFP_KERNEL);
	if (!hs->rx_buf)
		return -ENOMEM;
	hs->rx_size = hs->buf_alloc;
	hs->rx_head = 0;
	hs->rx_used = 0;
	return 0;
}

/* Rx worker, lock_sock held: append len bytes at ring offset off. */
void hvs_stream_rx_copy(struct vsock_sock *vsk, struct hmx_core_ring *ring,
			u32 off, u32 len)
{
	struct hvs_sock *hs = vsk->trans;
	u32 tail, first;

	if (!hs->rx_buf || len > hs->rx_size - hs->rx_used) {
		/* The peer sent beyond the credit we gave it. */
		hvs_sock_send_ctl(vsk, HMX_VSOCK_OP_RST, 0);
		hvs_sock_reset(sk_vsock(vsk), ENOBUFS);
		return;
	}
	tail = (hs->rx_head + hs->rx_used) % hs->rx_size;
	first = min(len, hs->rx_size - tail);
	hmx_core_ring_copy_out(ring, off, hs->rx_buf + tail, first);
	if (len > first)
		hmx_core_ring_copy_out(ring, (off + first) % ring->len,
				       hs->rx_buf, len - first);
	hs->rx_used += len;
}

static ssize_t hvs_stream_dequeue(struct vsock_sock *vsk, struct msghdr *msg,
				  size_t len, int flags)
{
	struct hvs_sock *hs = vsk->trans;
	u32 n = (u32)min_t(size_t, len, hs->rx_used);
	u32 first, done;

	if (!n)
		return 0;
	first = min(n, hs->rx_size - hs->rx_head);
	done = copy_to_iter(hs->rx_buf + hs->rx_head, first, &msg->msg_iter);
	if (done == first && n > first)
		done += copy_to_iter(hs->rx_buf, n - first, &msg->msg_iter);
	if (!done)
		return -EFAULT;
	if (flags & MSG_PEEK)
		return done;
	hs->rx_head = (hs->rx_head + done) % hs->rx_size;
	hs->rx_used -= done;
	hs->fwd_cnt += done;
	/*
	 * Tell the peer about freed space in halves, not per read: each
	 * update is a message, an interrupt and an exit or two on both sides.
	 */
	if (!sock_flag(sk_vsock(vsk), SOCK_DONE) &&
	    hs->fwd_cnt - hs->last_fwd_cnt >=
		    max(hs->buf_alloc / max(hvs_credit_div, 1u), 1u))
		hvs_sock_send_ctl(vsk, HMX_VSOCK_OP_CREDIT_UPDATE, 0);
	return done;
}

static u64 hvs_stream_rcvhiwat(struct vsock_sock *vsk)
{
	struct hvs_sock *hs = vsk->trans;

	return hs ? hs->buf_alloc : vsk->buffer_size;
}

static bool hvs_stream_is_active(struct vsock_sock *vsk)
{
	return true;
}

static bool hvs_stream_allow(u32 cid, u32 port)
{
	return hvs_cid_valid(cid);
}

static void hvs_notify_buffer_size(struct vsock_sock *vsk, u64 *val)
{
	struct sock *sk = sk_vsock(vsk);
	struct hvs_sock *hs = vsk->trans;

	if (*val > HVS_MAX_BUF)
		*val = HVS_MAX_BUF;
	if (hs->rx_buf && *val > hs->rx_size) {
		u8 *buf = kvmalloc(*val, GFP_KERNEL);
		u32 first;

		if (!buf) {
			*val = hs->buf_alloc;
			return;
		}
		/* Unwrap the unread bytes to the start of the new buffer. */
		first = min(hs->rx_used, hs->rx_size - hs->rx_head);
		memcpy(buf, hs->rx_buf + hs->rx_head, first);
		memcpy(buf + first, hs->rx_buf, hs->rx_used - first);
		kvfree(hs->rx_buf);
		hs->rx_buf = buf;
		hs->rx_size = *val;
		hs->rx_head = 0;
	}
	hs->buf_alloc = *val;
	if (sk->sk_state == TCP_ESTABLISHED && !sock_flag(sk, SOCK_DONE))
		hvs_sock_send_ctl(vsk, HMX_VSOCK_OP_CREDIT_UPDATE, 0);
}

static int hvs_send_request(struct vsock_sock *vsk)
{
	struct hvs_sock *hs = vsk->trans;
	int ret;

	ret = hvs_sock_send_ctl(vsk, HMX_VSOCK_OP_REQUEST, 0);
	if (!ret) {
		hs->request_sent = true;
		return 0;
	}
	if (ret == -ECONNREFUSED && hs->connect_tries < HVS_CONNECT_TRIES) {
		unsigned int ms = HVS_CONNECT_RETRY_MS << hs->connect_tries++;

		sock_hold(sk_vsock(vsk));
		if (!queue_delayed_work(hmx_core_wq(), &hs->connect_work,
					msecs_to_jiffies(ms)))
			sock_put(sk_vsock(vsk));
		return 0;
	}
	return hvs_connect_errno(ret);
}

static void hvs_connect_work(struct work_struct *work)
{
	struct hvs_sock *hs = container_of(to_delayed_work(work),
					   struct hvs_sock, connect_work);
	struct vsock_sock *vsk = hs->vsk;
	struct sock *sk = sk_vsock(vsk);
	int ret;

	lock_sock(sk);
	if (sk->sk_state == TCP_SYN_SENT && !hs->request_sent &&
	    !sock_flag(sk, SOCK_DONE)) {
		ret = hvs_send_request(vsk);
		if (ret) {
			sk->sk_state = TCP_CLOSE;
			sk->sk_err = -ret;
			sk_error_report(sk);
		}
	}
	release_sock(sk);
	sock_put(sk);
}

static int hvs_connect(struct vsock_sock *vsk)
{
	struct sock *sk = sk_vsock(vsk);
	struct hvs_sock *hs = vsk->trans;
	u16 domid = hvs_peer_domid(vsk);
	u32 port = vsk->local_addr.svm_port;
	int ret;

	if (hs->ring && (hs->ring->aport != port ||
			 hs->ring->partner != domid || hs->ring->gone)) {
		hmx_core_ring_put(hs->ring);
		hs->ring = NULL;
	}
	if (!hs->ring) {
		/* Our port's ring for this peer: it authenticates the port. */
		ret = hvs_ring_get(port, domid, &hs->ring);
		if (ret) {
			sk->sk_state = TCP_CLOSE;
			return hvs_connect_errno(ret);
		}
	}
	/* A socket may connect again after a failed attempt. */
	hs->tx_cnt = 0;
	hs->fwd_cnt = 0;
	hs->last_fwd_cnt = 0;
	hs->peer_buf_alloc = 0;
	hs->peer_fwd_cnt = 0;
	hs->tx_blocked = false;
	hs->connect_tries = 0;
	hs->request_sent = false;
	ret = hvs_send_request(vsk);
	if (ret)
		sk->sk_state = TCP_CLOSE;
	return ret;
}

/* connect() timed out or was interrupted: withdraw the request. */
static int hvs_cancel_pkt(struct vsock_sock *vsk)
{
	struct hvs_sock *hs = vsk->trans;

	if (!hs)
		return 0;
	if (cancel_delayed_work(&hs->connect_work))
		sock_put(sk_vsock(vsk));
	if (hs->request_sent) {
		hvs_sock_send_ctl(vsk, HMX_VSOCK_OP_RST, 0);
		hs->request_sent = false;
	}
	return 0;
}

static int hvs_shutdown(struct vsock_sock *vsk, int mode)
{
	struct sock *sk = sk_vsock(vsk);
	u32 flags = 0;

	if (sk->sk_state != TCP_ESTABLISHED || sock_flag(sk, SOCK_DONE))
		return 0;
	if (mode & RCV_SHUTDOWN)
		flags |= HMX_VSOCK_SHUTDOWN_RCV;
	if (mode & SEND_SHUTDOWN)
		flags |= HMX_VSOCK_SHUTDOWN_SEND;
	return hvs_sock_send_ctl(vsk, HMX_VSOCK_OP_SHUTDOWN, flags);
}

/*
 * close(): tell the peer we are gone and forget the connection at once;
 * anything the peer sends afterwards is answered with RST. Queued control
 * messages keep the socket (and its ring) alive until they are out.
 */
static void hvs_release(struct vsock_sock *vsk)
{
	struct sock *sk = sk_vsock(vsk);
	struct hvs_sock *hs = vsk->trans;

	if (sk->sk_type == SOCK_DGRAM) {
		if (hs)
			hvs_dgram_unbind(hs);
		/* The core's bound table holds a reference: ours to drop. */
		vsock_remove_sock(vsk);
		return;
	}
	if (hs) {
		if (cancel_delayed_work(&hs->connect_work))
			sock_put(sk);
		if (sk->sk_state == TCP_ESTABLISHED &&
		    !sock_flag(sk, SOCK_DONE))
			hvs_sock_send_ctl(vsk, HMX_VSOCK_OP_SHUTDOWN,
					  HMX_VSOCK_SHUTDOWN_ALL);
		else if (sk->sk_state == TCP_SYN_SENT && hs->request_sent)
			hvs_sock_send_ctl(vsk, HMX_VSOCK_OP_RST, 0);
	}
	sock_set_flag(sk, SOCK_DONE);
	vsock_remove_sock(vsk);
}

static int hvs_init(struct vsock_sock *vsk, struct vsock_sock *psk)
{
	struct hvs_sock *hs;

	if (!hvs)
		return -ENODEV;
	hs = kzalloc(sizeof(*hs), GFP_KERNEL);
	if (!hs)
		return -ENOMEM;
	hs->vsk = vsk;
	INIT_LIST_HEAD(&hs->ctl_link);
	INIT_LIST_HEAD(&hs->wait_link);
	INIT_HLIST_NODE(&hs->dgram_hash);
	INIT_LIST_HEAD(&hs->dgram_rings);
	INIT_DELAYED_WORK(&hs->connect_work, hvs_connect_work);
	if (vsk->buffer_size > HVS_MAX_BUF)
		vsk->buffer_size = HVS_MAX_BUF;
	hs->buf_alloc = vsk->buffer_size;
	vsk->trans = hs;
	spin_lock_bh(&hvs->sock_lock);
	list_add_tail(&hs->link, &hvs->socks);
	spin_unlock_bh(&hvs->sock_lock);
	return 0;
}

/* Any context: the last reference to the socket went away. */
static void hvs_destruct(struct vsock_sock *vsk)
{
	struct hvs_sock *hs = vsk->trans;

	if (!hs)
		return;
	spin_lock_bh(&hvs->sock_lock);
	list_del(&hs->link);
	spin_unlock_bh(&hvs->sock_lock);
	hvs_dgram_put_rings(hs);
	if (hs->ring)
		hmx_core_ring_put(hs->ring);
	kvfree(hs->rx_buf);
	hvs_tx_free(hs);
	kfree(hs);
	vsk->trans = NULL;
}

static u32 hvs_get_local_cid(void)
{
	return hvs ? HMX_VSOCK_DOMID_TO_CID(hmx_core_domid()) : VMADDR_CID_ANY;
}

static int hvs_notify_poll_in(struct vsock_sock *vsk, size_t target,
			      bool *ready)
{
	*ready = hvs_stream_has_data(vsk) >= target;
	return 0;
}

static int hvs_notify_poll_out(struct vsock_sock *vsk, size_t target,
			       bool *ready)
{
	*ready = hvs_stream_has_space(vsk) > 0;
	return 0;
}

static int hvs_notify_recv(struct vsock_sock *vsk, size_t target,
			   struct vsock_transport_recv_notify_data *d)
{
	return 0;
}

static int hvs_notify_recv_post(struct vsock_sock *vsk, size_t target,
				ssize_t copied, bool data_read,
				struct vsock_transport_recv_notify_data *d)
{
	return 0;
}

static int hvs_notify_send(struct vsock_sock *vsk,
			   struct vsock_transport_send_notify_data *d)
{
	return 0;
}

static int hvs_notify_send_post(struct vsock_sock *vsk, ssize_t written,
				struct vsock_transport_send_notify_data *d)
{
	return 0;
}

const struct vsock_transport hvs_transport = {
	.module = THIS_MODULE,
	.init = hvs_init,
	.destruct = hvs_destruct,
	.release = hvs_release,
	.cancel_pkt = hvs_cancel_pkt,
	.connect = hvs_connect,
	.dgram_bind = hvs_dgram_bind,
	.dgram_dequeue = hvs_dgram_dequeue,
	.dgram_enqueue = hvs_dgram_enqueue,
	.dgram_allow = hvs_dgram_allow,
	.stream_dequeue = hvs_stream_dequeue,
	.stream_enqueue = hvs_stream_enqueue,
	.stream_has_data = hvs_stream_has_data,
	.stream_has_space = hvs_stream_has_space,
	.stream_rcvhiwat = hvs_stream_rcvhiwat,
	.stream_is_active = hvs_stream_is_active,
	.stream_allow = hvs_stream_allow,
	.notify_poll_in = hvs_notify_poll_in,
	.notify_poll_out = hvs_notify_poll_out,
	.notify_recv_init = hvs_notify_recv,
	.notify_recv_pre_block = hvs_notify_recv,
	.notify_recv_pre_dequeue = hvs_notify_recv,
	.notify_recv_post_dequeue = hvs_notify_recv_post,
	.notify_send_init = hvs_notify_send,
	.notify_send_pre_block = hvs_notify_send,
	.notify_send_pre_enqueue = hvs_notify_send,
	.notify_send_post_enqueue = hvs_notify_send_post,
	.notify_buffer_size = hvs_notify_buffer_size,
	.shutdown = hvs_shutdown,
	.get_local_cid = hvs_get_local_cid,
};

/* Guest-to-host (and so guest-to-guest); datagrams too if nobody has them. */
int hvs_transport_register(void)
{
	int ret;

	ret = vsock_core_register(&hvs_transport,
				  VSOCK_TRANSPORT_F_G2H |
					  VSOCK_TRANSPORT_F_DGRAM);
	if (ret == -EBUSY) {
		ret = vsock_core_register(&hvs_transport,
					  VSOCK_TRANSPORT_F_G2H);
		if (!ret)
			pr_warn("hmx_vsock: another transport has datagrams; streams only\n");
	}
	return ret;
}

void hvs_transport_unregister(void)
{
	vsock_core_unregister(&hvs_transport);
}
