// SPDX-License-Identifier: GPL-2.0-only
#include "hv/x86/elf.h"

#include <string.h>

#include "hv/x86/layout.h"
#include "util/bytes.h"

#define EHDR_SIZE 64
#define PHDR_SIZE 56
#define ELFCLASS64 2
#define ELFDATA2LSB 1
#define ET_EXEC 2
#define EM_X86_64 62
#define PT_LOAD 1

static int fail(const char **why, const char *msg)
{
	*why = msg;
	return -1;
}

bool elf_is_elf(const uint8_t *buf, size_t len)
{
	return len >= 4 && !memcmp(buf, "\177ELF", 4);
}

static int elf_add_segment(struct elf_info *info, const uint8_t *ph, size_t len,
			   const char **why)
{
	struct elf_segment s = {
		.offset = get_le64(ph + 8),
		.paddr = get_le64(ph + 24),
		.filesz = get_le64(ph + 32),
		.memsz = get_le64(ph + 40),
	};

	if (!s.memsz)
		return 0;
	if (info->nseg == ELF_MAX_SEGMENTS)
		return fail(why, "ELF has too many loadable segments");
	if (s.filesz > s.memsz)
		return fail(why,
			    "ELF segment's file size exceeds its memory size");
	if (s.offset > len || s.filesz > len - s.offset)
		return fail(why,
			    "truncated: ELF segment runs past end of file");
	if (s.paddr < LAYOUT_HIGH_MEMORY || s.paddr + s.memsz < s.paddr ||
	    s.paddr + s.memsz > LAYOUT_MMIO_HOLE)
		return fail(why, "ELF segment outside [1 MiB, 3 GiB)");
	info->seg[info->nseg++] = s;
	if (s.paddr + s.memsz > info->end)
		info->end = s.paddr + s.memsz;
	return 0;
}

int elf_parse(const uint8_t *buf, size_t len, struct elf_info *info,
	      const char **why)
{
	uint64_t phoff;
	unsigned int phnum, i;
	bool entry_ok = false;

	memset(info, 0, sizeof(*info));
	if (len < EHDR_SIZE || !elf_is_elf(buf, len))
		return fail(why, "not an ELF file");
	if (buf[4] != ELFCLASS64 || buf[5] != ELFDATA2LSB)
		return fail(why, "ELF is not 64-bit little-endian");
	if (get_le16(buf + 16) != ET_EXEC || get_le16(buf + 18) != EM_X86_64)
		return fail(why, "ELF is not an x86-64 executable");
	if (get_le16(buf + 54) != PHDR_SIZE)
		return fail(why, "ELF program header size is wrong");
	phoff = get_le64(buf + 32);
	phnum = get_le16(buf + 56);
	if (!phnum || phoff > len || (uint64_t)phnum * PHDR_SIZE > len - phoff)
		return fail(
			why,
			"truncated: ELF program headers run past end of file");
	for (i = 0; i < phnum; i++) {
		const uint8_t *ph = buf + phoff + (uint64_t)i * PHDR_SIZE;

		if (get_le32(ph) == PT_LOAD &&
		    elf_add_segment(info, ph, len, why) < 0)
			return -1;
	}
	if (!info->nseg)
		return fail(why, "ELF has no loadable segment");
	info->entry = get_le64(buf + 24);
	for (i = 0; i < info->nseg; i++)
		if (info->entry >= info->seg[i].paddr &&
		    info->entry - info->seg[i].paddr < info->seg[i].memsz)
			entry_ok = true;
	if (!entry_ok)
		return fail(why,
			    "ELF entry point is not in a loadable segment");
	return 0;
}
