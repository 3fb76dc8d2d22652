/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * An independent statement of what vq_pop() must do (docs/virtio.md),
 * written from the rules rather than from src/virtio/virtqueue.c: guest
 * memory is read by guest-physical address with 128-bit address
 * arithmetic, loops are found by counting steps instead of marking the
 * descriptors visited, and buffers are cut at region ends by intersecting
 * them with every region. It reads memory plainly, so the memory must not
 * change while it runs. The fuzzer and the unit tests compare vq_pop()
 * against it.
 */
#ifndef BH_FUZZ_VQ_ORACLE_H
#define BH_FUZZ_VQ_ORACLE_H

#include "virtio/virtqueue.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

struct vq_oracle_queue {
	const struct vq_mem *mem;
	unsigned int size;
	bool indirect; /* VIRTIO_F_INDIRECT_DESC negotiated */
	uint64_t desc_gpa;
	uint64_t avail_gpa;
	uint16_t last_avail;
};

struct vq_oracle_chain {
	int ret; /* what vq_pop() returns: 1, 0 or -1 */
	uint16_t head;
	unsigned int nout, nin;
	uint64_t out_len, in_len;
	struct iovec iov[VQ_CHAIN_IOV_MAX];
};

/*
 * The next vq_pop() on a queue that is not broken, with room for cap
 * iovecs (the cap vq_pop() applies: 0 without an array, at most
 * VQ_CHAIN_IOV_MAX).
 */
void vq_oracle_pop(const struct vq_oracle_queue *q, unsigned int cap,
		   struct vq_oracle_chain *out);

/* Chains pending, or -1 if the avail index says more than size. */
int vq_oracle_pending(const struct vq_oracle_queue *q);

/* The guest's byte at gpa, if it is RAM. */
bool vq_oracle_byte(const struct vq_mem *mem, uint64_t gpa, uint8_t *out);

#endif
