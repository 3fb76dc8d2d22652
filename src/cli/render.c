// SPDX-License-Identifier: GPL-2.0-only
#include "cli/render.h"

#include <inttypes.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bulkhead/hmx.h>

#include "toolstack/jget.h"

/* The addresses of one vif, comma-separated: 8 of at most 15 bytes. */
#define VIF_IPS_TEXT (8 * 16)

/* A growing string; on ENOMEM it stays NULL and appends do nothing. */
struct sbuf {
	char *s;
	size_t len, cap;
	bool failed;
};

static void sb_printf(struct sbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->failed)
		return;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		goto fail;
	if (b->len + (size_t)n + 1 > b->cap) {
		size_t cap = (b->len + (size_t)n + 1) * 2;
		char *s = realloc(b->s, cap);

		if (!s)
			goto fail;
		b->s = s;
		b->cap = cap;
	}
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return;
fail:
	b->failed = true;
}

static char *sb_take(struct sbuf *b)
{
	if (b->failed) {
		free(b->s);
		return NULL;
	}
	return b->s ? b->s : strdup("");
}

void render_duration(uint64_t ms, char *buf, size_t len)
{
	uint64_t s = ms / 1000;

	if (s >= 86400)
		snprintf(buf, len, "%" PRIu64 "d%02" PRIu64 "h", s / 86400,
			 s % 86400 / 3600);
	else if (s >= 3600)
		snprintf(buf, len, "%" PRIu64 "h%02" PRIu64 "m", s / 3600,
			 s % 3600 / 60);
	else if (s >= 60)
		snprintf(buf, len, "%" PRIu64 "m%02" PRIu64 "s", s / 60,
			 s % 60);
	else
		snprintf(buf, len, "%" PRIu64 "s", s);
}

/* A table of string cells, printed with columns as wide as their widest
 * cell; the last column is not padded. */
#define TABLE_COLS 9
struct table {
	size_t ncols, nrows;
	char *(*cells)[TABLE_COLS];
	size_t width[TABLE_COLS];
	bool right[TABLE_COLS];
};

static void table_row(struct table *t, const char *const *vals)
{
	char *(*rows)[TABLE_COLS] =
		realloc(t->cells, (t->nrows + 1) * sizeof(*rows));

	if (!rows)
		return;
	t->cells = rows;
	for (size_t c = 0; c < t->ncols; c++) {
		size_t w = strlen(vals[c]);

		rows[t->nrows][c] = strdup(vals[c]);
		if (w > t->width[c])
			t->width[c] = w;
	}
	t->nrows++;
}

static void table_render(struct table *t, struct sbuf *b)
{
	for (size_t r = 0; r < t->nrows; r++) {
		for (size_t c = 0; c < t->ncols; c++) {
			const char *v = t->cells[r][c] ? t->cells[r][c] : "";
			bool last = c + 1 == t->ncols;
			int w = (int)t->width[c];

			if (t->right[c])
				sb_printf(b, "%*s", w, v);
			else
				sb_printf(b, "%-*s", last ? 0 : w, v);
			sb_printf(b, last ? "\n" : "  ");
		}
		/* Trailing spaces of an empty last cell are trimmed. */
		while (b->len && b->s && b->s[b->len - 1] == '\n' &&
		       b->len >= 2 && b->s[b->len - 2] == ' ') {
			b->s[b->len - 2] = '\n';
			b->s[--b->len] = '\0';
		}
	}
	for (size_t r = 0; r < t->nrows; r++)
		for (size_t c = 0; c < t->ncols; c++)
			free(t->cells[r][c]);
	free(t->cells);
}

/* "xvda,xvdb(ro)": a VM's disks in guest order, or "-". */
static const char *disk_summary(struct json_object *disks, char *buf,
				size_t len)
{
	size_t n = disks ? json_object_array_length(disks) : 0, at = 0;

	if (!n)
		return "-";
	buf[0] = '\0';
	for (size_t i = 0; i < n && at < len; i++) {
		struct json_object *d = json_object_array_get_idx(disks, i);
		const char *access = jget_str(d, "access") ?: "";
		int w = snprintf(buf + at, len - at, "%s%s%s", i ? "," : "",
				 jget_str(d, "vdev") ?: "?",
				 strcmp(access, "ro") ? "" : "(ro)");

		if (w < 0)
			break;
		at += (size_t)w;
	}
	return buf;
}

/* "luks,temporary-encrypted,verity": what lies between guest and image. */
static void disk_layers(struct json_object *d, char *buf, size_t len)
{
	const char *snap = jget_str(d, "snapshot");
	size_t n = 0;

	buf[0] = '\0';
	if (jget_bool(d, "encrypted", false))
		n += (size_t)snprintf(buf + n, len - n, "luks,");
	if (snap && strcmp(snap, "persistent") && n < len)
		n += (size_t)snprintf(buf + n, len - n, "%s,", snap);
	if (jget_bool(d, "verity", false) && n < len)
		n += (size_t)snprintf(buf + n, len - n, "verity,");
	if (n && n < len)
		buf[n - 1] = '\0';
	else if (!n)
		snprintf(buf, len, "-");
}

char *render_disk_table(struct json_object *disks)
{
	struct table t = { .ncols = 9 };
	struct sbuf b = { 0 };
	static const char *const head[] = { "VDEV",    "GUEST",	 "TARGET",
					    "FORMAT",  "ACCESS", "LAYERS",
					    "BACKEND", "PID",	 "STATE" };

	t.right[7] = true;
	table_row(&t, head);
	for (size_t i = 0; disks && i < json_object_array_length(disks); i++) {
		struct json_object *d = json_object_array_get_idx(disks, i);
		char guest[32], pid[24] = "-", layers[64];
		const char *vals[9];
		int64_t p = jget_int(d, "pid", -1);

		/* Disks are in vdev order, which is the guest's /dev/vd* order. */
		if (i < 26)
			snprintf(guest, sizeof(guest), "/dev/vd%c",
				 (int)('a' + i));
		else
			snprintf(guest, sizeof(guest), "-");
		if (p > 0)
			snprintf(pid, sizeof(pid), "%" PRId64, p);
		vals[0] = jget_str(d, "vdev") ?: "?";
		vals[1] = guest;
		vals[2] = jget_str(d, "target") ?: "?";
		vals[3] = jget_str(d, "format") ?: "?";
		vals[4] = jget_str(d, "access") ?: "?";
		disk_layers(d, layers, sizeof(layers));
		vals[5] = layers;
		vals[6] = jget_str(d, "backend") ?: "?";
		vals[7] = pid;
		vals[8] = jget_str(d, "state") ?: "?";
		table_row(&t, vals);
	}
	table_render(&t, &b);
	return sb_take(&b);
}

char *render_vif_table(struct json_object *vifs)
{
	struct table t = { .ncols = 6 };
	struct sbuf b = { 0 };
	static const char *const head[] = { "IDX", "BACKEND", "BE-ID",
					    "MAC", "IP",      "STATE" };

	t.right[0] = t.right[2] = true;
	table_row(&t, head);
	for (size_t i = 0; vifs && i < json_object_array_length(vifs); i++) {
		struct json_object *v = json_object_array_get_idx(vifs, i);
		struct json_object *ips = jget(v, "ip", json_type_array);
		char idx[24], be[24] = "-", ip[VIF_IPS_TEXT] = "";
		const char *vals[6];
		int64_t x = jget_int(v, "backend_domid", -1);
		size_t used = 0;

		snprintf(idx, sizeof(idx), "%" PRId64, jget_int(v, "index", 0));
		if (x >= 0)
			snprintf(be, sizeof(be), "%" PRId64, x);
		for (size_t k = 0; ips && k < json_object_array_length(ips) &&
				   used < sizeof(ip);
		     k++)
			used += (size_t)snprintf(
				ip + used, sizeof(ip) - used, "%s%s",
				k ? "," : "",
				json_object_get_string(
					json_object_array_get_idx(ips, k)));
		vals[0] = idx;
		vals[1] = jget_str(v, "backend") ?: "(default ndvm)";
		vals[2] = be;
		vals[3] = jget_str(v, "mac") ?: "(derived)";
		vals[4] = ip[0] ? ip : "-";
		vals[5] = jget_str(v, "state") ?: "?";
		table_row(&t, vals);
	}
	table_render(&t, &b);
	return sb_take(&b);
}

char *render_vm_table(struct json_object *vms)
{
	struct table t = { .ncols = 9 };
	struct sbuf b = { 0 };
	static const char *const head[] = { "NAME",  "ID",     "ROLE",
					    "MEM",   "VCPUS",  "DISKS",
					    "STATE", "UPTIME", "INFO" };

	t.right[1] = t.right[3] = t.right[4] = true;
	table_row(&t, head);
	for (size_t i = 0; vms && i < json_object_array_length(vms); i++) {
		struct json_object *v = json_object_array_get_idx(vms, i);
		char id[24] = "-", mem[24] = "-", vcpus[24] = "-";
		char up[32] = "-", info[320] = "", disks[160];
		const char *vals[9];
		int64_t x;

		if ((x = jget_int(v, "domid", -1)) >= 0)
			snprintf(id, sizeof(id), "%" PRId64, x);
		if ((x = jget_int(v, "memory_mib", -1)) >= 0)
			snprintf(mem, sizeof(mem), "%" PRId64 "M", x);
		if ((x = jget_int(v, "vcpus", -1)) >= 0)
			snprintf(vcpus, sizeof(vcpus), "%" PRId64, x);
		if ((x = jget_int(v, "uptime_ms", -1)) >= 0)
			render_duration((uint64_t)x, up, sizeof(up));
		const char *derr = jget_str(v, "definition_error");
		const char *reason = jget_str(v, "stop_reason");
		const char *detail = jget_str(v, "stop_detail") ?: "";

		if (derr)
			snprintf(info, sizeof(info), "definition: %s", derr);
		else if (jget_int(v, "domid", -1) < 0 && reason)
			snprintf(info, sizeof(info), "%s%s%s", reason,
				 detail[0] ? ": " : "", detail);
		else if (jget_int(v, "crash_restarts", 0) > 0)
			snprintf(info, sizeof(info),
				 "%" PRId64 " crash restarts, %" PRId64
				 " guest reboots",
				 jget_int(v, "crash_restarts", 0),
				 jget_int(v, "guest_reboots", 0));
		else if (jget_int(v, "guest_reboots", 0) > 0)
			snprintf(info, sizeof(info),
				 "%" PRId64 " guest reboots",
				 jget_int(v, "guest_reboots", 0));
		vals[0] = jget_str(v, "name") ?: "?";
		vals[1] = id;
		vals[2] = jget_str(v, "role") ?: "-";
		vals[3] = mem;
		vals[4] = vcpus;
		vals[5] = disk_summary(jget(v, "disks", json_type_array), disks,
				       sizeof(disks));
		vals[6] = jget_str(v, "state") ?: "?";
		vals[7] = up;
		vals[8] = info;
		table_row(&t, vals);
	}
	table_render(&t, &b);
	return sb_take(&b);
}

/* "web(5)", "host", "any", or "dom7" for a domid no running VM has. */
static void domid_label(struct json_object *domains, int64_t domid, char *buf,
			size_t len)
{
	if (domid == HMX_DOMID_HOST) {
		snprintf(buf, len, "host");
		return;
	}
	if (domid == HMX_DOMID_ANY) {
		snprintf(buf, len, "any");
		return;
	}
	for (size_t i = 0; domains && i < json_object_array_length(domains);
	     i++) {
		struct json_object *d = json_object_array_get_idx(domains, i);

		if (jget_int(d, "domid", -1) == domid) {
			snprintf(buf, len, "%s(%" PRId64 ")",
				 jget_str(d, "name") ?: "?", domid);
			return;
		}
	}
	snprintf(buf, len, "dom%" PRId64, domid);
}

static void endpoint_label(struct json_object *domains, int64_t domid,
			   int64_t port, char *buf, size_t len)
{
	char d[64];

	domid_label(domains, domid, d, sizeof(d));
	if (port == (int64_t)HMX_PORT_ANY)
		snprintf(buf, len, "%s:*", d);
	else
		snprintf(buf, len, "%s:%" PRId64, d, port);
}

static void render_rules(struct json_object *policy, struct json_object *hits,
			 int64_t default_denied, struct sbuf *b)
{
	struct json_object *entries = jget(policy, "entries", json_type_array);
	struct json_object *origins = jget(policy, "origins", json_type_array);
	struct json_object *domains = jget(policy, "domains", json_type_array);
	static const char *const head[] = { "#",	   "ACTION", "SOURCE",
					    "DESTINATION", "HITS",   "FROM" };
	struct table t = { .ncols = 6 };
	size_t n = entries ? json_object_array_length(entries) : 0;
	char dflt[32] = "-";
	bool unused = false;

	t.right[0] = t.right[4] = true;
	table_row(&t, head);
	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(entries, i);
		struct json_object *o = json_object_array_get_idx(
			origins, (size_t)jget_int(e, "origin", 0));
		char idx[24], src[96], dst[96], hit[32] = "-", from[600];
		const char *vals[6];

		snprintf(idx, sizeof(idx), "%zu", i + 1);
		endpoint_label(domains, jget_int(e, "src_domid", -1),
			       jget_int(e, "src_port", -1), src, sizeof(src));
		endpoint_label(domains, jget_int(e, "dst_domid", -1),
			       jget_int(e, "dst_port", -1), dst, sizeof(dst));
		if (hits && i < json_object_array_length(hits))
			snprintf(hit, sizeof(hit), "%" PRId64,
				 json_object_get_int64(
					 json_object_array_get_idx(hits, i)));
		snprintf(from, sizeof(from),
			 "%s:%" PRId64 " %s %s[%" PRId64 "] \"%s\"",
			 jget_str(o, "file") ?: "?", jget_int(o, "line", 0),
			 jget_str(o, "vm") ?: "?",
			 jget_str(o, "kind") ?: "hmx_rules",
			 jget_int(o, "rule_index", 0),
			 jget_str(o, "rule") ?: "");
		vals[0] = idx;
		vals[1] = jget_str(e, "action") ?: "?";
		vals[2] = src;
		vals[3] = dst;
		vals[4] = hit;
		vals[5] = from;
		table_row(&t, vals);
	}
	if (default_denied >= 0)
		snprintf(dflt, sizeof(dflt), "%" PRId64, default_denied);
	table_row(&t, (const char *const[]){ "-", "reject", "any:*", "any:*",
					     dflt, "default deny" });
	table_render(&t, b);
	for (size_t i = 0; origins && i < json_object_array_length(origins);
	     i++) {
		struct json_object *o = json_object_array_get_idx(origins, i);

		if (jget_int(o, "entries", 1) != 0)
			continue;
		if (!unused)
			sb_printf(
				b,
				"\nRules without effect now (they name no running VM with HMX, or a vif's backend is not running):\n");
		unused = true;
		sb_printf(b, "  %s:%" PRId64 " %s %s[%" PRId64 "] \"%s\"\n",
			  jget_str(o, "file") ?: "?", jget_int(o, "line", 0),
			  jget_str(o, "vm") ?: "?",
			  jget_str(o, "kind") ?: "hmx_rules",
			  jget_int(o, "rule_index", 0),
			  jget_str(o, "rule") ?: "");
	}
}

static void render_audit(struct json_object *audit, struct json_object *domains,
			 struct sbuf *b)
{
	struct json_object *entries = jget(audit, "entries", json_type_array);
	static const char *const head[] = { "TIME", "OP", "SOURCE",
					    "DESTINATION", "DECIDED BY" };
	struct table t = { .ncols = 5 };
	size_t n = entries ? json_object_array_length(entries) : 0;

	sb_printf(b, "\nAudit log (refused operations), last %zu of %" PRId64,
		  n, jget_int(audit, "total_kept", (int64_t)n));
	if (jget_int(audit, "dropped", 0) > 0)
		sb_printf(b, " (%" PRId64 " more were lost)",
			  jget_int(audit, "dropped", 0));
	sb_printf(b, ":\n");
	if (!n)
		return;
	table_row(&t, head);
	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(entries, i);
		struct json_object *s = jget(e, "src", json_type_object);
		struct json_object *d = jget(e, "dst", json_type_object);
		const char *kind = jget_str(e, "kind") ?: "?";
		char when[40], src[96], dst[96], by[300], op[48];
		int64_t ns = jget_int(e, "time_ns", 0);
		const char *vals[5];

		const char *slabel = jget_str(e, "src_label");
		const char *dlabel = jget_str(e, "dst_label");
		const char *rtext = jget_str(e, "rule_text");
		time_t secs = (time_t)(ns / 1000000000);
		struct tm tm;

		if (localtime_r(&secs, &tm))
			snprintf(when, sizeof(when), "%02d:%02d:%02d.%03d",
				 tm.tm_hour, tm.tm_min, tm.tm_sec,
				 (int)(ns % 1000000000 / 1000000));
		else
			snprintf(when, sizeof(when), "%" PRId64, ns);
		/* Labels given when the entry was drained name the VMs of
		 * that moment; else name them by today's set. */
		if (slabel)
			snprintf(src, sizeof(src), "%s", slabel);
		else
			endpoint_label(domains, jget_int(s, "domid", -1),
				       jget_int(s, "aport", -1), src,
				       sizeof(src));
		if (dlabel)
			snprintf(dst, sizeof(dst), "%s", dlabel);
		else
			endpoint_label(domains, jget_int(d, "domid", -1),
				       jget_int(d, "aport", -1), dst,
				       sizeof(dst));
		if (!strcmp(kind, "rule") && rtext)
			snprintf(by, sizeof(by), "rule: %s", rtext);
		else if (!strcmp(kind, "rule"))
			snprintf(by, sizeof(by), "rule #%" PRId64,
				 jget_int(e, "rule", -1) + 1);
		else if (!strcmp(kind, "default"))
			snprintf(by, sizeof(by), "default deny");
		else if (!strcmp(kind, "source"))
			snprintf(by, sizeof(by),
				 "source port not owned by the sender");
		else
			snprintf(by, sizeof(by), "%s", kind);
		/* Folded repeats of the same refusal: how many in all. */
		if (jget_int(e, "repeats", 0) > 0)
			snprintf(op, sizeof(op), "%s x%" PRId64,
				 jget_str(e, "op") ?: "?",
				 jget_int(e, "repeats", 0) + 1);
		else
			snprintf(op, sizeof(op), "%s",
				 jget_str(e, "op") ?: "?");
		vals[0] = when;
		vals[1] = op;
		vals[2] = src;
		vals[3] = dst;
		vals[4] = by;
		table_row(&t, vals);
	}
	table_render(&t, b);
}

char *render_policy(struct json_object *reply)
{
	struct json_object *policy = jget(reply, "policy", json_type_object);
	struct json_object *stats = jget(reply, "stats", json_type_object);
	struct json_object *audit = jget(reply, "audit", json_type_object);
	struct json_object *entries = jget(policy, "entries", json_type_array);
	struct sbuf b = { 0 };

	if (!policy) {
		sb_printf(&b, "No policy compiled%s%s\n",
			  jget_str(reply, "error") ? ": " : "",
			  jget_str(reply, "error") ?: "");
		return sb_take(&b);
	}
	sb_printf(&b,
		  "HMX firewall: %zu entries, first match wins, default deny",
		  entries ? json_object_array_length(entries) : 0);
	if (!jget_bool(reply, "enforced", false))
		sb_printf(
			&b,
			"\n(not installed: this hypervisor has no HMX, so no VM has an HMX device and no flow exists)");
	else if (stats && jget_str(stats, "error"))
		sb_printf(&b, "\n(counters unavailable: %s)",
			  jget_str(stats, "error"));
	else if (stats)
		sb_printf(&b,
			  " (hypervisor generation %" PRId64 ", %" PRId64
			  " rules)",
			  jget_int(stats, "generation", 0),
			  jget_int(stats, "nrules", 0));
	sb_printf(&b, "\n");
	if (jget_str(reply, "error"))
		sb_printf(&b, "last update failed: %s\n",
			  jget_str(reply, "error"));
	render_rules(policy, jget(stats, "hits", json_type_array),
		     stats ? jget_int(stats, "default_denied", -1) : -1, &b);
	if (audit && jget_str(audit, "error"))
		sb_printf(&b, "\nAudit log unavailable: %s\n",
			  jget_str(audit, "error"));
	else if (audit)
		render_audit(audit, jget(policy, "domains", json_type_array),
			     &b);
	return sb_take(&b);
}
