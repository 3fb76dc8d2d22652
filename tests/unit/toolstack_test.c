// SPDX-License-Identifier: GPL-2.0-only
#include "toolstack_test.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <errno.h>

#define BASE "name = 'web'\nmemory = 256\nkernel = '/k'\n"

struct vmcfg *parse_ok(const char *text)
{
	struct cfg_error err;
	struct vmcfg *cfg = NULL;
	char msg[CFG_ERROR_FILE_MAX + CFG_ERROR_MSG_MAX + 32];
	int ret;

	ret = vmcfg_parse_buffer(text, strlen(text), "web.cfg", "/cfg", &cfg,
				 &err);
	if (ret) {
		cfg_error_format(&err, msg, sizeof(msg));
		print_error("unexpected parse error: %s\n", msg);
	}
	assert_int_equal(ret, 0);
	assert_non_null(cfg);
	return cfg;
}

void parse_buf_fails_at(const char *buf, size_t len, unsigned int line,
			unsigned int column, const char *want)
{
	struct cfg_error err;
	struct vmcfg *cfg = (struct vmcfg *)1;
	char msg[CFG_ERROR_FILE_MAX + CFG_ERROR_MSG_MAX + 32];
	int ret;

	ret = vmcfg_parse_buffer(buf, len, "web.cfg", "/cfg", &cfg, &err);
	assert_int_equal(ret, -EINVAL);
	assert_null(cfg);
	cfg_error_format(&err, msg, sizeof(msg));
	if (err.line != line || err.column != column || !strstr(msg, want))
		print_error(
			"got \"%s\" (line %u column %u), wanted line %u column %u with \"%s\"\n",
			msg, err.line, err.column, line, column, want);
	assert_int_equal(err.line, line);
	assert_int_equal(err.column, column);
	assert_non_null(strstr(msg, want));
	assert_string_equal(err.file, "web.cfg");
}

void parse_fails_at(const char *text, unsigned int line, unsigned int column,
		    const char *want)
{
	parse_buf_fails_at(text, strlen(text), line, column, want);
}

struct vmcfg *parse_with(const char *extra)
{
	char text[8192];

	snprintf(text, sizeof(text), "%s%s", BASE, extra);
	return parse_ok(text);
}

void parse_with_fails(const char *extra, unsigned int line, unsigned int column,
		      const char *want)
{
	char text[8192];

	snprintf(text, sizeof(text), "%s%s", BASE, extra);
	parse_fails_at(text, line, column, want);
}
