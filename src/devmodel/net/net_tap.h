/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The tap bulkhead-net is handed: checked to be a tap opened
 * IFF_TAP | IFF_NO_PI | IFF_VNET_HDR (by the toolstack, inside the
 * network namespace it belongs to; this process never creates a network
 * device and holds no CAP_NET_ADMIN), then set up for virtio-net's
 * 12-byte little-endian header, non-blocking, with no offloads until
 * the guest's features say which it takes.
 */
#ifndef BH_DEVMODEL_NET_TAP_H
#define BH_DEVMODEL_NET_TAP_H

#include <stddef.h>

/* 0, or -1 with err saying what the descriptor is not. */
int net_tap_setup(int fd, char *err, size_t errlen);

/* TUNSETOFFLOAD: what the kernel may hand us (net_tap_offloads()). */
int net_tap_set_offloads(int fd, unsigned int offloads);

#endif
