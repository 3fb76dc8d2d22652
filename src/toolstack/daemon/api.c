// SPDX-License-Identifier: GPL-2.0-only
/*
 * The API socket the bulkhead command talks to: SOCK_SEQPACKET, one JSON
 * request per packet (toolstack/msg.h), file descriptors by SCM_RIGHTS.
 * The socket is 0600 in a 0700 directory, and a peer must also have our
 * uid or be root (SO_PEERCRED), so other users cannot drive VMs.
 */
#include "toolstack/daemon/daemon.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "toolstack/daemon/api_client.h"
#include "toolstack/msg.h"
#include "util/log.h"

#define API_MAX_CLIENTS 64

const char *bhd_err_name(enum bhd_err e)
{
	static const char *const names[] = {
		[BHD_OK] = "ok",
		[BHD_ERR_FAILED] = "error",
		[BHD_ERR_USAGE] = "usage",
		[BHD_ERR_NO_VM] = "no-such-vm",
		[BHD_ERR_TIMEOUT] = "timeout",
		[BHD_ERR_STATE] = "state",
	};

	return names[e];
}

int api_listen(struct bhd *d)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	mode_t old;
	int fd, r;

	if (strlen(d->api_sock) >= sizeof(sa.sun_path)) {
		bh_err("socket path too long: %s", d->api_sock);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, d->api_sock);
	/* Only one daemon holds the state dir lock, so a socket left here
	 * is stale. */
	unlink(d->api_sock);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	old = umask(0177);
	r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r < 0 || chmod(d->api_sock, 0600) < 0 || listen(fd, 16) < 0) {
		r = -errno;
		bh_err("cannot listen on %s: %s", d->api_sock, strerror(-r));
		close(fd);
		return r;
	}
	d->listen_fd = fd;
	return 0;
}

static void client_free(struct bhd *d, struct api_client *c)
{
	struct api_client **p;

	waiters_drop_client(d, c);
	epoll_ctl(d->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	for (p = &d->clients; *p; p = &(*p)->next) {
		if (*p == c) {
			*p = c->next;
			break;
		}
	}
	free(c);
}

void api_on_listen(struct bhd *d)
{
	for (;;) {
		struct epoll_event ev = { .events = EPOLLIN };
		struct api_client *c;
		struct ucred cred;
		socklen_t len = sizeof(cred);
		size_t n = 0;
		int fd;

		fd = accept4(d->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			return;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
		    (cred.uid != 0 && cred.uid != geteuid())) {
			bh_warn("refused a connection from uid %d",
				(int)cred.uid);
			close(fd);
			continue;
		}
		for (c = d->clients; c; c = c->next)
			n++;
		if (n >= API_MAX_CLIENTS) {
			bh_warn("%zu clients connected; refusing another", n);
			close(fd);
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->uid = cred.uid;
		c->pid = cred.pid;
		ev.data.ptr = c;
		if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			close(fd);
			free(c);
			continue;
		}
		c->next = d->clients;
		d->clients = c;
	}
}

void api_on_client(struct bhd *d, struct api_client *c)
{
	struct json_object *req;
	int fds[CONTROL_FRAME_MAX_FDS];
	size_t nfds = 0;
	int r;

	r = msg_recv(c->fd, &req, fds, &nfds);
	if (r == -EBADMSG) {
		/* Nothing to answer to; one line of why, then goodbye. */
		bh_warn("client pid %d sent a malformed message; disconnected",
			(int)c->pid);
		c->dead = true;
	} else if (r < 0) {
		c->dead = true;
	} else {
		api_dispatch(d, c, req, fds, nfds);
		json_object_put(req);
	}
	if (c->dead)
		client_free(d, c);
}

/* Reaps clients whose sends failed while serving someone else. */
void api_reap(struct bhd *d)
{
	struct api_client *c = d->clients, *next;

	for (; c; c = next) {
		next = c->next;
		if (c->dead)
			client_free(d, c);
	}
}

void api_reply(struct bhd *d, struct api_client *c, int64_t id,
	       struct json_object *reply, const int *fds, size_t nfds)
{
	(void)d;
	if (!reply)
		reply = json_object_new_object();
	json_object_object_add(reply, "id", json_object_new_int64(id));
	json_object_object_add(reply, "ok", json_object_new_boolean(true));
	if (!c->dead && msg_send(c->fd, reply, fds, nfds) < 0)
		c->dead = true;
	json_object_put(reply);
}

void api_reply_err(struct bhd *d, struct api_client *c, int64_t id,
		   enum bhd_err code, const char *fmt, ...)
{
	struct json_object *o = json_object_new_object();
	char msg[1024];
	va_list ap;

	(void)d;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_object_object_add(o, "id", json_object_new_int64(id));
	json_object_object_add(o, "ok", json_object_new_boolean(false));
	json_object_object_add(o, "code",
			       json_object_new_string(bhd_err_name(code)));
	json_object_object_add(o, "error", json_object_new_string(msg));
	if (!c->dead && msg_send(c->fd, o, NULL, 0) < 0)
		c->dead = true;
	json_object_put(o);
}

void api_close_all(struct bhd *d)
{
	while (d->clients)
		client_free(d, d->clients);
	if (d->listen_fd >= 0) {
		close(d->listen_fd);
		unlink(d->api_sock);
	}
	d->listen_fd = -1;
}
