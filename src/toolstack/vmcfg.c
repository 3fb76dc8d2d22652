// SPDX-License-Identifier: GPL-2.0-only
/* The keys of a VM definition: what each accepts, its bounds, its default. */
#include "toolstack/vmcfg.h"

#include "toolstack/cfg_parse.h"
#include "util/parse.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct builder {
	struct vmcfg *cfg;
	const char *file;
	const char *base_dir;
	struct cfg_error *err;
	const struct cfg_setting *hmx_setting;
	const struct cfg_setting *vsock_setting;
	const struct cfg_setting *rules_setting;
};

struct key_spec {
	const char *key;
	int (*apply)(struct builder *b, const struct cfg_setting *s);
};

/* How a value reads in "got ..." messages. */
static void describe_value(const struct cfg_value *v, char *buf, size_t len)
{
	switch (v->kind) {
	case CFG_VAL_STRING:
		cfg_quote(v->text, v->len, buf, len);
		break;
	case CFG_VAL_NUMBER:
	case CFG_VAL_WORD:
		/* The lexer only makes these from printable ASCII. */
		snprintf(buf, len, "%.40s%s", v->text,
			 v->len > 40 ? "..." : "");
		break;
	case CFG_VAL_LIST:
		snprintf(buf, len, "a list");
		break;
	}
}

/* Reports "key: expected ..., got <value>" at the value. */
static int bad_value(struct builder *b, const char *key,
		     const struct cfg_value *v, const char *expected)
{
	char got[64];

	describe_value(v, got, sizeof(got));
	cfg_error_set(b->err, b->file, v->line, v->column,
		      "%s: expected %s, got %s", key, expected, got);
	return -EINVAL;
}

static int nomem(struct builder *b, const struct cfg_value *v)
{
	cfg_error_set(b->err, b->file, v->line, v->column, "out of memory");
	return -ENOMEM;
}

static int resolve(struct builder *b, const char *key,
		   const struct cfg_value *v, const char *path, char **out)
{
	*out = vmcfg_resolve_path(b->base_dir, path);
	if (*out)
		return 0;
	if (errno == ENOMEM)
		return nomem(b, v);
	if (errno == EINVAL)
		return bad_value(
			b, key, v,
			"an absolute path (relative paths need a file to be relative to)");
	return bad_value(
		b, key, v,
		"a path of at most 4095 bytes once resolved against the file's directory");
}

static int apply_name(struct builder *b, const struct cfg_setting *s)
{
	const struct cfg_value *v = &s->value;
	const char *problem;
	char expected[160];

	if (v->kind != CFG_VAL_STRING)
		return bad_value(b, s->key, v, "a quoted VM name");
	problem = vm_name_problem(v->text, v->len);
	if (problem) {
		snprintf(expected, sizeof(expected), "a valid VM name (%s)",
			 problem);
		return bad_value(b, s->key, v, expected);
	}
	memcpy(b->cfg->name, v->text, v->len + 1);
	return 0;
}

static int apply_memory(struct builder *b, const struct cfg_setting *s)
{
	static const char expected[] =
		"an integer number of MiB between 16 and 65536 (or a size such as 2G)";
	const struct cfg_value *v = &s->value;
	uint64_t bytes;

	if (v->kind != CFG_VAL_NUMBER || bh_parse_size(v->text, 20, &bytes))
		return bad_value(b, s->key, v, expected);
	if (bytes & ((1u << 20) - 1))
		return bad_value(b, s->key, v, "a whole number of MiB");
	bytes >>= 20;
	if (bytes < VMCFG_MEMORY_MIN_MIB || bytes > VMCFG_MEMORY_MAX_MIB)
		return bad_value(b, s->key, v, expected);
	b->cfg->memory_mib = (uint32_t)bytes;
	return 0;
}

static int apply_vcpus(struct builder *b, const struct cfg_setting *s)
{
	const struct cfg_value *v = &s->value;
	uint64_t n;

	if (v->kind != CFG_VAL_NUMBER || bh_parse_u64(v->text, &n) || n < 1 ||
	    n > VMCFG_VCPUS_MAX)
		return bad_value(b, s->key, v, "an integer between 1 and 64");
	b->cfg->vcpus = (uint32_t)n;
	return 0;
}

static int apply_path(struct builder *b, const struct cfg_setting *s,
		      char **out)
{
	const struct cfg_value *v = &s->value;

	if (v->kind != CFG_VAL_STRING || v->len == 0)
		return bad_value(b, s->key, v, "a non-empty quoted path");
	return resolve(b, s->key, v, v->text, out);
}

static int apply_kernel(struct builder *b, const struct cfg_setting *s)
{
	return apply_path(b, s, &b->cfg->kernel);
}

static int apply_ramdisk(struct builder *b, const struct cfg_setting *s)
{
	return apply_path(b, s, &b->cfg->ramdisk);
}

static int apply_cmdline(struct builder *b, const struct cfg_setting *s)
{
	const struct cfg_value *v = &s->value;
	char *copy;

	if (v->kind != CFG_VAL_STRING || v->len > VMCFG_CMDLINE_MAX)
		return bad_value(
			b, s->key, v,
			"a quoted kernel command line of at most 2047 bytes");
	copy = strdup(v->text);
	if (!copy)
		return nomem(b, v);
	free(b->cfg->cmdline);
	b->cfg->cmdline = copy;
	return 0;
}

static int apply_type(struct builder *b, const struct cfg_setting *s)
{
	const struct cfg_value *v = &s->value;

	if (v->kind != CFG_VAL_STRING ||
	    !vm_type_from_name(v->text, v->len, &b->cfg->type))
		return bad_value(b, s->key, v,
				 "one of \"guest\", \"ndvm\" or \"service\"");
	return 0;
}

static int parse_bool(struct builder *b, const struct cfg_setting *s, bool *out)
{
	static const char *const yes[] = { "on", "yes", "true", "1" };
	static const char *const no[] = { "off", "no", "false", "0" };
	const struct cfg_value *v = &s->value;

	if (v->kind == CFG_VAL_WORD || v->kind == CFG_VAL_NUMBER) {
		for (size_t i = 0; i < sizeof(yes) / sizeof(*yes); i++) {
			if (!strcmp(v->text, yes[i])) {
				*out = true;
				return 0;
			}
			if (!strcmp(v->text, no[i])) {
				*out = false;
				return 0;
			}
		}
	}
	return bad_value(
		b, s->key, v,
		"a boolean: on or off, yes or no, true or false, 1 or 0 (unquoted)");
}

static int apply_hmx(struct builder *b, const struct cfg_setting *s)
{
	b->hmx_setting = s;
	return parse_bool(b, s, &b->cfg->hmx);
}

static int apply_autostart(struct builder *b, const struct cfg_setting *s)
{
	return parse_bool(b, s, &b->cfg->autostart);
}

static int apply_vsock(struct builder *b, const struct cfg_setting *s)
{
	b->vsock_setting = s;
	return parse_bool(b, s, &b->cfg->vsock);
}

static int apply_serial(struct builder *b, const struct cfg_setting *s)
{
	static const char expected[] =
		"\"pty\", \"stdio\", \"none\" or \"file:PATH\"";
	const struct cfg_value *v = &s->value;

	if (v->kind != CFG_VAL_STRING)
		return bad_value(b, s->key, v, expected);
	if (!strcmp(v->text, "pty")) {
		b->cfg->serial = VMCFG_SERIAL_PTY;
	} else if (!strcmp(v->text, "stdio")) {
		b->cfg->serial = VMCFG_SERIAL_STDIO;
	} else if (!strcmp(v->text, "none")) {
		b->cfg->serial = VMCFG_SERIAL_NONE;
	} else if (!strncmp(v->text, "file:", 5)) {
		if (v->len == 5)
			return bad_value(b, s->key, v,
					 "a path after \"file:\"");
		b->cfg->serial = VMCFG_SERIAL_FILE;
		return resolve(b, s->key, v, v->text + 5, &b->cfg->serial_path);
	} else {
		return bad_value(b, s->key, v, expected);
	}
	return 0;
}

/* Checks that a value is a list of at most max quoted strings. */
static int check_string_list(struct builder *b, const struct cfg_setting *s,
			     size_t max, const char *expected)
{
	const struct cfg_value *v = &s->value;
	char msg[160];

	if (v->kind != CFG_VAL_LIST)
		return bad_value(b, s->key, v, expected);
	if (v->nitems > max) {
		snprintf(msg, sizeof(msg), "at most %zu entries", max);
		return bad_value(b, s->key, &v->items[max], msg);
	}
	for (size_t i = 0; i < v->nitems; i++) {
		if (v->items[i].kind != CFG_VAL_STRING)
			return bad_value(
				b, s->key, &v->items[i],
				"a quoted string as each list element");
	}
	return 0;
}

static int apply_rules(struct builder *b, const struct cfg_setting *s)
{
	const struct cfg_value *v = &s->value;
	struct policy_written_rule *rules;
	int ret;

	b->rules_setting = s;
	ret = check_string_list(
		b, s, VMCFG_RULES_MAX,
		"a list of quoted rules [ \"myself -> host:5555\", ... ]");
	if (ret || !v->nitems)
		return ret;
	rules = calloc(v->nitems, sizeof(*rules));
	if (!rules)
		return nomem(b, v);
	b->cfg->rules = rules;
	for (size_t i = 0; i < v->nitems; i++) {
		const struct cfg_value *item = &v->items[i];
		struct policy_rule_error perr;
		char shown[64];

		if (policy_rule_parse(item->text, item->len, &rules[i].rule,
				      &perr)) {
			cfg_quote(item->text, item->len, shown, sizeof(shown));
			cfg_error_set(
				b->err, b->file, item->line, item->column,
				"%s[%zu]: %s: %s (at character %zu of the rule)",
				s->key, i, shown, perr.msg, perr.offset + 1);
			return -EINVAL;
		}
		rules[i].text = strdup(item->text);
		if (!rules[i].text)
			return nomem(b, item);
		rules[i].line = item->line;
		rules[i].column = item->column;
		b->cfg->nrules = i + 1;
	}
	return 0;
}

/* disk and vif: kept verbatim until their syntax is defined. */
static int apply_reserved_list(struct builder *b, const struct cfg_setting *s,
			       size_t max, char ***out, size_t *nout)
{
	const struct cfg_value *v = &s->value;
	int ret;

	ret = check_string_list(b, s, max, "a list of quoted strings");
	if (ret || !v->nitems)
		return ret;
	*out = calloc(v->nitems, sizeof(**out));
	if (!*out)
		return nomem(b, v);
	for (size_t i = 0; i < v->nitems; i++) {
		if (v->items[i].len == 0 || v->items[i].len > VMCFG_SPEC_MAX)
			return bad_value(
				b, s->key, &v->items[i],
				"a non-empty string of at most 1024 bytes");
		(*out)[i] = strdup(v->items[i].text);
		if (!(*out)[i])
			return nomem(b, &v->items[i]);
		*nout = i + 1;
	}
	return 0;
}

static int apply_disk(struct builder *b, const struct cfg_setting *s)
{
	return apply_reserved_list(b, s, VMCFG_DISKS_MAX, &b->cfg->disks,
				   &b->cfg->ndisks);
}

static int apply_vif(struct builder *b, const struct cfg_setting *s)
{
	return apply_reserved_list(b, s, VMCFG_VIFS_MAX, &b->cfg->vifs,
				   &b->cfg->nvifs);
}

static const struct key_spec keys[] = {
	{ "name", apply_name },	      { "type", apply_type },
	{ "memory", apply_memory },   { "vcpus", apply_vcpus },
	{ "kernel", apply_kernel },   { "ramdisk", apply_ramdisk },
	{ "cmdline", apply_cmdline }, { "hmx", apply_hmx },
	{ "hmx_rules", apply_rules }, { "autostart", apply_autostart },
	{ "serial", apply_serial },   { "disk", apply_disk },
	{ "vif", apply_vif },	      { "vsock", apply_vsock },
};

/* Levenshtein distance, for "did you mean"; keys are short. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), prev[24], cur[24];

	if (la >= 24 || lb >= 24)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
			size_t del = prev[j] + 1, ins = cur[j - 1] + 1;

			cur[j] = sub < del ? (sub < ins ? sub : ins) :
					     (del < ins ? del : ins);
		}
		memcpy(prev, cur, (lb + 1) * sizeof(*prev));
	}
	return prev[lb];
}

static int unknown_key(struct builder *b, const struct cfg_setting *s)
{
	const char *best = NULL;
	size_t best_d = 3;
	char hint[48] = "";

	for (size_t i = 0; i < sizeof(keys) / sizeof(*keys); i++) {
		size_t d = edit_distance(s->key, keys[i].key);

		if (d < best_d) {
			best_d = d;
			best = keys[i].key;
		}
	}
	if (best)
		snprintf(hint, sizeof(hint), " (did you mean %s?)", best);
	cfg_error_set(
		b->err, b->file, s->line, s->column,
		"%.64s: unknown key%s; the keys are name, type, memory, vcpus, kernel, ramdisk, cmdline, hmx, hmx_rules, autostart, serial, vsock, disk and vif",
		s->key, hint);
	return -EINVAL;
}

static int check_complete(struct builder *b)
{
	static const char *const required[] = { "name", "memory", "kernel" };
	const struct vmcfg *cfg = b->cfg;
	const bool present[] = { cfg->name[0] != '\0', cfg->memory_mib != 0,
				 cfg->kernel != NULL };

	for (size_t i = 0; i < sizeof(required) / sizeof(*required); i++) {
		if (!present[i]) {
			cfg_error_set(b->err, b->file, 0, 0,
				      "%s: required key missing", required[i]);
			return -EINVAL;
		}
	}
	/* Rules for a VM without an HMX device would silently do nothing. */
	if (!cfg->hmx && cfg->nrules) {
		cfg_error_set(
			b->err, b->file, b->rules_setting->line,
			b->rules_setting->column,
			"hmx_rules: rules given but hmx = off (line %u); remove them or turn hmx on",
			b->hmx_setting->line);
		return -EINVAL;
	}
	/* vsock is carried over HMX. */
	if (!cfg->hmx && cfg->vsock) {
		cfg_error_set(b->err, b->file, b->vsock_setting->line,
			      b->vsock_setting->column,
			      "vsock: needs hmx = on (line %u)",
			      b->hmx_setting->line);
		return -EINVAL;
	}
	return 0;
}

static struct vmcfg *vmcfg_new(const char *source)
{
	struct vmcfg *cfg = calloc(1, sizeof(*cfg));

	if (!cfg)
		return NULL;
	cfg->type = VM_TYPE_GUEST;
	cfg->vcpus = 1;
	cfg->hmx = true;
	cfg->serial = VMCFG_SERIAL_PTY;
	cfg->source = strdup(source);
	cfg->cmdline = strdup("");
	if (!cfg->source || !cfg->cmdline) {
		vmcfg_free(cfg);
		return NULL;
	}
	return cfg;
}

int vmcfg_parse_buffer(const char *buf, size_t len, const char *source,
		       const char *base_dir, struct vmcfg **out,
		       struct cfg_error *err)
{
	struct builder b = { .file = source, .base_dir = base_dir, .err = err };
	struct cfg_file f;
	int ret;

	*out = NULL;
	if (len > VMCFG_FILE_MAX) {
		cfg_error_set(
			err, source, 0, 0,
			"file too large: a definition is at most %u bytes",
			VMCFG_FILE_MAX);
		return -EFBIG;
	}
	ret = cfg_parse(buf, len, source, &f, err);
	if (ret)
		return ret;
	b.cfg = vmcfg_new(source);
	if (!b.cfg) {
		cfg_error_set(err, source, 0, 0, "out of memory");
		ret = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < f.nsettings && !ret; i++) {
		const struct cfg_setting *s = &f.settings[i];
		const struct key_spec *spec = NULL;

		for (size_t k = 0; k < sizeof(keys) / sizeof(*keys); k++) {
			if (!strcmp(keys[k].key, s->key))
				spec = &keys[k];
		}
		ret = spec ? spec->apply(&b, s) : unknown_key(&b, s);
	}
	if (!ret)
		ret = check_complete(&b);
	if (ret) {
		vmcfg_free(b.cfg);
		goto out;
	}
	*out = b.cfg;
out:
	cfg_file_release(&f);
	return ret;
}

static void free_strings(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void vmcfg_free(struct vmcfg *cfg)
{
	if (!cfg)
		return;
	free(cfg->source);
	free(cfg->kernel);
	free(cfg->ramdisk);
	free(cfg->cmdline);
	free(cfg->serial_path);
	for (size_t i = 0; i < cfg->nrules; i++)
		free(cfg->rules[i].text);
	free(cfg->rules);
	free_strings(cfg->disks, cfg->ndisks);
	free_strings(cfg->vifs, cfg->nvifs);
	free(cfg);
}

const char *vmcfg_serial_name(enum vmcfg_serial serial)
{
	switch (serial) {
	case VMCFG_SERIAL_PTY:
		return "pty";
	case VMCFG_SERIAL_STDIO:
		return "stdio";
	case VMCFG_SERIAL_FILE:
		return "file";
	case VMCFG_SERIAL_NONE:
		return "none";
	}
	return "invalid";
}
