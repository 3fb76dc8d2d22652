/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * VM definition files (docs/vm-config.md): parsing and validation into a
 * struct vmcfg. Every value is checked here; callers can rely on the bounds
 * below without checking again.
 */
#ifndef BH_TOOLSTACK_VMCFG_H
#define BH_TOOLSTACK_VMCFG_H

#include "toolstack/cfg_error.h"
#include "toolstack/disk_spec.h"
#include "toolstack/measure_expect.h"
#include "toolstack/nic_spec.h"
#include "toolstack/policy_rule.h"
#include "toolstack/vif_spec.h"
#include "toolstack/vm.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VMCFG_FILE_MAX (1u << 20) /* bytes in a definition file */
#define VMCFG_MEMORY_MIN_MIB 16u
#define VMCFG_MEMORY_MAX_MIB 65536u
#define VMCFG_VCPUS_MAX 64u
#define VMCFG_CMDLINE_MAX 2047u /* Linux x86 COMMAND_LINE_SIZE minus NUL */
#define VMCFG_PATH_MAX 4095u /* a resolved path, PATH_MAX minus NUL */
#define VMCFG_RULES_MAX 256u
#define VMCFG_DISKS_MAX 16u
#define VMCFG_VIFS_MAX VIF_PER_VM_MAX
#define VMCFG_NICS_MAX 4u
#define VMCFG_SPEC_MAX 1024u /* bytes in one disk or vif string */

enum vmcfg_serial {
	VMCFG_SERIAL_PTY, /* a pseudo-terminal for `bulkhead console` */
	VMCFG_SERIAL_STDIO, /* the launching process's stdin/stdout */
	VMCFG_SERIAL_FILE, /* output appended to serial_path, no input */
	VMCFG_SERIAL_NONE, /* no console; output discarded */
};

/* xl's on_crash: what the toolstack does when the VM crashes. */
enum vmcfg_on_crash {
	VMCFG_ON_CRASH_DESTROY, /* left stopped, the reason shown */
	VMCFG_ON_CRASH_RESTART, /* started again, counted and logged */
};

/* tags: names service rules select with @tag:NAME (docs/policy.md). */
#define VMCFG_TAGS_MAX 16
#define VMCFG_TAG_MAX 31 /* bytes of [A-Za-z0-9_-] */

struct vmcfg {
	char *source; /* the file name as given, for messages and provenance */
	char name[VM_NAME_MAX + 1];
	enum vm_role role; /* default guest */
	char tags[VMCFG_TAGS_MAX][VMCFG_TAG_MAX + 1]; /* distinct, file order */
	size_t ntags;
	uint32_t memory_mib; /* VMCFG_MEMORY_MIN_MIB..VMCFG_MEMORY_MAX_MIB */
	uint32_t vcpus; /* 1..VMCFG_VCPUS_MAX, default 1 */
	char *kernel; /* resolved path */
	char *ramdisk; /* resolved path, or NULL */
	/*
	 * Never NULL; "" when not set. cmdline as written, or else built from
	 * root and extra as xl does: "root=ROOT EXTRA".
	 */
	char *cmdline;
	bool hmx; /* default true */
	bool autostart; /* default false */
	/* Default: restart for role ndvm and service, destroy for guests. */
	enum vmcfg_on_crash on_crash;
	bool vsock; /* default false: vsock's host end (needs hmx) */
	enum vmcfg_serial serial; /* default pty */
	char *serial_path; /* resolved, VMCFG_SERIAL_FILE only, else NULL */
	struct policy_written_rule *rules; /* hmx_rules, in file order */
	size_t nrules;
	/*
	 * Sorted by disk_spec.index, which is unique: attached in this order,
	 * the first disk is the guest's /dev/vda, the next /dev/vdb, ...
	 */
	struct disk_spec *disks;
	size_t ndisks; /* 0..VMCFG_DISKS_MAX */
	/*
	 * In list order: vif N is vifs[N], hmxnet's hmxN in the guest, on
	 * aport HMX_NET_APORT(N). MACs given are distinct; no backend is
	 * the VM itself; vifs only with hmx = on.
	 */
	struct vif_spec *vifs;
	size_t nvifs; /* 0..VMCFG_VIFS_MAX */
	/*
	 * An NDVM's NICs (role ndvm only), in file order, their MACs and
	 * tap names filled in (defaults derived from name): nic0, nic1, ...
	 */
	struct nic_spec *nics;
	size_t nnics; /* 0..VMCFG_NICS_MAX */
	/* measure_expect: digests the launch must match (initrd only with
	 * a ramdisk). */
	struct measure_expect expect;
	/* What the caller should tell the user, located like errors. */
	struct cfg_error *warnings;
	size_t nwarnings;
};

/*
 * Parses a definition from len bytes of buf (not necessarily
 * NUL-terminated). source names it in messages. Relative paths are resolved
 * against base_dir; if base_dir is NULL, a relative path is an error.
 * Returns 0 with *out set (free it with vmcfg_free), or a negative errno
 * (-EINVAL for a bad definition, -ENOMEM) with err filled in.
 */
int vmcfg_parse_buffer(const char *buf, size_t len, const char *source,
		       const char *base_dir, struct vmcfg **out,
		       struct cfg_error *err);

/*
 * Reads and parses the definition file at path; relative paths in it are
 * resolved against the file's own directory (made absolute with the
 * current directory if path is relative). The file must be a regular file
 * of at most VMCFG_FILE_MAX bytes. Returns as vmcfg_parse_buffer, or the
 * negative errno of a failed open or read.
 */
int vmcfg_parse_file(const char *path, struct vmcfg **out,
		     struct cfg_error *err);

void vmcfg_free(struct vmcfg *cfg);

/* "pty", "stdio", "file" or "none". */
const char *vmcfg_serial_name(enum vmcfg_serial serial);

/*
 * Resolves path against base_dir (NULL: relative paths are refused).
 * Returns a malloc'd string, or NULL with errno set (EINVAL relative
 * without base, ENAMETOOLONG beyond VMCFG_PATH_MAX, ENOMEM).
 */
char *vmcfg_resolve_path(const char *base_dir, const char *path);

#endif
