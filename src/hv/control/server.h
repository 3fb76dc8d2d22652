/* SPDX-License-Identifier: GPL-2.0-only */
/* The control socket: where the toolstack drives the hypervisor. */
#ifndef BH_HV_CONTROL_SERVER_H
#define BH_HV_CONTROL_SERVER_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "hv/control/request.h"
#include "hv/event_loop.h"

#define CONTROL_PROTOCOL_VERSION 1

struct hv_host;
struct control_client;

struct control_server {
	struct hv_host *host;
	int listen_fd;
	char path[108];
	struct event_source listen_src;
	struct control_client *clients;
	bool quit;
	/* Scratch space, allocated once per server (no global state). */
	char *rx_buf; /* one received message: CONTROL_FRAME_MAX_BYTES + 1 */
	uint8_t *ring_buf; /* one host-ring message: HMX_RING_MAX_LEN */
};

/* What the protocol remembers about one connection. */
struct control_session {
	bool hello; /* hello succeeded: other requests are accepted */
	bool subscribed; /* events are sent to it */
};

/*
 * Parses and runs one request (len bytes at buf, followed by a NUL) that
 * came with nfds descriptors, which are closed unless an operation took
 * them, and returns the reply to send (the caller puts it). No socket I/O:
 * the connection handler calls it, and so does fuzz/fuzz_control.c.
 */
json_object *control_handle_request(struct control_server *srv,
				    struct control_session *sess,
				    const char *buf, size_t len, const int *fds,
				    int nfds);

/*
 * Sets srv up without a socket: allocates its buffers. 0, or -1 (logged).
 * control_handle_request() needs no more (fuzz/fuzz_control.c).
 */
int control_server_init(struct control_server *srv, struct hv_host *host);

/*
 * control_server_init(), then listens on path (mode 0600; an existing
 * socket there is replaced). 0, or -1 with srv released.
 */
int control_server_open(struct control_server *srv, struct hv_host *host,
			const char *path);

/* Disconnects every client, closes the socket, frees the buffers. */
void control_server_close(struct control_server *srv);

/* Sends an event to every subscribed client; takes ownership of ev. */
void control_server_broadcast(struct control_server *srv, json_object *ev);

/*
 * An operation: fills reply (already {"id", "ok": true}) or fails req.
 * Handlers validate every field they read and reject unknown ones.
 */
typedef void (*control_op_fn)(struct control_server *srv, struct request *req,
			      json_object *reply);

struct control_op {
	const char *name;
	control_op_fn fn;
};

/* Operations on VMs and the host (ops_vm.c), on HMX (ops_hmx.c). */
extern const struct control_op control_vm_ops[];
extern const struct control_op control_hmx_ops[];

#endif
