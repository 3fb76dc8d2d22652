/* SPDX-License-Identifier: GPL-2.0-only */
/* Parsing a Linux bzImage per the x86 boot protocol (2.12 or later). */
#ifndef BH_HV_X86_BZIMAGE_H
#define BH_HV_X86_BZIMAGE_H

#include <stddef.h>
#include <stdint.h>

/* Offsets of setup-header fields, in the image and in the zero page. */
#define SH_SETUP_SECTS 0x1f1
#define SH_SYSSIZE 0x1f4
#define SH_VID_MODE 0x1fa
#define SH_BOOT_FLAG 0x1fe
#define SH_JUMP 0x200
#define SH_HEADER 0x202
#define SH_VERSION 0x206
#define SH_TYPE_OF_LOADER 0x210
#define SH_LOADFLAGS 0x211
#define SH_RAMDISK_IMAGE 0x218
#define SH_RAMDISK_SIZE 0x21c
#define SH_HEAP_END_PTR 0x224
#define SH_CMD_LINE_PTR 0x228
#define SH_INITRD_ADDR_MAX 0x22c
#define SH_KERNEL_ALIGNMENT 0x230
#define SH_RELOCATABLE 0x234
#define SH_XLOADFLAGS 0x236
#define SH_CMDLINE_SIZE 0x238
#define SH_PREF_ADDRESS 0x258
#define SH_INIT_SIZE 0x260
#define SH_END_MAX 0x290 /* where the zero page's setup header area ends */

#define BZ_BOOT_FLAG 0xaa55
#define BZ_HEADER_MAGIC 0x53726448 /* "HdrS" */
#define BZ_MIN_VERSION 0x020c
#define BZ_LOADED_HIGH 0x01
#define BZ_XLF_KERNEL_64 0x0001
#define BZ_ENTRY64_OFFSET 0x200

struct bzimage_info {
	uint16_t version;
	size_t setup_size; /* bytes before the protected-mode kernel */
	size_t kernel_size; /* protected-mode kernel bytes in the file */
	size_t header_end; /* end of the setup header to copy */
	uint32_t initrd_addr_max;
	uint32_t cmdline_size; /* maximum command line length, without NUL */
	uint64_t pref_address;
	uint32_t init_size; /* linear memory the kernel needs to boot */
	uint8_t loadflags;
	uint16_t xloadflags;
};

/*
 * Checks that buf holds a bzImage that supports the 64-bit entry point and
 * fills info. Returns 0, or -1 with a static description in *why.
 */
int bzimage_parse(const uint8_t *buf, size_t len, struct bzimage_info *info,
		  const char **why);

#endif
