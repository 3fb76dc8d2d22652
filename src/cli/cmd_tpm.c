// SPDX-License-Identifier: GPL-2.0-only
/* bulkhead tpm status: the TPM bulkheadd uses (docs/measured-launch.md). */
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "toolstack/jget.h"

static void print_status(struct json_object *r)
{
	struct json_object *pcrs = jget(r, "pcrs", json_type_object);
	int host = (int)jget_int(r, "host_pcr", 0),
	    vm = (int)jget_int(r, "vm_pcr", 0);
	char key[8];

	printf("TPM:        %s (manufacturer \"%s\")\n",
	       jget_str(r, "tcti") ?: "?", jget_str(r, "manufacturer") ?: "?");
	snprintf(key, sizeof(key), "%d", host);
	printf("PCR %-2d:     sha256:%s (host measurements)\n", host,
	       pcrs ? jget_str(pcrs, key) ?: "?" : "?");
	snprintf(key, sizeof(key), "%d", vm);
	printf("PCR %-2d:     sha256:%s (VM launches)\n", vm,
	       pcrs ? jget_str(pcrs, key) ?: "?" : "?");
	printf("lockout:    %s, %lld failed authorizations of %lld, one forgotten every %llds\n",
	       jget_bool(r, "in_lockout", false) ? "LOCKED OUT" : "no",
	       (long long)jget_int(r, "lockout_counter", 0),
	       (long long)jget_int(r, "max_auth_fail", 0),
	       (long long)jget_int(r, "lockout_interval", 0));
	printf("loaded:     %lld transient objects, %lld sessions\n",
	       (long long)jget_int(r, "transient", 0),
	       (long long)jget_int(r, "sessions", 0));
}

int cmd_tpm(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct json_object *reply;
	bool json = false;
	int c, r;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "jh", lo, NULL)) != -1) {
		if (c == 'h') {
			fputs(cli_verb(argv[0])->usage, stdout);
			return EXIT_OK;
		}
		if (c != 'j')
			return cli_usage_err(argv[0], "unknown option \"%s\"",
					     argv[optind - 1]);
		json = true;
	}
	if (argc - optind != 1 || strcmp(argv[optind], "status"))
		return cli_usage_err(argv[0], "expected \"status\"");
	r = cli_call("tpm.status", json_object_new_object(), NULL, 0, &reply,
		     NULL, NULL);
	if (r != EXIT_OK)
		return r;
	if (json) {
		json_object_object_del(reply, "id");
		json_object_object_del(reply, "ok");
		puts(json_object_to_json_string_ext(
			reply, JSON_C_TO_STRING_PRETTY |
				       JSON_C_TO_STRING_NOSLASHESCAPE));
	} else {
		print_status(reply);
	}
	json_object_put(reply);
	return EXIT_OK;
}
