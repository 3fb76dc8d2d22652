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

/* "bulkhead-blk" or "vhost-user". */
const char *disk_backend_name(enum disk_backend backend);

#endif
