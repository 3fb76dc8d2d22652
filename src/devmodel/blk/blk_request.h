/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A virtio-blk request taken apart: the 16-byte header and any range list
 * are copied out of guest memory once and checked (type, sector range
 * against capacity, lengths, flags); what is left is an operation on
 * host iovecs that point straight into guest memory. Pure logic.
 */
#ifndef BH_DEVMODEL_BLK_REQUEST_H
#define BH_DEVMODEL_BLK_REQUEST_H

#include <stdint.h>
#include <sys/uio.h>

#include "devmodel/blk/blk_config.h"
#include "virtio/virtqueue.h"

enum blk_op {
	BLK_OP_ANSWER, /* nothing to do: answer status at once */
	BLK_OP_READ,
	BLK_OP_WRITE,
	BLK_OP_FLUSH,
	BLK_OP_GET_ID,
	BLK_OP_DISCARD,
	BLK_OP_WRITE_ZEROES,
};

struct blk_range {
	uint64_t offset; /* bytes */
	uint64_t len; /* bytes, > 0 */
	bool unmap; /* WRITE_ZEROES may deallocate */
};

struct blk_request {
	enum blk_op op;
	uint8_t status; /* BLK_OP_ANSWER: VIRTIO_BLK_S_* */
	uint32_t type; /* as the guest gave it, for logs */
	/* The status byte in guest memory; NULL if the chain has none. */
	uint8_t *status_ptr;
	/* READ/WRITE/GET_ID: the data buffers, inside the chain's iovecs. */
	struct iovec *iov;
	unsigned int niov;
	uint64_t offset; /* READ/WRITE: bytes into the image */
	uint64_t len; /* data bytes */
	unsigned int nranges; /* DISCARD/WRITE_ZEROES */
	struct blk_range range[BLK_RANGES_MAX];
};

/*
 * Parses chain (as vq_pop() left it; its iovecs are trimmed in place).
 * Never fails: a request that is not valid becomes BLK_OP_ANSWER with
 * VIRTIO_BLK_S_IOERR or VIRTIO_BLK_S_UNSUPP.
 */
void blk_request_parse(const struct blk_limits *lim, struct vq_chain *chain,
		       struct blk_request *req);

/* Bytes the device wrote into the chain when answering with status. */
uint32_t blk_request_used_len(const struct blk_request *req, uint8_t status,
			      uint64_t written);

/* Copies up to len bytes from iovecs at byte offset skip; returns the count. */
size_t blk_iov_copy_from(const struct iovec *iov, unsigned int niov,
			 size_t skip, void *buf, size_t len);
/* Copies len bytes into iovecs from their start; returns the count. */
size_t blk_iov_copy_to(const struct iovec *iov, unsigned int niov,
		       const void *buf, size_t len);

#endif
