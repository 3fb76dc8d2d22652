/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The receiving side of the ring protocol, for rings whose memory this
 * process can read directly (host rings in an arena, tests, benchmarks).
 * A guest driver implements the same steps (docs/hmx-abi.md, "Receiving").
 * One consumer per ring at a time.
 */
#ifndef BH_HMX_CONSUMER_H
#define BH_HMX_CONSUMER_H

#include <bulkhead/hmx.h>
#include <stdbool.h>
#include <stdint.h>

/*
 * Take the next message from a ring of data length len (the data area
 * follows the header contiguously). On success returns the payload length,
 * fills *mh (if not NULL), copies the payload to buf and advances rx_ptr.
 * -EAGAIN: empty. -EMSGSIZE: payload longer than cap (nothing consumed).
 * -EPROTO: the ring's pointers or the message header are inconsistent.
 */
int hmx_ring_recv(struct hmx_ring *ring, uint32_t len,
		  struct hmx_msg_header *mh, void *buf, uint32_t cap);

bool hmx_ring_is_empty(const struct hmx_ring *ring);

#endif
