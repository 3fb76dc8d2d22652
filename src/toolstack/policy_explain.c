// SPDX-License-Identifier: GPL-2.0-only
/* Which compiled entry decides a flow, and why: `bulkhead policy check`. */
#include "toolstack/policy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool matches(uint32_t rule_value, uint32_t any, uint32_t value)
{
	return rule_value == any || rule_value == value;
}

const struct policy_entry *policy_check(const struct policy_set *set,
					const struct policy_flow *flow)
{
	for (size_t i = 0; i < set->nentries; i++) {
		const struct policy_entry *e = &set->entries[i];

		if (matches(e->src_domid, HMX_DOMID_ANY, flow->src_domid) &&
		    matches(e->src_port, HMX_PORT_ANY, flow->src_port) &&
		    matches(e->dst_domid, HMX_DOMID_ANY, flow->dst_domid) &&
		    matches(e->dst_port, HMX_PORT_ANY, flow->dst_port))
			return e;
	}
	return NULL;
}

static const struct policy_domain *find_domid(const struct policy_set *set,
					      uint16_t domid)
{
	for (size_t i = 0; i < set->ndomains; i++) {
		if (set->domains[i].domid == domid)
			return &set->domains[i];
	}
	return NULL;
}

const char *policy_origin_list(const struct policy_origin *o)
{
	return o->kind == POLICY_ORIGIN_VIF ? "vif" : "hmx_rules";
}

void policy_domid_label(const struct policy_set *set, uint16_t domid, char *buf,
			size_t len)
{
	const struct policy_domain *d = find_domid(set, domid);

	if (domid == HMX_DOMID_ANY)
		snprintf(buf, len, "any");
	else if (domid == HMX_DOMID_HOST)
		snprintf(buf, len, "host");
	else if (d)
		snprintf(buf, len, "%s(%u)", d->name, domid);
	else
		snprintf(buf, len, "dom%u", domid);
}

static void port_label(uint32_t port, char *buf, size_t len)
{
	if (port == HMX_PORT_ANY)
		snprintf(buf, len, "*");
	else
		snprintf(buf, len, "%u", port);
}

void policy_entry_format(const struct policy_set *set,
			 const struct policy_entry *e, char *buf, size_t len)
{
	char src[VM_NAME_MAX + 16], dst[VM_NAME_MAX + 16], sp[12], dp[12];

	policy_domid_label(set, e->src_domid, src, sizeof(src));
	policy_domid_label(set, e->dst_domid, dst, sizeof(dst));
	port_label(e->src_port, sp, sizeof(sp));
	port_label(e->dst_port, dp, sizeof(dp));
	snprintf(buf, len, "%s %s:%s -> %s:%s", policy_action_name(e->action),
		 src, sp, dst, dp);
}

static int parse_flow_endpoint(const struct policy_set *set, const char *what,
			       const char *s, uint16_t *domid, uint32_t *port,
			       char *err, size_t errlen)
{
	const char *colon = strrchr(s, ':'), *name = s;
	const struct policy_domain *d = NULL;
	size_t nlen;
	uint64_t v = 0;

	if (!colon || !colon[1]) {
		snprintf(err, errlen,
			 "%s: expected host:PORT or NAME:PORT, with a port",
			 what);
		return -EINVAL;
	}
	for (const char *p = colon + 1; *p; p++) {
		if (*p < '0' || *p > '9' || p - colon > 10) {
			v = HMX_PORT_ANY;
			break;
		}
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (v >= HMX_PORT_ANY) {
		snprintf(err, errlen,
			 "%s: the port must be a number from 0 to 4294967294",
			 what);
		return -EINVAL;
	}
	*port = (uint32_t)v;
	if (!strncmp(name, "name=", 5))
		name += 5;
	nlen = (size_t)(colon - name);
	if (name == s && nlen == 4 && !strncmp(name, "host", 4)) {
		*domid = HMX_DOMID_HOST;
		return 0;
	}
	for (size_t i = 0; i < set->ndomains && !d; i++) {
		if (strlen(set->domains[i].name) == nlen &&
		    !strncmp(set->domains[i].name, name, nlen))
			d = &set->domains[i];
	}
	if (!d) {
		snprintf(err, errlen, "%s: no running VM is named %.*s", what,
			 (int)(nlen > VM_NAME_MAX ? VM_NAME_MAX : nlen), name);
		return -EINVAL;
	}
	if (!d->hmx) {
		snprintf(
			err, errlen,
			"%s: VM %s has hmx = off, so it has no HMX flows at all",
			what, d->name);
		return -EINVAL;
	}
	*domid = d->domid;
	return 0;
}

int policy_flow_parse(const struct policy_set *set, const char *src,
		      const char *dst, struct policy_flow *out, char *err,
		      size_t errlen)
{
	char dummy[1];

	if (!errlen) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	if (parse_flow_endpoint(set, "source", src, &out->src_domid,
				&out->src_port, err, errlen))
		return -EINVAL;
	return parse_flow_endpoint(set, "destination", dst, &out->dst_domid,
				   &out->dst_port, err, errlen);
}

int policy_explain(const struct policy_set *set, const struct policy_flow *flow,
		   char **out)
{
	char src[VM_NAME_MAX + 16], dst[VM_NAME_MAX + 16], entry[160];
	const struct policy_entry *e;
	size_t size = 0;
	FILE *f;

	*out = NULL;
	if (flow->src_domid == HMX_DOMID_ANY ||
	    flow->dst_domid == HMX_DOMID_ANY ||
	    flow->src_port == HMX_PORT_ANY || flow->dst_port == HMX_PORT_ANY)
		return -EINVAL;
	f = open_memstream(out, &size);
	if (!f)
		return -ENOMEM;
	policy_domid_label(set, flow->src_domid, src, sizeof(src));
	policy_domid_label(set, flow->dst_domid, dst, sizeof(dst));
	fprintf(f, "flow: %s port %u -> %s port %u\n", src, flow->src_port, dst,
		flow->dst_port);
	e = policy_check(set, flow);
	if (!e) {
		fprintf(f, "decision: reject\n");
		fprintf(f,
			"by: default deny (none of the %zu entries matches this flow)\n",
			set->nentries);
	} else {
		const struct policy_origin *o = &set->origins[e->origin];

		policy_entry_format(set, e, entry, sizeof(entry));
		fprintf(f, "decision: %s\n", policy_action_name(e->action));
		fprintf(f, "by: entry #%zu of %zu: %s\n",
			(size_t)(e - set->entries) + 1, set->nentries, entry);
		fprintf(f, "%s: \"%s\"\n",
			o->kind == POLICY_ORIGIN_VIF ? "vif" : "rule", o->text);
		fprintf(f, "from: VM %s, %s[%zu], %s:%u:%u\n", o->vm_name,
			policy_origin_list(o), o->rule_index, o->source,
			o->line, o->column);
	}
	if (fclose(f)) {
		free(*out);
		*out = NULL;
		return -ENOMEM;
	}
	return 0;
}
