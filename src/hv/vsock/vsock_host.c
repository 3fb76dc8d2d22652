// SPDX-License-Identifier: GPL-2.0-only
#include "hv/vsock/vsock_host.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <unistd.h>

#include <json-c/json.h>

#include <bulkhead/hmx.h>
#include <bulkhead/hmx_vsock.h>

#include "hmx/arena.h"
#include "hmx/core.h"
#include "hmx/endpoint.h"
#include "hv/event_loop.h"
#include "hv/host_hmx.h"
#include "util/log.h"
#include "util/parse.h"

/* Our receive buffer per connection: the credit the guest gets. */
#define VS_BUF (256u << 10)
#define VS_HDR ((uint32_t)sizeof(struct hmx_vsock_hdr))
/* Arena buffer per connection: an iov, the header, one message of data. */
#define VS_TX_BYTES (16u + VS_HDR + HMX_VSOCK_MAX_DATA)
/* Ports of host-initiated connections come from this range. */
#define VS_PORT_FIRST 0x40000000u
#define VS_PORT_LAST 0xfffffffeu
#define VS_CONNECT_TIMEOUT_S 10
#define VS_CONNECT_TRIES 4
#define VS_LINE_MAX 32
#define VS_FAST_TICK_MS 10
#define VS_SLOW_TICK_MS 1000
#define VS_PEER_EVENTS 64

struct vs_ring {
	struct vs_ring *next;
	uint32_t aport;
	unsigned int refs;
	bool watched; /* PATH_aport exists: the watcher holds a reference */
	struct hmx_host_ring *ring;
};

enum vs_state {
	VS_LINE, /* host program connected to PATH; reading CONNECT */
	VS_CONNECTING, /* REQUEST sent (or to be retried), awaiting RESPONSE */
	VS_OPEN,
};

struct vs_vm;

struct vs_conn {
	struct vs_conn *next;
	struct vs_vm *vm;
	enum vs_state state;
	uint32_t port; /* ours: a host aport */
	uint32_t peer_port;
	struct vs_ring *ring;
	int fd;
	struct event_source src;
	uint32_t events; /* registered epoll mask, 0: not registered */
	char line[VS_LINE_MAX];
	size_t line_len;
	unsigned int tries; /* REQUESTs refused for lack of a ring */
	long long retry_at_ms, deadline_ms;

	/* Guest to unix: a byte ring of VS_BUF. */
	uint8_t *rx;
	uint32_t rx_head, rx_used;
	uint32_t fwd_cnt, last_fwd_cnt;
	/* Unix to guest. */
	uint32_t peer_buf_alloc, peer_fwd_cnt, tx_cnt;
	uint64_t tx_gpa;
	uint32_t tx_pending; /* data bytes held in the arena after -EAGAIN */
	bool tx_blocked;
	unsigned int ctl_pending; /* BIT(op) */
	uint32_t ctl_shutdown;
	bool unix_eof; /* we told the guest SHUTDOWN(SEND) */
	bool unix_wr_shut; /* we shut the unix socket's write side */
	uint32_t peer_shutdown; /* HMX_VSOCK_SHUTDOWN_* from the guest */
	bool dead;
};

struct vs_vm {
	struct vs_vm *next;
	struct hv_vsock *vs;
	uint16_t domid;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char base[NAME_MAX + 1];
	int lfd, ifd;
	struct event_source lsrc, isrc;
	struct vs_ring *rings;
	struct vs_conn *conns;
};

struct hv_vsock {
	struct host_hmx *hh;
	struct event_loop *loop;
	struct vs_vm *vms;
	uint32_t next_port;
	uint8_t *msg; /* one received payload */
	uint64_t events_gpa; /* PEER_EVENTS domids, in the arena */
	int tfd;
	struct event_source tsrc;
	bool fast_tick;
};

#define BIT(op) (1u << (op))

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ll + ts.tv_nsec / 1000000;
}

static struct hmx_host *core(const struct vs_vm *vm)
{
	return vm->vs->hh->core;
}

/* Rings: the host's (0, aport, vm->domid), shared and counted. */

static struct vs_ring *vs_ring_find(struct vs_vm *vm, uint32_t aport)
{
	struct vs_ring *r;

	for (r = vm->rings; r; r = r->next)
		if (r->aport == aport)
			return r;
	return NULL;
}

static int vs_ring_get(struct vs_vm *vm, uint32_t aport, struct vs_ring **out)
{
	struct vs_ring *r = vs_ring_find(vm, aport);
	int ret;

	if (!r) {
		r = calloc(1, sizeof(*r));
		if (!r)
			return -ENOMEM;
		ret = hmx_host_ring_open(core(vm), HMX_DOMID_HOST,
					 vm->vs->hh->arena, aport, vm->domid,
					 HMX_VSOCK_RING_LEN, &r->ring);
		if (ret) {
			free(r);
			return ret;
		}
		r->aport = aport;
		r->next = vm->rings;
		vm->rings = r;
	}
	r->refs++;
	*out = r;
	return 0;
}

static void vs_ring_put(struct vs_vm *vm, struct vs_ring *r)
{
	struct vs_ring **p;

	if (--r->refs)
		return;
	for (p = &vm->rings; *p != r; p = &(*p)->next)
		;
	*p = r->next;
	hmx_host_ring_close(r->ring);
	free(r);
}

/* Sending. */

static void vs_tick_fast(struct hv_vsock *vs)
{
	struct itimerspec its = { { 0, VS_FAST_TICK_MS * 1000000l },
				  { 0, VS_FAST_TICK_MS * 1000000l } };

	if (!vs->fast_tick && !timerfd_settime(vs->tfd, 0, &its, NULL))
		vs->fast_tick = true;
}

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

	return hmx_host_send(core(vm), HMX_DOMID_HOST, vm->vs->hh->arena, src,
			     to, HMX_VSOCK_MSG(op), h, VS_HDR);
}

static void vs_send_rst(struct vs_vm *vm, uint32_t src, uint32_t dst)
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
static int vs_ctl(struct vs_conn *c, uint32_t op, uint32_t flags)
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
static bool vs_ctl_flush(struct vs_conn *c)
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

/* Connections. */

static void vs_conn_events(struct vs_conn *c);

static void vs_conn_free(struct vs_conn *c)
{
	struct vs_conn **p;

	for (p = &c->vm->conns; *p != c; p = &(*p)->next)
		;
	*p = c->next;
	if (c->events)
		event_loop_remove(c->vm->vs->loop, &c->src);
	if (c->fd >= 0)
		close(c->fd);
	if (c->tx_gpa)
		hmx_arena_free(c->vm->vs->hh->arena, c->tx_gpa, VS_TX_BYTES);
	if (c->ring)
		vs_ring_put(c->vm, c->ring);
	free(c->rx);
	free(c);
}

/*
 * Forget the connection; tell the guest how (op: SHUTDOWN(ALL) for an
 * orderly end, RST for a failure, 0 for nothing).
 */
static void vs_conn_close(struct vs_conn *c, uint32_t op)
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

static int64_t vs_credit(const struct vs_conn *c)
{
	int64_t n = (int64_t)c->peer_buf_alloc -
		    (uint32_t)(c->tx_cnt - c->peer_fwd_cnt);

	return n > 0 ? n : 0;
}

static void vs_conn_events(struct vs_conn *c)
{
	struct event_loop *loop = c->vm->vs->loop;
	uint32_t want = 0;

	if (c->dead || c->fd < 0)
		return;
	if (c->state == VS_LINE)
		want = EPOLLIN;
	if (c->state == VS_OPEN) {
		if (!c->unix_eof && !c->tx_blocked && !c->tx_pending &&
		    !c->ctl_pending && vs_credit(c) > 0)
			want |= EPOLLIN;
		if (c->rx_used)
			want |= EPOLLOUT;
	}
	if (want == c->events)
		return;
	/* Registered with nothing wanted, EPOLLHUP would spin the loop. */
	if (!want)
		event_loop_remove(loop, &c->src);
	else if (!c->events)
		event_loop_add(loop, &c->src, want);
	else
		event_loop_modify(loop, &c->src, want);
	c->events = want;
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
	ret = hmx_sendv(core(c->vm), HMX_DOMID_HOST, &req);
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
static void vs_pump_tx(struct vs_conn *c)
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
static void vs_flush_rx(struct vs_conn *c)
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

static void vs_conn_reap(struct vs_vm *vm)
{
	struct vs_conn *c = vm->conns, *next;

	for (; c; c = next) {
		next = c->next;
		if (c->dead)
			vs_conn_free(c);
	}
}

static struct vs_conn *vs_conn_new(struct vs_vm *vm, int fd)
{
	struct vs_conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->vm = vm;
	c->fd = fd;
	c->src = (struct event_source){ fd, NULL, c };
	c->rx = malloc(VS_BUF);
	if (!c->rx ||
	    hmx_arena_alloc(vm->vs->hh->arena, VS_TX_BYTES, &c->tx_gpa)) {
		free(c->rx);
		free(c);
		return NULL;
	}
	c->next = vm->conns;
	vm->conns = c;
	return c;
}

static void vs_on_conn(struct event_source *src, uint32_t events);

/* The unix side of a host-initiated connection says which guest port. */
static void vs_read_line(struct vs_conn *c)
{
	struct vs_vm *vm = c->vm;
	uint64_t port;
	ssize_t n;
	char *nl;
	int ret;

	/*
	 * One byte at a time: what follows the line is data for the guest
	 * (programs may send it before they see OK) and stays in the socket.
	 */
	do {
		n = read(c->fd, c->line + c->line_len, 1);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			c->dead = true;
			return;
		}
	} while (c->line[c->line_len++] != '\n' &&
		 c->line_len < sizeof(c->line) - 1);
	c->line[c->line_len] = 0;
	nl = strchr(c->line, '\n');
	if (!nl) {
		c->dead = true; /* too long to be a CONNECT line */
		return;
	}
	*nl = 0;
	if (strncmp(c->line, "CONNECT ", 8) ||
	    bh_parse_u64(c->line + 8, &port) || port >= HMX_PORT_ANY) {
		bh_warn("vsock %u: bad request line from %s", vm->domid,
			vm->path);
		c->dead = true;
		return;
	}
	c->peer_port = (uint32_t)port;
	/* A fresh host port: the ring there authenticates it. */
	for (unsigned int i = 0; i < 64; i++) {
		uint32_t p = vm->vs->next_port++;

		if (vm->vs->next_port > VS_PORT_LAST)
			vm->vs->next_port = VS_PORT_FIRST;
		if (vs_ring_find(vm, p))
			continue;
		ret = vs_ring_get(vm, p, &c->ring);
		if (ret) {
			bh_warn("vsock %u: no ring for a connection: %s",
				vm->domid, strerror(-ret));
			c->dead = true;
			return;
		}
		c->port = p;
		break;
	}
	if (!c->ring) {
		c->dead = true;
		return;
	}
	c->state = VS_CONNECTING;
	c->deadline_ms = now_ms() + VS_CONNECT_TIMEOUT_S * 1000ll;
	c->retry_at_ms = now_ms();
}

static void vs_try_request(struct vs_conn *c)
{
	int ret;

	if (c->state != VS_CONNECTING ||
	    c->ctl_pending & BIT(HMX_VSOCK_OP_REQUEST) || !c->retry_at_ms)
		return;
	ret = vs_ctl(c, HMX_VSOCK_OP_REQUEST, 0);
	c->retry_at_ms = 0;
	if (ret == -ECONNREFUSED && ++c->tries < VS_CONNECT_TRIES) {
		/* The guest may register its listener's ring any moment. */
		c->retry_at_ms = now_ms() + (10ll << c->tries);
		vs_tick_fast(c->vm->vs);
		return;
	}
	if (ret)
		c->dead = true; /* refused: the program sees the close */
}

static void vs_on_conn(struct event_source *src, uint32_t events)
{
	struct vs_conn *c = src->opaque;
	struct vs_vm *vm = c->vm;

	if (c->state == VS_LINE) {
		vs_read_line(c);
		vs_try_request(c);
	} else if (c->state == VS_OPEN) {
		if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
			vs_flush_rx(c);
		if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
			vs_pump_tx(c);
	}
	vs_conn_events(c);
	vs_conn_reap(vm);
}

/* A host program connected to PATH. */
static void vs_on_listen(struct event_source *src, uint32_t events)
{
	struct vs_vm *vm = src->opaque;
	struct vs_conn *c;
	int fd;

	(void)events;
	fd = accept4(vm->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	c = vs_conn_new(vm, fd);
	if (!c) {
		close(fd);
		return;
	}
	c->src.fn = vs_on_conn;
	c->state = VS_LINE;
	vs_conn_events(c);
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

static void vs_dispatch(struct vs_vm *vm, uint32_t port,
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

static void vs_drain(struct hv_vsock *vs)
{
	uint32_t cap = HMX_MAX_PAYLOAD(HMX_VSOCK_RING_LEN);
	struct hmx_msg_header mh;
	struct vs_vm *vm;
	struct vs_ring *r;
	bool any = false;
	int n;

	for (vm = vs->vms; vm; vm = vm->next) {
		for (r = vm->rings; r; r = r->next) {
			r->refs++; /* dispatch may drop the others' */
			while ((n = hmx_host_ring_recv(r->ring, &mh, vs->msg,
						       cap)) >= 0) {
				any = true;
				vs_dispatch(vm, r->aport, &mh, vs->msg,
					    (uint32_t)n);
			}
			if (n != -EAGAIN)
				bh_warn("vsock %u: ring %u: %s", vm->domid,
					r->aport, strerror(-n));
			/* Freed connections put their rings after this. */
			r->refs--;
		}
		vs_conn_reap(vm);
	}
	if (any)
		hmx_notify(vs->hh->core, HMX_DOMID_HOST, 0);
}

/* Ring space may be free: retry queued control messages, then data. */
static void vs_retry(struct hv_vsock *vs)
{
	struct vs_vm *vm;
	struct vs_conn *c;

	for (vm = vs->vms; vm; vm = vm->next) {
		for (c = vm->conns; c; c = c->next) {
			if (c->dead)
				continue;
			if (c->ctl_pending && !vs_ctl_flush(c))
				continue;
			c->tx_blocked = false;
			if (c->state == VS_OPEN) {
				vs_pump_tx(c);
				vs_flush_rx(c);
			}
			vs_conn_events(c);
		}
		vs_conn_reap(vm);
	}
}

static struct vs_vm *vs_vm_find(struct hv_vsock *vs, uint16_t domid)
{
	struct vs_vm *vm;

	for (vm = vs->vms; vm; vm = vm->next)
		if (vm->domid == domid)
			return vm;
	return NULL;
}

static void vs_peer_events(struct hv_vsock *vs)
{
	struct hmx_peer_events req = { .domids_gpa = vs->events_gpa,
				       .max = VS_PEER_EVENTS };
	const uint16_t *ids = hmx_arena_ptr(vs->hh->arena, vs->events_gpa);
	int n;

	do {
		n = hmx_peer_events(vs->hh->core, HMX_DOMID_HOST, &req);
		for (int i = 0; i < n; i++) {
			struct vs_vm *vm = vs_vm_find(vs, ids[i]);
			struct vs_conn *c;

			/* The programs see their sockets close. */
			for (c = vm ? vm->conns : NULL; c; c = c->next)
				c->dead = true;
			if (vm)
				vs_conn_reap(vm);
		}
	} while (n == VS_PEER_EVENTS);
}

static void vs_on_irq(void *opaque, uint32_t bits)
{
	struct hv_vsock *vs = opaque;

	vs_drain(vs);
	if (bits & HMX_IRQ_SPACE)
		vs_retry(vs);
	if (bits & HMX_IRQ_PEER_GONE)
		vs_peer_events(vs);
}

/* Connection retries and timeouts; also covers -EBUSY (no wake-up). */
static void vs_on_tick(struct event_source *src, uint32_t events)
{
	struct hv_vsock *vs = src->opaque;
	long long t = now_ms();
	struct itimerspec its = { 0 };
	bool fast = false;
	struct vs_vm *vm;
	struct vs_conn *c;
	uint64_t count;

	(void)events;
	if (read(vs->tfd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		return;
	for (vm = vs->vms; vm; vm = vm->next) {
		for (c = vm->conns; c; c = c->next) {
			if (c->state == VS_CONNECTING && t >= c->deadline_ms)
				vs_conn_close(c, HMX_VSOCK_OP_RST);
			if (c->retry_at_ms && t >= c->retry_at_ms)
				vs_try_request(c);
			if (c->retry_at_ms || c->ctl_pending || c->tx_blocked)
				fast = true;
		}
		vs_conn_reap(vm);
	}
	vs_retry(vs);
	if (fast != vs->fast_tick) {
		long ms = fast ? VS_FAST_TICK_MS : VS_SLOW_TICK_MS;

		its.it_interval.tv_sec = ms / 1000;
		its.it_interval.tv_nsec = (ms % 1000) * 1000000;
		its.it_value = its.it_interval;
		timerfd_settime(vs->tfd, 0, &its, NULL);
		vs->fast_tick = fast;
	}
}

/* PATH_P appeared or went away: hold or drop our ring at P. */
static void vs_watch_port(struct vs_vm *vm, const char *name, bool present)
{
	size_t blen = strlen(vm->base);
	struct vs_ring *r;
	uint64_t port;

	if (strncmp(name, vm->base, blen) || name[blen] != '_' ||
	    bh_parse_u64(name + blen + 1, &port) || port >= HMX_PORT_ANY)
		return;
	r = vs_ring_find(vm, (uint32_t)port);
	if (present && !(r && r->watched)) {
		if (vs_ring_get(vm, (uint32_t)port, &r))
			return;
		r->watched = true;
	} else if (!present && r && r->watched) {
		r->watched = false;
		vs_ring_put(vm, r);
	}
}

static void vs_on_inotify(struct event_source *src, uint32_t events)
{
	struct vs_vm *vm = src->opaque;
	char buf[4096]
		__attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;

	(void)events;
	while ((n = read(vm->ifd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (void *)p;

			if (ev->len)
				vs_watch_port(vm, ev->name,
					      ev->mask & (IN_CREATE |
							  IN_MOVED_TO));
			p += sizeof(*ev) + ev->len;
		}
	}
}

int hv_vsock_attach(struct hv_vsock *vs, uint16_t domid, const char *path,
		    char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[sizeof(sa.sun_path)];
	struct vs_vm *vm;
	const char *slash;
	struct dirent *de;
	DIR *d;

	if (vs_vm_find(vs, domid)) {
		snprintf(err, errlen, "vsock: domid %u has a socket", domid);
		return -EEXIST;
	}
	/* PATH_4294967294 must fit as well. */
	if (!*path || strlen(path) + 11 >= sizeof(sa.sun_path)) {
		snprintf(err, errlen,
			 "vsock_socket: path too long (%zu bytes "
			 "at most)",
			 sizeof(sa.sun_path) - 12);
		return -ENAMETOOLONG;
	}
	vm = calloc(1, sizeof(*vm));
	if (!vm)
		return -ENOMEM;
	vm->vs = vs;
	vm->domid = domid;
	vm->lfd = vm->ifd = -1;
	snprintf(vm->path, sizeof(vm->path), "%s", path);
	slash = strrchr(path, '/');
	snprintf(vm->base, sizeof(vm->base), "%s", slash ? slash + 1 : path);
	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path) : 1,
		 slash ? (slash == path ? "/" : path) : ".");
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	vm->lfd =
		socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (vm->lfd < 0 || bind(vm->lfd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(vm->lfd, 64)) {
		snprintf(err, errlen, "vsock_socket %s: %s", path,
			 strerror(errno));
		goto fail;
	}
	vm->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (vm->ifd < 0 ||
	    inotify_add_watch(vm->ifd, dir,
			      IN_CREATE | IN_DELETE | IN_MOVED_TO |
				      IN_MOVED_FROM) < 0) {
		snprintf(err, errlen, "vsock_socket: watching %s: %s", dir,
			 strerror(errno));
		unlink(path);
		goto fail;
	}
	vm->lsrc = (struct event_source){ vm->lfd, vs_on_listen, vm };
	vm->isrc = (struct event_source){ vm->ifd, vs_on_inotify, vm };
	if (event_loop_add(vs->loop, &vm->lsrc, EPOLLIN) ||
	    event_loop_add(vs->loop, &vm->isrc, EPOLLIN)) {
		snprintf(err, errlen, "vsock: event loop: %s", strerror(errno));
		event_loop_remove(vs->loop, &vm->lsrc);
		unlink(path);
		goto fail;
	}
	vm->next = vs->vms;
	vs->vms = vm;
	/* Sockets that exist already: watched from now on, so none is lost. */
	d = opendir(dir);
	while (d && (de = readdir(d)))
		vs_watch_port(vm, de->d_name, true);
	if (d)
		closedir(d);
	return 0;
fail:
	if (vm->lfd >= 0)
		close(vm->lfd);
	if (vm->ifd >= 0)
		close(vm->ifd);
	free(vm);
	return -EINVAL;
}

void hv_vsock_detach(struct hv_vsock *vs, uint16_t domid)
{
	struct vs_vm *vm = vs_vm_find(vs, domid), **p;
	struct vs_ring *r;

	if (!vm)
		return;
	while (vm->conns)
		vs_conn_free(vm->conns);
	while ((r = vm->rings)) {
		r->refs = 1;
		vs_ring_put(vm, r);
	}
	event_loop_remove(vs->loop, &vm->lsrc);
	event_loop_remove(vs->loop, &vm->isrc);
	close(vm->lfd);
	close(vm->ifd);
	/* Fails (EPERM) under serve's sandbox: the caller removes PATH. */
	unlink(vm->path);
	for (p = &vs->vms; *p != vm; p = &(*p)->next)
		;
	*p = vm->next;
	free(vm);
}

static const char *const vs_state_names[] = {
	[VS_LINE] = "line",
	[VS_CONNECTING] = "connecting",
	[VS_OPEN] = "open",
};

static void vs_add_u64(json_object *o, const char *key, uint64_t v)
{
	json_object_object_add(o, key, json_object_new_uint64(v));
}

/* One connection's protocol state, for a stuck transfer's post-mortem. */
static json_object *vs_conn_state(const struct vs_conn *c)
{
	json_object *o = json_object_new_object();

	vs_add_u64(o, "domid", c->vm->domid);
	json_object_object_add(
		o, "state", json_object_new_string(vs_state_names[c->state]));
	vs_add_u64(o, "port", c->port);
	vs_add_u64(o, "peer_port", c->peer_port);
	vs_add_u64(o, "rx_used", c->rx_used);
	vs_add_u64(o, "fwd_cnt", c->fwd_cnt);
	vs_add_u64(o, "last_fwd_cnt", c->last_fwd_cnt);
	vs_add_u64(o, "peer_buf_alloc", c->peer_buf_alloc);
	vs_add_u64(o, "peer_fwd_cnt", c->peer_fwd_cnt);
	vs_add_u64(o, "tx_cnt", c->tx_cnt);
	vs_add_u64(o, "tx_pending", c->tx_pending);
	vs_add_u64(o, "credit", (uint64_t)vs_credit(c));
	json_object_object_add(o, "tx_blocked",
			       json_object_new_boolean(c->tx_blocked));
	vs_add_u64(o, "ctl_pending", c->ctl_pending);
	json_object_object_add(o, "unix_eof",
			       json_object_new_boolean(c->unix_eof));
	json_object_object_add(o, "unix_wr_shut",
			       json_object_new_boolean(c->unix_wr_shut));
	vs_add_u64(o, "peer_shutdown", c->peer_shutdown);
	vs_add_u64(o, "epoll_events", c->events);
	json_object_object_add(o, "dead", json_object_new_boolean(c->dead));
	return o;
}

json_object *hv_vsock_state(const struct hv_vsock *vs)
{
	json_object *conns = json_object_new_array(), *out;
	const struct vs_vm *vm;
	const struct vs_conn *c;
	const struct vs_ring *r;
	json_object *rings = json_object_new_array();

	for (vm = vs->vms; vm; vm = vm->next) {
		for (c = vm->conns; c; c = c->next)
			json_object_array_add(conns, vs_conn_state(c));
		for (r = vm->rings; r; r = r->next) {
			json_object *o = json_object_new_object();

			vs_add_u64(o, "domid", vm->domid);
			vs_add_u64(o, "aport", r->aport);
			vs_add_u64(o, "refs", r->refs);
			json_object_object_add(
				o, "watched",
				json_object_new_boolean(r->watched));
			json_object_array_add(rings, o);
		}
	}
	out = json_object_new_object();
	json_object_object_add(out, "connections", conns);
	json_object_object_add(out, "rings", rings);
	json_object_object_add(out, "fast_tick",
			       json_object_new_boolean(vs->fast_tick));
	return out;
}

int hv_vsock_create(struct host_hmx *hh, struct event_loop *loop,
		    struct hv_vsock **out)
{
	struct itimerspec its = { { 1, 0 }, { 1, 0 } };
	struct hv_vsock *vs = calloc(1, sizeof(*vs));
	int ret = -ENOMEM;

	if (!vs)
		return -ENOMEM;
	vs->hh = hh;
	vs->loop = loop;
	vs->next_port = VS_PORT_FIRST;
	vs->tfd = -1;
	vs->msg = malloc(HMX_MAX_PAYLOAD(HMX_VSOCK_RING_LEN));
	if (!vs->msg ||
	    hmx_arena_alloc(hh->arena, VS_PEER_EVENTS * 2, &vs->events_gpa))
		goto fail;
	vs->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	vs->tsrc = (struct event_source){ vs->tfd, vs_on_tick, vs };
	if (vs->tfd < 0 || timerfd_settime(vs->tfd, 0, &its, NULL) ||
	    event_loop_add(loop, &vs->tsrc, EPOLLIN)) {
		ret = -errno;
		goto fail;
	}
	/* host_hmx has no way to stop listening: destroy only at exit. */
	ret = host_hmx_listen(hh, vs_on_irq, vs);
	if (ret) {
		event_loop_remove(loop, &vs->tsrc);
		goto fail;
	}
	*out = vs;
	return 0;
fail:
	if (vs->tfd >= 0)
		close(vs->tfd);
	if (vs->events_gpa)
		hmx_arena_free(hh->arena, vs->events_gpa, VS_PEER_EVENTS * 2);
	free(vs->msg);
	free(vs);
	return ret;
}

void hv_vsock_destroy(struct hv_vsock *vs)
{
	if (!vs)
		return;
	while (vs->vms)
		hv_vsock_detach(vs, vs->vms->domid);
	event_loop_remove(vs->loop, &vs->tsrc);
	close(vs->tfd);
	hmx_arena_free(vs->hh->arena, vs->events_gpa, VS_PEER_EVENTS * 2);
	free(vs->msg);
	free(vs);
}
