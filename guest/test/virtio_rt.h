/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A polling virtio 1.x PCI driver for freestanding test guests: finds a
 * modern virtio function, maps its regions (moving the 64-bit BAR below
 * 4 GiB, where the guest's page tables reach), negotiates features and
 * drives split virtqueues in guest memory. Rings are plain memory here on
 * purpose: a test may write anything into them.
 */
#ifndef BH_GUEST_TEST_VIRTIO_RT_H
#define BH_GUEST_TEST_VIRTIO_RT_H

#include <stdbool.h>
#include <stdint.h>

#define VQ_DESC_F_NEXT 1
#define VQ_DESC_F_WRITE 2
#define VQ_DESC_F_INDIRECT 4

#define VIRTIO_F_INDIRECT_DESC (1ull << 28)
#define VIRTIO_F_EVENT_IDX (1ull << 29)
#define VIRTIO_F_VERSION_1 (1ull << 32)

#define VIRTIO_S_ACK 0x01
#define VIRTIO_S_DRIVER 0x02
#define VIRTIO_S_DRIVER_OK 0x04
#define VIRTIO_S_FEATURES_OK 0x08
#define VIRTIO_S_NEEDS_RESET 0x40

struct vq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

#define VRT_QUEUE_MAX 256

struct vrt_queue {
	uint16_t size;
	volatile struct vq_desc *desc;
	volatile uint16_t *avail; /* flags, idx, ring[size], used_event */
	volatile uint32_t *used; /* flags|idx, then {id, len}[size] */
	uint16_t avail_idx; /* ours */
	uint16_t used_seen;
	uint64_t notify; /* address of this queue's notify register */
};

struct vrt_dev {
	unsigned int slot;
	uint64_t common, isr, device, notify_base;
	uint32_t notify_mult;
	uint64_t features; /* offered */
	struct vrt_queue q;
};

/* Finds the first modern virtio device of type id; false if none. */
bool vrt_probe(struct vrt_dev *d, uint16_t id, uint64_t bar_at);

uint8_t vrt_status(struct vrt_dev *d);
void vrt_set_status(struct vrt_dev *d, uint8_t s);
/*
 * Reset, ACK, DRIVER, features (offered & want), FEATURES_OK; queue 0 of
 * size at ring memory mem (zeroed, page-aligned, 3 pages), DRIVER_OK.
 * Returns false, saying why, if the device refuses a step.
 */
bool vrt_init(struct vrt_dev *d, uint64_t want, uint16_t size, void *mem);
/* Puts a chain head in the avail ring and notifies queue 0. */
void vrt_submit(struct vrt_dev *d, uint16_t head);
/* Waits for a used entry; returns its id, or -1 after spin polls. */
long vrt_wait_used(struct vrt_dev *d, uint32_t *len, unsigned long spin);
/* Writes queue index idx's notify register of queue at. */
void vrt_notify(struct vrt_dev *d, uint16_t at, uint16_t idx);

uint8_t vrt_cfg8(struct vrt_dev *d, unsigned int off);
uint32_t vrt_cfg32(struct vrt_dev *d, unsigned int off);
uint64_t vrt_cfg64(struct vrt_dev *d, unsigned int off);

/* MMIO accessors (the regions are uncached device memory). */
static inline uint8_t mmio_r8(uint64_t a)
{
	return *(volatile uint8_t *)a;
}
static inline uint16_t mmio_r16(uint64_t a)
{
	return *(volatile uint16_t *)a;
}
static inline uint32_t mmio_r32(uint64_t a)
{
	return *(volatile uint32_t *)a;
}
static inline void mmio_w8(uint64_t a, uint8_t v)
{
	*(volatile uint8_t *)a = v;
}
static inline void mmio_w16(uint64_t a, uint16_t v)
{
	*(volatile uint16_t *)a = v;
}
static inline void mmio_w32(uint64_t a, uint32_t v)
{
	*(volatile uint32_t *)a = v;
}

#endif
