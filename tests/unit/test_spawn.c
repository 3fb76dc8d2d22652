// SPDX-License-Identifier: GPL-2.0-only
/*
 * devmodel_spawn() (src/devmodel/spawn.c), with a probe program that
 * reports how it was started: PID 1 of new PID, network, mount, IPC and
 * UTS namespaces, its own session, exactly the descriptors given at the
 * numbers given (sources that collide with targets included), no blocked
 * or ignored signals, only the environment given; exec failures come back
 * as errno; kill and reap through the pidfd; the child dies with its
 * parent; and, started by an unprivileged caller, a user namespace too.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "devmodel/spawn.h"

struct report {
	char text[4096];
};

static bool line(const struct report *r, const char *want)
{
	const char *p = r->text;
	size_t n = strlen(want);

	while ((p = strstr(p, want))) {
		if ((p == r->text || p[-1] == '\n') && p[n] == '\n')
			return true;
		p++;
	}
	return false;
}

static const char *value(const struct report *r, const char *key)
{
	static char v[256];
	const char *p = strstr(r->text, key);
	size_t n = 0;

	if (!p)
		return "";
	p += strlen(key);
	while (p[n] && p[n] != '\n' && n < sizeof(v) - 1)
		n++;
	memcpy(v, p, n);
	v[n] = '\0';
	return v;
}

static void read_report(int fd, struct report *r)
{
	size_t got = 0;
	ssize_t n;

	while (got < sizeof(r->text) - 1 &&
	       (n = read(fd, r->text + got, sizeof(r->text) - 1 - got)) > 0)
		got += (size_t)n;
	r->text[got] = '\0';
	assert_true(line(r, "end"));
}

static void own_ns(const char *name, char *out, size_t len)
{
	char path[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/ns/%s", name);
	n = readlink(path, out, len - 1);
	out[n > 0 ? n : 0] = '\0';
}

/* Spawns the probe with the report pipe at 3 (and more); reads it. */
static void spawn_probe(const char *mode, struct devmodel_fd *extra,
			unsigned int nextra, struct devmodel_proc *proc,
			struct report *r)
{
	char *argv[] = { "spawn_probe", (char *)mode, NULL };
	char *envp[] = { "ONLY=this", NULL };
	struct devmodel_fd fds[4];
	int p[2];

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	fds[0] = (struct devmodel_fd){ p[1], 3 };
	for (unsigned int i = 0; i < nextra; i++)
		fds[1 + i] = extra[i];
	struct devmodel_spawn sp = {
		.path = SPAWN_PROBE,
		.argv = argv,
		.envp = envp,
		.fds = fds,
		.nfds = 1 + nextra,
	};
	assert_int_equal(devmodel_spawn(&sp, proc), 0);
	close(p[1]);
	read_report(p[0], r);
	close(p[0]);
}

static void test_namespaces_descriptors_signals(void **state)
{
	struct devmodel_proc proc;
	struct report r;
	char mine[128], line_buf[160];
	int status, keep = open("/dev/null", O_RDONLY);
	static const char *const ns[] = { "pid", "net", "mnt", "ipc", "uts" };
	sigset_t block;

	(void)state;
	/* A blocked and an ignored signal here must not reach the child. */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, NULL);
	signal(SIGUSR1, SIG_IGN);
	/* Two descriptors swapped: each source is the other's target. */
	{
		int a = fcntl(keep, F_DUPFD_CLOEXEC, 40);
		int b = fcntl(2, F_DUPFD_CLOEXEC, a + 1);
		struct devmodel_fd extra[2] = { { a, b }, { b, a } };

		spawn_probe("report", extra, 2, &proc, &r);
		snprintf(line_buf, sizeof(line_buf), "fds 3 %d %d", a, b);
		close(a);
		close(b);
	}
	assert_true(line(&r, line_buf));
	sigprocmask(SIG_UNBLOCK, &block, NULL);
	signal(SIGUSR1, SIG_DFL);
	assert_true(line(&r, "pid 1"));
	assert_true(line(&r, "sid 1"));
	assert_true(line(&r, "blocked 0"));
	assert_true(line(&r, "ignored 0"));
	assert_true(line(&r, "env ONLY=this"));
	assert_null(strstr(r.text, "env PATH="));
	for (unsigned int i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
		own_ns(ns[i], mine, sizeof(mine));
		snprintf(line_buf, sizeof(line_buf), "ns %s", mine);
		assert_false(line(&r, line_buf));
	}
	assert_int_equal(devmodel_reap(&proc, &status, true), 1);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(proc.pidfd, -1);
	assert_int_equal(devmodel_reap(&proc, &status, true), -1);
	close(keep);
}

static void test_kill_and_reap(void **state)
{
	struct devmodel_proc proc;
	struct report r;
	struct pollfd pfd;
	int hold[2], status;

	(void)state;
	assert_int_equal(pipe2(hold, O_CLOEXEC), 0);
	{
		struct devmodel_fd extra[1] = { { hold[0], 4 } };

		spawn_probe("wait", extra, 1, &proc, &r);
	}
	close(hold[0]);
	assert_int_equal(devmodel_reap(&proc, &status, false), 0);
	assert_int_equal(devmodel_kill(&proc, SIGKILL), 0);
	/* The pidfd says when it is gone. */
	pfd = (struct pollfd){ .fd = proc.pidfd, .events = POLLIN };
	assert_int_equal(poll(&pfd, 1, 10000), 1);
	assert_int_equal(devmodel_reap(&proc, &status, false), 1);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	assert_int_equal(devmodel_kill(&proc, SIGKILL), -1);
	close(hold[1]);
}

static void test_exec_failure(void **state)
{
	char *argv[] = { "missing", NULL };
	struct devmodel_spawn sp = { .path = "/nonexistent/bulkhead-blk",
				     .argv = argv };
	struct devmodel_fd same[2] = { { 0, 3 }, { 1, 3 } };
	struct devmodel_proc proc;

	(void)state;
	errno = 0;
	assert_int_equal(devmodel_spawn(&sp, &proc), -1);
	assert_int_equal(errno, ENOENT);
	/* Nothing left to reap. */
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
	/* Bad requests: relative path, one target twice. */
	sp.path = "relative";
	assert_int_equal(devmodel_spawn(&sp, &proc), -1);
	assert_int_equal(errno, EINVAL);
	sp.path = SPAWN_PROBE;
	sp.fds = same;
	sp.nfds = 2;
	assert_int_equal(devmodel_spawn(&sp, &proc), -1);
	assert_int_equal(errno, EINVAL);
}

/* A caller that dies takes its device model along (PR_SET_PDEATHSIG). */
static void test_dies_with_its_parent(void **state)
{
	int report[2], hold[2], st;
	pid_t mid, dm = 0;

	(void)state;
	assert_int_equal(pipe2(report, O_CLOEXEC), 0);
	/* We keep the writer: the probe's read never ends on its own. */
	assert_int_equal(pipe2(hold, O_CLOEXEC), 0);
	mid = fork();
	assert_true(mid >= 0);
	if (!mid) {
		struct devmodel_fd extra[1] = { { hold[0], 4 } };
		struct devmodel_proc proc;
		struct report r;

		spawn_probe("wait", extra, 1, &proc, &r);
		if (write(report[1], &proc.pid, sizeof(proc.pid)) < 0)
			_exit(1);
		_exit(0);
	}
	close(report[1]);
	close(hold[0]);
	assert_int_equal(read(report[0], &dm, sizeof(dm)), sizeof(dm));
	close(report[0]);
	assert_int_equal(waitpid(mid, &st, 0), mid);
	for (int i = 0; i < 1000; i++) {
		char path[64], s[512] = "";
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/stat", (int)dm);
		f = fopen(path, "r");
		if (!f) {
			close(hold[1]);
			return; /* gone and reaped */
		}
		if (!fgets(s, sizeof(s), f))
			s[0] = '\0';
		fclose(f);
		if (strstr(s, ") Z ")) {
			close(hold[1]);
			return; /* dead, waiting for whoever reaps orphans */
		}
		usleep(10000);
	}
	fail_msg("the device model outlived its parent");
}

static void test_unprivileged_caller(void **state)
{
	int report[2], st;
	pid_t pid;
	char buf[4096] = "";
	ssize_t n;

	(void)state;
	if (geteuid() != 0)
		skip(); /* as root, the test plays the unprivileged caller */
	assert_int_equal(pipe2(report, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		struct devmodel_proc proc;
		struct report r;
		int status;

		if (setresgid(65534, 65534, 65534) < 0 ||
		    setresuid(65534, 65534, 65534) < 0 ||
		    prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0)
			_exit(1);
		spawn_probe("report", NULL, 0, &proc, &r);
		if (devmodel_reap(&proc, &status, true) != 1 ||
		    write(report[1], r.text, strlen(r.text)) < 0)
			_exit(1);
		_exit(0);
	}
	close(report[1]);
	n = read(report[0], buf, sizeof(buf) - 1);
	close(report[0]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 1 && n <= 0)
		skip(); /* no unprivileged user namespaces on this kernel */
	assert_true(n > 0);
	buf[n] = '\0';
	{
		struct report r;
		char mine[128], want[160];

		memcpy(r.text, buf, (size_t)n + 1);
		assert_true(line(&r, "pid 1"));
		assert_true(line(&r, "uid 65534"));
		own_ns("user", mine, sizeof(mine));
		snprintf(want, sizeof(want), "ns %s", mine);
		assert_false(line(&r, want));
		assert_string_not_equal(value(&r, "ns user:"), "");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_namespaces_descriptors_signals),
		cmocka_unit_test(test_kill_and_reap),
		cmocka_unit_test(test_exec_failure),
		cmocka_unit_test(test_dies_with_its_parent),
		cmocka_unit_test(test_unprivileged_caller),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
