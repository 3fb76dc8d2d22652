/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One element of a definition's `vif = [ ... ]`: Xen's xl network
 * interface syntax (xl-network-configuration(5)), the part that means
 * something when a vif is hmxnet over HMX to a backend VM. Bridging,
 * routing, shaping and naming the backend's end happen inside the NDVM,
 * so the keys for those are refused. docs/vm-config.md is the
 * specification. The parser is pure: it resolves no VM name.
 */
#ifndef BH_TOOLSTACK_VIF_SPEC_H
#define BH_TOOLSTACK_VIF_SPEC_H

#include "toolstack/vm.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VIF_PER_VM_MAX 8u /* vifs of one VM, and what an NDVM serves */
#define VIF_IPS_MAX 8u /* addresses in one ip= */
#define VIF_MAC_BYTES 6u
#define VIF_MAC_TEXT 18u /* "02:48:4d:00:05:01" and its NUL */
#define VIF_IP_TEXT 16u /* "255.255.255.255" and its NUL */
#define VIF_SPEC_MSG_MAX 200u

struct vif_spec {
	/* backend=: the backend VM's name; "" for the default NDVM. */
	char backend[VM_NAME_MAX + 1];
	bool has_mac; /* mac= given; else hmxnet derives one (vif_default_mac) */
	uint8_t mac[VIF_MAC_BYTES]; /* unicast, not zero, not hmxnet's range */
	uint32_t ip[VIF_IPS_MAX]; /* ip=: IPv4, host order, as written */
	size_t nip;
	/* Where the element is, for messages; set by the caller (vmcfg). */
	size_t element; /* its position in the list: the vif's number */
	unsigned int line;
	unsigned int column;
};

struct vif_spec_error {
	size_t offset; /* byte offset in the spec where the problem is */
	char msg[VIF_SPEC_MSG_MAX]; /* printable ASCII */
};

/*
 * Parses len bytes of spec (no NUL needed; the definition lexer has
 * already refused control characters). Returns 0 with *out filled in
 * (element, line and column zero) or -EINVAL with err filled in. Owns no
 * memory: nothing to release.
 */
int vif_spec_parse(const char *spec, size_t len, struct vif_spec *out,
		   struct vif_spec_error *err);

/* "02:48:4d:00:05:01" into buf (VIF_MAC_TEXT bytes). */
void vif_mac_format(const uint8_t mac[VIF_MAC_BYTES], char *buf);

/* "10.0.0.5" into buf (VIF_IP_TEXT bytes). */
void vif_ip_format(uint32_t ip, char *buf);

/*
 * The address the guest module gives vif n of domid when no mac= is
 * given (guest/linux/hmxnet.c): 02:48:4d:DOMID-high:DOMID-low:n.
 */
void vif_default_mac(uint16_t domid, unsigned int n,
		     uint8_t mac[VIF_MAC_BYTES]);

#endif
