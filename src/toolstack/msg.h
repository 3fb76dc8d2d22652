/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One JSON object per message of the control framing (util/control_frame.h:
 * SOCK_SEQPACKET, descriptors by SCM_RIGHTS, one size limit). Both the
 * hypervisor's control protocol and bulkheadd's API socket use it.
 */
#ifndef BH_TOOLSTACK_MSG_H
#define BH_TOOLSTACK_MSG_H

#include <stddef.h>

#include "util/control_frame.h"

struct json_object;

/* Sends obj with nfds descriptors. Returns 0 or a negative errno. */
int msg_send(int sock, struct json_object *obj, const int *fds, size_t nfds);

/*
 * Receives one message. Returns 0 with *obj set (and up to
 * CONTROL_FRAME_MAX_FDS descriptors in fds[0..*nfds), owned by the caller,
 * O_CLOEXEC), -EPIPE on end of stream, -EBADMSG for a packet that is not
 * one JSON object (or is over a limit), or another negative errno (-EAGAIN
 * on a timeout). fds may be NULL, in which case descriptors received are
 * closed.
 */
int msg_recv(int sock, struct json_object **obj, int *fds, size_t *nfds);

/* Connects a SOCK_SEQPACKET socket to path. Returns the fd or -errno. */
int msg_connect(const char *path);

#endif
