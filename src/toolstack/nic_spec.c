// SPDX-License-Identifier: GPL-2.0-only
#include "toolstack/nic_spec.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int fail(struct nic_spec_error *err, size_t offset, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct nic_spec_error *err, size_t offset, const char *fmt, ...)
{
	va_list ap;

	err->offset = offset;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Letters, digits, '.', '_' and '-': safe in a path and for ip(8). */
static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

static const char *name_problem(const char *s, size_t len, size_t max,
				const char *what)
{
	static char msg[96];

	if (!len) {
		snprintf(msg, sizeof(msg), "%s is empty", what);
		return msg;
	}
	if (len > max) {
		snprintf(msg, sizeof(msg), "%s is longer than %zu bytes", what,
			 max);
		return msg;
	}
	if ((len == 1 && s[0] == '.') || (len == 2 && !memcmp(s, "..", 2))) {
		snprintf(msg, sizeof(msg), "%s cannot be . or ..", what);
		return msg;
	}
	for (size_t i = 0; i < len; i++) {
		if (!name_char(s[i])) {
			snprintf(msg, sizeof(msg),
				 "%s may contain only letters, digits, '.', "
				 "'_' and '-'",
				 what);
			return msg;
		}
	}
	return NULL;
}

const char *nic_netns_problem(const char *s, size_t len)
{
	return name_problem(s, len, NIC_NETNS_MAX, "a network namespace name");
}

const char *nic_ifname_problem(const char *s, size_t len)
{
	return name_problem(s, len, NIC_IFNAME_MAX, "an interface name");
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

const char *nic_mac_parse(const char *s, size_t len, uint8_t mac[NIC_MAC_LEN])
{
	uint8_t m[NIC_MAC_LEN];

	if (len != 3 * NIC_MAC_LEN - 1)
		return "a MAC address is six hex pairs: aa:bb:cc:dd:ee:ff";
	for (unsigned int i = 0; i < NIC_MAC_LEN; i++) {
		int hi = hex_digit(s[3 * i]), lo = hex_digit(s[3 * i + 1]);

		if (hi < 0 || lo < 0 ||
		    (i + 1 < NIC_MAC_LEN && s[3 * i + 2] != ':'))
			return "a MAC address is six hex pairs: aa:bb:cc:dd:ee:ff";
		m[i] = (uint8_t)(hi << 4 | lo);
	}
	if (m[0] & 1)
		return "a multicast MAC address (its first byte is odd) cannot be a NIC's own";
	memcpy(mac, m, NIC_MAC_LEN);
	return NULL;
}

void nic_mac_format(const uint8_t mac[NIC_MAC_LEN], char buf[18])
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1],
		 mac[2], mac[3], mac[4], mac[5]);
}

/* FNV-1a over the name and, as one more byte, the index. */
static uint32_t name_hash(const char *vm, unsigned int index)
{
	uint32_t h = 2166136261u;

	for (const char *p = vm; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	return (h ^ (uint8_t)index) * 16777619u;
}

void nic_default_mac(const char *vm, unsigned int index,
		     uint8_t mac[NIC_MAC_LEN])
{
	uint32_t h = name_hash(vm, index);

	mac[0] = 0x02; /* locally administered, unicast */
	mac[1] = 0x4e; /* "ND": a network device VM's */
	mac[2] = 0x44;
	mac[3] = (uint8_t)(h >> 16);
	mac[4] = (uint8_t)(h >> 8);
	mac[5] = (uint8_t)h;
}

void nic_default_tap(const char *vm, unsigned int index,
		     char tap[NIC_IFNAME_MAX + 1])
{
	char idx[12], hash[5];
	size_t ni = (size_t)snprintf(idx, sizeof(idx), "%u", index);
	size_t len = strlen(vm), keep, n = 0;

	memcpy(tap, "bh-", 3);
	n = 3;
	if (3 + len + 1 + ni <= NIC_IFNAME_MAX) {
		memcpy(tap + n, vm, len);
		n += len;
	} else {
		/* "bh-" NAME[0..keep) "." 4 hex "-" I */
		keep = NIC_IFNAME_MAX - 3 - 5 - 1 - ni;
		memcpy(tap + n, vm, keep);
		n += keep;
		snprintf(hash, sizeof(hash), "%04x",
			 (unsigned int)(name_hash(vm, 0) & 0xffff));
		tap[n++] = '.';
		memcpy(tap + n, hash, 4);
		n += 4;
	}
	tap[n++] = '-';
	memcpy(tap + n, idx, ni);
	tap[n + ni] = '\0';
}

static bool key_is(const char *s, size_t len, const char *key)
{
	return strlen(key) == len && !memcmp(s, key, len);
}

int nic_spec_parse(const char *spec, size_t len, struct nic_spec *out,
		   struct nic_spec_error *err)
{
	bool have_netns = false;
	size_t pos = 0;

	memset(out, 0, sizeof(*out));
	memset(err, 0, sizeof(*err));
	while (pos < len) {
		size_t start, eq, end, vlen;
		const char *v, *problem;

		while (pos < len && (spec[pos] == ' ' || spec[pos] == '\t'))
			pos++;
		start = pos;
		for (end = start; end < len && spec[end] != ','; end++)
			;
		pos = end + 1;
		if (end == start)
			continue; /* an empty parameter, as xl allows */
		for (eq = start; eq < end && spec[eq] != '='; eq++)
			;
		if (eq == end)
			return fail(
				err, start,
				"expected key=value with key netns, mac, tap "
				"or bridge");
		v = spec + eq + 1;
		vlen = end - eq - 1;
		/* Blanks before the comma are not part of the value. */
		while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
			vlen--;
		if (key_is(spec + start, eq - start, "netns")) {
			if (have_netns)
				return fail(err, start, "netns is given twice");
			problem = nic_netns_problem(v, vlen);
			if (problem)
				return fail(err, eq + 1, "netns: %s", problem);
			memcpy(out->netns, v, vlen);
			have_netns = true;
		} else if (key_is(spec + start, eq - start, "mac")) {
			if (out->mac_given)
				return fail(err, start, "mac is given twice");
			problem = nic_mac_parse(v, vlen, out->mac);
			if (problem)
				return fail(err, eq + 1, "mac: %s", problem);
			out->mac_given = true;
		} else if (key_is(spec + start, eq - start, "bridge")) {
			if (out->bridge[0])
				return fail(err, start,
					    "bridge is given twice");
			problem = nic_ifname_problem(v, vlen);
			if (problem)
				return fail(err, eq + 1, "bridge: %s", problem);
			memcpy(out->bridge, v, vlen);
		} else if (key_is(spec + start, eq - start, "tap")) {
			if (out->tap_given)
				return fail(err, start, "tap is given twice");
			problem = nic_ifname_problem(v, vlen);
			if (problem)
				return fail(err, eq + 1, "tap: %s", problem);
			memcpy(out->tap, v, vlen);
			out->tap_given = true;
		} else {
			char key[24];
			size_t n = eq - start < sizeof(key) - 1 ?
					   eq - start :
					   sizeof(key) - 1;

			/* Messages stay printable ASCII. */
			for (size_t i = 0; i < n; i++) {
				char c = spec[start + i];

				key[i] = c >= ' ' && c <= '~' ? c : '?';
			}
			key[n] = '\0';
			return fail(err, start,
				    "unknown key \"%s\": the keys are netns, "
				    "mac, tap and bridge",
				    key);
		}
	}
	if (!have_netns)
		return fail(err, 0,
			    "netns= is required: the network namespace the "
			    "NIC's tap goes in (ip netns add NAME makes one)");
	return 0;
}
