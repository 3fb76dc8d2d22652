// SPDX-License-Identifier: GPL-2.0-only
/* One element of measure_expect: NAME=sha256:HEX. */
#include "toolstack/measure_expect.h"

#include "toolstack/cfg_error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const names[MEASURE_WHAT_COUNT] = {
	[MEASURE_KERNEL] = "kernel",
	[MEASURE_INITRD] = "initrd",
	[MEASURE_CMDLINE] = "cmdline",
	[MEASURE_CONFIG] = "config",
	[MEASURE_RULES] = "rules",
	[MEASURE_DISK] = "disk",
	[MEASURE_HOST_DAEMON] = "bulkheadd",
	[MEASURE_HOST_HV] = "bulkhead-hv",
	[MEASURE_HOST_BLK] = "bulkhead-blk",
	[MEASURE_HOST_NET] = "bulkhead-net",
	[MEASURE_HOST_CONFIG] = "daemon-config",
	[MEASURE_HOST_POLICY] = "policy",
};

const char *measure_what_name(enum measure_what what)
{
	return (unsigned int)what < MEASURE_WHAT_COUNT ? names[what] : NULL;
}

static int fail(struct measure_expect_error *err, size_t offset,
		const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(struct measure_expect_error *err, size_t offset,
		const char *fmt, ...)
{
	va_list ap;

	err->offset = offset;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int measure_expect_parse(const char *s, size_t len, enum measure_what *what,
			 uint8_t sha256[MEASURE_SHA256_BYTES],
			 struct measure_expect_error *err)
{
	static const char alg[] = "sha256:";
	const size_t alg_len = sizeof(alg) - 1,
		     hex_len = 2 * MEASURE_SHA256_BYTES;
	const char *eq = memchr(s, '=', len);
	size_t nlen, v, i;
	char shown[64];

	if (len > MEASURE_EXPECT_ITEM_MAX)
		return fail(err, MEASURE_EXPECT_ITEM_MAX,
			    "longer than %u bytes; expected NAME=sha256:HEX",
			    MEASURE_EXPECT_ITEM_MAX);
	if (!eq)
		return fail(
			err, len,
			"expected NAME=sha256:HEX, NAME one of kernel, initrd, cmdline, config or rules");
	nlen = (size_t)(eq - s);
	for (i = 0; i < MEASURE_PINNABLE; i++) {
		if (strlen(names[i]) == nlen && !memcmp(s, names[i], nlen))
			break;
	}
	if (i == MEASURE_PINNABLE) {
		if (nlen == 7 && !memcmp(s, "ramdisk", 7))
			return fail(
				err, 0,
				"the ramdisk is measured as the initrd: write initrd=sha256:HEX");
		if (nlen >= 4 && !memcmp(s, "disk", 4))
			return fail(
				err, 0,
				"a disk is pinned by verify=sha256:HEX in its disk spec, not in measure_expect");
		cfg_quote(s, nlen, shown, sizeof(shown));
		return fail(
			err, 0,
			"unknown measurement %s; the names are kernel, initrd, cmdline, config and rules",
			shown);
	}
	v = nlen + 1;
	if (len - v < alg_len || memcmp(s + v, alg, alg_len))
		return fail(
			err, v,
			"expected sha256: and 64 hex digits after \"%s=\" (the digest's algorithm is named)",
			names[i]);
	v += alg_len;
	if (len - v != hex_len)
		return fail(
			err, v,
			"%s: a SHA-256 digest is 64 hex digits, got %zu characters",
			names[i], len - v);
	for (size_t k = 0; k < hex_len; k += 2) {
		int hi = hex_value(s[v + k]), lo = hex_value(s[v + k + 1]);

		if (hi < 0 || lo < 0)
			return fail(err, v + k + (hi >= 0),
				    "%s: not a hexadecimal digit", names[i]);
		sha256[k / 2] = (uint8_t)(hi << 4 | lo);
	}
	*what = (enum measure_what)i;
	return 0;
}
