/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * bulkhead-net's jail: the descriptors it keeps and its seccomp
 * allowlist. bulkhead-net builds its jail_config here, and the tests look
 * at the very jail that runs (tests/unit/test_net.c tries it in a child).
 */
#ifndef BH_DEVMODEL_NET_JAIL_H
#define BH_DEVMODEL_NET_JAIL_H

#include <stdbool.h>

#include "jail/jail.h"

/* What bulkhead-net holds once set up. */
struct net_jail_fds {
	int sock; /* the vhost-user connection */
	int epoll; /* the back end's event loop */
	int tap;
	int signals; /* signalfd: SIGTERM, SIGINT, SIGHUP, SIGUSR1 */
	int log; /* stderr */
};

struct net_jail {
	struct net_jail_fds fds;
	bool have_ids;
	unsigned int uid, gid;
	/* filled by net_jail_config() */
	int keep[5];
	struct jail_rule rules[JAIL_RULES_MAX];
};

/* Fills cfg (pointing into j) for jail_enter(). Returns 0, -1 if too big. */
int net_jail_config(struct net_jail *j, struct jail_config *cfg);

#endif
