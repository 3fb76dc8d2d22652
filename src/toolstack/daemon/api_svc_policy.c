// SPDX-License-Identifier: GPL-2.0-only
/*
 * policy.call: which service rule decides a call (docs/policy.md, "Service
 * rules"). The rules are the *.svcpolicy files of the config directory,
 * read afresh for each request; the VMs a decision knows are the running
 * ones, with the role and tags of their definitions.
 */
#include "toolstack/daemon/daemon.h"
#include "toolstack/daemon/vmrec.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "toolstack/jget.h"
#include "toolstack/svc_policy.h"
#include "toolstack/vmcfg.h"

void api_policy_call(struct bhd *d, struct api_client *c, int64_t id,
		     struct json_object *req);

/* The running VMs; tag pointers point into each VM's cfg. */
static int running_world(struct bhd *d, struct svc_vm **vms, size_t *n,
			 const char *(**tags)[VMCFG_TAGS_MAX])
{
	size_t count = 0, i = 0;

	for (struct vmrec *r = d->vms; r; r = r->next)
		count += r->active && r->cfg;
	*vms = calloc(count ? count : 1, sizeof(**vms));
	*tags = calloc(count ? count : 1, sizeof(**tags));
	if (!*vms || !*tags) {
		free(*vms);
		free(*tags);
		return -ENOMEM;
	}
	for (struct vmrec *r = d->vms; r; r = r->next) {
		if (!r->active || !r->cfg)
			continue;
		for (size_t t = 0; t < r->cfg->ntags; t++)
			(*tags)[i][t] = r->cfg->tags[t];
		(*vms)[i] = (struct svc_vm){
			.name = r->name,
			.role = r->cfg->role,
			.tags = (*tags)[i],
			.ntags = r->cfg->ntags,
		};
		i++;
	}
	*n = count;
	return 0;
}

static void reply_decision(struct bhd *d, struct api_client *c, int64_t id,
			   const struct svc_call *call,
			   const struct svc_decision *dec)
{
	struct json_object *o = json_object_new_object();
	char audit[1024], *text;

	if (svc_decision_explain(call, dec, &text)) {
		json_object_put(o);
		api_reply_err(d, c, id, BHD_ERR_FAILED, "out of memory");
		return;
	}
	svc_decision_format(call, dec, audit, sizeof(audit));
	json_object_object_add(
		o, "decision",
		json_object_new_string(svc_action_name(dec->action)));
	json_object_object_add(o, "target",
			       json_object_new_string(dec->target));
	json_object_object_add(o, "user", json_object_new_string(dec->user));
	json_object_object_add(
		o, "file",
		dec->rule ? json_object_new_string(dec->rule->file) : NULL);
	json_object_object_add(
		o, "line",
		dec->rule ? json_object_new_int64(dec->rule->line) : NULL);
	json_object_object_add(o, "explanation", json_object_new_string(text));
	json_object_object_add(o, "audit", json_object_new_string(audit));
	free(text);
	api_reply(d, c, id, o, NULL, 0);
}

void api_policy_call(struct bhd *d, struct api_client *c, int64_t id,
		     struct json_object *req)
{
	const char *src = jget_str(req, "source"),
		   *dst = jget_str(req, "target");
	const char *svc = jget_str(req, "service"), *arg = jget_str(req, "arg");
	const char *(*tags)[VMCFG_TAGS_MAX];
	struct svc_policy *pol;
	struct svc_decision dec;
	struct svc_error perr;
	struct svc_world world;
	struct svc_vm *vms;
	struct svc_call call;
	char err[256];
	int ret;

	if (!src || !dst || !svc) {
		api_reply_err(d, c, id, BHD_ERR_USAGE,
			      "policy.call needs source, target and service");
		return;
	}
	call = (struct svc_call){ svc, arg ? arg : "", src, dst };
	ret = svc_policy_load_dir(d->config_dir, &pol, &perr);
	if (ret) {
		if (ret == -EINVAL && perr.line)
			api_reply_err(d, c, id, BHD_ERR_FAILED, "%s:%u: %s",
				      perr.file, perr.line, perr.msg);
		else if (ret == -EINVAL || ret == -E2BIG)
			api_reply_err(d, c, id, BHD_ERR_FAILED, "%s: %s",
				      perr.file, perr.msg);
		else
			api_reply_err(d, c, id, BHD_ERR_FAILED,
				      "reading the service policy: %s",
				      strerror(-ret));
		return;
	}
	if (running_world(d, &vms, &world.nvms, &tags)) {
		svc_policy_free(pol);
		api_reply_err(d, c, id, BHD_ERR_FAILED, "out of memory");
		return;
	}
	world.vms = vms;
	if (svc_policy_decide(pol, &world, &call, &dec, err, sizeof(err)))
		api_reply_err(d, c, id,
			      strstr(err, "unknown source") ? BHD_ERR_NO_VM :
							      BHD_ERR_USAGE,
			      "%s", err);
	else
		reply_decision(d, c, id, &call, &dec);
	free(vms);
	free(tags);
	svc_policy_free(pol);
}
