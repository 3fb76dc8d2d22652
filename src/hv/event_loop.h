/* SPDX-License-Identifier: GPL-2.0-only */
/* The hypervisor's main thread: epoll over fds, one callback per fd. */
#ifndef BH_HV_EVENT_LOOP_H
#define BH_HV_EVENT_LOOP_H

#include <stdbool.h>
#include <stdint.h>

struct event_loop;
struct event_source;

typedef void (*event_fn)(struct event_source *src, uint32_t events);

struct event_source {
	int fd;
	event_fn fn;
	void *opaque;
};

struct event_loop *event_loop_create(void);
void event_loop_destroy(struct event_loop *loop);
/* events: EPOLLIN, EPOLLOUT, ... The source must outlive its registration. */
int event_loop_add(struct event_loop *loop, struct event_source *src,
		   uint32_t events);
int event_loop_modify(struct event_loop *loop, struct event_source *src,
		      uint32_t events);
void event_loop_remove(struct event_loop *loop, struct event_source *src);
/* Runs callbacks for up to timeout_ms (-1: until one event). */
int event_loop_run_once(struct event_loop *loop, int timeout_ms);

#endif
