// SPDX-License-Identifier: GPL-2.0-only
/*
 * Vifs in bulkheadd (docs/toolstack.md, "Vifs"): at a start, each vif's
 * backend is chosen among the defined VMs and must be running; the
 * instance keeps where its vifs went, which the policy compiles to their
 * port pairs and vm.network reports. A backend asks for its last domid
 * again, so that its running guests' hmxnet.front= stays right.
 */
#include "toolstack/daemon/daemon.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "toolstack/daemon/api_client.h"
#include "toolstack/daemon/vif_plan.h"
#include "toolstack/jget.h"
#include "toolstack/policy.h"
#include "toolstack/vmcfg.h"
#include "util/log.h"

#include <bulkhead/hmx_net.h>

void api_vm_network(struct bhd *d, struct api_client *c, int64_t id,
		    struct json_object *req);

/*
 * r's definition: the running instance's, else the file's (*parsed, for
 * the caller to free). NULL with err set if the file does not parse.
 */
static const struct vmcfg *definition(const struct vmrec *r,
				      struct vmcfg **parsed, char *err,
				      size_t errlen)
{
	char *text, *base;

	*parsed = NULL;
	if (r->cfg)
		return r->cfg;
	if (store_read_def(r->def_path, &text, &base, parsed, err, errlen))
		return NULL;
	free(text);
	free(base);
	return *parsed;
}

/* Every defined VM as a possible backend; free with candidates_free. */
struct candidates {
	struct vif_candidate *c;
	struct vmcfg **parsed;
	size_t n;
};

static void candidates_free(struct candidates *cs)
{
	for (size_t i = 0; cs->parsed && i < cs->n; i++)
		vmcfg_free(cs->parsed[i]);
	free(cs->parsed);
	free(cs->c);
}

static int candidates_build(struct bhd *d, struct candidates *cs, char *err,
			    size_t errlen)
{
	size_t n = 0;

	for (struct vmrec *v = d->vms; v; v = v->next)
		n++;
	cs->n = 0;
	cs->c = calloc(n ? n : 1, sizeof(*cs->c));
	cs->parsed = calloc(n ? n : 1, sizeof(*cs->parsed));
	if (!cs->c || !cs->parsed) {
		candidates_free(cs);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (struct vmrec *v = d->vms; v; v = v->next, cs->n++) {
		char why[512];
		const struct vmcfg *def =
			definition(v, &cs->parsed[cs->n], why, sizeof(why));
		struct vif_candidate *c = &cs->c[cs->n];

		c->name = v->name;
		c->known = def != NULL;
		c->role = def ? def->role : VM_ROLE_GUEST;
		c->hmx = def && def->hmx;
		c->running = v->active && v->started;
		c->domid = v->domid;
	}
	return 0;
}

int vifs_connect(struct bhd *d, const struct vmcfg *cfg, struct vif_inst *vifs,
		 char *err, size_t errlen)
{
	struct candidates cs;
	int ret;

	if (!cfg->nvifs)
		return 0;
	if (candidates_build(d, &cs, err, errlen))
		return -1;
	ret = vif_plan_backends(cfg, cs.c, cs.n, vifs, err, errlen);
	candidates_free(&cs);
	return ret;
}

int vifs_start_backends(struct bhd *d, const struct vmcfg *cfg, char *err,
			size_t errlen)
{
	const char *names[VIF_PER_VM_MAX];
	char copy[VIF_PER_VM_MAX][VM_NAME_MAX + 1];
	struct candidates cs;
	size_t n;
	int ret = 0;

	if (!cfg->nvifs)
		return 0;
	if (candidates_build(d, &cs, err, errlen))
		return -1;
	n = vif_plan_stopped_backends(cfg, cs.c, cs.n, names, VIF_PER_VM_MAX);
	/* The names live in the records; copied before any start changes
	 * what the candidates point at. */
	for (size_t i = 0; i < n; i++)
		snprintf(copy[i], sizeof(copy[i]), "%s", names[i]);
	candidates_free(&cs);
	/* A backend's own vifs may need a backend too: a chain, not a loop. */
	if (n && d->backend_start_depth >= VIFS_BACKEND_CHAIN_MAX) {
		snprintf(
			err, errlen,
			"backend %s: backends chained deeper than %u (or in a loop) are not started for you",
			copy[0], VIFS_BACKEND_CHAIN_MAX);
		return -1;
	}
	d->backend_start_depth++;
	for (size_t i = 0; i < n && !ret; i++) {
		struct vmrec *b = bhd_find(d, copy[i]);
		char why[512];

		if (!b || b->active)
			continue;
		bh_info("vm %s: starting backend %s first", cfg->name, copy[i]);
		if (vm_start(d, b, NULL, why, sizeof(why))) {
			snprintf(err, errlen, "backend %s did not start: %s",
				 copy[i], why);
			ret = -1;
		}
	}
	d->backend_start_depth--;
	return ret;
}

/* Whether the hypervisor has a domain with domid (or cannot say). */
static bool hv_has_domid(struct bhd *d, uint16_t domid)
{
	struct json_object *reply, *list;
	char err[256];
	bool taken = false;

	if (hvconn_call(&d->hv, "vm.list", NULL, NULL, 0, &reply, err,
			sizeof(err)) < 0)
		return true;
	list = jget(reply, "vms", json_type_array);
	for (size_t i = 0; list && i < json_object_array_length(list); i++)
		taken |= jget_int(json_object_array_get_idx(list, i), "domid",
				  -1) == domid;
	json_object_put(reply);
	return taken;
}

uint16_t vifs_domid_wish(struct bhd *d, const struct vmrec *r,
			 const struct vmcfg *cfg)
{
	if (!r->last_domid ||
	    (cfg->role != VM_ROLE_NDVM && cfg->role != VM_ROLE_SERVICE))
		return 0;
	for (const struct vmrec *v = d->vms; v; v = v->next) {
		if (v != r && v->active && v->domid == r->last_domid)
			return 0;
	}
	/* Asking for a domid the hypervisor has would fail the start. */
	return hv_has_domid(d, r->last_domid) ? 0 : r->last_domid;
}

size_t vifs_policy(const struct vmrec *r, struct policy_vif *out)
{
	const struct vmcfg *cfg = r->cfg;
	size_t n = cfg && r->nvifs > cfg->nvifs ? cfg->nvifs : r->nvifs;

	for (size_t i = 0; i < n; i++) {
		out[i].backend = r->vifs[i].backend;
		out[i].backend_domid = r->vifs[i].backend_domid;
		out[i].line = cfg ? cfg->vifs[i].line : 0;
		out[i].column = cfg ? cfg->vifs[i].column : 0;
	}
	return n;
}

/*
 * A running instance's vif: "up" while its backend runs at the domid it
 * was given, "backend-stopped" when no instance of it runs,
 * "backend-moved" when it runs under another domid (the guest's
 * hmxnet.front= names the old one: restart the guest).
 */
static const char *vif_state(struct bhd *d, const struct vif_inst *v,
			     uint16_t *now)
{
	const struct vmrec *b = bhd_find(d, v->backend);

	*now = 0;
	if (!b || !b->active || !b->started)
		return "backend-stopped";
	*now = b->domid;
	return b->domid == v->backend_domid ? "up" : "backend-moved";
}

static void add(struct json_object *o, const char *k, struct json_object *v)
{
	json_object_object_add(o, k, v);
}

static struct json_object *vif_json(struct bhd *d, const struct vmrec *r,
				    const struct vmcfg *cfg, size_t i)
{
	const struct vif_spec *spec = &cfg->vifs[i];
	struct json_object *o = json_object_new_object();
	struct json_object *ips = json_object_new_array();
	char mac[VIF_MAC_TEXT], ip[VIF_IP_TEXT];
	bool instance = r->active && i < r->nvifs;

	add(o, "index", json_object_new_int64((int64_t)i));
	add(o, "aport", json_object_new_int64(HMX_NET_APORT(i)));
	if (instance)
		add(o, "backend", json_object_new_string(r->vifs[i].backend));
	else if (spec->backend[0])
		add(o, "backend", json_object_new_string(spec->backend));
	else
		add(o, "backend", NULL);
	add(o, "backend_given", json_object_new_boolean(spec->backend[0]));
	add(o, "backend_domid",
	    instance ? json_object_new_int(r->vifs[i].backend_domid) : NULL);
	if (spec->has_mac) {
		vif_mac_format(spec->mac, mac);
		add(o, "mac", json_object_new_string(mac));
	} else if (r->active) {
		uint8_t m[VIF_MAC_BYTES];

		vif_default_mac(r->domid, (unsigned int)i, m);
		vif_mac_format(m, mac);
		add(o, "mac", json_object_new_string(mac));
	} else {
		add(o, "mac", NULL); /* derived from a domid not yet known */
	}
	add(o, "mac_given", json_object_new_boolean(spec->has_mac));
	for (size_t k = 0; k < spec->nip; k++) {
		vif_ip_format(spec->ip[k], ip);
		json_object_array_add(ips, json_object_new_string(ip));
	}
	add(o, "ip", ips);
	if (instance) {
		uint16_t now;
		const char *st = vif_state(d, &r->vifs[i], &now);

		add(o, "state", json_object_new_string(st));
		if (!strcmp(st, "backend-moved"))
			add(o, "backend_domid_now", json_object_new_int(now));
	} else {
		/* Off, or adopted without a record of its vifs. */
		add(o, "state",
		    json_object_new_string(r->active ? "unknown" : "off"));
	}
	return o;
}

void api_vm_network(struct bhd *d, struct api_client *c, int64_t id,
		    struct json_object *req)
{
	const char *name = jget_str(req, "name");
	struct json_object *o, *vifs;
	const struct vmcfg *cfg;
	struct vmcfg *parsed;
	struct vmrec *r;
	char err[512];

	if (!name) {
		api_reply_err(d, c, id, BHD_ERR_USAGE, "missing \"name\"");
		return;
	}
	r = bhd_find(d, name);
	if (!r) {
		api_reply_err(d, c, id, BHD_ERR_NO_VM, "no VM named \"%s\"",
			      name);
		return;
	}
	cfg = definition(r, &parsed, err, sizeof(err));
	if (!cfg) {
		api_reply_err(d, c, id, BHD_ERR_FAILED, "%s", err);
		return;
	}
	o = json_object_new_object();
	vifs = json_object_new_array();
	for (size_t i = 0; i < cfg->nvifs; i++)
		json_object_array_add(vifs, vif_json(d, r, cfg, i));
	add(o, "name", json_object_new_string(r->name));
	add(o, "domid", r->active ? json_object_new_int(r->domid) : NULL);
	add(o, "vifs", vifs);
	api_reply(d, c, id, o, NULL, 0);
	vmcfg_free(parsed);
}
