// SPDX-License-Identifier: GPL-2.0-only
/*
 * nic = [ ... ]: the NICs a network device VM owns (nic_spec.h). Parsed
 * where the key stands; checked against the role, and given their
 * default MAC and tap names, once the whole definition is read (role and
 * name may come after it).
 */
#include "toolstack/vmcfg_builder.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int vmcfg_apply_nic(struct builder *b, const struct cfg_setting *s)
{
	const struct cfg_value *v = &s->value;
	struct vmcfg *cfg = b->cfg;
	int ret;

	b->nic_setting = s;
	ret = vmcfg_check_string_list(
		b, s, VMCFG_NICS_MAX,
		"a list of quoted NIC specs [ \"netns=lan0\", ... ]");
	if (ret || !v->nitems)
		return ret;
	cfg->nics = calloc(v->nitems, sizeof(*cfg->nics));
	if (!cfg->nics)
		return vmcfg_nomem(b, v);
	for (size_t i = 0; i < v->nitems; i++) {
		const struct cfg_value *item = &v->items[i];
		struct nic_spec *n = &cfg->nics[i];
		struct nic_spec_error nerr;

		if (item->len > VMCFG_SPEC_MAX)
			return vmcfg_bad_value(
				b, s->key, item,
				"a NIC spec of at most 1024 bytes");
		if (nic_spec_parse(item->text, item->len, n, &nerr))
			return vmcfg_element_error(b, s, i, nerr.offset,
						   nerr.msg);
		n->element = i;
		n->line = item->line;
		n->column = item->column;
		cfg->nnics = i + 1;
	}
	return 0;
}

int vmcfg_check_nics(struct builder *b)
{
	const struct cfg_setting *s = b->nic_setting;
	struct vmcfg *cfg = b->cfg;

	if (!cfg->nnics)
		return 0;
	if (cfg->role != VM_ROLE_NDVM) {
		cfg_error_set(
			b->err, b->file, s->line, s->column,
			"nic: only a network device VM owns a NIC, and this VM's role is \"%s\": write role = \"ndvm\", or give a guest a vif = [ ... ] on an NDVM instead",
			vm_role_name(cfg->role));
		return -EINVAL;
	}
	for (size_t i = 0; i < cfg->nnics; i++) {
		struct nic_spec *n = &cfg->nics[i];

		if (!n->mac_given)
			nic_default_mac(cfg->name, (unsigned int)i, n->mac);
		if (!n->tap_given)
			nic_default_tap(cfg->name, (unsigned int)i, n->tap);
		for (size_t j = 0; j < i; j++) {
			const struct nic_spec *o = &cfg->nics[j];

			if (!strcmp(o->netns, n->netns) &&
			    !strcmp(o->tap, n->tap)) {
				cfg_error_set(
					b->err, b->file, n->line, n->column,
					"nic[%zu]: tap \"%s\" in netns \"%s\" is also nic[%zu]'s (line %u)",
					i, n->tap, n->netns, j, o->line);
				return -EINVAL;
			}
			if (!memcmp(o->mac, n->mac, NIC_MAC_LEN)) {
				cfg_error_set(
					b->err, b->file, n->line, n->column,
					"nic[%zu]: its MAC address is also nic[%zu]'s (line %u)",
					i, j, o->line);
				return -EINVAL;
			}
		}
	}
	return 0;
}
