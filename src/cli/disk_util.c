// SPDX-License-Identifier: GPL-2.0-only
/* What the bulkhead disk subverbs share: messages, sizes, cleanup. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/disk.h"
#include "util/parse.h"

#define ITER_TIME_MAX_MS 600000u
#define ARGON2_MEMORY_MIN_KIB 32u
#define ARGON2_MEMORY_MAX_KIB (4u << 20)

int disk_usage_err(const char *sub, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "bulkhead disk %s: ", sub);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'bulkhead disk %s --help'.\n", sub);
	return EXIT_USAGE;
}

int disk_parse_pbkdf_opt(const char *sub, int opt, const char *arg,
			 struct luks_pbkdf *p)
{
	uint64_t v;

	if (bh_parse_u64(arg, &v) < 0)
		v = 0;
	if (opt == 'i') {
		if (!v || v > ITER_TIME_MAX_MS)
			return disk_usage_err(
				sub,
				"--iter-time: \"%s\" is not a time from 1 to %u ms",
				arg, ITER_TIME_MAX_MS);
		p->iter_time_ms = (uint32_t)v;
		return EXIT_OK;
	}
	if (v < ARGON2_MEMORY_MIN_KIB || v > ARGON2_MEMORY_MAX_KIB)
		return disk_usage_err(
			sub,
			"--pbkdf-memory: \"%s\" is not a size from %u to %u KiB",
			arg, ARGON2_MEMORY_MIN_KIB, ARGON2_MEMORY_MAX_KIB);
	p->max_memory_kib = (uint32_t)v;
	return EXIT_OK;
}

void disk_human_size(uint64_t bytes, char *out, size_t cap)
{
	static const char *const units[] = { "KiB", "MiB", "GiB",
					     "TiB", "PiB", "EiB" };
	unsigned int u = 0;
	uint64_t whole;

	if (bytes < 1024) {
		snprintf(out, cap, "%llu bytes", (unsigned long long)bytes);
		return;
	}
	while (u + 1 < sizeof(units) / sizeof(*units) &&
	       bytes >> (10 * (u + 2)))
		u++;
	whole = bytes >> (10 * (u + 1));
	if (bytes & ((1ull << (10 * (u + 1))) - 1)) {
		/* One decimal, rounded down: never more than there is. */
		uint64_t tenth = ((bytes >> (10 * u)) & 1023) * 10 / 1024;

		snprintf(out, cap, "%llu.%llu %s", (unsigned long long)whole,
			 (unsigned long long)tenth, units[u]);
	} else {
		snprintf(out, cap, "%llu %s", (unsigned long long)whole,
			 units[u]);
	}
}

static char cleanup_path[4096];
static volatile sig_atomic_t cleanup_armed;
static struct termios cleanup_termios;
static volatile sig_atomic_t cleanup_has_tty;

static void on_fatal_signal(int sig)
{
	if (cleanup_has_tty)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &cleanup_termios);
	if (cleanup_armed)
		unlink(cleanup_path);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void catch_fatal_signals(void)
{
	static bool installed;
	struct sigaction sa = { .sa_handler = on_fatal_signal };

	if (installed)
		return;
	installed = true;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGQUIT, &sa, NULL);
}

void disk_cleanup_arm(const char *path)
{
	cleanup_armed = 0;
	snprintf(cleanup_path, sizeof(cleanup_path), "%s", path);
	catch_fatal_signals();
	cleanup_armed = 1;
}

void disk_cleanup_disarm(void)
{
	cleanup_armed = 0;
}

void disk_cleanup_tty(const struct termios *saved)
{
	cleanup_has_tty = 0;
	if (!saved)
		return;
	cleanup_termios = *saved;
	catch_fatal_signals();
	cleanup_has_tty = 1;
}

static bool progress_shown;

void disk_progress(const char *fmt, ...)
{
	va_list ap;

	if (!isatty(STDERR_FILENO))
		return;
	fputs("\r", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\033[K", stderr);
	fflush(stderr);
	progress_shown = true;
}

void disk_progress_done(void)
{
	if (!progress_shown)
		return;
	fputs("\r\033[K", stderr);
	fflush(stderr);
	progress_shown = false;
}

int disk_open_image(const char *path, int flags)
{
	struct stat st;
	int fd = open(path, flags | O_CLOEXEC | O_NOCTTY);

	if (fd < 0) {
		cli_err("%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 ||
	    (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))) {
		cli_err("%s: not a regular file or block device", path);
		close(fd);
		return -1;
	}
	return fd;
}
