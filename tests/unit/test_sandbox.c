// SPDX-License-Identifier: GPL-2.0-only
/*
 * The hypervisor's sandbox (src/hv/sandbox.c), applied in forked children
 * exactly as bulkhead-hv applies it: each child enters it and then tries
 * one thing. What the allowlist leaves out must kill the child with
 * SIGSYS (or fail with EPERM where that is the documented answer); what
 * running VMs needs (threads, memfds, eventfds, epoll, descriptors over
 * SCM_RIGHTS, KVM ioctls) must keep working.
 */
#include "hv/sandbox.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

/*
 * Sanitizer builds let LeakSanitizer and the symbolizer work (see
 * sandbox.c): opening files, processes, any mmap, fcntl and ioctl are
 * allowed there, so those refusals are checked in other builds only.
 */
#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifdef SANITIZED
static const bool sanitized = true;
#else
static const bool sanitized = false;
#endif

typedef int (*attempt_fn)(void *arg);

/* serve --vsock's wider filter, for the tests that set it. */
static bool with_vsock;

/* Runs fn inside the sandbox in a child; returns the wait status. */
static int in_sandbox(enum hv_sandbox_mode mode, attempt_fn fn, void *arg)
{
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (!pid) {
		if (hv_sandbox_enter(mode, with_vsock, NULL) < 0)
			_exit(100);
		_exit(fn(arg));
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void expect_killed(enum hv_sandbox_mode mode, attempt_fn fn, void *arg,
			  const char *what)
{
	int status = in_sandbox(mode, fn, arg);

	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGSYS)
		fail_msg("%s was not refused (status 0x%x)", what, status);
}

static void expect_exit(enum hv_sandbox_mode mode, attempt_fn fn, void *arg,
			int code, const char *what)
{
	int status = in_sandbox(mode, fn, arg);

	if (!WIFEXITED(status) || WEXITSTATUS(status) != code)
		fail_msg("%s: status 0x%x, expected exit %d", what, status,
			 code);
}

static int try_open(void *arg)
{
	(void)arg;
	return open("/etc/hostname", O_RDONLY) >= 0 ? 0 : 1;
}

static int try_open_create(void *arg)
{
	return open(arg, O_WRONLY | O_CREAT, 0600) >= 0 ? 0 : 1;
}

static int try_execve(void *arg)
{
	char *const argv[] = { "true", NULL };

	(void)arg;
	execve("/bin/true", argv, NULL);
	return 1;
}

static int try_socket(void *arg)
{
	(void)arg;
	return socket(AF_INET, SOCK_STREAM, 0) >= 0 ? 0 : 1;
}

static int try_unix_socket(void *arg)
{
	int sv[2];

	(void)arg;
	return socketpair(AF_UNIX, SOCK_STREAM, 0, sv) ? 1 : 0;
}

static int try_fork(void *arg)
{
	(void)arg;
	/* A clone without CLONE_THREAD: a new process. */
	return syscall(SYS_clone, SIGCHLD, 0, NULL, NULL, 0) >= 0 ? 0 : 1;
}

static int try_exec_mapping(void *arg)
{
	(void)arg;
	return mmap(NULL, 4096, PROT_READ | PROT_EXEC,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED;
}

static int try_mprotect_exec(void *arg)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	(void)arg;
	if (p == MAP_FAILED)
		return 2;
	return mprotect(p, 4096, PROT_READ | PROT_EXEC) ? 1 : 0;
}

static int try_kill_other(void *arg)
{
	pid_t other = *(pid_t *)arg;

	/* Our parent: another process's thread group. */
	return syscall(SYS_tgkill, other, other, 0) ? 1 : 0;
}

static int try_kill(void *arg)
{
	(void)arg;
	return kill(getppid(), 0) ? 1 : 0;
}

static int try_tiocsti(void *arg)
{
	char c = 'x';

	(void)arg;
	/* Typing into the terminal: not a KVM ioctl. */
	return ioctl(STDIN_FILENO, TIOCSTI, &c) ? 1 : 0;
}

static int try_fionread(void *arg)
{
	int n;

	(void)arg;
	return ioctl(STDIN_FILENO, FIONREAD, &n) ? 1 : 0;
}

static int try_setuid(void *arg)
{
	(void)arg;
	return setuid(0) ? 1 : 0;
}

static int try_chdir(void *arg)
{
	(void)arg;
	return chdir("/") ? 1 : 0;
}

static int try_memfd_exec(void *arg)
{
	(void)arg;
	/* Guest RAM memfds are sealed and close-on-exec; nothing else. */
	return memfd_create("x", 0) >= 0 ? 0 : 1;
}

static int try_unlink(void *arg)
{
	return unlink(arg) == -1 && errno == EPERM ? 42 : 1;
}

static int try_tcsets_not_stdin(void *arg)
{
	(void)arg;
	return ioctl(STDOUT_FILENO, TCSETS, NULL) ? 1 : 0;
}

/* vsock's tick, as the host end makes it before entering the sandbox. */
static int tick_fd = -1;

static int vsock_socket(void)
{
	return socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
}

/*
 * What vsock's host end does: PATH listened on, connected to, listed; its
 * tick (a timerfd made before the sandbox) sped up and slowed down.
 */
static int try_vsock_host_end(void *arg)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int l = vsock_socket(), c = vsock_socket();
	struct itimerspec fast = { { 0, 5000000 }, { 0, 5000000 } };
	DIR *d;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", (char *)arg);
	if (l < 0 || c < 0 || bind(l, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(l, 1) || connect(c, (struct sockaddr *)&sa, sizeof(sa)))
		return 1;
	if (send(c, "x", 1, MSG_NOSIGNAL) != 1 || shutdown(c, SHUT_WR))
		return 2;
	d = opendir("/tmp");
	if (!d || !readdir(d))
		return 3;
	closedir(d);
	if (tick_fd < 0 || timerfd_settime(tick_fd, 0, &fast, NULL))
		return 4;
	return 0;
}

static int try_vsock_socket(void *arg)
{
	(void)arg;
	return vsock_socket() >= 0 ? 0 : 1;
}

static int try_unix_dgram(void *arg)
{
	(void)arg;
	return socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0) >= 0 ? 0 : 1;
}

static void test_vsock_widening(void **state)
{
	char path[64] = "/tmp/bh-sandbox-vsock-XXXXXX"; /* room for "/v" */

	(void)state;
	assert_non_null(mkdtemp(path));
	strcat(path, "/v");
	tick_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	/* Without --vsock none of it. */
	expect_killed(HV_SANDBOX_SERVE, try_vsock_socket, NULL,
		      "socket(AF_UNIX) without --vsock");
	with_vsock = true;
	expect_exit(HV_SANDBOX_SERVE, try_vsock_host_end, path, 0,
		    "vsock's host end with --vsock");
	/* The widening is that and no more. */
	expect_killed(HV_SANDBOX_SERVE, try_socket, NULL,
		      "socket(AF_INET) with --vsock");
	expect_killed(HV_SANDBOX_SERVE, try_unix_dgram, NULL,
		      "socket(AF_UNIX, SOCK_DGRAM) with --vsock");
	if (!sanitized) {
		expect_killed(HV_SANDBOX_SERVE, try_open, NULL,
			      "open() with --vsock");
		expect_killed(HV_SANDBOX_RUN, try_vsock_socket, NULL,
			      "socket(AF_UNIX) in run mode");
	}
	expect_exit(HV_SANDBOX_SERVE, try_unlink, path, 42,
		    "unlink() with --vsock");
	with_vsock = false;
	close(tick_fd);
	unlink(path);
	*strrchr(path, '/') = 0;
	rmdir(path);
}

static void test_files_refused(void **state)
{
	char path[] = "/tmp/bh-sandbox-XXXXXX";
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	if (!sanitized) {
		expect_killed(HV_SANDBOX_SERVE, try_open, NULL, "open()");
		expect_killed(HV_SANDBOX_RUN, try_open, NULL,
			      "open() in run mode");
		expect_killed(HV_SANDBOX_SERVE, try_open_create, path,
			      "creat()");
	}
	expect_killed(HV_SANDBOX_SERVE, try_chdir, NULL, "chdir()");
	/* Removing a file is refused quietly (the control socket's path). */
	expect_exit(HV_SANDBOX_SERVE, try_unlink, path, 42, "unlink()");
	assert_int_equal(access(path, F_OK), 0);
	unlink(path);
}

static void test_processes_refused(void **state)
{
	pid_t self = getpid();

	(void)state;
	if (!sanitized) {
		expect_killed(HV_SANDBOX_SERVE, try_execve, NULL, "execve()");
		expect_killed(HV_SANDBOX_RUN, try_execve, NULL,
			      "execve() in run mode");
		expect_killed(HV_SANDBOX_SERVE, try_fork, NULL, "fork (clone)");
	}
	expect_killed(HV_SANDBOX_SERVE, try_kill, NULL, "kill()");
	expect_killed(HV_SANDBOX_SERVE, try_kill_other, &self,
		      "tgkill() to another process");
	expect_killed(HV_SANDBOX_SERVE, try_setuid, NULL, "setuid()");
}

static void test_network_and_devices_refused(void **state)
{
	(void)state;
	expect_killed(HV_SANDBOX_SERVE, try_socket, NULL, "socket(AF_INET)");
	expect_killed(HV_SANDBOX_SERVE, try_unix_socket, NULL, "socketpair()");
	if (!sanitized) {
		expect_killed(HV_SANDBOX_SERVE, try_tiocsti, NULL,
			      "ioctl(TIOCSTI)");
		expect_killed(HV_SANDBOX_SERVE, try_fionread, NULL,
			      "ioctl(FIONREAD)");
		expect_killed(HV_SANDBOX_RUN, try_tcsets_not_stdin, NULL,
			      "ioctl(TCSETS) on stdout");
	}
	expect_killed(HV_SANDBOX_SERVE, try_memfd_exec, NULL,
		      "memfd_create() without sealing");
}

static void test_no_executable_memory(void **state)
{
	(void)state;
	if (!sanitized)
		expect_killed(HV_SANDBOX_SERVE, try_exec_mapping, NULL,
			      "mmap(PROT_EXEC)");
	expect_killed(HV_SANDBOX_SERVE, try_mprotect_exec, NULL,
		      "mprotect(PROT_EXEC)");
}

static void *thread_body(void *arg)
{
	*(int *)arg = 7;
	return NULL;
}

/* What a running VM needs, all inside the sandbox. */
static int try_vm_work(void *arg)
{
	int *sv = arg, efd, ep, memfd, got = -1, fd_in = -1;
	/* sv: a socket pair, an epoll fd, whether this is run mode */
	struct epoll_event ev = { .events = EPOLLIN };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov;
	struct msghdr msg = { 0 };
	struct cmsghdr *c;
	pthread_t t;
	uint64_t one = 1;
	char byte = 'k';
	uint8_t *ram;

	/* A vCPU thread. */
	if (pthread_create(&t, NULL, thread_body, &got) ||
	    pthread_join(t, NULL) || got != 7)
		return 10;
	/* Guest RAM: a sealed memfd, mapped shared. */
	memfd = memfd_create("ram", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (memfd < 0 || ftruncate(memfd, 1 << 20) ||
	    fcntl(memfd, F_ADD_SEALS, F_SEAL_GROW | F_SEAL_SHRINK))
		return 11;
	ram = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	if (ram == MAP_FAILED || madvise(ram, 1 << 20, MADV_DONTDUMP))
		return 12;
	ram[4096] = 1;
	/* Event loop: eventfd and epoll. */
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ep = sv[2];
	ev.data.fd = efd;
	if (efd < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev) ||
	    write(efd, &one, 8) != 8 || epoll_wait(ep, &ev, 1, 1000) != 1)
		return 13;
	/* A descriptor over SCM_RIGHTS, as the control socket carries. */
	if (sv[3]) /* run mode has no control socket */
		goto done;
	iov.iov_base = &byte;
	iov.iov_len = 1;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = ctl.buf;
	msg.msg_controllen = sizeof(ctl.buf);
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &memfd, sizeof(int));
	if (sendmsg(sv[0], &msg, MSG_NOSIGNAL) != 1)
		return 14;
	msg.msg_controllen = sizeof(ctl.buf);
	if (recvmsg(sv[1], &msg, MSG_CMSG_CLOEXEC) != 1)
		return 15;
	c = CMSG_FIRSTHDR(&msg);
	if (!c || c->cmsg_type != SCM_RIGHTS)
		return 16;
	memcpy(&fd_in, CMSG_DATA(c), sizeof(int));
	{
		struct stat st;

		if (fstat(fd_in, &st) || st.st_size != 1 << 20)
			return 17;
	}
	close(fd_in);
done:
	/* KVM ioctls go through (on a file that is not KVM: ENOTTY). */
	if (ioctl(efd, KVM_RUN, 0) != -1 || errno != ENOTTY)
		return 18;
	/* Signals to our own threads; time; randomness. */
	if (syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), 0))
		return 19;
	{
		struct timespec ts;
		uint32_t r;

		if (clock_gettime(CLOCK_MONOTONIC, &ts) ||
		    getrandom(&r, sizeof(r), 0) != sizeof(r))
			return 20;
	}
	munmap(ram, 1 << 20);
	close(memfd);
	close(efd);
	return 0;
}

static void test_vm_work_allowed(void **state)
{
	int fds[4]; /* a socket pair, an epoll fd, "run mode" */

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, fds), 0);
	fds[2] = epoll_create1(EPOLL_CLOEXEC);
	assert_true(fds[2] >= 0);
	fds[3] = 0;
	expect_exit(HV_SANDBOX_SERVE, try_vm_work, fds, 0, "VM work");
	fds[3] = 1;
	expect_exit(HV_SANDBOX_RUN, try_vm_work, fds, 0, "VM work (run)");
	close(fds[0]);
	close(fds[1]);
	close(fds[2]);
}

/* Capabilities: gone for good (checked from outside via /proc). */
static void test_capabilities_dropped(void **state)
{
	int pipefd[2], status;
	char buf[4096];
	ssize_t n;
	pid_t pid;

	(void)state;
	assert_int_equal(pipe(pipefd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		char c;

		close(pipefd[1]);
		if (hv_sandbox_enter(HV_SANDBOX_SERVE, false, NULL) < 0)
			_exit(100);
		/* Wait for the parent to look at us, then leave. */
		_exit(read(pipefd[0], &c, 1) == 0 ? 0 : 1);
	}
	close(pipefd[0]);
	for (int tries = 0;; tries++) {
		char path[64];
		int fd;

		snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
		fd = open(path, O_RDONLY);
		assert_true(fd >= 0);
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		assert_true(n > 0);
		buf[n] = '\0';
		if (strstr(buf, "Seccomp:\t2") || tries > 500)
			break;
		usleep(2000);
	}
	assert_non_null(strstr(buf, "Seccomp:\t2"));
	assert_non_null(strstr(buf, "NoNewPrivs:\t1"));
	assert_non_null(strstr(buf, "CapEff:\t0000000000000000"));
	assert_non_null(strstr(buf, "CapPrm:\t0000000000000000"));
	assert_non_null(strstr(buf, "CapInh:\t0000000000000000"));
	assert_non_null(strstr(buf, "CapAmb:\t0000000000000000"));
	if (geteuid() == 0) /* dropping the bounding set needs CAP_SETPCAP */
		assert_non_null(strstr(buf, "CapBnd:\t0000000000000000"));
	close(pipefd[1]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* The sandbox refuses to start with threads it could not confine. */
static void *sleeper(void *arg)
{
	(void)arg;
	pause();
	return NULL;
}

static void test_refuses_threads(void **state)
{
	int status;
	pid_t pid;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		pthread_t t;

		pthread_create(&t, NULL, sleeper, NULL);
		_exit(hv_sandbox_enter(HV_SANDBOX_SERVE, false, NULL) == -1 ?
			      0 :
			      1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_files_refused),
		cmocka_unit_test(test_processes_refused),
		cmocka_unit_test(test_network_and_devices_refused),
		cmocka_unit_test(test_no_executable_memory),
		cmocka_unit_test(test_vm_work_allowed),
		cmocka_unit_test(test_capabilities_dropped),
		cmocka_unit_test(test_refuses_threads),
		cmocka_unit_test(test_vsock_widening),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
