/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * QEMU's pvpanic-pci device (1b36:0011): Linux's pvpanic_pci driver writes
 * to it when the kernel panics, so a panic is reported as a crash instead
 * of a hung guest.
 */
#ifndef BH_HV_DEVICES_PVPANIC_H
#define BH_HV_DEVICES_PVPANIC_H

#include "hv/devices/device.h"

extern const struct device_ops pvpanic_ops;

/* On the platform's PCI bus; NULL if it is full or out of memory. */
struct device *pvpanic_create(const struct dev_platform *plat);

#endif
