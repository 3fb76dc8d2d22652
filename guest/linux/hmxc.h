/* SPDX-License-Identifier: GPL-2.0-only */
/* hmx_core's own declarations, shared by its files; hmx_core.h is its API. */
#ifndef HMXC_H
#define HMXC_H

#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/spinlock.h>

#include "hmx_core.h"

#define HMXC_RING_HASH_BITS 6
#define HMXC_NOTIFY_ENTS 4
#define HMXC_PEER_EVENTS_MAX 32

/*
 * Two hypercall slots per CPU (hmxc_hcall.c says which context takes
 * which): the call block and every small array the call points at, all in
 * one direct-mapped 256-byte block that never crosses a page.
 */
struct hmxc_slot {
	struct hmx_call call;
	__u8 pad0[16];
	union {
		struct hmx_iov iov[HMX_MAXIOV];
		struct {
			struct hmx_ring_data rd;
			struct hmx_ring_data_ent ent[HMXC_NOTIFY_ENTS];
		} notify;
		__u16 domids[HMXC_PEER_EVENTS_MAX];
	} aux;
	__u8 hdr[HMX_CORE_HDR_MAX]; /* the client's message header */
} __aligned(256);

struct hmxc_dev {
	struct pci_dev *pdev;
	void __iomem *io;
	u16 domid;
	struct hmxc_slot *slots; /* two per CPU (hmxc_hcall.c) */
	unsigned int slots_order;
	bool slots_low; /* below 4 GiB: calls need no CALL_HI write */
	struct workqueue_struct *wq;

	atomic_t irq_bits; /* HMX_IRQ_* not yet handled */
	/*
	 * The status word the device ORs HMX_IRQ_* into (NULL: it uses the
	 * IRQ_STATUS register). Held at HMX_STATUS_BUSY while the rx worker
	 * runs, so that senders raise no interrupt the worker would not need.
	 */
	u32 *status_word;
	struct work_struct rx_work;
	atomic_t space_gen; /* bumped by every HMX_IRQ_SPACE */

	struct mutex ring_mutex; /* ring table, registration */
	spinlock_t ref_lock; /* hmx_core_ring.ref */
	struct hlist_head ring_hash[1 << HMXC_RING_HASH_BITS];
	struct list_head rings; /* registered */
	struct hmx_core_ring **snap; /* rx worker's copy of the ring list */
	unsigned int snap_cap;
};

extern struct hmxc_dev *hmxc;
/* Registered clients; changed only with the rx worker quiesced. */
extern struct list_head hmxc_clients;
extern struct mutex hmxc_clients_mutex;

/* Takes the pending interrupt reasons (marks the word busy). */
u32 hmxc_irq_take(void);
/* After a pass: true if reasons came in during it (run another). */
bool hmxc_irq_more(void);

/* hmxc_hcall.c */
int hmxc_hc_register(u32 aport, u16 partner, u32 len, u64 pfn_list_gpa,
		     u32 npages);
int hmxc_hc_unregister(u32 aport, u16 partner);
int hmxc_hc_notify(void);
int hmxc_hc_peer_events(u16 *domids, u32 max);

/* hmxc_ring.c */
void hmxc_rings_partner_gone(u16 domid);
void hmxc_rings_retire(void);
void hmxc_rings_destroy_all(void);
unsigned int hmxc_rings_snapshot(void);
bool hmxc_ring_consume(struct hmx_core_ring *ring);
/* After consuming: does a sender wait for the space (NOTIFY needed)? */
bool hmxc_ring_wants_notify(struct hmx_core_ring *ring);
unsigned int hmxc_rings_count(void);

/* hmxc_rx.c */
void hmxc_rx_work(struct work_struct *work);

#endif
