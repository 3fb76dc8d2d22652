/* SPDX-License-Identifier: GPL-2.0-only */
/* The control socket: where the toolstack drives the hypervisor. */
#ifndef BH_HV_CONTROL_SERVER_H
#define BH_HV_CONTROL_SERVER_H

#include <json-c/json.h>
#include <stdbool.h>
#include <sys/types.h>

#include "hv/control/request.h"
#include "hv/event_loop.h"

struct hv_host;
struct control_client;

struct control_server {
	struct hv_host *host;
	int listen_fd;
	char path[108];
	struct event_source listen_src;
	struct control_client *clients;
	bool quit;
};

/* Listens on path (mode 0600; an existing socket there is replaced). */
int control_server_open(struct control_server *srv, struct hv_host *host,
			const char *path);
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
