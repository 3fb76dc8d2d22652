/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The policy compiler: named rules of the running VMs in, the HMX
 * firewall's domid-level rule list out (docs/policy.md). Compiling is a
 * pure function of the running set, so the daemon recompiles whenever a VM
 * starts or stops and hands the whole new list to the hypervisor to swap
 * in atomically.
 *
 * Order of the compiled list: every reject entry before every accept entry;
 * within each group by the order of the running set (VM start order), then
 * rule order in the file, then expansion order. First match wins; no match
 * is a reject (default deny).
 */
#ifndef BH_TOOLSTACK_POLICY_H
#define BH_TOOLSTACK_POLICY_H

#include "toolstack/policy_rule.h"
#include "toolstack/vm.h"

#include <bulkhead/hmx.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct json_object;
struct vmcfg;

/* An upper bound on compiled entries, so type= rules cannot explode. */
#define POLICY_ENTRIES_MAX 65536u

/*
 * A vif of a running VM as the daemon connected it at the VM's start: it
 * compiles to exactly VM:HMX_NET_APORT(i) <-> backend:HMX_NET_APORT(i),
 * both ways, while a running HMX VM of that name has that domid (the one
 * the guest's hmxnet.front= names); otherwise to nothing.
 */
struct policy_vif {
	const char *backend; /* the backend VM's name */
	uint16_t backend_domid;
	unsigned int line; /* of the vif's element in the definition */
	unsigned int column;
};

/* A running VM as the compiler sees it. Nothing here is kept by reference. */
struct policy_vm {
	const char *name; /* valid per vm_name_problem() */
	uint16_t domid; /* HMX_DOMID_FIRST_GUEST..HMX_DOMID_LAST_GUEST */
	enum vm_role type; /* its role, what type= selectors match */
	bool hmx; /* false: no HMX device, matched by no selector, no rules */
	const char *source; /* its definition file, for provenance */
	const struct policy_written_rule *rules;
	size_t nrules;
	const struct policy_vif *vifs; /* vif i is vifs[i] */
	size_t nvifs; /* at most VIF_PER_VM_MAX */
};

enum policy_origin_kind {
	POLICY_ORIGIN_RULE, /* a rule of the VM's hmx_rules */
	POLICY_ORIGIN_VIF, /* a vif of the VM, compiled by the toolstack */
};

/* Where a compiled entry came from. */
struct policy_origin {
	enum policy_origin_kind kind;
	char *vm_name;
	uint16_t vm_domid;
	char *source; /* definition file */
	unsigned int line; /* of the rule's string in that file */
	unsigned int column;
	size_t rule_index; /* index in the VM's hmx_rules, or the vif's number */
	char *text; /* the rule as written, or what the vif connects */
	enum policy_action action;
	size_t nentries; /* entries it compiled to; 0 if it names no running VM */
};

/* One firewall rule, in HMX wire values. */
struct policy_entry {
	uint16_t src_domid; /* or HMX_DOMID_ANY */
	uint32_t src_port; /* or HMX_PORT_ANY */
	uint16_t dst_domid; /* or HMX_DOMID_ANY */
	uint32_t dst_port; /* or HMX_PORT_ANY */
	enum policy_action action;
	size_t origin; /* index into policy_set.origins */
};

/* A running VM as recorded in the compiled set, for names in output. */
struct policy_domain {
	uint16_t domid;
	char name[VM_NAME_MAX + 1];
	enum vm_role type;
	bool hmx;
};

struct policy_set {
	struct policy_entry *entries; /* first match wins */
	size_t nentries;
	struct policy_origin *origins; /* every rule of every HMX VM */
	size_t norigins;
	struct policy_domain *domains; /* the running set, in its order */
	size_t ndomains;
};

/*
 * Compiles the rules of vms[0..nvms) (in start order) into *out. Fails with
 * -EINVAL (invalid or duplicate name or domid, rules on a VM without HMX),
 * -E2BIG (more than POLICY_ENTRIES_MAX entries) or -ENOMEM, with a message
 * in err (errlen bytes, may be 0).
 */
int policy_compile(const struct policy_vm *vms, size_t nvms,
		   struct policy_set **out, char *err, size_t errlen);

void policy_set_free(struct policy_set *set);

/*
 * Describes a parsed definition running as domid, for policy_compile().
 * Its vifs are left out: which backend they reach is decided at start.
 */
void policy_vm_from_vmcfg(struct policy_vm *vm, const struct vmcfg *cfg,
			  uint16_t domid);

/* A concrete flow: no wildcards. */
struct policy_flow {
	uint16_t src_domid;
	uint32_t src_port;
	uint16_t dst_domid;
	uint32_t dst_port;
};

/* The entry that decides flow (first match), or NULL for default deny. */
const struct policy_entry *policy_check(const struct policy_set *set,
					const struct policy_flow *flow);

/*
 * Reads a flow from two endpoints written "host:PORT", "NAME:PORT" or
 * "name=NAME:PORT", names resolved among set's domains. Returns 0 or
 * -EINVAL with a message in err.
 */
int policy_flow_parse(const struct policy_set *set, const char *src,
		      const char *dst, struct policy_flow *out, char *err,
		      size_t errlen);

/*
 * Explains which entry decides flow and where it came from, or that
 * default deny does. Returns 0 with a malloc'd text in *out, or -EINVAL
 * (wildcards in the flow) / -ENOMEM.
 */
int policy_explain(const struct policy_set *set, const struct policy_flow *flow,
		   char **out);

/* The compiled set as a table for `bulkhead policy show`, malloc'd. */
int policy_set_render_text(const struct policy_set *set, char **out);

/*
 * The compiled set as JSON for the control protocol (docs/policy.md gives
 * the schema); domids and ports are the HMX wire values. NULL on ENOMEM.
 * The caller releases it with json_object_put().
 */
struct json_object *policy_set_to_json(const struct policy_set *set);

/* Writes "accept web(5):* -> host:5555" for an entry into buf. */
void policy_entry_format(const struct policy_set *set,
			 const struct policy_entry *e, char *buf, size_t len);

/* "hmx_rules" or "vif": the list an origin's index is in. */
const char *policy_origin_list(const struct policy_origin *o);

/* Writes "web(5)", "host", "any" or "dom7" for a domid into buf. */
void policy_domid_label(const struct policy_set *set, uint16_t domid, char *buf,
			size_t len);

#endif
