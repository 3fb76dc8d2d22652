// SPDX-License-Identifier: GPL-2.0-only
#include "toolstack/daemon/hvconn.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "toolstack/msg.h"
#include "util/log.h"

/* A hypervisor that takes longer than this to answer is considered hung. */
#define HV_CALL_TIMEOUT_S 30

void hvconn_init(struct hvconn *c)
{
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->next_id = 1;
}

void hvconn_close(struct hvconn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	for (size_t i = 0; i < c->nevents; i++)
		json_object_put(c->events[i]);
	free(c->events);
	c->events = NULL;
	c->nevents = c->cap = 0;
}

static int queue_event(struct hvconn *c, struct json_object *ev)
{
	if (c->nevents == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 8;
		struct json_object **n = realloc(c->events, cap * sizeof(*n));

		if (!n) {
			json_object_put(ev);
			return -ENOMEM;
		}
		c->events = n;
		c->cap = cap;
	}
	c->events[c->nevents++] = ev;
	return 0;
}

struct json_object *hvconn_take_event(struct hvconn *c)
{
	struct json_object *ev;

	if (!c->nevents)
		return NULL;
	ev = c->events[0];
	memmove(c->events, c->events + 1,
		(c->nevents - 1) * sizeof(c->events[0]));
	c->nevents--;
	return ev;
}

static bool is_event(struct json_object *m)
{
	return json_object_object_get_ex(m, "event", NULL);
}

int hvconn_pump(struct hvconn *c)
{
	for (;;) {
		struct pollfd p = { .fd = c->fd, .events = POLLIN };
		struct json_object *m;
		int r;

		if (c->fd < 0)
			return -EPIPE;
		if (poll(&p, 1, 0) <= 0)
			return 0;
		r = msg_recv(c->fd, &m, NULL, NULL);
		if (r < 0)
			return r;
		if (!is_event(m)) {
			/* Replies come only to calls, which read their own. */
			bh_warn("hypervisor sent an unexpected reply; ignored");
			json_object_put(m);
			continue;
		}
		queue_event(c, m);
	}
}

int hvconn_call(struct hvconn *c, const char *op, struct json_object *args,
		const int *fds, size_t nfds, struct json_object **reply,
		char *err, size_t errlen)
{
	struct json_object *req = args ? args : json_object_new_object();
	uint32_t id = c->next_id++;
	int r;

	if (reply)
		*reply = NULL;
	if (!req)
		return -ENOMEM;
	if (c->fd < 0) {
		json_object_put(req);
		snprintf(err, errlen, "not connected to the hypervisor");
		return -ENOTCONN;
	}
	json_object_object_add(req, "op", json_object_new_string(op));
	json_object_object_add(req, "id", json_object_new_int64(id));
	r = msg_send(c->fd, req, fds, nfds);
	json_object_put(req);
	if (r < 0) {
		snprintf(err, errlen, "%s: cannot send to the hypervisor: %s",
			 op, strerror(-r));
		return r;
	}
	for (;;) {
		struct json_object *m, *v;

		r = msg_recv(c->fd, &m, NULL, NULL);
		if (r < 0) {
			snprintf(err, errlen,
				 "%s: no answer from the hypervisor: %s", op,
				 r == -EPIPE ? "it closed the connection" :
					       strerror(-r));
			return r == -EAGAIN ? -ETIMEDOUT : r;
		}
		if (is_event(m)) {
			queue_event(c, m);
			continue;
		}
		if (!json_object_object_get_ex(m, "id", &v) ||
		    json_object_get_int64(v) != (int64_t)id) {
			json_object_put(m);
			snprintf(err, errlen, "%s: reply out of order", op);
			return -EPROTO;
		}
		if (!json_object_object_get_ex(m, "ok", &v) ||
		    !json_object_get_boolean(v)) {
			const char *e = "unknown error";

			if (json_object_object_get_ex(m, "error", &v) &&
			    json_object_is_type(v, json_type_string))
				e = json_object_get_string(v);
			snprintf(err, errlen, "%s", e);
			json_object_put(m);
			return HVCONN_REFUSED;
		}
		if (reply)
			*reply = m;
		else
			json_object_put(m);
		return 0;
	}
}

int hvconn_open(struct hvconn *c, const char *path, char *err, size_t errlen)
{
	struct timeval tv = { .tv_sec = HV_CALL_TIMEOUT_S };
	struct json_object *args, *reply, *v;
	char e2[256];
	int fd, r;

	hvconn_close(c);
	hvconn_init(c);
	fd = msg_connect(path);
	if (fd < 0) {
		snprintf(err, errlen, "cannot connect to %s: %s", path,
			 strerror(-fd));
		return fd;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	c->fd = fd;
	args = json_object_new_object();
	json_object_object_add(args, "version", json_object_new_int(1));
	r = hvconn_call(c, "hello", args, NULL, 0, &reply, err, errlen);
	if (r < 0)
		goto fail;
	if (json_object_object_get_ex(reply, "server", &v))
		snprintf(c->server, sizeof(c->server), "%s",
			 json_object_get_string(v));
	json_object_put(reply);
	r = hvconn_call(c, "subscribe", NULL, NULL, 0, NULL, err, errlen);
	if (r < 0)
		goto fail;
	/* HMX support: an older hypervisor refuses the operation by name. */
	r = hvconn_call(c, "hmx.firewall.stats", NULL, NULL, 0, NULL, e2,
			sizeof(e2));
	if (r == 0)
		c->has_hmx = true;
	else if (r == HVCONN_REFUSED && strstr(e2, "unknown operation"))
		c->has_hmx = false;
	else {
		snprintf(err, errlen, "hmx.firewall.stats: %s", e2);
		goto fail;
	}
	return 0;
fail:
	hvconn_close(c);
	return r < 0 ? r : -EPROTO;
}

pid_t hv_spawn(const char *hv_path, const char *sock, const char *log_path,
	       const char *vsock_dir, uint32_t uid)
{
	char uid_arg[24], gid_arg[24];
	const char *argv[10];
	int logfd, nullfd, e, n = 0;
	pid_t pid;

	argv[n++] = hv_path;
	argv[n++] = "serve";
	argv[n++] = "--socket";
	argv[n++] = sock;
	if (vsock_dir) {
		argv[n++] = "--vsock";
		argv[n++] = vsock_dir;
	}
	if (uid) {
		snprintf(uid_arg, sizeof(uid_arg), "--uid=%u", uid);
		snprintf(gid_arg, sizeof(gid_arg), "--gid=%u", uid);
		argv[n++] = uid_arg;
		argv[n++] = gid_arg;
	}
	argv[n] = NULL;

	logfd = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (logfd < 0)
		return -errno;
	nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (nullfd < 0) {
		e = errno;
		close(logfd);
		return -e;
	}
	pid = fork();
	if (pid == 0) {
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGCHLD, SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
		setsid();
		dup2(nullfd, STDIN_FILENO);
		dup2(logfd, STDOUT_FILENO);
		dup2(logfd, STDERR_FILENO);
		execvp(hv_path, (char *const *)argv);
		dprintf(STDERR_FILENO, "bulkheadd: cannot run %s: %s\n",
			hv_path, strerror(errno));
		_exit(127);
	}
	e = errno;
	close(logfd);
	close(nullfd);
	return pid < 0 ? -e : pid;
}
