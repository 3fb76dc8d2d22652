// SPDX-License-Identifier: GPL-2.0-only
#include "hv/x86/bzimage.h"

#include "util/bytes.h"

static int fail(const char **why, const char *msg)
{
	*why = msg;
	return -1;
}

int bzimage_parse(const uint8_t *buf, size_t len, struct bzimage_info *info,
		  const char **why)
{
	unsigned int setup_sects;
	uint64_t syssize_bytes;

	if (len < SH_END_MAX)
		return fail(why, "file too small to be a bzImage");
	if (get_le16(buf + SH_BOOT_FLAG) != BZ_BOOT_FLAG ||
	    get_le32(buf + SH_HEADER) != BZ_HEADER_MAGIC)
		return fail(why, "not a bzImage (no boot flag or HdrS header)");
	info->version = get_le16(buf + SH_VERSION);
	if (info->version < BZ_MIN_VERSION)
		return fail(why,
			    "boot protocol older than 2.12 (no 64-bit entry)");
	info->xloadflags = get_le16(buf + SH_XLOADFLAGS);
	if (!(info->xloadflags & BZ_XLF_KERNEL_64))
		return fail(why, "kernel has no 64-bit entry point");
	info->loadflags = buf[SH_LOADFLAGS];
	if (!(info->loadflags & BZ_LOADED_HIGH))
		return fail(why, "kernel is not loadable at 1 MiB (zImage)");

	setup_sects = buf[SH_SETUP_SECTS];
	if (!setup_sects)
		setup_sects = 4;
	info->setup_size = (size_t)(setup_sects + 1) * 512;
	if (info->setup_size >= len)
		return fail(why, "truncated: setup code runs past end of file");
	syssize_bytes = (uint64_t)get_le32(buf + SH_SYSSIZE) * 16;
	if (!syssize_bytes)
		return fail(why, "setup header says the kernel is empty");
	if (syssize_bytes > len - info->setup_size)
		return fail(why,
			    "truncated: file is shorter than its header says");
	info->kernel_size = len - info->setup_size;

	/* The byte after the jump instruction gives the header's length. */
	info->header_end = SH_HEADER + buf[SH_JUMP + 1];
	if (info->header_end > SH_END_MAX)
		info->header_end = SH_END_MAX;
	if (info->header_end < SH_INIT_SIZE + 4)
		return fail(why, "setup header too short for protocol 2.12");

	info->initrd_addr_max = get_le32(buf + SH_INITRD_ADDR_MAX);
	info->cmdline_size = get_le32(buf + SH_CMDLINE_SIZE);
	info->pref_address = get_le64(buf + SH_PREF_ADDRESS);
	info->init_size = get_le32(buf + SH_INIT_SIZE);
	if (!info->init_size || !info->cmdline_size || !info->initrd_addr_max)
		return fail(
			why,
			"setup header has zero init_size, cmdline_size or initrd_addr_max");
	/* Where the kernel runs must be a 64-bit address (see loader.c). */
	if (info->pref_address > UINT64_MAX - info->init_size)
		return fail(
			why,
			"setup header's pref_address + init_size overflows");
	return 0;
}
