/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The control framing: one message per SOCK_SEQPACKET packet, with up to
 * CONTROL_FRAME_MAX_FDS file descriptors attached (SCM_RIGHTS). Both the
 * hypervisor's control protocol and bulkheadd's API socket use it; the
 * messages are JSON, which is the callers' business. docs/control-protocol.md
 * ("Transport") is the specification.
 */
#ifndef BH_UTIL_CONTROL_FRAME_H
#define BH_UTIL_CONTROL_FRAME_H

#include <stddef.h>
#include <sys/types.h>

/* The one limit for both ends: a larger packet cannot be received. */
#define CONTROL_FRAME_MAX_BYTES 65536
#define CONTROL_FRAME_MAX_FDS 24

/*
 * Sends len bytes and nfds descriptors as one packet. Returns 0,
 * -EMSGSIZE if len or nfds is over its limit (nothing sent), -EIO on a
 * short send, or another -errno (-EAGAIN: a full non-blocking socket or a
 * send timeout).
 */
int control_frame_send(int sock, const void *data, size_t len, const int *fds,
		       size_t nfds);

/*
 * Receives one packet into buf, which holds CONTROL_FRAME_MAX_BYTES + 1
 * bytes, and NUL-terminates it. Its descriptors (O_CLOEXEC, owned by the
 * caller) go to fds[0 .. *nfds), room for CONTROL_FRAME_MAX_FDS.
 * Returns the length (> 0); 0 at end of stream (or for an empty packet);
 * -EMSGSIZE for a packet over either limit; another -errno (-EAGAIN on a
 * timeout). Whenever it does not return a length, *nfds is 0 and every
 * descriptor received was closed.
 */
ssize_t control_frame_recv(int sock, char *buf, int *fds, size_t *nfds);

#endif
