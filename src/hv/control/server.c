// SPDX-License-Identifier: GPL-2.0-only
#include "hv/control/server.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <bulkhead/hmx.h>

#include "hv/host.h"
#include "util/control_frame.h"
#include "util/log.h"

#define MAX_CLIENTS 64
#define JSON_MAX_DEPTH 8

struct control_client {
	struct control_server *srv;
	struct event_source src;
	struct control_session sess;
	struct control_client *next;
};

static void client_close(struct control_client *c)
{
	struct control_server *srv = c->srv;
	struct control_client **p;

	event_loop_remove(srv->host->loop, &c->src);
	close(c->src.fd);
	for (p = &srv->clients; *p; p = &(*p)->next) {
		if (*p == c) {
			*p = c->next;
			break;
		}
	}
	free(c);
}

/* 0 or -errno. */
static int send_json(int fd, json_object *obj)
{
	size_t len;
	const char *s = json_object_to_json_string_length(
		obj, JSON_C_TO_STRING_PLAIN, &len);

	return control_frame_send(fd, s, len, NULL, 0);
}

void control_server_broadcast(struct control_server *srv, json_object *ev)
{
	struct control_client *c, *next;

	for (c = srv->clients; c; c = next) {
		next = c->next;
		if (c->sess.subscribed && send_json(c->src.fd, ev) < 0)
			client_close(c);
	}
	json_object_put(ev);
}

static const struct control_op *const op_tables[] = { control_vm_ops,
						      control_hmx_ops };

/* Every operation this hypervisor knows: clients test for features here. */
static json_object *op_names_json(void)
{
	json_object *arr = json_object_new_array();
	const struct control_op *op;
	unsigned int t;

	json_object_array_add(arr, json_object_new_string("hello"));
	for (t = 0; t < sizeof(op_tables) / sizeof(op_tables[0]); t++)
		for (op = op_tables[t]; op->name; op++)
			json_object_array_add(arr,
					      json_object_new_string(op->name));
	return arr;
}

static void op_hello(struct control_server *srv, struct request *req,
		     json_object *reply)
{
	static const char *const keys[] = { "op", "id", "version", NULL };
	uint64_t v;

	(void)srv;
	request_only_keys(req, keys);
	v = request_uint(req, "version", true, 1, UINT32_MAX, 0);
	if (request_failed(req))
		return;
	if (v != CONTROL_PROTOCOL_VERSION) {
		request_fail(
			req,
			"protocol version %llu is not supported; this hypervisor speaks %d",
			(unsigned long long)v, CONTROL_PROTOCOL_VERSION);
		return;
	}
	json_object_object_add(reply, "version",
			       json_object_new_int(CONTROL_PROTOCOL_VERSION));
	json_object_object_add(
		reply, "server",
		json_object_new_string("bulkhead-hv " BULKHEAD_VERSION));
	json_object_object_add(reply, "ops", op_names_json());
}

static const struct control_op *find_op(const char *name)
{
	const struct control_op *op;
	unsigned int t;

	for (t = 0; t < sizeof(op_tables) / sizeof(op_tables[0]); t++)
		for (op = op_tables[t]; op->name; op++)
			if (!strcmp(op->name, name))
				return op;
	return NULL;
}

/* Parses one message into req; false (with req->error) if malformed. */
static bool parse_request(struct request *req, const char *buf, size_t len)
{
	struct json_tokener *tok = json_tokener_new_ex(JSON_MAX_DEPTH);

	if (!tok) {
		request_fail(req, "out of memory");
		return false;
	}
	req->obj = json_tokener_parse_ex(tok, buf, (int)len);
	if (!req->obj || json_tokener_get_error(tok) != json_tokener_success ||
	    tok->char_offset != (int)len) {
		request_fail(
			req, "not a single JSON object: %s",
			json_tokener_error_desc(json_tokener_get_error(tok)));
		json_object_put(req->obj);
		req->obj = NULL;
	} else if (!json_object_is_type(req->obj, json_type_object)) {
		request_fail(req, "a request must be a JSON object");
	}
	json_tokener_free(tok);
	return !request_failed(req);
}

json_object *control_handle_request(struct control_server *srv,
				    struct control_session *sess,
				    const char *buf, size_t len, const int *fds,
				    int nfds)
{
	struct request req = { .nfds = nfds };
	const struct control_op *op = NULL;
	json_object *reply = json_object_new_object();
	uint64_t id = 0;

	memcpy(req.fds, fds, sizeof(int) * (size_t)nfds);
	if (parse_request(&req, buf, len)) {
		id = request_uint(&req, "id", false, 0, UINT32_MAX, 0);
		req.op = request_string(&req, "op", true, 64);
	}
	if (!request_failed(&req)) {
		if (!sess->hello && strcmp(req.op, "hello"))
			request_fail(&req, "the first request must be hello");
		else if (!strcmp(req.op, "hello"))
			op_hello(srv, &req, reply);
		else if (!(op = find_op(req.op)))
			request_fail(&req, "unknown operation \"%.64s\"",
				     req.op);
		else
			op->fn(srv, &req, reply);
	}
	if (!request_failed(&req) && req.op && !strcmp(req.op, "hello"))
		sess->hello = true;
	if (!request_failed(&req) && req.op && !strcmp(req.op, "subscribe"))
		sess->subscribed = true;

	json_object_object_add(reply, "id", json_object_new_int64((int64_t)id));
	json_object_object_add(reply, "ok",
			       json_object_new_boolean(!request_failed(&req)));
	if (request_failed(&req)) {
		json_object_object_add(reply, "error",
				       json_object_new_string(req.error));
		bh_debug("control: %s: %s", req.op ? req.op : "?", req.error);
	}
	request_release(&req);
	json_object_put(req.obj);
	return reply;
}

static void handle_message(struct control_client *c, const char *buf,
			   size_t len, int *fds, int nfds)
{
	json_object *reply =
		control_handle_request(c->srv, &c->sess, buf, len, fds, nfds);
	int r = send_json(c->src.fd, reply);

	if (r < 0)
		bh_debug("control: reply not sent: %s", strerror(-r));
	json_object_put(reply);
}

static void on_client(struct event_source *src, uint32_t events)
{
	struct control_client *c = src->opaque;
	int fds[CONTROL_FRAME_MAX_FDS];
	size_t nfds;
	ssize_t n;

	if (events & EPOLLIN) {
		n = control_frame_recv(src->fd, c->srv->rx_buf, fds, &nfds);
		if (n > 0) {
			handle_message(c, c->srv->rx_buf, (size_t)n, fds,
				       (int)nfds);
			return;
		}
		if (n == -EMSGSIZE) {
			bh_warn("control: message over %d bytes or %d fds; client dropped",
				CONTROL_FRAME_MAX_BYTES, CONTROL_FRAME_MAX_FDS);
		} else if (n == -EAGAIN) {
			return;
		}
		client_close(c);
		return;
	}
	if (events & (EPOLLHUP | EPOLLERR))
		client_close(c);
}

static unsigned int client_count(const struct control_server *srv)
{
	const struct control_client *c;
	unsigned int n = 0;

	for (c = srv->clients; c; c = c->next)
		n++;
	return n;
}

static void on_accept(struct event_source *src, uint32_t events)
{
	struct control_server *srv = src->opaque;
	struct control_client *c;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int fd;

	(void)events;
	fd = accept4(src->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
	/* The socket's mode already keeps others out; check the peer too. */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
	    (cred.uid != geteuid() && cred.uid != 0)) {
		bh_warn("control: refused a connection from uid %u",
			(unsigned int)cred.uid);
		close(fd);
		return;
	}
	if (client_count(srv) >= MAX_CLIENTS) {
		bh_warn("control: %d clients connected; refusing another",
			MAX_CLIENTS);
		close(fd);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return;
	}
	c->srv = srv;
	c->src = (struct event_source){ fd, on_client, c };
	if (event_loop_add(srv->host->loop, &c->src, EPOLLIN) < 0) {
		close(fd);
		free(c);
		return;
	}
	c->next = srv->clients;
	srv->clients = c;
}

int control_server_init(struct control_server *srv, struct hv_host *host)
{
	memset(srv, 0, sizeof(*srv));
	srv->host = host;
	srv->listen_fd = -1;
	srv->rx_buf = malloc(CONTROL_FRAME_MAX_BYTES + 1);
	srv->ring_buf = malloc(HMX_RING_MAX_LEN);
	if (!srv->rx_buf || !srv->ring_buf) {
		bh_err("control server: out of memory");
		control_server_close(srv);
		return -1;
	}
	return 0;
}

int control_server_open(struct control_server *srv, struct hv_host *host,
			const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct stat st;
	mode_t old;

	if (control_server_init(srv, host) < 0)
		return -1;
	if (strlen(path) >= sizeof(addr.sun_path)) {
		bh_err("control socket path too long (at most %zu bytes): %s",
		       sizeof(addr.sun_path) - 1, path);
		goto release;
	}
	/* Both are sun_path-sized; the length was checked above. */
	memcpy(srv->path, path, strlen(path) + 1);
	memcpy(addr.sun_path, path, strlen(path) + 1);
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			bh_err("control socket path exists and is not a socket: %s",
			       path);
			goto release;
		}
		unlink(path);
	}
	srv->listen_fd = socket(
		AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (srv->listen_fd < 0)
		goto fail;
	old = umask(0177);
	if (bind(srv->listen_fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		umask(old);
		goto fail;
	}
	umask(old);
	if (listen(srv->listen_fd, 16) < 0)
		goto fail;
	srv->listen_src =
		(struct event_source){ srv->listen_fd, on_accept, srv };
	if (event_loop_add(host->loop, &srv->listen_src, EPOLLIN) < 0)
		goto fail;
	return 0;
fail:
	bh_err("control socket %s: %s", path, strerror(errno));
	if (srv->listen_fd >= 0)
		close(srv->listen_fd);
	srv->listen_fd = -1;
release:
	control_server_close(srv);
	return -1;
}

void control_server_close(struct control_server *srv)
{
	while (srv->clients)
		client_close(srv->clients);
	if (srv->listen_fd >= 0) {
		event_loop_remove(srv->host->loop, &srv->listen_src);
		close(srv->listen_fd);
		unlink(srv->path);
	}
	srv->listen_fd = -1;
	free(srv->rx_buf);
	free(srv->ring_buf);
	srv->rx_buf = NULL;
	srv->ring_buf = NULL;
}
