// SPDX-License-Identifier: GPL-2.0-only
#include "util/control_frame.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Exactly the limit: more descriptors set MSG_CTRUNC (the kernel drops them). */
union frame_cmsg {
	char buf[CMSG_SPACE(CONTROL_FRAME_MAX_FDS * sizeof(int))];
	struct cmsghdr align;
};

static void close_fds(int *fds, size_t *nfds)
{
	while (*nfds > 0)
		close(fds[--*nfds]);
}

int control_frame_send(int sock, const void *data, size_t len, const int *fds,
		       size_t nfds)
{
	union frame_cmsg ctl;
	struct iovec iov = { .iov_base = (void *)data, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (len > CONTROL_FRAME_MAX_BYTES || nfds > CONTROL_FRAME_MAX_FDS)
		return -EMSGSIZE;
	if (nfds) {
		struct cmsghdr *c;

		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
	}
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	return (size_t)n == len ? 0 : -EIO;
}

/* Moves the SCM_RIGHTS descriptors of mh into fds (at most the limit). */
static void take_fds(struct msghdr *mh, int *fds, size_t *nfds)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		size_t k;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		if (k > CONTROL_FRAME_MAX_FDS - *nfds)
			k = CONTROL_FRAME_MAX_FDS - *nfds;
		memcpy(fds + *nfds, CMSG_DATA(c), k * sizeof(int));
		*nfds += k;
	}
}

ssize_t control_frame_recv(int sock, char *buf, int *fds, size_t *nfds)
{
	union frame_cmsg ctl;
	/* The limit: a longer packet sets MSG_TRUNC. buf's last byte: NUL. */
	struct iovec iov = { .iov_base = buf,
			     .iov_len = CONTROL_FRAME_MAX_BYTES };
	struct msghdr mh = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = ctl.buf,
		.msg_controllen = sizeof(ctl.buf),
	};
	ssize_t n;

	*nfds = 0;
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	take_fds(&mh, fds, nfds);
	if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
		close_fds(fds, nfds);
		return -EMSGSIZE;
	}
	if (n == 0)
		close_fds(fds, nfds);
	buf[n] = '\0';
	return n;
}
