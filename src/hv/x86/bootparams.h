/* SPDX-License-Identifier: GPL-2.0-only */
/* The zero page (struct boot_params) and where boot inputs are placed. */
#ifndef BH_HV_X86_BOOTPARAMS_H
#define BH_HV_X86_BOOTPARAMS_H

#include <stddef.h>
#include <stdint.h>

#include "hv/x86/bzimage.h"
#include "hv/x86/e820.h"

#define ZERO_PAGE_SIZE 4096
#define ZP_ACPI_RSDP_ADDR 0x070
#define ZP_E820_ENTRIES 0x1e8
#define ZP_E820_TABLE 0x2d0
#define BOOT_LOADER_UNDEFINED 0xff

struct boot_inputs {
	uint64_t cmdline_gpa;
	uint32_t cmdline_len; /* without the NUL */
	uint64_t initrd_gpa;
	uint64_t initrd_size;
	uint64_t rsdp_gpa;
};

/* Longest command line the kernel (info, may be NULL) and our layout take. */
uint32_t cmdline_max(const struct bzimage_info *info);

/* Returns 0 if cmdline fits, else -1 with a description in *why. */
int cmdline_check(const char *cmdline, const struct bzimage_info *info,
		  const char **why);

/* End of the memory the kernel occupies while it decompresses and boots. */
uint64_t kernel_footprint_end(const struct bzimage_info *info);

/*
 * Places an initrd of size bytes at the highest page-aligned address below
 * both the end of low RAM and initrd_addr_max, above the kernel's
 * footprint. Returns 0, or -1 with a description in *why.
 */
int initrd_place(const struct bzimage_info *info, uint64_t low_ram_end,
		 uint64_t size, uint64_t *gpa, const char **why);

/*
 * Builds the zero page. With an image and its info, the image's setup
 * header is copied and the boot-loader fields filled in; with NULL (an ELF
 * test guest) only the e820 map, command line and RSDP are set.
 */
void boot_params_build(uint8_t zp[ZERO_PAGE_SIZE], const uint8_t *image,
		       const struct bzimage_info *info,
		       const struct boot_inputs *in,
		       const struct e820_map *map);

#endif
