/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Inside the definition parser: the state one parse builds, and the
 * helpers every key's code reports through. Not for use outside vmcfg*.c.
 */
#ifndef BH_TOOLSTACK_VMCFG_BUILDER_H
#define BH_TOOLSTACK_VMCFG_BUILDER_H

#include "toolstack/cfg_parse.h"
#include "toolstack/vmcfg.h"

struct builder {
	struct vmcfg *cfg;
	const char *file;
	const char *base_dir;
	struct cfg_error *err;
	/* Settings that later checks refer to; NULL when absent. */
	const struct cfg_setting *hmx_setting;
	const struct cfg_setting *vsock_setting;
	const struct cfg_setting *on_crash_setting;
	const struct cfg_setting *rules_setting;
	const struct cfg_setting *cmdline_setting;
	const struct cfg_setting *root_setting;
	const struct cfg_setting *extra_setting;
	const struct cfg_setting *vif_setting;
	const struct cfg_setting *expect_setting;
	const struct cfg_setting *nic_setting;
};

/* Reports "key: expected ..., got <value>" at the value; -EINVAL. */
/*
 * Reports element i of list setting s as a bad spec: "KEY[i]: "TEXT":
 * WHAT (at character N of the spec)", located at the element; -EINVAL.
 */
int vmcfg_element_error(struct builder *b, const struct cfg_setting *s,
			size_t i, size_t offset, const char *what);
int vmcfg_bad_value(struct builder *b, const char *key,
		    const struct cfg_value *v, const char *expected);

/* Reports "out of memory" at v; -ENOMEM. */
int vmcfg_nomem(struct builder *b, const struct cfg_value *v);

/* Checks that a value is a list of at most max quoted strings. */
int vmcfg_check_string_list(struct builder *b, const struct cfg_setting *s,
			    size_t max, const char *expected);

/* Adds a warning located at line:column; 0 or -ENOMEM. */
int vmcfg_add_warning(struct builder *b, unsigned int line, unsigned int column,
		      const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* The 1-based character (not byte) at offset in s, for messages. */
size_t vmcfg_char_number(const char *s, size_t offset);

/* disk = [ ... ] and vif = [ ... ] (vmcfg_devices.c). */
int vmcfg_apply_disk(struct builder *b, const struct cfg_setting *s);
int vmcfg_apply_vif(struct builder *b, const struct cfg_setting *s);
/* What the vifs need of the rest of the definition, once all is read. */
int vmcfg_check_vifs(struct builder *b);

/* nic = [ ... ] (vmcfg_nic.c), and its checks once every key is read. */
int vmcfg_apply_nic(struct builder *b, const struct cfg_setting *s);
int vmcfg_check_nics(struct builder *b);

/* measure_expect = [ ... ] (vmcfg_measure.c), and its check against the
 * rest of the definition once every key is read. */
int vmcfg_expect(struct builder *b, const struct cfg_setting *s);
int vmcfg_check_measure_expect(struct builder *b);

/*
 * True for a key of xl.cfg(5) that Bulkhead does not implement
 * (xl_keys.c), so that it is not called unknown.
 */
bool xl_key_unsupported(const char *key);

#endif
