/* SPDX-License-Identifier: GPL-2.0-only */
/* The guest's RAM layout and the e820 map that describes it. */
#ifndef BH_HV_X86_E820_H
#define BH_HV_X86_E820_H

#include <stdint.h>

#define E820_RAM 1
#define E820_RESERVED 2
#define E820_MAX_ENTRIES 128
#define E820_ENTRY_SIZE 20

struct e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
};

struct e820_map {
	unsigned int n;
	struct e820_entry entry[E820_MAX_ENTRIES];
};

/* Guest RAM is split around the 32-bit MMIO hole. */
struct ram_layout {
	uint64_t low_size; /* RAM at [0, low_size) */
	uint64_t high_size; /* RAM at [4 GiB, 4 GiB + high_size) */
};

struct ram_layout ram_layout_of(uint64_t ram_size);

/* Fills map for ram; ram must be at least 1 MiB. Returns 0 or -1. */
int e820_build(struct e820_map *map, const struct ram_layout *ram);

#endif
