// SPDX-License-Identifier: GPL-2.0-only
/*
 * One table row per request the back end serves: its payload's exact size
 * and its descriptors. A request missing from the table is refused, so a
 * front end cannot reach code for features that were never offered.
 */
#include "devmodel/vhost_msg.h"

#include <stdint.h>

enum payload_kind {
	PAYLOAD_NONE, /* size 0 */
	PAYLOAD_U64,
	PAYLOAD_STATE,
	PAYLOAD_ADDR,
	PAYLOAD_MEMORY, /* 8 + 32 * nregions */
	PAYLOAD_CONFIG, /* 12 + config size */
};

enum fd_kind {
	FDS_NONE,
	FDS_VRING, /* one, unless the NOFD bit is set */
	FDS_REGIONS, /* one per region */
};

struct request_desc {
	const char *name;
	enum payload_kind payload;
	enum fd_kind fds;
	bool reply;
};

#define REQ(r, p, f, rep) [VHOST_USER_##r] = { #r, PAYLOAD_##p, FDS_##f, rep }

static const struct request_desc requests[] = {
	REQ(GET_FEATURES, NONE, NONE, true),
	REQ(SET_FEATURES, U64, NONE, false),
	REQ(SET_OWNER, NONE, NONE, false),
	REQ(RESET_OWNER, NONE, NONE, false),
	REQ(SET_MEM_TABLE, MEMORY, REGIONS, false),
	REQ(SET_VRING_NUM, STATE, NONE, false),
	REQ(SET_VRING_ADDR, ADDR, NONE, false),
	REQ(SET_VRING_BASE, STATE, NONE, false),
	REQ(GET_VRING_BASE, STATE, NONE, true),
	REQ(SET_VRING_KICK, U64, VRING, false),
	REQ(SET_VRING_CALL, U64, VRING, false),
	REQ(SET_VRING_ERR, U64, VRING, false),
	REQ(GET_PROTOCOL_FEATURES, NONE, NONE, true),
	REQ(SET_PROTOCOL_FEATURES, U64, NONE, false),
	REQ(GET_QUEUE_NUM, NONE, NONE, true),
	REQ(SET_VRING_ENABLE, STATE, NONE, false),
	REQ(GET_CONFIG, CONFIG, NONE, true),
	REQ(SET_CONFIG, CONFIG, NONE, false),
	REQ(RESET_DEVICE, NONE, NONE, false),
};

#define NREQUESTS (sizeof(requests) / sizeof(requests[0]))

static const struct request_desc *lookup(uint32_t request)
{
	if (request >= NREQUESTS || !requests[request].name)
		return NULL;
	return &requests[request];
}

const char *vhost_msg_name(uint32_t request)
{
	const struct request_desc *d = lookup(request);

	return d ? d->name : NULL;
}

bool vhost_msg_has_reply(uint32_t request)
{
	const struct request_desc *d = lookup(request);

	return d && d->reply;
}

/* The payload size the request must have; -1 if the payload is malformed. */
static int64_t expected_size(const struct request_desc *d,
			     const struct vhost_user_msg *msg, const char **why)
{
	switch (d->payload) {
	case PAYLOAD_NONE:
		return 0;
	case PAYLOAD_U64:
		return sizeof(uint64_t);
	case PAYLOAD_STATE:
		return sizeof(struct vhost_user_vring_state);
	case PAYLOAD_ADDR:
		return sizeof(struct vhost_user_vring_addr);
	case PAYLOAD_MEMORY:
		if (msg->hdr.size < 8) {
			*why = "memory table shorter than its header";
			return -1;
		}
		if (msg->p.memory.nregions < 1 ||
		    msg->p.memory.nregions > VHOST_USER_MAX_REGIONS) {
			*why = "memory table region count out of range";
			return -1;
		}
		return 8 + (int64_t)msg->p.memory.nregions *
				   sizeof(struct vhost_user_region);
	case PAYLOAD_CONFIG:
		if (msg->hdr.size < VHOST_USER_CONFIG_HDR_SIZE) {
			*why = "config message shorter than its header";
			return -1;
		}
		if (msg->p.config.size > VHOST_USER_CONFIG_MAX) {
			*why = "config size over 256 bytes";
			return -1;
		}
		return VHOST_USER_CONFIG_HDR_SIZE + (int64_t)msg->p.config.size;
	}
	*why = "unknown payload kind";
	return -1;
}

static int check_fds(const struct request_desc *d,
		     const struct vhost_user_msg *msg, unsigned int nfds,
		     const char **why)
{
	unsigned int want = 0;

	switch (d->fds) {
	case FDS_NONE:
		break;
	case FDS_VRING:
		if (msg->p.u64 &
		    ~(VHOST_USER_VRING_INDEX_MASK | VHOST_USER_VRING_NOFD)) {
			*why = "vring descriptor message has unknown bits";
			return -1;
		}
		want = msg->p.u64 & VHOST_USER_VRING_NOFD ? 0 : 1;
		break;
	case FDS_REGIONS:
		want = msg->p.memory.nregions;
		break;
	}
	if (nfds != want) {
		*why = "wrong number of descriptors for the request";
		return -1;
	}
	return 0;
}

int vhost_msg_check(const struct vhost_user_msg *msg, unsigned int nfds,
		    const char **why)
{
	const struct request_desc *d = lookup(msg->hdr.request);
	uint32_t flags = msg->hdr.flags;
	int64_t size;

	if (!d) {
		*why = "unsupported request";
		return -1;
	}
	if ((flags & VHOST_USER_VERSION_MASK) != VHOST_USER_VERSION) {
		*why = "unsupported protocol version";
		return -1;
	}
	if (flags & ~(VHOST_USER_VERSION_MASK | VHOST_USER_FLAG_NEED_REPLY)) {
		*why = "unknown or reply flags on a request";
		return -1;
	}
	if (msg->hdr.size > VHOST_USER_PAYLOAD_MAX) {
		*why = "payload larger than any request's";
		return -1;
	}
	size = expected_size(d, msg, why);
	if (size < 0)
		return -1;
	if (msg->hdr.size != size) {
		*why = "payload size does not match the request";
		return -1;
	}
	return check_fds(d, msg, nfds, why);
}
