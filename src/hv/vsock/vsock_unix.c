// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unix-socket muxing: the per-VM listener at PATH, the CONNECT line of a
 * host-initiated connection, each connection's epoll interest, and the
 * connections' lifetime (allocated here, marked dead anywhere, freed by
 * vs_conn_reap once no caller holds them).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bulkhead/hmx.h>

#include "hmx/arena.h"
#include "hv/vsock/vsock_host.h"
#include "hv/vsock/vsock_internal.h"
#include "util/log.h"
#include "util/parse.h"

void vs_conn_free(struct vs_conn *c)
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

void vs_conn_events(struct vs_conn *c)
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

void vs_conn_reap(struct vs_vm *vm)
{
	struct vs_conn *c = vm->conns, *next;

	for (; c; c = next) {
		next = c->next;
		if (c->dead)
			vs_conn_free(c);
	}
}

struct vs_conn *vs_conn_new(struct vs_vm *vm, int fd)
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
	c->deadline_ms = vs_now_ms() + VS_CONNECT_TIMEOUT_S * 1000ll;
	c->retry_at_ms = vs_now_ms();
}

void vs_on_conn(struct event_source *src, uint32_t events)
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

/* The listener at vm->path, not yet in the event loop. */
int vs_listen_open(struct vs_vm *vm, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", vm->path);
	vm->lfd =
		socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (vm->lfd < 0 || bind(vm->lfd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(vm->lfd, 64)) {
		snprintf(err, errlen, "vsock_socket %s: %s", vm->path,
			 strerror(errno));
		return -EINVAL;
	}
	vm->lsrc = (struct event_source){ vm->lfd, vs_on_listen, vm };
	return 0;
}

void vs_listen_close(struct vs_vm *vm)
{
	event_loop_remove(vm->vs->loop, &vm->lsrc);
	close(vm->lfd);
}

bool vsock_path_in_dir(const char *path, const char *dir)
{
	size_t n = dir ? strlen(dir) : 0;
	const char *name;

	if (!n || strncmp(path, dir, n) || path[n] != '/')
		return false;
	name = path + n + 1;
	return *name && !strchr(name, '/') && strcmp(name, ".") &&
	       strcmp(name, "..");
}
