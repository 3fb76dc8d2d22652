/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * bulkhead-blk's jail: the descriptors it keeps and its seccomp allowlist.
 * bulkhead-blk and the jail's test (tests/unit/test_blk_jail.c) both build
 * their jail_config here, so the test proves the very jail that runs.
 */
#ifndef BH_DEVMODEL_BLK_JAIL_H
#define BH_DEVMODEL_BLK_JAIL_H

#include <stdbool.h>

#include "devmodel/blk/blk_io.h"
#include "jail/jail.h"

/* What bulkhead-blk holds once set up; -1 for what it does not have. */
struct blk_jail_fds {
	int sock; /* the vhost-user connection */
	int epoll; /* the back end's event loop */
	int image;
	int overlay; /* a temporary disk's; -1 if none */
	int verity; /* the dm-verity hash tree; -1 if none */
	int ring; /* io_uring engine only */
	int ring_event;
	int signals; /* signalfd for SIGTERM/SIGINT */
	int log; /* stderr */
};

struct blk_jail {
	struct blk_jail_fds fds;
	enum blk_io_engine engine; /* BLK_IO_URING or BLK_IO_SYNC */
	bool readonly; /* the guest's disk */
	bool image_readonly; /* the image itself (a temporary disk's is) */
	unsigned int nqueues;
	bool have_ids;
	unsigned int uid, gid;
	/* filled by blk_jail_config() */
	int keep[10];
	struct jail_rule rules[JAIL_RULES_MAX];
};

/* Fills cfg (pointing into j) for jail_enter(). Returns 0, -1 if too big. */
int blk_jail_config(struct blk_jail *j, struct jail_config *cfg);

#endif
