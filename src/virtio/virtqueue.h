/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The device side of a virtio 1.x split virtqueue, for device models that
 * see a guest's RAM through a table of mapped regions. Everything in the
 * rings is guest-controlled: every index, descriptor, chain length,
 * indirect table and address is checked here, each guest value is read
 * exactly once (a copy is taken and only the copy is used), and a queue
 * the guest has broken stops returning work instead of guessing.
 *
 * Pure logic: no system calls, no threads. One queue is used by one
 * thread at a time; the caller serialises.
 */
#ifndef BH_VIRTIO_VIRTQUEUE_H
#define BH_VIRTIO_VIRTQUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define VQ_SIZE_MAX 32768u
#define VQ_MEM_REGIONS_MAX 8
/* Iovecs one chain may need, at most, whatever the caller allows. */
#define VQ_CHAIN_IOV_MAX 1024u

/* virtio 1.x feature bits the queue layer implements. */
#define VIRTIO_F_INDIRECT_DESC 28
#define VIRTIO_F_EVENT_IDX 29
#define VIRTIO_F_VERSION_1 32

struct vq_region {
	uint64_t gpa;
	uint64_t size;
	uint8_t *host; /* where [gpa, gpa + size) is mapped here */
};

/* A guest's RAM as the device model sees it. */
struct vq_mem {
	unsigned int nregions;
	struct vq_region region[VQ_MEM_REGIONS_MAX];
};

/*
 * Host pointer for [gpa, gpa + len) if it lies inside one region, else
 * NULL. Overflow-safe; len 0 is refused.
 */
void *vq_mem_ptr(const struct vq_mem *mem, uint64_t gpa, uint64_t len);

struct virtqueue {
	const struct vq_mem *mem;
	uint16_t size; /* a power of two, 1..VQ_SIZE_MAX */
	bool event_idx; /* VIRTIO_F_EVENT_IDX negotiated */
	bool indirect; /* VIRTIO_F_INDIRECT_DESC negotiated */
	/* Ring pointers, checked once in vq_init. */
	volatile uint8_t *desc;
	volatile uint8_t *avail;
	volatile uint8_t *used;
	uint16_t last_avail; /* next avail ring entry to take */
	uint16_t used_idx; /* our copy of used->idx */
	uint16_t signalled_used; /* used_idx when the driver was last told */
	bool signalled_valid;
	bool broken; /* the guest broke the queue: nothing more is taken */
	char error[128]; /* why, for the log; "" while not broken */
};

/*
 * Sets a queue up over rings at guest-physical desc, avail and used, each
 * checked to be RAM of the right size and alignment. avail_base is where
 * the driver's avail index and our used index start (0 for a new queue,
 * GET/SET_VRING_BASE across a restart). features: the negotiated set.
 * Returns 0, or -1 with vq->error saying which check failed.
 */
int vq_init(struct virtqueue *vq, const struct vq_mem *mem, unsigned int size,
	    uint64_t desc_gpa, uint64_t avail_gpa, uint64_t used_gpa,
	    uint64_t features, uint16_t avail_base);

/*
 * One chain taken from the avail ring, as host iovecs in the caller's
 * array: device-readable buffers first, iov[0..nout), then device-writable
 * ones, iov[nout..nout + nin). A descriptor that crosses a region boundary
 * becomes two iovecs. A chain needing more than iov_cap iovecs breaks the
 * queue (devices advertise a segment limit the driver must respect).
 */
struct vq_chain {
	uint16_t head; /* what vq_push() gives back */
	unsigned int nout;
	unsigned int nin;
	uint64_t out_len; /* bytes readable */
	uint64_t in_len; /* bytes writable */
	struct iovec *iov; /* set by the caller */
	unsigned int iov_cap; /* set by the caller, <= VQ_CHAIN_IOV_MAX */
};

/*
 * Takes the next available chain. Returns 1 with chain filled, 0 if the
 * driver has made nothing new available, or -1 if the queue is (now)
 * broken: a bad index, descriptor, loop, over-long chain, nested or
 * misplaced indirect table, readable-after-writable buffer or an address
 * outside RAM. A broken queue stays broken until vq_init. On 0 or -1 the
 * chain has no iovecs. Zero-length descriptors add no iovec; a chain holds
 * at most 2^32 bytes; an indirect table (1..VQ_SIZE_MAX entries, inside
 * one region) may end a direct chain. docs/virtio.md lists every check.
 */
int vq_pop(struct virtqueue *vq, struct vq_chain *chain);

/*
 * Gives back the last n chains vq_pop() returned (none of them pushed):
 * the next vq_pop() takes them again, reading and checking them anew. A
 * device that finds, after taking them, that they cannot hold what it
 * has (virtio-net's receive buffers) leaves them for later this way.
 */
void vq_unpop(struct virtqueue *vq, unsigned int n);

/* One used-ring entry, for vq_push_many(). */
struct vq_used {
	uint16_t head;
	uint32_t len;
};

/*
 * Puts n chains in the used ring and only then moves used->idx past all
 * of them, so the driver sees them together (virtio-net's mergeable
 * receive buffers: one frame in several chains). Nothing if vq_init failed.
 */
void vq_push_many(struct virtqueue *vq, const struct vq_used *u,
		  unsigned int n);

/*
 * Puts chain head in the used ring with len bytes written to its in part.
 * Also on a broken queue (chains taken before it broke still complete);
 * nothing if vq_init failed.
 */
void vq_push(struct virtqueue *vq, uint16_t head, uint32_t len);

/*
 * After one or more vq_push(): true if the driver wants an interrupt now
 * (event index, or VRING_AVAIL_F_NO_INTERRUPT without it). Updates the
 * queue's idea of what the driver was last told.
 */
bool vq_should_notify(struct virtqueue *vq);

/*
 * Notification suppression while the device drains the queue: disable
 * asks the driver not to kick; enable asks again and returns true if more
 * became available meanwhile (the caller must then keep draining).
 */
void vq_disable_notify(struct virtqueue *vq);
bool vq_enable_notify(struct virtqueue *vq);

/* Chains made available and not yet taken (0 on a broken queue). */
unsigned int vq_pending(struct virtqueue *vq);

#endif
