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

void api_policy_show(struct bhd *d, struct api_client *c, int64_t id,
		     struct json_object *req)
{
	int64_t audit_max = jget_int(req, "audit_max", 20);
	struct json_object *o = json_object_new_object(), *args;

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
		json_object_object_add(o, "stats",
				       hv_query(d, "hmx.firewall.stats", NULL));
		if (audit_max) {
			args = json_object_new_object();
			json_object_object_add(
				args, "max", json_object_new_int64(audit_max));
			json_object_object_add(o, "audit",
					       hv_query(d, "hmx.audit.read",
							args));
		}
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
