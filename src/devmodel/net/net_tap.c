// SPDX-License-Identifier: GPL-2.0-only
#include "devmodel/net/net_tap.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "devmodel/net/net_hdr.h"

int net_tap_setup(int fd, char *err, size_t errlen)
{
	struct ifreq ifr;
	int hdr = NET_HDR_LEN, le = 1, fl;

	memset(&ifr, 0, sizeof(ifr));
	if (ioctl(fd, TUNGETIFF, &ifr) < 0) {
		snprintf(err, errlen,
			 "descriptor %d is not an attached tap (%s)", fd,
			 strerror(errno));
		return -1;
	}
	if ((ifr.ifr_flags & (IFF_TUN | IFF_TAP)) != IFF_TAP) {
		snprintf(err, errlen, "%.16s is a tun device, not a tap",
			 ifr.ifr_name);
		return -1;
	}
	if (!(ifr.ifr_flags & IFF_NO_PI) || !(ifr.ifr_flags & IFF_VNET_HDR)) {
		snprintf(err, errlen,
			 "tap %.16s was not opened with IFF_NO_PI and "
			 "IFF_VNET_HDR",
			 ifr.ifr_name);
		return -1;
	}
	/* Virtio 1.x headers are little-endian whatever the host is. */
	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0 ||
	    ioctl(fd, TUNSETVNETLE, &le) < 0 || net_tap_set_offloads(fd, 0)) {
		snprintf(err, errlen, "tap %.16s: cannot set its header: %s",
			 ifr.ifr_name, strerror(errno));
		return -1;
	}
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
		snprintf(err, errlen, "tap %.16s: %s", ifr.ifr_name,
			 strerror(errno));
		return -1;
	}
	return 0;
}

int net_tap_set_offloads(int fd, unsigned int offloads)
{
	return ioctl(fd, TUNSETOFFLOAD, (unsigned long)offloads) < 0 ? -1 : 0;
}
