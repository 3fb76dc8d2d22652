/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One HMX rule written with names, as it appears in a VM's hmx_rules list
 * (docs/policy.md):
 *
 *   rule     = [ ("accept" | "reject") WS ] endpoint "->" endpoint
 *   endpoint = selector [ ":" port ]
 *   selector = "myself" | "host" | "any" | "*" | "name=" NAME | "type=" TYPE
 *   port     = decimal 0..4294967294 | "*"          (omitted means "*")
 *
 * A rule must have myself as its source or its destination.
 */
#ifndef BH_TOOLSTACK_POLICY_RULE_H
#define BH_TOOLSTACK_POLICY_RULE_H

#include "toolstack/vm.h"

#include <stddef.h>
#include <stdint.h>

#define POLICY_RULE_TEXT_MAX 256 /* bytes in one rule string */

enum policy_action {
	POLICY_ACCEPT,
	POLICY_REJECT,
};

enum policy_selector {
	POLICY_SEL_MYSELF, /* the VM whose file holds the rule */
	POLICY_SEL_HOST, /* the host, domid 0 */
	POLICY_SEL_ANY, /* every domain, the host included */
	POLICY_SEL_NAME, /* the running VM of that name, if any */
	POLICY_SEL_TYPE, /* type=ROLE: every running VM of that role */
};

struct policy_endpoint {
	enum policy_selector sel;
	char name[VM_NAME_MAX + 1]; /* POLICY_SEL_NAME */
	enum vm_role type; /* POLICY_SEL_TYPE */
	uint32_t port; /* HMX_PORT_ANY for any port */
};

struct policy_rule {
	enum policy_action action;
	struct policy_endpoint src;
	struct policy_endpoint dst;
};

/* A rule as written in a definition file, for provenance. */
struct policy_written_rule {
	struct policy_rule rule;
	char *text; /* exactly as written, escapes decoded */
	unsigned int line; /* where its string starts in the file */
	unsigned int column;
};

struct policy_rule_error {
	size_t offset; /* byte offset in the rule text where it went wrong */
	char msg[200];
};

/*
 * Parses len bytes of text (which need not be NUL-terminated) as one rule.
 * Returns 0, or -EINVAL with err filled in.
 */
int policy_rule_parse(const char *text, size_t len, struct policy_rule *out,
		      struct policy_rule_error *err);

/*
 * Writes the canonical text of a rule ("reject type=guest -> myself:22";
 * accept is written out, a port of * is left out). Returns what snprintf
 * returns.
 */
int policy_rule_format(const struct policy_rule *rule, char *buf, size_t len);

/* "accept" or "reject". */
const char *policy_action_name(enum policy_action action);

#endif
