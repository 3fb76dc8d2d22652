/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The virtio-blk device's feature bits, config space and request limits,
 * derived from the image and the command line. Pure logic.
 */
#ifndef BH_DEVMODEL_BLK_CONFIG_H
#define BH_DEVMODEL_BLK_CONFIG_H

#include <linux/virtio_blk.h>
#include <stdbool.h>
#include <stdint.h>

#define BLK_SECTOR 512u
/*
 * Data segments per request (seg_max): a 256-entry queue (what
 * bulkhead-hv and QEMU offer) minus the header and the status. A 1 MiB
 * guest I/O of 4 KiB pages is then 2 requests, not 3.
 */
#define BLK_SEG_MAX 254u
/* Ranges per DISCARD or WRITE_ZEROES request. */
#define BLK_RANGES_MAX 16u
/* Sectors per range: 1 GiB. */
#define BLK_RANGE_SECTORS_MAX (1u << 21)
#define BLK_SERIAL_MAX 20u /* VIRTIO_BLK_ID_BYTES */

struct blk_params {
	uint64_t size; /* image bytes */
	uint32_t block_size; /* logical block: 512 or 4096 */
	uint32_t discard_align; /* bytes; a multiple of block_size */
	bool readonly;
	bool discard; /* not --no-discard */
	/*
	 * The disk has layers (blk_stack.h): no DISCARD or WRITE_ZEROES,
	 * which work on the image file directly and would bypass them
	 * (zeros in a LUKS header, holes that decrypt to garbage).
	 */
	bool layered;
	unsigned int nqueues;
};

/* What requests are checked against. */
struct blk_limits {
	uint64_t capacity; /* 512-byte sectors */
	bool readonly;
	bool discard; /* DISCARD offered */
	bool write_zeroes; /* WRITE_ZEROES offered */
	bool may_unmap; /* WRITE_ZEROES may punch holes */
	bool serial; /* GET_ID has an answer */
	uint32_t range_sectors_max;
	uint32_t ranges_max;
};

/* The device feature bits (VIRTIO_BLK_F_*) for these parameters. */
uint64_t blk_features(const struct blk_params *p);

void blk_limits_init(const struct blk_params *p, bool serial,
		     struct blk_limits *lim);

/* Fills the config space (little-endian, as the guest reads it). */
void blk_config_init(const struct blk_params *p, struct virtio_blk_config *c);

/* Copies [offset, offset + len) of c to buf; -1 if outside the config. */
int blk_config_read(const struct virtio_blk_config *c, uint32_t offset,
		    uint8_t *buf, uint32_t len);

#endif
