// SPDX-License-Identifier: GPL-2.0-only
/*
 * Finding VMs again when bulkheadd starts next to a hypervisor that is
 * already running: vm.list against state.json (reconcile.c decides).
 */
#include "toolstack/daemon/daemon.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "toolstack/daemon/reconcile.h"
#include "toolstack/jget.h"
#include "toolstack/vmcfg.h"
#include "util/log.h"

static enum rc_hv_state hv_state(const char *s)
{
	if (!strcmp(s, "created"))
		return RC_HV_CREATED;
	if (!strcmp(s, "running"))
		return RC_HV_RUNNING;
	if (!strcmp(s, "paused"))
		return RC_HV_PAUSED;
	return RC_HV_STOPPED;
}

static void hv_destroy(struct bhd *d, const char *name)
{
	struct json_object *args = json_object_new_object();
	char err[256];

	json_object_object_add(args, "name", json_object_new_string(name));
	if (hvconn_call(&d->hv, "vm.destroy", args, NULL, 0, NULL, err,
			sizeof(err)) < 0)
		bh_warn("vm %s: vm.destroy: %s", name, err);
}

/* A domain the state file does not know, of a VM we have a file for. */
static int adopt_unrecorded(struct bhd *d, struct vmrec *r, uint16_t domid,
			    char *err, size_t errlen)
{
	if (store_read_def(r->def_path, &r->snap.text, &r->snap.base_dir,
			   &r->cfg, err, errlen))
		return -1;
	r->snap.source = strdup(r->def_path);
	r->active = true;
	r->started = true;
	r->domid = domid;
	r->seq = d->next_seq++;
	return r->snap.source ? 0 : -1;
}

int bhd_reconcile(struct bhd *d, char *err, size_t errlen)
{
	struct json_object *reply, *list;
	struct vmrec **recs = NULL;
	struct rc_known *known = NULL;
	struct rc_hv_vm *hv = NULL;
	struct rc_step *steps = NULL;
	size_t nknown = 0, nhv, nsteps, nrec = 0;
	int ret = -ENOMEM;

	if (hvconn_call(&d->hv, "vm.list", NULL, NULL, 0, &reply, err, errlen) <
	    0)
		return -EIO;
	list = jget(reply, "vms", json_type_array);
	nhv = list ? json_object_array_length(list) : 0;
	for (struct vmrec *r = d->vms; r; r = r->next)
		nrec++;
	recs = calloc(nrec + 1, sizeof(*recs));
	known = calloc(nrec + 1, sizeof(*known));
	hv = calloc(nhv + 1, sizeof(*hv));
	steps = calloc(nrec + nhv + 1, sizeof(*steps));
	if (!recs || !known || !hv || !steps)
		goto out;
	for (struct vmrec *r = d->vms; r; r = r->next) {
		if (!r->active)
			continue;
		recs[nknown] = r;
		known[nknown++] =
			(struct rc_known){ r->name, r->domid, r->started };
	}
	for (size_t i = 0; i < nhv; i++) {
		struct json_object *v = json_object_array_get_idx(list, i);

		hv[i].name = jget_str(v, "name") ?: "";
		hv[i].domid = (uint16_t)jget_int(v, "domid", 0);
		hv[i].state = hv_state(jget_str(v, "state") ?: "stopped");
	}
	nsteps = reconcile_plan(known, nknown, hv, nhv, steps);

	/* First everything that changes no vCPU, then policy, then starts,
	 * then stops (which push policy again). */
	for (size_t i = 0; i < nsteps; i++) {
		struct rc_step *s = &steps[i];
		struct vmrec *r = s->known >= 0 ? recs[s->known] : NULL;
		const struct rc_hv_vm *h = s->hv >= 0 ? &hv[s->hv] : NULL;
		char e2[512];

		bh_info("recovery: %s: %s", r ? r->name : h->name,
			rc_action_name(s->action));
		switch (s->action) {
		case RC_ADOPT:
		case RC_FINISH_START:
		case RC_HANDLE_STOP:
			r->domid = h->domid;
			if (s->action == RC_ADOPT)
				r->started = true;
			if (vm_parse_snapshot(r, e2, sizeof(e2))) {
				bh_err("vm %s: its definition snapshot no longer parses (%s); destroying it",
				       r->name, e2);
				hv_destroy(d, r->name);
				bhd_forget_instance(d, r);
				vmrec_set_stop(
					r, "failed",
					"definition snapshot unreadable");
				s->action = RC_LOST; /* nothing more to do */
			}
			break;
		case RC_LOST:
			bhd_forget_instance(d, r);
			vmrec_set_stop(r, "lost",
				       "the hypervisor no longer had it");
			break;
		case RC_ADOPT_UNRECORDED:
			r = bhd_find(d, h->name);
			if (r && !r->active &&
			    adopt_unrecorded(d, r, h->domid, e2, sizeof(e2)) ==
				    0) {
				bh_warn("vm %s: running but not recorded; adopted with its current definition",
					h->name);
				break;
			}
			if (r)
				bhd_forget_instance(d, r);
			bh_warn("vm %s: running, not recorded and not defined; destroying it",
				h->name);
			hv_destroy(d, h->name);
			break;
		case RC_DESTROY:
			hv_destroy(d, h->name);
			break;
		}
	}
	store_save(d);
	if (policy_push(d, err, errlen) < 0)
		bh_err("recovery: policy: %s", err);
	for (size_t i = 0; i < nsteps; i++) {
		char e2[512];

		if (steps[i].action == RC_FINISH_START &&
		    vm_finish_start(d, recs[steps[i].known], e2, sizeof(e2)))
			bh_err("recovery: %s", e2);
	}
	for (size_t i = 0; i < nsteps; i++) {
		struct json_object *v;

		if (steps[i].action != RC_HANDLE_STOP)
			continue;
		v = json_object_array_get_idx(list, (size_t)steps[i].hv);
		vm_handle_stop(d, recs[steps[i].known],
			       jget_str(v, "stop_reason") ?: "stopped",
			       jget_str(v, "stop_detail") ?: "");
	}
	ret = 0;
out:
	json_object_put(reply);
	free(recs);
	free(known);
	free(hv);
	free(steps);
	return ret;
}
