// SPDX-License-Identifier: GPL-2.0-only
/* bulkhead logs: bulkheadd opens the logs and passes us the descriptors,
 * so reading them needs no access to its state directory. */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "toolstack/jget.h"

#define FOLLOW_POLL_US 250000

/* Is this hypervisor log line about VM name? ("vm NAME: ..." or
 * "vm NAME (domid N): ...") */
static bool about_vm(const char *line, size_t len, const char *name)
{
	size_t nl = strlen(name);

	for (size_t i = 0; i + 3 + nl < len; i++) {
		if (memcmp(line + i, "vm ", 3) ||
		    memcmp(line + i + 3, name, nl))
			continue;
		if (line[i + 3 + nl] == ':' || line[i + 3 + nl] == ' ')
			return true;
	}
	return false;
}

struct lines {
	char buf[8192];
	size_t len;
};

/* Prints the complete lines about name in what was read; keeps a partial
 * last line for the next read. */
static void filter(struct lines *l, const char *name)
{
	size_t start = 0;

	for (size_t i = 0; i < l->len; i++) {
		if (l->buf[i] != '\n')
			continue;
		if (about_vm(l->buf + start, i - start, name))
			fwrite(l->buf + start, 1, i + 1 - start, stdout);
		start = i + 1;
	}
	if (start == 0 && l->len == sizeof(l->buf))
		start = l->len; /* an overlong line: drop it */
	memmove(l->buf, l->buf + start, l->len - start);
	l->len -= start;
}

static int copy(int fd, const char *name, bool follow)
{
	struct lines *l = name ? calloc(1, sizeof(*l)) : NULL;
	char buf[8192];

	if (name && !l)
		return EXIT_ERROR;
	for (;;) {
		ssize_t n;

		if (l)
			n = read(fd, l->buf + l->len, sizeof(l->buf) - l->len);
		else
			n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			cli_err("reading the log: %s", strerror(errno));
			free(l);
			return EXIT_ERROR;
		}
		if (n == 0) {
			if (!follow)
				break;
			fflush(stdout);
			usleep(FOLLOW_POLL_US);
			continue;
		}
		if (l) {
			l->len += (size_t)n;
			filter(l, name);
		} else if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n) {
			free(l);
			return EXIT_ERROR;
		}
	}
	free(l);
	return EXIT_OK;
}

int cmd_logs(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "hypervisor", no_argument, NULL, 'H' },
		{ "follow", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	bool hv = false, follow = false;
	struct json_object *a, *reply;
	int fds[4], c, r, fd = -1;
	size_t nfds = 0;
	int64_t idx;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+Hfh", lo, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(cli_verb(argv[0])->usage, stdout);
			return EXIT_OK;
		case 'H':
			hv = true;
			break;
		case 'f':
			follow = true;
			break;
		default:
			return cli_usage_err(argv[0], "unknown option \"%s\"",
					     argv[optind - 1]);
		}
	}
	if (argc - optind != 1)
		return cli_usage_err(argv[0], "expected one VM name");
	a = json_object_new_object();
	json_object_object_add(a, "name", json_object_new_string(argv[optind]));
	r = cli_call("vm.logs", a, NULL, 0, &reply, fds, &nfds);
	if (r != EXIT_OK)
		return r;
	idx = jget_int(reply, hv ? "hv_log_fd" : "console_fd", -1);
	if (idx >= 0 && (size_t)idx < nfds)
		fd = fds[idx];
	if (fd < 0) {
		if (hv)
			cli_err("the hypervisor log %s cannot be read",
				jget_str(reply, "hv_log_path") ?: "");
		else if (jget_str(reply, "console_path"))
			cli_err("%s has no console log yet (%s)", argv[optind],
				jget_str(reply, "console_path"));
		else
			cli_err("%s has serial = \"none\": its console output is not kept",
				argv[optind]);
		r = EXIT_ERROR;
	} else {
		r = copy(fd, hv ? argv[optind] : NULL, follow);
	}
	for (size_t i = 0; i < nfds; i++)
		close(fds[i]);
	json_object_put(reply);
	return r;
}
