/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The host's end of vsock over HMX (docs/hmx-abi.md, "vsock stream
 * protocol"), as domid 0, with Firecracker's unix socket convention per VM:
 *
 * - a guest connecting to host port P reaches the unix socket PATH_P (if a
 *   program listens there); the host registers its ring for P when PATH_P
 *   appears, watching the directory with inotify;
 * - a host program connects to PATH, writes "CONNECT <port>\n" and reads
 *   "OK <host port>\n" once the guest accepted; then bytes flow. A refused
 *   or failed connection is closed without an answer.
 *
 * Everything runs on the hypervisor's main thread.
 */
#ifndef BH_HV_VSOCK_HOST_H
#define BH_HV_VSOCK_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hv_vsock;
struct host_hmx;
struct event_loop;
struct json_object;

int hv_vsock_create(struct host_hmx *hh, struct event_loop *loop,
		    struct hv_vsock **out);
void hv_vsock_destroy(struct hv_vsock *vs);

/*
 * Give the VM with this domid (its HMX domain must exist) the unix socket
 * path (which must not exist yet). -errno, with a reason in err.
 */
int hv_vsock_attach(struct hv_vsock *vs, uint16_t domid, const char *path,
		    char *err, size_t errlen);
/*
 * Whether path is dir/NAME: NAME not empty, ".", ".." or holding a '/'.
 * The host end's sockets (PATH and PATH_P) then all lie in dir, which is
 * all the jailed hypervisor sees of the file system.
 */
bool vsock_path_in_dir(const char *path, const char *dir);

/* The VM is going away: close its connections, rings and socket. */
void hv_vsock_detach(struct hv_vsock *vs, uint16_t domid);

/*
 * Every connection's and ring's protocol state (credits, counters, pending
 * control messages), for diagnosing a transfer that stopped moving.
 */
struct json_object *hv_vsock_state(const struct hv_vsock *vs);

#endif
