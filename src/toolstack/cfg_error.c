// SPDX-License-Identifier: GPL-2.0-only
#include "toolstack/cfg_error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define QUOTE_MAX_CHARS 40

void cfg_error_set(struct cfg_error *err, const char *file, unsigned int line,
		   unsigned int column, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return;
	snprintf(err->file, sizeof(err->file), "%s", file ? file : "");
	/* File names come from users too; keep messages free of controls. */
	for (char *p = err->file; *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	}
	err->line = line;
	err->column = column;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
}

int cfg_error_format(const struct cfg_error *err, char *buf, size_t len)
{
	const char *sep = err->file[0] ? ":" : "";

	if (err->line && err->column)
		return snprintf(buf, len, "%s%s%u:%u: %s", err->file, sep,
				err->line, err->column, err->msg);
	if (err->line)
		return snprintf(buf, len, "%s%s%u: %s", err->file, sep,
				err->line, err->msg);
	if (err->file[0])
		return snprintf(buf, len, "%s: %s", err->file, err->msg);
	return snprintf(buf, len, "%s", err->msg);
}

void cfg_quote(const char *s, size_t len, char *buf, size_t out_len)
{
	size_t o = 0, shown = 0;

	/* Room for the closing quote, "..." and the NUL is kept in reserve. */
	buf[o++] = '"';
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		char tmp[5];
		size_t n;

		if (shown == QUOTE_MAX_CHARS) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		if (c == '"' || c == '\\') {
			tmp[0] = '\\';
			tmp[1] = (char)c;
			n = 2;
		} else if (c >= 0x20 && c < 0x7f) {
			tmp[0] = (char)c;
			n = 1;
		} else {
			snprintf(tmp, sizeof(tmp), "\\x%02x", c);
			n = 4;
		}
		if (o + n + 5 > out_len) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		memcpy(buf + o, tmp, n);
		o += n;
		shown++;
	}
	buf[o++] = '"';
	buf[o] = '\0';
}
