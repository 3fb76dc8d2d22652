/* SPDX-License-Identifier: GPL-2.0-only */
/* The CPU state the 64-bit boot protocol expects at the kernel's entry. */
#ifndef BH_HV_X86_CPU_BOOT_H
#define BH_HV_X86_CPU_BOOT_H

#include <stdint.h>
#include <linux/kvm.h>

#define BOOT_CS 0x10
#define BOOT_DS 0x18
#define BOOT_TSS 0x20

/*
 * Writes the GDT and page tables identity-mapping the first 4 GiB with
 * 2 MiB pages into guest memory, given a host pointer to guest-physical 0
 * that covers at least the first 64 KiB.
 */
void cpu_boot_tables_write(uint8_t *guest_low);

/* Long mode, paging on, flat segments from our GDT. */
void cpu_boot_sregs(struct kvm_sregs *sregs);

/* rip at the entry point, rsi pointing at the zero page. */
void cpu_boot_regs(struct kvm_regs *regs, uint64_t entry, uint64_t zero_page);

#endif
