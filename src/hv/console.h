/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A VM's console output: every byte goes synchronously to the log fd (if
 * any) and into a history ring that attached clients read at their own
 * pace. A client that falls more than the ring behind is told how many
 * bytes it missed; the log never misses any.
 */
#ifndef BH_HV_CONSOLE_H
#define BH_HV_CONSOLE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#define CONSOLE_HISTORY (64 * 1024)

struct console {
	pthread_mutex_t lock;
	int log_fd; /* owned; -1 for none */
	int log_failed; /* errno of the first failed log write, reported once */
	int event_fd; /* eventfd, readable when output arrived */
	uint8_t hist[CONSOLE_HISTORY];
	uint64_t total; /* bytes ever produced; the ring holds the last ones */
};

struct console *console_create(int log_fd);
void console_destroy(struct console *con);
void console_output(struct console *con, const uint8_t *buf, size_t len);

/*
 * Copies output after *cursor into buf, advancing *cursor; returns the
 * bytes copied. Bytes that already left the ring are skipped and counted
 * in *missed.
 */
size_t console_read(struct console *con, uint64_t *cursor, uint8_t *buf,
		    size_t len, uint64_t *missed);
uint64_t console_total(struct console *con);

#endif
