// SPDX-License-Identifier: GPL-2.0-only
#include "hv/host_hmx.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "hmx/arena.h"
#include "hmx/core.h"
#include "hmx/endpoint.h"
#include "util/log.h"

/* Any thread: record the bits, wake the main thread. */
static void host_signal(void *opaque, uint32_t bits)
{
	struct host_hmx *hh = opaque;
	uint64_t one = 1;

	atomic_fetch_or(&hh->pending, bits);
	if (write(hh->event_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		bh_debug("host HMX eventfd: %s", strerror(errno));
}

static void on_host_event(struct event_source *src, uint32_t events)
{
	struct host_hmx *hh = src->opaque;
	uint64_t count;
	uint32_t bits;
	unsigned int i;

	(void)events;
	if (read(hh->event_fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		return;
	bits = atomic_exchange(&hh->pending, 0);
	if (!bits)
		return;
	for (i = 0; i < HOST_HMX_MAX_LISTENERS; i++)
		if (hh->listener[i].fn)
			hh->listener[i].fn(hh->listener[i].opaque, bits);
}

int host_hmx_init(struct host_hmx *hh, struct event_loop *loop)
{
	struct hmx_domain_config cfg = { .domid = HMX_DOMID_HOST };
	int ret;

	memset(hh, 0, sizeof(*hh));
	hh->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (hh->event_fd < 0)
		return -errno;
	ret = hmx_host_create(NULL, &hh->core);
	if (!ret)
		ret = hmx_arena_create(HOST_HMX_ARENA_SIZE, &hh->arena);
	if (!ret) {
		cfg.translate = hmx_arena_translate;
		cfg.translate_opaque = hh->arena;
		cfg.signal = host_signal;
		cfg.signal_opaque = hh;
		ret = hmx_domain_add(hh->core, &cfg);
	}
	hh->src = (struct event_source){ hh->event_fd, on_host_event, hh };
	if (!ret && event_loop_add(loop, &hh->src, EPOLLIN) < 0)
		ret = -errno;
	if (ret) {
		bh_err("HMX setup failed: %s", strerror(-ret));
		host_hmx_fini(hh, NULL);
	}
	return ret;
}

struct host_hmx_ring {
	struct hmx_host_ring *ring;
	uint32_t aport;
	uint16_t partner;
	struct host_hmx_ring *next;
};

int host_hmx_ring_open(struct host_hmx *hh, uint32_t aport, uint16_t partner,
		       uint32_t len)
{
	struct host_hmx_ring *r = calloc(1, sizeof(*r));
	int ret;

	if (!r)
		return -ENOMEM;
	ret = hmx_host_ring_open(hh->core, HMX_DOMID_HOST, hh->arena, aport,
				 partner, len, &r->ring);
	if (ret) {
		free(r);
		return ret;
	}
	r->aport = aport;
	r->partner = partner;
	r->next = hh->rings;
	hh->rings = r;
	return 0;
}

static struct host_hmx_ring **ring_slot(struct host_hmx *hh, uint32_t aport,
					uint16_t partner)
{
	struct host_hmx_ring **p;

	for (p = &hh->rings; *p; p = &(*p)->next)
		if ((*p)->aport == aport && (*p)->partner == partner)
			return p;
	return NULL;
}

struct hmx_host_ring *host_hmx_ring_find(struct host_hmx *hh, uint32_t aport,
					 uint16_t partner)
{
	struct host_hmx_ring **p = ring_slot(hh, aport, partner);

	return p ? (*p)->ring : NULL;
}

int host_hmx_ring_close(struct host_hmx *hh, uint32_t aport, uint16_t partner)
{
	struct host_hmx_ring **p = ring_slot(hh, aport, partner), *r;

	if (!p)
		return -ENOENT;
	r = *p;
	*p = r->next;
	hmx_host_ring_close(r->ring);
	free(r);
	return 0;
}

void host_hmx_fini(struct host_hmx *hh, struct event_loop *loop)
{
	while (hh->rings)
		host_hmx_ring_close(hh, hh->rings->aport, hh->rings->partner);
	if (loop && hh->event_fd >= 0)
		event_loop_remove(loop, &hh->src);
	/* Destroying the core removes every domain, the host's included. */
	if (hh->core)
		hmx_host_destroy(hh->core);
	if (hh->arena)
		hmx_arena_destroy(hh->arena);
	if (hh->event_fd >= 0)
		close(hh->event_fd);
	hh->core = NULL;
	hh->arena = NULL;
	hh->event_fd = -1;
}

int host_hmx_listen(struct host_hmx *hh, host_hmx_listener_fn fn, void *opaque)
{
	unsigned int i;

	for (i = 0; i < HOST_HMX_MAX_LISTENERS; i++) {
		if (!hh->listener[i].fn) {
			hh->listener[i].fn = fn;
			hh->listener[i].opaque = opaque;
			return 0;
		}
	}
	return -ENOSPC;
}
