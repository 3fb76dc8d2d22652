// SPDX-License-Identifier: GPL-2.0-only
#include "hv/vsock/vsock_host.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bulkhead/hmx.h>
#include <bulkhead/hmx_vsock.h>

#include "hmx/arena.h"
#include "hmx/core.h"
#include "hmx/endpoint.h"
#include "hv/vsock/vsock_internal.h"
#include "util/log.h"

/* Owe the event loop one more drain round (vs_on_kick). */
static void vs_kick(struct hv_vsock *vs)
{
	uint64_t one = 1;

	/* Fails only when the counter is at its maximum: still readable. */
	if (write(vs->kick_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		bh_warn("vsock: drain kick: %s", strerror(errno));
	vs->drain_kicks++;
}

/*
 * Up to the budget of one ring's messages; true if the budget ran out
 * (messages may remain), false once the ring is empty or failed.
 */
static bool vs_drain_ring(struct vs_vm *vm, struct vs_ring *r, bool *any)
{
	uint32_t cap = HMX_MAX_PAYLOAD(HMX_VSOCK_RING_LEN), bytes = 0;
	struct hv_vsock *vs = vm->vs;
	struct hmx_msg_header mh;
	int n;

	for (uint32_t i = 0; i < VS_DRAIN_MSGS && bytes < VS_DRAIN_BYTES; i++) {
		n = hmx_host_ring_recv(r->ring, &mh, vs->msg, cap);
		if (n < 0) {
			if (n != -EAGAIN)
				bh_warn("vsock %u: ring %u: %s", vm->domid,
					r->aport, strerror(-n));
			return false;
		}
		*any = true;
		bytes += (uint32_t)n;
		vs_dispatch(vm, r->aport, &mh, vs->msg, (uint32_t)n);
	}
	return true;
}

/*
 * One round: every ring of every VM gives at most its budget. A ring that
 * stopped on it may hold messages that will raise no interrupt again (they
 * raised theirs), so the round kicks itself another one through the event
 * loop, behind whatever else is ready; no message waits for a wake-up
 * that nobody owes it.
 */
static void vs_drain(struct hv_vsock *vs)
{
	bool any = false, more = false;
	struct vs_vm *vm;
	struct vs_ring *r;

	vs->drain_rounds++;
	for (vm = vs->vms; vm; vm = vm->next) {
		for (r = vm->rings; r; r = r->next) {
			r->refs++; /* dispatch may drop the others' */
			r->backlog = vs_drain_ring(vm, r, &any);
			more |= r->backlog;
			/* Freed connections put their rings after this. */
			r->refs--;
		}
		vs_conn_reap(vm);
	}
	/* Senders blocked on a full ring: there is space now. */
	if (any)
		hmx_notify(vs->hh->core, HMX_DOMID_HOST, 0);
	if (more)
		vs_kick(vs);
}

/* The round owed by the last one that stopped on a budget. */
static void vs_on_kick(struct event_source *src, uint32_t events)
{
	struct hv_vsock *vs = src->opaque;
	uint64_t count;

	(void)events;
	/* Consume the kick first: the round may owe another. */
	if (read(vs->kick_fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		return;
	vs_drain(vs);
}

/* Ring space may be free: retry queued control messages, then data. */
void vs_retry(struct hv_vsock *vs)
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

int hv_vsock_attach(struct hv_vsock *vs, uint16_t domid, const char *path,
		    char *err, size_t errlen)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct vs_vm *vm;
	const char *slash;

	if (vs_vm_find(vs, domid)) {
		snprintf(err, errlen, "vsock: domid %u has a socket", domid);
		return -EEXIST;
	}
	/* PATH_4294967294 must fit as well. */
	if (!*path || strlen(path) + 11 >= sizeof(dir)) {
		snprintf(err, errlen,
			 "vsock_socket: path too long (%zu bytes "
			 "at most)",
			 sizeof(dir) - 12);
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
	if (vs_listen_open(vm, err, errlen))
		goto fail;
	if (vs_ports_watch(vm, dir, err, errlen)) {
		unlink(path);
		goto fail;
	}
	if (event_loop_add(vs->loop, &vm->lsrc, EPOLLIN) ||
	    event_loop_add(vs->loop, &vm->isrc, EPOLLIN)) {
		snprintf(err, errlen, "vsock: event loop: %s", strerror(errno));
		event_loop_remove(vs->loop, &vm->lsrc);
		unlink(path);
		goto fail;
	}
	vm->next = vs->vms;
	vs->vms = vm;
	vs_ports_scan(vm, dir);
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
	vs_listen_close(vm);
	vs_ports_unwatch(vm);
	/* Fails (EPERM) under serve's sandbox: the caller removes PATH. */
	unlink(vm->path);
	for (p = &vs->vms; *p != vm; p = &(*p)->next)
		;
	*p = vm->next;
	free(vm);
}

int hv_vsock_create(struct host_hmx *hh, struct event_loop *loop,
		    struct hv_vsock **out)
{
	struct hv_vsock *vs = calloc(1, sizeof(*vs));
	int ret = -ENOMEM;

	if (!vs)
		return -ENOMEM;
	vs->hh = hh;
	vs->loop = loop;
	vs->next_port = VS_PORT_FIRST;
	vs->tfd = -1;
	vs->kick_fd = -1;
	vs->msg = malloc(HMX_MAX_PAYLOAD(HMX_VSOCK_RING_LEN));
	if (!vs->msg ||
	    hmx_arena_alloc(hh->arena, VS_PEER_EVENTS * 2, &vs->events_gpa))
		goto fail;
	vs->kick_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	vs->ksrc = (struct event_source){ vs->kick_fd, vs_on_kick, vs };
	if (vs->kick_fd < 0 || event_loop_add(loop, &vs->ksrc, EPOLLIN)) {
		ret = -errno;
		goto fail;
	}
	ret = vs_timers_start(vs);
	if (ret) {
		event_loop_remove(loop, &vs->ksrc);
		goto fail;
	}
	/* host_hmx has no way to stop listening: destroy only at exit. */
	ret = host_hmx_listen(hh, vs_on_irq, vs);
	if (ret) {
		vs_timers_stop(vs);
		event_loop_remove(loop, &vs->ksrc);
		goto fail;
	}
	*out = vs;
	return 0;
fail:
	if (vs->tfd >= 0)
		close(vs->tfd);
	if (vs->kick_fd >= 0)
		close(vs->kick_fd);
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
	vs_timers_stop(vs);
	close(vs->tfd);
	event_loop_remove(vs->loop, &vs->ksrc);
	close(vs->kick_fd);
	hmx_arena_free(vs->hh->arena, vs->events_gpa, VS_PEER_EVENTS * 2);
	free(vs->msg);
	free(vs);
}
