/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Validation of vhost-user messages from a front end, before any field is
 * acted on: header version and flags, the exact payload size each request
 * has, and how many descriptors may come with it. Pure logic.
 */
#ifndef BH_DEVMODEL_VHOST_MSG_H
#define BH_DEVMODEL_VHOST_MSG_H

#include <stdbool.h>
#include <stddef.h>

#include "virtio/vhost_user.h"

/* Name of a request for log lines ("SET_MEM_TABLE"), or NULL if unknown. */
const char *vhost_msg_name(uint32_t request);

/* True if the request always has a reply (GET_*), NEED_REPLY or not. */
bool vhost_msg_has_reply(uint32_t request);

/*
 * Checks a front end's message: hdr as received, the payload (hdr->size
 * bytes, at most VHOST_USER_PAYLOAD_MAX, already read) and the number of
 * descriptors that came with it. Only requests this back end serves are
 * valid. Returns 0, or -1 with *why set to a static reason.
 */
int vhost_msg_check(const struct vhost_user_msg *msg, unsigned int nfds,
		    const char **why);

#endif
