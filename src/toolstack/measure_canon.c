// SPDX-License-Identifier: GPL-2.0-only
#include "toolstack/measure_canon.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "toolstack/canon_json.h"
#include "toolstack/policy.h"
#include "toolstack/vmcfg.h"
#include "util/hex.h"

/* json-c's adders cannot report ENOMEM: a NULL value is checked after. */
struct jb {
	struct json_object *o;
	bool nomem;
};

static void add(struct jb *b, struct json_object *o, const char *k,
		struct json_object *v, bool may_be_null)
{
	if ((!v && !may_be_null) || json_object_object_add(o, k, v) < 0) {
		json_object_put(v);
		b->nomem = true;
	}
}

static void add_str(struct jb *b, struct json_object *o, const char *k,
		    const char *v)
{
	add(b, o, k, v ? json_object_new_string(v) : NULL, !v);
}

static void add_bool(struct jb *b, struct json_object *o, const char *k, bool v)
{
	add(b, o, k, json_object_new_boolean(v), false);
}

static void add_int(struct jb *b, struct json_object *o, const char *k,
		    int64_t v)
{
	add(b, o, k, json_object_new_int64(v), false);
}

static void push(struct jb *b, struct json_object *a, struct json_object *v)
{
	if (!v || json_object_array_add(a, v) < 0) {
		json_object_put(v);
		b->nomem = true;
	}
}

static struct json_object *new_obj(struct jb *b)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		b->nomem = true;
	return o;
}

static struct json_object *new_arr(struct jb *b)
{
	struct json_object *a = json_object_new_array();

	if (!a)
		b->nomem = true;
	return a;
}

static void add_hex(struct jb *b, struct json_object *o, const char *k,
		    const uint8_t *v, size_t n)
{
	char hex[2 * DISK_SHA256_BYTES + 1];

	hex_encode(v, n, hex);
	add_str(b, o, k, hex);
}

static struct json_object *disk_json(struct jb *b, const struct disk_spec *ds)
{
	struct json_object *o = new_obj(b), *verity;

	if (!o)
		return NULL;
	add_str(b, o, "vdev", ds->vdev);
	add_str(b, o, "target", ds->target);
	add_str(b, o, "format", disk_format_name(ds->format));
	add_bool(b, o, "readonly", ds->readonly);
	add_str(b, o, "backend", disk_backend_name(ds->backend));
	add_bool(b, o, "discard", ds->discard);
	add_bool(b, o, "direct", ds->direct);
	add_str(b, o, "snapshot", disk_snapshot_name(ds->snapshot));
	add_bool(b, o, "measure", ds->measure);
	if (ds->verify)
		add_hex(b, o, "verify", ds->verify_sha256, DISK_SHA256_BYTES);
	else
		add(b, o, "verify", NULL, true);
	if (ds->verity) {
		verity = new_obj(b);
		if (verity) {
			add_hex(b, verity, "root", ds->verity_root,
				DISK_SHA256_BYTES);
			add_str(b, verity, "hash", ds->verity_hash);
		}
		add(b, o, "verity", verity, false);
	} else {
		add(b, o, "verity", NULL, true);
	}
	return o;
}

/* A vif as parsed: {backend, mac, ip}; backend and mac null for defaults. */
static struct json_object *vif_json(struct jb *b, const struct vif_spec *v)
{
	struct json_object *o = new_obj(b), *ips;
	char text[VIF_MAC_TEXT > VIF_IP_TEXT ? VIF_MAC_TEXT : VIF_IP_TEXT];

	if (!o)
		return NULL;
	add_str(b, o, "backend", v->backend[0] ? v->backend : NULL);
	if (v->has_mac)
		vif_mac_format(v->mac, text);
	add_str(b, o, "mac", v->has_mac ? text : NULL);
	ips = new_arr(b);
	for (size_t i = 0; ips && i < v->nip; i++) {
		vif_ip_format(v->ip[i], text);
		push(b, ips, json_object_new_string(text));
	}
	add(b, o, "ip", ips, false);
	return o;
}

struct json_object *measure_config_json(const struct vmcfg *cfg)
{
	struct jb b = { 0 };
	struct json_object *o = new_obj(&b), *a;

	if (!o)
		return NULL;
	add_str(&b, o, "form", MEASURE_CONFIG_FORM);
	add_str(&b, o, "name", cfg->name);
	add_str(&b, o, "role", vm_role_name(cfg->role));
	add_int(&b, o, "memory_mib", cfg->memory_mib);
	add_int(&b, o, "vcpus", cfg->vcpus);
	add_str(&b, o, "kernel", cfg->kernel);
	add_str(&b, o, "ramdisk", cfg->ramdisk);
	add_str(&b, o, "cmdline", cfg->cmdline);
	add_bool(&b, o, "hmx", cfg->hmx);
	add_bool(&b, o, "vsock", cfg->vsock);
	add_str(&b, o, "serial", vmcfg_serial_name(cfg->serial));
	add_str(&b, o, "serial_path", cfg->serial_path);
	a = new_arr(&b);
	for (size_t i = 0; a && i < cfg->nrules; i++) {
		char text[POLICY_RULE_TEXT_MAX + 64];

		policy_rule_format(&cfg->rules[i].rule, text, sizeof(text));
		push(&b, a, json_object_new_string(text));
	}
	add(&b, o, "hmx_rules", a, false);
	a = new_arr(&b);
	for (size_t i = 0; a && i < cfg->ndisks; i++)
		push(&b, a, disk_json(&b, &cfg->disks[i]));
	add(&b, o, "disks", a, false);
	a = new_arr(&b);
	for (size_t i = 0; a && i < cfg->nvifs; i++)
		push(&b, a, vif_json(&b, &cfg->vifs[i]));
	add(&b, o, "vifs", a, false);
	if (b.nomem) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static void add_domain(struct jb *b, struct json_object *o, const char *k,
		       const struct policy_set *set, uint16_t domid)
{
	char name[16];

	if (domid == HMX_DOMID_HOST) {
		add_str(b, o, k, "host");
		return;
	}
	if (domid == HMX_DOMID_ANY) {
		add_str(b, o, k, "any");
		return;
	}
	for (size_t i = 0; i < set->ndomains; i++) {
		if (set->domains[i].domid == domid) {
			add_str(b, o, k, set->domains[i].name);
			return;
		}
	}
	/* The compiler names only domains of its running set. */
	snprintf(name, sizeof(name), "dom%u", domid);
	add_str(b, o, k, name);
}

static void add_port(struct jb *b, struct json_object *o, const char *k,
		     uint32_t port)
{
	if (port == HMX_PORT_ANY)
		add_str(b, o, k, "*");
	else
		add_int(b, o, k, port);
}

struct json_object *measure_rules_json(const struct policy_set *set,
				       const char *vm, size_t *nentries)
{
	struct jb b = { 0 };
	struct json_object *a = new_arr(&b);

	*nentries = 0;
	for (size_t i = 0; a && set && i < set->nentries; i++) {
		const struct policy_entry *e = &set->entries[i];
		struct json_object *o;

		if (e->origin >= set->norigins ||
		    strcmp(set->origins[e->origin].vm_name, vm))
			continue;
		o = new_obj(&b);
		if (!o)
			break;
		add_str(&b, o, "action", policy_action_name(e->action));
		add_domain(&b, o, "src", set, e->src_domid);
		add_port(&b, o, "src_port", e->src_port);
		add_domain(&b, o, "dst", set, e->dst_domid);
		add_port(&b, o, "dst_port", e->dst_port);
		push(&b, a, o);
		(*nentries)++;
	}
	if (b.nomem) {
		json_object_put(a);
		return NULL;
	}
	return a;
}

static int canonical(struct json_object *o, char **out, size_t *len)
{
	int r;

	*out = NULL;
	if (!o)
		return -ENOMEM;
	r = canon_json(o, out, len);
	json_object_put(o);
	return r;
}

int measure_config_canonical(const struct vmcfg *cfg, char **out, size_t *len)
{
	return canonical(measure_config_json(cfg), out, len);
}

int measure_rules_canonical(const struct policy_set *set, const char *vm,
			    char **out, size_t *len, size_t *nentries)
{
	return canonical(measure_rules_json(set, vm, nentries), out, len);
}
