/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Opening bulkhead-blk's disk image: a path or an inherited descriptor,
 * raw format (a regular file or a block device), locked against other
 * users with QEMU's scheme (image_lock.h), its size and block size.
 */
#ifndef BH_DEVMODEL_BLK_IMAGE_H
#define BH_DEVMODEL_BLK_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum blk_format {
	BLK_FORMAT_RAW,
	BLK_FORMAT_QCOW2,
};

struct blk_image {
	int fd;
	bool readonly;
	bool block_device;
	uint64_t size; /* bytes */
	uint32_t block_size; /* logical block */
	uint32_t discard_align; /* bytes */
};

struct blk_image_options {
	const char *path; /* or NULL, then fd */
	int fd;
	bool readonly;
	enum blk_format format;
	bool format_given; /* --format was on the command line */
	bool direct; /* O_DIRECT: no host page cache (QEMU's cache=none) */
};

/*
 * Opens and locks the image. Returns 0, or -1 with a one-line reason in
 * err (e.g. "image in use by another process ..."). On failure a path's
 * descriptor is closed; a given descriptor is left to the caller.
 */
int blk_image_open(const struct blk_image_options *o, struct blk_image *img,
		   char *err, size_t errlen);

#endif
