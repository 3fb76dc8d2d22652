// SPDX-License-Identifier: GPL-2.0-only
#include "devmodel/net/net_hdr.h"

#include <linux/if_tun.h>
#include <stdbool.h>
#include <linux/virtio_net.h>

#include "util/bytes.h"

#define F(bit) (1ull << (bit))

void net_hdr_load(const uint8_t raw[NET_HDR_LEN], struct net_hdr *h)
{
	h->flags = raw[0];
	h->gso_type = raw[1];
	h->hdr_len = get_le16(raw + 2);
	h->gso_size = get_le16(raw + 4);
	h->csum_start = get_le16(raw + 6);
	h->csum_offset = get_le16(raw + 8);
	h->num_buffers = get_le16(raw + 10);
}

void net_hdr_store(const struct net_hdr *h, uint8_t raw[NET_HDR_LEN])
{
	raw[0] = h->flags;
	raw[1] = h->gso_type;
	put_le16(raw + 2, h->hdr_len);
	put_le16(raw + 4, h->gso_size);
	put_le16(raw + 6, h->csum_start);
	put_le16(raw + 8, h->csum_offset);
	put_le16(raw + 10, h->num_buffers);
}

const char *net_bad_key(enum net_bad why)
{
	static const char *const keys[NET_BAD_COUNT] = {
		[NET_OK] = "ok",	 [NET_BAD_CHAIN] = "chain",
		[NET_BAD_RUNT] = "runt", [NET_BAD_LONG] = "long",
		[NET_BAD_MTU] = "mtu",	 [NET_BAD_FLAGS] = "flags",
		[NET_BAD_GSO] = "gso",	 [NET_BAD_GSO_SIZE] = "gso_size",
		[NET_BAD_CSUM] = "csum", [NET_BAD_HDR_LEN] = "hdr_len",
		[NET_BAD_ROOM] = "room", [NET_BAD_TAP] = "tap",
	};

	return (unsigned int)why < NET_BAD_COUNT ? keys[why] : "unknown";
}

const char *net_bad_name(enum net_bad why)
{
	static const char *const names[NET_BAD_COUNT] = {
		[NET_OK] = "ok",
		[NET_BAD_CHAIN] = "malformed chain",
		[NET_BAD_RUNT] = "runt",
		[NET_BAD_LONG] = "over 64 KiB",
		[NET_BAD_MTU] = "over the MTU",
		[NET_BAD_FLAGS] = "bad flags",
		[NET_BAD_GSO] = "bad GSO type",
		[NET_BAD_GSO_SIZE] = "bad GSO size",
		[NET_BAD_CSUM] = "checksum outside the frame",
		[NET_BAD_HDR_LEN] = "headers past the frame",
		[NET_BAD_ROOM] = "too big for the guest's buffers",
		[NET_BAD_TAP] = "refused by the tap",
	};

	return (unsigned int)why < NET_BAD_COUNT ? names[why] : "unknown";
}

/* The feature a segmentation type needs in one direction; 0: none is. */
static uint64_t gso_feature(uint8_t type, bool tx)
{
	switch (type) {
	case VIRTIO_NET_HDR_GSO_TCPV4:
		return F(tx ? VIRTIO_NET_F_HOST_TSO4 : VIRTIO_NET_F_GUEST_TSO4);
	case VIRTIO_NET_HDR_GSO_TCPV6:
		return F(tx ? VIRTIO_NET_F_HOST_TSO6 : VIRTIO_NET_F_GUEST_TSO6);
	}
	return 0; /* UDP, UDP_L4, ECN: never offered */
}

enum net_bad net_tx_check(const struct net_hdr *h, uint64_t frame_len,
			  uint64_t features, uint32_t mtu)
{
	uint64_t need;

	if (frame_len < NET_ETH_HLEN)
		return NET_BAD_RUNT;
	if (frame_len > NET_FRAME_MAX)
		return NET_BAD_LONG;
	/* Only NEEDS_CSUM is for a driver to set, and only with CSUM. */
	if (h->flags & ~VIRTIO_NET_HDR_F_NEEDS_CSUM)
		return NET_BAD_FLAGS;
	if (h->flags && !(features & F(VIRTIO_NET_F_CSUM)))
		return NET_BAD_FLAGS;
	if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM &&
	    (uint32_t)h->csum_start + h->csum_offset + 2 > frame_len)
		return NET_BAD_CSUM;
	if (h->hdr_len > frame_len)
		return NET_BAD_HDR_LEN;
	if (h->gso_type == VIRTIO_NET_HDR_GSO_NONE) {
		if (h->gso_size)
			return NET_BAD_GSO_SIZE;
		if (frame_len > (uint64_t)mtu + NET_ETH_HLEN + NET_VLAN_HLEN)
			return NET_BAD_MTU;
		return NET_OK;
	}
	need = gso_feature(h->gso_type, true);
	if (!need || !(features & need))
		return NET_BAD_GSO;
	/* The kernel segments from the checksum's place: it must be given. */
	if (!(h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM))
		return NET_BAD_FLAGS;
	if (!h->gso_size || h->gso_size > mtu)
		return NET_BAD_GSO_SIZE;
	return NET_OK;
}

enum net_bad net_rx_check(struct net_hdr *h, uint32_t frame_len,
			  uint64_t features)
{
	uint64_t need;

	if (frame_len < NET_ETH_HLEN)
		return NET_BAD_RUNT;
	if (frame_len > NET_FRAME_MAX)
		return NET_BAD_LONG;
	if (!(features & F(VIRTIO_NET_F_GUEST_CSUM))) {
		if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)
			return NET_BAD_FLAGS;
		h->flags = 0; /* DATA_VALID means nothing to this guest */
	}
	if (h->flags &
	    ~(VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID))
		return NET_BAD_FLAGS;
	if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM &&
	    (uint32_t)h->csum_start + h->csum_offset + 2 > frame_len)
		return NET_BAD_CSUM;
	if (h->gso_type == VIRTIO_NET_HDR_GSO_NONE)
		return NET_OK;
	need = gso_feature(h->gso_type, false);
	if (!need || !(features & need))
		return NET_BAD_GSO;
	if (!h->gso_size)
		return NET_BAD_GSO_SIZE;
	return NET_OK;
}

unsigned int net_tap_offloads(uint64_t features)
{
	unsigned int off = 0;

	/* The kernel takes segmentation only together with checksums. */
	if (!(features & F(VIRTIO_NET_F_GUEST_CSUM)))
		return 0;
	off |= TUN_F_CSUM;
	if (features & F(VIRTIO_NET_F_GUEST_TSO4))
		off |= TUN_F_TSO4;
	if (features & F(VIRTIO_NET_F_GUEST_TSO6))
		off |= TUN_F_TSO6;
	return off;
}
