// SPDX-License-Identifier: GPL-2.0-only
/* The keys of a VM definition: what each accepts, its bounds, its default. */
#include "toolstack/vmcfg.h"

#include "toolstack/cfg_parse.h"
#include "toolstack/vmcfg_builder.h"
#include "util/parse.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int vmcfg_bad_value(struct builder *b, const char *key,
		    const struct cfg_value *v, const char *expected)
{
	char got[64];

	describe_value(v, got, sizeof(got));
	cfg_error_set(b->err, b->file, v->line, v->column,
		      "%s: expected %s, got %s", key, expected, got);
	return -EINVAL;
}

int vmcfg_nomem(struct builder *b, const struct cfg_value *v)
{
	cfg_error_set(b->err, b->file, v->line, v->column, "out of memory");
	return -ENOMEM;
}

int vmcfg_add_warning(struct builder *b, unsigned int line, unsigned int column,
		      const char *fmt, ...)
{
	struct vmcfg *cfg = b->cfg;
	struct cfg_error *w;
	va_list ap;

	w = realloc(cfg->warnings, (cfg->nwarnings + 1) * sizeof(*w));
	if (!w) {
		cfg_error_set(b->err, b->file, line, column, "out of memory");
		return -ENOMEM;
	}
	cfg->warnings = w;
	w = &cfg->warnings[cfg->nwarnings++];
	cfg_error_set(w, b->file, line, column, "%s", "");
	va_start(ap, fmt);
	vsnprintf(w->msg, sizeof(w->msg), fmt, ap);
	va_end(ap);
	return 0;
}

size_t vmcfg_char_number(const char *s, size_t offset)
{
	size_t n = 1;

	/* UTF-8 continuation bytes do not start a character. */
	for (size_t i = 0; i < offset; i++)
		n += ((unsigned char)s[i] & 0xc0) != 0x80;
	return n;
}

static int resolve(struct builder *b, const char *key,
		   const struct cfg_value *v, const char *path, char **out)
{
	*out = vmcfg_resolve_path(b->base_dir, path);
	if (*out)
		return 0;
	if (errno == ENOMEM)
		return vmcfg_nomem(b, v);
	if (errno == EINVAL)
		return vmcfg_bad_value(
			b, key, v,
			"an absolute path (relative paths need a file to be relative to)");
	return vmcfg_bad_value(
		b, key, v,
		"a path of at most 4095 bytes once resolved against the file's directory");
}

static int apply_name(struct builder *b, const struct cfg_setting *s)
{
	const struct cfg_value *v = &s->value;
	const char *problem;
	char expected[160];

	if (v->kind != CFG_VAL_STRING)
		return vmcfg_bad_value(b, s->key, v, "a quoted VM name");
	problem = vm_name_problem(v->text, v->len);
	if (problem) {
		snprintf(expected, sizeof(expected), "a valid VM name (%s)",
			 problem);
		return vmcfg_bad_value(b, s->key, v, expected);
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
		return vmcfg_bad_value(b, s->key, v, expected);
	if (bytes & ((1u << 20) - 1))
		return vmcfg_bad_value(b, s->key, v, "a whole number of MiB");
	bytes >>= 20;
	if (bytes < VMCFG_MEMORY_MIN_MIB || bytes > VMCFG_MEMORY_MAX_MIB)
		return vmcfg_bad_value(b, s->key, v, expected);
	b->cfg->memory_mib = (uint32_t)bytes;
	return 0;
}

static int apply_vcpus(struct builder *b, const struct cfg_setting *s)
{
	const struct cfg_value *v = &s->value;
	uint64_t n;

	if (v->kind != CFG_VAL_NUMBER || bh_parse_u64(v->text, &n) || n < 1 ||
	    n > VMCFG_VCPUS_MAX)
		return vmcfg_bad_value(b, s->key, v,
				       "an integer between 1 and 64");
	b->cfg->vcpus = (uint32_t)n;
	return 0;
}

static int apply_path(struct builder *b, const struct cfg_setting *s,
		      char **out)
{
	const struct cfg_value *v = &s->value;

	if (v->kind != CFG_VAL_STRING || v->len == 0)
		return vmcfg_bad_value(b, s->key, v, "a non-empty quoted path");
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

	b->cmdline_setting = s;
	if (v->kind != CFG_VAL_STRING || v->len > VMCFG_CMDLINE_MAX)
		return vmcfg_bad_value(
			b, s->key, v,
			"a quoted kernel command line of at most 2047 bytes");
	copy = strdup(v->text);
	if (!copy)
		return vmcfg_nomem(b, v);
	free(b->cfg->cmdline);
	b->cfg->cmdline = copy;
	return 0;
}

/* root and extra: kept as settings, joined into cmdline at the end. */
static int apply_root(struct builder *b, const struct cfg_setting *s)
{
	const struct cfg_value *v = &s->value;

	b->root_setting = s;
	if (v->kind != CFG_VAL_STRING || v->len == 0 ||
	    v->len > VMCFG_CMDLINE_MAX)
		return vmcfg_bad_value(
			b, s->key, v,
			"a quoted, non-empty root device such as \"/dev/vda1\"");
	return 0;
}

static int apply_extra(struct builder *b, const struct cfg_setting *s)
{
	const struct cfg_value *v = &s->value;

	b->extra_setting = s;
	if (v->kind != CFG_VAL_STRING || v->len > VMCFG_CMDLINE_MAX)
		return vmcfg_bad_value(
			b, s->key, v,
			"quoted kernel parameters of at most 2047 bytes");
	return 0;
}

/* xl's guest type. Bulkhead boots every kernel directly, as xl's pv/pvh. */
static int apply_type(struct builder *b, const struct cfg_setting *s)
{
	const struct cfg_value *v = &s->value;
	enum vm_role role;

	if (v->kind == CFG_VAL_STRING) {
		if (!strcmp(v->text, "pvh") || !strcmp(v->text, "pv"))
			return 0;
		if (!strcmp(v->text, "hvm")) {
			cfg_error_set(
				b->err, b->file, v->line, v->column,
				"type: \"hvm\" needs firmware and emulated devices; Bulkhead boots kernels directly: use \"pvh\"");
			return -EINVAL;
		}
		/* Before role had its own key, type named it. */
		if (vm_role_from_name(v->text, v->len, &role)) {
			cfg_error_set(
				b->err, b->file, v->line, v->column,
				"type: \"%s\" is a Bulkhead role, which has its own key now: write role = \"%s\" (type is xl's guest type, \"pvh\")",
				vm_role_name(role), vm_role_name(role));
			return -EINVAL;
		}
	}
	return vmcfg_bad_value(
		b, s->key, v,
		"\"pvh\" or \"pv\" (both boot the kernel directly)");
}

static int apply_role(struct builder *b, const struct cfg_setting *s)
{
	const struct cfg_value *v = &s->value;

	if (v->kind != CFG_VAL_STRING ||
	    !vm_role_from_name(v->text, v->len, &b->cfg->role))
		return vmcfg_bad_value(
			b, s->key, v,
			"one of \"guest\", \"ndvm\" or \"service\"");
	return 0;
}

static bool tag_ok(const char *s, size_t len)
{
	if (len == 0 || len > VMCFG_TAG_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return false;
	}
	return true;
}

static int apply_tags(struct builder *b, const struct cfg_setting *s)
{
	const struct cfg_value *v = &s->value;
	int ret = vmcfg_check_string_list(
		b, s, VMCFG_TAGS_MAX,
		"a list of quoted tags [ \"work\", ... ]");

	if (ret)
		return ret;
	for (size_t i = 0; i < v->nitems; i++) {
		const struct cfg_value *item = &v->items[i];
		char shown[64];

		cfg_quote(item->text, item->len, shown, sizeof(shown));
		if (!tag_ok(item->text, item->len)) {
			cfg_error_set(
				b->err, b->file, item->line, item->column,
				"tags[%zu]: %s: a tag is 1..%d bytes of [A-Za-z0-9_-]",
				i, shown, VMCFG_TAG_MAX);
			return -EINVAL;
		}
		for (size_t j = 0; j < i; j++) {
			if (!strcmp(b->cfg->tags[j], item->text)) {
				cfg_error_set(
					b->err, b->file, item->line,
					item->column,
					"tags[%zu]: %s is already tags[%zu]", i,
					shown, j);
				return -EINVAL;
			}
		}
		memcpy(b->cfg->tags[i], item->text, item->len);
		b->cfg->tags[i][item->len] = '\0';
		b->cfg->ntags = i + 1;
	}
	return 0;
}

static int apply_on_crash(struct builder *b, const struct cfg_setting *s)
{
	/* xl's other actions, and why Bulkhead has none of them. */
	static const char *const refused[][2] = {
		{ "preserve", "a crashed VM's memory is never kept" },
		{ "coredump-destroy", "guest memory is never dumped" },
		{ "coredump-restart", "guest memory is never dumped" },
		{ "rename-restart", "a VM keeps its name" },
		{ "soft-reset", "there is no soft reset" },
	};
	const struct cfg_value *v = &s->value;

	b->on_crash_setting = s;
	if (v->kind == CFG_VAL_STRING && !strcmp(v->text, "destroy")) {
		b->cfg->on_crash = VMCFG_ON_CRASH_DESTROY;
		return 0;
	}
	if (v->kind == CFG_VAL_STRING && !strcmp(v->text, "restart")) {
		b->cfg->on_crash = VMCFG_ON_CRASH_RESTART;
		return 0;
	}
	for (size_t i = 0; v->kind == CFG_VAL_STRING &&
			   i < sizeof(refused) / sizeof(*refused);
	     i++) {
		if (!strcmp(v->text, refused[i][0])) {
			cfg_error_set(
				b->err, b->file, v->line, v->column,
				"on_crash: \"%s\" is an xl action Bulkhead does not support (%s): use \"destroy\" or \"restart\"",
				refused[i][0], refused[i][1]);
			return -EINVAL;
		}
	}
	return vmcfg_bad_value(b, s->key, v, "\"destroy\" or \"restart\"");
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
	return vmcfg_bad_value(
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
		return vmcfg_bad_value(b, s->key, v, expected);
	if (!strcmp(v->text, "pty")) {
		b->cfg->serial = VMCFG_SERIAL_PTY;
	} else if (!strcmp(v->text, "stdio")) {
		b->cfg->serial = VMCFG_SERIAL_STDIO;
	} else if (!strcmp(v->text, "none")) {
		b->cfg->serial = VMCFG_SERIAL_NONE;
	} else if (!strncmp(v->text, "file:", 5)) {
		if (v->len == 5)
			return vmcfg_bad_value(b, s->key, v,
					       "a path after \"file:\"");
		b->cfg->serial = VMCFG_SERIAL_FILE;
		return resolve(b, s->key, v, v->text + 5, &b->cfg->serial_path);
	} else {
		return vmcfg_bad_value(b, s->key, v, expected);
	}
	return 0;
}

int vmcfg_check_string_list(struct builder *b, const struct cfg_setting *s,
			    size_t max, const char *expected)
{
	const struct cfg_value *v = &s->value;
	char msg[160];

	if (v->kind != CFG_VAL_LIST)
		return vmcfg_bad_value(b, s->key, v, expected);
	if (v->nitems > max) {
		snprintf(msg, sizeof(msg), "at most %zu entries", max);
		return vmcfg_bad_value(b, s->key, &v->items[max], msg);
	}
	for (size_t i = 0; i < v->nitems; i++) {
		if (v->items[i].kind != CFG_VAL_STRING)
			return vmcfg_bad_value(
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
	ret = vmcfg_check_string_list(
		b, s, VMCFG_RULES_MAX,
		"a list of quoted rules [ \"myself -> host:5555\", ... ]");
	if (ret || !v->nitems)
		return ret;
	rules = calloc(v->nitems, sizeof(*rules));
	if (!rules)
		return vmcfg_nomem(b, v);
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
			return vmcfg_nomem(b, item);
		rules[i].line = item->line;
		rules[i].column = item->column;
		b->cfg->nrules = i + 1;
	}
	return 0;
}

/* In the order the unknown-key message lists them. */
static const struct key_spec keys[] = {
	{ "name", apply_name },		{ "role", apply_role },
	{ "tags", apply_tags },		{ "type", apply_type },
	{ "memory", apply_memory },	{ "vcpus", apply_vcpus },
	{ "kernel", apply_kernel },	{ "ramdisk", apply_ramdisk },
	{ "cmdline", apply_cmdline },	{ "root", apply_root },
	{ "extra", apply_extra },	{ "disk", vmcfg_apply_disk },
	{ "vif", vmcfg_apply_vif },	{ "serial", apply_serial },
	{ "hmx", apply_hmx },		{ "hmx_rules", apply_rules },
	{ "vsock", apply_vsock },	{ "autostart", apply_autostart },
	{ "on_crash", apply_on_crash }, { "measure_expect", vmcfg_expect },
	{ "nic", vmcfg_apply_nic },
};
#define NKEYS (sizeof(keys) / sizeof(*keys))

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
	size_t best_d = 3, n = 0;
	char hint[48] = "", list[320];

	if (xl_key_unsupported(s->key)) {
		cfg_error_set(b->err, b->file, s->line, s->column,
			      "%s: an xl key Bulkhead does not support",
			      s->key);
		return -EINVAL;
	}
	for (size_t i = 0; i < NKEYS; i++) {
		size_t d = edit_distance(s->key, keys[i].key);

		if (d < best_d) {
			best_d = d;
			best = keys[i].key;
		}
		n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s",
				      i == 0	     ? "" :
				      i == NKEYS - 1 ? " and " :
						       ", ",
				      keys[i].key);
	}
	if (best)
		snprintf(hint, sizeof(hint), " (did you mean %s?)", best);
	cfg_error_set(b->err, b->file, s->line, s->column,
		      "%.64s: unknown key%s; the keys are %s", s->key, hint,
		      list);
	return -EINVAL;
}

/*
 * xl's rule: cmdline wins over root and extra, which are dropped with a
 * warning. A file saying both is refused here instead: one of them is a
 * mistake, and a dropped root= would surface only as a guest that does
 * not boot.
 */
static int build_cmdline(struct builder *b)
{
	const struct cfg_setting *root = b->root_setting;
	const struct cfg_setting *extra = b->extra_setting;
	const struct cfg_setting *c = b->cmdline_setting;
	const struct cfg_setting *first = root ? root : extra;
	size_t n;
	char *line;

	if (!first)
		return 0;
	if (c) {
		cfg_error_set(
			b->err, b->file, first->line, first->column,
			"%s: cannot be used with cmdline (line %u): xl would ignore %s; put the whole command line in cmdline",
			first->key, c->line, first->key);
		return -EINVAL;
	}
	/* "root=" ROOT [" " EXTRA], or EXTRA alone. */
	n = (root ? 5 + root->value.len : 0) + (root && extra ? 1 : 0) +
	    (extra ? extra->value.len : 0);
	if (n > VMCFG_CMDLINE_MAX) {
		cfg_error_set(
			b->err, b->file, first->line, first->column,
			"%s: the kernel command line it makes is %zu bytes; at most 2047",
			first->key, n);
		return -EINVAL;
	}
	line = malloc(n + 1);
	if (!line)
		return vmcfg_nomem(b, &first->value);
	snprintf(line, n + 1, "%s%s%s%s", root ? "root=" : "",
		 root ? root->value.text : "", root && extra ? " " : "",
		 extra ? extra->value.text : "");
	free(b->cfg->cmdline);
	b->cfg->cmdline = line;
	return 0;
}

static int check_complete(struct builder *b)
{
	static const char *const required[] = { "name", "memory", "kernel" };
	const struct vmcfg *cfg = b->cfg;
	const bool present[] = { cfg->name[0] != '\0', cfg->memory_mib != 0,
				 cfg->kernel != NULL };
	int ret;

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
	/* Service VMs others depend on come back by themselves. */
	if (!b->on_crash_setting)
		b->cfg->on_crash = cfg->role == VM_ROLE_GUEST ?
					   VMCFG_ON_CRASH_DESTROY :
					   VMCFG_ON_CRASH_RESTART;
	ret = build_cmdline(b);
	if (!ret)
		ret = vmcfg_check_measure_expect(b);
	if (!ret)
		ret = vmcfg_check_vifs(b);
	if (!ret)
		ret = vmcfg_check_nics(b);
	return ret;
}

static struct vmcfg *vmcfg_new(const char *source)
{
	struct vmcfg *cfg = calloc(1, sizeof(*cfg));

	if (!cfg)
		return NULL;
	cfg->role = VM_ROLE_GUEST;
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

static void free_disks(struct disk_spec *d, size_t n)
{
	for (size_t i = 0; i < n; i++)
		disk_spec_release(&d[i]);
	free(d);
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
	free_disks(cfg->disks, cfg->ndisks);
	free(cfg->vifs);
	free(cfg->nics);
	free(cfg->warnings);
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
