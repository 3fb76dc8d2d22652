// SPDX-License-Identifier: GPL-2.0-only
/*
 * Rings this domain registered with HMX. A ring belongs to the client that
 * registered it, is shared by that client's users of its (aport, partner)
 * and lives while one holds it. The last put only marks it; the rx worker,
 * the rings' only reader, unregisters it, reads what is left in it and
 * frees it, so a message that landed just before the unregister is still
 * dispatched.
 */
#include <linux/hash.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "hmxc.h"

static struct hlist_head *hmxc_ring_bucket(u32 aport, u16 partner)
{
	u32 key = hash_32(aport ^ ((u32)partner << 16) ^ partner,
			  HMXC_RING_HASH_BITS);

	return &hmxc->ring_hash[key];
}

static struct hmx_core_ring *hmxc_ring_find(u32 aport, u16 partner)
{
	struct hmx_core_ring *ring;

	hlist_for_each_entry(ring, hmxc_ring_bucket(aport, partner), hash)
	{
		if (ring->aport == aport && ring->partner == partner)
			return ring;
	}
	return NULL;
}

static void hmxc_ring_free(struct hmx_core_ring *ring)
{
	vfree(ring->hdr);
	kfree(ring);
}

static int hmxc_ring_create(const struct hmx_client *c, u32 aport, u16 partner,
			    u32 len, struct hmx_core_ring **out)
{
	u32 npages = DIV_ROUND_UP(HMX_RING_HEADER_SIZE + len, PAGE_SIZE);
	struct hmx_core_ring *ring;
	u64 *pfns;
	u32 i;
	int ret;

	ring = kzalloc(sizeof(*ring), GFP_KERNEL);
	if (!ring)
		return -ENOMEM;
	ring->client = c;
	ring->aport = aport;
	ring->partner = partner;
	ring->len = len;
	ring->ref = 1;
	ring->hdr = vzalloc((unsigned long)npages * PAGE_SIZE);
	/* The page list must be physically contiguous: kmalloc, not vmalloc. */
	pfns = kmalloc_array(npages, sizeof(*pfns), GFP_KERNEL);
	if (!ring->hdr || !pfns) {
		kfree(pfns);
		hmxc_ring_free(ring);
		return -ENOMEM;
	}
	for (i = 0; i < npages; i++)
		pfns[i] = vmalloc_to_pfn((u8 *)ring->hdr + i * PAGE_SIZE);
	ret = hmxc_hc_register(aport, partner, len, virt_to_phys(pfns), npages);
	kfree(pfns);
	if (ret) {
		hmxc_ring_free(ring);
		return ret;
	}
	*out = ring;
	return 0;
}

int hmx_core_ring_get(const struct hmx_client *c, u32 aport, u16 partner,
		      u32 len, struct hmx_core_ring **out)
{
	struct hmx_core_ring *ring;
	int ret = 0;

	if (!len || len % HMX_SLOT_SIZE)
		return -EINVAL;
	mutex_lock(&hmxc->ring_mutex);
	ring = hmxc_ring_find(aport, partner);
	if (ring && ring->client != c) {
		ret = -EADDRINUSE;
	} else if (ring) {
		/* May revive a ring whose last user just left. */
		spin_lock_irq(&hmxc->ref_lock);
		ring->ref++;
		spin_unlock_irq(&hmxc->ref_lock);
	} else {
		ret = hmxc_ring_create(c, aport, partner, len, &ring);
		if (!ret) {
			hlist_add_head(&ring->hash,
				       hmxc_ring_bucket(aport, partner));
			list_add_tail(&ring->link, &hmxc->rings);
		}
	}
	mutex_unlock(&hmxc->ring_mutex);
	if (!ret)
		*out = ring;
	return ret;
}
EXPORT_SYMBOL_GPL(hmx_core_ring_get);

void hmx_core_ring_hold(struct hmx_core_ring *ring)
{
	unsigned long flags;

	spin_lock_irqsave(&hmxc->ref_lock, flags);
	ring->ref++;
	spin_unlock_irqrestore(&hmxc->ref_lock, flags);
}
EXPORT_SYMBOL_GPL(hmx_core_ring_hold);

void hmx_core_ring_put(struct hmx_core_ring *ring)
{
	unsigned long flags;
	bool last;

	spin_lock_irqsave(&hmxc->ref_lock, flags);
	last = --ring->ref == 0;
	spin_unlock_irqrestore(&hmxc->ref_lock, flags);
	if (last)
		queue_work(hmxc->wq, &hmxc->rx_work);
}
EXPORT_SYMBOL_GPL(hmx_core_ring_put);

/*
 * The hypervisor removed our rings naming a dead domain. Unhash them so a
 * new VM that reuses the domid gets fresh rings; their users drop them.
 */
void hmxc_rings_partner_gone(u16 domid)
{
	struct hmx_core_ring *ring;

	mutex_lock(&hmxc->ring_mutex);
	list_for_each_entry(ring, &hmxc->rings, link)
	{
		if (ring->partner != domid || ring->gone)
			continue;
		WRITE_ONCE(ring->gone, true);
		hlist_del_init(&ring->hash);
	}
	mutex_unlock(&hmxc->ring_mutex);
}

/* Rx worker: unregister, drain and free rings nobody holds. */
void hmxc_rings_retire(void)
{
	struct hmx_core_ring *ring, *tmp;
	LIST_HEAD(drain);
	bool dead;

	mutex_lock(&hmxc->ring_mutex);
	list_for_each_entry_safe(ring, tmp, &hmxc->rings, link)
	{
		spin_lock_irq(&hmxc->ref_lock);
		dead = ring->ref == 0;
		spin_unlock_irq(&hmxc->ref_lock);
		if (!dead)
			continue;
		if (!ring->gone) {
			hlist_del_init(&ring->hash);
			hmxc_hc_unregister(ring->aport, ring->partner);
		}
		list_move_tail(&ring->link, &drain);
	}
	mutex_unlock(&hmxc->ring_mutex);

	list_for_each_entry_safe(ring, tmp, &drain, link)
	{
		hmxc_ring_consume(ring);
		list_del(&ring->link);
		hmxc_ring_free(ring);
	}
}

/* Module teardown: no client is left, so nobody holds a ring. */
void hmxc_rings_destroy_all(void)
{
	struct hmx_core_ring *ring, *tmp;

	mutex_lock(&hmxc->ring_mutex);
	list_for_each_entry_safe(ring, tmp, &hmxc->rings, link)
	{
		WARN_ON(ring->ref);
		if (!ring->gone)
			hmxc_hc_unregister(ring->aport, ring->partner);
		hlist_del_init(&ring->hash);
		list_del(&ring->link);
		hmxc_ring_free(ring);
	}
	mutex_unlock(&hmxc->ring_mutex);
	kfree(hmxc->snap);
	hmxc->snap = NULL;
}

unsigned int hmxc_rings_count(void)
{
	struct hmx_core_ring *ring;
	unsigned int n = 0;

	mutex_lock(&hmxc->ring_mutex);
	list_for_each_entry(ring, &hmxc->rings, link) n++;
	mutex_unlock(&hmxc->ring_mutex);
	return n;
}

/*
 * Rx worker: hold every live ring in hmxc->snap so the rings can be read
 * without the mutex. Returns how many; the caller puts them.
 */
unsigned int hmxc_rings_snapshot(void)
{
	struct hmx_core_ring *ring;
	unsigned int n = 0;

	mutex_lock(&hmxc->ring_mutex);
	list_for_each_entry(ring, &hmxc->rings, link) n++;
	if (n > hmxc->snap_cap) {
		struct hmx_core_ring **snap;

		snap = kmalloc_array(n, sizeof(*snap), GFP_KERNEL);
		if (snap) {
			kfree(hmxc->snap);
			hmxc->snap = snap;
			hmxc->snap_cap = n;
		}
	}
	n = 0;
	spin_lock_irq(&hmxc->ref_lock);
	list_for_each_entry(ring, &hmxc->rings, link)
	{
		if (n == hmxc->snap_cap)
			break;
		if (!ring->ref)
			continue;
		ring->ref++;
		hmxc->snap[n++] = ring;
	}
	spin_unlock_irq(&hmxc->ref_lock);
	mutex_unlock(&hmxc->ring_mutex);
	return n;
}

void hmx_core_ring_copy_out(const struct hmx_core_ring *ring, u32 off,
			    void *dst, u32 len)
{
	u32 first = min(len, ring->len - off);

	memcpy(dst, ring->hdr->ring + off, first);
	memcpy((u8 *)dst + first, ring->hdr->ring, len - first);
}
EXPORT_SYMBOL_GPL(hmx_core_ring_copy_out);

/*
 * Dispatch the messages in the ring to its client, at most a budget of
 * them so one busy ring cannot starve the others. Returns true if it
 * consumed any.
 */
static bool notify_always;
module_param(notify_always, bool, 0644);
MODULE_PARM_DESC(notify_always,
		 "NOTIFY after every consuming pass, not only when the ring "
		 "says a sender waits for space");

bool hmxc_ring_wants_notify(struct hmx_core_ring *ring)
{
	/*
	 * rx_ptr was stored before; the hypervisor sets the flag before it
	 * reads rx_ptr again. With a full barrier on both sides, either it
	 * sees our space or we see its flag.
	 */
	smp_mb();
	return notify_always ||
	       (READ_ONCE(ring->hdr->flags) & HMX_RING_F_WANT_NOTIFY);
}

bool hmxc_ring_consume(struct hmx_core_ring *ring)
{
	struct hmx_ring *h = ring->hdr;
	unsigned int budget = 64;
	u32 len = ring->len;
	u32 rx = ring->rx;
	bool any = false;

	while (budget--) {
		struct hmx_msg_header mh;
		u32 tx, used;

		/* Acquire: the message bytes are read after tx_ptr. */
		tx = smp_load_acquire(&h->tx_ptr);
		if (tx == rx)
			break;
		if (tx >= len || tx % HMX_SLOT_SIZE)
			goto corrupt;
		used = tx > rx ? tx - rx : len - rx + tx;
		hmx_core_ring_copy_out(ring, rx, &mh, sizeof(mh));
		if (mh.len < sizeof(mh) || HMX_ROUNDUP(mh.len) > used)
			goto corrupt;
		if (ring->client->rx)
			ring->client->rx(ring, &mh, (rx + sizeof(mh)) % len);
		rx = (rx + HMX_ROUNDUP(mh.len)) % len;
		ring->rx = rx;
		/* Release: our reads finish before the slots are reused. */
		smp_store_release(&h->rx_ptr, rx);
		any = true;
	}
	return any;

corrupt:
	/* Only the hypervisor writes here; stop reading a ring it broke. */
	pr_err_ratelimited("hmx_core: ring %u/%u corrupt, tx %u rx %u\n",
			   ring->aport, ring->partner, h->tx_ptr, rx);
	return any;
}
