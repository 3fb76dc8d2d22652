// SPDX-License-Identifier: GPL-2.0-only
/*
 * bulkhead measure: a running VM's measurement log, or with --host the
 * host's (docs/measured-launch.md), as a table, as JSON, or as the TCG
 * binary log itself for tpm2_eventlog.
 * The daemon decodes the log and replays the PCR; --eventlog gets the
 * file as a descriptor, so reading it needs no access to the state
 * directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "toolstack/jget.h"
#include "toolstack/msg.h"

static int copy_out(int fd)
{
	char buf[65536];

	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf)), w = 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			cli_err("reading the measurement log: %s",
				strerror(errno));
			return EXIT_ERROR;
		}
		if (n == 0)
			break;
		while (w < n) {
			ssize_t k =
				write(STDOUT_FILENO, buf + w, (size_t)(n - w));

			if (k < 0 && errno == EINTR)
				continue;
			if (k <= 0) {
				cli_err("writing the measurement log: %s",
					k < 0 ? strerror(errno) :
						"short write");
				return EXIT_ERROR;
			}
			w += k;
		}
	}
	return EXIT_OK;
}

/* name NULL: the host's log. */
static int eventlog(const char *name)
{
	struct json_object *args = json_object_new_object(), *reply;
	int fds[CONTROL_FRAME_MAX_FDS], r;
	size_t nfds = 0;

	if (name)
		json_object_object_add(args, "name",
				       json_object_new_string(name));
	json_object_object_add(args, "eventlog", json_object_new_boolean(true));
	r = cli_call(name ? "vm.measure" : "host.measure", args, NULL, 0,
		     &reply, fds, &nfds);
	if (r != EXIT_OK)
		return r;
	if (nfds < 1 || jget_int(reply, "eventlog_fd", -1) != 0) {
		cli_err("bulkheadd sent no measurement log");
		r = EXIT_ERROR;
	} else {
		r = copy_out(fds[0]);
	}
	for (size_t i = 0; i < nfds; i++)
		close(fds[i]);
	json_object_put(reply);
	return r;
}

static void print_events(struct json_object *ev, size_t n, int width)
{
	printf("%3s  %3s  %-12s  %-*s  %-64s  %s\n", "#", "PCR", "TYPE", width,
	       "WHAT", "SHA-256", "MEASURED");
	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(ev, i);
		const char *detail = jget_str(e, "detail") ?: "";

		printf("%3d  %3d  %-12s  %-*s  %-64s  %s\n",
		       (int)jget_int(e, "index", 0), (int)jget_int(e, "pcr", 0),
		       jget_str(e, "type") ?: "?", width,
		       jget_str(e, "what") ?: "?", jget_str(e, "sha256") ?: "?",
		       detail[0] ? detail : "(empty)");
	}
}

/* The host's log, then how it stands with the TPM. */
static void print_host(struct json_object *reply)
{
	struct json_object *ev = jget(reply, "events", json_type_array);
	struct json_object *tpm = jget(reply, "tpm", json_type_object);
	size_t n = ev ? json_object_array_length(ev) : 0;
	int from = (int)jget_int(reply, "current_from", 1);

	printf("Host: %zu measurement%s in %s\n", n, n == 1 ? "" : "s",
	       jget_str(reply, "log") ?: "?");
	print_events(ev, n, 13);
	if (from > 1)
		printf("(events 1 to %d are an earlier start's since the TPM's reset; this bulkheadd's start at %d)\n",
		       from - 1, from);
	printf("PCR %d replayed from zero: sha256:%s\n",
	       (int)jget_int(reply, "pcr", 0),
	       jget_str(reply, "pcr_sha256") ?: "?");
	if (!tpm)
		printf("No TPM: the log is the whole record (bulkheadd --tpm)\n");
	else if (jget_str(tpm, "error"))
		printf("TPM %s: %s\n", jget_str(tpm, "tcti") ?: "?",
		       jget_str(tpm, "error"));
	else
		printf("TPM %s: PCR %d is sha256:%s (%s)\n",
		       jget_str(tpm, "tcti") ?: "?",
		       (int)jget_int(reply, "pcr", 0),
		       jget_str(tpm, "pcr_sha256") ?: "?",
		       jget_bool(tpm, "matches", false) ?
			       "the log's replay" :
			       "NOT the log's replay: something else extended it");
}

static void print_table(struct json_object *reply)
{
	struct json_object *ev = jget(reply, "events", json_type_array);
	size_t n = ev ? json_object_array_length(ev) : 0;

	printf("VM %s (domid %d): %zu measurement%s in %s\n",
	       jget_str(reply, "name") ?: "?", (int)jget_int(reply, "domid", 0),
	       n, n == 1 ? "" : "s", jget_str(reply, "log") ?: "?");
	struct json_object *tpm = jget(reply, "tpm", json_type_object);

	print_events(ev, n, 7);
	printf("PCR %d replayed from zero: sha256:%s\n",
	       (int)jget_int(reply, "pcr", 0),
	       jget_str(reply, "pcr_sha256") ?: "?");
	if (tpm && jget_str(tpm, "pcr_sha256"))
		printf("TPM %s: PCR %d is sha256:%s (every VM launch since its reset)\n",
		       jget_str(tpm, "tcti") ?: "?",
		       (int)jget_int(reply, "pcr", 0),
		       jget_str(tpm, "pcr_sha256"));
	if (!jget_bool(reply, "complete", false))
		printf("(not complete: the rules are measured right before the VM's first instruction)\n");
}

int cmd_measure(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "eventlog", no_argument, NULL, 'e' },
		{ "host", no_argument, NULL, 'H' },
		{ "compare", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct json_object *args, *reply;
	bool json = false, binary = false, host = false;
	const char *compare = NULL;
	int cfd = -1;
	int c, r;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+jeHC:h", lo, NULL)) != -1) {
		if (c == 'h') {
			fputs(cli_verb(argv[0])->usage, stdout);
			return EXIT_OK;
		}
		if (c == 'j')
			json = true;
		else if (c == 'e')
			binary = true;
		else if (c == 'H')
			host = true;
		else if (c == 'C')
			compare = optarg;
		else
			return cli_usage_err(argv[0], "unknown option \"%s\"",
					     argv[optind - 1]);
	}
	if (!host && argc - optind != 1)
		return cli_usage_err(argv[0], "expected one VM name");
	if (host && argc != optind)
		return cli_usage_err(argv[0], "--host takes no VM name");
	if (compare && (!host || binary))
		return cli_usage_err(
			argv[0], "--compare goes with --host, not --eventlog");
	if (json && binary)
		return cli_usage_err(
			argv[0], "--json and --eventlog exclude each other");
	if (binary && isatty(STDOUT_FILENO))
		return cli_usage_err(
			argv[0],
			"--eventlog writes the binary log: redirect it (> FILE, or tpm2_eventlog <(bulkhead measure --eventlog %s))",
			host ? "--host" : argv[optind]);
	if (binary)
		return eventlog(host ? NULL : argv[optind]);
	if (compare) {
		cfd = open(compare, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		if (cfd < 0) {
			cli_err("%s: %s", compare, strerror(errno));
			return EXIT_ERROR;
		}
	}
	args = json_object_new_object();
	if (!host)
		json_object_object_add(args, "name",
				       json_object_new_string(argv[optind]));
	if (compare)
		json_object_object_add(args, "compare",
				       json_object_new_boolean(true));
	r = cli_call(host ? "host.measure" : "vm.measure", args,
		     cfd >= 0 ? &cfd : NULL, cfd >= 0 ? 1 : 0, &reply, NULL,
		     NULL);
	if (cfd >= 0)
		close(cfd);
	if (r != EXIT_OK)
		return r;
	if (json) {
		json_object_object_del(reply, "id");
		json_object_object_del(reply, "ok");
		puts(json_object_to_json_string_ext(
			reply, JSON_C_TO_STRING_PRETTY |
				       JSON_C_TO_STRING_NOSLASHESCAPE));
	} else if (host) {
		print_host(reply);
	} else {
		print_table(reply);
	}
	/* Like cmp(1): a difference is exit status 1. */
	r = EXIT_OK;
	if (compare && jget_str(reply, "differs")) {
		if (!json)
			printf("Compared with %s: %s\n", compare,
			       jget_str(reply, "differs"));
		r = EXIT_ERROR;
	} else if (compare && !json) {
		printf("Compared with %s: the same measurements\n", compare);
	}
	json_object_put(reply);
	return r;
}
