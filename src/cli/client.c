// SPDX-License-Identifier: GPL-2.0-only
/* Talking to bulkheadd: one connection per call, one request, one reply. */
#include "cli/cli.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "toolstack/jget.h"
#include "toolstack/msg.h"

const char *cli_state_dir = "/run/bulkhead";

void cli_err(const char *fmt, ...)
{
	va_list ap;

	fputs("bulkhead: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_usage_err(const char *verb, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "bulkhead %s: ", verb);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'bulkhead %s --help'.\n", verb);
	return EXIT_USAGE;
}

static int code_exit(const char *code)
{
	if (!code)
		return EXIT_ERROR;
	if (!strcmp(code, "no-such-vm"))
		return EXIT_NO_VM;
	if (!strcmp(code, "timeout"))
		return EXIT_TIMEOUT;
	if (!strcmp(code, "state"))
		return EXIT_STATE;
	if (!strcmp(code, "usage"))
		return EXIT_USAGE;
	return EXIT_ERROR;
}

int cli_call(const char *op, struct json_object *args, const int *fds,
	     size_t nfds, struct json_object **reply, int *rfds, size_t *nrfds)
{
	struct json_object *m = NULL;
	char path[4200];
	int sock, r;

	if (reply)
		*reply = NULL;
	if (nrfds)
		*nrfds = 0;
	if (!args)
		args = json_object_new_object();
	json_object_object_add(args, "op", json_object_new_string(op));
	json_object_object_add(args, "id", json_object_new_int(1));
	snprintf(path, sizeof(path), "%s/bulkheadd.sock", cli_state_dir);
	sock = msg_connect(path);
	if (sock < 0) {
		cli_err("cannot reach bulkheadd at %s: %s%s", path,
			strerror(-sock),
			sock == -ENOENT || sock == -ECONNREFUSED ?
				" (is bulkheadd running? see bulkheadd --help)" :
				"");
		json_object_put(args);
		return EXIT_NO_DAEMON;
	}
	r = msg_send(sock, args, fds, nfds);
	json_object_put(args);
	if (r == 0)
		r = msg_recv(sock, &m, rfds, nrfds);
	close(sock);
	if (r < 0) {
		cli_err("%s: lost the connection to bulkheadd: %s", op,
			r == -EPIPE ? "it closed the connection" :
				      strerror(-r));
		return EXIT_NO_DAEMON;
	}
	if (!jget_bool(m, "ok", false)) {
		const char *e = jget_str(m, "error");

		cli_err("%s", e ? e : "unknown error");
		r = code_exit(jget_str(m, "code"));
		json_object_put(m);
		if (rfds && nrfds)
			for (size_t i = 0; i < *nrfds; i++)
				close(rfds[i]);
		return r;
	}
	if (reply)
		*reply = m;
	else
		json_object_put(m);
	return EXIT_OK;
}
