/* SPDX-License-Identifier: GPL-2.0-only */
/* One connection on bulkheadd's API socket. */
#ifndef BH_DAEMON_API_CLIENT_H
#define BH_DAEMON_API_CLIENT_H

#include <stdbool.h>
#include <sys/types.h>

struct api_client {
	struct api_client *next;
	int fd;
	uid_t uid;
	pid_t pid;
	bool dead; /* a send failed or it hung up: freed by the main loop */
};

#endif
