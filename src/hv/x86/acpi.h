/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The ACPI tables a Bulkhead guest gets: RSDP, XSDT, FADT, FACS, MADT and a
 * DSDT. They exist for clean power-off (PM1a control SLP_TYP/SLP_EN with
 * \_S5) and reset (FADT reset register). With ACPI on, Linux ignores the
 * MP table and finds PCI only through an ACPI host bridge, so the MADT
 * repeats the MP table's CPUs and IOAPIC and the DSDT describes \_SB.PCI0;
 * the MP table serves guests booted with acpi=off.
 */
#ifndef BH_HV_X86_ACPI_H
#define BH_HV_X86_ACPI_H

#include <stddef.h>
#include <stdint.h>

#define ACPI_PM1_CNT_SCI_EN 0x0001
#define ACPI_PM1_CNT_SLP_TYP_SHIFT 10
#define ACPI_PM1_CNT_SLP_TYP_MASK 0x1c00
#define ACPI_PM1_CNT_SLP_EN 0x2000

/*
 * Writes the tables for ncpus CPUs (APIC ids 0..ncpus-1, the IOAPIC's id
 * ioapic_id, the 64-bit PCI window at mmio64) into buf, which the guest
 * sees at gpa (16-byte aligned).
 * Returns the bytes used, or 0 if buf is too small or ncpus out of range.
 * The RSDP is at the start of buf.
 */
size_t acpi_tables_build(uint8_t *buf, size_t len, uint64_t gpa,
			 unsigned int ncpus, unsigned int ioapic_id,
			 uint64_t mmio64);

#endif
