/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Disk image locking compatible with QEMU's file-posix driver, so that
 * bulkhead-blk, qemu-system, qemu-img and qemu-storage-daemon keep each
 * other off an image in use. QEMU's scheme: permission bit i (its
 * BLK_PERM_* numbering) held by an open file is a shared OFD lock on byte
 * 100 + i; a permission the holder does not let others have is a shared
 * lock on byte 200 + i. A newcomer first takes its own bytes, then fails
 * if another open file holds 200 + i for a permission it wants or
 * 100 + i for one it will not share.
 *
 * The locks belong to the open file description: a descriptor passed to
 * another process (the toolstack to bulkhead-blk) keeps them, and they go
 * when the last descriptor of it closes.
 */
#ifndef BH_DEVMODEL_IMAGE_LOCK_H
#define BH_DEVMODEL_IMAGE_LOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* QEMU's permission bits (include/block/block-common.h). */
#define IMAGE_PERM_CONSISTENT_READ 0x1u
#define IMAGE_PERM_WRITE 0x2u
#define IMAGE_PERM_WRITE_UNCHANGED 0x4u
#define IMAGE_PERM_RESIZE 0x8u
#define IMAGE_PERM_ALL 0xfu
#define IMAGE_PERM_BITS 4

#define IMAGE_LOCK_PERM_BASE 100
#define IMAGE_LOCK_SHARED_BASE 200

struct image_lock_plan {
	/* Bytes to hold with a shared lock. */
	unsigned int nlock;
	uint16_t lock[2 * IMAGE_PERM_BITS];
	/* Bytes no other open file may hold; test_perm[] names each one. */
	unsigned int ntest;
	uint16_t test[2 * IMAGE_PERM_BITS];
	uint32_t test_perm[2 * IMAGE_PERM_BITS];
	/* test[i] is a 100 + i byte: the other holds the permission. */
	bool holds_perm[2 * IMAGE_PERM_BITS];
};

/* What a disk takes: read (and write) itself; others may read, not write
 * or resize. Sets *perm and *shared. */
void image_lock_perms(bool writable, uint32_t *perm, uint32_t *shared);

/* The bytes for perm and shared, in QEMU's order. Pure. */
void image_lock_plan(uint32_t perm, uint32_t shared,
		     struct image_lock_plan *plan);

/* "write" for IMAGE_PERM_WRITE, as QEMU names them in its messages. */
const char *image_perm_name(uint32_t perm);

/*
 * Takes the locks a disk needs on fd (open for reading). Returns 0, or
 * -EBUSY when another process uses the image in a conflicting way, or
 * another -errno; on failure every byte of the scheme is released on
 * fd's open file. why gets a one-line reason.
 */
int image_lock(int fd, bool writable, char *why, size_t whylen);

/*
 * Without taking anything: 0 if fd's image could be locked so, -EBUSY
 * if another open file's locks conflict, -errno on failure.
 */
int image_lock_check(int fd, bool writable, char *why, size_t whylen);

/* Drops every byte this scheme uses on fd's open file. */
void image_unlock(int fd);

#endif
