// SPDX-License-Identifier: GPL-2.0-only
#include "hv/event_loop.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#define MAX_EVENTS 32

struct event_loop {
	int epfd;
	/* Set when a source is removed mid-batch; later events are refetched. */
	bool removed;
};

struct event_loop *event_loop_create(void)
{
	struct event_loop *loop = calloc(1, sizeof(*loop));

	if (!loop)
		return NULL;
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epfd < 0) {
		free(loop);
		return NULL;
	}
	return loop;
}

void event_loop_destroy(struct event_loop *loop)
{
	if (!loop)
		return;
	close(loop->epfd);
	free(loop);
}

int event_loop_add(struct event_loop *loop, struct event_source *src,
		   uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = src };

	return epoll_ctl(loop->epfd, EPOLL_CTL_ADD, src->fd, &ev);
}

int event_loop_modify(struct event_loop *loop, struct event_source *src,
		      uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = src };

	return epoll_ctl(loop->epfd, EPOLL_CTL_MOD, src->fd, &ev);
}

void event_loop_remove(struct event_loop *loop, struct event_source *src)
{
	epoll_ctl(loop->epfd, EPOLL_CTL_DEL, src->fd, NULL);
	loop->removed = true;
}

int event_loop_run_once(struct event_loop *loop, int timeout_ms)
{
	struct epoll_event ev[MAX_EVENTS];
	int n, i;

	n = epoll_wait(loop->epfd, ev, MAX_EVENTS, timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -1;
	loop->removed = false;
	for (i = 0; i < n; i++) {
		struct event_source *src = ev[i].data.ptr;

		/* A callback may free other sources: stop the batch if so. */
		if (loop->removed)
			break;
		src->fn(src, ev[i].events);
	}
	return n;
}
