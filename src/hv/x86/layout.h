/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Guest-physical memory map of a Bulkhead x86 VM (docs/architecture.md).
 * Everything below 1 MiB that the boot path writes lives at fixed addresses.
 */
#ifndef BH_HV_X86_LAYOUT_H
#define BH_HV_X86_LAYOUT_H

#define LAYOUT_GDT 0x00000500ull
#define LAYOUT_ZERO_PAGE 0x00007000ull
#define LAYOUT_PML4 0x00009000ull
#define LAYOUT_PDPT 0x0000a000ull
#define LAYOUT_PD 0x0000b000ull /* four pages: identity map of 4 GiB */
#define LAYOUT_CMDLINE 0x00020000ull
#define LAYOUT_CMDLINE_MAX 4096ull
#define LAYOUT_EBDA 0x0009fc00ull /* first byte that is not base RAM */
#define LAYOUT_ACPI 0x000e0000ull /* RSDP and ACPI tables, 64 KiB */
#define LAYOUT_ACPI_SIZE 0x00010000ull
#define LAYOUT_MPTABLE 0x000f0000ull /* MP floating pointer and table */
#define LAYOUT_MPTABLE_SIZE 0x00010000ull
#define LAYOUT_HIGH_MEMORY 0x00100000ull /* bzImage loads here */

/* RAM above this address is relocated above 4 GiB, leaving the hole. */
#define LAYOUT_MMIO_HOLE 0xc0000000ull
#define LAYOUT_PCI_MMIO 0xc0000000ull
#define LAYOUT_PCI_MMIO_END 0xfec00000ull
#define LAYOUT_IOAPIC 0xfec00000ull
#define LAYOUT_LAPIC 0xfee00000ull
/* Intel VMX needs three pages for its TSS and one for an identity map. */
#define LAYOUT_KVM_IDENTITY_MAP 0xfeffc000ull
#define LAYOUT_KVM_TSS 0xfeffd000ull
#define LAYOUT_HIGH_RAM 0x100000000ull
/* The 64-bit PCI window: above RAM, aligned to 1 GiB, 16 GiB long. */
#define LAYOUT_PCI_MMIO64_ALIGN (1ull << 30)
#define LAYOUT_PCI_MMIO64_SIZE (16ull << 30)
#define LAYOUT_PCI_MMIO64(high_ram)                                     \
	((LAYOUT_HIGH_RAM + (high_ram) + LAYOUT_PCI_MMIO64_ALIGN - 1) & \
	 ~(LAYOUT_PCI_MMIO64_ALIGN - 1))

/* I/O ports owned by the platform (beyond the in-kernel PIC, PIT, RTC). */
#define PORT_SERIAL_COM1 0x3f8
#define PORT_I8042_DATA 0x60
#define PORT_I8042_CMD 0x64
#define PORT_ACPI_PM1_EVT 0x600 /* 4 bytes: status, enable */
#define PORT_ACPI_PM1_CNT 0x604 /* 2 bytes */
#define PORT_ACPI_RESET 0x608 /* 1 byte, write ACPI_RESET_VALUE */
#define ACPI_RESET_VALUE 0x0f
#define ACPI_S5_SLP_TYP 5 /* the \_S5 value our DSDT hands the guest */
#define PORT_PCI_IO 0xc000 /* PCI I/O BARs are allocated from here */
#define PORT_PCI_IO_END 0x10000

#define IRQ_SERIAL_COM1 4
#define IRQ_ACPI_SCI 9
#define IRQ_I8042_KBD 1

#endif
