/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ACPI fixed-hardware registers: PM1a event and control blocks and the
 * FADT reset register. Writing SLP_TYP = \_S5 with SLP_EN powers the VM
 * off; writing the reset value resets it.
 */
#ifndef BH_HV_DEVICES_ACPI_PM_H
#define BH_HV_DEVICES_ACPI_PM_H

#include <stdbool.h>
#include <stdint.h>

struct vm;
struct vcpu;
struct acpi_pm;

struct acpi_pm *acpi_pm_create(struct vm *vm);
void acpi_pm_destroy(struct acpi_pm *pm);
/* Covers PORT_ACPI_PM1_EVT up to and including PORT_ACPI_RESET. */
void acpi_pm_io(void *opaque, struct vcpu *vcpu, uint64_t offset, uint8_t *data,
		unsigned int size, bool is_write);
#define ACPI_PM_IO_LEN 9

#endif
