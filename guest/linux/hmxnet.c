// SPDX-License-Identifier: GPL-2.0-only
/*
 * hmxnet: Ethernet over HMX, a client of hmx_core. One netdev per vif:
 * in a guest, "hmxN" is vif N to its backend VM (module parameter front);
 * in the backend, "vifD.N" is guest D's vif N (parameter back), to bridge
 * or route as the NDVM's policy says. Both ends run the same code: frames
 * go to the peer's ring by SENDV, so the hypervisor copies and nothing is
 * shared. include/bulkhead/hmx_net.h is the wire format.
 *
 * The carrier is on while the peer is known to be up: from its first
 * HELLO or frame until the hypervisor says it died. A side without a
 * peer sends HELLO (asking for one back) every second until it hears.
 *
 * A backend may also serve on demand (parameter serve=N): wildcard rings
 * at the first N vif ports take the HELLO of any guest the firewall lets
 * through, and each new (guest, vif) gets its vifG.N, removed again when
 * that guest dies. So an NDVM needs nothing from the host per guest.
 */
#include <linux/etherdevice.h>
#include <linux/module.h>
#include <linux/netdevice.h>
#include <linux/slab.h>
#include <linux/virtio_net.h>

#include <bulkhead/hmx_net.h>

#include "hmx_core.h"

static char *front;
module_param(front, charp, 0444);
MODULE_PARM_DESC(front, "Backend domids, one per vif: hmx0 to the first");
static char *mac;
module_param(mac, charp, 0444);
MODULE_PARM_DESC(mac, "Addresses of front='s vifs, in order; empty: default");
static char *back;
module_param(back, charp, 0444);
MODULE_PARM_DESC(back, "Guests served, DOMID[:VIF],...: a vifD.N each");
static unsigned int serve;
module_param(serve, uint, 0444);
MODULE_PARM_DESC(serve, "Vifs 0..N-1 of any guest allowed: vifD.N on demand");

#define HMXNET_DEVS_MAX 64
#define HMXNET_SERVE_MAX 8
#define HMXNET_HELLO_FAST 10 /* tries 100 ms apart, then 1 s */

struct hmxnet {
	struct net_device *ndev;
	struct list_head link; /* hmxnet_devs */
	u16 peer;
	u32 vif;
	u32 aport;
	bool is_back;
	bool served; /* made on demand: goes when its guest does */
	bool gone; /* served, and its guest died: serve_work removes it */
	struct hmx_core_ring *ring; /* NULL until registered; hello_work */

	spinlock_t tx_lock; /* pending */
	struct sk_buff *pending; /* found the peer's ring full */
	struct delayed_work retry_work; /* -EBUSY: no wake-up promised */

	bool peer_up; /* rx worker (hmx_core's workqueue) */
	struct delayed_work hello_work;
	unsigned int hello_tries;
	int hello_ret; /* the last HELLO's result */
};

/*
 * Changed before the client registers, after it leaves, and in between
 * only by serve_work on hmx_core's workqueue, so the rx worker and the
 * other work there read it freely; others take hmxnet_devs_mutex.
 */
static LIST_HEAD(hmxnet_devs);
static DEFINE_MUTEX(hmxnet_devs_mutex);
static unsigned int hmxnet_ndevs;
static bool hmxnet_registered; /* as hmx_core's client */
static bool hmxnet_stopping;

/* serve=N: the wildcard rings, and the guests that said HELLO to them. */
static struct hmx_core_ring *hmxnet_serve_rings[HMXNET_SERVE_MAX];
static struct {
	u16 domid;
	u8 vif;
} hmxnet_knocks[HMXNET_DEVS_MAX];
static unsigned int hmxnet_nknocks; /* under hmxnet_devs_mutex */
static void hmxnet_serve_work(struct work_struct *work);
static DECLARE_DELAYED_WORK(hmxnet_serve_dwork, hmxnet_serve_work);

static struct hmx_client hmxnet_client;

/* /sys/module/hmxnet/parameters/state: a line per vif. */
static int hmxnet_state_get(char *buf, const struct kernel_param *kp)
{
	struct hmxnet *n;
	int len = 0;

	mutex_lock(&hmxnet_devs_mutex);
	list_for_each_entry(n, &hmxnet_devs, link)
		len += sysfs_emit_at(buf, len,
				     "%s peer=%u aport=%#x ring=%d up=%d "
				     "hellos=%u hello=%d pending=%d\n",
				     n->ndev->name, n->peer, n->aport,
				     !!n->ring, n->peer_up, n->hello_tries,
				     n->hello_ret, !!READ_ONCE(n->pending));
	mutex_unlock(&hmxnet_devs_mutex);
	return len;
}

static const struct kernel_param_ops hmxnet_state_ops = {
	.get = hmxnet_state_get,
};
module_param_cb(state, &hmxnet_state_ops, NULL, 0444);
MODULE_PARM_DESC(state, "Each vif's peer, ring and link (read-only)");

static struct hmxnet *hmxnet_find(u32 aport, u16 peer)
{
	struct hmxnet *n;

	list_for_each_entry(n, &hmxnet_devs, link)
	{
		if (n->aport == aport && n->peer == peer)
			return n;
	}
	return NULL;
}

static int hmxnet_send_hello(struct hmxnet *n, u16 flags)
{
	/* All of it in the header: hmx_core copies that, stacks are vmapped. */
	struct {
		struct hmx_net_hdr h;
		struct hmx_net_hello hello;
	} msg = {
		.h.flags = flags,
		.hello.mtu = cpu_to_le16(min_t(u32, n->ndev->mtu, U16_MAX)),
	};

	BUILD_BUG_ON(sizeof(msg) > HMX_CORE_HDR_MAX);
	ether_addr_copy(msg.hello.mac, n->ndev->dev_addr);
	return hmx_core_send_buf(n->aport, n->peer, n->aport,
				 HMX_NET_MSG(HMX_NET_OP_HELLO), &msg,
				 sizeof(msg), NULL, 0);
}

static void hmxnet_hello_again(struct hmxnet *n)
{
	unsigned long delay = n->hello_tries++ < HMXNET_HELLO_FAST ?
				      msecs_to_jiffies(100) :
				      HZ;

	if (!READ_ONCE(hmxnet_stopping))
		queue_delayed_work(hmx_core_wq(), &n->hello_work, delay);
}

/*
 * On hmx_core's workqueue, so never alongside the rx worker: registers
 * the ring when it can (the peer may not exist yet) and says HELLO until
 * the peer answers.
 */
static void hmxnet_hello_work(struct work_struct *work)
{
	struct hmxnet *n =
		container_of(to_delayed_work(work), struct hmxnet, hello_work);
	int ret;

	if (n->peer_up)
		return;
	if (!n->ring) {
		ret = hmx_core_ring_get(&hmxnet_client, n->aport, n->peer,
					HMX_NET_RING_LEN, &n->ring);
		if (ret) {
			n->ring = NULL;
			if (n->hello_tries == HMXNET_HELLO_FAST)
				netdev_info(n->ndev,
					    "no ring to domain %u yet (%d)\n",
					    n->peer, ret);
			hmxnet_hello_again(n);
			return;
		}
	}
	ret = hmxnet_send_hello(n, HMX_NET_HELLO_ANSWER);
	n->hello_ret = ret;
	if (n->hello_tries == HMXNET_HELLO_FAST) {
		if (ret == -EPERM)
			netdev_warn(n->ndev,
				    "the HMX firewall refuses domain %u\n",
				    n->peer);
		else
			netdev_info(
				n->ndev,
				"no answer from domain %u yet (HELLO: %d)\n",
				n->peer, ret);
	}
	hmxnet_hello_again(n);
}

static void hmxnet_peer_seen(struct hmxnet *n)
{
	if (n->peer_up)
		return;
	n->peer_up = true;
	n->hello_tries = 0;
	cancel_delayed_work(&n->hello_work);
	netif_carrier_on(n->ndev);
	netdev_info(n->ndev, "domain %u is up\n", n->peer);
}

/* Rx worker: the peer's ring and ours are gone with it. */
static void hmxnet_peer_gone(u16 domid)
{
	struct hmxnet *n;

	list_for_each_entry(n, &hmxnet_devs, link)
	{
		if (n->peer != domid)
			continue;
		if (n->peer_up)
			netdev_info(n->ndev, "domain %u is gone\n", domid);
		n->peer_up = false;
		netif_carrier_off(n->ndev);
		if (n->ring) {
			hmx_core_ring_put(n->ring);
			n->ring = NULL;
		}
		if (n->served) {
			n->gone = true;
			if (!READ_ONCE(hmxnet_stopping))
				mod_delayed_work(hmx_core_wq(),
						 &hmxnet_serve_dwork, 0);
			continue;
		}
		n->hello_tries = 0;
		hmxnet_hello_again(n);
	}
}

static void hmxnet_rx_frame(struct hmxnet *n, struct hmx_core_ring *ring,
			    const struct hmx_net_hdr *h, u32 off, u32 len)
{
	struct net_device *ndev = n->ndev;
	struct hmx_net_frame_info f = {
		.vnet_flags = h->vnet_flags,
		.gso_type = h->gso_type,
		.hdr_len = le16_to_cpu(h->hdr_len),
		.gso_size = le16_to_cpu(h->gso_size),
		.csum_start = le16_to_cpu(h->csum_start),
		.csum_offset = le16_to_cpu(h->csum_offset),
		.flags = h->flags,
		.len = len,
	};
	struct virtio_net_hdr vh;
	struct sk_buff *skb;
	int bad;

	/* A segmentation job may exceed the MTU; one frame may not. */
	bad = hmx_net_frame_check(&f, ndev->mtu + ETH_HLEN + VLAN_HLEN);
	if (bad)
		goto bad;
	skb = netdev_alloc_skb_ip_align(ndev, len);
	if (!skb) {
		ndev->stats.rx_dropped++;
		return;
	}
	/* One copy out of our ring: the peer cannot change it afterwards. */
	hmx_core_ring_copy_out(ring, off, skb_put(skb, len), len);
	memcpy(&vh, h, sizeof(vh));
	/* And the kernel's own check of what the header asks of the stack. */
	if (virtio_net_hdr_to_skb(skb, &vh, true)) {
		dev_kfree_skb(skb);
		bad = -1;
		goto bad;
	}
	skb->protocol = eth_type_trans(skb, ndev);
	ndev->stats.rx_packets++;
	ndev->stats.rx_bytes += len;
	netif_rx(skb);
	return;

bad:
	ndev->stats.rx_errors++;
	net_warn_ratelimited("%s: bad frame from domain %u (%u bytes, %d)\n",
			     ndev->name, n->peer, len, bad);
}

/*
 * A HELLO in a serve ring: a guest the firewall lets through wants its
 * vif. Noted here, made by serve_work (register_netdev sleeps on RTNL).
 */
static void hmxnet_knock(struct hmx_core_ring *ring,
			 const struct hmx_msg_header *mh, u32 len)
{
	u16 domid = mh->source.domid;
	u32 vif = ring->aport - HMX_NET_APORT_BASE;
	unsigned int i;

	if (mh->message_type != HMX_NET_MSG(HMX_NET_OP_HELLO) ||
	    mh->source.aport != ring->aport ||
	    len < sizeof(struct hmx_net_hdr) || domid < HMX_DOMID_FIRST_GUEST ||
	    domid > HMX_DOMID_LAST_GUEST || hmxnet_find(ring->aport, domid))
		return;
	mutex_lock(&hmxnet_devs_mutex);
	for (i = 0; i < hmxnet_nknocks; i++) {
		if (hmxnet_knocks[i].domid == domid &&
		    hmxnet_knocks[i].vif == vif)
			break;
	}
	if (i == hmxnet_nknocks &&
	    hmxnet_ndevs + hmxnet_nknocks < HMXNET_DEVS_MAX) {
		hmxnet_knocks[i].domid = domid;
		hmxnet_knocks[i].vif = vif;
		hmxnet_nknocks++;
	}
	mutex_unlock(&hmxnet_devs_mutex);
	if (!READ_ONCE(hmxnet_stopping))
		mod_delayed_work(hmx_core_wq(), &hmxnet_serve_dwork, 0);
}

static void hmxnet_rx(struct hmx_core_ring *ring,
		      const struct hmx_msg_header *mh, u32 off)
{
	u32 len = mh->len - sizeof(*mh);
	struct hmx_net_hdr h;
	struct hmxnet *n;

	if (ring->partner == HMX_DOMID_ANY) {
		hmxnet_knock(ring, mh, len);
		return;
	}
	/* Only our vif's peer may write here: the source is authenticated. */
	n = hmxnet_find(ring->aport, ring->partner);
	if (!n || mh->source.domid != n->peer || mh->source.aport != n->aport ||
	    (mh->message_type & HMX_NET_TAG_MASK) != HMX_NET_TAG ||
	    len < sizeof(h))
		return;
	hmx_core_ring_copy_out(ring, off, &h, sizeof(h));
	off = (off + sizeof(h)) % ring->len;
	len -= sizeof(h);
	switch (HMX_NET_MSG_OP(mh->message_type)) {
	case HMX_NET_OP_HELLO:
		hmxnet_peer_seen(n);
		if (h.flags & HMX_NET_HELLO_ANSWER)
			hmxnet_send_hello(n, 0);
		return;
	case HMX_NET_OP_FRAME:
		hmxnet_peer_seen(n);
		hmxnet_rx_frame(n, ring, &h, off, len);
		return;
	default:
		n->ndev->stats.rx_errors++;
	}
}

/* Sends skb; 0 when done with it (sent or dropped), else the HMX error. */
static int hmxnet_send_skb(struct hmxnet *n, struct sk_buff *skb)
{
	struct net_device *ndev = n->ndev;
	struct hmx_iov iov[HMX_MAXIOV - 1];
	struct virtio_net_hdr vh;
	struct hmx_net_hdr h = {};
	unsigned int niov = 0, i;
	int ret;

	if (skb->len > HMX_NET_FRAME_MAX ||
	    virtio_net_hdr_from_skb(skb, &vh, true, false, 0))
		goto drop;
	memcpy(&h, &vh, sizeof(vh));
	if (skb_shinfo(skb)->nr_frags + 1 > ARRAY_SIZE(iov) &&
	    skb_linearize(skb))
		goto drop;
	if (skb_headlen(skb)) {
		iov[niov].gpa = virt_to_phys(skb->data);
		iov[niov++].len = skb_headlen(skb);
	}
	for (i = 0; i < skb_shinfo(skb)->nr_frags; i++) {
		const skb_frag_t *f = &skb_shinfo(skb)->frags[i];

		iov[niov].gpa =
			page_to_phys(skb_frag_page(f)) + skb_frag_off(f);
		iov[niov++].len = skb_frag_size(f);
	}
	ret = hmx_core_sendv(n->aport, n->peer, n->aport,
			     HMX_NET_MSG(HMX_NET_OP_FRAME), &h, sizeof(h), iov,
			     niov);
	if (ret == -EAGAIN || ret == -EBUSY)
		return ret;
	if (ret < 0) {
		/* Refused (firewall), or no peer ring: the frame is lost. */
		ndev->stats.tx_errors++;
		dev_kfree_skb_any(skb);
		return 0;
	}
	ndev->stats.tx_packets++;
	ndev->stats.tx_bytes += skb->len;
	dev_consume_skb_any(skb);
	return 0;

drop:
	ndev->stats.tx_dropped++;
	dev_kfree_skb_any(skb);
	return 0;
}

/*
 * The peer's ring is full: keep the frame and stop the queue until HMX
 * says there is space (-EAGAIN) or a retry timer fires (-EBUSY).
 */
static void hmxnet_hold(struct hmxnet *n, struct sk_buff *skb, int ret, u32 gen)
{
	netif_stop_queue(n->ndev);
	spin_lock_bh(&n->tx_lock);
	n->pending = skb;
	spin_unlock_bh(&n->tx_lock);
	if (READ_ONCE(hmxnet_stopping))
		return;
	if (ret == -EBUSY || hmx_core_space_gen() != gen)
		mod_delayed_work(hmx_core_wq(), &n->retry_work,
				 ret == -EBUSY ? msecs_to_jiffies(5) : 0);
}

static netdev_tx_t hmxnet_xmit(struct sk_buff *skb, struct net_device *ndev)
{
	struct hmxnet *n = netdev_priv(ndev);
	u32 gen = hmx_core_space_gen();
	int ret;

	if (!netif_carrier_ok(ndev)) {
		ndev->stats.tx_carrier_errors++;
		dev_kfree_skb_any(skb);
		return NETDEV_TX_OK;
	}
	ret = hmxnet_send_skb(n, skb);
	if (ret)
		hmxnet_hold(n, skb, ret, gen);
	return NETDEV_TX_OK;
}

/* Space (or a retry): send the held frame, then let the stack go on. */
static void hmxnet_resume(struct hmxnet *n)
{
	u32 gen = hmx_core_space_gen();
	struct sk_buff *skb;
	int ret;

	spin_lock_bh(&n->tx_lock);
	skb = n->pending;
	n->pending = NULL;
	spin_unlock_bh(&n->tx_lock);
	if (skb) {
		local_bh_disable();
		ret = hmxnet_send_skb(n, skb);
		local_bh_enable();
		if (ret) {
			hmxnet_hold(n, skb, ret, gen);
			return;
		}
	}
	netif_wake_queue(n->ndev);
}

static void hmxnet_retry_work(struct work_struct *work)
{
	hmxnet_resume(
		container_of(to_delayed_work(work), struct hmxnet, retry_work));
}

static void hmxnet_space(void)
{
	struct hmxnet *n;

	list_for_each_entry(n, &hmxnet_devs, link)
	{
		if (netif_queue_stopped(n->ndev) && READ_ONCE(n->pending))
			hmxnet_resume(n);
	}
}

static int hmxnet_open(struct net_device *ndev)
{
	netif_start_queue(ndev);
	return 0;
}

static int hmxnet_stop(struct net_device *ndev)
{
	netif_stop_queue(ndev);
	return 0;
}

static const struct net_device_ops hmxnet_ops = {
	.ndo_open = hmxnet_open,
	.ndo_stop = hmxnet_stop,
	.ndo_start_xmit = hmxnet_xmit,
	.ndo_set_mac_address = eth_mac_addr,
	.ndo_validate_addr = eth_validate_addr,
};

static struct hmx_client hmxnet_client = {
	.name = "hmxnet",
	.rx = hmxnet_rx,
	.space = hmxnet_space,
	.peer_gone = hmxnet_peer_gone,
};

/* A locally administered address that names the vif: 02|fe:48:4d:D:D:N. */
static void hmxnet_mac(struct hmxnet *n, u8 *mac)
{
	u16 guest = n->is_back ? n->peer : hmx_core_domid();

	mac[0] = n->is_back ? 0xfe : 0x02;
	mac[1] = 0x48;
	mac[2] = 0x4d;
	mac[3] = guest >> 8;
	mac[4] = guest & 0xff;
	mac[5] = n->vif;
}

/*
 * The i-th entry of mac=, if it is there and not empty, into addr: 1; an
 * absent or empty entry: 0 (the default address); a bad one: -EINVAL.
 */
static int hmxnet_mac_param(unsigned int i, u8 *addr)
{
	const char *p = mac;
	size_t len;

	for (; p && i; i--) {
		p = strchr(p, ',');
		if (p)
			p++;
	}
	if (!p || !*p || *p == ',')
		return 0;
	len = strchrnul(p, ',') - p;
	if (len != 3 * ETH_ALEN - 1 || !mac_pton(p, addr) ||
	    !is_valid_ether_addr(addr))
		return -EINVAL;
	return 1;
}

static struct hmxnet *hmxnet_add(u16 peer, u32 vif, bool is_back,
				 const u8 *addr)
{
	struct net_device *ndev;
	struct hmxnet *n;
	u8 mac[ETH_ALEN];
	int ret;

	ndev = alloc_etherdev(sizeof(*n));
	if (!ndev)
		return ERR_PTR(-ENOMEM);
	n = netdev_priv(ndev);
	n->ndev = ndev;
	n->peer = peer;
	n->vif = vif;
	n->aport = HMX_NET_APORT(vif);
	n->is_back = is_back;
	INIT_LIST_HEAD(&n->link);
	spin_lock_init(&n->tx_lock);
	INIT_DELAYED_WORK(&n->hello_work, hmxnet_hello_work);
	INIT_DELAYED_WORK(&n->retry_work, hmxnet_retry_work);
	if (is_back)
		snprintf(ndev->name, IFNAMSIZ, "vif%u.%u", peer, vif);
	else
		snprintf(ndev->name, IFNAMSIZ, "hmx%u", vif);
	ndev->netdev_ops = &hmxnet_ops;
	ndev->min_mtu = ETH_MIN_MTU;
	ndev->max_mtu = HMX_NET_FRAME_MAX - ETH_HLEN - VLAN_HLEN;
	/* Checksums and segmentation travel in the header, as virtio-net's. */
	ndev->hw_features = NETIF_F_SG | NETIF_F_HW_CSUM | NETIF_F_TSO |
			    NETIF_F_TSO6 | NETIF_F_TSO_ECN;
	ndev->features = ndev->hw_features | NETIF_F_RXCSUM;
	netif_set_tso_max_size(ndev, HMX_NET_FRAME_MAX - ETH_HLEN - VLAN_HLEN);
	if (addr)
		ether_addr_copy(mac, addr);
	else
		hmxnet_mac(n, mac);
	eth_hw_addr_set(ndev, mac);
	netif_carrier_off(ndev);
	ret = register_netdev(ndev);
	if (ret) {
		free_netdev(ndev);
		return ERR_PTR(ret);
	}
	mutex_lock(&hmxnet_devs_mutex);
	list_add_tail(&n->link, &hmxnet_devs);
	hmxnet_ndevs++;
	mutex_unlock(&hmxnet_devs_mutex);
	return n;
}

/* Unlisted and unregistered already; nothing can reach n any more. */
static void hmxnet_free(struct hmxnet *n)
{
	cancel_delayed_work_sync(&n->hello_work);
	cancel_delayed_work_sync(&n->retry_work);
	if (n->pending)
		dev_kfree_skb(n->pending);
	free_netdev(n->ndev);
}

/*
 * On hmx_core's workqueue: registers the serve rings the firewall now
 * backs (a wildcard ring needs a rule that lets someone in), makes the
 * vifs guests knocked for, and removes those whose guest died.
 */
static void hmxnet_serve_work(struct work_struct *work)
{
	struct hmxnet *n, *tmp;
	bool missing = false;
	unsigned int i;

	if (READ_ONCE(hmxnet_stopping))
		return;
	for (i = 0; i < serve; i++) {
		if (hmxnet_serve_rings[i])
			continue;
		if (hmx_core_ring_get(&hmxnet_client, HMX_NET_APORT(i),
				      HMX_DOMID_ANY, HMX_NET_RING_LEN,
				      &hmxnet_serve_rings[i])) {
			hmxnet_serve_rings[i] = NULL;
			missing = true;
		}
	}
	list_for_each_entry_safe(n, tmp, &hmxnet_devs, link)
	{
		if (!n->gone)
			continue;
		netdev_info(n->ndev, "removed: domain %u is gone\n", n->peer);
		unregister_netdev(n->ndev);
		mutex_lock(&hmxnet_devs_mutex);
		list_del(&n->link);
		hmxnet_ndevs--;
		mutex_unlock(&hmxnet_devs_mutex);
		hmxnet_free(n);
	}
	mutex_lock(&hmxnet_devs_mutex);
	while (hmxnet_nknocks) {
		u16 domid = hmxnet_knocks[--hmxnet_nknocks].domid;
		u8 vif = hmxnet_knocks[hmxnet_nknocks].vif;

		mutex_unlock(&hmxnet_devs_mutex);
		if (!hmxnet_find(HMX_NET_APORT(vif), domid)) {
			n = hmxnet_add(domid, vif, true, NULL);
			if (IS_ERR(n)) {
				pr_warn("hmxnet: vif%u.%u: %ld\n", domid, vif,
					PTR_ERR(n));
			} else {
				n->served = true;
				queue_delayed_work(hmx_core_wq(),
						   &n->hello_work, 0);
			}
		}
		mutex_lock(&hmxnet_devs_mutex);
	}
	mutex_unlock(&hmxnet_devs_mutex);
	/* Policy may change: look again for rings it did not back. */
	if (missing && !READ_ONCE(hmxnet_stopping))
		queue_delayed_work(hmx_core_wq(), &hmxnet_serve_dwork, HZ);
}

/* On hmx_core's workqueue, so no rx pass or hello runs alongside. */
static void hmxnet_put_rings(struct work_struct *work)
{
	struct hmxnet *n;

	unsigned int i;

	list_for_each_entry(n, &hmxnet_devs, link)
	{
		if (n->ring)
			hmx_core_ring_put(n->ring);
		n->ring = NULL;
	}
	for (i = 0; i < HMXNET_SERVE_MAX; i++) {
		if (hmxnet_serve_rings[i])
			hmx_core_ring_put(hmxnet_serve_rings[i]);
		hmxnet_serve_rings[i] = NULL;
	}
}

static void hmxnet_remove_all(bool registered)
{
	struct work_struct put_rings;
	struct hmxnet *n, *tmp;

	/* From here no work adds, removes or registers anything. */
	WRITE_ONCE(hmxnet_stopping, true);
	cancel_delayed_work_sync(&hmxnet_serve_dwork);
	list_for_each_entry(n, &hmxnet_devs, link)
	{
		cancel_delayed_work_sync(&n->hello_work);
		cancel_delayed_work_sync(&n->retry_work);
	}
	if (registered) {
		INIT_WORK_ONSTACK(&put_rings, hmxnet_put_rings);
		queue_work(hmx_core_wq(), &put_rings);
		flush_work(&put_rings);
		destroy_work_on_stack(&put_rings);
		/* Drains and frees the rings; then no callback comes. */
		hmx_client_unregister(&hmxnet_client);
	}
	cancel_delayed_work_sync(&hmxnet_serve_dwork);
	list_for_each_entry_safe(n, tmp, &hmxnet_devs, link)
	{
		unregister_netdev(n->ndev);
		list_del(&n->link);
		hmxnet_free(n);
	}
	hmxnet_ndevs = 0;
}

/* "D[:N],...": a domid and a vif (default: the entry's position). */
static int hmxnet_parse(const char *list, bool is_back)
{
	char *copy, *p, *tok;
	unsigned int i = 0;
	struct hmxnet *n;
	int ret = 0;

	if (!list || !*list)
		return 0;
	copy = kstrdup(list, GFP_KERNEL);
	if (!copy)
		return -ENOMEM;
	p = copy;
	while ((tok = strsep(&p, ",")) && !ret) {
		char *vif_s = strchr(tok, ':');
		unsigned int domid, vif = is_back ? 0 : i;
		u8 addr[ETH_ALEN];
		int has_addr = is_back ? 0 : hmxnet_mac_param(i, addr);

		if (vif_s)
			*vif_s++ = '\0';
		if (kstrtouint(tok, 10, &domid) ||
		    domid < HMX_DOMID_FIRST_GUEST ||
		    domid > HMX_DOMID_LAST_GUEST ||
		    (vif_s && kstrtouint(vif_s, 10, &vif)) ||
		    vif >= HMX_NET_VIFS_MAX || i >= HMXNET_DEVS_MAX) {
			pr_err("hmxnet: %s: bad entry %u (want DOMID[:VIF])\n",
			       is_back ? "back" : "front", i);
			ret = -EINVAL;
			break;
		}
		if (has_addr < 0) {
			pr_err("hmxnet: mac: bad entry %u (want a unicast XX:XX:XX:XX:XX:XX)\n",
			       i);
			ret = -EINVAL;
			break;
		}
		if (hmxnet_find(HMX_NET_APORT(vif), domid)) {
			pr_err("hmxnet: %s: domain %u vif %u twice\n",
			       is_back ? "back" : "front", domid, vif);
			ret = -EINVAL;
			break;
		}
		n = hmxnet_add(domid, vif, is_back, has_addr ? addr : NULL);
		ret = PTR_ERR_OR_ZERO(n);
		i++;
	}
	kfree(copy);
	/* An address for a vif that does not exist is a mistake: say so. */
	if (!ret && !is_back && mac && *mac) {
		unsigned int entries = 1;
		const char *c;

		for (c = mac; *c; c++)
			entries += *c == ',';
		if (entries > i) {
			pr_err("hmxnet: mac: %u entries for %u vifs\n", entries,
			       i);
			ret = -EINVAL;
		}
	}
	return ret;
}

static int __init hmxnet_init(void)
{
	struct hmxnet *n;
	int ret;

	if (!hmx_core_ready()) {
		pr_err("hmxnet: no HMX controller (is hmx_core bound?)\n");
		return -ENODEV;
	}
	if (serve > HMXNET_SERVE_MAX) {
		pr_err("hmxnet: serve=%u: at most %u\n", serve,
		       HMXNET_SERVE_MAX);
		return -EINVAL;
	}
	if (mac && *mac && (!front || !*front)) {
		pr_err("hmxnet: mac= without front=\n");
		return -EINVAL;
	}
	ret = hmxnet_parse(front, false);
	if (!ret)
		ret = hmxnet_parse(back, true);
	/* No vif in this VM (no front=, back= or serve=): loaded, idle. */
	if (!ret && list_empty(&hmxnet_devs) && !serve)
		return 0;
	if (!ret)
		ret = hmx_client_register(&hmxnet_client);
	if (ret) {
		hmxnet_remove_all(false);
		return ret;
	}
	hmxnet_registered = true;
	list_for_each_entry(n, &hmxnet_devs, link)
		queue_delayed_work(hmx_core_wq(), &n->hello_work, 0);
	if (serve)
		queue_delayed_work(hmx_core_wq(), &hmxnet_serve_dwork, 0);
	return 0;
}

static void __exit hmxnet_exit(void)
{
	hmxnet_remove_all(hmxnet_registered);
}

module_init(hmxnet_init);
module_exit(hmxnet_exit);

MODULE_DESCRIPTION("Ethernet over Bulkhead HMX");
MODULE_LICENSE("GPL");
