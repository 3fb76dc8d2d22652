// SPDX-License-Identifier: GPL-2.0-only
/* Named rules of the running VMs to the firewall's domid-level list. */
#include "toolstack/policy.h"

#include "toolstack/vmcfg.h"

#include <bulkhead/hmx_net.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct compiler {
	const struct policy_vm *vms;
	size_t nvms;
	struct policy_set *set;
	size_t entries_cap;
	uint16_t *src; /* scratch: domids a selector resolves to */
	uint16_t *dst;
	char *err;
	size_t errlen;
};

static int fail(struct compiler *c, int ret, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct compiler *c, int ret, const char *fmt, ...)
{
	va_list ap;

	if (c->errlen) {
		va_start(ap, fmt);
		vsnprintf(c->err, c->errlen, fmt, ap);
		va_end(ap);
	}
	return ret;
}

static bool endpoint_valid(const struct policy_endpoint *ep)
{
	switch (ep->sel) {
	case POLICY_SEL_MYSELF:
	case POLICY_SEL_HOST:
	case POLICY_SEL_ANY:
		return true;
	case POLICY_SEL_NAME:
		return memchr(ep->name, '\0', sizeof(ep->name)) &&
		       !vm_name_problem(ep->name, strlen(ep->name));
	case POLICY_SEL_TYPE:
		return (unsigned int)ep->type < VM_ROLE_COUNT;
	}
	return false;
}

static bool rule_valid(const struct policy_rule *rule)
{
	return (rule->action == POLICY_ACCEPT ||
		rule->action == POLICY_REJECT) &&
	       endpoint_valid(&rule->src) && endpoint_valid(&rule->dst);
}

static int check_vms(struct compiler *c)
{
	for (size_t i = 0; i < c->nvms; i++) {
		const struct policy_vm *vm = &c->vms[i];

		if (!vm->name || vm_name_problem(vm->name, strlen(vm->name)))
			return fail(c, -EINVAL, "running VM %zu: invalid name",
				    i);
		if (vm->domid < HMX_DOMID_FIRST_GUEST ||
		    vm->domid > HMX_DOMID_LAST_GUEST)
			return fail(c, -EINVAL,
				    "VM %s: domid %u is not a guest domid",
				    vm->name, vm->domid);
		if ((unsigned int)vm->type >= VM_ROLE_COUNT)
			return fail(c, -EINVAL, "VM %s: invalid type",
				    vm->name);
		if (!vm->hmx && vm->nrules)
			return fail(c, -EINVAL,
				    "VM %s: has HMX rules but no HMX device",
				    vm->name);
		if (vm->nrules && !vm->rules)
			return fail(c, -EINVAL, "VM %s: rules missing",
				    vm->name);
		if (vm->nvifs > VIF_PER_VM_MAX || (vm->nvifs && !vm->vifs))
			return fail(c, -EINVAL, "VM %s: vifs malformed",
				    vm->name);
		if (!vm->hmx && vm->nvifs)
			return fail(c, -EINVAL,
				    "VM %s: has vifs but no HMX device",
				    vm->name);
		for (size_t v = 0; v < vm->nvifs; v++) {
			const char *b = vm->vifs[v].backend;

			if (!b || vm_name_problem(b, strlen(b)))
				return fail(
					c, -EINVAL,
					"VM %s: vif %zu has no valid backend",
					vm->name, v);
		}
		for (size_t r = 0; r < vm->nrules; r++) {
			if (!rule_valid(&vm->rules[r].rule))
				return fail(c, -EINVAL,
					    "VM %s: rule %zu is malformed",
					    vm->name, r);
		}
		for (size_t j = 0; j < i; j++) {
			if (c->vms[j].domid == vm->domid)
				return fail(c, -EINVAL,
					    "VMs %s and %s both have domid %u",
					    c->vms[j].name, vm->name,
					    vm->domid);
			if (!strcmp(c->vms[j].name, vm->name))
				return fail(c, -EINVAL,
					    "two running VMs are named %s",
					    vm->name);
		}
	}
	return 0;
}

/*
 * The domids a selector stands for, from the point of view of self. A
 * name or type that no running HMX VM has resolves to nothing, so the rule
 * compiles to no entry rather than to a wildcard.
 */
static size_t resolve(const struct compiler *c, const struct policy_vm *self,
		      const struct policy_endpoint *ep, uint16_t *out)
{
	size_t n = 0;

	switch (ep->sel) {
	case POLICY_SEL_MYSELF:
		out[n++] = self->domid;
		break;
	case POLICY_SEL_HOST:
		out[n++] = HMX_DOMID_HOST;
		break;
	case POLICY_SEL_ANY:
		out[n++] = HMX_DOMID_ANY;
		break;
	case POLICY_SEL_NAME:
		for (size_t i = 0; i < c->nvms; i++) {
			if (c->vms[i].hmx && !strcmp(c->vms[i].name, ep->name))
				out[n++] = c->vms[i].domid;
		}
		break;
	case POLICY_SEL_TYPE:
		for (size_t i = 0; i < c->nvms; i++) {
			if (c->vms[i].hmx && c->vms[i].type == ep->type)
				out[n++] = c->vms[i].domid;
		}
		break;
	}
	return n;
}

static int add_origin(struct compiler *c, const struct policy_vm *vm,
		      size_t index)
{
	const struct policy_written_rule *wr = &vm->rules[index];
	struct policy_origin *o = &c->set->origins[c->set->norigins];

	o->kind = POLICY_ORIGIN_RULE;
	o->vm_name = strdup(vm->name);
	o->vm_domid = vm->domid;
	o->source = strdup(vm->source ? vm->source : "");
	o->line = wr->line;
	o->column = wr->column;
	o->rule_index = index;
	o->text = strdup(wr->text ? wr->text : "");
	o->action = wr->rule.action;
	c->set->norigins++;
	if (!o->vm_name || !o->source || !o->text)
		return fail(c, -ENOMEM, "out of memory");
	return 0;
}

static int add_entries(struct compiler *c, const struct policy_rule *rule,
		       size_t nsrc, size_t ndst)
{
	struct policy_set *set = c->set;
	size_t need = nsrc * ndst; /* both at most nvms + 1: no overflow */

	if (need > POLICY_ENTRIES_MAX - set->nentries)
		return fail(
			c, -E2BIG,
			"the policy compiles to more than %u firewall entries",
			POLICY_ENTRIES_MAX);
	if (set->nentries + need > c->entries_cap) {
		size_t cap = c->entries_cap ? c->entries_cap : 64;
		struct policy_entry *e;

		while (cap < set->nentries + need)
			cap *= 2;
		e = realloc(set->entries, cap * sizeof(*e));
		if (!e)
			return fail(c, -ENOMEM, "out of memory");
		set->entries = e;
		c->entries_cap = cap;
	}
	for (size_t i = 0; i < nsrc; i++) {
		for (size_t j = 0; j < ndst; j++) {
			struct policy_entry *e = &set->entries[set->nentries++];

			e->src_domid = c->src[i];
			e->src_port = rule->src.port;
			e->dst_domid = c->dst[j];
			e->dst_port = rule->dst.port;
			e->action = rule->action;
			e->origin = set->norigins - 1;
		}
	}
	set->origins[set->norigins - 1].nentries = need;
	return 0;
}

/* The running HMX VM a vif reaches: its backend, at the domid it was given. */
static const struct policy_vm *vif_backend(const struct compiler *c,
					   const struct policy_vif *vif)
{
	for (size_t i = 0; i < c->nvms; i++) {
		const struct policy_vm *vm = &c->vms[i];

		if (vm->hmx && vm->domid == vif->backend_domid &&
		    !strcmp(vm->name, vif->backend))
			return vm;
	}
	return NULL;
}

/* vif n of vm: its own port pair with its backend, both ways. */
static int compile_vif(struct compiler *c, const struct policy_vm *vm, size_t n)
{
	const struct policy_vif *vif = &vm->vifs[n];
	const struct policy_vm *back = vif_backend(c, vif);
	struct policy_origin *o = &c->set->origins[c->set->norigins];
	uint32_t port = HMX_NET_APORT(n);
	/* add_entries() takes only the action and the ports of a rule. */
	const struct policy_rule pair = { .action = POLICY_ACCEPT,
					  .src.port = port,
					  .dst.port = port };
	int ret;

	o->kind = POLICY_ORIGIN_VIF;
	o->vm_name = strdup(vm->name);
	o->vm_domid = vm->domid;
	o->source = strdup(vm->source ? vm->source : "");
	o->line = vif->line;
	o->column = vif->column;
	o->rule_index = n;
	o->action = POLICY_ACCEPT;
	if (asprintf(
		    &o->text,
		    "vif %zu to backend %s: hmxnet port %u (HMX_NET_APORT(%zu)) both ways",
		    n, vif->backend, port, n) < 0)
		o->text = NULL;
	c->set->norigins++;
	if (!o->vm_name || !o->source || !o->text)
		return fail(c, -ENOMEM, "out of memory");
	if (!back)
		return 0; /* its backend is down or was replaced: no entry */
	c->src[0] = vm->domid;
	c->dst[0] = back->domid;
	ret = add_entries(c, &pair, 1, 1);
	if (ret)
		return ret;
	c->src[0] = back->domid;
	c->dst[0] = vm->domid;
	ret = add_entries(c, &pair, 1, 1);
	o->nentries = 2;
	return ret;
}

/* Emits every rule with the given action, in running-set then file order. */
static int compile_pass(struct compiler *c, enum policy_action action)
{
	for (size_t i = 0; i < c->nvms; i++) {
		const struct policy_vm *vm = &c->vms[i];

		if (!vm->hmx)
			continue;
		for (size_t r = 0; r < vm->nrules; r++) {
			const struct policy_rule *rule = &vm->rules[r].rule;
			size_t nsrc, ndst;
			int ret;

			if (rule->action != action)
				continue;
			ret = add_origin(c, vm, r);
			if (ret)
				return ret;
			nsrc = resolve(c, vm, &rule->src, c->src);
			ndst = resolve(c, vm, &rule->dst, c->dst);
			ret = add_entries(c, rule, nsrc, ndst);
			if (ret)
				return ret;
		}
		for (size_t n = 0; action == POLICY_ACCEPT && n < vm->nvifs;
		     n++) {
			int ret = compile_vif(c, vm, n);

			if (ret)
				return ret;
		}
	}
	return 0;
}

static int record_domains(struct compiler *c)
{
	struct policy_set *set = c->set;

	set->domains = calloc(c->nvms ? c->nvms : 1, sizeof(*set->domains));
	if (!set->domains)
		return fail(c, -ENOMEM, "out of memory");
	for (size_t i = 0; i < c->nvms; i++) {
		struct policy_domain *d = &set->domains[i];

		d->domid = c->vms[i].domid;
		snprintf(d->name, sizeof(d->name), "%s", c->vms[i].name);
		d->type = c->vms[i].type;
		d->hmx = c->vms[i].hmx;
	}
	set->ndomains = c->nvms;
	return 0;
}

int policy_compile(const struct policy_vm *vms, size_t nvms,
		   struct policy_set **out, char *err, size_t errlen)
{
	struct compiler c = {
		.vms = vms, .nvms = nvms, .err = err, .errlen = errlen
	};
	size_t nrules = 0;
	int ret;

	*out = NULL;
	if (errlen)
		err[0] = '\0';
	if (nvms > HMX_DOMID_LAST_GUEST)
		return fail(&c, -EINVAL, "too many running VMs");
	ret = check_vms(&c);
	if (ret)
		return ret;
	for (size_t i = 0; i < nvms; i++)
		nrules += vms[i].nrules + vms[i].nvifs;
	c.set = calloc(1, sizeof(*c.set));
	c.src = calloc(nvms + 1, sizeof(*c.src));
	c.dst = calloc(nvms + 1, sizeof(*c.dst));
	if (c.set)
		c.set->origins =
			calloc(nrules ? nrules : 1, sizeof(*c.set->origins));
	if (!c.set || !c.src || !c.dst || !c.set->origins) {
		ret = fail(&c, -ENOMEM, "out of memory");
		goto out;
	}
	ret = record_domains(&c);
	/* Rejects first: an explicit reject in any file cannot be overridden. */
	if (!ret)
		ret = compile_pass(&c, POLICY_REJECT);
	if (!ret)
		ret = compile_pass(&c, POLICY_ACCEPT);
out:
	free(c.src);
	free(c.dst);
	if (ret) {
		policy_set_free(c.set);
		return ret;
	}
	*out = c.set;
	return 0;
}

void policy_set_free(struct policy_set *set)
{
	if (!set)
		return;
	for (size_t i = 0; i < set->norigins; i++) {
		free(set->origins[i].vm_name);
		free(set->origins[i].source);
		free(set->origins[i].text);
	}
	free(set->origins);
	free(set->entries);
	free(set->domains);
	free(set);
}

void policy_vm_from_vmcfg(struct policy_vm *vm, const struct vmcfg *cfg,
			  uint16_t domid)
{
	vm->name = cfg->name;
	vm->domid = domid;
	vm->type = cfg->role;
	vm->hmx = cfg->hmx;
	vm->source = cfg->source;
	vm->rules = cfg->rules;
	vm->nrules = cfg->nrules;
	vm->vifs = NULL;
	vm->nvifs = 0;
}
