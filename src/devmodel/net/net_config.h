/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The virtio-net device's feature bits and config space (virtio 1.x,
 * 5.1.3 and 5.1.4), from the command line. Pure logic.
 */
#ifndef BH_DEVMODEL_NET_CONFIG_H
#define BH_DEVMODEL_NET_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#define NET_MAC_LEN 6u

struct net_params {
	uint8_t mac[NET_MAC_LEN];
	uint16_t mtu; /* NET_MTU_MIN..NET_MTU_MAX */
};

/*
 * The config space as far as the features offered reach: mac, status,
 * max_virtqueue_pairs (1: no MQ, but the field precedes mtu) and mtu.
 * Little-endian, as the guest reads it.
 */
struct net_config_space {
	uint8_t mac[NET_MAC_LEN];
	uint16_t status;
	uint16_t max_virtqueue_pairs;
	uint16_t mtu;
} __attribute__((packed));

#define NET_CONFIG_SIZE 12u
_Static_assert(sizeof(struct net_config_space) == NET_CONFIG_SIZE,
	       "virtio-net config space up to mtu");

/*
 * The device's feature bits (VIRTIO_NET_F_*): MAC, MTU, STATUS, both
 * checksum offloads, TSO both ways and mergeable receive buffers.
 */
uint64_t net_features(void);

void net_config_init(const struct net_params *p, struct net_config_space *c);

/* Copies [offset, offset + len) of c to buf; -1 if outside it. */
int net_config_read(const struct net_config_space *c, uint32_t offset,
		    uint8_t *buf, uint32_t len);

/*
 * Parses "aa:bb:cc:dd:ee:ff" (hex digits either case): 0, or -1 if it is
 * not that, or a multicast address (a NIC's own address is unicast).
 */
int net_mac_parse(const char *s, uint8_t mac[NET_MAC_LEN]);

#endif
