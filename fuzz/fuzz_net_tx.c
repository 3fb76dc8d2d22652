// SPDX-License-Identifier: GPL-2.0-only
/*
 * bulkhead-net's header checks (src/devmodel/net/net_hdr.h): the 12 bytes
 * a guest's driver puts before a frame it sends, as read once into host
 * order, and net_tx_check's verdict on them for a frame length, the
 * negotiated features and the MTU; net_rx_check's on the same, as the
 * kernel side of the tap could send them. Invariants: loading and storing
 * the header gives back its bytes; a verdict is a known reason, the same
 * when asked twice; whatever passes is in bounds by an independent
 * reading of the rules (what the tap's kernel side and a guest driver may
 * then rely on).
 */
#include <linux/virtio_net.h>
#include <string.h>

#include "devmodel/net/net_hdr.h"
#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_tx(const struct net_hdr *h, uint64_t len, uint64_t f,
		     uint32_t mtu)
{
	enum net_bad bad = net_tx_check(h, len, f, mtu);
	uint8_t gso = h->gso_type;

	check(bad >= NET_OK && bad < NET_BAD_COUNT);
	check(bad != NET_BAD_ROOM && bad != NET_BAD_TAP &&
	      bad != NET_BAD_CHAIN);
	check(bad == net_tx_check(h, len, f, mtu));
	if (bad)
		return;
	check(len >= 14 && len <= NET_FRAME_MAX);
	check(!(h->flags & ~1u));
	check(!h->flags || (f & (1ull << VIRTIO_NET_F_CSUM)));
	check(!(h->flags & 1) ||
	      (uint64_t)h->csum_start + h->csum_offset + 2 <= len);
	check(h->hdr_len <= len);
	if (gso == 0) {
		check(!h->gso_size && len <= (uint64_t)mtu + 18);
		return;
	}
	check((gso == 1 && (f & (1ull << VIRTIO_NET_F_HOST_TSO4))) ||
	      (gso == 4 && (f & (1ull << VIRTIO_NET_F_HOST_TSO6))));
	check(h->flags == 1);
	check(h->gso_size >= 1 && h->gso_size <= mtu);
}

static void check_rx(const struct net_hdr *given, uint32_t len, uint64_t f)
{
	struct net_hdr h = *given, again = *given;
	enum net_bad bad = net_rx_check(&h, len, f);
	uint8_t gso = h.gso_type;

	check(bad >= NET_OK && bad < NET_BAD_COUNT);
	check(bad == net_rx_check(&again, len, f));
	check(!memcmp(&h, &again, sizeof(h)));
	if (bad)
		return;
	check(len >= 14 && len <= NET_FRAME_MAX);
	check(!(h.flags & ~3u));
	check(!h.flags || (f & (1ull << VIRTIO_NET_F_GUEST_CSUM)));
	check(!(h.flags & 1) ||
	      (uint32_t)h.csum_start + h.csum_offset + 2 <= len);
	check(gso == 0 ||
	      (gso == 1 && (f & (1ull << VIRTIO_NET_F_GUEST_TSO4))) ||
	      (gso == 4 && (f & (1ull << VIRTIO_NET_F_GUEST_TSO6))));
	check(gso == 0 || h.gso_size);
	/* Only the flags may have been cleared, nothing else changed. */
	check(h.gso_type == given->gso_type && h.hdr_len == given->hdr_len &&
	      h.csum_start == given->csum_start);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rd r = { data, size };

	while (r.n) {
		uint8_t raw[NET_HDR_LEN], back[NET_HDR_LEN];
		struct net_hdr h;
		uint64_t features;
		uint32_t len, mtu;

		for (unsigned int i = 0; i < NET_HDR_LEN; i++)
			raw[i] = u8(&r);
		len = u32(&r);
		/* The virtio-net bits (0..23) and, as a block, the rest. */
		features = u32(&r);
		if (features & (1u << 31))
			features |= ~0ull << 32;
		mtu = u16(&r);
		net_hdr_load(raw, &h);
		net_hdr_store(&h, back);
		check(!memcmp(raw, back, NET_HDR_LEN));
		check_tx(&h, len, features, mtu);
		check_tx(&h, (uint64_t)len << 8, features, mtu);
		check_rx(&h, len, features);
	}
	return 0;
}
