/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * HMX (hypervisor-mediated data exchange) ABI, shared by the hypervisor and
 * guest drivers. docs/hmx-abi.md is the specification; this header is its
 * machine-readable half and the two must agree.
 *
 * Ring and message layout follow Xen Argo's public ABI. All fields are
 * little-endian. Guest addresses are guest-physical.
 */
#ifndef BULKHEAD_HMX_H
#define BULKHEAD_HMX_H

#include <linux/types.h>

#define HMX_ABI_VERSION 1

/* Addressing: a VM's vsock CID is its domid; the host is domid 0 (CID 2). */
#define HMX_DOMID_HOST 0x0000
#define HMX_DOMID_FIRST_GUEST 0x0003
#define HMX_DOMID_LAST_GUEST 0x7fef
#define HMX_DOMID_ANY 0x7ff4
/* Firewall wildcard for a port; never a valid ring port. */
#define HMX_PORT_ANY 0xffffffffu

struct hmx_addr {
	__u32 aport;
	__u16 domid;
	__u16 pad; /* must be zero */
};

/* Rings: a 64-byte header, then len bytes of 16-byte slots. */
#define HMX_SLOT_SIZE 16u
#define HMX_ROUNDUP(x) \
	(((x) + HMX_SLOT_SIZE - 1) & ~(__typeof__(x))(HMX_SLOT_SIZE - 1))
#define HMX_RING_HEADER_SIZE 64u
#define HMX_RING_MIN_LEN 48u /* message header + one slot + the free slot */
#define HMX_RING_MAX_LEN (16u << 20)
#define HMX_PAGE_SIZE 4096u

struct hmx_ring {
	__u32 rx_ptr; /* written by the receiver: offset of the next unread slot */
	__u32 tx_ptr; /* written by the hypervisor: offset after the last message */
	__u32 flags; /* written by the hypervisor: HMX_RING_F_* */
	__u8 reserved[52];
	__u8 ring[];
};

/*
 * Set while some sender waits for space in this ring (Bulkhead
 * extension): a receiver that consumed must NOTIFY only when it reads
 * this after storing rx_ptr (with a full barrier between the two).
 */
#define HMX_RING_F_WANT_NOTIFY (1u << 0)

struct hmx_msg_header {
	__u32 len; /* header + payload, before padding to a slot */
	struct hmx_addr source; /* filled in by the hypervisor */
	__u32 message_type;
};

/* The largest payload a ring of data length len can ever hold. */
#define HMX_MAX_PAYLOAD(len) \
	((len) - sizeof(struct hmx_msg_header) - HMX_SLOT_SIZE)

#define HMX_MAXIOV 8u
#define HMX_NOTIFY_MAX_ENTRIES 256u

struct hmx_iov {
	__u64 gpa;
	__u32 len;
	__u32 pad; /* must be zero */
};

/* Operations: the op field of struct hmx_call. */
enum hmx_op {
	HMX_OP_REGISTER_RING = 1,
	HMX_OP_UNREGISTER_RING = 2,
	HMX_OP_SENDV = 3,
	HMX_OP_NOTIFY = 4,
	HMX_OP_PEER_EVENTS = 5, /* Bulkhead extension: which peers went away */
};

#define HMX_REGISTER_FAIL_EXIST (1u << 0)

struct hmx_register_ring {
	__u32 aport;
	__u16 partner; /* a domid, or HMX_DOMID_ANY for a wildcard ring */
	__u16 pad;
	__u32 len; /* data area length, excluding the 64-byte header */
	__u32 npages; /* pages in the list: DIV_ROUNDUP(64 + len, 4096) */
	__u64 pfn_list_gpa; /* array of npages __u64 page frame numbers */
	__u32 flags; /* HMX_REGISTER_* */
	__u32 pad2;
};

struct hmx_unregister_ring {
	__u32 aport;
	__u16 partner;
	__u16 pad;
};

struct hmx_sendv {
	struct hmx_addr src; /* src.domid is ignored: the hypervisor sets it */
	struct hmx_addr dst;
	__u64 iov_gpa; /* array of niov struct hmx_iov */
	__u32 niov;
	__u32 message_type;
};

/* Ring-data flags, set by notify in hmx_ring_data_ent.flags. */
#define HMX_RING_EMPTY (1u << 0) /* the destination ring holds no message */
#define HMX_RING_SUFFICIENT (1u << 1) /* space_required bytes fit now */
#define HMX_RING_EMSGSIZE (1u << 2) /* space_required can never fit */
#define HMX_RING_EXISTS (1u << 3) /* a ring matches and policy allows it */
#define HMX_RING_SHARED (1u << 4) /* the matching ring is a wildcard ring */
#define HMX_RING_EBUSY (1u << 5) /* no wake-up queued: pending queue full */

struct hmx_ring_data_ent {
	struct hmx_addr ring; /* destination to query */
	__u16 flags; /* out */
	__u16 pad;
	__u32 space_required; /* in: payload bytes the caller wants to send */
	__u32 max_message_size; /* out: largest payload the ring can take */
};

struct hmx_ring_data {
	__u32 nent;
	/*
	 * The port the caller would send from, authenticated as sendv's
	 * source port; the firewall judges each query with it. HMX_PORT_ANY:
	 * no particular port, so only rules whose source port is ANY apply.
	 */
	__u32 src_aport;
	struct hmx_ring_data_ent data[];
};

struct hmx_notify {
	__u64 ring_data_gpa; /* struct hmx_ring_data, or 0 for no queries */
};

struct hmx_peer_events {
	__u64 domids_gpa; /* out: array of max __u16 domids */
	__u32 max;
	__u32 count; /* out */
};

/*
 * The hypercall block: 16-byte aligned in guest RAM, not crossing a page.
 * The hypervisor reads it once, runs the operation and writes result (and
 * the op's out fields) back. result is >= 0 on success or a negative Linux
 * errno value.
 */
struct hmx_call {
	__u32 op;
	__s32 result;
	union {
		struct hmx_register_ring register_ring;
		struct hmx_unregister_ring unregister_ring;
		struct hmx_sendv sendv;
		struct hmx_notify notify;
		struct hmx_peer_events peer_events;
		__u8 raw[40];
	} u;
};

/*
 * The HMX controller, a PCI device. Bulkhead has no PCI-SIG vendor ID of its
 * own; it uses the Red Hat paravirtual vendor ID with a device ID that no
 * driver in the guest kernel claims (checked at build time against
 * modules.alias).
 */
#define HMX_PCI_VENDOR_ID 0x1b36
#define HMX_PCI_DEVICE_ID 0x1b4d
#define HMX_PCI_REVISION 0x01
#define HMX_PCI_CLASS 0x088000 /* base system peripheral, other */

/* BAR0: I/O ports, HMX_IO_BAR_SIZE bytes, 32-bit accesses only. */
#define HMX_IO_BAR_SIZE 32u
#define HMX_REG_CALL_HI 0x00 /* w: high half of the call block GPA (per vCPU) */
#define HMX_REG_CALL_LO 0x04 /* w: low half; runs the call, clears CALL_HI */
#define HMX_REG_IRQ_STATUS 0x08 /* r: pending HMX_IRQ_* bits, cleared by read */
#define HMX_REG_DOMID 0x0c /* r: this VM's domid */
#define HMX_REG_ABI_VERSION 0x10 /* r: HMX_ABI_VERSION */
/* Bulkhead extension: the interrupt status word in guest memory. */
#define HMX_REG_FEATURES 0x14 /* r: HMX_FEATURE_* (an old device: ~0) */
#define HMX_REG_STATUS_HI 0x18 /* w: high half of the status word's GPA */
#define HMX_REG_STATUS_LO 0x1c /* w: low half, registers (0: off); r: on? */

#define HMX_FEATURE_STATUS_WORD (1u << 0)
/*
 * In the status word: set by the guest while it drains; the hypervisor
 * raises the MSI-X vector only when the word goes from 0 to non-zero.
 */
#define HMX_STATUS_BUSY (1u << 31)

/* BAR1: memory, MSI-X table at 0 and PBA at HMX_MSIX_PBA_OFFSET. */
#define HMX_MMIO_BAR_SIZE 4096u
#define HMX_MSIX_VECTORS 1u
#define HMX_MSIX_PBA_OFFSET 0x800u

#define HMX_IRQ_DATA (1u << 0) /* a ring of yours received a message */
#define HMX_IRQ_SPACE (1u << 1) /* space you waited for is free */
#define HMX_IRQ_PEER_GONE (1u << 2) /* a peer went away: call PEER_EVENTS */

_Static_assert(sizeof(struct hmx_addr) == 8, "hmx_addr");
_Static_assert(sizeof(struct hmx_ring) == HMX_RING_HEADER_SIZE, "hmx_ring");
_Static_assert(sizeof(struct hmx_msg_header) == 16, "hmx_msg_header");
_Static_assert(sizeof(struct hmx_iov) == 16, "hmx_iov");
_Static_assert(sizeof(struct hmx_register_ring) == 32, "hmx_register_ring");
_Static_assert(sizeof(struct hmx_sendv) == 32, "hmx_sendv");
_Static_assert(sizeof(struct hmx_ring_data_ent) == 20, "hmx_ring_data_ent");
_Static_assert(sizeof(struct hmx_call) == 48, "hmx_call");

#endif
