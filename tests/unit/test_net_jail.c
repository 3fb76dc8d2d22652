// SPDX-License-Identifier: GPL-2.0-only
/*
 * bulkhead-net's jail, proved by trying to get out of it. Each attempt
 * runs in a child (as root, in a network namespace of its own so its tap
 * harms nothing) that makes a tap as the toolstack would, goes through
 * bulkhead-net's own start-up (net_server_open, net_server_start: the tap
 * checked and set up, the back end on a socket) and confinement
 * (net_server_confine: the same jail_config and allowlist) and then,
 * instead of serving, tries one thing: files by path, sockets, tap
 * ioctls beyond TUNSETOFFLOAD (making, persisting, re-owning a device),
 * an ioctl and writev on another descriptor, exec, executable memory,
 * signals. Each must kill the child with SIGSYS or fail. What the device
 * needs (TUNSETOFFLOAD and writev on the tap) must work, and every
 * attempt must succeed without the jail, so the test can fail.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "devmodel/net/net_server.h"
#include "util/log.h"

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif

#define ESCAPED 126
#define SETUP_FAILED 127

struct ctx {
	struct net_server s;
	int tap;
};

typedef int (*attempt_fn)(struct ctx *c);

static int refused(void)
{
	return errno > 0 && errno < ESCAPED ? errno : EINVAL;
}

static int open_passwd(struct ctx *c)
{
	(void)c;
	return open("/etc/passwd", O_RDONLY) < 0 ? refused() : 0;
}

static int make_socket(struct ctx *c)
{
	(void)c;
	return socket(AF_INET, SOCK_DGRAM, 0) < 0 ? refused() : 0;
}

static int tap_setiff(struct ctx *c)
{
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI };

	strcpy(ifr.ifr_name, "escape0");
	return ioctl(c->tap, TUNSETIFF, &ifr) < 0 ? refused() : 0;
}

static int tap_persist(struct ctx *c)
{
	return ioctl(c->tap, TUNSETPERSIST, 1) < 0 ? refused() : 0;
}

static int tap_owner(struct ctx *c)
{
	return ioctl(c->tap, TUNSETOWNER, 0) < 0 ? refused() : 0;
}

static int tap_getiff(struct ctx *c)
{
	struct ifreq ifr;

	return ioctl(c->tap, TUNGETIFF, &ifr) < 0 ? refused() : 0;
}

/* An ioctl the socket takes: the filter allows one on the tap only. */
static int ioctl_on_socket(struct ctx *c)
{
	int n;

	return ioctl(c->s.sock, FIONREAD, &n) < 0 ? refused() : 0;
}

static int writev_socket(struct ctx *c)
{
	char b = 0;
	struct iovec iov = { &b, 1 };

	return writev(c->s.sock, &iov, 1) < 0 ? refused() : 0;
}

static int exec_true(struct ctx *c)
{
	char *argv[] = { "true", NULL };

	(void)c;
	execve("/bin/true", argv, argv + 1);
	return refused();
}

static int exec_memory(struct ctx *c)
{
	(void)c;
	return mmap(NULL, 4096, PROT_READ | PROT_EXEC,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED ?
		       refused() :
		       0;
}

static int signal_parent(struct ctx *c)
{
	(void)c;
	return kill(getppid(), 0) < 0 ? refused() : 0;
}

/* What serving needs: both must work inside. */
static int serve_calls(struct ctx *c)
{
	uint8_t frame[12 + 60] = { 0 };
	struct iovec iov = { frame, sizeof(frame) };

	if (ioctl(c->tap, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4) < 0)
		return refused();
	memset(frame + 12, 0xff, 6); /* broadcast */
	frame[12 + 12] = 0x88;
	frame[12 + 13] = 0xb5;
	/* The tap is up in the child's namespace only if set so: EIO fine. */
	if (writev(c->tap, &iov, 1) < 0 && errno != EIO)
		return refused();
	return 0;
}

static int make_tap(void)
{
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR };
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

	strcpy(ifr.ifr_name, "jailtap0");
	if (fd < 0 || ioctl(fd, TUNSETIFF, &ifr) < 0)
		return -1;
	return fd;
}

/* The child: bulkhead-net's start-up, maybe its jail, then fn. */
static void child(attempt_fn fn, bool jailed)
{
	static struct net_server_config cfg = {
		.params = { .mac = { 2, 0, 0, 0, 0, 1 }, .mtu = 1500 },
		.have_ids = true,
		.uid = 65534,
		.gid = 65534,
	};
	struct ctx c;
	int sv[2], r;

	bh_log_init("test_net_jail", BH_LOG_ERR);
	if (unshare(CLONE_NEWNET) < 0 || (c.tap = make_tap()) < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		_exit(SETUP_FAILED);
	cfg.tap_fd = c.tap;
	if (net_server_open(&c.s, &cfg) < 0 ||
	    net_server_start(&c.s, sv[0]) < 0)
		_exit(SETUP_FAILED);
	if (jailed && net_server_confine(&c.s) < 0)
		_exit(SETUP_FAILED);
	r = fn(&c);
	_exit(r ? r : ESCAPED);
}

/* How the child ended: ESCAPED, an errno, or 128 + a signal. */
static int run(attempt_fn fn, bool jailed)
{
	int status;
	pid_t pid = fork();

	if (pid == 0)
		child(fn, jailed);
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

static const struct {
	const char *name;
	attempt_fn fn;
} attempts[] = {
	{ "open /etc/passwd", open_passwd },
	{ "make a socket", make_socket },
	{ "TUNSETIFF on the tap", tap_setiff },
	{ "TUNSETPERSIST on the tap", tap_persist },
	{ "TUNSETOWNER on the tap", tap_owner },
	{ "TUNGETIFF on the tap", tap_getiff },
	{ "FIONREAD on the socket", ioctl_on_socket },
	{ "writev on the socket", writev_socket },
	{ "exec", exec_true },
	{ "executable memory", exec_memory },
	{ "signal the parent", signal_parent },
};

static void test_escapes(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(attempts) / sizeof(attempts[0]); i++) {
		int r = run(attempts[i].fn, true);

		if (r == ESCAPED || r == SETUP_FAILED)
			fail_msg("%s: %s", attempts[i].name,
				 r == ESCAPED ? "got out of the jail" :
						"the child could not set up");
		print_message("%-30s %s\n", attempts[i].name,
			      r == 128 + SIGSYS ? "killed (SIGSYS)" :
						  strerror(r));
	}
}

/* Without the jail each attempt gets through: the test can fail. */
static void test_unjailed_escapes_succeed(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(attempts) / sizeof(attempts[0]); i++) {
		int r = run(attempts[i].fn, false);

		/* exec replaces the child: /bin/true exits 0 */
		if (attempts[i].fn == exec_true && r == 0)
			continue;
		/* An attached tap takes no second TUNSETIFF: the kernel
		 * says so; the jail kills the asking instead. */
		if (attempts[i].fn == tap_setiff && r == EEXIST)
			continue;
		if (r != ESCAPED)
			fail_msg("%s: refused without the jail too (%d)",
				 attempts[i].name, r);
	}
}

static void test_serving_calls_allowed(void **state)
{
	(void)state;
	assert_int_equal(run(serve_calls, true), ESCAPED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_unjailed_escapes_succeed),
		cmocka_unit_test(test_serving_calls_allowed),
	};

#ifdef SANITIZED
	print_message(
		"sanitizer build: the jail's filter is widened; skipped\n");
	return 0;
#endif
	if (geteuid() != 0 || access("/dev/net/tun", R_OK | W_OK) < 0) {
		print_message("needs root and /dev/net/tun: skipped\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
