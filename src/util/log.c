// SPDX-License-Identifier: GPL-2.0-only
#include "util/log.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Set once at start-up, before any thread exists; read-only afterwards. */
static const char *log_prog = "bulkhead";
static enum bh_log_level log_max = BH_LOG_INFO;

static const char *const level_names[] = {
	[BH_LOG_ERR] = "error",
	[BH_LOG_WARN] = "warning",
	[BH_LOG_INFO] = "info",
	[BH_LOG_DEBUG] = "debug",
};

void bh_log_init(const char *prog, enum bh_log_level level)
{
	const char *slash = strrchr(prog, '/');

	log_prog = slash ? slash + 1 : prog;
	log_max = level;
}

enum bh_log_level bh_log_level(void)
{
	return log_max;
}

void bh_vlog(enum bh_log_level level, const char *fmt, va_list ap)
{
	char line[1024];
	int n, m;

	if (level > log_max)
		return;
	n = snprintf(line, sizeof(line), "%s: %s: ", log_prog,
		     level_names[level]);
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	m = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	if (m < 0)
		return;
	n += m;
	if ((size_t)n >= sizeof(line) - 1)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	/* One write per line keeps lines from different threads whole. */
	if (write(STDERR_FILENO, line, n) < 0)
		return;
}

void bh_log(enum bh_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	bh_vlog(level, fmt, ap);
	va_end(ap);
}
