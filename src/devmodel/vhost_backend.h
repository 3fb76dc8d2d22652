/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A vhost-user back end serving one device to one connected front end
 * (QEMU, bulkhead-hv) over a unix stream socket: the protocol handshake,
 * the guest's memory table, the vrings and their eventfds, config space,
 * and a single-threaded epoll loop. Device models (blk, later net and gpu)
 * supply a struct vhost_be_device and process their queues.
 *
 * The front end is not trusted: every message is validated (vhost_msg.h)
 * and a malformed one ends the connection with a logged reason. Rings the
 * guest breaks stop only that queue.
 */
#ifndef BH_DEVMODEL_VHOST_BACKEND_H
#define BH_DEVMODEL_VHOST_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "virtio/vhost_user.h"
#include "virtio/virtqueue.h"

#define VHOST_BE_QUEUES_MAX 16

struct vhost_be;

/* One vring as the front end set it up. Devices read it; the library owns it. */
struct vhost_be_queue {
	struct virtqueue vq;
	unsigned int index;
	unsigned int num; /* SET_VRING_NUM, 0 until set */
	uint16_t base; /* SET_VRING_BASE, or where GET_VRING_BASE stopped */
	bool addr_set;
	uint64_t desc_uaddr, avail_uaddr, used_uaddr; /* front-end addresses */
	int kick_fd, call_fd, err_fd; /* -1 when not given */
	bool enabled; /* SET_VRING_ENABLE, or started without the handshake */
	bool started; /* kicked and not stopped by GET_VRING_BASE */
	bool live; /* vq_init succeeded since it started */
	bool broken; /* the guest broke it: nothing is taken until restarted */
	struct vhost_be *be;
	void *watch; /* the kick fd's place in the event loop */
};

/*
 * What a device model provides. Callbacks get opaque. The transport
 * features (VERSION_1, EVENT_IDX, INDIRECT_DESC, PROTOCOL_FEATURES) are
 * the library's; features holds the device's own bits.
 */
struct vhost_be_device {
	unsigned int nqueues; /* 1..VHOST_BE_QUEUES_MAX */
	uint64_t features;
	void *opaque;
	/* Config space reads and writes; return 0 or -1 (out of bounds, read-only). */
	int (*get_config)(void *opaque, uint32_t offset, uint8_t *buf,
			  uint32_t len);
	int (*set_config)(void *opaque, uint32_t offset, const uint8_t *buf,
			  uint32_t len);
	/* q may have work: take what it can (vhost_be_queue_ready() holds). */
	void (*queue_kick)(void *opaque, struct vhost_be_queue *q);
	/*
	 * Finish every request in flight on every queue and put it in its
	 * used ring. Called before rings stop or the memory table changes;
	 * afterwards no host pointer into guest memory may be kept.
	 */
	void (*quiesce)(void *opaque);
	/* The front end reset the device (after quiesce). Optional. */
	void (*reset)(void *opaque);
};

/* Takes the connected socket sock (closed by vhost_be_free). NULL on failure. */
struct vhost_be *vhost_be_new(const struct vhost_be_device *dev, int sock);
void vhost_be_free(struct vhost_be *be);

/*
 * Serves the front end until it disconnects or vhost_be_stop(). Returns
 * 0 when it disconnected between messages (or was stopped), -1 when the
 * connection ended in error (a malformed message, a failed read: logged).
 */
int vhost_be_run(struct vhost_be *be);

/*
 * One round of the loop: waits up to timeout_ms (-1: no limit) and
 * handles what is ready. Returns the number of events, or -1 (logged).
 */
int vhost_be_poll(struct vhost_be *be, int timeout_ms);

/* Makes vhost_be_run() return 0 after the current event. */
void vhost_be_stop(struct vhost_be *be);

/* Calls fn(arg) from the loop whenever fd is readable. */
int vhost_be_watch(struct vhost_be *be, int fd, void (*fn)(void *arg),
		   void *arg);

/*
 * Stops (on false) or resumes calling the function vhost_be_watch() gave
 * for fd: a device with nowhere to put what fd has (virtio-net with no
 * receive buffers) pauses it rather than spin. 0, or -1 with errno.
 */
int vhost_be_watch_enable(struct vhost_be *be, int fd, bool on);

/* The loop's epoll descriptor (a jail keeps it open). */
int vhost_be_epoll_fd(const struct vhost_be *be);

/* The features the front end acknowledged (SET_FEATURES). */
uint64_t vhost_be_features(const struct vhost_be *be);

struct vhost_be_queue *vhost_be_queue(struct vhost_be *be, unsigned int i);
unsigned int vhost_be_nqueues(const struct vhost_be *be);

/* The queue is started, enabled, set up and not broken: work may be taken. */
bool vhost_be_queue_ready(const struct vhost_be_queue *q);

/*
 * After vq_push(): interrupts the driver if vq_should_notify() says so;
 * true if it did.
 */
bool vhost_be_queue_signal(struct vhost_be_queue *q);

/*
 * vq_pop() returned -1: logs why, signals the vring's error eventfd and
 * stops serving the queue until the front end sets it up again.
 */
void vhost_be_queue_broken(struct vhost_be_queue *q);

/*
 * One message, without socket I/O (the loop, unit tests and the fuzzer
 * call this). fds: the descriptors that came with it, all consumed (kept
 * or closed) whatever happens. If *reply_len is set non-zero, reply holds
 * that many bytes to send back. Returns 0, or -1 when the connection must
 * close (the reason is logged; reply may still hold a negative ack).
 */
int vhost_be_handle(struct vhost_be *be, const struct vhost_user_msg *msg,
		    int *fds, unsigned int nfds, struct vhost_user_msg *reply,
		    size_t *reply_len);

/* Whether the memory table is mapped (tests). */
bool vhost_be_has_memory(const struct vhost_be *be);

#endif
