// SPDX-License-Identifier: GPL-2.0-only
/* The control framing (util/control_frame.c) over a socketpair. */
#include "util/control_frame.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

struct pair {
	int a, b;
	char *buf; /* CONTROL_FRAME_MAX_BYTES + 1 */
};

static int setup(void **state)
{
	struct pair *p = calloc(1, sizeof(*p));
	int sv[2];

	assert_non_null(p);
	assert_int_equal(
		socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	p->a = sv[0];
	p->b = sv[1];
	p->buf = malloc(CONTROL_FRAME_MAX_BYTES + 1);
	assert_non_null(p->buf);
	*state = p;
	return 0;
}

static int teardown(void **state)
{
	struct pair *p = *state;

	if (p->a >= 0)
		close(p->a);
	close(p->b);
	free(p->buf);
	free(p);
	return 0;
}

static unsigned int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	unsigned int n = 0;

	assert_non_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* Sends with sendmsg() directly, past the limits control_frame_send keeps. */
static void raw_send(int sock, const void *data, size_t len, const int *fds,
		     size_t nfds)
{
	char ctl[CMSG_SPACE(64 * sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = (void *)data, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	assert_true(nfds <= 64);
	if (nfds) {
		struct cmsghdr *c;

		mh.msg_control = ctl;
		mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
	}
	assert_int_equal(sendmsg(sock, &mh, 0), (ssize_t)len);
}

static void test_bytes_and_fds(void **state)
{
	struct pair *p = *state;
	int pipefd[2], fds[CONTROL_FRAME_MAX_FDS];
	size_t nfds = 99;
	char c = 0;

	assert_int_equal(pipe(pipefd), 0);
	assert_int_equal(control_frame_send(p->a, "{\"op\":1}", 8, pipefd, 2),
			 0);
	assert_int_equal(control_frame_recv(p->b, p->buf, fds, &nfds), 8);
	assert_string_equal(p->buf, "{\"op\":1}");
	assert_int_equal(nfds, 2);
	/* New descriptors for the same pipe, close-on-exec. */
	assert_true(fcntl(fds[0], F_GETFD) & FD_CLOEXEC);
	assert_true(fcntl(fds[1], F_GETFD) & FD_CLOEXEC);
	assert_int_equal(write(fds[1], "x", 1), 1);
	assert_int_equal(read(pipefd[0], &c, 1), 1);
	assert_int_equal(c, 'x');
	for (int i = 0; i < 2; i++) {
		close(fds[i]);
		close(pipefd[i]);
	}
}

static void test_size_limit(void **state)
{
	struct pair *p = *state;
	char *big = calloc(1, CONTROL_FRAME_MAX_BYTES + 1);
	int fds[CONTROL_FRAME_MAX_FDS];
	size_t nfds;

	assert_non_null(big);
	memset(big, 'a', CONTROL_FRAME_MAX_BYTES + 1);
	/* Exactly the limit passes, and is NUL-terminated. */
	assert_int_equal(control_frame_send(p->a, big, CONTROL_FRAME_MAX_BYTES,
					    NULL, 0),
			 0);
	assert_int_equal(control_frame_recv(p->b, p->buf, fds, &nfds),
			 CONTROL_FRAME_MAX_BYTES);
	assert_int_equal(p->buf[CONTROL_FRAME_MAX_BYTES], '\0');
	assert_int_equal(nfds, 0);
	/* One byte more is refused by the sender, before anything is sent. */
	assert_int_equal(control_frame_send(p->a, big,
					    CONTROL_FRAME_MAX_BYTES + 1, NULL,
					    0),
			 -EMSGSIZE);
	/* ...and by the receiver, when another sender sends it anyway. */
	raw_send(p->a, big, CONTROL_FRAME_MAX_BYTES + 1, NULL, 0);
	assert_int_equal(control_frame_recv(p->b, p->buf, fds, &nfds),
			 -EMSGSIZE);
	assert_int_equal(nfds, 0);
	/* The next packet is intact: nothing of the big one is left. */
	assert_int_equal(control_frame_send(p->a, "ok", 2, NULL, 0), 0);
	assert_int_equal(control_frame_recv(p->b, p->buf, fds, &nfds), 2);
	assert_string_equal(p->buf, "ok");
	free(big);
}

static void test_fd_limit(void **state)
{
	struct pair *p = *state;
	int many[CONTROL_FRAME_MAX_FDS + 1], fds[CONTROL_FRAME_MAX_FDS];
	unsigned int before;
	size_t nfds;

	for (int i = 0; i <= CONTROL_FRAME_MAX_FDS; i++) {
		many[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
		assert_true(many[i] >= 0);
	}
	before = open_fds();
	assert_int_equal(control_frame_send(p->a, "m", 1, many,
					    CONTROL_FRAME_MAX_FDS + 1),
			 -EMSGSIZE);
	/* The limit itself passes. */
	assert_int_equal(control_frame_send(p->a, "m", 1, many,
					    CONTROL_FRAME_MAX_FDS),
			 0);
	assert_int_equal(control_frame_recv(p->b, p->buf, fds, &nfds), 1);
	assert_int_equal(nfds, CONTROL_FRAME_MAX_FDS);
	for (size_t i = 0; i < nfds; i++)
		close(fds[i]);
	/* One more: the message is refused and none of them stays open. */
	raw_send(p->a, "m", 1, many, CONTROL_FRAME_MAX_FDS + 1);
	assert_int_equal(control_frame_recv(p->b, p->buf, fds, &nfds),
			 -EMSGSIZE);
	assert_int_equal(nfds, 0);
	assert_int_equal(open_fds(), before);
	for (int i = 0; i <= CONTROL_FRAME_MAX_FDS; i++)
		close(many[i]);
}

static void test_end_and_timeout(void **state)
{
	struct pair *p = *state;
	struct timeval tv = { .tv_usec = 10000 };
	int fds[CONTROL_FRAME_MAX_FDS];
	size_t nfds;

	assert_int_equal(
		setsockopt(p->b, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	assert_int_equal(control_frame_recv(p->b, p->buf, fds, &nfds), -EAGAIN);
	close(p->a);
	p->a = -1;
	assert_int_equal(control_frame_recv(p->b, p->buf, fds, &nfds), 0);
	assert_int_equal(nfds, 0);
	assert_int_equal(control_frame_send(p->b, "x", 1, NULL, 0), -EPIPE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_bytes_and_fds, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_size_limit, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_fd_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_end_and_timeout, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
