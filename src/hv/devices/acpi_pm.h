/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ACPI fixed-hardware registers: PM1a event and control blocks and the
 * FADT reset register. Writing SLP_TYP = \_S5 with SLP_EN powers the VM
 * off; writing the reset value resets it.
 */
#ifndef BH_HV_DEVICES_ACPI_PM_H
#define BH_HV_DEVICES_ACPI_PM_H

#include "hv/devices/device.h"

struct acpi_pm;

extern const struct device_ops acpi_pm_ops;

/* Decodes PORT_ACPI_PM1_EVT up to and including PORT_ACPI_RESET. */
struct acpi_pm *acpi_pm_create(const struct dev_platform *plat);
struct device *acpi_pm_device(struct acpi_pm *pm);

#endif
