// SPDX-License-Identifier: GPL-2.0-only
/*
 * The connection state machine: vsock headers and control messages (queued
 * in order behind a full ring), credit, unix-to-guest data (the tx pump),
 * guest-to-unix data (the rx flush), and every message a guest sends the
 * host, including its connection requests.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bulkhead/hmx.h>
#include <bulkhead/hmx_vsock.h>

#include "hmx/arena.h"
#include "hmx/core.h"
#include "hmx/endpoint.h"
#include "hv/vsock/vsock_internal.h"

static void vs_fill_hdr(struct vs_conn *c, struct hmx_vsock_hdr *h,
			uint32_t flags)
{
	memset(h, 0, sizeof(*h));
	h->type = HMX_VSOCK_TYPE_STREAM;
	h->flags = flags;
	h->buf_alloc = VS_BUF;
	h->fwd_cnt = c->fwd_cnt;
	c->last_fwd_cnt = c->fwd_cnt;
}

static int vs_send_hdr(struct vs_vm *vm, uint32_t src, uint32_t dst,
		       uint32_t op, const struct hmx_vsock_hdr *h)
{
	struct hmx_addr to = { .aport = dst, .domid = vm->domid };

	return hmx_host_send(vs_core(vm), HMX_DOMID_HOST, vm->vs->hh->arena,
			     src, to, HMX_VSOCK_MSG(op), h, VS_HDR);
}

void vs_send_rst(struct vs_vm *vm, uint32_t src, uint32_t dst)
{
	struct hmx_vsock_hdr h = { .type = HMX_VSOCK_TYPE_STREAM };

	vs_send_hdr(vm, src, dst, HMX_VSOCK_OP_RST, &h);
}

static int vs_ctl_now(struct vs_conn *c, uint32_t op, uint32_t flags)
{
	struct hmx_vsock_hdr h;

	vs_fill_hdr(c, &h, flags);
	return vs_send_hdr(c->vm, c->port, c->peer_port, op, &h);
}

/* A control message, queued behind earlier ones if the ring is full. */
int vs_ctl(struct vs_conn *c, uint32_t op, uint32_t flags)
{
	int ret;

	if (!c->ctl_pending) {
		ret = vs_ctl_now(c, op, flags);
		if (ret != -EAGAIN && ret != -EBUSY)
			return ret < 0 ? ret : 0;
	}
	c->ctl_pending |= BIT(op);
	if (op == HMX_VSOCK_OP_SHUTDOWN)
		c->ctl_shutdown |= flags;
	vs_tick_fast(c->vm->vs);
	return 0;
}

/* True when nothing is left pending. */
bool vs_ctl_flush(struct vs_conn *c)
{
	static const uint32_t order[] = {
		HMX_VSOCK_OP_REQUEST,	    HMX_VSOCK_OP_RESPONSE,
		HMX_VSOCK_OP_CREDIT_UPDATE, HMX_VSOCK_OP_SHUTDOWN,
		HMX_VSOCK_OP_RST,
	};
	unsigned int i;
	int ret;

	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		if (!(c->ctl_pending & BIT(order[i])))
			continue;
		ret = vs_ctl_now(c, order[i],
				 order[i] == HMX_VSOCK_OP_SHUTDOWN ?
					 c->ctl_shutdown :
					 0);
		if (ret == -EAGAIN || ret == -EBUSY)
			return false;
		c->ctl_pending &= ~BIT(order[i]);
	}
	return true;
}

/*
 * Forget the connection; tell the guest how (op: SHUTDOWN(ALL) for an
 * orderly end, RST for a failure, 0 for nothing).
 */
void vs_conn_close(struct vs_conn *c, uint32_t op)
{
	if (op && c->state != VS_LINE &&
	    !(op == HMX_VSOCK_OP_SHUTDOWN &&
	      c->peer_shutdown == HMX_VSOCK_SHUTDOWN_ALL))
		vs_ctl_now(c, op,
			   op == HMX_VSOCK_OP_SHUTDOWN ?
				   HMX_VSOCK_SHUTDOWN_ALL :
				   0);
	c->dead = true;
}

int64_t vs_credit(const struct vs_conn *c)
{
	int64_t n = (int64_t)c->peer_buf_alloc -
		    (uint32_t)(c->tx_cnt - c->peer_fwd_cnt);

	return n > 0 ? n : 0;
}

/* Send what sits in the arena buffer; false if the ring is full. */
static bool vs_tx_send(struct vs_conn *c)
{
	struct hmx_arena *a = c->vm->vs->hh->arena;
	struct hmx_iov *iov = hmx_arena_ptr(a, c->tx_gpa);
	struct hmx_sendv req = { 0 };
	int ret;

	vs_fill_hdr(c, (struct hmx_vsock_hdr *)(iov + 1), 0);
	iov->gpa = c->tx_gpa + sizeof(*iov);
	iov->len = VS_HDR + c->tx_pending;
	iov->pad = 0;
	req.src.aport = c->port;
	req.dst.aport = c->peer_port;
	req.dst.domid = c->vm->domid;
	req.iov_gpa = c->tx_gpa;
	req.niov = 1;
	req.message_type = HMX_VSOCK_MSG(HMX_VSOCK_OP_RW);
	ret = hmx_sendv(vs_core(c->vm), HMX_DOMID_HOST, &req);
	if (ret == -EAGAIN || ret == -EBUSY) {
		c->tx_blocked = true;
		vs_tick_fast(c->vm->vs);
		return false;
	}
	if (ret < 0) {
		vs_conn_close(c, 0);
		return false;
	}
	c->tx_cnt += c->tx_pending;
	c->tx_pending = 0;
	c->ctl_pending &= ~BIT(HMX_VSOCK_OP_CREDIT_UPDATE);
	return true;
}

/* Unix to guest, as far as credit and ring space allow. */
void vs_pump_tx(struct vs_conn *c)
{
	uint8_t *data =
		(uint8_t *)hmx_arena_ptr(c->vm->vs->hh->arena, c->tx_gpa) +
		sizeof(struct hmx_iov) + VS_HDR;

	if (c->tx_pending && !vs_tx_send(c))
		return;
	while (!c->dead && !c->unix_eof && !c->ctl_pending) {
		int64_t credit = vs_credit(c);
		ssize_t n;

		if (!credit)
			return;
		n = read(c->fd, data,
			 credit < HMX_VSOCK_MAX_DATA ? (size_t)credit :
						       HMX_VSOCK_MAX_DATA);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n < 0) {
			vs_conn_close(c, HMX_VSOCK_OP_RST);
			return;
		}
		if (!n) {
			/* The host program is done writing. */
			c->unix_eof = true;
			vs_ctl(c, HMX_VSOCK_OP_SHUTDOWN,
			       HMX_VSOCK_SHUTDOWN_SEND);
			return;
		}
		c->tx_pending = (uint32_t)n;
		if (!vs_tx_send(c))
			return;
	}
}

/* Guest to unix: write out what we hold, return credit to the guest. */
void vs_flush_rx(struct vs_conn *c)
{
	while (c->rx_used && !c->dead) {
		uint32_t first = VS_BUF - c->rx_head;
		ssize_t n;

		if (first > c->rx_used)
			first = c->rx_used;
		n = send(c->fd, c->rx + c->rx_head, first, MSG_NOSIGNAL);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		if (n < 0) {
			/* The host program went away. */
			vs_conn_close(c, HMX_VSOCK_OP_RST);
			return;
		}
		c->rx_head = (c->rx_head + (uint32_t)n) % VS_BUF;
		c->rx_used -= (uint32_t)n;
		c->fwd_cnt += (uint32_t)n;
	}
	/* In halves: every update costs the guest an interrupt. */
	if (c->fwd_cnt - c->last_fwd_cnt >= VS_BUF / 2)
		vs_ctl(c, HMX_VSOCK_OP_CREDIT_UPDATE, 0);
	if (c->rx_used)
		return;
	if ((c->peer_shutdown & HMX_VSOCK_SHUTDOWN_SEND) && !c->unix_wr_shut) {
		shutdown(c->fd, SHUT_WR);
		c->unix_wr_shut = true;
	}
	/* Both directions are finished: the connection is over. */
	if (c->peer_shutdown == HMX_VSOCK_SHUTDOWN_ALL ||
	    ((c->peer_shutdown & HMX_VSOCK_SHUTDOWN_SEND) && c->unix_eof))
		vs_conn_close(c, HMX_VSOCK_OP_SHUTDOWN);
}

/* The guest connects to host port P: reach PATH_P. */
static void vs_guest_request(struct vs_vm *vm, uint32_t port, uint32_t gport,
			     const struct hmx_vsock_hdr *h)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct vs_conn *c;
	int fd;

	if (snprintf(sa.sun_path, sizeof(sa.sun_path), "%s_%u", vm->path,
		     port) >= (int)sizeof(sa.sun_path))
		goto refuse;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto refuse;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		goto refuse;
	}
	c = vs_conn_new(vm, fd);
	if (!c) {
		close(fd);
		goto refuse;
	}
	c->src.fn = vs_on_conn;
	c->port = port;
	c->peer_port = gport;
	c->peer_buf_alloc = h->buf_alloc;
	c->peer_fwd_cnt = h->fwd_cnt;
	c->state = VS_OPEN;
	if (vs_ring_get(vm, port, &c->ring) ||
	    vs_ctl(c, HMX_VSOCK_OP_RESPONSE, 0)) {
		c->dead = true;
		return;
	}
	vs_conn_events(c);
	return;
refuse:
	vs_send_rst(vm, port, gport);
}

static struct vs_conn *vs_conn_find(struct vs_vm *vm, uint32_t port,
				    uint32_t peer_port)
{
	struct vs_conn *c;

	for (c = vm->conns; c; c = c->next)
		if (!c->dead && c->state != VS_LINE && c->port == port &&
		    c->peer_port == peer_port)
			return c;
	return NULL;
}

void vs_dispatch(struct vs_vm *vm, uint32_t port,
		 const struct hmx_msg_header *mh, const uint8_t *payload,
		 uint32_t len)
{
	struct hmx_vsock_hdr h;
	struct vs_conn *c;
	uint32_t op;

	if ((mh->message_type & HMX_VSOCK_TAG_MASK) != HMX_VSOCK_TAG ||
	    len < VS_HDR)
		return;
	op = HMX_VSOCK_MSG_OP(mh->message_type);
	memcpy(&h, payload, VS_HDR);
	payload += VS_HDR;
	len -= VS_HDR;
	if (op == HMX_VSOCK_OP_DGRAM || h.type != HMX_VSOCK_TYPE_STREAM)
		return; /* the host end has no datagram sockets */
	c = vs_conn_find(vm, port, mh->source.aport);
	if (!c) {
		if (op == HMX_VSOCK_OP_REQUEST)
			vs_guest_request(vm, port, mh->source.aport, &h);
		else if (op != HMX_VSOCK_OP_RST)
			vs_send_rst(vm, port, mh->source.aport);
		return;
	}
	c->peer_buf_alloc = h.buf_alloc;
	c->peer_fwd_cnt = h.fwd_cnt;
	if (c->state == VS_CONNECTING) {
		char ok[32];
		int n;

		if (op != HMX_VSOCK_OP_RESPONSE) {
			vs_conn_close(c, op == HMX_VSOCK_OP_RST ?
						 0 :
						 HMX_VSOCK_OP_RST);
			return;
		}
		/* Firecracker's answer; nothing was read from fd after it. */
		n = snprintf(ok, sizeof(ok), "OK %u\n", c->port);
		if (send(c->fd, ok, (size_t)n, MSG_NOSIGNAL) != n) {
			vs_conn_close(c, HMX_VSOCK_OP_RST);
			return;
		}
		c->state = VS_OPEN;
		vs_pump_tx(c);
		vs_conn_events(c);
		return;
	}
	switch (op) {
	case HMX_VSOCK_OP_RW:
		if (len > VS_BUF - c->rx_used) {
			/* Beyond the credit we gave: a broken peer. */
			vs_conn_close(c, HMX_VSOCK_OP_RST);
			return;
		}
		for (uint32_t done = 0; done < len;) {
			uint32_t tail = (c->rx_head + c->rx_used) % VS_BUF;
			uint32_t n = VS_BUF - tail;

			if (n > len - done)
				n = len - done;
			memcpy(c->rx + tail, payload + done, n);
			c->rx_used += n;
			done += n;
		}
		vs_flush_rx(c);
		break;
	case HMX_VSOCK_OP_CREDIT_UPDATE:
		break;
	case HMX_VSOCK_OP_SHUTDOWN:
		c->peer_shutdown |= h.flags & HMX_VSOCK_SHUTDOWN_ALL;
		vs_flush_rx(c);
		break;
	case HMX_VSOCK_OP_RST:
		vs_conn_close(c, 0);
		break;
	default:
		vs_conn_close(c, HMX_VSOCK_OP_RST);
		break;
	}
	/* Credit may have come back. */
	if (!c->dead) {
		vs_pump_tx(c);
		vs_conn_events(c);
	}
}
