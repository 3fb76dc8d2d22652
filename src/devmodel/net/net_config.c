// SPDX-License-Identifier: GPL-2.0-only
#include "devmodel/net/net_config.h"

#include <endian.h>
#include <linux/virtio_net.h>
#include <string.h>

#define F(bit) (1ull << (bit))

uint64_t net_features(void)
{
	return F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_GUEST_CSUM) |
	       F(VIRTIO_NET_F_MTU) | F(VIRTIO_NET_F_MAC) |
	       F(VIRTIO_NET_F_GUEST_TSO4) | F(VIRTIO_NET_F_GUEST_TSO6) |
	       F(VIRTIO_NET_F_HOST_TSO4) | F(VIRTIO_NET_F_HOST_TSO6) |
	       F(VIRTIO_NET_F_MRG_RXBUF) | F(VIRTIO_NET_F_STATUS);
}

void net_config_init(const struct net_params *p, struct net_config_space *c)
{
	memset(c, 0, sizeof(*c));
	memcpy(c->mac, p->mac, NET_MAC_LEN);
	/* The tap is ours for the device's life: the link is always up. */
	c->status = htole16(VIRTIO_NET_S_LINK_UP);
	c->max_virtqueue_pairs = htole16(1);
	c->mtu = htole16(p->mtu);
}

int net_config_read(const struct net_config_space *c, uint32_t offset,
		    uint8_t *buf, uint32_t len)
{
	if (offset > sizeof(*c) || len > sizeof(*c) - offset)
		return -1;
	memcpy(buf, (const uint8_t *)c + offset, len);
	return 0;
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

int net_mac_parse(const char *s, uint8_t mac[NET_MAC_LEN])
{
	if (strlen(s) != 3 * NET_MAC_LEN - 1)
		return -1;
	for (unsigned int i = 0; i < NET_MAC_LEN; i++) {
		int hi = hex_digit(s[3 * i]), lo = hex_digit(s[3 * i + 1]);

		if (hi < 0 || lo < 0 ||
		    (i + 1 < NET_MAC_LEN && s[3 * i + 2] != ':'))
			return -1;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	return mac[0] & 1 ? -1 : 0;
}
