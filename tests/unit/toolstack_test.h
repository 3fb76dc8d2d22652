/* SPDX-License-Identifier: GPL-2.0-only */
/* Helpers shared by the toolstack unit tests. */
#ifndef BH_TESTS_TOOLSTACK_TEST_H
#define BH_TESTS_TOOLSTACK_TEST_H

#include "toolstack/vmcfg.h"

#include <stddef.h>

/* Parses text (base directory /cfg) and fails the test if it does not parse. */
struct vmcfg *parse_ok(const char *text);

/*
 * Parses text (as "web.cfg", base /cfg), requires it to fail with -EINVAL
 * at line:column (0 = no location) and the formatted message to contain
 * want. Returns nothing; fails the test otherwise.
 */
void parse_fails_at(const char *text, unsigned int line, unsigned int column,
		    const char *want);

/* The same, for a text of len bytes that may contain NUL bytes. */
void parse_buf_fails_at(const char *buf, size_t len, unsigned int line,
			unsigned int column, const char *want);

/* "name = 'web'\nmemory = 256\nkernel = '/k'\n" followed by extra. */
struct vmcfg *parse_with(const char *extra);
void parse_with_fails(const char *extra, unsigned int line, unsigned int column,
		      const char *want);

#endif
