// SPDX-License-Identifier: GPL-2.0-only
/*
 * xl disk specifications. The grammar follows xl's own scanner: comma
 * separated parameters, each a flag, a key=value or a positional value
 * (target, format, vdev, access in that order, skipping any already
 * given); leading blanks are dropped; target= takes the rest of the
 * string; deprecated "prefix:" forms are understood.
 */
#include "toolstack/disk_spec.h"

#include "toolstack/cfg_error.h"
#include "toolstack/vmcfg.h"
#include "util/hex.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum param_id { P_TARGET, P_FORMAT, P_VDEV, P_ACCESS, P_COUNT };

static const char *const param_names[P_COUNT] = { "target", "format", "vdev",
						  "access" };

struct param {
	bool given; /* positionally or by name, possibly empty */
	size_t offset; /* of the value in the spec */
	size_t len;
};

struct parser {
	const char *s;
	size_t len;
	struct disk_spec *out;
	struct disk_spec_error *err;
	struct param p[P_COUNT];
	bool had_prefix; /* xl: after a "prefix:", no format positional */
	bool backend_given;
	size_t backend_offset;
	bool discard_given;
	size_t discard_offset;
	/* Bulkhead's own keys: given, and where (for messages). */
	bool snapshot_given, measure_given, verify_given, verity_given;
	bool verity_hash_given;
	size_t snapshot_offset, measure_offset, verify_offset, verity_offset;
	size_t verity_hash_offset; /* of the value */
	size_t verity_hash_len;
};

static int fail(struct parser *ps, size_t offset, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(struct parser *ps, size_t offset, const char *fmt, ...)
{
	va_list ap;

	ps->err->offset = offset;
	va_start(ap, fmt);
	vsnprintf(ps->err->msg, sizeof(ps->err->msg), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Quotes n bytes at offset for a message. */
static const char *quoted(const struct parser *ps, size_t offset, size_t n,
			  char *buf, size_t len)
{
	cfg_quote(ps->s + offset, n, buf, len);
	return buf;
}

static bool text_is(const char *t, size_t n, const char *word)
{
	return strlen(word) == n && !memcmp(t, word, n);
}

static bool is_lower(char c)
{
	return c >= 'a' && c <= 'z';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* xl's parameter names: a lower-case letter, then [-a-z0-9_]. */
static bool is_key(const char *t, size_t n)
{
	if (!n || !is_lower(t[0]))
		return false;
	for (size_t i = 1; i < n; i++) {
		if (!is_lower(t[i]) && !is_digit(t[i]) && t[i] != '-' &&
		    t[i] != '_')
			return false;
	}
	return true;
}

static int unsupported(struct parser *ps, size_t offset, const char *what,
		       const char *why)
{
	return fail(ps, offset,
		    "%s: an xl disk key Bulkhead does not support%s", what,
		    why);
}

static int check_format(struct parser *ps, size_t off, size_t n)
{
	static const char *const xl_only[] = { "qcow", "vhd", "qed", "empty" };
	const char *t = ps->s + off;
	char q[64];

	if (n == 0 || text_is(t, n, "raw")) {
		ps->out->format = DISK_FORMAT_RAW;
		return 0;
	}
	if (text_is(t, n, "qcow2")) {
		ps->out->format = DISK_FORMAT_QCOW2;
		return 0;
	}
	for (size_t i = 0; i < sizeof(xl_only) / sizeof(*xl_only); i++) {
		if (text_is(t, n, xl_only[i]))
			return fail(
				ps, off,
				"format: %s is an xl format Bulkhead does not support; use raw or qcow2",
				quoted(ps, off, n, q, sizeof(q)));
	}
	return fail(ps, off, "format: unknown format %s: expected raw or qcow2",
		    quoted(ps, off, n, q, sizeof(q)));
}

static int check_access(struct parser *ps, size_t off, size_t n)
{
	const char *t = ps->s + off;
	char q[64];

	if (n == 0 || text_is(t, n, "rw") || text_is(t, n, "w")) {
		ps->out->readonly = false;
		return 0;
	}
	if (text_is(t, n, "ro") || text_is(t, n, "r")) {
		ps->out->readonly = true;
		return 0;
	}
	return fail(ps, off,
		    "access: unknown access %s: expected ro, r, rw or w",
		    quoted(ps, off, n, q, sizeof(q)));
}

static int check_vdev(struct parser *ps, size_t off, size_t n)
{
	const char *problem;
	char q[64];

	if (n == 0)
		return 0; /* an empty value is "not given"; checked at the end */
	problem = disk_vdev_index(ps->s + off, n, &ps->out->index);
	if (problem)
		return fail(ps, off, "vdev %s: %s",
			    quoted(ps, off, n, q, sizeof(q)), problem);
	memcpy(ps->out->vdev, ps->s + off, n);
	ps->out->vdev[n] = '\0';
	return 0;
}

/*
 * Records parameter p's value. A parameter is given at most once, but an
 * empty value means "the default" and may be given again (xl does so).
 */
static int set_param(struct parser *ps, enum param_id p, size_t off, size_t n)
{
	struct param *pp = &ps->p[p];

	if (pp->given && pp->len)
		return fail(ps, off, "%s given twice (first at character %zu)",
			    param_names[p], pp->offset + 1);
	pp->given = true;
	pp->offset = off;
	pp->len = n;
	switch (p) {
	case P_FORMAT:
		return check_format(ps, off, n);
	case P_VDEV:
		return check_vdev(ps, off, n);
	case P_ACCESS:
		return check_access(ps, off, n);
	case P_TARGET:
	case P_COUNT:
		break;
	}
	return 0;
}

/* xl's deprecated "vdev:devtype" positional form, e.g. "hdc:cdrom". */
static int set_vdev_devtype(struct parser *ps, size_t off, size_t n)
{
	const char *colon = memrchr(ps->s + off, ':', n);
	size_t vlen = (size_t)(colon - (ps->s + off));
	size_t toff = off + vlen + 1, tlen = n - vlen - 1;
	char q[64];

	if (text_is(colon + 1, tlen, "cdrom"))
		return unsupported(ps, toff, "cdrom",
				   " (CD-ROM drives are not emulated)");
	if (!text_is(colon + 1, tlen, "disk"))
		return fail(
			ps, toff,
			"unknown device type %s after the vdev: expected disk",
			quoted(ps, toff, tlen, q, sizeof(q)));
	return set_param(ps, P_VDEV, off, vlen);
}

static int positional(struct parser *ps, size_t off, size_t n)
{
	const char *t = ps->s + off;
	char q[64];

	for (enum param_id p = P_TARGET; p < P_COUNT; p++) {
		if (ps->p[p].given || (p == P_FORMAT && ps->had_prefix))
			continue;
		/* ",hdc:cdrom,r": an empty target, then vdev:devtype. */
		if (p == P_FORMAT && !ps->p[P_TARGET].len && memchr(t, ':', n))
			p = P_VDEV;
		if (p == P_VDEV && memchr(t, ':', n))
			return set_vdev_devtype(ps, off, n);
		return set_param(ps, p, off, n);
	}
	if (is_key(t, n))
		return fail(
			ps, off,
			"unknown disk key %s (target, format, vdev and access are all given)",
			quoted(ps, off, n, q, sizeof(q)));
	return fail(
		ps, off,
		"too many positional parameters: target, format, vdev and access are all given");
}

static int set_backendtype(struct parser *ps, size_t off, size_t n)
{
	static const char *const own[] = { "phy", "qdisk", "tap" };
	const char *t = ps->s + off;
	char q[64];

	if (ps->backend_given)
		return fail(ps, off,
			    "backendtype given twice (first at character %zu)",
			    ps->backend_offset + 1);
	ps->backend_given = true;
	ps->backend_offset = off;
	for (size_t i = 0; i < sizeof(own) / sizeof(*own); i++) {
		if (text_is(t, n, own[i])) {
			ps->out->backend = DISK_BACKEND_BULKHEAD_BLK;
			return 0;
		}
	}
	if (text_is(t, n, "vhost-user")) {
		ps->out->backend = DISK_BACKEND_VHOST_USER;
		return 0;
	}
	if (text_is(t, n, "standalone"))
		return fail(
			ps, off,
			"backendtype: \"standalone\" is an xl value Bulkhead does not support; for an external vhost-user-blk backend write backendtype=vhost-user");
	return fail(
		ps, off,
		"backendtype: unknown backend type %s: expected phy, qdisk, tap or vhost-user",
		quoted(ps, off, n, q, sizeof(q)));
}

static int set_discard(struct parser *ps, size_t off, bool on)
{
	if (ps->discard_given && ps->out->discard != on)
		return fail(ps, off, "%s contradicts the %s at character %zu",
			    on ? "discard" : "no-discard",
			    on ? "no-discard" : "discard",
			    ps->discard_offset + 1);
	ps->discard_given = true;
	ps->discard_offset = off;
	ps->out->discard = on;
	return 0;
}

/* Each of Bulkhead's own keys may be given once. */
static int once(struct parser *ps, bool *given, size_t *first, size_t off,
		const char *key)
{
	if (*given)
		return fail(ps, off, "%s given twice (first at character %zu)",
			    key, *first + 1);
	*given = true;
	*first = off;
	return 0;
}

static int set_snapshot(struct parser *ps, size_t voff, size_t vlen)
{
	static const enum disk_snapshot modes[] = {
		DISK_SNAPSHOT_PERSISTENT,
		DISK_SNAPSHOT_TEMPORARY,
		DISK_SNAPSHOT_TEMPORARY_ENCRYPTED,
	};
	char q[64];

	for (size_t i = 0; i < sizeof(modes) / sizeof(*modes); i++) {
		if (text_is(ps->s + voff, vlen, disk_snapshot_name(modes[i]))) {
			ps->out->snapshot = modes[i];
			return 0;
		}
	}
	return fail(
		ps, voff,
		"snapshot: unknown mode %s: expected persistent, temporary or temporary-encrypted",
		quoted(ps, voff, vlen, q, sizeof(q)));
}

/* 64 hex digits, optionally after "sha256:" (bulkhead disk measure's form). */
static int set_sha256(struct parser *ps, const char *key, size_t voff,
		      size_t vlen, uint8_t *out)
{
	static const char prefix[] = "sha256:";
	const size_t pl = sizeof(prefix) - 1;
	char hex[2 * DISK_SHA256_BYTES + 1];

	if (vlen >= pl && !memcmp(ps->s + voff, prefix, pl)) {
		voff += pl;
		vlen -= pl;
	}
	if (vlen != 2 * DISK_SHA256_BYTES)
		return fail(
			ps, voff,
			"%s: expected a SHA-256 digest, 64 hex digits, got %zu characters",
			key, vlen);
	memcpy(hex, ps->s + voff, vlen);
	hex[vlen] = '\0';
	for (size_t i = 0; i < vlen; i++)
		hex[i] = (char)(hex[i] >= 'A' && hex[i] <= 'F' ?
					hex[i] - 'A' + 'a' :
					hex[i]);
	if (hex_decode(hex, out, DISK_SHA256_BYTES) != DISK_SHA256_BYTES)
		return fail(ps, voff, "%s: not a hexadecimal digest", key);
	return 0;
}

static int set_measure(struct parser *ps, size_t voff, size_t vlen)
{
	char q[64];

	if (text_is(ps->s + voff, vlen, "on") ||
	    text_is(ps->s + voff, vlen, "off")) {
		ps->out->measure = text_is(ps->s + voff, vlen, "on");
		return 0;
	}
	return fail(ps, voff, "measure: expected on or off, got %s",
		    quoted(ps, voff, vlen, q, sizeof(q)));
}

/* Bulkhead's own keys; 1 if k is none of them. */
static int bulkhead_key(struct parser *ps, size_t off, size_t klen, size_t voff,
			size_t vlen)
{
	const char *k = ps->s + off;
	int ret;

	if (text_is(k, klen, "snapshot")) {
		ret = once(ps, &ps->snapshot_given, &ps->snapshot_offset, off,
			   "snapshot");
		return ret ? ret : set_snapshot(ps, voff, vlen);
	}
	if (text_is(k, klen, "measure")) {
		ret = once(ps, &ps->measure_given, &ps->measure_offset, off,
			   "measure");
		return ret ? ret : set_measure(ps, voff, vlen);
	}
	if (text_is(k, klen, "verify")) {
		ret = once(ps, &ps->verify_given, &ps->verify_offset, off,
			   "verify");
		ps->out->verify = true;
		return ret ? ret :
			     set_sha256(ps, "verify", voff, vlen,
					ps->out->verify_sha256);
	}
	if (text_is(k, klen, "verity")) {
		ret = once(ps, &ps->verity_given, &ps->verity_offset, off,
			   "verity");
		ps->out->verity = true;
		return ret ? ret :
			     set_sha256(ps, "verity", voff, vlen,
					ps->out->verity_root);
	}
	if (text_is(k, klen, "verity-hash")) {
		ret = once(ps, &ps->verity_hash_given, &ps->verity_hash_offset,
			   voff, "verity-hash");
		if (!ret && !vlen)
			return fail(
				ps, voff,
				"verity-hash: expected the hash tree's path");
		ps->verity_hash_len = vlen;
		return ret;
	}
	return 1;
}

/* key=value; the value is at voff, vlen bytes. */
static int named(struct parser *ps, size_t off, size_t klen, size_t voff,
		 size_t vlen)
{
	static const char *const xl_only[] = {
		"backend",     "script",      "colo-host",   "colo-port",
		"colo-export", "active-disk", "hidden-disk", "grant_usage",
	};
	const char *k = ps->s + off, *v = ps->s + voff;
	char q[64];
	int ret = bulkhead_key(ps, off, klen, voff, vlen);

	if (ret <= 0)
		return ret;
	if (text_is(k, klen, "format"))
		return set_param(ps, P_FORMAT, voff, vlen);
	if (text_is(k, klen, "vdev"))
		return set_param(ps, P_VDEV, voff, vlen);
	if (text_is(k, klen, "access"))
		return set_param(ps, P_ACCESS, voff, vlen);
	if (text_is(k, klen, "backendtype"))
		return set_backendtype(ps, voff, vlen);
	if (text_is(k, klen, "devtype")) {
		if (text_is(v, vlen, "disk"))
			return 0;
		if (text_is(v, vlen, "cdrom"))
			return unsupported(ps, off, "devtype=cdrom",
					   " (CD-ROM drives are not emulated)");
		return fail(ps, voff,
			    "devtype: unknown device type %s: expected disk",
			    quoted(ps, voff, vlen, q, sizeof(q)));
	}
	if (text_is(k, klen, "specification")) {
		if (text_is(v, vlen, "virtio"))
			return 0;
		if (text_is(v, vlen, "xen"))
			return fail(
				ps, voff,
				"specification: Bulkhead disks are virtio-blk, not Xen PV block devices: leave it out or write virtio");
		return fail(ps, voff,
			    "specification: unknown value %s: expected virtio",
			    quoted(ps, voff, vlen, q, sizeof(q)));
	}
	for (size_t i = 0; i < sizeof(xl_only) / sizeof(*xl_only); i++) {
		if (text_is(k, klen, xl_only[i]))
			return fail(
				ps, off,
				"%s: an xl disk key Bulkhead does not support",
				xl_only[i]);
	}
	return fail(ps, off, "unknown disk key %s",
		    quoted(ps, off, klen, q, sizeof(q)));
}

static int flag_or_token(struct parser *ps, size_t off, size_t n)
{
	static const char *const xl_only[] = { "colo", "no-colo", "trusted",
					       "untrusted" };
	const char *t = ps->s + off, *eq;

	if (text_is(t, n, "discard"))
		return set_discard(ps, off, true);
	if (text_is(t, n, "no-discard"))
		return set_discard(ps, off, false);
	if (text_is(t, n, "direct-io-safe")) {
		ps->out->direct =
			true; /* as libxl: cache=none for the back end */
		return 0;
	}
	if (text_is(t, n, "cdrom"))
		return unsupported(ps, off, "cdrom",
				   " (CD-ROM drives are not emulated)");
	for (size_t i = 0; i < sizeof(xl_only) / sizeof(*xl_only); i++) {
		if (text_is(t, n, xl_only[i]))
			return unsupported(ps, off, xl_only[i], "");
	}
	eq = memchr(t, '=', n);
	if (!eq)
		return positional(ps, off, n);
	if (!is_key(t, (size_t)(eq - t)))
		return fail(
			ps, off,
			"'=' in a positional parameter: write a target containing '=' as target=PATH, last");
	return named(ps, off, (size_t)(eq - t), off + (size_t)(eq - t) + 1,
		     n - (size_t)(eq - t) - 1);
}

/*
 * xl's deprecated prefixes at pos: format ("raw:"), ignored ("phy:",
 * "file:", "tap:aio:") or script ("nbd:"). A word and a colon followed by
 * a letter or digit is not a prefix but the start of a positional value.
 */
static int take_prefixes(struct parser *ps, size_t *pos)
{
	static const char *const formats[] = { "raw", "qcow2", "qcow", "vhd" };
	static const char *const ignored[] = { "tapdisk", "tap2", "tap", "aio",
					       "ioemu",	  "file", "phy" };
	static const char *const scripts[] = { "iscsi", "nbd", "enbd", "drbd" };
	const char *s = ps->s;
	bool known;

	for (;;) {
		size_t p = *pos, w = p;
		char q[64];
		int ret;

		if (w >= ps->len || !is_lower(s[w]))
			return 0;
		while (w < ps->len && (is_lower(s[w]) || is_digit(s[w])))
			w++;
		if (w >= ps->len || s[w] != ':')
			return 0;
		known = false;
		for (size_t i = 0; i < sizeof(formats) / sizeof(*formats);
		     i++) {
			if (text_is(s + p, w - p, formats[i])) {
				ret = set_param(ps, P_FORMAT, p, w - p);
				if (ret)
					return ret;
				known = true;
			}
		}
		for (size_t i = 0; i < sizeof(ignored) / sizeof(*ignored); i++)
			known |= text_is(s + p, w - p, ignored[i]);
		for (size_t i = 0; i < sizeof(scripts) / sizeof(*scripts);
		     i++) {
			if (text_is(s + p, w - p, scripts[i]))
				return fail(
					ps, p,
					"%s (a script prefix): an xl disk key Bulkhead does not support",
					quoted(ps, p, w - p + 1, q, sizeof(q)));
		}
		if (!known) {
			if (w + 1 < ps->len &&
			    (is_lower(s[w + 1]) || is_digit(s[w + 1])))
				return 0;
			return fail(
				ps, p,
				"unknown deprecated disk prefix %s: write a target containing ':' as target=PATH, last",
				quoted(ps, p, w - p + 1, q, sizeof(q)));
		}
		ps->had_prefix = true;
		*pos = w + 1;
	}
}

static int scan(struct parser *ps)
{
	static const char target_key[] = "target=";
	const size_t tk = sizeof(target_key) - 1;
	size_t pos = 0;
	int ret;

	while (pos < ps->len) {
		size_t end, n;

		while (pos < ps->len &&
		       (ps->s[pos] == ' ' || ps->s[pos] == '\t'))
			pos++;
		if (pos == ps->len)
			break;
		/* target= takes the rest, commas and blanks included. */
		if (ps->len - pos >= tk &&
		    !memcmp(ps->s + pos, target_key, tk)) {
			n = ps->len - pos - tk;
			if (n && ps->s[ps->len - 1] == ',')
				n--;
			return set_param(ps, P_TARGET, pos + tk, n);
		}
		ret = take_prefixes(ps, &pos);
		if (ret)
			return ret;
		end = pos;
		while (end < ps->len && ps->s[end] != ',')
			end++;
		ret = flag_or_token(ps, pos, end - pos);
		if (ret)
			return ret;
		pos = end < ps->len ? end + 1 : end;
	}
	return 0;
}

/* What only bulkhead-blk does, and the combinations that mean nothing. */
static int check_bulkhead_keys(struct parser *ps)
{
	const struct disk_spec *d = ps->out;
	const char *own = NULL;
	size_t at = 0;

	if (d->snapshot != DISK_SNAPSHOT_PERSISTENT) {
		own = "snapshot";
		at = ps->snapshot_offset;
	} else if (d->measure) {
		own = "measure";
		at = ps->measure_offset;
	} else if (d->verify) {
		own = "verify";
		at = ps->verify_offset;
	} else if (d->verity) {
		own = "verity";
		at = ps->verity_offset;
	}
	if (own && d->backend == DISK_BACKEND_VHOST_USER)
		return fail(
			ps, at,
			"%s: only bulkhead-blk does this; an external vhost-user backend serves the disk as it is",
			own);
	if (d->snapshot != DISK_SNAPSHOT_PERSISTENT && d->readonly)
		return fail(
			ps, ps->snapshot_offset,
			"snapshot=%s: a read-only disk has no writes to discard; leave out access=ro or the snapshot",
			disk_snapshot_name(d->snapshot));
	if (d->verity && !d->readonly &&
	    d->snapshot == DISK_SNAPSHOT_PERSISTENT)
		return fail(
			ps, ps->verity_offset,
			"verity: a verity-protected image is never written: add access=ro, or snapshot=temporary to let the guest write to a discarded overlay");
	if (ps->verity_hash_given && !d->verity)
		return fail(ps, ps->verity_hash_offset,
			    "verity-hash: needs verity=ROOT_HASH too");
	return 0;
}

/* verity-hash=PATH resolved like the target; by default target.verity. */
static int resolve_verity_hash(struct parser *ps, const char *base_dir)
{
	struct disk_spec *d = ps->out;
	char *raw;

	if (ps->verity_hash_given)
		raw = strndup(ps->s + ps->verity_hash_offset,
			      ps->verity_hash_len);
	else if (asprintf(&raw, "%s.verity", d->target) < 0)
		raw = NULL;
	if (!raw)
		return -ENOMEM;
	d->verity_hash = vmcfg_resolve_path(base_dir, raw);
	free(raw);
	if (d->verity_hash)
		return 0;
	if (errno == ENOMEM)
		return -ENOMEM;
	return fail(
		ps, ps->verity_hash_offset,
		"verity-hash: expected an absolute path, at most 4095 bytes once resolved");
}

static int finish(struct parser *ps, const char *base_dir)
{
	const struct param *target = &ps->p[P_TARGET];
	char *raw;
	int ret;

	if (!target->len)
		return fail(
			ps, target->given ? target->offset : ps->len,
			"target missing: name the disk's image, device or socket first, or as target=PATH last");
	if (!ps->p[P_VDEV].len)
		return fail(
			ps,
			ps->p[P_VDEV].given ? ps->p[P_VDEV].offset : ps->len,
			"vdev missing: name the disk as xl names it for the guest, such as xvda");
	if (ps->out->backend == DISK_BACKEND_VHOST_USER &&
	    ps->out->format != DISK_FORMAT_RAW)
		return fail(
			ps, ps->p[P_FORMAT].offset,
			"format: a vhost-user backend serves a raw disk: leave format out or write raw");
	ret = check_bulkhead_keys(ps);
	if (ret)
		return ret;
	raw = strndup(ps->s + target->offset, target->len);
	if (!raw)
		return -ENOMEM;
	ps->out->target = vmcfg_resolve_path(base_dir, raw);
	free(raw);
	if (!ps->out->target) {
		if (errno == ENOMEM)
			return -ENOMEM;
		if (errno == EINVAL)
			return fail(
				ps, target->offset,
				"target: expected an absolute path (relative paths need a file to be relative to)");
		return fail(
			ps, target->offset,
			"target: expected a path of at most 4095 bytes once resolved against the file's directory");
	}
	if (ps->out->backend == DISK_BACKEND_VHOST_USER &&
	    strlen(ps->out->target) > DISK_SOCKET_PATH_MAX)
		return fail(
			ps, target->offset,
			"target: a vhost-user socket path is at most 107 bytes once resolved, got %zu",
			strlen(ps->out->target));
	return ps->out->verity ? resolve_verity_hash(ps, base_dir) : 0;
}

int disk_spec_parse(const char *spec, size_t len, const char *base_dir,
		    struct disk_spec *out, struct disk_spec_error *err)
{
	struct parser ps = { .s = spec, .len = len, .out = out, .err = err };
	int ret;

	memset(out, 0, sizeof(*out));
	memset(err, 0, sizeof(*err));
	out->format = DISK_FORMAT_RAW;
	out->backend = DISK_BACKEND_BULKHEAD_BLK;
	out->discard = true;
	ret = scan(&ps);
	if (!ret)
		ret = finish(&ps, base_dir);
	if (ret) {
		disk_spec_release(out);
		if (ret == -ENOMEM)
			fail(&ps, 0, "out of memory");
	}
	return ret;
}

void disk_spec_release(struct disk_spec *d)
{
	free(d->target);
	d->target = NULL;
	free(d->verity_hash);
	d->verity_hash = NULL;
}

/* Decimal without leading zeros, at most max; *end past the digits. */
static bool decimal(const char *s, size_t n, size_t *end, uint32_t max,
		    uint32_t *out)
{
	size_t i = 0;
	uint64_t v = 0;

	if (!n || !is_digit(s[0]) || (s[0] == '0' && n > 1 && is_digit(s[1])))
		return false;
	for (; i < n && is_digit(s[i]); i++) {
		v = v * 10 + (uint64_t)(s[i] - '0');
		if (v > max)
			return false;
	}
	*end = i;
	*out = (uint32_t)v;
	return true;
}

/* dNpM, xen-vbd-interface(7)'s own numbering. */
static const char *vdev_dp(const char *v, size_t n, uint32_t *index)
{
	uint32_t disk, part;
	size_t i, j;

	if (!decimal(v + 1, n - 1, &i, DISK_INDEX_MAX, &disk))
		return "dNpM needs a disk number from 0 to 1048575, without leading zeros";
	i++;
	if (i >= n || v[i] != 'p' ||
	    !decimal(v + i + 1, n - i - 1, &j, 255, &part) || i + 1 + j != n)
		return "expected dNp0 (disk N, partition 0: the whole disk)";
	if (part)
		return "names a partition; a Bulkhead disk is a whole disk (partition 0)";
	*index = disk;
	return NULL;
}

const char *disk_vdev_index(const char *v, size_t n, uint32_t *index)
{
	static const struct {
		const char *prefix;
		uint32_t max;
		const char *too_far;
	} kinds[] = {
		{ "xvd", DISK_INDEX_MAX, "beyond xl's last xvd disk" },
		{ "hd", 3, "hd disks go from hda to hdd" },
		{ "sd", 15, "sd disks go from sda to sdp" },
	};
	bool digits = n > 0;

	if (!n)
		return "a vdev must not be empty";
	if (n > DISK_VDEV_MAX)
		return "a vdev is at most 15 characters";
	if (v[0] == 'd' && n > 1 && is_digit(v[1]))
		return vdev_dp(v, n, index);
	for (size_t i = 0; i < n; i++)
		digits &= is_digit(v[i]) || (i == 1 && v[i] == 'x');
	if (digits)
		return "a raw xenstore device number; name the disk instead, such as xvda";
	for (size_t k = 0; k < sizeof(kinds) / sizeof(*kinds); k++) {
		size_t pl = strlen(kinds[k].prefix), i = pl;
		int64_t disk = -1;

		if (n <= pl || memcmp(v, kinds[k].prefix, pl) ||
		    !is_lower(v[pl]))
			continue;
		/* Letters count like spreadsheet columns: z, aa, ab, ... */
		for (; i < n && is_lower(v[i]); i++) {
			disk = (disk + 1) * 26 + (v[i] - 'a');
			if (disk > kinds[k].max)
				return kinds[k].too_far;
		}
		if (i == n) {
			*index = (uint32_t)disk;
			return NULL;
		}
		if (is_digit(v[i]))
			return "names a partition; a Bulkhead disk is a whole disk, such as xvda";
		break;
	}
	return "expected xvdX (xvda, xvdb, ... xvdz, xvdaa, ...), hda to hdd, sda to sdp, or dNp0";
}

const char *disk_format_name(enum disk_format format)
{
	switch (format) {
	case DISK_FORMAT_RAW:
		return "raw";
	case DISK_FORMAT_QCOW2:
		return "qcow2";
	}
	return "invalid";
}

const char *disk_snapshot_name(enum disk_snapshot snapshot)
{
	switch (snapshot) {
	case DISK_SNAPSHOT_PERSISTENT:
		return "persistent";
	case DISK_SNAPSHOT_TEMPORARY:
		return "temporary";
	case DISK_SNAPSHOT_TEMPORARY_ENCRYPTED:
		return "temporary-encrypted";
	}
	return "invalid";
}

const char *disk_backend_name(enum disk_backend backend)
{
	switch (backend) {
	case DISK_BACKEND_BULKHEAD_BLK:
		return "bulkhead-blk";
	case DISK_BACKEND_VHOST_USER:
		return "vhost-user";
	}
	return "invalid";
}
