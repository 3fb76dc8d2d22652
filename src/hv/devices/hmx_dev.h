/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The HMX controller: the PCI device through which a VM reaches the HMX
 * mediation core (include/bulkhead/hmx.h, docs/hmx-abi.md). BAR0 holds the
 * doorbell and status registers; BAR1 the MSI-X table. The VM is HMX
 * domain plat->domid from hmx_dev_create() until the device is destroyed.
 */
#ifndef BH_HV_DEVICES_HMX_DEV_H
#define BH_HV_DEVICES_HMX_DEV_H

#include "hv/devices/device.h"

struct hmx_host;

extern const struct device_ops hmx_dev_ops;

/*
 * Adds the device to the platform's PCI bus and the VM to the HMX core as
 * its domain; NULL if either fails. Destroying it removes the domain
 * (peers are told): that happens after the VM's vCPUs stopped and before
 * its RAM is unmapped.
 */
struct device *hmx_dev_create(const struct dev_platform *plat,
			      struct hmx_host *hmx);

#endif
