// SPDX-License-Identifier: GPL-2.0-only
/* The device lists of a definition: disk = [ ... ] and vif = [ ... ]. */
#include "toolstack/vmcfg_builder.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "disk[1]: \"...\": what (at character N of the spec)", at the element. */
int vmcfg_element_error(struct builder *b, const struct cfg_setting *s,
			size_t i, size_t offset, const char *what)
{
	const struct cfg_value *item = &s->value.items[i];
	char shown[64];

	cfg_quote(item->text, item->len, shown, sizeof(shown));
	cfg_error_set(b->err, b->file, item->line, item->column,
		      "%s[%zu]: %s: %s (at character %zu of the spec)", s->key,
		      i, shown, what, vmcfg_char_number(item->text, offset));
	return -EINVAL;
}

/* Two entries naming one guest disk, or one writable file twice. */
static int check_clash(struct builder *b, const struct cfg_setting *s,
		       const struct disk_spec *d)
{
	const struct cfg_value *item = &s->value.items[d->element];

	for (size_t j = 0; j < b->cfg->ndisks; j++) {
		const struct disk_spec *o = &b->cfg->disks[j];

		if (o->index == d->index) {
			cfg_error_set(
				b->err, b->file, item->line, item->column,
				"%s[%zu]: vdev \"%s\" is the same disk as \"%s\" of %s[%zu] (line %u): both are disk %u",
				s->key, d->element, d->vdev, o->vdev, s->key,
				o->element, o->line, d->index);
			return -EINVAL;
		}
		if (!strcmp(o->target, d->target) &&
		    (!o->readonly || !d->readonly)) {
			char shown[64];

			cfg_quote(d->target, strlen(d->target), shown,
				  sizeof(shown));
			cfg_error_set(
				b->err, b->file, item->line, item->column,
				"%s[%zu]: target %s is also the target of %s[%zu] (line %u); only a read-only disk may be given twice",
				s->key, d->element, shown, s->key, o->element,
				o->line);
			return -EINVAL;
		}
	}
	return 0;
}

static int by_index(const void *a, const void *b)
{
	const struct disk_spec *x = a, *y = b;

	return x->index < y->index ? -1 : x->index > y->index;
}

int vmcfg_apply_disk(struct builder *b, const struct cfg_setting *s)
{
	const struct cfg_value *v = &s->value;
	struct vmcfg *cfg = b->cfg;
	int ret;

	ret = vmcfg_check_string_list(
		b, s, CFG_LIST_ITEMS_MAX,
		"a list of quoted disk specs [ \"/path/disk.img,raw,xvda,rw\", ... ]");
	if (ret || !v->nitems)
		return ret;
	if (v->nitems > VMCFG_DISKS_MAX) {
		cfg_error_set(b->err, b->file, v->items[VMCFG_DISKS_MAX].line,
			      v->items[VMCFG_DISKS_MAX].column,
			      "%s: at most %u disks, got %zu", s->key,
			      VMCFG_DISKS_MAX, v->nitems);
		return -EINVAL;
	}
	cfg->disks = calloc(v->nitems, sizeof(*cfg->disks));
	if (!cfg->disks)
		return vmcfg_nomem(b, v);
	for (size_t i = 0; i < v->nitems; i++) {
		const struct cfg_value *item = &v->items[i];
		struct disk_spec *d = &cfg->disks[cfg->ndisks];
		struct disk_spec_error derr;

		if (item->len > VMCFG_SPEC_MAX)
			return vmcfg_bad_value(
				b, s->key, item,
				"a disk spec of at most 1024 bytes");
		ret = disk_spec_parse(item->text, item->len, b->base_dir, d,
				      &derr);
		if (ret == -ENOMEM)
			return vmcfg_nomem(b, item);
		if (ret)
			return vmcfg_element_error(b, s, i, derr.offset,
						   derr.msg);
		d->element = i;
		d->line = item->line;
		d->column = item->column;
		ret = check_clash(b, s, d);
		if (ret) {
			disk_spec_release(d);
			return ret;
		}
		cfg->ndisks++;
	}
	qsort(cfg->disks, cfg->ndisks, sizeof(*cfg->disks), by_index);
	return 0;
}

/* Two vifs of one VM with one address would clash on any network. */
static int check_mac_clash(struct builder *b, const struct cfg_setting *s,
			   const struct vif_spec *v)
{
	char mac[VIF_MAC_TEXT];

	if (!v->has_mac)
		return 0;
	for (size_t j = 0; j < b->cfg->nvifs; j++) {
		const struct vif_spec *o = &b->cfg->vifs[j];

		if (!o->has_mac || memcmp(o->mac, v->mac, VIF_MAC_BYTES))
			continue;
		vif_mac_format(v->mac, mac);
		cfg_error_set(
			b->err, b->file, v->line, v->column,
			"%s[%zu]: mac %s is also the mac of %s[%zu] (line %u)",
			s->key, v->element, mac, s->key, o->element, o->line);
		return -EINVAL;
	}
	return 0;
}

int vmcfg_apply_vif(struct builder *b, const struct cfg_setting *s)
{
	const struct cfg_value *v = &s->value;
	struct vmcfg *cfg = b->cfg;
	int ret;

	b->vif_setting = s;
	ret = vmcfg_check_string_list(
		b, s, VMCFG_VIFS_MAX,
		"a list of quoted vif specs [ \"backend=ndvm\", ... ] (\"\" for a vif on the default NDVM)");
	if (ret || !v->nitems)
		return ret;
	cfg->vifs = calloc(v->nitems, sizeof(*cfg->vifs));
	if (!cfg->vifs)
		return vmcfg_nomem(b, v);
	for (size_t i = 0; i < v->nitems; i++) {
		const struct cfg_value *item = &v->items[i];
		struct vif_spec *vif = &cfg->vifs[i];
		struct vif_spec_error verr;

		if (item->len > VMCFG_SPEC_MAX)
			return vmcfg_bad_value(
				b, s->key, item,
				"a vif spec of at most 1024 bytes");
		if (vif_spec_parse(item->text, item->len, vif, &verr))
			return vmcfg_element_error(b, s, i, verr.offset,
						   verr.msg);
		vif->element = i;
		vif->line = item->line;
		vif->column = item->column;
		ret = check_mac_clash(b, s, vif);
		if (ret)
			return ret;
		cfg->nvifs = i + 1;
	}
	return 0;
}

/*
 * The toolstack writes these itself from the vifs and the role
 * (docs/toolstack.md); one in the definition would be overridden or
 * would contradict what the toolstack connected.
 */
static int check_cmdline_params(struct builder *b)
{
	static const char *const own[] = { "hmxnet.front=", "hmxnet.mac=",
					   "hmxnet.serve=" };
	const struct cfg_setting *at =
		b->cmdline_setting ?
			b->cmdline_setting :
			(b->extra_setting ? b->extra_setting : b->root_setting);
	const char *line = b->cfg->cmdline;

	for (size_t i = 0; i < sizeof(own) / sizeof(*own); i++) {
		bool applies = i < 2 ? b->cfg->nvifs > 0 :
				       b->cfg->role == VM_ROLE_NDVM;

		for (const char *p = line; applies && (p = strstr(p, own[i]));
		     p++) {
			if (p != line && p[-1] != ' ')
				continue;
			cfg_error_set(
				b->err, b->file, at ? at->line : 0,
				at ? at->column : 0,
				"%s: %s is written by the toolstack from %s; remove it",
				at ? at->key : "cmdline", own[i],
				i < 2 ? "vif = [ ... ]" : "role = \"ndvm\"");
			return -EINVAL;
		}
	}
	return 0;
}

int vmcfg_check_vifs(struct builder *b)
{
	const struct vmcfg *cfg = b->cfg;
	const struct cfg_setting *s = b->vif_setting;

	if (cfg->nvifs && !cfg->hmx) {
		cfg_error_set(
			b->err, b->file, s->line, s->column,
			"vif: hmxnet is carried over HMX: needs hmx = on (line %u)",
			b->hmx_setting->line);
		return -EINVAL;
	}
	for (size_t i = 0; i < cfg->nvifs; i++) {
		const struct vif_spec *v = &cfg->vifs[i];

		if (strcmp(v->backend, cfg->name))
			continue;
		cfg_error_set(
			b->err, b->file, v->line, v->column,
			"vif[%zu]: backend=%s is this VM itself; a vif's backend is another VM, such as an NDVM",
			i, v->backend);
		return -EINVAL;
	}
	return check_cmdline_params(b);
}
