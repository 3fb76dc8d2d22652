/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The vsock protocol over HMX, shared by the guest's AF_VSOCK transport
 * (guest/linux) and the host's end (src/hv/vsock). docs/hmx-abi.md, section
 * "vsock stream protocol", is the specification.
 *
 * A vsock port is an HMX aport, so the firewall judges vsock flows by their
 * real ports. Every message is one HMX message whose message_type is
 * HMX_VSOCK_MSG(op) and whose payload starts with struct hmx_vsock_hdr.
 * The source address is the HMX header's (authenticated by the hypervisor);
 * the destination port is the aport of the ring the message landed in.
 */
#ifndef BULKHEAD_HMX_VSOCK_H
#define BULKHEAD_HMX_VSOCK_H

#include <linux/types.h>

#define HMX_VSOCK_TAG 0x76730000u /* "vs" in the high half */
#define HMX_VSOCK_TAG_MASK 0xffff0000u
#define HMX_VSOCK_MSG(op) (HMX_VSOCK_TAG | (__u32)(op))
#define HMX_VSOCK_MSG_OP(type) ((type) & ~HMX_VSOCK_TAG_MASK)

enum hmx_vsock_op {
	HMX_VSOCK_OP_REQUEST = 1, /* open a connection */
	HMX_VSOCK_OP_RESPONSE = 2, /* accept it */
	HMX_VSOCK_OP_RST = 3, /* the connection does not exist (any more) */
	HMX_VSOCK_OP_SHUTDOWN = 4, /* flags: directions closed for good */
	HMX_VSOCK_OP_RW = 5, /* stream data */
	HMX_VSOCK_OP_CREDIT_UPDATE = 6, /* only the credit fields matter */
	HMX_VSOCK_OP_DGRAM = 7, /* one datagram, no connection */
};

#define HMX_VSOCK_TYPE_STREAM 1
#define HMX_VSOCK_TYPE_DGRAM 3

/* SHUTDOWN flags: the sender will receive / send no more. */
#define HMX_VSOCK_SHUTDOWN_RCV (1u << 0)
#define HMX_VSOCK_SHUTDOWN_SEND (1u << 1)
#define HMX_VSOCK_SHUTDOWN_ALL \
	(HMX_VSOCK_SHUTDOWN_RCV | HMX_VSOCK_SHUTDOWN_SEND)

/*
 * Leads every payload. Credit (stream sockets): the sender of the message
 * can buffer buf_alloc bytes of this connection and its application has
 * consumed fwd_cnt bytes in total (mod 2^32); a peer never has more than
 * buf_alloc - (bytes_sent - fwd_cnt) bytes in flight.
 */
struct hmx_vsock_hdr {
	__u16 type; /* HMX_VSOCK_TYPE_* */
	__u16 reserved; /* zero */
	__u32 flags; /* SHUTDOWN: HMX_VSOCK_SHUTDOWN_*; otherwise zero */
	__u32 buf_alloc;
	__u32 fwd_cnt;
};

/* Largest RW payload after the header; one RW message never exceeds it. */
#define HMX_VSOCK_MAX_DATA (64u << 10)
/* Largest datagram payload after the header. */
#define HMX_VSOCK_MAX_DGRAM (64u << 10)

/*
 * Ring data length each side registers for a (port, peer) ring: 64 pages
 * with the header. It holds several largest messages, so one reader's pause
 * does not stall a writer that still has credit.
 */
#define HMX_VSOCK_RING_LEN ((256u << 10) - 64u)

/* vsock CIDs and HMX domids: the host is CID 2 and domid 0. */
#define HMX_VSOCK_CID_HOST 2u
#define HMX_VSOCK_CID_TO_DOMID(cid) \
	((cid) == HMX_VSOCK_CID_HOST ? 0u : (__u32)(cid))
#define HMX_VSOCK_DOMID_TO_CID(domid) \
	((domid) == 0 ? HMX_VSOCK_CID_HOST : (__u32)(domid))

_Static_assert(sizeof(struct hmx_vsock_hdr) == 16, "hmx_vsock_hdr");

#endif
