/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Host-side endpoints: rings and sends for a domain whose memory is an
 * hmx_arena (the host, domid 0). Everything goes through the same
 * operations as a guest's hypercalls (hmx_register_ring(), hmx_sendv(),
 * hmx_notify(), ...), with the page list, iovs and data in the arena.
 */
#ifndef BH_HMX_ENDPOINT_H
#define BH_HMX_ENDPOINT_H

#include "hmx/arena.h"
#include "hmx/core.h"

struct hmx_host_ring;

/*
 * Allocate a ring of data length len in the arena and register it as
 * (domid, aport, partner) with HMX_REGISTER_FAIL_EXIST. Errors are those
 * of hmx_register_ring() and hmx_arena_alloc().
 */
int hmx_host_ring_open(struct hmx_host *h, uint16_t domid, struct hmx_arena *a,
		       uint32_t aport, uint16_t partner, uint32_t len,
		       struct hmx_host_ring **out);
/* Unregister, scrub and free. */
void hmx_host_ring_close(struct hmx_host_ring *r);

/*
 * hmx_ring_recv() on the ring. After consuming, call hmx_notify(h, domid,
 * 0) (once per batch) so that senders waiting for space are woken.
 */
int hmx_host_ring_recv(struct hmx_host_ring *r, struct hmx_msg_header *mh,
		       void *buf, uint32_t cap);
struct hmx_ring *hmx_host_ring_header(struct hmx_host_ring *r);

/*
 * Send len bytes from host memory: they are copied into a scratch buffer
 * in the arena, then sent with hmx_sendv() from (domid, src_aport). For
 * zero-copy, place the data in the arena and call hmx_sendv() directly.
 * Returns what hmx_sendv() returns, or -ENOMEM.
 */
int hmx_host_send(struct hmx_host *h, uint16_t domid, struct hmx_arena *a,
		  uint32_t src_aport, struct hmx_addr dst,
		  uint32_t message_type, const void *buf, uint32_t len);

#endif
