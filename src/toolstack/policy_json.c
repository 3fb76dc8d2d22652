// SPDX-License-Identifier: GPL-2.0-only
/* The compiled set as JSON for the control protocol (docs/policy.md). */
#include "toolstack/policy.h"

#include <json-c/json.h>

#define POLICY_JSON_VERSION 1

/* json_object_object_add that owns val even when it fails. */
static bool put(struct json_object *obj, const char *key,
		struct json_object *val)
{
	if (!val)
		return false;
	if (json_object_object_add(obj, key, val)) {
		json_object_put(val);
		return false;
	}
	return true;
}

static bool append(struct json_object *arr, struct json_object *val)
{
	if (!val)
		return false;
	if (json_object_array_add(arr, val)) {
		json_object_put(val);
		return false;
	}
	return true;
}

static struct json_object *origin_json(const struct policy_origin *o)
{
	struct json_object *j = json_object_new_object();

	if (!j)
		return NULL;
	if (!put(j, "kind", json_object_new_string(policy_origin_list(o))) ||
	    !put(j, "vm", json_object_new_string(o->vm_name)) ||
	    !put(j, "vm_domid", json_object_new_int(o->vm_domid)) ||
	    !put(j, "file", json_object_new_string(o->source)) ||
	    !put(j, "line", json_object_new_int64(o->line)) ||
	    !put(j, "column", json_object_new_int64(o->column)) ||
	    !put(j, "rule_index",
		 json_object_new_int64((int64_t)o->rule_index)) ||
	    !put(j, "rule", json_object_new_string(o->text)) ||
	    !put(j, "action",
		 json_object_new_string(policy_action_name(o->action))) ||
	    !put(j, "entries", json_object_new_int64((int64_t)o->nentries))) {
		json_object_put(j);
		return NULL;
	}
	return j;
}

static struct json_object *entry_json(const struct policy_entry *e)
{
	struct json_object *j = json_object_new_object();

	if (!j)
		return NULL;
	if (!put(j, "action",
		 json_object_new_string(policy_action_name(e->action))) ||
	    !put(j, "src_domid", json_object_new_int(e->src_domid)) ||
	    !put(j, "src_port", json_object_new_int64(e->src_port)) ||
	    !put(j, "dst_domid", json_object_new_int(e->dst_domid)) ||
	    !put(j, "dst_port", json_object_new_int64(e->dst_port)) ||
	    !put(j, "origin", json_object_new_int64((int64_t)e->origin))) {
		json_object_put(j);
		return NULL;
	}
	return j;
}

static struct json_object *domain_json(const struct policy_domain *d)
{
	struct json_object *j = json_object_new_object();

	if (!j)
		return NULL;
	if (!put(j, "domid", json_object_new_int(d->domid)) ||
	    !put(j, "name", json_object_new_string(d->name)) ||
	    !put(j, "type", json_object_new_string(vm_role_name(d->type))) ||
	    !put(j, "hmx", json_object_new_boolean(d->hmx))) {
		json_object_put(j);
		return NULL;
	}
	return j;
}

struct json_object *policy_set_to_json(const struct policy_set *set)
{
	struct json_object *root = json_object_new_object();
	struct json_object *entries = json_object_new_array();
	struct json_object *origins = json_object_new_array();
	struct json_object *domains = json_object_new_array();
	bool ok = root && entries && origins && domains;

	for (size_t i = 0; ok && i < set->nentries; i++)
		ok = append(entries, entry_json(&set->entries[i]));
	for (size_t i = 0; ok && i < set->norigins; i++)
		ok = append(origins, origin_json(&set->origins[i]));
	for (size_t i = 0; ok && i < set->ndomains; i++)
		ok = append(domains, domain_json(&set->domains[i]));
	if (!ok) {
		json_object_put(root);
		json_object_put(entries);
		json_object_put(origins);
		json_object_put(domains);
		return NULL;
	}
	ok = put(root, "version", json_object_new_int(POLICY_JSON_VERSION)) &&
	     put(root, "domid_any", json_object_new_int(HMX_DOMID_ANY)) &&
	     put(root, "port_any", json_object_new_int64(HMX_PORT_ANY)) &&
	     put(root, "default", json_object_new_string("reject"));
	/* put() owns each array from here on, whether it succeeds or not. */
	ok = put(root, "entries", entries) && ok;
	ok = put(root, "origins", origins) && ok;
	ok = put(root, "domains", domains) && ok;
	if (!ok) {
		json_object_put(root);
		return NULL;
	}
	return root;
}
