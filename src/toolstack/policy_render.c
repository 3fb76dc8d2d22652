// SPDX-License-Identifier: GPL-2.0-only
/* The compiled set as a table for people: `bulkhead policy show`. */
#include "toolstack/policy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ENDPOINT_MAX (VM_NAME_MAX + 32)

static void endpoint_label(const struct policy_set *set, uint16_t domid,
			   uint32_t port, char *buf, size_t len)
{
	char d[VM_NAME_MAX + 16];

	policy_domid_label(set, domid, d, sizeof(d));
	if (port == HMX_PORT_ANY)
		snprintf(buf, len, "%s:*", d);
	else
		snprintf(buf, len, "%s:%u", d, port);
}

static int width_of(const struct policy_set *set, bool src)
{
	size_t w = strlen("DESTINATION");

	for (size_t i = 0; i < set->nentries; i++) {
		const struct policy_entry *e = &set->entries[i];
		char buf[ENDPOINT_MAX];

		if (src)
			endpoint_label(set, e->src_domid, e->src_port, buf,
				       sizeof(buf));
		else
			endpoint_label(set, e->dst_domid, e->dst_port, buf,
				       sizeof(buf));
		if (strlen(buf) > w)
			w = strlen(buf);
	}
	return (int)w;
}

static void print_origin(FILE *f, const struct policy_origin *o)
{
	fprintf(f, "%s:%u %s %s[%zu] \"%s\"", o->source, o->line, o->vm_name,
		policy_origin_list(o), o->rule_index, o->text);
}

int policy_set_render_text(const struct policy_set *set, char **out)
{
	int ws = width_of(set, true), wd = width_of(set, false);
	size_t size = 0, inactive = 0;
	FILE *f;

	*out = NULL;
	f = open_memstream(out, &size);
	if (!f)
		return -ENOMEM;
	fprintf(f, "HMX firewall: %zu %s, first match wins, default deny\n",
		set->nentries, set->nentries == 1 ? "entry" : "entries");
	fprintf(f, "%5s  %-6s  %-*s  %-*s  %s\n", "#", "ACTION", ws, "SOURCE",
		wd, "DESTINATION", "FROM");
	for (size_t i = 0; i < set->nentries; i++) {
		const struct policy_entry *e = &set->entries[i];
		char src[ENDPOINT_MAX], dst[ENDPOINT_MAX];

		endpoint_label(set, e->src_domid, e->src_port, src,
			       sizeof(src));
		endpoint_label(set, e->dst_domid, e->dst_port, dst,
			       sizeof(dst));
		fprintf(f, "%5zu  %-6s  %-*s  %-*s  ", i + 1,
			policy_action_name(e->action), ws, src, wd, dst);
		print_origin(f, &set->origins[e->origin]);
		fputc('\n', f);
	}
	fprintf(f, "%5s  %-6s  %-*s  %-*s  %s\n", "-", "reject", ws, "any:*",
		wd, "any:*", "default deny");
	for (size_t i = 0; i < set->norigins; i++) {
		if (set->origins[i].nentries)
			continue;
		if (!inactive++)
			fprintf(f,
				"\nRules without effect now (they name no running VM with HMX, or a vif's backend is not running):\n");
		fputs("  ", f);
		print_origin(f, &set->origins[i]);
		fputc('\n', f);
	}
	if (fclose(f)) {
		free(*out);
		*out = NULL;
		return -ENOMEM;
	}
	return 0;
}
