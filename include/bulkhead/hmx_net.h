/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hmxnet: Ethernet frames over HMX between a guest's netdev and its
 * backend VM (an NDVM, or a NILF VM in between), shared by the guest
 * module (guest/linux/hmxnet.c), host tools and the fuzz harness.
 * docs/hmx-abi.md, section "hmxnet", is the specification.
 *
 * Vif N of a guest is the pair of rings (HMX_NET_APORT(N), backend) in the
 * guest and (HMX_NET_APORT(N), guest) in the backend: each side sends to
 * the other's ring from its own, so the firewall sees exactly
 * guest:HMX_NET_APORT(N) <-> backend:HMX_NET_APORT(N). Every message is
 * one HMX message whose message_type is HMX_NET_MSG(op) and whose payload
 * starts with struct hmx_net_hdr.
 */
#ifndef BULKHEAD_HMX_NET_H
#define BULKHEAD_HMX_NET_H

#include <linux/types.h>

#define HMX_NET_TAG 0x6e740000u /* "nt" in the high half */
#define HMX_NET_TAG_MASK 0xffff0000u
#define HMX_NET_MSG(op) (HMX_NET_TAG | (__u32)(op))
#define HMX_NET_MSG_OP(type) ((type) & ~HMX_NET_TAG_MASK)

/*
 * aports HMX_NET_APORT_BASE .. HMX_NET_APORT_BASE + HMX_NET_VIFS_MAX - 1
 * are hmxnet's, one per vif; vsock does not bind them.
 */
#define HMX_NET_APORT_BASE 0xfffe0000u
#define HMX_NET_VIFS_MAX 256u
#define HMX_NET_APORT(vif) (HMX_NET_APORT_BASE + (__u32)(vif))

enum hmx_net_op {
	/* The sender is up; flags HMX_NET_HELLO_*; payload struct hmx_net_hello. */
	HMX_NET_OP_HELLO = 1,
	/* One Ethernet frame after the header. */
	HMX_NET_OP_FRAME = 2,
};

/* HELLO: the sender has not heard from this peer yet: answer with HELLO. */
#define HMX_NET_HELLO_ANSWER (1u << 0)

/* virtio-net's header (virtio 1.x, section 5.1.6), little-endian. */
#define HMX_NET_F_NEEDS_CSUM 1u /* vnet_flags: csum_start/offset are set */
#define HMX_NET_F_DATA_VALID 2u /* vnet_flags: the checksum is known good */
#define HMX_NET_GSO_NONE 0u
#define HMX_NET_GSO_TCPV4 1u
#define HMX_NET_GSO_UDP 3u
#define HMX_NET_GSO_TCPV6 4u
#define HMX_NET_GSO_ECN 0x80u

/*
 * Leads every payload. For FRAME, the first ten bytes are a virtio-net
 * header for the frame that follows (checksum to fill in, segmentation
 * to do); for HELLO they are zero.
 */
struct hmx_net_hdr {
	__u8 vnet_flags;
	__u8 gso_type;
	__le16 hdr_len; /* bytes of headers before the GSO payload */
	__le16 gso_size; /* payload bytes per segment */
	__le16 csum_start; /* from the frame's first byte */
	__le16 csum_offset; /* from csum_start */
	__u16 flags; /* HELLO: HMX_NET_HELLO_*; otherwise zero */
};

struct hmx_net_hello {
	__u8 mac[6]; /* the sender's interface address */
	__le16 mtu; /* the sender's MTU */
	__le32 reserved; /* zero */
};

/* Largest frame (Ethernet header included) after the header. */
#define HMX_NET_FRAME_MAX 65535u
#define HMX_NET_FRAME_MIN 14u /* an Ethernet header */

_Static_assert(sizeof(struct hmx_net_hdr) == 12, "hmx_net_hdr");
_Static_assert(sizeof(struct hmx_net_hello) == 12, "hmx_net_hello");

/* Ring data length each side registers for a vif: 1 MiB with the header. */
#define HMX_NET_RING_LEN ((1u << 20) - 64u)

/* A FRAME's header fields, in host order, as the receiver read them once. */
struct hmx_net_frame_info {
	__u8 vnet_flags;
	__u8 gso_type;
	__u16 hdr_len;
	__u16 gso_size;
	__u16 csum_start;
	__u16 csum_offset;
	__u16 flags;
	__u32 len; /* frame bytes after the header */
};

/*
 * Whether a received FRAME may become a packet: 0, or why not (> 0, an
 * HMX_NET_BAD_* for the counters and logs). max_plain is the largest
 * frame without segmentation (the receiver's MTU plus its link headers).
 * The guest module then hands the header to the kernel's own check; this
 * one is pure so it runs, and is fuzzed, in user space too.
 */
enum hmx_net_bad {
	HMX_NET_BAD_LEN = 1, /* under an Ethernet header or over 64 KiB */
	HMX_NET_BAD_FLAGS, /* flags, or unknown vnet_flags bits */
	HMX_NET_BAD_GSO, /* unknown type, ECN without TCP, or size 0 */
	HMX_NET_BAD_MTU, /* over max_plain without segmentation */
	HMX_NET_BAD_CSUM, /* the checksum's place is not in the frame */
	HMX_NET_BAD_HDR_LEN, /* segmentation headers longer than the frame */
};

static inline int hmx_net_frame_check(const struct hmx_net_frame_info *f,
				      __u32 max_plain)
{
	__u8 gso = f->gso_type & (__u8)~HMX_NET_GSO_ECN;

	if (f->len < HMX_NET_FRAME_MIN || f->len > HMX_NET_FRAME_MAX)
		return HMX_NET_BAD_LEN;
	if (f->flags ||
	    (f->vnet_flags & ~(HMX_NET_F_NEEDS_CSUM | HMX_NET_F_DATA_VALID)))
		return HMX_NET_BAD_FLAGS;
	if (gso != HMX_NET_GSO_NONE && gso != HMX_NET_GSO_TCPV4 &&
	    gso != HMX_NET_GSO_UDP && gso != HMX_NET_GSO_TCPV6)
		return HMX_NET_BAD_GSO;
	if ((f->gso_type & HMX_NET_GSO_ECN) &&
	    gso != HMX_NET_GSO_TCPV4 && gso != HMX_NET_GSO_TCPV6)
		return HMX_NET_BAD_GSO;
	if (gso == HMX_NET_GSO_NONE) {
		if (f->gso_size || f->len > max_plain)
			return f->gso_size ? HMX_NET_BAD_GSO : HMX_NET_BAD_MTU;
	} else {
		if (!f->gso_size)
			return HMX_NET_BAD_GSO;
		if (f->hdr_len > f->len)
			return HMX_NET_BAD_HDR_LEN;
	}
	/* 32-bit sums of 16-bit fields: no wrap. */
	if ((f->vnet_flags & HMX_NET_F_NEEDS_CSUM) &&
	    (__u32)f->csum_start + f->csum_offset + 2 > f->len)
		return HMX_NET_BAD_CSUM;
	return 0;
}

#endif
