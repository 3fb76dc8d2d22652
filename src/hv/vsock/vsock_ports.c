// SPDX-License-Identifier: GPL-2.0-only
/*
 * The port watcher: the host's rings, one per (aport, VM), counted by the
 * connections using them and by the watcher, which holds one for each
 * PATH_P in the socket directory (inotify), so that a guest connecting to
 * host port P finds a ring there while a program listens at PATH_P.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <bulkhead/hmx.h>
#include <bulkhead/hmx_vsock.h>

#include "hmx/core.h"
#include "hmx/endpoint.h"
#include "hv/vsock/vsock_internal.h"
#include "util/parse.h"

struct vs_ring *vs_ring_find(struct vs_vm *vm, uint32_t aport)
{
	struct vs_ring *r;

	for (r = vm->rings; r; r = r->next)
		if (r->aport == aport)
			return r;
	return NULL;
}

int vs_ring_get(struct vs_vm *vm, uint32_t aport, struct vs_ring **out)
{
	struct vs_ring *r = vs_ring_find(vm, aport);
	int ret;

	if (!r) {
		r = calloc(1, sizeof(*r));
		if (!r)
			return -ENOMEM;
		ret = hmx_host_ring_open(vs_core(vm), HMX_DOMID_HOST,
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

void vs_ring_put(struct vs_vm *vm, struct vs_ring *r)
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

/* Watch dir for PATH_P sockets; not yet in the event loop. */
int vs_ports_watch(struct vs_vm *vm, const char *dir, char *err, size_t errlen)
{
	vm->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (vm->ifd < 0 ||
	    inotify_add_watch(vm->ifd, dir,
			      IN_CREATE | IN_DELETE | IN_MOVED_TO |
				      IN_MOVED_FROM) < 0) {
		snprintf(err, errlen, "vsock_socket: watching %s: %s", dir,
			 strerror(errno));
		return -EINVAL;
	}
	vm->isrc = (struct event_source){ vm->ifd, vs_on_inotify, vm };
	return 0;
}

/* Sockets that exist already; call once watched, so that none is lost. */
void vs_ports_scan(struct vs_vm *vm, const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);

	while (d && (de = readdir(d)))
		vs_watch_port(vm, de->d_name, true);
	if (d)
		closedir(d);
}

void vs_ports_unwatch(struct vs_vm *vm)
{
	event_loop_remove(vm->vs->loop, &vm->isrc);
	close(vm->ifd);
}
