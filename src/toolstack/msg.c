// SPDX-License-Identifier: GPL-2.0-only
#include "toolstack/msg.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int msg_send(int sock, struct json_object *obj, const int *fds, size_t nfds)
{
	const char *text = json_object_to_json_string_ext(
		obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	union {
		char buf[CMSG_SPACE(sizeof(int) * MSG_MAX_FDS)];
		struct cmsghdr align;
	} ctl;
	struct iovec iov;
	struct msghdr mh = { 0 };
	size_t len;
	ssize_t n;

	if (!text)
		return -ENOMEM;
	len = strlen(text);
	if (len > MSG_MAX_BYTES || nfds > MSG_MAX_FDS)
		return -EMSGSIZE;
	iov.iov_base = (void *)text;
	iov.iov_len = len;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (nfds) {
		struct cmsghdr *c;

		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	return (size_t)n == len ? 0 : -EIO;
}

/* Takes the descriptors out of a received control message. */
static size_t take_fds(struct msghdr *mh, int *fds)
{
	size_t n = 0;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		size_t k, i;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < k; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
			if (fds && n < MSG_MAX_FDS)
				fds[n++] = fd;
			else
				close(fd);
		}
	}
	return n;
}

int msg_recv(int sock, struct json_object **obj, int *fds, size_t *nfds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * (MSG_MAX_FDS + 4))];
		struct cmsghdr align;
	} ctl;
	struct msghdr mh = { 0 };
	struct json_tokener *tok;
	struct iovec iov;
	char *buf;
	size_t got;
	ssize_t n;

	*obj = NULL;
	if (nfds)
		*nfds = 0;
	buf = malloc(MSG_MAX_BYTES + 1);
	if (!buf)
		return -ENOMEM;
	iov.iov_base = buf;
	iov.iov_len = MSG_MAX_BYTES + 1;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = ctl.buf;
	mh.msg_controllen = sizeof(ctl.buf);
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		int e = errno == EWOULDBLOCK ? EAGAIN : errno;

		free(buf);
		return -e;
	}
	got = take_fds(&mh, fds);
	if (nfds)
		*nfds = got;
	if (n == 0) {
		free(buf);
		return -EPIPE;
	}
	if ((size_t)n > MSG_MAX_BYTES ||
	    (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)))
		goto bad;
	tok = json_tokener_new_ex(16);
	if (!tok)
		goto bad;
	*obj = json_tokener_parse_ex(tok, buf, (int)n);
	if (*obj && (json_tokener_get_error(tok) != json_tokener_success ||
		     json_tokener_get_parse_end(tok) != (size_t)n ||
		     !json_object_is_type(*obj, json_type_object))) {
		json_object_put(*obj);
		*obj = NULL;
	}
	json_tokener_free(tok);
	if (!*obj)
		goto bad;
	free(buf);
	return 0;
bad:
	free(buf);
	if (fds && nfds) {
		for (size_t i = 0; i < *nfds; i++)
			close(fds[i]);
		*nfds = 0;
	}
	return -EBADMSG;
}

int msg_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, e;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		e = errno;
		close(fd);
		return -e;
	}
	return fd;
}
