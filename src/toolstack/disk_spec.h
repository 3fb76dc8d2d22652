/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One element of a definition's `disk = [ ... ]`: Xen's xl disk
 * specification syntax (xl-disk-configuration(5)), the subset Bulkhead
 * implements, parsed into what the toolstack needs to attach the disk.
 * docs/vm-config.md is the specification. The parser is pure: it opens
 * nothing, and a relative target is only joined to the base directory.
 */
#ifndef BH_TOOLSTACK_DISK_SPEC_H
#define BH_TOOLSTACK_DISK_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DISK_VDEV_MAX 15u /* bytes in a vdev name, e.g. "xvda", "d7p0" */
#define DISK_INDEX_MAX ((1u << 20) - 1) /* xl's largest xvd disk number */
#define DISK_SOCKET_PATH_MAX 107u /* sun_path less the NUL */
#define DISK_SPEC_MSG_MAX 200u

enum disk_format {
	DISK_FORMAT_RAW, /* the default */
	DISK_FORMAT_QCOW2,
};

/* OpenXT's snapshot modes: what happens to the guest's writes. */
enum disk_snapshot {
	DISK_SNAPSHOT_PERSISTENT, /* the default: written to the image */
	/* To an unlinked copy-on-write overlay, gone when the VM stops. */
	DISK_SNAPSHOT_TEMPORARY,
	/* The same, the overlay encrypted under a key made for this boot. */
	DISK_SNAPSHOT_TEMPORARY_ENCRYPTED,
};

#define DISK_SHA256_BYTES 32u

enum disk_backend {
	/* Bulkhead's own sandboxed block device model serves target. */
	DISK_BACKEND_BULKHEAD_BLK,
	/* target is the unix socket of an external vhost-user-blk backend. */
	DISK_BACKEND_VHOST_USER,
};

struct disk_spec {
	char *target; /* resolved path: image, device or vhost-user socket */
	enum disk_format format; /* always raw for vhost-user */
	char vdev[DISK_VDEV_MAX + 1]; /* as written: "xvda", "hdb", "d3p0" */
	uint32_t index; /* disk number the vdev names, 0..DISK_INDEX_MAX */
	bool readonly; /* access=ro; default read-write */
	enum disk_backend backend;
	bool discard; /* advertise discard to the guest; default true */
	bool direct; /* direct-io-safe: O_DIRECT I/O (QEMU's cache=none) */
	enum disk_snapshot snapshot;
	bool measure; /* measure=on: SHA-256 of the image into the record */
	bool verify; /* verify=: the image's SHA-256 must be verify_sha256 */
	uint8_t verify_sha256[DISK_SHA256_BYTES];
	/* verity=: every block read is checked against a dm-verity tree. */
	bool verity;
	uint8_t verity_root[DISK_SHA256_BYTES];
	char *verity_hash; /* the tree's file: verity-hash=, or target.verity */
	/* Where the element is, for messages; set by the caller (vmcfg.c). */
	size_t element; /* position in the disk list as written */
	unsigned int line;
	unsigned int column;
};

struct disk_spec_error {
	size_t offset; /* byte offset in the spec where the problem is */
	char msg[DISK_SPEC_MSG_MAX]; /* printable ASCII */
};

/*
 * Parses len bytes of spec (no NUL needed; the definition lexer has
 * already refused control characters). A relative target is resolved
 * against base_dir; with base_dir NULL it is an error. Returns 0 with *out
 * filled in (free its target with disk_spec_release; element, line and
 * column are zero), -EINVAL with err filled in, or -ENOMEM.
 */
int disk_spec_parse(const char *spec, size_t len, const char *base_dir,
		    struct disk_spec *out, struct disk_spec_error *err);

void disk_spec_release(struct disk_spec *d);

/*
 * The disk number a vdev names, as xl numbers them: xvdX (a..z, aa..),
 * hdX (a..d), sdX (a..p) or dNp0. Whole disks only. Returns NULL with
 * *index set, or a sentence saying what is wrong.
 */
const char *disk_vdev_index(const char *vdev, size_t len, uint32_t *index);

/* "raw" or "qcow2". */
const char *disk_format_name(enum disk_format format);

/* "persistent", "temporary" or "temporary-encrypted". */
const char *disk_snapshot_name(enum disk_snapshot snapshot);

/* "bulkhead-blk" or "vhost-user". */
const char *disk_backend_name(enum disk_backend backend);

#endif
