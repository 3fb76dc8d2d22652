/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The confinement every device model enters once its descriptors are
 * open and before it reads a message from its front end, and the
 * hypervisor once its control socket listens:
 *
 *   - a mount namespace whose root is an empty read-only tmpfs (the old
 *     root detached): no path leads anywhere, only held descriptors do,
 *     and at most one directory of the host's, bound at its own path;
 *   - new network (empty: not even loopback is up), IPC and UTS namespaces;
 *   - started as root: an unprivileged uid/gid of the caller's choice,
 *     supplementary groups cleared; started unprivileged: a user
 *     namespace mapping only the caller's own uid and gid;
 *   - every capability dropped, no_new_privs, not dumpable, no core files;
 *     umask 077 with a bound directory (what it makes there is its own),
 *     0777 without;
 *   - every descriptor closed but the listed ones, RLIMIT_NOFILE tight;
 *   - a seccomp allowlist (libseccomp) given by the device class; any
 *     other system call kills the process.
 *
 * The process must be single-threaded. There is no way back.
 */
#ifndef BH_JAIL_JAIL_H
#define BH_JAIL_JAIL_H

#include <seccomp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#define JAIL_KEEP_MAX 32
/* Inodes of the new root's tmpfs when a directory is bound into it. */
#define JAIL_PATH_DEPTH_MAX 40
#define JAIL_RULES_MAX 96

/* One allowlist entry: nr allowed (or action) if every cmp holds. */
struct jail_rule {
	int nr;
	uint32_t action;
	unsigned int ncmp;
	struct scmp_arg_cmp cmp[3];
};

struct jail_config {
	const int *keep_fds; /* stay open; every other descriptor is closed */
	unsigned int nkeep; /* <= JAIL_KEEP_MAX */
	/* Instead: keep every descriptor (a process that opened only those). */
	bool keep_all_fds;
	/*
	 * An absolute path without symlinks: this directory (read-write,
	 * nosuid, nodev, noexec) is the only part of the host's tree left.
	 */
	const char *bind_dir;
	/* Started as root: the ids to become (both must be nonzero). */
	bool have_ids;
	uid_t uid;
	gid_t gid;
	/* RLIMIT_NOFILE, soft and hard: above every kept descriptor; 0 keeps
	 * the current limit. */
	rlim_t nofile;
	/* RLIMIT_NPROC 0: for processes that need no kernel I/O threads. */
	bool no_processes;
	const struct jail_rule *rules;
	size_t nrules;
};

/*
 * Whether dir can be bind_dir: absolute, no empty, "." or ".."
 * component, not too deep. (Symlinks are the caller's: realpath() it.)
 */
bool jail_dir_ok(const char *dir);

/* Everything but the seccomp filter. Returns 0, or -1 (logged). */
int jail_isolate(const struct jail_config *cfg);

/* The seccomp filter alone. Returns 0, or -1 (logged). */
int jail_filter(const struct jail_config *cfg);

/* jail_isolate() then jail_filter(): what device models call. */
int jail_enter(const struct jail_config *cfg);

#endif
