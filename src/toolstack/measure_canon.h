/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The byte strings a measured launch hashes for a VM's definition and for
 * its compiled HMX rules (docs/measured-launch.md defines both), in
 * canonical JSON (canon_json.h). Pure.
 */
#ifndef BH_TOOLSTACK_MEASURE_CANON_H
#define BH_TOOLSTACK_MEASURE_CANON_H

#include <stddef.h>

struct json_object;
struct policy_set;
struct vmcfg;

/* The "form" member of the definition's canonical object. */
#define MEASURE_CONFIG_FORM "bulkhead-vm-config/2"

/*
 * The definition as the toolstack resolved it, without what does not
 * make the VM what it is: where the file was (source), when it starts
 * (autostart), the pins themselves (measure_expect) and warnings. NULL
 * on ENOMEM.
 */
struct json_object *measure_config_json(const struct vmcfg *cfg);

/*
 * The compiled entries of set that came from VM vm's own rules, in the
 * set's order (first match wins), each with its domids written as the
 * names they had in set ("host", "any", the VM's name), so the digest
 * survives domid renumbering. *nentries gets their count. NULL on ENOMEM.
 */
struct json_object *measure_rules_json(const struct policy_set *set,
				       const char *vm, size_t *nentries);

/* canon_json() of either: 0 with a malloc'd *out, or a negative errno. */
int measure_config_canonical(const struct vmcfg *cfg, char **out, size_t *len);
int measure_rules_canonical(const struct policy_set *set, const char *vm,
			    char **out, size_t *len, size_t *nentries);

#endif
