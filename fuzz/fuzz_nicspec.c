// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzzes the NDVM NIC spec parser (src/toolstack/nic_spec.c): the input
 * is one spec, any bytes. Aborts when a parse returns anything but 0 or
 * -EINVAL, an error message is empty or not printable ASCII, an error
 * offset lies past the spec, or a parsed NIC breaks its bounds: the
 * namespace and tap names valid for ip(8) and the kernel (letters,
 * digits, '.', '_', '-'; not . or ..; within 63 and 15 bytes; a bridge
 * name as a tap's), a given
 * MAC unicast. A parsed NIC is then written back in canonical form and
 * must parse to the same NIC; its default tap name, for any VM name,
 * must be a valid interface name.
 */
#include "fuzz_input.h"
#include "toolstack/nic_spec.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool name_ok(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (!n || n > max || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-'))
			return false;
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nic_spec n, again;
	struct nic_spec_error err;
	char canon[160], mac[18], vm[33];
	int r = nic_spec_parse((const char *)data, size, &n, &err);
	size_t len;

	check(r == 0 || r == -EINVAL);
	if (r) {
		len = strlen(err.msg);
		check(len > 0 && len < sizeof(err.msg));
		for (size_t i = 0; i < len; i++)
			check(err.msg[i] >= ' ' && err.msg[i] <= '~');
		check(err.offset <= size);
		return 0;
	}
	check(name_ok(n.netns, NIC_NETNS_MAX));
	check(!n.tap_given || name_ok(n.tap, NIC_IFNAME_MAX));
	check(!n.bridge[0] || name_ok(n.bridge, NIC_IFNAME_MAX));
	check(!n.mac_given || !(n.mac[0] & 1));
	check(n.element == 0 && n.line == 0 && n.column == 0);
	nic_mac_format(n.mac, mac);
	snprintf(canon, sizeof(canon), "netns=%s%s%s%s%s%s%s", n.netns,
		 n.mac_given ? ",mac=" : "", n.mac_given ? mac : "",
		 n.tap_given ? ",tap=" : "", n.tap_given ? n.tap : "",
		 n.bridge[0] ? ",bridge=" : "", n.bridge);
	check(nic_spec_parse(canon, strlen(canon), &again, &err) == 0);
	check(!memcmp(&n, &again, sizeof(n)));
	/* The spec's bytes as a VM name: whatever it is, the tap is valid. */
	len = size < sizeof(vm) - 1 ? size : sizeof(vm) - 1;
	for (size_t i = 0; i < len; i++)
		vm[i] = data[i] ? (char)('a' + data[i] % 26) : 'x';
	vm[len] = '\0';
	nic_default_tap(vm, (unsigned int)size % 4, n.tap);
	check(name_ok(n.tap, NIC_IFNAME_MAX));
	return 0;
}
