// SPDX-License-Identifier: GPL-2.0-only
/*
 * Rings this domain registered with HMX. A ring is shared by every user of
 * its (aport, partner) and lives while one holds it. The last put only
 * marks it; the rx worker, the rings' only reader, unregisters it, reads
 * what is left in it and frees it, so a message that landed just before
 * the unregister is still dispatched.
 */
#include <linux/hash.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "hvs.h"

static struct hlist_head *hvs_ring_bucket(u32 aport, u16 partner)
{
	u32 key = hash_32(aport ^ ((u32)partner << 16) ^ partner,
			  HVS_RING_HASH_BITS);

	return &hvs->ring_hash[key];
}

static struct hvs_ring *hvs_ring_find(u32 aport, u16 partner)
{
	struct hvs_ring *ring;

	hlist_for_each_entry(ring, hvs_ring_bucket(aport, partner), hash)
	{
		if (ring->aport == aport && ring->partner == partner)
			return ring;
	}
	return NULL;
}

static void hvs_ring_free(struct hvs_ring *ring)
{
	vfree(ring->hdr);
	kfree(ring);
}

static int hvs_ring_create(u32 aport, u16 partner, struct hvs_ring **out)
{
	u32 len = HMX_VSOCK_RING_LEN;
	u32 npages = DIV_ROUND_UP(HMX_RING_HEADER_SIZE + len, PAGE_SIZE);
	struct hvs_ring *ring;
	u64 *pfns;
	u32 i;
	int ret;

	ring = kzalloc(sizeof(*ring), GFP_KERNEL);
	if (!ring)
		return -ENOMEM;
	ring->aport = aport;
	ring->partner = partner;
	ring->len = len;
	ring->ref = 1;
	ring->hdr = vzalloc((unsigned long)npages * PAGE_SIZE);
	/* The page list must be physically contiguous: kmalloc, not vmalloc. */
	pfns = kmalloc_array(npages, sizeof(*pfns), GFP_KERNEL);
	if (!ring->hdr || !pfns) {
		kfree(pfns);
		hvs_ring_free(ring);
		return -ENOMEM;
	}
	for (i = 0; i < npages; i++)
		pfns[i] = vmalloc_to_pfn((u8 *)ring->hdr + i * PAGE_SIZE);
	ret = hvs_hc_register(aport, partner, len, virt_to_phys(pfns), npages);
	kfree(pfns);
	if (ret) {
		hvs_ring_free(ring);
		return ret;
	}
	*out = ring;
	return 0;
}

/*
 * Take a reference to our ring (aport, partner), registering it if needed.
 * Errors are HMX's: -EPERM (a wildcard ring policy does not back), -ESRCH
 * (no such partner), -ENOSPC (ring limits), -ENOMEM.
 */
int hvs_ring_get(u32 aport, u16 partner, struct hvs_ring **out)
{
	struct hvs_ring *ring;
	int ret = 0;

	mutex_lock(&hvs->ring_mutex);
	ring = hvs_ring_find(aport, partner);
	if (ring) {
		/* May revive a ring whose last user just left. */
		spin_lock_irq(&hvs->ref_lock);
		ring->ref++;
		spin_unlock_irq(&hvs->ref_lock);
	} else {
		ret = hvs_ring_create(aport, partner, &ring);
		if (!ret) {
			hlist_add_head(&ring->hash,
				       hvs_ring_bucket(aport, partner));
			list_add_tail(&ring->link, &hvs->rings);
		}
	}
	mutex_unlock(&hvs->ring_mutex);
	if (!ret)
		*out = ring;
	return ret;
}

void hvs_ring_hold(struct hvs_ring *ring)
{
	unsigned long flags;

	spin_lock_irqsave(&hvs->ref_lock, flags);
	ring->ref++;
	spin_unlock_irqrestore(&hvs->ref_lock, flags);
}

/* Any context. */
void hvs_ring_put(struct hvs_ring *ring)
{
	unsigned long flags;
	bool last;

	spin_lock_irqsave(&hvs->ref_lock, flags);
	last = --ring->ref == 0;
	spin_unlock_irqrestore(&hvs->ref_lock, flags);
	if (last)
		queue_work(hvs->wq, &hvs->rx_work);
}

/*
 * The hypervisor removed our rings naming a dead domain. Unhash them so a
 * new VM that reuses the domid gets fresh rings; their users drop them.
 */
void hvs_rings_partner_gone(u16 domid)
{
	struct hvs_ring *ring;

	mutex_lock(&hvs->ring_mutex);
	list_for_each_entry(ring, &hvs->rings, link)
	{
		if (ring->partner != domid || ring->gone)
			continue;
		ring->gone = true;
		hlist_del_init(&ring->hash);
	}
	mutex_unlock(&hvs->ring_mutex);
}

/* Rx worker: unregister, drain and free rings nobody holds. */
void hvs_rings_retire(void)
{
	struct hvs_ring *ring, *tmp;
	LIST_HEAD(drain);
	bool dead;

	mutex_lock(&hvs->ring_mutex);
	list_for_each_entry_safe(ring, tmp, &hvs->rings, link)
	{
		spin_lock_irq(&hvs->ref_lock);
		dead = ring->ref == 0;
		spin_unlock_irq(&hvs->ref_lock);
		if (!dead)
			continue;
		if (!ring->gone) {
			hlist_del_init(&ring->hash);
			hvs_hc_unregister(ring->aport, ring->partner);
		}
		list_move_tail(&ring->link, &drain);
	}
	mutex_unlock(&hvs->ring_mutex);

	list_for_each_entry_safe(ring, tmp, &drain, link)
	{
		hvs_ring_consume(ring);
		list_del(&ring->link);
		hvs_ring_free(ring);
	}
}

/* Module teardown: no socket holds a ring any more, listeners are gone. */
void hvs_rings_destroy_all(void)
{
	struct hvs_ring *ring, *tmp;

	mutex_lock(&hvs->ring_mutex);
	list_for_each_entry_safe(ring, tmp, &hvs->rings, link)
	{
		WARN_ON(ring->ref);
		if (!ring->gone)
			hvs_hc_unregister(ring->aport, ring->partner);
		hlist_del_init(&ring->hash);
		list_del(&ring->link);
		hvs_ring_free(ring);
	}
	mutex_unlock(&hvs->ring_mutex);
	kfree(hvs->snap);
	hvs->snap = NULL;
}

/*
 * Rx worker: hold every live ring in hvs->snap so the rings can be read
 * without the mutex. Returns how many; the caller puts them.
 */
unsigned int hvs_rings_snapshot(void)
{
	struct hvs_ring *ring;
	unsigned int n = 0;

	mutex_lock(&hvs->ring_mutex);
	list_for_each_entry(ring, &hvs->rings, link) n++;
	if (n > hvs->snap_cap) {
		struct hvs_ring **snap;

		snap = kmalloc_array(n, sizeof(*snap), GFP_KERNEL);
		if (snap) {
			kfree(hvs->snap);
			hvs->snap = snap;
			hvs->snap_cap = n;
		}
	}
	n = 0;
	spin_lock_irq(&hvs->ref_lock);
	list_for_each_entry(ring, &hvs->rings, link)
	{
		if (n == hvs->snap_cap)
			break;
		if (!ring->ref)
			continue;
		ring->ref++;
		hvs->snap[n++] = ring;
	}
	spin_unlock_irq(&hvs->ref_lock);
	mutex_unlock(&hvs->ring_mutex);
	return n;
}

/* Copy len bytes at data offset off, wrapping at the end of the ring. */
void hvs_ring_copy_out(const struct hvs_ring *ring, u32 off, void *dst, u32 len)
{
	u32 first = min(len, ring->len - off);

	memcpy(dst, ring->hdr->ring + off, first);
	memcpy((u8 *)dst + first, ring->hdr->ring, len - first);
}

/*
 * Dispatch the messages in the ring, at most a budget of them so one busy
 * ring cannot starve the others. Returns true if it consumed any.
 */
bool hvs_ring_consume(struct hvs_ring *ring)
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
		hvs_ring_copy_out(ring, rx, &mh, sizeof(mh));
		if (mh.len < sizeof(mh) || HMX_ROUNDUP(mh.len) > used)
			goto corrupt;
		hvs_rx_msg(ring, &mh, (rx + sizeof(mh)) % len);
		rx = (rx + HMX_ROUNDUP(mh.len)) % len;
		ring->rx = rx;
		/* Release: our reads finish before the slots are reused. */
		smp_store_release(&h->rx_ptr, rx);
		any = true;
	}
	return any;

corrupt:
	/* Only the hypervisor writes here; stop reading a ring it broke. */
	pr_err_ratelimited("hmx_vsock: ring %u/%u corrupt, tx %u rx %u\n",
			   ring->aport, ring->partner, h->tx_ptr, rx);
	return any;
}
