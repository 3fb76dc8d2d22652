// SPDX-License-Identifier: GPL-2.0-only
#include "policy_oracle.h"

#include <string.h>

#include <bulkhead/hmx_net.h>

static const struct policy_vm *running_hmx_vm(const struct policy_vm *vms,
					      size_t nvms, uint16_t domid)
{
	for (size_t i = 0; i < nvms; i++) {
		if (vms[i].hmx && vms[i].domid == domid)
			return &vms[i];
	}
	return NULL;
}

static bool endpoint_matches(const struct policy_vm *vms, size_t nvms,
			     const struct policy_vm *self,
			     const struct policy_endpoint *ep, uint16_t domid,
			     uint32_t port)
{
	const struct policy_vm *vm = running_hmx_vm(vms, nvms, domid);
	bool who;

	switch (ep->sel) {
	case POLICY_SEL_MYSELF:
		who = domid == self->domid;
		break;
	case POLICY_SEL_HOST:
		who = domid == HMX_DOMID_HOST;
		break;
	case POLICY_SEL_ANY:
		who = true;
		break;
	case POLICY_SEL_NAME:
		who = vm && !strcmp(vm->name, ep->name);
		break;
	case POLICY_SEL_TYPE:
		who = vm && vm->type == ep->type;
		break;
	default:
		who = false;
		break;
	}
	return who && (ep->port == HMX_PORT_ANY || ep->port == port);
}

static bool any_rule_matches(const struct policy_vm *vms, size_t nvms,
			     const struct policy_flow *flow,
			     enum policy_action action)
{
	for (size_t i = 0; i < nvms; i++) {
		if (!vms[i].hmx)
			continue;
		for (size_t r = 0; r < vms[i].nrules; r++) {
			const struct policy_rule *rule = &vms[i].rules[r].rule;

			if (rule->action == action &&
			    endpoint_matches(vms, nvms, &vms[i], &rule->src,
					     flow->src_domid, flow->src_port) &&
			    endpoint_matches(vms, nvms, &vms[i], &rule->dst,
					     flow->dst_domid, flow->dst_port))
				return true;
		}
	}
	return false;
}

/*
 * A vif i of a running HMX VM is the pair VM:HMX_NET_APORT(i) and its
 * backend's same port, both ways, while the backend runs under the name
 * and domid the vif was connected to.
 */
static bool vif_matches(const struct policy_vm *vms, size_t nvms,
			const struct policy_flow *flow)
{
	for (size_t i = 0; i < nvms; i++) {
		for (size_t n = 0; vms[i].hmx && n < vms[i].nvifs; n++) {
			const struct policy_vif *v = &vms[i].vifs[n];
			const struct policy_vm *b =
				running_hmx_vm(vms, nvms, v->backend_domid);
			uint32_t port = HMX_NET_APORT(n);

			if (!b || strcmp(b->name, v->backend) ||
			    flow->src_port != port || flow->dst_port != port)
				continue;
			if ((flow->src_domid == vms[i].domid &&
			     flow->dst_domid == b->domid) ||
			    (flow->src_domid == b->domid &&
			     flow->dst_domid == vms[i].domid))
				return true;
		}
	}
	return false;
}

enum policy_action policy_oracle_decide(const struct policy_vm *vms,
					size_t nvms,
					const struct policy_flow *flow)
{
	if (any_rule_matches(vms, nvms, flow, POLICY_REJECT))
		return POLICY_REJECT;
	if (any_rule_matches(vms, nvms, flow, POLICY_ACCEPT) ||
	    vif_matches(vms, nvms, flow))
		return POLICY_ACCEPT;
	return POLICY_REJECT;
}
