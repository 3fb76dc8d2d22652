// SPDX-License-Identifier: GPL-2.0-only
#include "hv/console_attach.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "hv/console.h"
#include "hv/host.h"
#include "util/log.h"

struct console_client {
	struct hv_vm *e;
	struct event_source src;
	uint64_t cursor;
	uint32_t events;
	bool input_paused;
	bool dead;
	struct console_client *next;
};

static void client_set_events(struct console_client *c, uint32_t events)
{
	if (events == c->events)
		return;
	if (event_loop_modify(c->e->host->loop, &c->src, events) == 0)
		c->events = events;
}

static void client_close(struct console_client *c)
{
	struct console_client **p;

	event_loop_remove(c->e->host->loop, &c->src);
	close(c->src.fd);
	for (p = &c->e->clients; *p; p = &(*p)->next) {
		if (*p == c) {
			*p = c->next;
			break;
		}
	}
	free(c);
}

/* Writes pending output; false if the client is gone. */
static bool client_flush(struct console_client *c)
{
	struct console *con = c->e->vm->console;
	uint8_t buf[4096];

	for (;;) {
		uint64_t missed;
		size_t n = console_read(con, &c->cursor, buf, sizeof(buf),
					&missed);
		ssize_t w;

		if (missed) {
			char note[96];
			int len = snprintf(
				note, sizeof(note),
				"\r\n[bulkhead: %llu bytes of console output skipped]\r\n",
				(unsigned long long)missed);

			if (write(c->src.fd, note, (size_t)len) < 0 &&
			    errno != EAGAIN)
				return false;
		}
		if (!n)
			break;
		w = write(c->src.fd, buf, n);
		if (w < 0 && errno != EAGAIN && errno != EINTR)
			return false;
		if (w < 0)
			w = 0;
		if ((size_t)w < n) {
			c->cursor -= n - (size_t)w;
			client_set_events(c, (c->input_paused ? 0 : EPOLLIN) |
						     EPOLLOUT);
			return true;
		}
	}
	client_set_events(c, c->input_paused ? 0 : EPOLLIN);
	return true;
}

static void client_read_input(struct console_client *c)
{
	struct vm *vm = c->e->vm;
	uint8_t buf[512];
	size_t room = vm_console_room(vm);
	ssize_t n;

	if (!room) {
		c->input_paused = true;
		client_set_events(c, c->events & ~(uint32_t)EPOLLIN);
		return;
	}
	n = read(c->src.fd, buf, room < sizeof(buf) ? room : sizeof(buf));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		c->dead = true;
		return;
	}
	vm_console_receive(vm, buf, (size_t)n);
}

static void on_client(struct event_source *src, uint32_t events)
{
	struct console_client *c = src->opaque;

	if (!c->e->vm) {
		client_close(c);
		return;
	}
	if (events & EPOLLIN)
		client_read_input(c);
	if (!c->dead && (events & EPOLLOUT) && !client_flush(c))
		c->dead = true;
	if (c->dead || (events & (EPOLLERR | EPOLLHUP)))
		client_close(c);
}

int console_attach(struct hv_vm *e, int fd, bool from_start)
{
	struct console_client *c;
	int flags = fcntl(fd, F_GETFL);

	int type;
	socklen_t len = sizeof(type);

	/* A socket: its send timeout bounds the final flush. */
	if (!e->vm || flags < 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 ||
	    type != SOCK_STREAM || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
		return -1;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -1;
	c->e = e;
	c->src = (struct event_source){ fd, on_client, c };
	c->cursor = from_start ? 0 : console_total(e->vm->console);
	c->events = EPOLLIN | EPOLLOUT;
	if (event_loop_add(e->host->loop, &c->src, c->events) < 0) {
		free(c);
		return -1;
	}
	c->next = e->clients;
	e->clients = c;
	return 0;
}

void console_attach_on_output(struct event_source *src, uint32_t events)
{
	struct hv_vm *e = src->opaque;
	struct console_client *c, *next;
	uint64_t count;

	(void)events;
	if (read(src->fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		bh_debug("vm %s: console eventfd: %s", e->name,
			 strerror(errno));
	for (c = e->clients; c; c = next) {
		next = c->next;
		if (!client_flush(c))
			client_close(c);
	}
}

void console_attach_tick(struct hv_host *host)
{
	struct hv_vm *e;
	struct console_client *c;

	for (e = host->vms; e; e = e->next) {
		if (!e->vm)
			continue;
		for (c = e->clients; c; c = c->next) {
			if (c->input_paused && vm_console_room(e->vm)) {
				c->input_paused = false;
				client_set_events(c, c->events | EPOLLIN);
			}
		}
	}
}

bool console_attach_any_paused(struct hv_host *host)
{
	struct hv_vm *e;
	struct console_client *c;

	for (e = host->vms; e; e = e->next)
		for (c = e->clients; c; c = c->next)
			if (c->input_paused)
				return true;
	return false;
}

void console_attach_flush_all(struct hv_vm *e)
{
	struct console_client *c;
	int flags;

	/*
	 * Final output: blocking writes bounded by a send timeout, so the
	 * client sees the end but a stuck one cannot hold the hypervisor.
	 */
	for (c = e->clients; c; c = c->next) {
		struct timeval tv = { .tv_sec = 1 };

		setsockopt(c->src.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		flags = fcntl(c->src.fd, F_GETFL);
		if (flags >= 0)
			fcntl(c->src.fd, F_SETFL, flags & ~O_NONBLOCK);
		client_flush(c);
	}
}

void console_attach_close_all(struct hv_vm *e)
{
	while (e->clients)
		client_close(e->clients);
}
