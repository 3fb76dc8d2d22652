/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The virtio-net device model on a vhost-user back end: receive queue 0
 * is filled from the tap, frames on transmit queue 1 are written to it,
 * each with its virtio-net header (net_hdr.h) checked on the way. One
 * thread. Nothing the guest writes can stop the device: a frame that
 * fails a check is dropped and counted; a ring that breaks the virtqueue
 * rules stops only that ring (vhost_backend.h).
 */
#ifndef BH_DEVMODEL_NET_DEVICE_H
#define BH_DEVMODEL_NET_DEVICE_H

#include <stdint.h>

#include "devmodel/net/net_config.h"
#include "devmodel/net/net_hdr.h"
#include "devmodel/vhost_backend.h"

#define NET_QUEUE_RX 0u
#define NET_QUEUE_TX 1u
#define NET_NQUEUES 2u
/* Frames taken off the tap per wake-up before the loop looks elsewhere. */
#define NET_RX_BUDGET 64u

struct net_stats {
	uint64_t tx_frames, tx_bytes; /* written to the tap */
	uint64_t rx_frames, rx_bytes; /* put in the guest's buffers */
	uint64_t tx_dropped[NET_BAD_COUNT];
	uint64_t rx_dropped[NET_BAD_COUNT];
	uint64_t kicks, interrupts;
};

struct net_dev;

/* tap: set up by net_tap_setup(), not taken over. NULL (logged) on failure. */
struct net_dev *net_dev_new(const struct net_params *p, int tap);
void net_dev_free(struct net_dev *d);

/* The description vhost_be_new() needs. */
void net_dev_vhost(struct net_dev *d, struct vhost_be_device *out);

/* Joins the back end's loop: the tap's frames. */
int net_dev_attach(struct net_dev *d, struct vhost_be *be);

const struct net_stats *net_dev_stats(const struct net_dev *d);

/* One line of counters in the log (SIGUSR1, and at the end). */
void net_dev_log_stats(const struct net_dev *d);

#endif
