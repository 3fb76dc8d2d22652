// SPDX-License-Identifier: GPL-2.0-only
/*
 * Passphrases for bulkhead disk: from a key file, the terminal or a line
 * of standard input, always into secret memory. Standard input is read a
 * byte at a time so that stdio buffers never hold a passphrase and a
 * second line stays for the next read.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/disk.h"
#include "util/secret.h"

void disk_pass_free(struct disk_pass *pw)
{
	secret_free(pw->p, pw->cap);
	pw->p = NULL;
	pw->len = pw->cap = 0;
}

static int pass_alloc(struct disk_pass *pw, size_t cap)
{
	pw->len = 0;
	pw->cap = cap;
	pw->p = secret_alloc(cap);
	if (!pw->p) {
		cli_err("cannot lock memory for a passphrase: %s",
			strerror(errno));
		pw->cap = 0;
		return EXIT_ERROR;
	}
	return EXIT_OK;
}

/* Reads fd to its end into pw (at most max bytes). 0, -EFBIG or -errno. */
static int read_to_end(int fd, struct disk_pass *pw, size_t max)
{
	for (;;) {
		ssize_t n;

		if (pw->len == pw->cap) {
			struct disk_pass bigger;

			if (pw->cap > max)
				return -EFBIG;
			if (pass_alloc(&bigger, pw->cap * 2) != EXIT_OK)
				return -ENOMEM;
			memcpy(bigger.p, pw->p, pw->len);
			bigger.len = pw->len;
			disk_pass_free(pw);
			*pw = bigger;
		}
		n = read(fd, pw->p + pw->len, pw->cap - pw->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return pw->len > max ? -EFBIG : 0;
		pw->len += (size_t)n;
	}
}

static int from_key_file(const char *path, struct disk_pass *pw)
{
	int fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) :
				     STDIN_FILENO;
	int r;

	if (fd < 0) {
		cli_err("key file %s: %s", path, strerror(errno));
		return EXIT_ERROR;
	}
	if (pass_alloc(pw, 4096) != EXIT_OK) {
		if (fd != STDIN_FILENO)
			close(fd);
		return EXIT_ERROR;
	}
	r = read_to_end(fd, pw, DISK_PASS_FILE_MAX);
	if (fd != STDIN_FILENO)
		close(fd);
	if (r == 0 && !pw->len)
		r = -ENODATA;
	if (r < 0) {
		cli_err("key file %s: %s", path,
			r == -EFBIG   ? "larger than 1 MiB" :
			r == -ENODATA ? "it is empty" :
					strerror(-r));
		disk_pass_free(pw);
		return EXIT_ERROR;
	}
	return EXIT_OK;
}

/* One line of fd, without its newline. 0, -EOVERFLOW, -ENODATA, -errno. */
static int read_line(int fd, struct disk_pass *pw)
{
	for (;;) {
		char c;
		ssize_t n = read(fd, &c, 1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return pw->len ? 0 : -ENODATA;
		if (c == '\n')
			return 0;
		if (pw->len == DISK_PASS_LINE_MAX) {
			/* Drop the rest of the line: it is not ours. */
			while (read(fd, &c, 1) == 1 && c != '\n')
				;
			return -EOVERFLOW;
		}
		pw->p[pw->len++] = c;
	}
}

/* Reads a line from the terminal with its echo off. */
static int typed(const char *prompt, struct disk_pass *pw)
{
	struct termios saved, quiet;
	int r;

	if (tcgetattr(STDIN_FILENO, &saved) < 0)
		return -errno;
	quiet = saved;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	quiet.c_lflag |= ECHONL;
	disk_cleanup_tty(&saved);
	/* Echo goes off before the prompt asks for anything. */
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) < 0) {
		disk_cleanup_tty(NULL);
		return -errno;
	}
	fprintf(stderr, "%s: ", prompt);
	fflush(stderr);
	r = read_line(STDIN_FILENO, pw);
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
	disk_cleanup_tty(NULL);
	return r;
}

static int line_error(int r, const char *where)
{
	cli_err("%s: %s", where,
		r == -EOVERFLOW ? "the passphrase is longer than 512 bytes" :
		r == -ENODATA	? "no passphrase (end of input)" :
				  strerror(-r));
	return EXIT_ERROR;
}

int disk_pass_get(const char *key_file, const char *prompt, bool confirm,
		  struct disk_pass *out)
{
	bool tty = isatty(STDIN_FILENO);
	struct disk_pass again = { 0 };
	char prompt2[300];
	int r;

	memset(out, 0, sizeof(*out));
	if (key_file)
		return from_key_file(key_file, out);
	if (pass_alloc(out, DISK_PASS_LINE_MAX) != EXIT_OK)
		return EXIT_ERROR;
	r = tty ? typed(prompt, out) : read_line(STDIN_FILENO, out);
	if (r < 0) {
		disk_pass_free(out);
		return line_error(r, tty ? "terminal" : "standard input");
	}
	if (!out->len) {
		disk_pass_free(out);
		cli_err("the passphrase is empty");
		return EXIT_ERROR;
	}
	if (!tty || !confirm)
		return EXIT_OK;
	/* "New passphrase for a.img" asks again as "Verify new ...". */
	snprintf(prompt2, sizeof(prompt2), "Verify %c%s",
		 prompt[0] >= 'A' && prompt[0] <= 'Z' ? prompt[0] - 'A' + 'a' :
							prompt[0],
		 prompt[0] ? prompt + 1 : "");
	if (pass_alloc(&again, DISK_PASS_LINE_MAX) != EXIT_OK) {
		disk_pass_free(out);
		return EXIT_ERROR;
	}
	r = typed(prompt2, &again);
	if (r < 0 || again.len != out->len ||
	    memcmp(again.p, out->p, out->len)) {
		disk_pass_free(&again);
		disk_pass_free(out);
		if (r < 0)
			return line_error(r, "terminal");
		cli_err("the passphrases do not match");
		return EXIT_ERROR;
	}
	disk_pass_free(&again);
	return EXIT_OK;
}
