// SPDX-License-Identifier: GPL-2.0-only
#include "hmx/consumer.h"

#include <errno.h>
#include <string.h>

bool hmx_ring_is_empty(const struct hmx_ring *ring)
{
	return __atomic_load_n(&ring->tx_ptr, __ATOMIC_ACQUIRE) ==
	       __atomic_load_n(&ring->rx_ptr, __ATOMIC_RELAXED);
}

int hmx_ring_recv(struct hmx_ring *ring, uint32_t len,
		  struct hmx_msg_header *mh, void *buf, uint32_t cap)
{
	uint32_t rx = __atomic_load_n(&ring->rx_ptr, __ATOMIC_RELAXED);
	/* Acquire: the message bytes are read after tx_ptr is seen. */
	uint32_t tx = __atomic_load_n(&ring->tx_ptr, __ATOMIC_ACQUIRE);
	uint32_t used, payload, off, first, step;
	struct hmx_msg_header h;

	if (rx == tx)
		return -EAGAIN;
	if (rx >= len || tx >= len || rx % HMX_SLOT_SIZE || tx % HMX_SLOT_SIZE)
		return -EPROTO;
	used = tx > rx ? tx - rx : len - rx + tx;
	memcpy(&h, ring->ring + rx, sizeof(h));
	if (h.len < sizeof(h) || h.len > used || HMX_ROUNDUP(h.len) > used)
		return -EPROTO;
	payload = h.len - (uint32_t)sizeof(h);
	if (payload > cap)
		return -EMSGSIZE;
	off = (rx + (uint32_t)sizeof(h)) % len;
	first = len - off < payload ? len - off : payload;
	if (payload) {
		memcpy(buf, ring->ring + off, first);
		memcpy((uint8_t *)buf + first, ring->ring, payload - first);
	}
	if (mh)
		*mh = h;
	step = HMX_ROUNDUP(h.len);
	/* Release: our reads of the message finish before the slot is free. */
	__atomic_store_n(&ring->rx_ptr, (rx + step) % len, __ATOMIC_RELEASE);
	return (int)payload;
}
