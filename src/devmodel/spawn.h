/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Starting a device model for the toolstack: a child in new PID, mount,
 * network, IPC and UTS namespaces (and a user namespace mapping only the
 * caller's ids when the caller is not root), in its own session, with
 * exactly the given descriptors at the given numbers and nothing else,
 * an empty signal mask and default signal handling, killed if the caller
 * dies (unless outlive_caller), exec'd with the given environment only. The device model then
 * confines itself further (jail.h) once its descriptors are set up.
 *
 * Reaping contract: the child is the caller's (exit signal SIGCHLD). Its
 * pidfd becomes readable when it exits; the caller must then collect it
 * with devmodel_reap() (or waitpid on pid), and must not use pid after
 * that. The child is PID 1 of its namespace: signals without a handler
 * do not reach it from inside, and SIGTERM from the caller is handled by
 * the device model or ignored; SIGKILL always works.
 */
#ifndef BH_DEVMODEL_SPAWN_H
#define BH_DEVMODEL_SPAWN_H

#include <stdbool.h>
#include <sys/types.h>

#define DEVMODEL_SPAWN_FDS_MAX 16

struct devmodel_fd {
	int src; /* the caller's descriptor */
	int dst; /* its number in the child */
};

struct devmodel_spawn {
	const char *path; /* absolute path of the executable */
	char *const *argv;
	char *const *envp; /* NULL: an empty environment */
	const struct devmodel_fd *fds;
	unsigned int nfds; /* <= DEVMODEL_SPAWN_FDS_MAX, distinct dst */
	/*
	 * Keep running if the caller dies once the child has started (the
	 * toolstack: VMs and their disks outlive a restart of bulkheadd).
	 * Until exec it dies with the caller either way.
	 */
	bool outlive_caller;
};

struct devmodel_proc {
	pid_t pid; /* in the caller's PID namespace */
	int pidfd; /* CLOEXEC; -1 once reaped */
};

/*
 * Starts the device model. Returns 0 once it has exec'd, or -1 with
 * errno (also the exec's own failure, e.g. ENOENT, EPERM for missing
 * namespace rights).
 */
int devmodel_spawn(const struct devmodel_spawn *sp, struct devmodel_proc *out);

/*
 * Collects the child's exit: 1 with *status (as waitpid gives it) and the
 * pidfd closed, 0 if it still runs and !block, -1 with errno.
 */
int devmodel_reap(struct devmodel_proc *p, int *status, bool block);

/* Sends sig to the child through its pidfd (no pid reuse race). */
int devmodel_kill(const struct devmodel_proc *p, int sig);

#endif
