/* SPDX-License-Identifier: GPL-2.0-only */
/* Diagnostics on stderr: one line per message, prefixed by the program name. */
#ifndef BH_UTIL_LOG_H
#define BH_UTIL_LOG_H

#include <stdarg.h>

enum bh_log_level {
	BH_LOG_ERR,
	BH_LOG_WARN,
	BH_LOG_INFO,
	BH_LOG_DEBUG,
};

void bh_log_init(const char *prog, enum bh_log_level level);
enum bh_log_level bh_log_level(void);
void bh_log(enum bh_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void bh_vlog(enum bh_log_level level, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

#define bh_err(...) bh_log(BH_LOG_ERR, __VA_ARGS__)
#define bh_warn(...) bh_log(BH_LOG_WARN, __VA_ARGS__)
#define bh_info(...) bh_log(BH_LOG_INFO, __VA_ARGS__)
#define bh_debug(...) bh_log(BH_LOG_DEBUG, __VA_ARGS__)

#endif
