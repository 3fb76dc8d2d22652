// SPDX-License-Identifier: GPL-2.0-only
#include "toolstack/daemon/vif_plan.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "toolstack/vmcfg.h"

#include <bulkhead/hmx.h>
#include <bulkhead/hmx_net.h>

_Static_assert(VIF_PER_VM_MAX <= HMX_NET_VIFS_MAX,
	       "every vif has an hmxnet port");

static const struct vif_candidate *find(const struct vif_candidate *vms,
					size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(vms[i].name, name))
			return &vms[i];
	}
	return NULL;
}

/* The only VM defined with role ndvm, or NULL with err saying why not. */
static const struct vif_candidate *default_ndvm(const struct vif_candidate *vms,
						size_t n, size_t vif, char *err,
						size_t errlen)
{
	const struct vif_candidate *found = NULL;
	char names[200] = "";
	size_t count = 0, used = 0;

	for (size_t i = 0; i < n; i++) {
		if (!vms[i].known || vms[i].role != VM_ROLE_NDVM)
			continue;
		found = &vms[i];
		if (used < sizeof(names))
			used += (size_t)snprintf(names + used,
						 sizeof(names) - used, "%s%s",
						 count ? ", " : "",
						 vms[i].name);
		count++;
	}
	if (count == 1)
		return found;
	if (!count)
		snprintf(
			err, errlen,
			"vif %zu has no backend= and no VM with role \"ndvm\" is defined: write backend=NAME",
			vif);
	else
		snprintf(
			err, errlen,
			"vif %zu has no backend= and %zu VMs have role \"ndvm\" (%s): write backend=NAME",
			vif, count, names);
	return NULL;
}

int vif_plan_backends(const struct vmcfg *cfg, const struct vif_candidate *vms,
		      size_t n, struct vif_inst *out, char *err, size_t errlen)
{
	for (size_t i = 0; i < cfg->nvifs; i++) {
		const char *name = cfg->vifs[i].backend;
		const struct vif_candidate *b;

		if (name[0]) {
			b = find(vms, n, name);
			if (!b) {
				snprintf(
					err, errlen,
					"vif %zu: backend %s: no VM of that name is defined",
					i, name);
				return -1;
			}
		} else {
			b = default_ndvm(vms, n, i, err, errlen);
			if (!b)
				return -1;
		}
		if (!strcmp(b->name, cfg->name)) {
			snprintf(
				err, errlen,
				"vif %zu: its default backend is the only NDVM, %s, which is this VM itself: write backend=NAME",
				i, b->name);
			return -1;
		}
		if (!b->known) {
			snprintf(
				err, errlen,
				"vif %zu: backend %s: its definition does not parse, so its role is unknown",
				i, b->name);
			return -1;
		}
		if (b->role != VM_ROLE_NDVM && b->role != VM_ROLE_SERVICE) {
			snprintf(
				err, errlen,
				"vif %zu: backend %s has role \"%s\"; a backend has role \"ndvm\" or \"service\"",
				i, b->name, vm_role_name(b->role));
			return -1;
		}
		if (!b->hmx) {
			snprintf(
				err, errlen,
				"vif %zu: backend %s has hmx = off, and hmxnet runs over HMX",
				i, b->name);
			return -1;
		}
		if (!b->running) {
			snprintf(
				err, errlen,
				"vif %zu: backend %s is not running: start it first",
				i, b->name);
			return -1;
		}
		snprintf(out[i].backend, sizeof(out[i].backend), "%s", b->name);
		out[i].backend_domid = b->domid;
	}
	return 0;
}

size_t vif_plan_stopped_backends(const struct vmcfg *cfg,
				 const struct vif_candidate *vms, size_t n,
				 const char **out, size_t max)
{
	size_t count = 0;
	char ignored[256];

	for (size_t i = 0; i < cfg->nvifs; i++) {
		const char *name = cfg->vifs[i].backend;
		const struct vif_candidate *b =
			name[0] ? find(vms, n, name) :
				  default_ndvm(vms, n, i, ignored,
					       sizeof(ignored));
		bool listed = false;

		if (!b || b->running || !b->known || !b->hmx ||
		    !strcmp(b->name, cfg->name) ||
		    (b->role != VM_ROLE_NDVM && b->role != VM_ROLE_SERVICE))
			continue;
		for (size_t j = 0; j < count; j++)
			listed |= !strcmp(out[j], b->name);
		if (!listed && count < max)
			out[count++] = b->name;
	}
	return count;
}

/* Appends " KEY=V0,V1,..." to the stream. */
static void param(FILE *f, bool *first, const char *key)
{
	fprintf(f, "%s%s=", *first ? "" : " ", key);
	*first = false;
}

char *vif_plan_cmdline(const struct vmcfg *cfg, const struct vif_inst *vifs,
		       char *err, size_t errlen)
{
	bool first = !cfg->cmdline[0], macs = false;
	char *line = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&line, &size);

	if (!f) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	fputs(cfg->cmdline, f);
	if (cfg->nvifs)
		param(f, &first, "hmxnet.front");
	for (size_t i = 0; i < cfg->nvifs; i++) {
		fprintf(f, "%s%u", i ? "," : "", vifs[i].backend_domid);
		macs |= cfg->vifs[i].has_mac;
	}
	if (macs)
		param(f, &first, "hmxnet.mac");
	for (size_t i = 0; macs && i < cfg->nvifs; i++) {
		char mac[VIF_MAC_TEXT] = "";

		if (cfg->vifs[i].has_mac)
			vif_mac_format(cfg->vifs[i].mac, mac);
		fprintf(f, "%s%s", i ? "," : "", mac);
	}
	if (cfg->role == VM_ROLE_NDVM && cfg->hmx) {
		param(f, &first, "hmxnet.serve");
		fprintf(f, "%u", VIF_PER_VM_MAX);
	}
	if (fclose(f)) {
		free(line);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (size > VMCFG_CMDLINE_MAX) {
		snprintf(
			err, errlen,
			"the kernel command line with the vifs' hmxnet parameters is %zu bytes; at most %u",
			size, VMCFG_CMDLINE_MAX);
		free(line);
		return NULL;
	}
	return line;
}

struct json_object *vif_insts_json(const struct vif_inst *vifs, size_t n)
{
	struct json_object *a = json_object_new_array();

	for (size_t i = 0; a && i < n; i++) {
		struct json_object *o = json_object_new_object();

		if (!o)
			break;
		json_object_object_add(o, "backend",
				       json_object_new_string(vifs[i].backend));
		json_object_object_add(
			o, "backend_domid",
			json_object_new_int(vifs[i].backend_domid));
		json_object_array_add(a, o);
	}
	return a;
}

int vif_insts_from_json(struct json_object *a, struct vif_inst *out)
{
	size_t n;

	if (!json_object_is_type(a, json_type_array))
		return -1;
	n = json_object_array_length(a);
	if (n > VIF_PER_VM_MAX)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct json_object *o = json_object_array_get_idx(a, i), *b, *d;
		const char *name;
		int64_t domid;

		if (!json_object_object_get_ex(o, "backend", &b) ||
		    !json_object_is_type(b, json_type_string) ||
		    !json_object_object_get_ex(o, "backend_domid", &d) ||
		    !json_object_is_type(d, json_type_int))
			return -1;
		name = json_object_get_string(b);
		domid = json_object_get_int64(d);
		if (vm_name_problem(name, strlen(name)) ||
		    domid < HMX_DOMID_FIRST_GUEST ||
		    domid > HMX_DOMID_LAST_GUEST)
			return -1;
		snprintf(out[i].backend, sizeof(out[i].backend), "%s", name);
		out[i].backend_domid = (uint16_t)domid;
	}
	return (int)n;
}
