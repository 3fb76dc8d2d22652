/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Control-protocol framing: one JSON object per SOCK_SEQPACKET message,
 * with up to CONTROL_MAX_FDS file descriptors attached (SCM_RIGHTS).
 * docs/control-protocol.md is the specification.
 */
#ifndef BH_HV_CONTROL_WIRE_H
#define BH_HV_CONTROL_WIRE_H

#include <stddef.h>
#include <sys/types.h>

#define CONTROL_PROTOCOL_VERSION 1
#define CONTROL_MAX_MSG (64 * 1024)
#define CONTROL_MAX_FDS 24

/*
 * Receives one message into buf (NUL-terminated; at most len - 1 bytes)
 * and its fds. Returns the length, 0 on orderly close, -1 on error (errno;
 * EMSGSIZE if the message or its fds were truncated: any fds are closed).
 */
ssize_t wire_recv(int sock, char *buf, size_t len, int *fds, int *nfds);

/* Sends one message with nfds fds; returns 0 or -1. */
int wire_send(int sock, const char *msg, size_t len, const int *fds, int nfds);

#endif
