// SPDX-License-Identifier: GPL-2.0-only
/*
 * The jail's one bound directory (what bulkhead-hv serve --vsock DIR
 * gets), proved from inside: a child enters the jail with DIR bound and
 * then tries one thing. A unix socket in DIR can be connected to and a
 * file made there (its own only: umask 077); a socket outside DIR, a
 * symlink in DIR to it, a file of the host's, the rest of the new root
 * and the network are out of reach. Each escape attempt succeeds without
 * the jail, so the test can fail. As root the child becomes an
 * unprivileged uid that may write DIR; otherwise the jail makes a user
 * namespace of the caller's ids.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <netinet/in.h>

#include <cmocka.h>

#include "jail/jail.h"

#define JAILED_UID 1537
#define SETUP_FAILED 127

struct dirs {
	char in[64]; /* bound into the jail */
	char out[64]; /* left outside */
};

static struct dirs dirs;

static int listen_at(const char *dir, const char *name)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", dir, name);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	/* Anyone may connect: only the jail may keep the child out. */
	assert_int_equal(chmod(sa.sun_path, 0666), 0);
	assert_int_equal(listen(fd, 4), 0);
	return fd;
}

static int connect_to(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int r;

	if (fd < 0)
		return errno;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	r = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ? errno : 0;
	close(fd);
	return r;
}

static int setup(void **state)
{
	(void)state;
	strcpy(dirs.in, "/tmp/bh-jail-in-XXXXXX");
	strcpy(dirs.out, "/tmp/bh-jail-out-XXXXXX");
	if (!mkdtemp(dirs.in) || !mkdtemp(dirs.out))
		return -1;
	if (chmod(dirs.out, 0755) < 0)
		return -1;
	{
		char p[128];
		int fd;

		snprintf(p, sizeof(p), "%s/file", dirs.out);
		fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0)
			return -1;
		close(fd);
	}
	if (geteuid() == 0 && chown(dirs.in, JAILED_UID, JAILED_UID) < 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	char cmd[200];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s %s", dirs.in, dirs.out);
	return system(cmd) == 0 ? 0 : -1;
}

typedef int (*attempt_fn)(void);

static int enter(void)
{
	struct jail_config cfg = {
		.keep_all_fds = true,
		.bind_dir = dirs.in,
		.have_ids = geteuid() == 0,
		.uid = JAILED_UID,
		.gid = JAILED_UID,
	};

	return jail_isolate(&cfg);
}

/* Runs attempt in a child, jailed or not; its exit status (errno or 0). */
static int run(attempt_fn attempt, bool jailed)
{
	pid_t pid = fork();
	int st;

	assert_true(pid >= 0);
	if (pid == 0)
		_exit(jailed && enter() < 0 ? SETUP_FAILED : attempt());
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_not_equal(WEXITSTATUS(st), SETUP_FAILED);
	return WEXITSTATUS(st);
}

static int connect_inside(void)
{
	char p[128];

	snprintf(p, sizeof(p), "%s/in.sock", dirs.in);
	return connect_to(p);
}

static int connect_outside(void)
{
	char p[128];

	snprintf(p, sizeof(p), "%s/out.sock", dirs.out);
	return connect_to(p);
}

static int connect_through_symlink(void)
{
	char p[128];

	snprintf(p, sizeof(p), "%s/link.sock", dirs.in);
	return connect_to(p);
}

/* Made in DIR, and private to its maker (umask 077). */
static int make_file(void)
{
	char p[128];
	struct stat st;
	int fd;

	snprintf(p, sizeof(p), "%s/made", dirs.in);
	fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	if (fd < 0)
		return errno;
	close(fd);
	if (stat(p, &st) < 0 || unlink(p) < 0)
		return errno;
	return (st.st_mode & 0777) == 0600 ? 0 : EINVAL;
}

static int read_host_file(void)
{
	char p[128];
	int fd;

	snprintf(p, sizeof(p), "%s/file", dirs.out);
	fd = open(p, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

/* Beside DIR, on the new root itself: read-only. */
static int make_beside(void)
{
	return mkdir("/tmp/bh-jail-beside", 0700) < 0 ? errno : 0;
}

static int inet_connect(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(9),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int r;

	if (fd < 0)
		return errno;
	/* No interface is up in an empty network namespace. */
	r = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ? errno : 0;
	close(fd);
	return r;
}

static void test_what_dir_allows(void **state)
{
	int a;

	(void)state;
	a = listen_at(dirs.in, "in.sock");
	assert_int_equal(run(connect_inside, true), 0);
	assert_int_equal(run(make_file, true), 0);
	close(a);
}

static void test_nothing_else_is_reachable(void **state)
{
	char out[128], link[128];
	int a = listen_at(dirs.out, "out.sock");

	(void)state;
	snprintf(out, sizeof(out), "%s/out.sock", dirs.out);
	snprintf(link, sizeof(link), "%s/link.sock", dirs.in);
	assert_int_equal(symlink(out, link), 0);
	/* Each works without the jail... */
	assert_int_equal(run(connect_outside, false), 0);
	assert_int_equal(run(connect_through_symlink, false), 0);
	assert_int_equal(run(read_host_file, false), 0);
	assert_int_equal(run(inet_connect, false), 0);
	/* ...and fails in it. */
	assert_int_equal(run(connect_outside, true), ENOENT);
	assert_int_equal(run(connect_through_symlink, true), ENOENT);
	assert_int_equal(run(read_host_file, true), ENOENT);
	assert_int_not_equal(run(make_beside, true), 0);
	assert_int_equal(run(inet_connect, true), ENETUNREACH);
	unlink(link);
	close(a);
}

static void test_dir_ok(void **state)
{
	(void)state;
	assert_true(jail_dir_ok("/run/bulkhead/vsock"));
	assert_true(jail_dir_ok("/a"));
	assert_false(jail_dir_ok("/"));
	assert_false(jail_dir_ok("run/bulkhead"));
	assert_false(jail_dir_ok("/run//bulkhead"));
	assert_false(jail_dir_ok("/run/bulkhead/"));
	assert_false(jail_dir_ok("/run/./bulkhead"));
	assert_false(jail_dir_ok("/run/../etc"));
	assert_true(jail_dir_ok("/run/..x/.y"));
	{
		char deep[4 * JAIL_PATH_DEPTH_MAX + 1] = "";

		for (int i = 0; i < JAIL_PATH_DEPTH_MAX - 2; i++)
			strcat(deep, "/d");
		assert_true(jail_dir_ok(deep));
		strcat(deep, "/d");
		assert_false(jail_dir_ok(deep));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dir_ok),
		cmocka_unit_test(test_what_dir_allows),
		cmocka_unit_test(test_nothing_else_is_reachable),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
