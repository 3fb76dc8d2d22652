/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * bulkhead-blk's life, step by step: open and lock the image, build the
 * device and its back end on a connected socket, confine the process,
 * serve. main.c adds the command line and the socket; the jail's test
 * (tests/unit/test_blk_jail.c) runs the same steps and then, instead of
 * serving, tries to break out.
 */
#ifndef BH_DEVMODEL_BLK_SERVER_H
#define BH_DEVMODEL_BLK_SERVER_H

#include <stdbool.h>

#include "devmodel/blk/blk_device.h"
#include "devmodel/blk/blk_image.h"
#include "devmodel/blk/blk_layers.h"
#include "devmodel/vhost_backend.h"

struct blk_server_config {
	/* With a temporary snapshot the image is opened read-only. */
	struct blk_image_options image;
	struct blk_layer_options layers;
	bool readonly; /* the guest's disk is read-only */
	const char *serial;
	bool no_discard;
	unsigned int nqueues;
	enum blk_io_engine engine;
	/* Started as root: the ids to become. */
	bool have_ids;
	unsigned int uid, gid;
};

struct blk_server {
	const struct blk_server_config *cfg;
	struct blk_image img;
	struct blk_layers layers;
	struct blk_dev *dev;
	struct vhost_be *be;
	int sock;
	int signal_fd; /* SIGTERM, SIGINT, SIGHUP: stop between messages */
};

/* Opens and locks the image, builds its layers. 0, or -1 (logged). */
int blk_server_open(struct blk_server *s, const struct blk_server_config *c);

/* The device, its I/O engine and back end on sock (taken over). */
int blk_server_start(struct blk_server *s, int sock);

struct blk_jail;
struct jail_config;

/* The jail for s as it stands (blk_jail.h); cfg points into j. */
int blk_server_jail(struct blk_server *s, struct blk_jail *j,
		    struct jail_config *cfg);

/* Closes everything but what serving needs and enters the jail. */
int blk_server_confine(struct blk_server *s);

/* Serves until the front end leaves: 0 cleanly, -1 on an error. */
int blk_server_run(struct blk_server *s);

/* Tears down whatever was set up; the image's locks go with it. */
void blk_server_close(struct blk_server *s);

#endif
