// SPDX-License-Identifier: GPL-2.0-only
/*
 * bulkhead-net's pure parts (src/devmodel/net/net_hdr.c, net_config.c):
 * the virtio-net header's bytes, every reason a transmitted frame is
 * dropped and the largest frames that pass, what a received frame's
 * header may carry for the features a guest negotiated, the tap offloads
 * those features allow, the config space and MAC addresses.
 */
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "devmodel/net/net_config.h"
#include "devmodel/net/net_hdr.h"

#define F(bit) (1ull << (bit))
#define TX_ALL                                              \
	(F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_HOST_TSO4) | \
	 F(VIRTIO_NET_F_HOST_TSO6))
#define MTU 1500u

static struct net_hdr hdr(uint8_t flags, uint8_t gso, uint16_t hdr_len,
			  uint16_t gso_size, uint16_t cs, uint16_t co)
{
	return (struct net_hdr){ flags, gso, hdr_len, gso_size, cs, co, 0 };
}

static void test_header_bytes(void **state)
{
	const uint8_t raw[NET_HDR_LEN] = { 1,	 4, 0x36, 0, 0xa8, 0x05,
					   0x22, 0, 0x10, 0, 3,	   0 };
	uint8_t back[NET_HDR_LEN];
	struct net_hdr h;

	(void)state;
	net_hdr_load(raw, &h);
	assert_int_equal(h.flags, 1);
	assert_int_equal(h.gso_type, VIRTIO_NET_HDR_GSO_TCPV6);
	assert_int_equal(h.hdr_len, 54);
	assert_int_equal(h.gso_size, 1448);
	assert_int_equal(h.csum_start, 34);
	assert_int_equal(h.csum_offset, 16);
	assert_int_equal(h.num_buffers, 3);
	net_hdr_store(&h, back);
	assert_memory_equal(raw, back, NET_HDR_LEN);
}

static void test_tx_passes(void **state)
{
	struct net_hdr plain = hdr(0, 0, 0, 0, 0, 0);
	struct net_hdr csum = hdr(1, 0, 0, 0, 34, 16);
	struct net_hdr tso4 =
		hdr(1, VIRTIO_NET_HDR_GSO_TCPV4, 54, 1448, 34, 16);
	struct net_hdr tso6 =
		hdr(1, VIRTIO_NET_HDR_GSO_TCPV6, 74, 1500, 54, 16);

	(void)state;
	assert_int_equal(net_tx_check(&plain, 14, 0, MTU), NET_OK);
	/* An MTU's worth behind an Ethernet and a VLAN header. */
	assert_int_equal(net_tx_check(&plain, MTU + 18, 0, MTU), NET_OK);
	assert_int_equal(net_tx_check(&csum, 52, TX_ALL, MTU), NET_OK);
	assert_int_equal(net_tx_check(&tso4, NET_FRAME_MAX, TX_ALL, MTU),
			 NET_OK);
	assert_int_equal(net_tx_check(&tso6, 9000, TX_ALL, MTU), NET_OK);
	/* hdr_len is a hint: anything inside the frame goes. */
	plain.hdr_len = 60;
	assert_int_equal(net_tx_check(&plain, 60, 0, MTU), NET_OK);
}

static void test_tx_drops(void **state)
{
	static const struct {
		struct net_hdr h;
		uint64_t len, features;
		enum net_bad why;
	} cases[] = {
		{ { 0 }, 13, TX_ALL, NET_BAD_RUNT },
		{ { 0 }, NET_FRAME_MAX + 1, TX_ALL, NET_BAD_LONG },
		{ { 0 }, 1ull << 32, TX_ALL, NET_BAD_LONG },
		{ { 0 }, MTU + 19, TX_ALL, NET_BAD_MTU },
		{ { .flags = 2 }, 60, TX_ALL, NET_BAD_FLAGS },
		{ { .flags = 4 }, 60, TX_ALL, NET_BAD_FLAGS },
		{ { .flags = 1, .csum_start = 34 }, 60, 0, NET_BAD_FLAGS },
		{ { .flags = 1, .csum_start = 58, .csum_offset = 1 },
		  60,
		  TX_ALL,
		  NET_BAD_CSUM },
		{ { .flags = 1, .csum_start = 0xffff, .csum_offset = 0xffff },
		  60,
		  TX_ALL,
		  NET_BAD_CSUM },
		{ { .hdr_len = 61 }, 60, TX_ALL, NET_BAD_HDR_LEN },
		{ { .gso_size = 1 }, 60, TX_ALL, NET_BAD_GSO_SIZE },
		{ { .flags = 1, .gso_type = 1, .gso_size = 1448 },
		  9000,
		  F(VIRTIO_NET_F_CSUM),
		  NET_BAD_GSO },
		{ { .flags = 1, .gso_type = 4, .gso_size = 1448 },
		  9000,
		  F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_HOST_TSO4),
		  NET_BAD_GSO },
		{ { .flags = 1, .gso_type = 3, .gso_size = 1448 },
		  9000,
		  TX_ALL,
		  NET_BAD_GSO },
		{ { .flags = 1, .gso_type = 0x81, .gso_size = 1448 },
		  9000,
		  TX_ALL,
		  NET_BAD_GSO },
		{ { .flags = 1, .gso_type = 5, .gso_size = 1448 },
		  9000,
		  TX_ALL,
		  NET_BAD_GSO },
		{ { .gso_type = 1, .gso_size = 1448 },
		  9000,
		  TX_ALL,
		  NET_BAD_FLAGS },
		{ { .flags = 1, .gso_type = 1 },
		  9000,
		  TX_ALL,
		  NET_BAD_GSO_SIZE },
		{ { .flags = 1, .gso_type = 1, .gso_size = MTU + 1 },
		  9000,
		  TX_ALL,
		  NET_BAD_GSO_SIZE },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum net_bad got = net_tx_check(&cases[i].h, cases[i].len,
						cases[i].features, MTU);

		if (got != cases[i].why)
			fail_msg("case %zu: %s, expected %s", i,
				 net_bad_name(got), net_bad_name(cases[i].why));
	}
}

static void test_rx(void **state)
{
	uint64_t all = F(VIRTIO_NET_F_GUEST_CSUM) | F(VIRTIO_NET_F_GUEST_TSO4) |
		       F(VIRTIO_NET_F_GUEST_TSO6);
	struct net_hdr h = hdr(2, 0, 0, 0, 0, 0);

	(void)state;
	/* DATA_VALID means nothing to a guest without GUEST_CSUM: cleared. */
	assert_int_equal(net_rx_check(&h, 60, 0), NET_OK);
	assert_int_equal(h.flags, 0);
	h = hdr(2, 0, 0, 0, 0, 0);
	assert_int_equal(net_rx_check(&h, 60, all), NET_OK);
	assert_int_equal(h.flags, 2);
	h = hdr(1, 0, 0, 0, 34, 16);
	assert_int_equal(net_rx_check(&h, 60, 0), NET_BAD_FLAGS);
	h = hdr(1, 0, 0, 0, 50, 16);
	assert_int_equal(net_rx_check(&h, 60, all), NET_BAD_CSUM);
	h = hdr(1, VIRTIO_NET_HDR_GSO_TCPV4, 54, 1448, 34, 16);
	assert_int_equal(net_rx_check(&h, 20000, all), NET_OK);
	assert_int_equal(net_rx_check(&h, 20000, F(VIRTIO_NET_F_GUEST_CSUM)),
			 NET_BAD_GSO);
	h.gso_size = 0;
	assert_int_equal(net_rx_check(&h, 20000, all), NET_BAD_GSO_SIZE);
	h = hdr(0, 0, 0, 0, 0, 0);
	assert_int_equal(net_rx_check(&h, 13, all), NET_BAD_RUNT);
	assert_int_equal(net_rx_check(&h, NET_FRAME_MAX + 1, all),
			 NET_BAD_LONG);
}

static void test_offloads(void **state)
{
	(void)state;
	assert_int_equal(net_tap_offloads(0), 0);
	/* Segmentation only comes with checksums. */
	assert_int_equal(net_tap_offloads(F(VIRTIO_NET_F_GUEST_TSO4)), 0);
	assert_int_equal(net_tap_offloads(F(VIRTIO_NET_F_GUEST_CSUM)),
			 TUN_F_CSUM);
	assert_int_equal(net_tap_offloads(F(VIRTIO_NET_F_GUEST_CSUM) |
					  F(VIRTIO_NET_F_GUEST_TSO4) |
					  F(VIRTIO_NET_F_GUEST_TSO6) |
					  F(VIRTIO_NET_F_HOST_TSO4)),
			 TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6);
}

static void test_config_and_mac(void **state)
{
	struct net_params p = { .mtu = 9000 };
	struct net_config_space c;
	uint8_t buf[NET_CONFIG_SIZE];
	uint64_t f = net_features();

	(void)state;
	assert_int_equal(net_mac_parse("02:aB:cd:EF:00:09", p.mac), 0);
	assert_memory_equal(p.mac, "\x02\xab\xcd\xef\x00\x09", 6);
	assert_int_equal(net_mac_parse("03:00:00:00:00:01", p.mac), -1);
	assert_int_equal(net_mac_parse("02:00:00:00:00:1", p.mac), -1);
	assert_int_equal(net_mac_parse("02-00-00-00-00-01", p.mac), -1);
	assert_int_equal(net_mac_parse("02:00:00:00:00:0g", p.mac), -1);
	assert_int_equal(net_mac_parse("02:00:00:00:00:01:", p.mac), -1);
	net_mac_parse("02:00:00:00:00:07", p.mac);
	net_config_init(&p, &c);
	assert_int_equal(net_config_read(&c, 0, buf, NET_CONFIG_SIZE), 0);
	assert_memory_equal(buf, "\x02\0\0\0\0\x07\x01\0\x01\0\x28\x23", 12);
	assert_int_equal(net_config_read(&c, 10, buf, 2), 0);
	assert_int_equal(net_config_read(&c, 10, buf, 3), -1);
	assert_int_equal(net_config_read(&c, 0xffffffff, buf, 2), -1);
	/* What is offered, and what is not (no control queue, no UFO). */
	assert_true(f & F(VIRTIO_NET_F_MRG_RXBUF));
	assert_true(f & F(VIRTIO_NET_F_STATUS));
	assert_false(f & F(VIRTIO_NET_F_CTRL_VQ));
	assert_false(f & F(VIRTIO_NET_F_HOST_UFO));
	assert_false(f & F(VIRTIO_NET_F_MQ));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_bytes),
		cmocka_unit_test(test_tx_passes),
		cmocka_unit_test(test_tx_drops),
		cmocka_unit_test(test_rx),
		cmocka_unit_test(test_offloads),
		cmocka_unit_test(test_config_and_mac),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
