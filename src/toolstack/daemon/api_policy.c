// SPDX-License-Identifier: GPL-2.0-only
/* policy.show and policy.check: the compiled set, the hypervisor's
 * counters and audit log, and which rule decides a flow. */
#include "toolstack/daemon/daemon.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "toolstack/jget.h"
#include "toolstack/policy.h"

#define STATS_PAGE 4096 /* the hypervisor's per-call limit */

void api_policy_show(struct bhd *d, struct api_client *c, int64_t id,
		     struct json_object *req);
void api_policy_check(struct bhd *d, struct api_client *c, int64_t id,
		      struct json_object *req);

/* The reply of a hypervisor operation, or {"error": why}. */
static struct json_object *hv_query(struct bhd *d, const char *op,
				    struct json_object *args)
{
	struct json_object *reply, *o;
	char err[512];

	if (hvconn_call(&d->hv, op, args, NULL, 0, &reply, err, sizeof(err)) <
	    0) {
		o = json_object_new_object();
		json_object_object_add(o, "error", json_object_new_string(err));
		return o;
	}
	json_object_object_del(reply, "id");
	json_object_object_del(reply, "ok");
	return reply;
}

/* hmx.firewall.stats, every page of counters in one "hits" array. */
static struct json_object *firewall_stats(struct bhd *d)
{
	struct json_object *first = NULL, *hits = json_object_new_array();
	int64_t at = 0;

	for (;;) {
		struct json_object *args = json_object_new_object(), *page;
		struct json_object *h;
		size_t n;

		json_object_object_add(args, "first",
				       json_object_new_int64(at));
		json_object_object_add(args, "max",
				       json_object_new_int(STATS_PAGE));
		page = hv_query(d, "hmx.firewall.stats", args);
		if (jget_str(page, "error") ||
		    !jget(page, "hits", json_type_array)) {
			json_object_put(first);
			json_object_put(hits);
			return page;
		}
		h = jget(page, "hits", json_type_array);
		n = json_object_array_length(h);
		for (size_t i = 0; i < n; i++)
			json_object_array_add(
				hits, json_object_get(
					      json_object_array_get_idx(h, i)));
		at += (int64_t)n;
		if (!first)
			first = page;
		else
			json_object_put(page);
		/* Counters of a set swapped in meanwhile would not match:
		 * the generation of the first page is the one reported. */
		if (n < STATS_PAGE || at >= jget_int(first, "nrules", 0))
			break;
	}
	json_object_object_del(first, "first");
	json_object_object_add(first, "hits", hits);
	return first;
}

void api_policy_show(struct bhd *d, struct api_client *c, int64_t id,
		     struct json_object *req)
{
	int64_t audit_max = jget_int(req, "audit_max", 20);
	struct json_object *o = json_object_new_object();

	if (audit_max < 0 || audit_max > 4096) {
		api_reply_err(d, c, id, BHD_ERR_USAGE,
			      "audit_max must be 0..4096");
		return;
	}
	json_object_object_add(
		o, "policy", d->policy ? policy_set_to_json(d->policy) : NULL);
	json_object_object_add(o, "enforced",
			       json_object_new_boolean(d->hv.has_hmx));
	if (d->policy_error[0])
		json_object_object_add(o, "error",
				       json_object_new_string(d->policy_error));
	if (d->hv.has_hmx) {
		json_object_object_add(o, "stats", firewall_stats(d));
		audit_drain(d);
		json_object_object_add(o, "audit",
				       audit_tail(d, (size_t)audit_max));
	}
	api_reply(d, c, id, o, NULL, 0);
}

void api_policy_check(struct bhd *d, struct api_client *c, int64_t id,
		      struct json_object *req)
{
	const char *src = jget_str(req, "src"), *dst = jget_str(req, "dst");
	const struct policy_entry *e;
	struct policy_flow flow;
	struct json_object *o;
	char err[512], *text;

	if (!src || !dst) {
		api_reply_err(d, c, id, BHD_ERR_USAGE,
			      "policy.check needs src and dst");
		return;
	}
	if (!d->policy) {
		api_reply_err(
			d, c, id, BHD_ERR_FAILED, "no policy compiled yet: %s",
			d->policy_error[0] ? d->policy_error : "no hypervisor");
		return;
	}
	if (policy_flow_parse(d->policy, src, dst, &flow, err, sizeof(err)) <
	    0) {
		api_reply_err(d, c, id,
			      strstr(err, "no running VM") ? BHD_ERR_NO_VM :
							     BHD_ERR_USAGE,
			      "%s", err);
		return;
	}
	if (policy_explain(d->policy, &flow, &text) < 0) {
		api_reply_err(d, c, id, BHD_ERR_FAILED, "out of memory");
		return;
	}
	e = policy_check(d->policy, &flow);
	o = json_object_new_object();
	json_object_object_add(
		o, "decision",
		json_object_new_string(
			e && e->action == POLICY_ACCEPT ? "accept" : "reject"));
	json_object_object_add(
		o, "entry",
		e ? json_object_new_int64(e - d->policy->entries) : NULL);
	json_object_object_add(o, "explanation", json_object_new_string(text));
	json_object_object_add(o, "enforced",
			       json_object_new_boolean(d->hv.has_hmx));
	free(text);
	api_reply(d, c, id, o, NULL, 0);
}
