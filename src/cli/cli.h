/* SPDX-License-Identifier: GPL-2.0-only */
/* The bulkhead command: shared declarations of its verbs. */
#ifndef BH_CLI_CLI_H
#define BH_CLI_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct json_object;

/* Exit codes scripts can rely on (docs/toolstack.md, bulkhead(1)). */
enum cli_exit {
	EXIT_OK = 0,
	EXIT_ERROR = 1, /* the operation failed */
	EXIT_USAGE = 2, /* bad command line */
	EXIT_NO_VM = 3, /* no VM of that name */
	EXIT_TIMEOUT = 4, /* it did not happen in time */
	EXIT_NO_DAEMON = 5, /* bulkheadd cannot be reached */
	EXIT_STATE = 6, /* not possible in the VM's state (e.g. not running) */
	EXIT_DENIED = 7, /* policy check: the flow is rejected */
};

struct verb {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
	const char *usage; /* full --help text */
};

extern const struct verb cli_verbs[];

/* The state directory the daemon serves in ($BULKHEAD_STATE_DIR). */
extern const char *cli_state_dir;

/*
 * Calls op on bulkheadd with args (consumed, may be NULL) and fds. On
 * success returns EXIT_OK with *reply (caller puts it; may be NULL to
 * discard) and any received descriptors in rfds/nrfds (may be NULL). On
 * failure prints "bulkhead: MESSAGE" and returns the exit code.
 */
int cli_call(const char *op, struct json_object *args, const int *fds,
	     size_t nfds, struct json_object **reply, int *rfds, size_t *nrfds);

/* Prints "bulkhead: ..." to stderr. */
void cli_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints the usage error and the hint, returns EXIT_USAGE. */
int cli_usage_err(const char *verb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Standard --help handling for verbs: prints and returns true if asked. */
const struct verb *cli_verb(const char *name);

/* Parses "60", "60s", "1500ms", "2m": milliseconds. 0 or -EINVAL. */
int cli_parse_duration(const char *s, int64_t *ms);

/* verbs */
int cmd_create(int argc, char **argv);
int cmd_start(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_block_list(int argc, char **argv);
int cmd_network_list(int argc, char **argv);
int cmd_measure(int argc, char **argv);
int cmd_tpm(int argc, char **argv);
int cmd_pause(int argc, char **argv);
int cmd_unpause(int argc, char **argv);
int cmd_shutdown(int argc, char **argv);
int cmd_destroy(int argc, char **argv);
int cmd_reboot(int argc, char **argv);
int cmd_console(int argc, char **argv);
int cmd_logs(int argc, char **argv);
int cmd_policy(int argc, char **argv);
int cmd_disk(int argc, char **argv);

#endif
