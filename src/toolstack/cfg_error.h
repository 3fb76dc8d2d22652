/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Where a configuration file went wrong and why: the one error a parse
 * reports, and a printable quoting of untrusted text for messages.
 */
#ifndef BH_TOOLSTACK_CFG_ERROR_H
#define BH_TOOLSTACK_CFG_ERROR_H

#include <stddef.h>

#define CFG_ERROR_FILE_MAX 4096
#define CFG_ERROR_MSG_MAX 640

struct cfg_error {
	char file[CFG_ERROR_FILE_MAX]; /* the name the caller gave the file */
	unsigned int line; /* 1-based; 0 when the error has no line */
	unsigned int column; /* 1-based, in characters; 0 when unknown */
	char msg[CFG_ERROR_MSG_MAX]; /* "key: what was expected, got ..." */
};

/* Records an error; file may be NULL. Messages longer than the buffer are cut. */
void cfg_error_set(struct cfg_error *err, const char *file, unsigned int line,
		   unsigned int column, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/*
 * Writes "file:line:column: msg" (parts without a value are left out) into
 * buf, always NUL-terminated. Returns the length snprintf would have written.
 */
int cfg_error_format(const struct cfg_error *err, char *buf, size_t len);

/*
 * Quotes len bytes of s for a message: "..." with \\, \" and \xNN escapes
 * for anything not printable ASCII, cut after 40 characters with "...".
 * Always NUL-terminates buf; out_len must be at least 8.
 */
void cfg_quote(const char *s, size_t len, char *buf, size_t out_len);

#endif
