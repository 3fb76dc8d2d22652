/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Making an NDVM NIC's tap inside a network namespace (/run/netns/NAME,
 * as ip-netns(8) makes them): a short-lived child setns()es into it,
 * opens /dev/net/tun, creates the tap (IFF_TAP | IFF_NO_PI |
 * IFF_VNET_HDR, and never an existing device: IFF_TUN_EXCL), adds it to
 * a bridge of the namespace if one is named, sets it up and passes the
 * descriptor back. bulkheadd's own namespaces never
 * change. The tap is not persistent: it goes with its last descriptor.
 */
#ifndef BH_DAEMON_NIC_TAP_H
#define BH_DAEMON_NIC_TAP_H

#include <stddef.h>

/*
 * The tap's descriptor, or -1 with err saying what failed and what to do.
 * bridge: "" for none.
 */
int nic_tap_create(const char *netns, const char *tap, const char *bridge,
		   char *err, size_t errlen);

#endif
