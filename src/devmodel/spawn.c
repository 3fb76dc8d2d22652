// SPDX-License-Identifier: GPL-2.0-only
/*
 * clone3() with the namespaces and CLONE_PIDFD, then exec. The caller may
 * be multi-threaded (the toolstack daemon), so between clone and exec the
 * child uses only async-signal-safe calls: no malloc, no stdio, no locks.
 * Two pipes order things: the child waits on "go" until the parent has
 * written its id maps (and so also dies with a parent that died before
 * PR_SET_PDEATHSIG took hold); an exec failure comes back as errno on
 * the close-on-exec "err" pipe, an exec success as its end of file.
 */
#include "devmodel/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void close_all_but(const int *keep, unsigned int n)
{
	int sorted[DEVMODEL_SPAWN_FDS_MAX + 1];
	unsigned int from = 0;

	/* Insertion sort: no library calls between clone and exec. */
	for (unsigned int i = 0; i < n; i++) {
		unsigned int j = i;

		while (j && sorted[j - 1] > keep[i]) {
			sorted[j] = sorted[j - 1];
			j--;
		}
		sorted[j] = keep[i];
	}
	for (unsigned int i = 0; i < n; i++) {
		if ((unsigned int)sorted[i] > from)
			syscall(SYS_close_range, from, sorted[i] - 1, 0);
		from = (unsigned int)sorted[i] + 1;
	}
	syscall(SYS_close_range, from, ~0u, 0);
}

static void fail_child(int err_fd)
{
	int e = errno;

	if (write(err_fd, &e, sizeof(e)) < 0)
		_exit(127);
	_exit(127);
}

static __attribute__((noreturn)) void child(const struct devmodel_spawn *sp,
					    int go_fd, int err_fd)
{
	static char *const empty_env[] = { NULL };
	int tmp[DEVMODEL_SPAWN_FDS_MAX], keep[DEVMODEL_SPAWN_FDS_MAX + 1];
	int top = go_fd > err_fd ? go_fd : err_fd;
	struct sigaction dfl;
	sigset_t none;
	char c;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (read(go_fd, &c, 1) != 1)
		_exit(127); /* the parent gave up or died */
	if (sp->outlive_caller)
		prctl(PR_SET_PDEATHSIG, 0);
	for (unsigned int i = 0; i < sp->nfds; i++) {
		if (sp->fds[i].src > top)
			top = sp->fds[i].src;
		if (sp->fds[i].dst > top)
			top = sp->fds[i].dst;
	}
	/* Everything above every target first, so no dup2 clobbers a source. */
	err_fd = fcntl(err_fd, F_DUPFD_CLOEXEC, top + 1);
	if (err_fd < 0)
		_exit(127);
	for (unsigned int i = 0; i < sp->nfds; i++) {
		tmp[i] = fcntl(sp->fds[i].src, F_DUPFD_CLOEXEC, top + 1);
		if (tmp[i] < 0)
			fail_child(err_fd);
	}
	for (unsigned int i = 0; i < sp->nfds; i++) {
		if (dup2(tmp[i], sp->fds[i].dst) < 0)
			fail_child(err_fd);
		keep[i] = sp->fds[i].dst;
	}
	keep[sp->nfds] = err_fd;
	close_all_but(keep, sp->nfds + 1);

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	for (int sig = 1; sig < NSIG; sig++)
		sigaction(sig, &dfl, NULL);
	setsid();
	execve(sp->path, sp->argv, sp->envp ? sp->envp : empty_env);
	fail_child(err_fd);
	_exit(127);
}

static int write_proc(pid_t pid, const char *name, const char *text)
{
	char path[64];
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

static int map_ids(pid_t pid)
{
	char line[64];

	if (write_proc(pid, "setgroups", "deny") < 0)
		return -1;
	snprintf(line, sizeof(line), "%u %u 1\n", (unsigned int)geteuid(),
		 (unsigned int)geteuid());
	if (write_proc(pid, "uid_map", line) < 0)
		return -1;
	snprintf(line, sizeof(line), "%u %u 1\n", (unsigned int)getegid(),
		 (unsigned int)getegid());
	return write_proc(pid, "gid_map", line);
}

static bool valid(const struct devmodel_spawn *sp)
{
	if (!sp->path || sp->path[0] != '/' || !sp->argv || !sp->argv[0] ||
	    sp->nfds > DEVMODEL_SPAWN_FDS_MAX)
		return false;
	for (unsigned int i = 0; i < sp->nfds; i++) {
		if (sp->fds[i].src < 0 || sp->fds[i].dst < 0)
			return false;
		for (unsigned int j = 0; j < i; j++)
			if (sp->fds[i].dst == sp->fds[j].dst)
				return false;
	}
	return true;
}

int devmodel_spawn(const struct devmodel_spawn *sp, struct devmodel_proc *out)
{
	bool userns = geteuid() != 0;
	int go[2], err[2], pidfd = -1, e = 0;
	struct clone_args args;
	ssize_t n;
	pid_t pid;

	if (!valid(sp)) {
		errno = EINVAL;
		return -1;
	}
	if (pipe2(go, O_CLOEXEC) < 0)
		return -1;
	if (pipe2(err, O_CLOEXEC) < 0) {
		e = errno;
		close(go[0]);
		close(go[1]);
		errno = e;
		return -1;
	}
	memset(&args, 0, sizeof(args));
	args.flags = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC |
		     CLONE_NEWUTS | CLONE_PIDFD | (userns ? CLONE_NEWUSER : 0);
	args.pidfd = (uint64_t)(uintptr_t)&pidfd;
	args.exit_signal = SIGCHLD;
	pid = (pid_t)syscall(SYS_clone3, &args, sizeof(args));
	if (pid == 0) {
		close(go[1]);
		close(err[0]);
		child(sp, go[0], err[1]);
	}
	e = errno;
	close(go[0]);
	close(err[1]);
	if (pid < 0) {
		close(go[1]);
		close(err[0]);
		errno = e;
		return -1;
	}
	e = 0;
	if (userns && map_ids(pid) < 0)
		e = errno;
	else if (write(go[1], "g", 1) != 1)
		e = errno;
	close(go[1]);
	if (!e) {
		do
			n = read(err[0], &e, sizeof(e));
		while (n < 0 && errno == EINTR);
		if (n != sizeof(e))
			e = 0; /* end of file: the exec happened */
	}
	close(err[0]);
	if (e) {
		/* The child exits (or gets no go and exits): collect it. */
		kill(pid, SIGKILL);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		close(pidfd);
		errno = e;
		return -1;
	}
	out->pid = pid;
	out->pidfd = pidfd;
	return 0;
}

int devmodel_reap(struct devmodel_proc *p, int *status, bool block)
{
	pid_t r;

	if (p->pidfd < 0) {
		errno = ECHILD;
		return -1;
	}
	do
		r = waitpid(p->pid, status, block ? 0 : WNOHANG);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -1;
	if (r == 0)
		return 0;
	close(p->pidfd);
	p->pidfd = -1;
	return 1;
}

int devmodel_kill(const struct devmodel_proc *p, int sig)
{
	if (p->pidfd < 0) {
		errno = ESRCH;
		return -1;
	}
	return (int)syscall(SYS_pidfd_send_signal, p->pidfd, sig, NULL, 0);
}
