/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hmx_vsock: the AF_VSOCK transport over HMX. Internal declarations shared by
 * the files of the module; docs/hmx-abi.md ("vsock stream protocol") is the
 * wire protocol.
 */
#ifndef HVS_H
#define HVS_H

#include <linux/types.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <linux/pci.h>
#include <net/af_vsock.h>

#include <bulkhead/hmx.h>
#include <bulkhead/hmx_vsock.h>

#include "hmx_core.h"

#define HVS_DGRAM_HASH_BITS 6

/* Transport state of one vsock socket (vsk->trans). */
struct hvs_sock {
	struct vsock_sock *vsk;
	struct list_head link; /* hvs.socks */
	struct hmx_core_ring *ring; /* receives this connection; owns our port */

	/* Receive buffer: a byte ring of rx_size bytes; lock_sock. */
	u8 *rx_buf;
	u32 rx_size;
	u32 rx_head; /* offset of the first unread byte */
	u32 rx_used;
	u32 buf_alloc; /* credit we advertise */
	u32 fwd_cnt; /* bytes the application consumed, mod 2^32 */
	u32 last_fwd_cnt; /* fwd_cnt the peer last heard */

	/* Send side; lock_sock. */
	u32 peer_buf_alloc;
	u32 peer_fwd_cnt;
	u32 tx_cnt; /* bytes sent, mod 2^32 */
	bool tx_blocked; /* the peer's ring was full at space_gen tx_gen */
	u32 tx_gen;
	struct page *tx_pages[HMX_MAXIOV - 1];
	u32 tx_chunk; /* bytes per tx page chunk */

	/* Control messages that found the peer's ring full; hvs.ctl_lock. */
	unsigned long ctl_pending; /* BIT(HMX_VSOCK_OP_*) */
	u32 ctl_shutdown; /* flags of the pending SHUTDOWN */
	struct list_head ctl_link; /* hvs.ctl_socks, holds a sock ref */
	struct list_head wait_link; /* hvs.space_waiters, holds a sock ref */

	/* Connection request refused for lack of a ring: retry briefly. */
	struct delayed_work connect_work;
	unsigned int connect_tries;
	bool request_sent; /* REQUEST sent or queued */

	/* Datagrams: our binding, and rings at our port for single peers. */
	struct hlist_node dgram_hash;
	bool dgram_bound;
	struct list_head dgram_rings; /* struct hvs_dgram_ring */
};

struct hvs_dgram_ring {
	struct list_head link;
	struct hmx_core_ring *ring;
};

struct hvs_listener {
	struct list_head link;
	u32 port;
	struct hmx_core_ring *ring; /* NULL: registration refused, retry later */
	unsigned long retry_at; /* jiffies */
	bool seen; /* in the current scan */
};

/* The transport's state; the device and the rings are hmx_core's. */
struct hvs_dev {
	spinlock_t sock_lock; /* socks, dgram_hash */
	struct list_head socks;
	struct hlist_head dgram_hash[1 << HVS_DGRAM_HASH_BITS];

	spinlock_t ctl_lock; /* ctl_socks, space_waiters */
	struct list_head ctl_socks;
	struct list_head space_waiters;
	struct delayed_work retry_work; /* for -EBUSY: no wake-up promised */

	struct mutex listen_mutex;
	struct list_head listeners;
	struct delayed_work listen_work;
	bool stopping;
};

extern struct hvs_dev *hvs;
extern struct hmx_client hvs_client;
extern const struct vsock_transport hvs_transport;
extern unsigned int hvs_listen_scan_ms;
extern unsigned int hvs_credit_div;

/* hvs_hcall.c: vsock messages through hmx_core. */
int hvs_hc_send(u32 src_port, u16 dst_domid, u32 dst_port, u32 op,
		const struct hmx_vsock_hdr *hdr, struct page *const *pages,
		u32 chunk, u32 data_len);
int hvs_hc_send_buf(u32 src_port, u16 dst_domid, u32 dst_port, u32 op,
		    const struct hmx_vsock_hdr *hdr, const void *buf, u32 len);
int hvs_ring_get(u32 aport, u16 partner, struct hmx_core_ring **out);

/* hvs_rx.c: hmx_core's callbacks (its rx worker, process context). */
void hvs_rx_msg(struct hmx_core_ring *ring, const struct hmx_msg_header *mh,
		u32 payload_off);
void hvs_rx_space(void);
void hvs_rx_pass_done(u32 bits);
int hvs_send_rst_to(u32 src_port, u16 dst_domid, u32 dst_port);

/* hvs_stream.c */
int hvs_sock_send_ctl(struct vsock_sock *vsk, u32 op, u32 flags);
void hvs_flush_ctl(void);
void hvs_wake_space_waiters(void);
void hvs_sock_reset(struct sock *sk, int err);
void hvs_peer_gone(u16 domid);
u16 hvs_cid_to_domid(u32 cid);
bool hvs_cid_valid(u32 cid);
void hvs_fill_hdr(struct vsock_sock *vsk, struct hmx_vsock_hdr *hdr, u32 flags);
void hvs_stream_rx_copy(struct vsock_sock *vsk, struct hmx_core_ring *ring,
			u32 off, u32 len);
int hvs_stream_alloc_rx(struct hvs_sock *hs);
int hvs_sock_send_data(struct vsock_sock *vsk, u16 domid, u32 dst_port, u32 op,
		       const struct hmx_vsock_hdr *hdr, struct msghdr *msg,
		       u32 len, u32 *gen);

/* hvs_dgram.c */
int hvs_dgram_bind(struct vsock_sock *vsk, struct sockaddr_vm *addr);
int hvs_dgram_enqueue(struct vsock_sock *vsk, struct sockaddr_vm *remote,
		      struct msghdr *msg, size_t len);
int hvs_dgram_dequeue(struct vsock_sock *vsk, struct msghdr *msg, size_t len,
		      int flags);
bool hvs_dgram_allow(u32 cid, u32 port);
void hvs_dgram_rx(struct hmx_core_ring *ring, const struct hmx_msg_header *mh,
		  u32 off, u32 len);
void hvs_dgram_unbind(struct hvs_sock *hs);
void hvs_dgram_put_rings(struct hvs_sock *hs);

/* hvs_listen.c */
void hvs_listen_work(struct work_struct *work);
void hvs_listen_kick(void);
void hvs_listeners_destroy(void);

/* hvs_transport.c */
int hvs_transport_register(void);
void hvs_transport_unregister(void);

#endif
