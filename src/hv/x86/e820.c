// SPDX-License-Identifier: GPL-2.0-only
#include "hv/x86/e820.h"

#include "hv/x86/layout.h"

struct ram_layout ram_layout_of(uint64_t ram_size)
{
	struct ram_layout r;

	r.low_size = ram_size < LAYOUT_MMIO_HOLE ? ram_size : LAYOUT_MMIO_HOLE;
	r.high_size = ram_size - r.low_size;
	return r;
}

static void e820_add(struct e820_map *map, uint64_t addr, uint64_t size,
		     uint32_t type)
{
	map->entry[map->n++] = (struct e820_entry){ addr, size, type };
}

int e820_build(struct e820_map *map, const struct ram_layout *ram)
{
	map->n = 0;
	if (ram->low_size < LAYOUT_HIGH_MEMORY)
		return -1;
	/* Base memory, then the BIOS-area tables the guest must not reuse. */
	e820_add(map, 0, LAYOUT_EBDA, E820_RAM);
	e820_add(map, LAYOUT_EBDA, 0xa0000 - LAYOUT_EBDA, E820_RESERVED);
	e820_add(map, LAYOUT_ACPI, LAYOUT_HIGH_MEMORY - LAYOUT_ACPI,
		 E820_RESERVED);
	e820_add(map, LAYOUT_HIGH_MEMORY, ram->low_size - LAYOUT_HIGH_MEMORY,
		 E820_RAM);
	if (ram->high_size)
		e820_add(map, LAYOUT_HIGH_RAM, ram->high_size, E820_RAM);
	return 0;
}
