/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One element of an NDVM's `nic = [ ... ]`: the NIC a network device VM
 * owns, here a virtio-net device (bulkhead-net) on a tap that bulkheadd
 * creates inside a network namespace standing for a physical LAN:
 *
 *     nic = [ 'netns=lan0, mac=02:00:5e:00:00:01, tap=lan0nic, bridge=br0' ]
 *
 * netns is required; mac and tap default to values derived from the VM's
 * name and the NIC's place in the list (nic_default_mac, nic_default_tap);
 * with bridge the tap joins that bridge of the namespace.
 * docs/vm-config.md is the specification. Pure: it opens nothing.
 */
#ifndef BH_TOOLSTACK_NIC_SPEC_H
#define BH_TOOLSTACK_NIC_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NIC_NETNS_MAX 63u /* bytes in a namespace name (/run/netns/NAME) */
#define NIC_IFNAME_MAX 15u /* IFNAMSIZ less the NUL */
#define NIC_MAC_LEN 6u
#define NIC_SPEC_MSG_MAX 200u

struct nic_spec {
	char netns[NIC_NETNS_MAX + 1];
	uint8_t mac[NIC_MAC_LEN];
	bool mac_given; /* else nic_default_mac() */
	char tap[NIC_IFNAME_MAX + 1];
	bool tap_given; /* else nic_default_tap() */
	char bridge[NIC_IFNAME_MAX + 1]; /* "": none */
	/* Where the element is, for messages; set by the caller (vmcfg). */
	size_t element;
	unsigned int line;
	unsigned int column;
};

struct nic_spec_error {
	size_t offset; /* byte offset in the spec where the problem is */
	char msg[NIC_SPEC_MSG_MAX];
};

/*
 * Parses len bytes of spec: comma-separated key=value pairs (blanks
 * before a key ignored), each key at most once. Returns 0 with *out
 * filled (element, line, column zero), or -EINVAL with err filled.
 */
int nic_spec_parse(const char *spec, size_t len, struct nic_spec *out,
		   struct nic_spec_error *err);

/* NULL if s names a network namespace ip-netns(8) could make, else why. */
const char *nic_netns_problem(const char *s, size_t len);

/* NULL if s is an interface name the kernel takes, else why. */
const char *nic_ifname_problem(const char *s, size_t len);

/*
 * NULL with mac set if s is "aa:bb:cc:dd:ee:ff" (hex, either case) and a
 * unicast address, else why not.
 */
const char *nic_mac_parse(const char *s, size_t len, uint8_t mac[NIC_MAC_LEN]);

/*
 * Derived from the VM's name and the NIC's index, stable across starts:
 * a locally administered unicast MAC 02:4e:44:xx:xx:xx, and a tap name
 * "bh-NAME-I" when that fits IFNAMSIZ, else "bh-" + NAME's first
 * characters + "." + four hex digits of NAME's hash + "-I".
 */
void nic_default_mac(const char *vm, unsigned int index,
		     uint8_t mac[NIC_MAC_LEN]);
void nic_default_tap(const char *vm, unsigned int index,
		     char tap[NIC_IFNAME_MAX + 1]);

/* "aa:bb:cc:dd:ee:ff" into buf (18 bytes). */
void nic_mac_format(const uint8_t mac[NIC_MAC_LEN], char buf[18]);

#endif
