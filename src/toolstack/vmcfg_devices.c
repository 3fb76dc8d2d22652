// SPDX-License-Identifier: GPL-2.0-only
/* The device lists of a definition: disk = [ ... ] and vif = [ ... ]. */
#include "toolstack/vmcfg_builder.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "disk[1]: \"...\": what (at character N of the spec)", at the element. */
static int element_error(struct builder *b, const struct cfg_setting *s,
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
			return element_error(b, s, i, derr.offset, derr.msg);
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

/*
 * An xl vif spec (xl-network-configuration(5)), as far as its shape:
 * comma-separated key=value pairs or xl's flags, blanks before each
 * ignored, empty parameters allowed; "" is a vif with every default.
 * Returns NULL, or what is wrong with *offset where.
 */
static const char *vif_problem(const char *s, size_t len, size_t *offset)
{
	size_t pos = 0;

	while (pos < len) {
		size_t start, end, k;

		while (pos < len && (s[pos] == ' ' || s[pos] == '\t'))
			pos++;
		start = pos;
		end = start;
		while (end < len && s[end] != ',')
			end++;
		pos = end + 1;
		if (end == start)
			continue;
		if ((end - start == 7 && !memcmp(s + start, "trusted", 7)) ||
		    (end - start == 9 && !memcmp(s + start, "untrusted", 9)))
			continue;
		*offset = start;
		if (s[start] < 'a' || s[start] > 'z')
			return "expected key=value, the key a lower-case word such as mac or bridge";
		for (k = start; k < end && s[k] != '='; k++) {
			char c = s[k];

			if (!(c >= 'a' && c <= 'z') &&
			    !(c >= '0' && c <= '9') && c != '_')
				return "expected key=value, the key a lower-case word such as mac or bridge";
		}
		if (k == end)
			return "expected key=value (xl's only flags are trusted and untrusted)";
	}
	return NULL;
}

int vmcfg_apply_vif(struct builder *b, const struct cfg_setting *s)
{
	const struct cfg_value *v = &s->value;
	struct vmcfg *cfg = b->cfg;
	int ret;

	b->vif_setting = s;
	ret = vmcfg_check_string_list(
		b, s, VMCFG_VIFS_MAX,
		"a list of quoted vif specs [ \"bridge=br0\", ... ] (\"\" for a default vif)");
	if (ret || !v->nitems)
		return ret;
	cfg->vifs = calloc(v->nitems, sizeof(*cfg->vifs));
	if (!cfg->vifs)
		return vmcfg_nomem(b, v);
	for (size_t i = 0; i < v->nitems; i++) {
		const struct cfg_value *item = &v->items[i];
		const char *problem;
		size_t offset = 0;

		if (item->len > VMCFG_SPEC_MAX)
			return vmcfg_bad_value(
				b, s->key, item,
				"a vif spec of at most 1024 bytes");
		problem = vif_problem(item->text, item->len, &offset);
		if (problem)
			return element_error(b, s, i, offset, problem);
		cfg->vifs[i] = strdup(item->text);
		if (!cfg->vifs[i])
			return vmcfg_nomem(b, item);
		cfg->nvifs = i + 1;
	}
	return 0;
}
