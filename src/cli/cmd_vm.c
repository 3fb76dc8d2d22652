// SPDX-License-Identifier: GPL-2.0-only
/* Lifecycle verbs: create, start, list, pause, unpause, shutdown,
 * destroy, reboot; and the lists of a VM's devices. */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/render.h"
#include "toolstack/jget.h"

#define DEFAULT_TIMEOUT_MS 60000

static int help(const char *verb)
{
	fputs(cli_verb(verb)->usage, stdout);
	return EXIT_OK;
}

/*
 * Options every verb shares: --help. Returns -1 to go on, else an exit
 * code. Verbs with no other option use this alone.
 */
static int only_help(int argc, char **argv, int want_args)
{
	static const struct option lo[] = { { "help", no_argument, NULL, 'h' },
					    { 0 } };
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+h", lo, NULL)) != -1) {
		if (c == 'h')
			return help(argv[0]);
		return cli_usage_err(argv[0], "unknown option \"%s\"",
				     argv[optind - 1]);
	}
	if (argc - optind != want_args)
		return cli_usage_err(argv[0], "expected %s",
				     want_args == 1 ? "one VM name" :
						      "no arguments");
	return -1;
}

static struct json_object *name_args(const char *name)
{
	struct json_object *a = json_object_new_object();

	json_object_object_add(a, "name", json_object_new_string(name));
	return a;
}

static int simple(int argc, char **argv, const char *op, const char *done)
{
	int r = only_help(argc, argv, 1);

	if (r >= 0)
		return r;
	r = cli_call(op, name_args(argv[optind]), NULL, 0, NULL, NULL, NULL);
	if (r == EXIT_OK && done)
		printf("%s %s\n", argv[optind], done);
	return r;
}

/* What the definition says that the user should know, on stderr. */
static void print_warnings(struct json_object *vm)
{
	struct json_object *w = jget(vm, "warnings", json_type_array);

	for (size_t i = 0; w && i < json_object_array_length(w); i++) {
		const char *text =
			json_object_get_string(json_object_array_get_idx(w, i));

		if (text)
			cli_err("warning: %s", text);
	}
}

int cmd_create(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "no-start", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct json_object *a, *reply;
	bool start = true;
	char *path;
	int c, r;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+nh", lo, NULL)) != -1) {
		if (c == 'h')
			return help(argv[0]);
		if (c == 'n') {
			start = false;
			continue;
		}
		return cli_usage_err(argv[0], "unknown option \"%s\"",
				     argv[optind - 1]);
	}
	if (argc - optind != 1)
		return cli_usage_err(argv[0], "expected one definition file");
	path = realpath(argv[optind], NULL);
	if (!path) {
		cli_err("%s: %s", argv[optind], strerror(errno));
		return EXIT_ERROR;
	}
	a = json_object_new_object();
	json_object_object_add(a, "path", json_object_new_string(path));
	json_object_object_add(a, "start", json_object_new_boolean(start));
	free(path);
	r = cli_call("vm.create", a, NULL, 0, &reply, NULL, NULL);
	if (r == EXIT_OK) {
		struct json_object *vm = jget(reply, "vm", json_type_object);

		print_warnings(vm);
		if (start)
			printf("%s started (domid %" PRId64 ")\n",
			       jget_str(vm, "name"), jget_int(vm, "domid", -1));
		else
			printf("%s defined\n", jget_str(vm, "name"));
		json_object_put(reply);
	}
	return r;
}

int cmd_start(int argc, char **argv)
{
	struct json_object *reply;
	int r = only_help(argc, argv, 1);

	if (r >= 0)
		return r;
	r = cli_call("vm.start", name_args(argv[optind]), NULL, 0, &reply, NULL,
		     NULL);
	if (r == EXIT_OK) {
		struct json_object *vm = jget(reply, "vm", json_type_object);

		print_warnings(vm);
		printf("%s started (domid %" PRId64 ")\n", argv[optind],
		       jget_int(vm, "domid", -1));
		json_object_put(reply);
	}
	return r;
}

/*
 * The options of a verb that takes only --json and --help: -1 to go on
 * (optind at the first argument), else the exit status to return.
 */
static int json_option(int argc, char **argv, bool *json)
{
	static const struct option lo[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+jh", lo, NULL)) != -1) {
		if (c == 'h')
			return help(argv[0]);
		if (c == 'j') {
			*json = true;
			continue;
		}
		return cli_usage_err(argv[0], "unknown option \"%s\"",
				     argv[optind - 1]);
	}
	return -1;
}

int cmd_list(int argc, char **argv)
{
	struct json_object *reply, *vms, *sel;
	bool json = false;
	char *text;
	int r;

	r = json_option(argc, argv, &json);
	if (r >= 0)
		return r;
	r = cli_call("vm.list", NULL, NULL, 0, &reply, NULL, NULL);
	if (r != EXIT_OK)
		return r;
	vms = jget(reply, "vms", json_type_array);
	sel = json_object_new_array();
	/* Named VMs in the order given; all of them otherwise. */
	for (int i = optind; i < argc || (i == optind && optind == argc); i++) {
		bool found = false;

		for (size_t k = 0; vms && k < json_object_array_length(vms);
		     k++) {
			struct json_object *v =
				json_object_array_get_idx(vms, k);

			if (optind < argc &&
			    strcmp(jget_str(v, "name") ?: "", argv[i]))
				continue;
			json_object_array_add(sel, json_object_get(v));
			found = true;
		}
		if (optind < argc && !found) {
			cli_err("no VM named \"%s\"", argv[i]);
			r = EXIT_NO_VM;
		}
		if (optind == argc)
			break;
	}
	if (json) {
		printf("%s\n",
		       json_object_to_json_string_ext(
			       sel, JSON_C_TO_STRING_PRETTY |
					    JSON_C_TO_STRING_NOSLASHESCAPE));
	} else {
		text = render_vm_table(sel);
		fputs(text ? text : "", stdout);
		free(text);
	}
	json_object_put(sel);
	json_object_put(reply);
	return r;
}

/*
 * [--json] NAME: NAME's vm.info reply in *reply, or an exit code with
 * *reply NULL (EXIT_OK too, after --help).
 */
static int vm_info(int argc, char **argv, bool *json,
		   struct json_object **reply)
{
	int r = json_option(argc, argv, json);

	*reply = NULL;
	if (r >= 0)
		return r;
	if (argc - optind != 1)
		return cli_usage_err(argv[0], "expected one VM name");
	return cli_call("vm.info", name_args(argv[optind]), NULL, 0, reply,
			NULL, NULL);
}

int cmd_block_list(int argc, char **argv)
{
	struct json_object *reply, *disks;
	bool json = false;
	char *text;
	int r;

	r = vm_info(argc, argv, &json, &reply);
	if (r != EXIT_OK || !reply)
		return r;
	disks = jget(jget(reply, "vm", json_type_object), "disks",
		     json_type_array);
	if (json) {
		puts(disks ? json_object_to_json_string_ext(
				     disks,
				     JSON_C_TO_STRING_PRETTY |
					     JSON_C_TO_STRING_NOSLASHESCAPE) :
			     "[]");
	} else {
		text = render_disk_table(disks);
		if (text)
			fputs(text, stdout);
		free(text);
	}
	json_object_put(reply);
	return EXIT_OK;
}

int cmd_network_list(int argc, char **argv)
{
	struct json_object *reply = NULL, *vifs;
	bool json = false;
	char *text;
	int r = json_option(argc, argv, &json);

	if (r >= 0)
		return r;
	if (argc - optind != 1)
		return cli_usage_err(argv[0], "expected one VM name");
	r = cli_call("vm.network", name_args(argv[optind]), NULL, 0, &reply,
		     NULL, NULL);
	if (r != EXIT_OK)
		return r;
	vifs = jget(reply, "vifs", json_type_array);
	if (json) {
		puts(vifs ? json_object_to_json_string_ext(
				    vifs,
				    JSON_C_TO_STRING_PRETTY |
					    JSON_C_TO_STRING_NOSLASHESCAPE) :
			    "[]");
	} else {
		text = render_vif_table(vifs);
		if (text)
			fputs(text, stdout);
		free(text);
	}
	json_object_put(reply);
	return EXIT_OK;
}

int cmd_pause(int argc, char **argv)
{
	return simple(argc, argv, "vm.pause", "paused");
}

int cmd_unpause(int argc, char **argv)
{
	return simple(argc, argv, "vm.unpause", "unpaused");
}

int cmd_destroy(int argc, char **argv)
{
	return simple(argc, argv, "vm.destroy", "destroyed");
}

/* Waits for VM name's instance seq to stop ("stopped") or be replaced by
 * a running one ("started"). */
static int wait_for(const char *name, const char *what, int64_t seq,
		    int64_t timeout_ms, struct json_object **reply)
{
	struct json_object *a = name_args(name);

	json_object_object_add(a, "for", json_object_new_string(what));
	json_object_object_add(a, "seq", json_object_new_int64(seq));
	json_object_object_add(a, "timeout_ms",
			       json_object_new_int64(timeout_ms));
	return cli_call("vm.wait", a, NULL, 0, reply, NULL, NULL);
}

struct stop_opts {
	int64_t timeout_ms;
	bool timeout_given, force, no_wait;
};

static int stop_options(int argc, char **argv, struct stop_opts *o,
			bool allow_no_wait)
{
	static const struct option lo[] = {
		{ "timeout", required_argument, NULL, 't' },
		{ "force", no_argument, NULL, 'f' },
		{ "no-wait", no_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	*o = (struct stop_opts){ .timeout_ms = DEFAULT_TIMEOUT_MS };
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, allow_no_wait ? "+t:fwh" : "+t:fh",
				lo, NULL)) != -1) {
		switch (c) {
		case 'h':
			return help(argv[0]);
		case 't':
			if (cli_parse_duration(optarg, &o->timeout_ms) < 0)
				return cli_usage_err(
					argv[0],
					"--timeout: \"%s\" is not a duration (examples: 30, 500ms, 90s, 2m)",
					optarg);
			o->timeout_given = true;
			break;
		case 'f':
			o->force = true;
			break;
		case 'w':
			if (!allow_no_wait)
				return cli_usage_err(argv[0],
						     "unknown option \"%s\"",
						     argv[optind - 1]);
			o->no_wait = true;
			break;
		default:
			if (optopt == 't')
				return cli_usage_err(argv[0],
						     "--timeout needs a value");
			return cli_usage_err(argv[0], "unknown option \"%s\"",
					     argv[optind - 1]);
		}
	}
	if (argc - optind != 1)
		return cli_usage_err(argv[0], "expected one VM name");
	return -1;
}

int cmd_shutdown(int argc, char **argv)
{
	struct json_object *reply;
	struct stop_opts o;
	const char *name;
	int64_t seq;
	int r = stop_options(argc, argv, &o, true);

	if (r >= 0)
		return r;
	name = argv[optind];
	r = cli_call("vm.shutdown", name_args(name), NULL, 0, &reply, NULL,
		     NULL);
	if (r != EXIT_OK)
		return r;
	seq = jget_int(reply, "seq", 0);
	json_object_put(reply);
	if (o.no_wait) {
		printf("%s: shutdown requested\n", name);
		return EXIT_OK;
	}
	r = wait_for(name, "stopped", seq, o.timeout_ms, &reply);
	if (r == EXIT_OK) {
		printf("%s stopped (%s)\n", name,
		       jget_str(reply, "stop_reason") ?: "?");
		json_object_put(reply);
		return EXIT_OK;
	}
	if (r != EXIT_TIMEOUT || !o.force)
		return r;
	fprintf(stderr, "bulkhead: destroying %s\n", name);
	r = cli_call("vm.destroy", name_args(name), NULL, 0, NULL, NULL, NULL);
	/* It may have stopped between the timeout and the destroy. */
	if (r == EXIT_STATE)
		r = EXIT_OK;
	if (r == EXIT_OK)
		printf("%s destroyed\n", name);
	return r;
}

int cmd_reboot(int argc, char **argv)
{
	struct json_object *reply, *a;
	struct stop_opts o;
	const char *name;
	int64_t seq, domid;
	bool at_once;
	int r = stop_options(argc, argv, &o, false);

	if (r >= 0)
		return r;
	name = argv[optind];
	/* --force alone: destroy and start now; with --timeout: only if
	 * the clean shutdown takes too long. */
	at_once = o.force && !o.timeout_given;
	a = name_args(name);
	json_object_object_add(a, "force", json_object_new_boolean(at_once));
	r = cli_call("vm.reboot", a, NULL, 0, &reply, NULL, NULL);
	if (r != EXIT_OK)
		return r;
	seq = jget_int(reply, "seq", 0);
	domid = jget_int(reply, "domid", -1);
	json_object_put(reply);
	if (!at_once) {
		r = wait_for(name, "started", seq, o.timeout_ms, &reply);
		if (r == EXIT_TIMEOUT && o.force) {
			fprintf(stderr,
				"bulkhead: %s did not shut down in time; destroying and starting it\n",
				name);
			a = name_args(name);
			json_object_object_add(a, "force",
					       json_object_new_boolean(true));
			r = cli_call("vm.reboot", a, NULL, 0, &reply, NULL,
				     NULL);
		}
		if (r != EXIT_OK)
			return r;
		domid = jget_int(reply, "domid", -1);
		json_object_put(reply);
	}
	printf("%s restarted (domid %" PRId64 ")\n", name, domid);
	return EXIT_OK;
}
