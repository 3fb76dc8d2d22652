/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The layers a disk's reads and writes may pass through between the
 * guest and its files, when it has any: a LUKS data area (an offset into
 * the image, AES-XTS both ways), a temporary disk's copy-on-write overlay
 * (plain or under its own boot key) and a dm-verity tree that every block
 * read from the image is checked against. A plain disk has none and its
 * I/O goes straight between guest memory and the image (blk_device.c).
 *
 * A transfer is done in runs: at most BLK_STACK_CHUNK bytes that come
 * from one file. Data that is transformed (decrypted, encrypted,
 * verified) goes through a bounce buffer of the transfer's own, so the
 * guest's memory is read once and never holds what we check or decrypt.
 */
#ifndef BH_DEVMODEL_BLK_STACK_H
#define BH_DEVMODEL_BLK_STACK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "devmodel/blk/blk_io.h"

#define BLK_STACK_CHUNK (256u * 1024)

struct blk_crypt;
struct blk_verity;

struct blk_stack_config {
	uint64_t size; /* bytes the guest sees, a multiple of unit */
	/*
	 * Alignment of every guest transfer: the logical block size the
	 * guest is told, at least the encryption sector and the verity
	 * block, and the overlay's granule.
	 */
	uint32_t unit;
	uint64_t data_offset; /* image bytes before the guest's first byte */
	struct blk_crypt *crypt; /* the image's data area, or NULL */
	bool overlay; /* temporary: writes go to BLK_FILE_OVERLAY */
	struct blk_crypt *overlay_crypt; /* temporary-encrypted, or NULL */
	struct blk_verity *verity; /* image blocks checked, or NULL */
	uint32_t verity_block; /* the tree's data block size */
};

/* One READ or WRITE in progress: owned by a request slot. */
struct blk_xfer {
	bool write;
	const struct iovec *iov; /* the guest's buffers */
	unsigned int niov;
	uint64_t offset; /* guest bytes */
	uint64_t len;
	int res; /* when finished: 0 or -errno */
	/* progress, the stack's own */
	uint64_t done; /* bytes finished */
	uint64_t run; /* bytes of the run in flight */
	bool run_overlay; /* the run's file */
	bool in_submit; /* inside blk_io_submit: a completion is inline */
	bool inline_done;
	int inline_res;
	uint8_t *bounce; /* BLK_STACK_CHUNK bytes, lazily backed */
	struct iovec *slice; /* iov_cap entries: the run's part of iov */
	unsigned int slice_cap;
	struct iovec biov; /* the bounce buffer as one iovec */
	struct blk_io_op op; /* op.owner is the slot's */
};

struct blk_stack;

/* NULL if out of memory. c's crypt and verity stay the caller's. */
struct blk_stack *blk_stack_new(const struct blk_stack_config *c,
				struct blk_io *io);
void blk_stack_free(struct blk_stack *st);

/*
 * Starts x (write, iov, niov, offset, len, bounce, slice set). Returns
 * true if an op is in flight (its completion goes to
 * blk_stack_continue), false if x finished already (x->res).
 */
bool blk_stack_begin(struct blk_stack *st, struct blk_xfer *x);

/* x's op finished with res; the same return as blk_stack_begin. */
bool blk_stack_continue(struct blk_stack *st, struct blk_xfer *x, int res);

/* Whether writes go to an overlay (a temporary disk). */
bool blk_stack_overlay(const struct blk_stack *st);

/* Blocks the overlay holds (written by the guest since the start). */
uint64_t blk_stack_overlay_blocks(const struct blk_stack *st);

#endif
