// SPDX-License-Identifier: GPL-2.0-only
/* bulkhead policy show | check */
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/render.h"
#include "toolstack/jget.h"
#include "util/parse.h"

static int policy_show(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "audit", required_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct json_object *a = json_object_new_object(), *reply;
	uint64_t audit = 20;
	bool json = false;
	int c, r;
	char *text;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+ja:h", lo, NULL)) != -1) {
		switch (c) {
		case 'h':
			json_object_put(a);
			fputs(cli_verb("policy")->usage, stdout);
			return EXIT_OK;
		case 'j':
			json = true;
			break;
		case 'a':
			if (bh_parse_u64(optarg, &audit) < 0 || audit > 4096) {
				json_object_put(a);
				return cli_usage_err(
					"policy",
					"--audit: \"%s\" is not a number from 0 to 4096",
					optarg);
			}
			break;
		default:
			json_object_put(a);
			return cli_usage_err("policy", "unknown option \"%s\"",
					     argv[optind - 1]);
		}
	}
	if (optind != argc) {
		json_object_put(a);
		return cli_usage_err("policy", "show takes no arguments");
	}
	json_object_object_add(a, "audit_max",
			       json_object_new_int64((int64_t)audit));
	r = cli_call("policy.show", a, NULL, 0, &reply, NULL, NULL);
	if (r != EXIT_OK)
		return r;
	if (json) {
		json_object_object_del(reply, "id");
		json_object_object_del(reply, "ok");
		printf("%s\n",
		       json_object_to_json_string_ext(
			       reply, JSON_C_TO_STRING_PRETTY |
					      JSON_C_TO_STRING_NOSLASHESCAPE));
	} else {
		text = render_policy(reply);
		fputs(text ? text : "", stdout);
		free(text);
	}
	json_object_put(reply);
	return EXIT_OK;
}

/* check --call SOURCE TARGET SERVICE[+ARG]: a service call's decision. */
static int policy_check_call(int argc, char **argv)
{
	struct json_object *a, *reply;
	const char *plus;
	int r;

	if (argc != 4)
		return cli_usage_err(
			"policy",
			"check --call needs SOURCE, TARGET and SERVICE[+ARG]");
	plus = strchr(argv[3], '+');
	a = json_object_new_object();
	json_object_object_add(a, "source", json_object_new_string(argv[1]));
	json_object_object_add(a, "target", json_object_new_string(argv[2]));
	json_object_object_add(a, "service",
			       plus ? json_object_new_string_len(
					      argv[3], (int)(plus - argv[3])) :
				      json_object_new_string(argv[3]));
	json_object_object_add(a, "arg",
			       json_object_new_string(plus ? plus + 1 : ""));
	r = cli_call("policy.call", a, NULL, 0, &reply, NULL, NULL);
	if (r != EXIT_OK)
		return r;
	fputs(jget_str(reply, "explanation") ?: "", stdout);
	r = strcmp(jget_str(reply, "decision") ?: "", "deny") ? EXIT_OK :
								EXIT_DENIED;
	json_object_put(reply);
	return r;
}

static int policy_check(int argc, char **argv)
{
	struct json_object *a, *reply;
	int r;

	if (argc == 2 &&
	    (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(cli_verb("policy")->usage, stdout);
		return EXIT_OK;
	}
	if (argc >= 2 && !strcmp(argv[1], "--call"))
		return policy_check_call(argc - 1, argv + 1);
	if (argc != 3)
		return cli_usage_err("policy",
				     "check needs a SOURCE and a DESTINATION");
	a = json_object_new_object();
	json_object_object_add(a, "src", json_object_new_string(argv[1]));
	json_object_object_add(a, "dst", json_object_new_string(argv[2]));
	r = cli_call("policy.check", a, NULL, 0, &reply, NULL, NULL);
	if (r != EXIT_OK)
		return r;
	fputs(jget_str(reply, "explanation") ?: "", stdout);
	if (!jget_bool(reply, "enforced", false))
		printf("note: this hypervisor has no HMX; the rules are compiled, not installed\n");
	r = strcmp(jget_str(reply, "decision") ?: "", "accept") ? EXIT_DENIED :
								  EXIT_OK;
	json_object_put(reply);
	return r;
}

int cmd_policy(int argc, char **argv)
{
	if (argc < 2)
		return cli_usage_err("policy", "expected show or check");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(cli_verb("policy")->usage, stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "show"))
		return policy_show(argc - 1, argv + 1);
	if (!strcmp(argv[1], "check"))
		return policy_check(argc - 1, argv + 1);
	return cli_usage_err("policy", "unknown subcommand \"%s\"", argv[1]);
}
