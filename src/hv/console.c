// SPDX-License-Identifier: GPL-2.0-only
#include "hv/console.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "util/log.h"

struct console *console_create(int log_fd)
{
	struct console *con = calloc(1, sizeof(*con));

	if (!con)
		return NULL;
	con->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (con->event_fd < 0) {
		free(con);
		return NULL;
	}
	pthread_mutex_init(&con->lock, NULL);
	con->log_fd = log_fd;
	return con;
}

void console_destroy(struct console *con)
{
	if (!con)
		return;
	if (con->log_fd >= 0)
		close(con->log_fd);
	close(con->event_fd);
	pthread_mutex_destroy(&con->lock);
	free(con);
}

static void console_log_write(struct console *con, const uint8_t *buf,
			      size_t len)
{
	while (len && con->log_fd >= 0 && !con->log_failed) {
		ssize_t n = write(con->log_fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			con->log_failed = n < 0 ? errno : ENOSPC;
			bh_warn("console log write failed: %s; further output goes to the history buffer only",
				strerror(con->log_failed));
			return;
		}
		buf += n;
		len -= (size_t)n;
	}
}

void console_output(struct console *con, const uint8_t *buf, size_t len)
{
	uint64_t one = 1;
	size_t i;

	pthread_mutex_lock(&con->lock);
	console_log_write(con, buf, len);
	for (i = 0; i < len; i++)
		con->hist[(con->total + i) % CONSOLE_HISTORY] = buf[i];
	con->total += len;
	pthread_mutex_unlock(&con->lock);
	if (write(con->event_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		bh_debug("console eventfd: %s", strerror(errno));
}

size_t console_read(struct console *con, uint64_t *cursor, uint8_t *buf,
		    size_t len, uint64_t *missed)
{
	size_t n = 0;

	pthread_mutex_lock(&con->lock);
	*missed = 0;
	if (con->total > CONSOLE_HISTORY &&
	    *cursor < con->total - CONSOLE_HISTORY) {
		*missed = con->total - CONSOLE_HISTORY - *cursor;
		*cursor = con->total - CONSOLE_HISTORY;
	}
	while (n < len && *cursor < con->total) {
		buf[n++] = con->hist[*cursor % CONSOLE_HISTORY];
		(*cursor)++;
	}
	pthread_mutex_unlock(&con->lock);
	return n;
}

uint64_t console_total(struct console *con)
{
	uint64_t t;

	pthread_mutex_lock(&con->lock);
	t = con->total;
	pthread_mutex_unlock(&con->lock);
	return t;
}
