/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Service-call policy (docs/policy.md, "Service rules"): which VM may call
 * which service in which VM. Rules come from the *.svcpolicy files of one
 * directory, read in lexical (byte) order of their names; the first rule
 * that matches a call decides it; no match is a deny.
 *
 *   rule    = SERVICE WS ARG WS SOURCE WS TARGET WS ACTION *( WS OPTION )
 *   SERVICE = "*" | NAME "." NAME          NAME = [A-Za-z0-9_-]{1,63}
 *   ARG     = "*"                          any argument, or none
 *           | "+"                          no argument only
 *           | "+" ARGTEXT                  exactly that argument
 *           | "+" ARGTEXT "*"              any argument starting ARGTEXT
 *   ARGTEXT = [A-Za-z0-9._-]{1,63}
 *   SOURCE  = "@anyvm" | "@type:" ROLE | "@tag:" TAG | "@dispvm"
 *           | "@dispvm:" VM | VM
 *   TARGET  = the same forms
 *   ACTION  = "allow" | "deny" | "ask"
 *   OPTION  = "target=" (VM | "@dispvm:" VM) | "user=" USER  (allow, ask)
 *
 * A redirect never bypasses an earlier deny: when a rule with target=X
 * decides a call, the call (service, arg, source, X) is checked against
 * every rule above that rule; if one of them is a deny that matches it,
 * that deny decides the call instead.
 */
#ifndef BH_TOOLSTACK_SVC_POLICY_H
#define BH_TOOLSTACK_SVC_POLICY_H

#include "toolstack/vm.h"

#include <stdbool.h>
#include <stddef.h>

#define SVC_NAME_MAX 127 /* "vendor.Service" */
#define SVC_ARG_MAX 63
#define SVC_TAG_MAX 31
#define SVC_USER_MAX 31
#define SVC_TAGS_PER_VM 16
#define SVC_RULES_MAX 4096
#define SVC_LINE_MAX 1024
/* "@dispvm:" + a VM name */
#define SVC_TARGET_MAX (8 + VM_NAME_MAX)

enum svc_action {
	SVC_DENY,
	SVC_ALLOW,
	SVC_ASK,
};

enum svc_arg_match {
	SVC_ARG_ANY, /* "*" */
	SVC_ARG_NONE, /* "+" */
	SVC_ARG_EXACT, /* "+TEXT" */
	SVC_ARG_PREFIX, /* "+TEXT*" */
};

enum svc_sel_kind {
	SVC_SEL_ANYVM, /* every VM, never a @dispvm request */
	SVC_SEL_TYPE, /* every VM of a role */
	SVC_SEL_TAG, /* every VM with the tag */
	SVC_SEL_DISPVM, /* a disposable VM (source) / "@dispvm" (target) */
	SVC_SEL_DISPVM_OF, /* of one template / "@dispvm:T" (target) */
	SVC_SEL_NAME, /* the VM of that name */
};

struct svc_selector {
	enum svc_sel_kind kind;
	enum vm_role role; /* SVC_SEL_TYPE */
	char name[VM_NAME_MAX + 1]; /* tag, template or VM name */
};

struct svc_vm;
/* Does the selector match this running VM (a source, or a target by name)? */
bool svc_selector_matches_vm(const struct svc_selector *s,
			     const struct svc_vm *vm);

struct svc_rule {
	char service[SVC_NAME_MAX + 1]; /* "*" for any */
	enum svc_arg_match arg_match;
	char arg[SVC_ARG_MAX + 1];
	struct svc_selector source;
	struct svc_selector target;
	enum svc_action action;
	char redirect[SVC_TARGET_MAX + 1]; /* "" if no target= */
	char user[SVC_USER_MAX + 1]; /* "" if no user= */
	char *file; /* file name as read (no directory) */
	unsigned int line;
};

struct svc_policy {
	struct svc_rule *rules; /* file order, then line order */
	size_t nrules;
};

/* What the decision knows about a VM. */
struct svc_vm {
	const char *name;
	enum vm_role role;
	const char *const *tags;
	size_t ntags;
	bool disposable;
	const char *template_name; /* of a disposable VM, else NULL */
};

/* The VMs a decision may name, looked up by name. */
struct svc_world {
	const struct svc_vm *vms;
	size_t nvms;
};

struct svc_error {
	char file[256];
	unsigned int line; /* 0: not about one line */
	char msg[200];
};

/*
 * Parses one file's text (len bytes) and appends its rules to pol; file is
 * kept for provenance. Returns 0, -EINVAL (err names file:line), -E2BIG
 * (more than SVC_RULES_MAX rules) or -ENOMEM.
 */
int svc_policy_parse(struct svc_policy *pol, const char *file, const char *text,
		     size_t len, struct svc_error *err);

/*
 * Reads every regular *.svcpolicy file of dir in lexical order into a new
 * *out. A missing directory is an empty policy (everything denied).
 */
int svc_policy_load_dir(const char *dir, struct svc_policy **out,
			struct svc_error *err);

void svc_policy_free(struct svc_policy *pol);

/* A call as the router saw it. */
struct svc_call {
	const char *service; /* "vendor.Service" */
	const char *arg; /* "" for none */
	const char *source; /* the authenticated caller's name */
	const char *target; /* VM name, "@dispvm" or "@dispvm:T" */
};

struct svc_decision {
	enum svc_action action;
	char target[SVC_TARGET_MAX + 1]; /* effective target; "" on deny */
	char user[SVC_USER_MAX + 1]; /* "" means the handler's default */
	const struct svc_rule *rule; /* deciding rule; NULL: default deny */
	/* The rule whose target= was refused by rule, or NULL. */
	const struct svc_rule *redirect_by;
};

/*
 * Decides call. Returns 0, or -EINVAL with a message in err when the call
 * itself is malformed (bad names, unknown source VM): such calls are denied.
 */
int svc_policy_decide(const struct svc_policy *pol,
		      const struct svc_world *world,
		      const struct svc_call *call, struct svc_decision *out,
		      char *err, size_t errlen);

/*
 * The audit record of a decision, one line without newline:
 * "svc-call source=A target=B service=S arg=X action=allow effective=B
 *  user=U rule=FILE:LINE" (rule=default-deny when no rule matched).
 */
int svc_decision_format(const struct svc_call *call,
			const struct svc_decision *d, char *buf, size_t len);

/*
 * Explains a decision for `bulkhead policy check --call`: the call, the
 * action, and the deciding rule with FILE:LINE and its text (and the
 * redirecting rule it refused), or that default deny decides. Returns 0
 * with a malloc'd text in *out, or -ENOMEM.
 */
int svc_decision_explain(const struct svc_call *call,
			 const struct svc_decision *d, char **out);

/*
 * The HMX flows the calls need (docs/policy.md, "Router flows"): the
 * router listens on the host's HMX port SVC_ROUTER_PORT. A running VM is a
 * caller if some allow or ask rule's SOURCE matches it, and a handler if
 * some allow or ask rule's TARGET or target= names it; each needs exactly
 * VM:* <-> host:SVC_ROUTER_PORT, nothing else. A VM no such rule matches
 * gets no flow to the router at all.
 */
#define SVC_ROUTER_PORT 0xfffd0000u

enum {
	SVC_ROUTER_CALLER = 1u << 0,
	SVC_ROUTER_HANDLER = 1u << 1,
};

struct svc_router_need {
	unsigned int roles; /* SVC_ROUTER_* bits; 0: no flow */
	const struct svc_rule *why; /* the first rule giving a role */
};

/* Fills need[0..world->nvms) for world's VMs, in order. */
void svc_policy_router_needs(const struct svc_policy *pol,
			     const struct svc_world *world,
			     struct svc_router_need *need);

/* The rule as canonical text. */
int svc_rule_format(const struct svc_rule *r, char *buf, size_t len);

const char *svc_action_name(enum svc_action a);

#endif
