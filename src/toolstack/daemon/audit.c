// SPDX-License-Identifier: GPL-2.0-only
/*
 * The hypervisor's audit log is a queue: hmx.audit.read removes what it
 * returns. bulkheadd drains it into a ring of its own, so every `policy
 * show` sees the recent tail, and labels each entry while the rule set
 * that decided it is still installed: it drains right before swapping in a
 * new set, and whenever a client asks.
 */
#include "toolstack/daemon/daemon.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "toolstack/jget.h"
#include "toolstack/policy.h"
#include "util/log.h"

#include <bulkhead/hmx.h>

#define AUDIT_KEEP 1024 /* entries kept in the daemon */
#define AUDIT_READ_MAX 256 /* the hypervisor's per-call limit */
#define AUDIT_MAX_CALLS 64 /* per drain: a flood cannot keep us here */
#define AUDIT_FOLD_WINDOW 32 /* newest entries a repeat may fold into */

static void label(struct bhd *d, struct json_object *e, const char *which)
{
	struct json_object *a = jget(e, which, json_type_object);
	char dom[64], buf[96], key[16];
	int64_t port = jget_int(a, "aport", -1);

	if (!a)
		return;
	if (d->policy)
		policy_domid_label(d->policy, (uint16_t)jget_int(a, "domid", 0),
				   dom, sizeof(dom));
	else
		snprintf(dom, sizeof(dom), "dom%" PRId64,
			 jget_int(a, "domid", 0));
	if (port == (int64_t)HMX_PORT_ANY)
		snprintf(buf, sizeof(buf), "%s:*", dom);
	else
		snprintf(buf, sizeof(buf), "%s:%" PRId64, dom, port);
	snprintf(key, sizeof(key), "%s_label", which);
	json_object_object_add(e, key, json_object_new_string(buf));
}

static bool same_addr(struct json_object *a, struct json_object *b,
		      const char *which)
{
	struct json_object *x = jget(a, which, json_type_object);
	struct json_object *y = jget(b, which, json_type_object);

	return jget_int(x, "domid", -1) == jget_int(y, "domid", -1) &&
	       jget_int(x, "aport", -1) == jget_int(y, "aport", -1);
}

/* The same hypervisor refusal as o, but for when (and its repeats). */
static bool same_refusal(struct json_object *o, struct json_object *e)
{
	const char *op = jget_str(e, "op"), *kind = jget_str(e, "kind");

	return op && kind && jget_str(o, "op") && jget_str(o, "kind") &&
	       !strcmp(op, jget_str(o, "op")) &&
	       !strcmp(kind, jget_str(o, "kind")) &&
	       jget_int(o, "rule", -1) == jget_int(e, "rule", -1) &&
	       jget_int(o, "generation", -1) == jget_int(e, "generation", -1) &&
	       same_addr(o, e, "src") && same_addr(o, e, "dst");
}

/*
 * Folds e into one of the newest kept entries that is the same refusal
 * (the hypervisor folds those it holds; this folds across its drains).
 */
static bool fold(struct bhd *d, struct json_object *e)
{
	for (size_t i = 0; i < d->audit_n && i < AUDIT_FOLD_WINDOW; i++) {
		struct json_object *o =
			d->audit[(d->audit_start + d->audit_n - 1 - i) %
				 AUDIT_KEEP];

		if (!same_refusal(o, e))
			continue;
		json_object_object_add(
			o, "repeats",
			json_object_new_int64(jget_int(o, "repeats", 0) + 1 +
					      jget_int(e, "repeats", 0)));
		json_object_object_add(
			o, "last_ns",
			json_object_new_int64(jget_int(
				e, "last_ns", jget_int(e, "time_ns", 0))));
		json_object_put(e);
		return true;
	}
	return false;
}

static void keep(struct bhd *d, struct json_object *e)
{
	size_t slot;

	if (!d->audit) {
		d->audit = calloc(AUDIT_KEEP, sizeof(*d->audit));
		if (!d->audit) {
			json_object_put(e);
			return;
		}
	}
	if (fold(d, e))
		return;
	slot = (d->audit_start + d->audit_n) % AUDIT_KEEP;
	if (d->audit_n == AUDIT_KEEP) {
		json_object_put(d->audit[d->audit_start]);
		d->audit_start = (d->audit_start + 1) % AUDIT_KEEP;
		d->audit_n--;
		d->audit_overwritten++;
	}
	d->audit[slot] = e;
	d->audit_n++;
}

void audit_toolstack(struct bhd *d, const char *kind, const char *vm,
		     const char *what, const char *why)
{
	struct json_object *e = json_object_new_object();
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	json_object_object_add(e, "kind", json_object_new_string(kind));
	json_object_object_add(
		e, "time_ns",
		json_object_new_int64((int64_t)ts.tv_sec * 1000000000 +
				      ts.tv_nsec));
	json_object_object_add(e, "source",
			       json_object_new_string("bulkheadd"));
	json_object_object_add(e, "src_label", json_object_new_string(vm));
	json_object_object_add(e, "dst_label", json_object_new_string(what));
	json_object_object_add(e, "rule_text", json_object_new_string(why));
	bh_warn("audit: %s: vm %s: %s", kind, vm, why);
	keep(d, e);
}

void audit_drain(struct bhd *d)
{
	if (!d->hv.has_hmx || d->hv.fd < 0)
		return;
	for (int call = 0; call < AUDIT_MAX_CALLS; call++) {
		struct json_object *args = json_object_new_object(), *reply;
		struct json_object *list;
		char err[256];
		size_t n;

		json_object_object_add(args, "max",
				       json_object_new_int(AUDIT_READ_MAX));
		if (hvconn_call(&d->hv, "hmx.audit.read", args, NULL, 0, &reply,
				err, sizeof(err)) < 0) {
			bh_warn("hmx.audit.read: %s", err);
			return;
		}
		d->audit_hv_dropped = (uint64_t)jget_int(reply, "dropped", 0);
		list = jget(reply, "entries", json_type_array);
		n = list ? json_object_array_length(list) : 0;
		for (size_t i = 0; i < n; i++) {
			struct json_object *e = json_object_get(
				json_object_array_get_idx(list, i));
			int64_t rule = jget_int(e, "rule", -1);

			if (rule >= 0 && d->policy &&
			    (size_t)rule < d->policy->nentries) {
				char text[256];

				policy_entry_format(d->policy,
						    &d->policy->entries[rule],
						    text, sizeof(text));
				json_object_object_add(
					e, "rule_text",
					json_object_new_string(text));
			}
			label(d, e, "src");
			label(d, e, "dst");
			keep(d, e);
		}
		json_object_put(reply);
		if (n < AUDIT_READ_MAX)
			return;
	}
}

struct json_object *audit_tail(struct bhd *d, size_t max)
{
	struct json_object *o = json_object_new_object();
	struct json_object *arr = json_object_new_array();
	size_t n = d->audit_n < max ? d->audit_n : max;

	for (size_t i = d->audit_n - n; i < d->audit_n; i++)
		json_object_array_add(
			arr,
			json_object_get(
				d->audit[(d->audit_start + i) % AUDIT_KEEP]));
	json_object_object_add(o, "entries", arr);
	json_object_object_add(o, "total_kept",
			       json_object_new_int64((int64_t)d->audit_n));
	json_object_object_add(
		o, "dropped",
		json_object_new_int64(
			(int64_t)(d->audit_hv_dropped + d->audit_overwritten)));
	return o;
}

void audit_free(struct bhd *d)
{
	for (size_t i = 0; i < d->audit_n; i++)
		json_object_put(d->audit[(d->audit_start + i) % AUDIT_KEEP]);
	free(d->audit);
	d->audit = NULL;
	d->audit_n = d->audit_start = 0;
}
