/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hmx_core: the guest's driver for the Bulkhead HMX controller, and the
 * API its clients (hmx_vsock, later hmxnet) build on. The core owns the
 * device: the hypercall doorbell, the interrupt, the ordered workqueue
 * everything runs on, and the table of rings this domain registered. A
 * ring belongs to one client; the rx worker, the rings' only reader,
 * hands each message to its ring's client. docs/hmx-abi.md is the ABI.
 */
#ifndef HMX_CORE_H
#define HMX_CORE_H

#include <linux/list.h>
#include <linux/types.h>
#include <linux/workqueue.h>

#include <bulkhead/hmx.h>

/* Largest client header sent in front of a message's data. */
#define HMX_CORE_HDR_MAX 64

/*
 * A ring this domain registered: (our domid, aport, partner). Clients
 * read aport, partner, len and gone; the rest is the core's.
 */
struct hmx_core_ring {
	struct hlist_node hash; /* core ring table, under its mutex */
	struct list_head link; /* registered rings, under its mutex */
	const struct hmx_client *client;
	u32 aport;
	u16 partner;
	int ref; /* under the core's ref lock; 0: waiting to be retired */
	bool gone; /* the hypervisor removed it (partner died) */
	struct hmx_ring *hdr; /* vmap of the pages */
	u32 len; /* data area length */
	u32 rx; /* our consumer offset; rx worker only */
};

/*
 * What a client is told, all on the core's workqueue (process context,
 * one at a time). Every callback is optional.
 */
struct hmx_client {
	const char *name;
	/* A message in one of this client's rings; payload at data offset off. */
	void (*rx)(struct hmx_core_ring *ring, const struct hmx_msg_header *mh,
		   u32 off);
	/* HMX_IRQ_SPACE: some ring we were waiting on has room now. */
	void (*space)(void);
	/* The hypervisor removed a domain; our rings naming it are gone. */
	void (*peer_gone)(u16 domid);
	/* End of an rx worker pass, with the HMX_IRQ_* bits it handled. */
	void (*pass_done)(u32 bits);
	struct list_head link; /* the core's */
};

/* Whether the controller is bound; the calls below need it. */
bool hmx_core_ready(void);
int hmx_client_register(struct hmx_client *c);
void hmx_client_unregister(struct hmx_client *c);

u16 hmx_core_domid(void);
/* The ordered workqueue the rx worker runs on: clients' work shares it. */
struct workqueue_struct *hmx_core_wq(void);
/* Bumped by every HMX_IRQ_SPACE: a sender's record of when it blocked. */
u32 hmx_core_space_gen(void);
/* Runs the rx worker as if the device raised bits (HMX_IRQ_*). */
void hmx_core_kick(u32 bits);

/*
 * Take a reference to ring (aport, partner) of len data bytes (a multiple
 * of HMX_SLOT_SIZE), registering it if needed. Errors are HMX's: -EPERM,
 * -ESRCH, -ENOSPC, -ENOMEM; -EADDRINUSE if another client holds it.
 */
int hmx_core_ring_get(const struct hmx_client *c, u32 aport, u16 partner,
		      u32 len, struct hmx_core_ring **out);
void hmx_core_ring_hold(struct hmx_core_ring *ring);
/* Any context. The last put unregisters the ring once it is drained. */
void hmx_core_ring_put(struct hmx_core_ring *ring);
/* Copy len bytes at data offset off, wrapping at the end of the ring. */
void hmx_core_ring_copy_out(const struct hmx_core_ring *ring, u32 off,
			    void *dst, u32 len);

/*
 * SENDV of hdr (hdr_len <= HMX_CORE_HDR_MAX) then data_len bytes held in
 * pages of chunk bytes each (direct-mapped, contiguous per chunk).
 * Returns the payload length sent or a negative HMX error.
 */
int hmx_core_send_pages(u32 src_aport, u16 dst_domid, u32 dst_aport,
			u32 message_type, const void *hdr, u32 hdr_len,
			struct page *const *pages, u32 chunk, u32 data_len);
/*
 * As hmx_core_send_pages, with the data in niov (< HMX_MAXIOV) ranges of
 * guest-physical memory that stay put until the call returns.
 */
int hmx_core_sendv(u32 src_aport, u16 dst_domid, u32 dst_aport,
		   u32 message_type, const void *hdr, u32 hdr_len,
		   const struct hmx_iov *iov, unsigned int niov);
/* As hmx_core_send_pages, with the data in one direct-mapped buffer. */
int hmx_core_send_buf(u32 src_aport, u16 dst_domid, u32 dst_aport,
		      u32 message_type, const void *hdr, u32 hdr_len,
		      const void *buf, u32 len);

#endif
