/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * libcryptsetup's messages made into one line for an error: its first
 * error, else the first of its debug lines that names a finding (most of
 * its header validation reports only at debug level), with the
 * /proc/self/fd/N path it was given replaced by "the image".
 */
#ifndef BH_TOOLSTACK_CS_LOG_H
#define BH_TOOLSTACK_CS_LOG_H

#include <stdbool.h>
#include <stddef.h>

struct crypt_device;

#define CS_LOG_MAX 200u

struct cs_log {
	char error[CS_LOG_MAX]; /* first error-level message, or "" */
	char finding[CS_LOG_MAX]; /* first telling debug message, or "" */
	char path[32]; /* the path libcryptsetup was given */
};

/*
 * Collects this thread's libcryptsetup messages into *log until
 * cs_log_end(); path is what crypt_init gets. Not nestable.
 */
void cs_log_begin(struct cs_log *log, const char *path);

/* Routes cd's messages to the collecting log too (after crypt_init). */
void cs_log_attach(struct crypt_device *cd);

void cs_log_end(void);

/* The best message collected, or NULL if there is none. */
const char *cs_log_reason(const struct cs_log *log);

#endif
