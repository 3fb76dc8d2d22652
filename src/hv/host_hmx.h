/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The host's side of HMX: the mediation core for all VMs, and the host's
 * own domain (domid 0), whose ring memory is an arena in this process.
 * Host-side users (the control protocol's host rings, the vsock host end)
 * hear about host interrupts through listeners, on the main thread.
 */
#ifndef BH_HV_HOST_HMX_H
#define BH_HV_HOST_HMX_H

#include <stdatomic.h>
#include <stdint.h>

#include "hv/event_loop.h"

struct hmx_host;
struct hmx_arena;
struct host_hmx_ring;

#define HOST_HMX_ARENA_SIZE (64u << 20)
#define HOST_HMX_MAX_LISTENERS 8

/* Called on the main thread with the HMX_IRQ_* bits raised for domid 0. */
typedef void (*host_hmx_listener_fn)(void *opaque, uint32_t irq_bits);

struct host_hmx {
	struct hmx_host *core;
	struct hmx_arena *arena;
	atomic_uint pending; /* bits raised for domid 0, not yet dispatched */
	int event_fd;
	struct event_source src;
	struct {
		host_hmx_listener_fn fn;
		void *opaque;
	} listener[HOST_HMX_MAX_LISTENERS];
	struct host_hmx_ring *rings; /* opened through the control protocol */
};

int host_hmx_init(struct host_hmx *hh, struct event_loop *loop);
void host_hmx_fini(struct host_hmx *hh, struct event_loop *loop);
int host_hmx_listen(struct host_hmx *hh, host_hmx_listener_fn fn, void *opaque);

/* Host rings opened on behalf of control clients, keyed by (aport, partner). */
int host_hmx_ring_open(struct host_hmx *hh, uint32_t aport, uint16_t partner,
		       uint32_t len);
struct hmx_host_ring *host_hmx_ring_find(struct host_hmx *hh, uint32_t aport,
					 uint16_t partner);
int host_hmx_ring_close(struct host_hmx *hh, uint32_t aport, uint16_t partner);

#endif
