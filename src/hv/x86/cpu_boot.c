// SPDX-License-Identifier: GPL-2.0-only
#include "hv/x86/cpu_boot.h"

#include <string.h>

#include "hv/x86/layout.h"
#include "util/bytes.h"

#define PTE_PRESENT 0x001ull
#define PTE_WRITE 0x002ull
#define PTE_PS 0x080ull /* 2 MiB page in a page directory */

#define CR0_PE (1ull << 0)
#define CR0_MP (1ull << 1)
#define CR0_ET (1ull << 4)
#define CR0_NE (1ull << 5)
#define CR0_PG (1ull << 31)
#define CR4_PAE (1ull << 5)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)

/* Flat descriptors: base 0, limit 4 GiB, granularity 4 KiB. */
#define GDT_CODE64 0x00af9b000000ffffull /* L=1, present, exec/read */
#define GDT_DATA 0x00cf93000000ffffull /* present, read/write */
#define GDT_TSS 0x00008b0000000067ull /* 64-bit TSS, busy */
#define GDT_ENTRIES 5

static const uint64_t gdt[GDT_ENTRIES] = {
	[BOOT_CS / 8] = GDT_CODE64,
	[BOOT_DS / 8] = GDT_DATA,
	[BOOT_TSS / 8] = GDT_TSS,
};

void cpu_boot_tables_write(uint8_t *guest_low)
{
	unsigned int i;

	for (i = 0; i < GDT_ENTRIES; i++)
		put_le64(guest_low + LAYOUT_GDT + i * 8, gdt[i]);

	memset(guest_low + LAYOUT_PML4, 0, 4096 * 6);
	put_le64(guest_low + LAYOUT_PML4,
		 LAYOUT_PDPT | PTE_PRESENT | PTE_WRITE);
	for (i = 0; i < 4; i++)
		put_le64(guest_low + LAYOUT_PDPT + i * 8,
			 (LAYOUT_PD + i * 4096ull) | PTE_PRESENT | PTE_WRITE);
	for (i = 0; i < 4 * 512; i++)
		put_le64(guest_low + LAYOUT_PD + i * 8,
			 ((uint64_t)i << 21) | PTE_PRESENT | PTE_WRITE |
				 PTE_PS);
}

/* Decodes a GDT descriptor into the form KVM takes. */
static struct kvm_segment segment_of(uint16_t selector)
{
	uint64_t d = gdt[selector / 8];
	struct kvm_segment s = {
		.base = (d >> 16 & 0xffffff) | (d >> 32 & 0xff000000),
		.limit = (uint32_t)((d & 0xffff) | (d >> 32 & 0xf0000)),
		.selector = selector,
		.type = d >> 40 & 0xf,
		.present = d >> 47 & 1,
		.dpl = d >> 45 & 3,
		.db = d >> 54 & 1,
		.s = d >> 44 & 1,
		.l = d >> 53 & 1,
		.g = d >> 55 & 1,
	};

	if (s.g)
		s.limit = s.limit << 12 | 0xfff;
	return s;
}

void cpu_boot_sregs(struct kvm_sregs *sregs)
{
	sregs->cs = segment_of(BOOT_CS);
	sregs->ds = sregs->es = sregs->fs = sregs->gs = sregs->ss =
		segment_of(BOOT_DS);
	sregs->tr = segment_of(BOOT_TSS);
	sregs->gdt.base = LAYOUT_GDT;
	sregs->gdt.limit = GDT_ENTRIES * 8 - 1;
	sregs->idt.base = 0;
	sregs->idt.limit = 0;
	sregs->cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_PG;
	sregs->cr3 = LAYOUT_PML4;
	sregs->cr4 = CR4_PAE;
	sregs->efer = EFER_LME | EFER_LMA;
}

void cpu_boot_regs(struct kvm_regs *regs, uint64_t entry, uint64_t zero_page)
{
	memset(regs, 0, sizeof(*regs));
	regs->rflags = 0x2; /* reserved bit; interrupts off */
	regs->rip = entry;
	regs->rsi = zero_page;
}
