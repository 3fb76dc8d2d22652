// SPDX-License-Identifier: GPL-2.0-only
/*
 * bulkhead-blk's jail, proved by trying to get out of it. Each attempt
 * runs in a child that goes through bulkhead-blk's own start-up
 * (blk_server_open, blk_server_start: the image locked, the io_uring
 * ring built and restricted, the back end on a socket) and then its own
 * confinement (blk_server_confine: the same jail_config, the same
 * allowlist) and, instead of serving, tries one escape: files by path,
 * another VM's image, the network, unix sockets by path and abstract
 * name, other processes, exec, executable memory, new namespaces, ids,
 * mounts, passing its descriptors on, the ring beyond its restrictions.
 * Each must fail with an error or kill the child with SIGSYS.
 *
 * The same attempts then run with only the namespace half of the jail
 * (jail_isolate, no seccomp) and must fail on their own where that half
 * is what stops them, so each layer is shown to hold by itself.
 * Both as root (the jail switches to uid 65534) and as an unprivileged
 * user (a user namespace), when user namespaces are available.
 *
 * test_blk_jail --without-jail skips the confinement (each child gets a
 * private mount namespace only, so the mount attempt harms nothing):
 * then the escapes succeed and this program must fail.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <netinet/in.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "devmodel/blk/blk_jail.h"
#include "devmodel/blk/blk_server.h"
#include "jail/jail.h"

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif

#define JAIL_ID 65534
/* Child exit codes: an errno (1..125) means the attempt was refused. */
#define ESCAPED 126
#define SETUP_FAILED 127

/* The world outside the jail, made by the parent. */
struct world {
	char dir[64];
	char image[128]; /* served by a child (each its own: a killed
			  * child's ring holds its locks a while longer) */
	char other[128]; /* another VM's image */
	char secret[128]; /* a file nobody gave the child */
	char unix_path[128]; /* a listening unix socket */
	char abstract[64]; /* a listening abstract unix socket */
	int inet_port; /* a listening TCP socket on 127.0.0.1 */
	int fds[3];
	pid_t victim; /* a process to signal and trace */
	bool userns; /* unprivileged user namespaces work */
};

static struct world w;
static bool without_jail;

enum layer {
	FULL, /* blk_server_confine(): what bulkhead-blk does */
	NAMESPACES, /* jail_isolate() alone */
};

/* In the child, after confinement. Returns 0 if it got out, else errno. */
typedef int (*attempt_fn)(struct blk_server *s);

struct attempt {
	const char *name;
	attempt_fn fn;
	/* What the namespace half alone answers; 0: not its job. */
	int ns_errno;
	int ns_errno_userns; /* when it differs in a user namespace */
	/* Stopped by a uid of its own: not when started unprivileged. */
	bool needs_own_uid;
};

static int fail_code(void)
{
	return errno > 0 && errno < ESCAPED ? errno : EINVAL;
}

static int try_open(const char *path, int flags)
{
	int fd = open(path, flags, 0644);

	if (fd < 0)
		return fail_code();
	close(fd);
	return 0;
}

static int open_passwd(struct blk_server *s)
{
	(void)s;
	return try_open("/etc/passwd", O_RDONLY);
}

static int open_other_image(struct blk_server *s)
{
	(void)s;
	return try_open(w.other, O_RDWR);
}

static int open_own_image_by_path(struct blk_server *s)
{
	(void)s;
	return try_open(w.image, O_RDONLY);
}

static int write_secret(struct blk_server *s)
{
	(void)s;
	return try_open(w.secret, O_WRONLY | O_TRUNC);
}

static int create_file(struct blk_server *s)
{
	(void)s;
	return try_open("/planted", O_WRONLY | O_CREAT | O_EXCL);
}

static int list_root(struct blk_server *s)
{
	DIR *d = opendir("/");
	int n = 0;

	(void)s;
	if (!d)
		return fail_code();
	for (struct dirent *e; (e = readdir(d));)
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n ? 0 : ENOENT; /* an empty root shows nothing */
}

static int tcp_connect(struct blk_server *s)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	(void)s;
	if (fd < 0)
		return fail_code();
	sa.sin_port = htons((uint16_t)w.inet_port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = fail_code();

		close(fd);
		return e;
	}
	close(fd);
	return 0;
}

static int unix_connect(const char *path, size_t len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	int e = 0;

	if (fd < 0)
		return fail_code();
	memcpy(sa.sun_path, path, len);
	if (connect(fd, (struct sockaddr *)&sa,
		    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)) <
	    0)
		e = fail_code();
	close(fd);
	return e;
}

static int unix_path_connect(struct blk_server *s)
{
	(void)s;
	return unix_connect(w.unix_path, strlen(w.unix_path) + 1);
}

static int unix_abstract_connect(struct blk_server *s)
{
	(void)s;
	return unix_connect(w.abstract, 1 + strlen(w.abstract + 1));
}

static int signal_other(struct blk_server *s)
{
	(void)s;
	/* Signal 0: the permission check without the signal. */
	return kill(w.victim, 0) < 0 ? fail_code() : 0;
}

static int trace_other(struct blk_server *s)
{
	(void)s;
	if (ptrace(PTRACE_SEIZE, w.victim, NULL, NULL) < 0)
		return fail_code();
	ptrace(PTRACE_DETACH, w.victim, NULL, NULL);
	return 0;
}

static int exec_shell(struct blk_server *s)
{
	char *const argv[] = { "/bin/true", NULL };

	(void)s;
	execve("/bin/true", argv, argv + 1);
	return fail_code();
}

static int map_exec(struct blk_server *s)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_EXEC,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	(void)s;
	if (p == MAP_FAILED)
		return fail_code();
	munmap(p, 4096);
	return 0;
}

static int mprotect_exec(struct blk_server *s)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	(void)s;
	if (p == MAP_FAILED)
		return fail_code();
	return mprotect(p, 4096, PROT_READ | PROT_EXEC) < 0 ? fail_code() : 0;
}

static int fork_child(struct blk_server *s)
{
	pid_t pid = fork();

	(void)s;
	if (pid < 0)
		return fail_code();
	if (!pid)
		_exit(0);
	waitpid(pid, NULL, 0);
	return 0;
}

static int new_user_ns(struct blk_server *s)
{
	(void)s;
	return unshare(CLONE_NEWUSER) < 0 ? fail_code() : 0;
}

static int become_root(struct blk_server *s)
{
	(void)s;
	return setuid(0) < 0 ? fail_code() : 0;
}

static int mount_proc(struct blk_server *s)
{
	(void)s;
	return mount("proc", "/", "proc", 0, NULL) < 0 ? fail_code() : 0;
}

/* The image descriptor handed to the front end: the front end may be
 * another party (bulkhead-hv) that must not get the disk itself. */
static int pass_image_fd(struct blk_server *s)
{
	char c = 0;
	struct iovec iov = { &c, 1 };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct msghdr mh = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = ctl.buf,
		.msg_controllen = sizeof(ctl.buf),
	};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &s->img.fd, sizeof(int));
	return sendmsg(s->sock, &mh, 0) < 0 ? fail_code() : 0;
}

static int new_ring(struct blk_server *s)
{
	struct io_uring ring;
	int r;

	(void)s;
	r = io_uring_queue_init(4, &ring, 0);
	if (r < 0)
		return -r;
	io_uring_queue_exit(&ring);
	return 0;
}

/* io_uring requests do not pass seccomp: the ring's restrictions must. */
static int ring_openat(struct blk_server *s)
{
	struct io_uring_sqe sqe;
	int r;

	memset(&sqe, 0, sizeof(sqe));
	io_uring_prep_openat(&sqe, AT_FDCWD, "/etc/passwd", O_RDONLY, 0);
	r = blk_io_probe(blk_dev_io(s->dev), &sqe);
	if (r >= 0) {
		close(r);
		return 0;
	}
	return -r;
}

static int ring_unregistered_fd(struct blk_server *s)
{
	static char buf[512];
	struct iovec iov = { buf, sizeof(buf) };
	struct io_uring_sqe sqe;
	int r;

	memset(&sqe, 0, sizeof(sqe));
	/* STDERR is open in the child but not a fixed file of the ring. */
	io_uring_prep_readv(&sqe, STDERR_FILENO, &iov, 1, 0);
	r = blk_io_probe(blk_dev_io(s->dev), &sqe);
	return r == -EACCES ? EACCES : 0;
}

static int ring_register_file(struct blk_server *s)
{
	int fds[2];
	int r;

	blk_dev_fds(s->dev, fds);
	r = (int)syscall(__NR_io_uring_register, fds[0],
			 IORING_REGISTER_FILES_UPDATE, NULL, 0);
	return r < 0 ? fail_code() : 0;
}

static const struct attempt attempts[] = {
	{ "open /etc/passwd", open_passwd, ENOENT },
	{ "open another VM's image", open_other_image, ENOENT },
	{ "open its own image by path", open_own_image_by_path, ENOENT },
	{ "write a file it was not given", write_secret, ENOENT },
	{ "create a file", create_file, EROFS },
	{ "see anything in /", list_root, ENOENT },
	{ "connect to 127.0.0.1", tcp_connect, ENETUNREACH },
	{ "connect to a unix socket by path", unix_path_connect, ENOENT },
	{ "connect to an abstract unix socket", unix_abstract_connect,
	  ECONNREFUSED },
	{ "signal another process", signal_other, EPERM, 0, true },
	{ "ptrace another process", trace_other, EPERM, 0, true },
	{ "execve", exec_shell, ENOENT },
	{ "mount", mount_proc, EPERM },
	/* In a user namespace uid 0 is not even mapped. */
	{ "setuid(0)", become_root, EPERM, EINVAL },
	{ "io_uring_register on its ring", ring_register_file, EACCES },
	{ "io_uring OPENAT", ring_openat, EACCES },
	{ "io_uring on a descriptor not registered", ring_unregistered_fd,
	  EACCES },
	/* The filter's alone: */
	{ "mmap PROT_EXEC", map_exec, 0 },
	{ "mprotect PROT_EXEC", mprotect_exec, 0 },
	{ "fork", fork_child, 0 },
	{ "a new user namespace", new_user_ns, 0 },
	{ "a new io_uring", new_ring, 0 },
	{ "pass its image descriptor on", pass_image_fd, 0 },
};

#define NATTEMPTS (sizeof(attempts) / sizeof(attempts[0]))

static int make_file(const char *path, size_t size)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);

	if (fd < 0 || ftruncate(fd, (off_t)size) < 0)
		return -1;
	fchmod(fd, 0666);
	close(fd);
	return 0;
}

static __attribute__((noreturn)) void child(const struct attempt *a,
					    enum layer layer, bool unpriv)
{
	struct blk_server_config c = {
		.image = { .path = w.image, .fd = -1 },
		.layers = { .crypt_key_fd = -1,
			    .overlay_fd = -1,
			    .verity_fd = -1 },
		.nqueues = 1,
		.engine = BLK_IO_URING,
		.have_ids = !unpriv && geteuid() == 0,
		.uid = JAIL_ID,
		.gid = JAIL_ID,
	};
	struct blk_server s;
	struct blk_jail j;
	struct jail_config jc;
	int sv[2], r;

	snprintf(w.image, sizeof(w.image), "%s/disk-%d.img", w.dir,
		 (int)getpid());
	if (make_file(w.image, 1 << 20) < 0)
		_exit(SETUP_FAILED);
	if (unpriv && (setresgid(JAIL_ID, JAIL_ID, JAIL_ID) < 0 ||
		       setresuid(JAIL_ID, JAIL_ID, JAIL_ID) < 0))
		_exit(SETUP_FAILED);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0 ||
	    blk_server_open(&s, &c) < 0 || blk_server_start(&s, sv[0]) < 0)
		_exit(SETUP_FAILED);
	if (without_jail) {
		/* Escapes succeed now: the mount one must land nowhere real. */
		if (unshare(CLONE_NEWNS) < 0 ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
			_exit(SETUP_FAILED);
	} else {
		if (layer == FULL && blk_server_confine(&s) < 0)
			_exit(SETUP_FAILED);
		if (layer == NAMESPACES &&
		    (blk_server_jail(&s, &j, &jc) < 0 || jail_isolate(&jc) < 0))
			_exit(SETUP_FAILED);
	}
	r = a->fn(&s);
	_exit(r ? r : ESCAPED);
}

static void unlink_images(void)
{
	DIR *d = opendir(w.dir);
	char path[sizeof(w.dir) + 256 + 2];

	if (!d)
		return;
	for (struct dirent *e; (e = readdir(d));) {
		if (strncmp(e->d_name, "disk-", 5))
			continue;
		snprintf(path, sizeof(path), "%s/%s", w.dir, e->d_name);
		unlink(path);
	}
	closedir(d);
}

/* Runs one attempt in a child; returns its wait status. */
static int run(const struct attempt *a, enum layer layer, bool unpriv)
{
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid)
		child(a, layer, unpriv);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void check_full(const struct attempt *a, bool unpriv)
{
	int st = run(a, FULL, unpriv);

	unlink_images();
	if (WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS)
		return;
	if (WIFEXITED(st) && WEXITSTATUS(st) == SETUP_FAILED)
		fail_msg("%s: the child could not set up", a->name);
	if (WIFEXITED(st) && WEXITSTATUS(st) == ESCAPED)
		fail_msg("%s: it worked from inside the jail%s", a->name,
			 unpriv ? " (user namespace)" : "");
	if (!WIFEXITED(st))
		fail_msg("%s: child died of signal %d", a->name, WTERMSIG(st));
	/* Refused with an error: fine too, whichever. */
}

static void check_namespaces(const struct attempt *a, bool unpriv)
{
	/* Run unprivileged, the child keeps our uid in a user namespace. */
	bool userns = unpriv || geteuid() != 0;
	int want = userns && a->ns_errno_userns ? a->ns_errno_userns :
						  a->ns_errno;
	int st;

	if (!a->ns_errno || (a->needs_own_uid && geteuid() != 0))
		return;
	st = run(a, NAMESPACES, unpriv);
	unlink_images();
	if (!WIFEXITED(st))
		fail_msg("%s (namespaces only): signal %d", a->name,
			 WTERMSIG(st));
	if (WEXITSTATUS(st) == ESCAPED)
		fail_msg("%s (namespaces only): it worked%s", a->name,
			 unpriv ? " (user namespace)" : "");
	if (WEXITSTATUS(st) != want)
		fail_msg("%s (namespaces only%s): %s, expected %s", a->name,
			 userns ? ", user namespace" : "",
			 strerror(WEXITSTATUS(st)), strerror(want));
}

static void test_attempt(void **state)
{
	const struct attempt *a = *state;

	check_full(a, false);
	check_namespaces(a, false);
	if (geteuid() == 0 && w.userns) {
		check_full(a, true);
		check_namespaces(a, true);
	}
}

static int listen_on(int domain, const struct sockaddr *sa, socklen_t len)
{
	int fd = socket(domain, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, sa, len) < 0 || listen(fd, 8) < 0)
		return -1;
	return fd;
}

/* Whether an unprivileged process can make a user namespace here. */
static bool userns_works(void)
{
	int st;
	pid_t pid = fork();

	if (!pid) {
		if (geteuid() == 0 && setresuid(JAIL_ID, JAIL_ID, JAIL_ID) < 0)
			_exit(1);
		_exit(unshare(CLONE_NEWUSER) < 0);
	}
	return pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
	       !WEXITSTATUS(st);
}

static int setup(void **state)
{
	struct sockaddr_in in = { .sin_family = AF_INET };
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	socklen_t len = sizeof(in);

	(void)state;
	strcpy(w.dir, "/tmp/bh-jail-XXXXXX");
	if (!mkdtemp(w.dir) || chmod(w.dir, 0755) < 0)
		return -1;
	snprintf(w.other, sizeof(w.other), "%s/other-vm.img", w.dir);
	snprintf(w.secret, sizeof(w.secret), "%s/secret", w.dir);
	snprintf(w.unix_path, sizeof(w.unix_path), "%s/listener", w.dir);
	if (make_file(w.other, 1 << 20) < 0 || make_file(w.secret, 16) < 0)
		return -1;
	in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	w.fds[0] = listen_on(AF_INET, (struct sockaddr *)&in, sizeof(in));
	if (w.fds[0] < 0 ||
	    getsockname(w.fds[0], (struct sockaddr *)&in, &len) < 0)
		return -1;
	w.inet_port = ntohs(in.sin_port);
	strcpy(un.sun_path, w.unix_path);
	w.fds[1] = listen_on(AF_UNIX, (struct sockaddr *)&un, sizeof(un));
	chmod(w.unix_path, 0777);
	w.abstract[0] = '\0';
	snprintf(w.abstract + 1, sizeof(w.abstract) - 1, "bh-jail-test-%d",
		 (int)getpid());
	memset(un.sun_path, 0, sizeof(un.sun_path));
	memcpy(un.sun_path, w.abstract, 1 + strlen(w.abstract + 1));
	w.fds[2] =
		listen_on(AF_UNIX, (struct sockaddr *)&un,
			  (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
				      1 + strlen(w.abstract + 1)));
	if (w.fds[1] < 0 || w.fds[2] < 0)
		return -1;
	w.victim = fork();
	if (w.victim == 0) {
		pause();
		_exit(0);
	}
	w.userns = geteuid() == 0 && userns_works();
	if (geteuid() == 0 && !w.userns)
		print_message("note: no unprivileged user namespaces here; "
			      "only the root variant runs\n");
	return w.victim > 0 ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	if (w.victim > 0) {
		kill(w.victim, SIGKILL);
		waitpid(w.victim, NULL, 0);
	}
	for (int i = 0; i < 3; i++)
		if (w.fds[i] >= 0)
			close(w.fds[i]);
	unlink_images();
	unlink(w.other);
	unlink(w.secret);
	unlink(w.unix_path);
	rmdir(w.dir);
	return 0;
}

int main(int argc, char **argv)
{
	struct CMUnitTest tests[NATTEMPTS];

	if (argc > 1 && !strcmp(argv[1], "--without-jail"))
		without_jail = true;
#ifdef SANITIZED
	/* The sanitizer runtimes widen the filter (jail.c): not this one. */
	print_message("skipped: a sanitizer build's jail is wider\n");
	return 77;
#endif
	/* Unprivileged, the jail needs a user namespace (as bulkhead-blk). */
	if (geteuid() != 0 && !userns_works()) {
		print_message("skipped: not root and no user namespaces\n");
		return 77;
	}
	for (size_t i = 0; i < NATTEMPTS; i++)
		tests[i] = (struct CMUnitTest){
			.name = attempts[i].name,
			.test_func = test_attempt,
			.initial_state = (void *)&attempts[i],
		};
	return _cmocka_run_group_tests("blk_jail", tests, NATTEMPTS, setup,
				       teardown);
}
