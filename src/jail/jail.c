// SPDX-License-Identifier: GPL-2.0-only
/*
 * The order matters: descriptors are closed first (nothing from the old
 * world leaks into the new one), namespaces next (a user namespace first
 * when unprivileged, since it grants the rights the others need), then
 * the root is swapped for an empty tmpfs, then ids and capabilities go,
 * then limits, and the filter comes last because it forbids everything
 * above.
 */
#include "jail/jail.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <grp.h>
#include <linux/capability.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/log.h"
#include "util/sanitizer_syscalls.h"
#include "util/threads.h"

#define JAIL_STR_(x) #x
#define JAIL_STR(x) JAIL_STR_(x)

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* Closes every descriptor not in keep; returns the highest kept, or -1. */
static int close_others(const int *keep, unsigned int nkeep)
{
	int sorted[JAIL_KEEP_MAX];
	unsigned int from = 0;

	memcpy(sorted, keep, nkeep * sizeof(int));
	qsort(sorted, nkeep, sizeof(int), cmp_int);
	for (unsigned int i = 0; i < nkeep; i++) {
		if (sorted[i] < 0)
			continue;
		if ((unsigned int)sorted[i] > from &&
		    syscall(SYS_close_range, from, sorted[i] - 1, 0) < 0)
			return -2;
		from = (unsigned int)sorted[i] + 1;
	}
	if (syscall(SYS_close_range, from, ~0u, 0) < 0)
		return -2;
	return nkeep ? sorted[nkeep - 1] : -1;
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* Maps only our own ids, so the namespace holds nobody else's files. */
static int map_own_ids(uid_t uid, gid_t gid)
{
	char line[64];

	/* /proc/self is root's while not dumpable (after a setuid): ours. */
	if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0 ||
	    write_file("/proc/self/setgroups", "deny") < 0)
		return -1;
	snprintf(line, sizeof(line), "%u %u 1\n", (unsigned int)uid,
		 (unsigned int)uid);
	if (write_file("/proc/self/uid_map", line) < 0)
		return -1;
	snprintf(line, sizeof(line), "%u %u 1\n", (unsigned int)gid,
		 (unsigned int)gid);
	return write_file("/proc/self/gid_map", line);
}

/* A directory to mount the new root on: any will do, it is ours alone. */
static const char *mount_point(void)
{
	static const char *const candidates[] = { "/tmp", "/run", "/mnt",
						  "/dev", "/proc" };
	struct stat st;

	for (unsigned int i = 0; i < sizeof(candidates) / sizeof(*candidates);
	     i++)
		if (stat(candidates[i], &st) == 0 && S_ISDIR(st.st_mode))
			return candidates[i];
	return NULL;
}

/* mkdir -p of path's components under root (a buffer of PATH_MAX). */
static int make_path(char *root, size_t root_len, const char *path)
{
	const char *p = path;

	while (*p) {
		const char *end = strchr(p + 1, '/');
		size_t n = end ? (size_t)(end - p) : strlen(p);

		if (root_len + n >= PATH_MAX) {
			errno = ENAMETOOLONG;
			return -1;
		}
		memcpy(root + root_len, p, n);
		root_len += n;
		root[root_len] = '\0';
		if (mkdir(root, 0555) < 0 && errno != EEXIST)
			return -1;
		p += n;
	}
	return 0;
}

/*
 * dir (held open as dir_fd, from before the tmpfs could hide it) bound at
 * its own path under the new root mp: read-write, nothing runs from it.
 */
static int bind_into(const char *mp, const char *dir, int dir_fd)
{
	char target[PATH_MAX], source[64];
	size_t len = strlen(mp);

	if (len >= sizeof(target))
		return -1;
	memcpy(target, mp, len + 1);
	if (make_path(target, len, dir) < 0)
		return -1;
	/* The descriptor's magic link names the directory it was opened on. */
	snprintf(source, sizeof(source), "/proc/self/fd/%d", dir_fd);
	if (mount(source, target, NULL, MS_BIND, NULL) < 0)
		return -1;
	return mount(NULL, target, NULL,
		     MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV | MS_NOEXEC,
		     NULL);
}

static int empty_root(const char *bind_dir)
{
	const char *mp = mount_point();
	int dir_fd = -1;

	if (!mp) {
		errno = ENOENT;
		bh_err("jail: no directory to mount the new root on");
		return -1;
	}
	/* Nothing we do here may propagate back to the host's mounts. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		bh_err("jail: making mounts private: %s", strerror(errno));
		return -1;
	}
	if (bind_dir) {
		dir_fd = open(bind_dir,
			      O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (dir_fd < 0) {
			bh_err("jail: %s: %s", bind_dir, strerror(errno));
			return -1;
		}
	}
	/* Room for the bound directory's path, one inode per component. */
	if (mount("bulkhead-jail", mp, "tmpfs",
		  MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  bind_dir ? "size=16k,nr_inodes=" JAIL_STR(
				     JAIL_PATH_DEPTH_MAX) ",mode=0555" :
			     "size=4k,nr_inodes=4,mode=0555") < 0) {
		bh_err("jail: mounting the empty root: %s", strerror(errno));
		if (dir_fd >= 0)
			close(dir_fd);
		return -1;
	}
	if (bind_dir) {
		int r = bind_into(mp, bind_dir, dir_fd);
		int e = errno;

		close(dir_fd);
		if (r < 0) {
			bh_err("jail: binding %s into the new root: %s",
			       bind_dir, strerror(e));
			return -1;
		}
	}
	/* pivot_root(".", "."): the old root lands on top, then goes. */
	if (chdir(mp) < 0 || syscall(SYS_pivot_root, ".", ".") < 0 ||
	    umount2(".", MNT_DETACH) < 0 || chdir("/") < 0) {
		bh_err("jail: switching to the empty root: %s",
		       strerror(errno));
		return -1;
	}
	if (mount(NULL, "/", NULL,
		  MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV |
			  MS_NOEXEC,
		  NULL) < 0) {
		bh_err("jail: making the root read-only: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static int drop_bounding_set(void)
{
	for (int cap = 0; cap < 64; cap++) {
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
			if (errno == EINVAL)
				break; /* past the kernel's last capability */
			return -1;
		}
	}
	return 0;
}

static int drop_capabilities(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 &&
	    errno != EINVAL)
		return -1;
	memset(data, 0, sizeof(data));
	return (int)syscall(SYS_capset, &hdr, data);
}

static int become(uid_t uid, gid_t gid)
{
	if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 ||
	    setresuid(uid, uid, uid) < 0)
		return -1;
	return 0;
}

static int set_limit(int resource, rlim_t value)
{
	struct rlimit rl = { value, value };

	return setrlimit(resource, &rl);
}

bool jail_dir_ok(const char *dir)
{
	unsigned int depth = 0;

	if (dir[0] != '/' || strlen(dir) >= PATH_MAX)
		return false;
	for (const char *p = dir; *p;) {
		const char *c = p + 1, *end = strchr(c, '/');
		size_t n = end ? (size_t)(end - c) : strlen(c);

		if (!n || (n == 1 && c[0] == '.') ||
		    (n == 2 && c[0] == '.' && c[1] == '.'))
			return false;
		depth++;
		p = c + n;
	}
	/* The tmpfs holds its root, each component, and nothing else. */
	return depth > 0 && depth <= JAIL_PATH_DEPTH_MAX - 2;
}

int jail_isolate(const struct jail_config *cfg)
{
	uid_t euid = geteuid();
	gid_t egid = getegid();
	bool as_root = euid == 0;
	int ns = CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS;
	int top;

	if (cfg->nkeep > JAIL_KEEP_MAX) {
		bh_err("jail: too many descriptors to keep");
		return -1;
	}
	if (cfg->bind_dir && !jail_dir_ok(cfg->bind_dir)) {
		bh_err("jail: %s: not an absolute path of at most %d "
		       "components without \".\" or \"..\"",
		       cfg->bind_dir, JAIL_PATH_DEPTH_MAX - 2);
		return -1;
	}
	if (as_root && (!cfg->have_ids || !cfg->uid || !cfg->gid)) {
		bh_err("jail: started as root: an unprivileged uid and gid "
		       "(--uid, --gid) are required");
		return -1;
	}
	if (!as_root && cfg->have_ids &&
	    (cfg->uid != euid || cfg->gid != egid)) {
		bh_err("jail: switching to uid %u gid %u needs root",
		       (unsigned int)cfg->uid, (unsigned int)cfg->gid);
		return -1;
	}
	if (!proc_single_threaded()) {
		bh_err("jail: the process already has threads");
		return -1;
	}
	top = cfg->keep_all_fds ? -1 : close_others(cfg->keep_fds, cfg->nkeep);
	if (top == -2) {
		bh_err("jail: closing descriptors: %s", strerror(errno));
		return -1;
	}
	if (cfg->nofile && cfg->nofile <= (rlim_t)(top + 1)) {
		bh_err("jail: RLIMIT_NOFILE %llu would not cover descriptor %d",
		       (unsigned long long)cfg->nofile, top);
		return -1;
	}
	if (unshare(as_root ? ns : ns | CLONE_NEWUSER) < 0) {
		bh_err("jail: creating namespaces: %s", strerror(errno));
		return -1;
	}
	if (!as_root && map_own_ids(euid, egid) < 0) {
		bh_err("jail: mapping uid %u in the user namespace: %s",
		       (unsigned int)euid, strerror(errno));
		return -1;
	}
	if (empty_root(cfg->bind_dir) < 0)
		return -1;
	if (drop_bounding_set() < 0) {
		bh_err("jail: dropping the bounding set: %s", strerror(errno));
		return -1;
	}
	if (as_root && become(cfg->uid, cfg->gid) < 0) {
		bh_err("jail: becoming uid %u gid %u: %s",
		       (unsigned int)cfg->uid, (unsigned int)cfg->gid,
		       strerror(errno));
		return -1;
	}
	if (drop_capabilities() < 0) {
		bh_err("jail: dropping capabilities: %s", strerror(errno));
		return -1;
	}
	/* Bound read-write for a reason: say so now if the ids cannot write. */
	if (cfg->bind_dir && access(cfg->bind_dir, W_OK | X_OK) < 0) {
		bh_err("jail: %s is not writable by uid %u: %s", cfg->bind_dir,
		       (unsigned int)getuid(), strerror(errno));
		return -1;
	}
	umask(cfg->bind_dir ? 0077 : 0777);
	if ((cfg->nofile && set_limit(RLIMIT_NOFILE, cfg->nofile) < 0) ||
	    set_limit(RLIMIT_CORE, 0) < 0 ||
	    (cfg->no_processes && set_limit(RLIMIT_NPROC, 0) < 0)) {
		bh_err("jail: setting limits: %s", strerror(errno));
		return -1;
	}
	/* Guest data must not end up in a core file or a debugger. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		bh_err("jail: prctl: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int jail_filter(const struct jail_config *cfg)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	int r;

	if (!ctx) {
		bh_err("jail: seccomp_init failed");
		return -1;
	}
	/* Other architectures' calls (i386, x32) are killed too. */
	r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1);
	for (size_t i = 0; !r && i < cfg->nrules; i++) {
		const struct jail_rule *rule = &cfg->rules[i];

		r = seccomp_rule_add_array(ctx, rule->action, rule->nr,
					   rule->ncmp, rule->cmp);
	}
#ifdef BH_SANITIZED
	if (!r)
		r = bh_seccomp_allow_sanitizers(ctx);
#endif
	if (!r)
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	if (r) {
		bh_err("jail: installing the seccomp filter: %s", strerror(-r));
		return -1;
	}
	return 0;
}

int jail_enter(const struct jail_config *cfg)
{
	if (jail_isolate(cfg) < 0 || jail_filter(cfg) < 0)
		return -1;
	return 0;
}
