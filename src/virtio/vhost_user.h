/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The vhost-user wire protocol (QEMU's docs/interop/vhost-user.rst), as
 * far as Bulkhead speaks it: the front end in bulkhead-hv and the device
 * models (src/devmodel) share these definitions. Every field is
 * little-endian on x86; messages travel over a unix stream socket, with
 * descriptors as SCM_RIGHTS on the header's recvmsg.
 */
#ifndef BH_VIRTIO_VHOST_USER_H
#define BH_VIRTIO_VHOST_USER_H

#include <stdint.h>

#define VHOST_USER_VERSION 0x1
#define VHOST_USER_VERSION_MASK 0x3
#define VHOST_USER_FLAG_REPLY (1u << 2)
#define VHOST_USER_FLAG_NEED_REPLY (1u << 3)

/* Feature bit 30 of GET_FEATURES: the protocol-feature handshake exists. */
#define VHOST_USER_F_PROTOCOL_FEATURES 30

enum vhost_user_protocol_feature {
	VHOST_USER_PROTOCOL_F_MQ = 0,
	VHOST_USER_PROTOCOL_F_LOG_SHMFD = 1,
	VHOST_USER_PROTOCOL_F_RARP = 2,
	VHOST_USER_PROTOCOL_F_REPLY_ACK = 3,
	VHOST_USER_PROTOCOL_F_MTU = 4,
	VHOST_USER_PROTOCOL_F_BACKEND_REQ = 5,
	VHOST_USER_PROTOCOL_F_CROSS_ENDIAN = 6,
	VHOST_USER_PROTOCOL_F_CRYPTO_SESSION = 7,
	VHOST_USER_PROTOCOL_F_PAGEFAULT = 8,
	VHOST_USER_PROTOCOL_F_CONFIG = 9,
	VHOST_USER_PROTOCOL_F_BACKEND_SEND_FD = 10,
	VHOST_USER_PROTOCOL_F_HOST_NOTIFIER = 11,
	VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD = 12,
	VHOST_USER_PROTOCOL_F_RESET_DEVICE = 13,
	VHOST_USER_PROTOCOL_F_INBAND_NOTIFICATIONS = 14,
	VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS = 15,
	VHOST_USER_PROTOCOL_F_STATUS = 16,
};

/* Front end to back end. */
enum vhost_user_request {
	VHOST_USER_NONE = 0,
	VHOST_USER_GET_FEATURES = 1,
	VHOST_USER_SET_FEATURES = 2,
	VHOST_USER_SET_OWNER = 3,
	VHOST_USER_RESET_OWNER = 4,
	VHOST_USER_SET_MEM_TABLE = 5,
	VHOST_USER_SET_LOG_BASE = 6,
	VHOST_USER_SET_LOG_FD = 7,
	VHOST_USER_SET_VRING_NUM = 8,
	VHOST_USER_SET_VRING_ADDR = 9,
	VHOST_USER_SET_VRING_BASE = 10,
	VHOST_USER_GET_VRING_BASE = 11,
	VHOST_USER_SET_VRING_KICK = 12,
	VHOST_USER_SET_VRING_CALL = 13,
	VHOST_USER_SET_VRING_ERR = 14,
	VHOST_USER_GET_PROTOCOL_FEATURES = 15,
	VHOST_USER_SET_PROTOCOL_FEATURES = 16,
	VHOST_USER_GET_QUEUE_NUM = 17,
	VHOST_USER_SET_VRING_ENABLE = 18,
	VHOST_USER_SEND_RARP = 19,
	VHOST_USER_NET_SET_MTU = 20,
	VHOST_USER_SET_BACKEND_REQ_FD = 21,
	VHOST_USER_IOTLB_MSG = 22,
	VHOST_USER_SET_VRING_ENDIAN = 23,
	VHOST_USER_GET_CONFIG = 24,
	VHOST_USER_SET_CONFIG = 25,
	VHOST_USER_GET_INFLIGHT_FD = 31,
	VHOST_USER_SET_INFLIGHT_FD = 32,
	VHOST_USER_RESET_DEVICE = 34,
	VHOST_USER_GET_MAX_MEM_SLOTS = 36,
	VHOST_USER_ADD_MEM_REG = 37,
	VHOST_USER_REM_MEM_REG = 38,
	VHOST_USER_SET_STATUS = 39,
	VHOST_USER_GET_STATUS = 40,
};

struct vhost_user_header {
	uint32_t request;
	uint32_t flags; /* version in bits 0-1, REPLY, NEED_REPLY */
	uint32_t size; /* payload bytes after the header */
} __attribute__((packed));

/* The largest payload either side accepts (a full memory table). */
#define VHOST_USER_MAX_REGIONS 8
#define VHOST_USER_CONFIG_MAX 256
/* SCM_RIGHTS descriptors in one message, at most. */
#define VHOST_USER_MAX_FDS VHOST_USER_MAX_REGIONS

struct vhost_user_region {
	uint64_t guest_phys_addr;
	uint64_t memory_size;
	uint64_t userspace_addr; /* the front end's mapping; names rings */
	uint64_t mmap_offset; /* into the region's descriptor */
} __attribute__((packed));

struct vhost_user_memory {
	uint32_t nregions;
	uint32_t padding;
	struct vhost_user_region regions[VHOST_USER_MAX_REGIONS];
} __attribute__((packed));

struct vhost_user_vring_state {
	uint32_t index;
	uint32_t num;
} __attribute__((packed));

#define VHOST_USER_VRING_F_LOG 0x1
struct vhost_user_vring_addr {
	uint32_t index;
	uint32_t flags;
	/* Front-end virtual addresses, translated through the memory table. */
	uint64_t desc_user_addr;
	uint64_t used_user_addr;
	uint64_t avail_user_addr;
	uint64_t log_guest_addr;
} __attribute__((packed));

/* SET_VRING_KICK/CALL/ERR payload: index, and NOFD when no fd comes. */
#define VHOST_USER_VRING_INDEX_MASK 0xffull
#define VHOST_USER_VRING_NOFD (1ull << 8)

struct vhost_user_config {
	uint32_t offset;
	uint32_t size;
	uint32_t flags;
	uint8_t payload[VHOST_USER_CONFIG_MAX];
} __attribute__((packed));
#define VHOST_USER_CONFIG_HDR_SIZE 12

union vhost_user_payload {
	uint64_t u64;
	struct vhost_user_vring_state state;
	struct vhost_user_vring_addr addr;
	struct vhost_user_memory memory;
	struct vhost_user_config config;
};

struct vhost_user_msg {
	struct vhost_user_header hdr;
	union vhost_user_payload p;
} __attribute__((packed));

#define VHOST_USER_HDR_SIZE sizeof(struct vhost_user_header)
#define VHOST_USER_PAYLOAD_MAX sizeof(union vhost_user_payload)

#endif
