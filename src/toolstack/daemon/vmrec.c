// SPDX-License-Identifier: GPL-2.0-only
#include "toolstack/daemon/vmrec.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "toolstack/daemon/disks.h"
#include "toolstack/daemon/nics.h"
#include "toolstack/vmcfg.h"

#include <bulkhead/hmx.h>

struct vmrec *vmrec_new(const char *name)
{
	struct vmrec *r = calloc(1, sizeof(*r));

	if (r)
		snprintf(r->name, sizeof(r->name), "%s", name);
	return r;
}

void vmrec_snapshot_free(struct vmrec_snapshot *s)
{
	free(s->text);
	free(s->source);
	free(s->base_dir);
	memset(s, 0, sizeof(*s));
}

void vmrec_clear_instance(struct vmrec *r)
{
	vmrec_snapshot_free(&r->snap);
	vmcfg_free(r->cfg);
	r->cfg = NULL;
	disks_free(r);
	memset(r->vifs, 0, sizeof(r->vifs));
	r->nvifs = 0;
	nics_free(r);
	r->active = false;
	r->started = false;
	r->domid = 0;
	r->seq = 0;
	r->shutdown_requested = false;
	r->restart_pending = false;
}

void vmrec_free(struct vmrec *r)
{
	if (!r)
		return;
	vmrec_clear_instance(r);
	free(r->def_path);
	free(r);
}

void vmrec_set_stop(struct vmrec *r, const char *reason, const char *detail)
{
	snprintf(r->stop_reason, sizeof(r->stop_reason), "%s", reason);
	snprintf(r->stop_detail, sizeof(r->stop_detail), "%s",
		 detail ? detail : "");
}

static void add_str(struct json_object *o, const char *k, const char *v)
{
	if (v)
		json_object_object_add(o, k, json_object_new_string(v));
}

struct json_object *vmrec_to_json(const struct vmrec *r)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	add_str(o, "name", r->name);
	add_str(o, "def_path", r->def_path);
	json_object_object_add(o, "registered",
			       json_object_new_boolean(r->registered));
	json_object_object_add(o, "active", json_object_new_boolean(r->active));
	if (r->active) {
		struct json_object *s = json_object_new_object();

		json_object_object_add(o, "domid",
				       json_object_new_int(r->domid));
		json_object_object_add(o, "seq", json_object_new_int64(r->seq));
		json_object_object_add(o, "started",
				       json_object_new_boolean(r->started));
		json_object_object_add(
			o, "shutdown_requested",
			json_object_new_boolean(r->shutdown_requested));
		json_object_object_add(
			o, "restart_pending",
			json_object_new_boolean(r->restart_pending));
		add_str(s, "text", r->snap.text);
		add_str(s, "source", r->snap.source);
		add_str(s, "base_dir", r->snap.base_dir);
		json_object_object_add(o, "snapshot", s);
		if (r->ndisks)
			json_object_object_add(o, "disks", disks_state_json(r));
		if (r->nvifs)
			json_object_object_add(
				o, "vifs", vif_insts_json(r->vifs, r->nvifs));
		if (r->nnics)
			json_object_object_add(o, "nics", nics_state_json(r));
	}
	if (r->last_domid)
		json_object_object_add(o, "last_domid",
				       json_object_new_int(r->last_domid));
	add_str(o, "stop_reason", r->stop_reason);
	add_str(o, "stop_detail", r->stop_detail);
	json_object_object_add(
		o, "guest_reboots",
		json_object_new_int64((int64_t)r->guest_reboots));
	json_object_object_add(
		o, "crash_restarts",
		json_object_new_int64((int64_t)r->crash_restarts));
	return o;
}

/* Reads o[k] of type t into *v; absent is fine unless required. */
static bool get(struct json_object *o, const char *k, json_type t,
		bool required, struct json_object **v)
{
	if (!json_object_object_get_ex(o, k, v) || !*v)
		return !required;
	return json_object_is_type(*v, t);
}

static bool get_str(struct json_object *o, const char *k, bool required,
		    const char **s)
{
	struct json_object *v = NULL;

	*s = NULL;
	if (!get(o, k, json_type_string, required, &v))
		return false;
	if (v)
		*s = json_object_get_string(v);
	return true;
}

static bool get_bool(struct json_object *o, const char *k, bool *b)
{
	struct json_object *v = NULL;

	if (!get(o, k, json_type_boolean, false, &v))
		return false;
	*b = v && json_object_get_boolean(v);
	return true;
}

static bool get_u64(struct json_object *o, const char *k, uint64_t max,
		    uint64_t *out)
{
	struct json_object *v = NULL;
	int64_t x;

	*out = 0;
	if (!get(o, k, json_type_int, false, &v))
		return false;
	if (!v)
		return true;
	x = json_object_get_int64(v);
	if (x < 0 || (uint64_t)x > max)
		return false;
	*out = (uint64_t)x;
	return true;
}

static bool dup_str(char **dst, const char *s)
{
	if (!s)
		return true;
	*dst = strdup(s);
	return *dst != NULL;
}

struct vmrec *vmrec_from_json(struct json_object *o, char *err, size_t errlen)
{
	const char *name, *def_path, *reason, *detail;
	const char *text = NULL, *source = NULL, *base_dir = NULL;
	struct json_object *snap = NULL, *disks = NULL, *vifs = NULL;
	struct json_object *nics = NULL;
	uint64_t domid, seq, last_domid;
	int nvifs = 0;
	struct vmrec *r;

	if (!json_object_is_type(o, json_type_object) ||
	    !get_str(o, "name", true, &name) ||
	    vm_name_problem(name, strlen(name))) {
		snprintf(err, errlen, "a record without a valid VM name");
		return NULL;
	}
	r = vmrec_new(name);
	if (!r) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (!get_str(o, "def_path", true, &def_path) || def_path[0] != '/' ||
	    !get_bool(o, "registered", &r->registered) ||
	    !get_bool(o, "active", &r->active) ||
	    !get_str(o, "stop_reason", false, &reason) ||
	    !get_str(o, "stop_detail", false, &detail) ||
	    !get_u64(o, "guest_reboots", UINT64_MAX >> 1, &r->guest_reboots) ||
	    !get_u64(o, "crash_restarts", UINT64_MAX >> 1,
		     &r->crash_restarts) ||
	    !get_u64(o, "last_domid", HMX_DOMID_LAST_GUEST, &last_domid))
		goto bad;
	r->last_domid = (uint16_t)last_domid;
	if (!dup_str(&r->def_path, def_path))
		goto nomem;
	vmrec_set_stop(r, reason ? reason : "", detail);
	if (r->active) {
		if (!get_u64(o, "domid", HMX_DOMID_LAST_GUEST, &domid) ||
		    !get_u64(o, "seq", UINT64_MAX >> 1, &seq) ||
		    !get_bool(o, "started", &r->started) ||
		    !get_bool(o, "shutdown_requested",
			      &r->shutdown_requested) ||
		    !get_bool(o, "restart_pending", &r->restart_pending) ||
		    !get(o, "snapshot", json_type_object, true, &snap) ||
		    !get_str(snap, "text", true, &text) ||
		    !get_str(snap, "source", true, &source) ||
		    !get_str(snap, "base_dir", true, &base_dir) ||
		    base_dir[0] != '/' ||
		    !get(o, "disks", json_type_array, false, &disks) ||
		    disks_from_state(r, disks) < 0 ||
		    !get(o, "vifs", json_type_array, false, &vifs) ||
		    (vifs &&
		     (nvifs = vif_insts_from_json(vifs, r->vifs)) < 0) ||
		    !get(o, "nics", json_type_array, false, &nics) ||
		    nics_from_state(r, nics) < 0)
			goto bad;
		r->nvifs = (size_t)nvifs;
		r->domid = (uint16_t)domid;
		r->seq = seq;
		if (!dup_str(&r->snap.text, text) ||
		    !dup_str(&r->snap.source, source) ||
		    !dup_str(&r->snap.base_dir, base_dir))
			goto nomem;
	}
	return r;
bad:
	snprintf(err, errlen, "record of VM \"%s\" is malformed", name);
	vmrec_free(r);
	return NULL;
nomem:
	snprintf(err, errlen, "out of memory");
	vmrec_free(r);
	return NULL;
}

bool vmrec_crash_restart_allowed(struct vmrec *r, uint64_t now_ns)
{
	size_t i = 0;

	/* Forget restarts older than the window. */
	while (i < r->ncrash_times &&
	       now_ns - r->crash_times[i] >= VMREC_CRASH_WINDOW_NS)
		i++;
	memmove(r->crash_times, r->crash_times + i,
		(r->ncrash_times - i) * sizeof(*r->crash_times));
	r->ncrash_times -= i;
	if (r->ncrash_times == VMREC_CRASH_BURST)
		return false;
	r->crash_times[r->ncrash_times++] = now_ns;
	return true;
}
