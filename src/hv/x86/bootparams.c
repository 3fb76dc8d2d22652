// SPDX-License-Identifier: GPL-2.0-only
#include "hv/x86/bootparams.h"

#include <string.h>

#include "hv/x86/layout.h"
#include "util/bytes.h"

#define PAGE_MASK_4K 0xfffull

uint32_t cmdline_max(const struct bzimage_info *info)
{
	uint32_t max = LAYOUT_CMDLINE_MAX - 1;

	if (info && info->cmdline_size < max)
		max = info->cmdline_size;
	return max;
}

int cmdline_check(const char *cmdline, const struct bzimage_info *info,
		  const char **why)
{
	size_t len = strlen(cmdline);

	if (len > cmdline_max(info)) {
		*why = "command line longer than the kernel accepts";
		return -1;
	}
	return 0;
}

uint64_t kernel_footprint_end(const struct bzimage_info *info)
{
	uint64_t loaded = LAYOUT_HIGH_MEMORY + info->kernel_size;
	uint64_t base = info->pref_address > LAYOUT_HIGH_MEMORY ?
				info->pref_address :
				LAYOUT_HIGH_MEMORY;
	uint64_t running = base + info->init_size;

	return loaded > running ? loaded : running;
}

int initrd_place(const struct bzimage_info *info, uint64_t low_ram_end,
		 uint64_t size, uint64_t *gpa, const char **why)
{
	uint64_t top = low_ram_end;
	uint64_t floor = (kernel_footprint_end(info) + PAGE_MASK_4K) &
			 ~PAGE_MASK_4K;

	if ((uint64_t)info->initrd_addr_max + 1 < top)
		top = (uint64_t)info->initrd_addr_max + 1;
	if (size > top || ((top - size) & ~PAGE_MASK_4K) < floor) {
		*why = "initrd does not fit in guest RAM below initrd_addr_max above the kernel";
		return -1;
	}
	*gpa = (top - size) & ~PAGE_MASK_4K;
	return 0;
}

static void put_e820(uint8_t *zp, const struct e820_map *map)
{
	unsigned int i;

	zp[ZP_E820_ENTRIES] = (uint8_t)map->n;
	for (i = 0; i < map->n; i++) {
		uint8_t *e = zp + ZP_E820_TABLE + i * E820_ENTRY_SIZE;

		put_le64(e, map->entry[i].addr);
		put_le64(e + 8, map->entry[i].size);
		put_le32(e + 16, map->entry[i].type);
	}
}

void boot_params_build(uint8_t zp[ZERO_PAGE_SIZE], const uint8_t *image,
		       const struct bzimage_info *info,
		       const struct boot_inputs *in, const struct e820_map *map)
{
	memset(zp, 0, ZERO_PAGE_SIZE);
	if (image && info) {
		memcpy(zp + SH_SETUP_SECTS, image + SH_SETUP_SECTS,
		       info->header_end - SH_SETUP_SECTS);
		zp[SH_TYPE_OF_LOADER] = BOOT_LOADER_UNDEFINED;
		put_le16(zp + SH_VID_MODE, 0xffff); /* "normal" text mode */
		put_le32(zp + SH_RAMDISK_IMAGE, (uint32_t)in->initrd_gpa);
		put_le32(zp + SH_RAMDISK_SIZE, (uint32_t)in->initrd_size);
	}
	put_le32(zp + SH_CMD_LINE_PTR, (uint32_t)in->cmdline_gpa);
	put_le64(zp + ZP_ACPI_RSDP_ADDR, in->rsdp_gpa);
	put_e820(zp, map);
}
