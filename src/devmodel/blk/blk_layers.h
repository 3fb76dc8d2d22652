/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * From bulkhead-blk's command line to a disk's layers (blk_stack.h): the
 * LUKS data area's key read from its sealed memfd, a temporary disk's
 * overlay checked and, for temporary-encrypted, given a key made here for
 * this boot alone, a dm-verity tree opened against its root hash. All of
 * it happens before the jail; keys live in locked memory only as long as
 * it takes to expand them.
 */
#ifndef BH_DEVMODEL_BLK_LAYERS_H
#define BH_DEVMODEL_BLK_LAYERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devmodel/blk/blk_image.h"
#include "devmodel/blk/blk_stack.h"

#define BLK_VERITY_ROOT_BYTES 32u /* sha256 */

enum blk_snapshot {
	BLK_SNAPSHOT_PERSISTENT,
	BLK_SNAPSHOT_TEMPORARY,
	BLK_SNAPSHOT_TEMPORARY_ENCRYPTED,
};

struct blk_layer_options {
	int crypt_key_fd; /* sealed memfd with the volume key; -1: plain */
	uint64_t crypt_offset; /* bytes: the LUKS data segment's start */
	uint64_t crypt_size; /* bytes of it; 0: to the image's end */
	uint32_t crypt_sector; /* encryption sector: 512 .. 4096 */
	bool crypt_iv_large; /* dm-crypt's iv_large_sectors */
	enum blk_snapshot snapshot;
	int overlay_fd; /* temporary: an unlinked file; -1 otherwise */
	int verity_fd; /* the hash tree; -1: not verified */
	uint8_t verity_root[BLK_VERITY_ROOT_BYTES];
};

struct blk_layers {
	bool any; /* false: a plain disk, no stack */
	struct blk_stack_config stack;
	struct blk_crypt *crypt;
	struct blk_crypt *overlay_crypt;
	struct blk_verity *verity;
	uint32_t block_size; /* what the guest is told: stack.unit */
};

/*
 * Builds the layers for img. Returns 0, or -1 with a one-line reason in
 * err. Nothing is left allocated on failure.
 */
int blk_layers_open(const struct blk_layer_options *o,
		    const struct blk_image *img, struct blk_layers *l,
		    char *err, size_t errlen);
void blk_layers_close(struct blk_layers *l);

/* "persistent", "temporary", "temporary-encrypted"; -1 if none. */
int blk_snapshot_parse(const char *s, enum blk_snapshot *out);
const char *blk_snapshot_name(enum blk_snapshot s);

#endif
