// SPDX-License-Identifier: GPL-2.0-only
/*
 * bulkhead console: the hypervisor writes the VM's serial output to one
 * end of a socketpair and reads its input from it; we hand that end over
 * (through bulkheadd) and relay between it and the terminal. Ctrl-]
 * detaches, as in virsh and telnet.
 */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "cli/cli.h"
#include "util/fd_write.h"

#define ESCAPE_CHAR 0x1d /* Ctrl-] */
/* Without a terminal, end of input detaches once output has been quiet
 * this long, so a script's last command still gets its answer. */
#define EOF_LINGER_MS 1000

static struct termios saved_tio;
static volatile sig_atomic_t tio_saved;

static void restore_terminal(void)
{
	if (tio_saved) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tio);
		tio_saved = 0;
	}
}

static void on_fatal_signal(int sig)
{
	restore_terminal();
	signal(sig, SIG_DFL);
	raise(sig);
}

static int raw_terminal(void)
{
	struct termios raw;
	struct sigaction sa = { .sa_handler = on_fatal_signal };

	if (tcgetattr(STDIN_FILENO, &saved_tio) < 0)
		return -1;
	tio_saved = 1;
	atexit(restore_terminal);
	/* Every way out restores the terminal: exit, and these signals. */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGQUIT, &sa, NULL);
	raw = saved_tio;
	cfmakeraw(&raw);
	return tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw);
}

/*
 * Relays until detach (1), the console closing (0) or an error (-1).
 * linger: end of input detaches after EOF_LINGER_MS without output (no
 * terminal); otherwise output goes on until the VM stops.
 */
static int relay(int sock, bool linger)
{
	bool stdin_open = true;
	char buf[4096];

	for (;;) {
		struct pollfd p[2] = { { .fd = sock, .events = POLLIN },
				       { .fd = STDIN_FILENO,
					 .events = POLLIN } };
		ssize_t n;

		int k = poll(p, stdin_open ? 2 : 1,
			     stdin_open || !linger ? -1 : EOF_LINGER_MS);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (k == 0)
			return 1;
		if (p[0].revents) {
			n = read(sock, buf, sizeof(buf));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				return 0;
			if (fd_write_all(STDOUT_FILENO, buf, (size_t)n) < 0)
				return -1;
		}
		if (stdin_open && p[1].revents) {
			char *esc;

			n = read(STDIN_FILENO, buf, sizeof(buf));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				stdin_open = false;
				continue;
			}
			esc = memchr(buf, ESCAPE_CHAR, (size_t)n);
			if (esc)
				n = esc - buf;
			if (n && fd_write_all(sock, buf, (size_t)n) < 0)
				return -1;
			if (esc)
				return 1;
		}
	}
}

int cmd_console(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "no-history", no_argument, NULL, 'N' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct json_object *a;
	bool history = true, tty;
	const char *name;
	int sv[2], c, r;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+h", lo, NULL)) != -1) {
		if (c == 'h') {
			fputs(cli_verb(argv[0])->usage, stdout);
			return EXIT_OK;
		}
		if (c == 'N') {
			history = false;
			continue;
		}
		return cli_usage_err(argv[0], "unknown option \"%s\"",
				     argv[optind - 1]);
	}
	if (argc - optind != 1)
		return cli_usage_err(argv[0], "expected one VM name");
	name = argv[optind];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		cli_err("socketpair: %s", strerror(errno));
		return EXIT_ERROR;
	}
	a = json_object_new_object();
	json_object_object_add(a, "name", json_object_new_string(name));
	json_object_object_add(a, "history", json_object_new_boolean(history));
	r = cli_call("vm.console", a, &sv[1], 1, NULL, NULL, NULL);
	close(sv[1]);
	if (r != EXIT_OK) {
		close(sv[0]);
		return r;
	}
	signal(SIGPIPE, SIG_IGN);
	tty = isatty(STDIN_FILENO);
	fprintf(stderr, "Connected to %s's console; Ctrl-] detaches.\n", name);
	if (tty && raw_terminal() < 0) {
		cli_err("cannot put the terminal in raw mode: %s",
			strerror(errno));
		close(sv[0]);
		return EXIT_ERROR;
	}
	r = relay(sv[0], !tty);
	restore_terminal();
	close(sv[0]);
	if (r == 1)
		fprintf(stderr, "\nDetached from %s.\n", name);
	else if (r == 0)
		fprintf(stderr, "\nConsole of %s closed: the VM stopped.\n",
			name);
	else
		cli_err("console of %s: %s", name, strerror(errno));
	return r < 0 ? EXIT_ERROR : EXIT_OK;
}
