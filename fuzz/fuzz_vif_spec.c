// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzzes the xl vif specification parser: the input is one spec, any
 * bytes. Aborts when a parse returns anything but 0 or -EINVAL, an error
 * message is empty or not printable ASCII, an error offset lies past the
 * spec, a failed parse leaves anything in the vif, or a parsed vif breaks
 * its documented bounds: a valid backend name or none, a unicast non-zero
 * MAC outside hmxnet's own range, at most VIF_IPS_MAX distinct addresses
 * none of them loopback, multicast, broadcast or in 0.0.0.0/8. A parsed
 * vif is then written back in canonical key=value form and must parse to
 * the same vif.
 */
#include "fuzz_input.h"
#include "toolstack/vif_spec.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++) {
		if (b[i])
			return false;
	}
	return true;
}

static void check_vif(const struct vif_spec *v)
{
	size_t blen = strnlen(v->backend, sizeof(v->backend));

	check(blen < sizeof(v->backend));
	check(!blen || !vm_name_problem(v->backend, blen));
	if (v->has_mac) {
		check(!(v->mac[0] & 1) && !all_zero(v->mac, VIF_MAC_BYTES));
		check(!((v->mac[0] == 0x02 || v->mac[0] == 0xfe) &&
			v->mac[1] == 0x48 && v->mac[2] == 0x4d));
	} else {
		check(all_zero(v->mac, VIF_MAC_BYTES));
	}
	check(v->nip <= VIF_IPS_MAX);
	for (size_t i = 0; i < v->nip; i++) {
		uint32_t ip = v->ip[i];

		check(ip >> 24 != 0 && ip >> 24 != 127 && ip >> 28 != 0xe &&
		      ip != 0xffffffffu);
		for (size_t j = 0; j < i; j++)
			check(v->ip[j] != ip);
	}
	check(v->element == 0 && v->line == 0 && v->column == 0);
}

/* The vif written with every key it has, blanks around each. */
static void check_roundtrip(const struct vif_spec *v)
{
	static char canon[512];
	struct vif_spec again;
	struct vif_spec_error err;
	size_t n = 0;

	n += (size_t)snprintf(canon + n, sizeof(canon) - n,
			      " model = hmxnet ,type=vif,untrusted");
	if (v->backend[0])
		n += (size_t)snprintf(canon + n, sizeof(canon) - n,
				      ", backend=%s", v->backend);
	if (v->has_mac) {
		char mac[VIF_MAC_TEXT];

		vif_mac_format(v->mac, mac);
		n += (size_t)snprintf(canon + n, sizeof(canon) - n, ",mac=%s",
				      mac);
	}
	for (size_t i = 0; i < v->nip; i++) {
		char ip[VIF_IP_TEXT];

		vif_ip_format(v->ip[i], ip);
		n += (size_t)snprintf(canon + n, sizeof(canon) - n, "%s%s",
				      i ? " " : ",ip=", ip);
	}
	check(n < sizeof(canon));
	check(vif_spec_parse(canon, n, &again, &err) == 0);
	check(!memcmp(&again, v, sizeof(again)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vif_spec v;
	struct vif_spec_error err;
	int ret;

	ret = vif_spec_parse((const char *)data, size, &v, &err);
	if (ret) {
		struct vif_spec empty;

		memset(&empty, 0, sizeof(empty));
		check(ret == -EINVAL);
		check(!memcmp(&v, &empty, sizeof(v)));
		check(err.msg[0] != '\0' && err.offset <= size);
		for (const char *p = err.msg; *p; p++)
			check(*p >= 0x20 && *p < 0x7f);
		return 0;
	}
	check_vif(&v);
	check_roundtrip(&v);
	return 0;
}
