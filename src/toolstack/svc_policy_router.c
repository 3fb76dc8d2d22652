// SPDX-License-Identifier: GPL-2.0-only
/* Which running VMs need a flow to the service-call router, and why. */
#include "toolstack/svc_policy.h"

#include <string.h>

static bool handles(const struct svc_rule *r, const struct svc_vm *vm)
{
	if (r->redirect[0])
		return !strcmp(r->redirect, vm->name) ||
		       (!strncmp(r->redirect, "@dispvm:", 8) &&
			vm->disposable && vm->template_name &&
			!strcmp(vm->template_name, r->redirect + 8));
	return svc_selector_matches_vm(&r->target, vm);
}

void svc_policy_router_needs(const struct svc_policy *pol,
			     const struct svc_world *world,
			     struct svc_router_need *need)
{
	for (size_t v = 0; v < world->nvms; v++) {
		const struct svc_vm *vm = &world->vms[v];

		need[v] = (struct svc_router_need){ 0 };
		for (size_t i = 0; i < pol->nrules; i++) {
			const struct svc_rule *r = &pol->rules[i];
			unsigned int add = 0;

			if (r->action == SVC_DENY)
				continue;
			if (svc_selector_matches_vm(&r->source, vm))
				add |= SVC_ROUTER_CALLER;
			if (handles(r, vm))
				add |= SVC_ROUTER_HANDLER;
			if (add && !need[v].why)
				need[v].why = r;
			need[v].roles |= add;
		}
	}
}
