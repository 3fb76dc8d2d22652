// SPDX-License-Identifier: GPL-2.0-only
#include "virtio_rt.h"

#include "rt.h"

#define CAP_VNDR 0x09
#define CFG_COMMON 1
#define CFG_NOTIFY 2
#define CFG_ISR 3
#define CFG_DEVICE 4

/* Common configuration offsets. */
#define C_DFSEL 0x00
#define C_DF 0x04
#define C_GFSEL 0x08
#define C_GF 0x0c
#define C_STATUS 0x14
#define C_QSEL 0x16
#define C_QSIZE 0x18
#define C_QENABLE 0x1c
#define C_QNOFF 0x1e
#define C_QDESC 0x20
#define C_QAVAIL 0x28
#define C_QUSED 0x30

static uint64_t bar_base(unsigned int slot, unsigned int bar)
{
	uint32_t lo = pci_cfg_read32(slot, 0x10 + 4 * bar);
	uint64_t a = lo & ~0xfu;

	if ((lo & 0x6) == 0x4)
		a |= (uint64_t)pci_cfg_read32(slot, 0x14 + 4 * bar) << 32;
	return a;
}

bool vrt_probe(struct vrt_dev *d, uint16_t id, uint64_t bar_at)
{
	memset(d, 0, sizeof(*d));
	for (d->slot = 0; d->slot < 32; d->slot++)
		if (pci_cfg_read32(d->slot, 0) ==
		    ((uint32_t)(0x1040 + id) << 16 | 0x1af4))
			break;
	if (d->slot == 32)
		return false;
	/* Our page tables end at 4 GiB: move BAR 4 there (it is 64-bit). */
	pci_cfg_write32(d->slot, 0x20, (uint32_t)bar_at);
	pci_cfg_write32(d->slot, 0x24, (uint32_t)(bar_at >> 32));
	pci_cfg_write32(d->slot, 0x04, 0x6); /* memory, bus master */
	for (uint32_t at = pci_cfg_read32(d->slot, 0x34) & 0xff; at;
	     at = pci_cfg_read32(d->slot, at) >> 8 & 0xff) {
		uint32_t hdr = pci_cfg_read32(d->slot, at);
		unsigned int type = hdr >> 24, bar;
		uint64_t base;

		if ((hdr & 0xff) != CAP_VNDR)
			continue;
		bar = pci_cfg_read32(d->slot, at + 4) & 0xff;
		if (bar > 5)
			continue; /* the PCI configuration access window */
		base = bar_base(d->slot, bar) + pci_cfg_read32(d->slot, at + 8);
		if (type == CFG_COMMON)
			d->common = base;
		else if (type == CFG_ISR)
			d->isr = base;
		else if (type == CFG_DEVICE)
			d->device = base;
		else if (type == CFG_NOTIFY) {
			d->notify_base = base;
			d->notify_mult = pci_cfg_read32(d->slot, at + 16);
		}
	}
	if (!d->common || !d->notify_base || !d->device)
		return false;
	mmio_w32(d->common + C_DFSEL, 0);
	d->features = mmio_r32(d->common + C_DF);
	mmio_w32(d->common + C_DFSEL, 1);
	d->features |= (uint64_t)mmio_r32(d->common + C_DF) << 32;
	return true;
}

uint8_t vrt_status(struct vrt_dev *d)
{
	return mmio_r8(d->common + C_STATUS);
}

void vrt_set_status(struct vrt_dev *d, uint8_t s)
{
	mmio_w8(d->common + C_STATUS, s);
}

static void w64(uint64_t a, uint64_t v)
{
	mmio_w32(a, (uint32_t)v);
	mmio_w32(a + 4, (uint32_t)(v >> 32));
}

bool vrt_init(struct vrt_dev *d, uint64_t want, uint16_t size, void *mem)
{
	uint64_t f = d->features & want;
	struct vrt_queue *q = &d->q;
	uint8_t *m = mem;

	vrt_set_status(d, 0);
	if (vrt_status(d) != 0) {
		gprintf("virtio: reset did not complete\n");
		return false;
	}
	vrt_set_status(d, VIRTIO_S_ACK | VIRTIO_S_DRIVER);
	mmio_w32(d->common + C_GFSEL, 0);
	mmio_w32(d->common + C_GF, (uint32_t)f);
	mmio_w32(d->common + C_GFSEL, 1);
	mmio_w32(d->common + C_GF, (uint32_t)(f >> 32));
	vrt_set_status(d,
		       VIRTIO_S_ACK | VIRTIO_S_DRIVER | VIRTIO_S_FEATURES_OK);
	if (!(vrt_status(d) & VIRTIO_S_FEATURES_OK)) {
		gprintf("virtio: features 0x%lx refused\n", (unsigned long)f);
		return false;
	}
	memset(m, 0, 3 * 4096);
	mmio_w16(d->common + C_QSEL, 0);
	mmio_w16(d->common + C_QSIZE, size);
	q->size = mmio_r16(d->common + C_QSIZE);
	q->desc = (volatile struct vq_desc *)m;
	q->avail = (volatile uint16_t *)(m + 4096);
	q->used = (volatile uint32_t *)(m + 8192);
	q->avail_idx = q->used_seen = 0;
	q->notify = d->notify_base +
		    (uint64_t)mmio_r16(d->common + C_QNOFF) * d->notify_mult;
	w64(d->common + C_QDESC, (uintptr_t)q->desc);
	w64(d->common + C_QAVAIL, (uintptr_t)q->avail);
	w64(d->common + C_QUSED, (uintptr_t)q->used);
	mmio_w16(d->common + C_QENABLE, 1);
	vrt_set_status(d, VIRTIO_S_ACK | VIRTIO_S_DRIVER |
				  VIRTIO_S_FEATURES_OK | VIRTIO_S_DRIVER_OK);
	return true;
}

void vrt_notify(struct vrt_dev *d, uint16_t at, uint16_t idx)
{
	mmio_w16(d->notify_base + (uint64_t)at * d->notify_mult, idx);
}

void vrt_submit(struct vrt_dev *d, uint16_t head)
{
	struct vrt_queue *q = &d->q;

	q->avail[2 + q->avail_idx % q->size] = head;
	barrier();
	q->avail[1] = ++q->avail_idx;
	barrier();
	mmio_w16(q->notify, 0);
}

long vrt_wait_used(struct vrt_dev *d, uint32_t *len, unsigned long spin)
{
	struct vrt_queue *q = &d->q;
	volatile uint16_t *used_idx = (volatile uint16_t *)q->used + 1;
	uint32_t at;

	for (unsigned long i = 0; *used_idx == q->used_seen; i++) {
		if (i == spin)
			return -1;
		__asm__ volatile("pause");
	}
	barrier();
	at = 1 + 2u * (q->used_seen % q->size);
	q->used_seen++;
	if (len)
		*len = q->used[at + 1];
	return q->used[at];
}

uint8_t vrt_cfg8(struct vrt_dev *d, unsigned int off)
{
	return mmio_r8(d->device + off);
}

uint32_t vrt_cfg32(struct vrt_dev *d, unsigned int off)
{
	return mmio_r32(d->device + off);
}

uint64_t vrt_cfg64(struct vrt_dev *d, unsigned int off)
{
	return mmio_r32(d->device + off) |
	       (uint64_t)mmio_r32(d->device + off + 4) << 32;
}
