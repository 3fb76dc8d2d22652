/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The virtio-blk device model on a vhost-user back end: takes requests
 * off the queues, parses them (blk_request.h), runs them on the I/O
 * engine (blk_io.h) and answers them in the used ring. One thread; up to
 * BLK_DEPTH requests in flight across all queues.
 */
#ifndef BH_DEVMODEL_BLK_DEVICE_H
#define BH_DEVMODEL_BLK_DEVICE_H

#include <stddef.h>

#include "devmodel/blk/blk_config.h"
#include "devmodel/blk/blk_io.h"
#include "devmodel/vhost_backend.h"

#define BLK_DEPTH 128u

struct blk_stack_config;

struct blk_dev_config {
	struct blk_params params;
	int image_fd; /* not taken over */
	int overlay_fd; /* a temporary disk's overlay, or -1; not taken over */
	/* Encryption, overlay, verity (blk_stack.h); NULL for a plain disk. */
	const struct blk_stack_config *stack;
	enum blk_io_engine engine;
	const char *serial; /* NULL: GET_ID answers UNSUPP; else <= 20 bytes */
};

struct blk_dev;

/* NULL (logged) if the I/O engine cannot be set up. */
struct blk_dev *blk_dev_new(const struct blk_dev_config *cfg);
void blk_dev_free(struct blk_dev *d);

/* The description vhost_be_new() needs for this device. */
void blk_dev_vhost(struct blk_dev *d, struct vhost_be_device *out);

/* Joins the back end's loop (completion events). */
int blk_dev_attach(struct blk_dev *d, struct vhost_be *be);

enum blk_io_engine blk_dev_engine(const struct blk_dev *d);

/* Its I/O engine (tests probe the ring). */
struct blk_io *blk_dev_io(struct blk_dev *d);

/* The descriptors the device needs kept open (I/O engine); <= 2. */
unsigned int blk_dev_fds(const struct blk_dev *d, int *fds);

#endif
