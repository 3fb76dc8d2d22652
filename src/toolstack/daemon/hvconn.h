/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * bulkheadd's connection to bulkhead-hv's control socket
 * (docs/control-protocol.md): hello, subscribe, then synchronous calls.
 * Events that arrive while a call waits for its reply are queued.
 */
#ifndef BH_DAEMON_HVCONN_H
#define BH_DAEMON_HVCONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct json_object;

/* -EREMOTEIO: the hypervisor answered ok:false; err holds its message. */
#define HVCONN_REFUSED (-EREMOTEIO)

struct hvconn {
	int fd; /* -1 when not connected */
	uint32_t next_id;
	struct json_object **events; /* queued, oldest first */
	size_t nevents, cap;
	bool has_hmx; /* it knows the hmx.* operations and vm.create's hmx */
	char server[64]; /* its hello "server" string */
};

void hvconn_init(struct hvconn *c);

/*
 * Connects to path, says hello, subscribes and probes for HMX. Returns 0,
 * -ECONNREFUSED/-ENOENT when nothing listens there, or another negative
 * errno with a message in err.
 */
int hvconn_open(struct hvconn *c, const char *path, char *err, size_t errlen);
void hvconn_close(struct hvconn *c);

/*
 * Sends {op, id, fields of args...} with fds and waits for its reply.
 * args is consumed (may be NULL). Returns 0 with *reply (may be NULL if
 * the caller does not want it), HVCONN_REFUSED with the hypervisor's error
 * in err, or another negative errno (connection broken; err says so).
 */
int hvconn_call(struct hvconn *c, const char *op, struct json_object *args,
		const int *fds, size_t nfds, struct json_object **reply,
		char *err, size_t errlen);

/* Reads whatever has arrived without blocking. Returns 0 or -EPIPE etc. */
int hvconn_pump(struct hvconn *c);

/* The oldest queued event (caller puts it), or NULL. */
struct json_object *hvconn_take_event(struct hvconn *c);

/*
 * Starts `hv_path serve --socket sock` in its own session, stdin from
 * /dev/null, stdout and stderr appended to log_path, so it outlives us;
 * with `--vsock vsock_dir` unless that is NULL, and with uid as its uid
 * and gid unless that is 0. Returns its pid or a negative errno.
 */
pid_t hv_spawn(const char *hv_path, const char *sock, const char *log_path,
	       const char *vsock_dir, uint32_t uid);

#endif
