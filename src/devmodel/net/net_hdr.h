/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * virtio-net's per-frame header (virtio 1.x, 5.1.6: struct
 * virtio_net_hdr_v1, 12 bytes, little-endian) and the checks on it, both
 * ways: what a guest's driver puts before a frame it sends (net_tx_check)
 * and what the tap's kernel side puts before one it receives
 * (net_rx_check), each against the features negotiated. Pure logic; the
 * transmit check is fuzzed (fuzz/fuzz_net_tx.c).
 */
#ifndef BH_DEVMODEL_NET_HDR_H
#define BH_DEVMODEL_NET_HDR_H

#include <stdint.h>

#define NET_HDR_LEN 12u /* with VERSION_1 the header always has num_buffers */
#define NET_ETH_HLEN 14u
#define NET_VLAN_HLEN 4u
/*
 * The longest frame either way, headers included: a 64 KiB GSO frame
 * (the kernel's legacy gso_max_size) behind an Ethernet and a VLAN header.
 */
#define NET_FRAME_MAX (65536u + NET_ETH_HLEN + NET_VLAN_HLEN)
#define NET_MTU_MIN 68u /* IPv4's minimum */
#define NET_MTU_MAX 65535u

/* The header's fields in host order, as read once from its 12 bytes. */
struct net_hdr {
	uint8_t flags; /* VIRTIO_NET_HDR_F_* */
	uint8_t gso_type; /* VIRTIO_NET_HDR_GSO_*, maybe | ECN */
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t num_buffers;
};

void net_hdr_load(const uint8_t raw[NET_HDR_LEN], struct net_hdr *h);
void net_hdr_store(const struct net_hdr *h, uint8_t raw[NET_HDR_LEN]);

/* Why a frame was dropped; the order is that of the counters and logs. */
enum net_bad {
	NET_OK = 0,
	NET_BAD_CHAIN, /* tx: a device-writable buffer in the chain */
	NET_BAD_RUNT, /* shorter than the header and an Ethernet header */
	NET_BAD_LONG, /* over NET_FRAME_MAX */
	NET_BAD_MTU, /* over the MTU (plus link headers) unsegmented */
	NET_BAD_FLAGS, /* flags that were not negotiated or are unknown */
	NET_BAD_GSO, /* a segmentation type not negotiated, or unknown */
	NET_BAD_GSO_SIZE, /* segment size 0, over the MTU, or set without GSO */
	NET_BAD_CSUM, /* the checksum's place is not inside the frame */
	NET_BAD_HDR_LEN, /* the headers of a GSO frame run past it */
	NET_BAD_ROOM, /* rx: bigger than every buffer the guest gave */
	NET_BAD_TAP, /* tx: the tap refused the frame */
	NET_BAD_COUNT
};

/* "chain", "runt", "mtu", ...: the counter's name in the stats line. */
const char *net_bad_key(enum net_bad why);

/* "malformed chain", "runt", ...: for log messages. */
const char *net_bad_name(enum net_bad why);

/*
 * A frame the guest sends: h is its header, frame_len the bytes after it
 * (up to 2^32 in a chain), features the negotiated set, mtu the device's.
 * Returns NET_OK, or why it must be dropped. Whatever passes is what the
 * tap's kernel side accepts, so a guest can make it do nothing else.
 */
enum net_bad net_tx_check(const struct net_hdr *h, uint64_t frame_len,
			  uint64_t features, uint32_t mtu);

/*
 * A frame from the tap for the guest: the kernel's header h (flags
 * cleared here when the guest did not negotiate GUEST_CSUM, as the spec
 * requires: a checksum it cannot use), frame_len the bytes after it.
 * Returns NET_OK, or why the guest could not take it (offloads the guest
 * did not negotiate: the tap is set up so the kernel never sends them).
 */
enum net_bad net_rx_check(struct net_hdr *h, uint32_t frame_len,
			  uint64_t features);

/* The TUN_F_* offloads the tap may hand us for a guest with features. */
unsigned int net_tap_offloads(uint64_t features);

#endif
