// SPDX-License-Identifier: GPL-2.0-only
/* measure_expect = [ "kernel=sha256:HEX", ... ]: the digests a launch must
 * match (docs/vm-config.md, docs/measured-launch.md). */
#include "toolstack/vmcfg_builder.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* A problem with the element as a whole, not at one character. */
#define NO_OFFSET SIZE_MAX

static int element_error(struct builder *b, const struct cfg_setting *s,
			 size_t i, size_t offset, const char *what)
{
	const struct cfg_value *item = &s->value.items[i];
	char shown[64];

	cfg_quote(item->text, item->len, shown, sizeof(shown));
	if (offset == NO_OFFSET)
		cfg_error_set(b->err, b->file, item->line, item->column,
			      "%s[%zu]: %s: %s", s->key, i, shown, what);
	else
		cfg_error_set(b->err, b->file, item->line, item->column,
			      "%s[%zu]: %s: %s (at character %zu)", s->key, i,
			      shown, what,
			      vmcfg_char_number(item->text, offset));
	return -EINVAL;
}

/* The element that pinned what, for messages; the list was checked. */
static size_t element_of(const struct cfg_setting *s, enum measure_what what)
{
	for (size_t i = 0; i < s->value.nitems; i++) {
		const struct cfg_value *item = &s->value.items[i];
		const char *name = measure_what_name(what);
		size_t n = strlen(name);

		if (item->len > n && !memcmp(item->text, name, n) &&
		    item->text[n] == '=')
			return i;
	}
	return 0;
}

int vmcfg_expect(struct builder *b, const struct cfg_setting *s)
{
	struct measure_expect *e = &b->cfg->expect;
	const struct cfg_value *v = &s->value;
	int ret;

	b->expect_setting = s;
	ret = vmcfg_check_string_list(
		b, s, CFG_LIST_ITEMS_MAX,
		"a list of quoted pins [ \"kernel=sha256:HEX\", ... ]");
	if (ret)
		return ret;
	for (size_t i = 0; i < v->nitems; i++) {
		const struct cfg_value *item = &v->items[i];
		struct measure_expect_error perr;
		uint8_t digest[MEASURE_SHA256_BYTES];
		enum measure_what what;
		char msg[160];

		if (measure_expect_parse(item->text, item->len, &what, digest,
					 &perr))
			return element_error(b, s, i, perr.offset, perr.msg);
		if (e->set[what]) {
			size_t first = element_of(s, what);

			snprintf(
				msg, sizeof(msg),
				"%s is pinned twice (first by %s[%zu], line %u)",
				measure_what_name(what), s->key, first,
				v->items[first].line);
			return element_error(b, s, i, NO_OFFSET, msg);
		}
		e->set[what] = true;
		memcpy(e->sha256[what], digest, MEASURE_SHA256_BYTES);
	}
	return 0;
}

int vmcfg_check_measure_expect(struct builder *b)
{
	const struct cfg_setting *s = b->expect_setting;

	/* A pin on what the launch never measures could never be met. */
	if (s && b->cfg->expect.set[MEASURE_INITRD] && !b->cfg->ramdisk)
		return element_error(
			b, s, element_of(s, MEASURE_INITRD), NO_OFFSET,
			"initrd is pinned but the definition has no ramdisk");
	return 0;
}
