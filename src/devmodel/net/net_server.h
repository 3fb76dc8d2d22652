/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * bulkhead-net's life, step by step: check and set up the tap, build the
 * device and its back end on a connected socket, confine the process,
 * serve. main.c adds the command line; the jail's test runs the same
 * steps and then, instead of serving, tries to break out.
 */
#ifndef BH_DEVMODEL_NET_SERVER_H
#define BH_DEVMODEL_NET_SERVER_H

#include <stdbool.h>

#include "devmodel/net/net_device.h"
#include "devmodel/vhost_backend.h"

struct net_server_config {
	struct net_params params;
	int tap_fd; /* inherited, taken over */
	/* Started as root: the ids to become. */
	bool have_ids;
	unsigned int uid, gid;
};

struct net_server {
	const struct net_server_config *cfg;
	struct net_dev *dev;
	struct vhost_be *be;
	int sock;
	int signal_fd; /* SIGTERM, SIGINT, SIGHUP stop; SIGUSR1 logs counters */
};

/* Checks and sets up the tap. 0, or -1 (logged). */
int net_server_open(struct net_server *s, const struct net_server_config *c);

/* The device and its back end on sock (taken over). */
int net_server_start(struct net_server *s, int sock);

struct net_jail;
struct jail_config;

/* The jail for s as it stands (net_jail.h); cfg points into j. */
int net_server_jail(struct net_server *s, struct net_jail *j,
		    struct jail_config *cfg);

/* Closes everything but what serving needs and enters the jail. */
int net_server_confine(struct net_server *s);

/* Serves until the front end leaves: 0 cleanly, -1 on an error. */
int net_server_run(struct net_server *s);

void net_server_close(struct net_server *s);

#endif
