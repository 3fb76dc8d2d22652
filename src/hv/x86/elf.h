/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Static ELF64 x86-64 executables, for small freestanding test guests. They
 * are entered like a bzImage's 64-bit entry: long mode, rsi = zero page.
 */
#ifndef BH_HV_X86_ELF_H
#define BH_HV_X86_ELF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ELF_MAX_SEGMENTS 16

struct elf_segment {
	uint64_t paddr;
	uint64_t offset;
	uint64_t filesz;
	uint64_t memsz;
};

struct elf_info {
	uint64_t entry;
	unsigned int nseg;
	struct elf_segment seg[ELF_MAX_SEGMENTS];
	uint64_t end; /* highest byte any segment occupies, plus one */
};

bool elf_is_elf(const uint8_t *buf, size_t len);

/* Validates headers and segments; 0, or -1 with *why. */
int elf_parse(const uint8_t *buf, size_t len, struct elf_info *info,
	      const char **why);

#endif
