/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What starting a VM with vifs decides (docs/toolstack.md, "Vifs"): the
 * backend each vif gets, and the command line that tells the guest's
 * hmxnet about them. Pure: the daemon (vifs.c) describes the defined VMs
 * and gets a decision or the sentence that refuses the start.
 */
#ifndef BH_DAEMON_VIF_PLAN_H
#define BH_DAEMON_VIF_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "toolstack/vif_spec.h"
#include "toolstack/vm.h"

struct vmcfg;
struct json_object;

/* A vif of a running instance: where its start connected it. */
struct vif_inst {
	char backend[VM_NAME_MAX + 1];
	uint16_t backend_domid; /* what the guest's hmxnet.front= says */
};

/* A defined VM as the backend choice sees it. */
struct vif_candidate {
	const char *name;
	bool known; /* its definition parses, so role and hmx are known */
	enum vm_role role; /* of the running instance, else the definition */
	bool hmx;
	bool running; /* an instance that has started */
	uint16_t domid; /* when running */
};

/*
 * Picks the backend of every vif of cfg (the VM self), among the defined
 * VMs vms[0..n), into out[0..cfg->nvifs). A vif without backend= gets
 * the only VM defined with role ndvm. Every backend must be defined,
 * known, of role ndvm or service, with hmx on, running, and not self.
 * Returns 0, or -1 with err saying which vif and backend and why.
 */
int vif_plan_backends(const struct vmcfg *cfg, const struct vif_candidate *vms,
		      size_t n, struct vif_inst *out, char *err, size_t errlen);

/*
 * The backends cfg's vifs name (or default to) that could serve them but
 * are not running: defined, role ndvm or service, hmx on, not cfg's VM.
 * Each is listed once, in vif order, into out[0..max); returns how many.
 * Anything else wrong is left for vif_plan_backends() to say.
 */
size_t vif_plan_stopped_backends(const struct vmcfg *cfg,
				 const struct vif_candidate *vms, size_t n,
				 const char **out, size_t max);

/*
 * The command line an instance boots with: cfg->cmdline, then
 * "hmxnet.front=D0,D1,..." (the backends' domids) when it has vifs,
 * "hmxnet.mac=M0,M1,..." when any vif has mac= (empty for the others),
 * and "hmxnet.serve=VIF_PER_VM_MAX" for a VM with role ndvm and hmx on.
 * Returns a malloc'd string, or NULL with err set (too long for
 * VMCFG_CMDLINE_MAX, or out of memory).
 */
char *vif_plan_cmdline(const struct vmcfg *cfg, const struct vif_inst *vifs,
		       char *err, size_t errlen);

/* The instance's vifs for the state file: [{"backend", "backend_domid"}]. */
struct json_object *vif_insts_json(const struct vif_inst *vifs, size_t n);

/*
 * Reads what vif_insts_json wrote into out (at most VIF_PER_VM_MAX).
 * Returns the count, or -1 if malformed.
 */
int vif_insts_from_json(struct json_object *a, struct vif_inst *out);

#endif
