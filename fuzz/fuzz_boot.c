// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzzes the boot loader end to end: bzimage_parse or elf_parse on the
 * kernel file, the placement of kernel, initrd and command line, and the
 * platform tables and zero page, through x86_boot_load() into a guest RAM
 * of fuzzer-chosen size that has inaccessible guard pages on both sides.
 *
 * It aborts when a load that succeeded broke the layout: the initrd not
 * page-aligned, not wholly in low RAM, below the kernel's footprint or
 * above initrd_addr_max; the zero page not describing what was loaded
 * (command line, initrd, the image's own setup header, an e820 map whose
 * RAM is all guest RAM); an entry point outside the loaded image; or when
 * a refusal's message is empty, not one printable line, or not prefixed
 * by what it is about.
 */
#include "fuzz_input.h"
#include "hv/memory.h"
#include "hv/x86/bootparams.h"
#include "hv/x86/bzimage.h"
#include "hv/x86/elf.h"
#include "hv/x86/layout.h"
#include "hv/x86/loader.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MIB (1ull << 20)
#define MAX_RAM (64 * MIB)
#define MAX_INITRD (8 * MIB)
#define GUARD 4096ull

static uint8_t *ram_base; /* MAX_RAM, with a PROT_NONE page either side */
static int initrd_fd = -1;

static void setup(void)
{
	uint8_t *m = mmap(NULL, MAX_RAM + 2 * GUARD, PROT_NONE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	check(m != MAP_FAILED);
	check(!mprotect(m + GUARD, MAX_RAM, PROT_READ | PROT_WRITE));
	ram_base = m + GUARD;
	initrd_fd = memfd_create("fuzz-initrd", MFD_CLOEXEC);
	check(initrd_fd >= 0);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
	return le32(p) | (uint64_t)le32(p + 4) << 32;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

static bool one_printable_line(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < 0x20 || *s > 0x7e)
			return false;
	return true;
}

/* Kernel images the parsers get past their magic checks more often. */
static void shape_kernel(uint8_t *k, size_t len, uint8_t how)
{
	switch (how % 4) {
	case 1: /* a bzImage header with fuzzed fields */
		if (len >= SH_END_MAX) {
			put16(k + SH_BOOT_FLAG, BZ_BOOT_FLAG);
			put32(k + SH_HEADER, BZ_HEADER_MAGIC);
			if (how & 0x10) {
				put16(k + SH_VERSION, 0x020f);
				k[SH_LOADFLAGS] |= BZ_LOADED_HIGH;
				k[SH_XLOADFLAGS] |= BZ_XLF_KERNEL_64;
			}
			if (how & 0x20)
				k[SH_SETUP_SECTS] &= 0x3;
			if (how & 0x40) /* syssize: the whole rest */
				put32(k + SH_SYSSIZE,
				      (uint32_t)((len - (k[SH_SETUP_SECTS] +
							 1) * 512ull) /
						 16));
		}
		break;
	case 2: /* an ELF64 x86-64 executable header */
		if (len >= 64) {
			memcpy(k, "\177ELF\2\1\1", 7);
			put16(k + 16, 2);
			put16(k + 18, 62);
			put16(k + 54, 56);
			if (how & 0x10)
				k[32] = 64, k[33] = k[34] = k[35] = 0;
		}
		break;
	default: /* as the input has it */
		break;
	}
}

static void check_zero_page(const struct guest_mem *mem, const uint8_t *kernel,
			    size_t klen, const char *cmdline)
{
	const uint8_t *zp = mem->host + LAYOUT_ZERO_PAGE;
	uint64_t cmd = le32(zp + SH_CMD_LINE_PTR);
	unsigned int n = zp[ZP_E820_ENTRIES];

	check(cmd == LAYOUT_CMDLINE);
	check(!strcmp((const char *)mem->host + cmd, cmdline));
	check(le64(zp + ZP_ACPI_RSDP_ADDR) == LAYOUT_ACPI);
	check(!memcmp(mem->host + LAYOUT_ACPI, "RSD PTR ", 8));
	check(!memcmp(mem->host + LAYOUT_MPTABLE, "_MP_", 4));
	check(n >= 1 && n <= E820_MAX_ENTRIES);
	for (unsigned int i = 0; i < n; i++) {
		const uint8_t *e = zp + ZP_E820_TABLE + i * E820_ENTRY_SIZE;
		uint64_t a = le64(e), sz = le64(e + 8);

		if (le32(e + 16) != E820_RAM)
			continue;
		check(a + sz >= a);
		check(a + sz <= mem->layout.low_size ||
		      (a >= LAYOUT_HIGH_RAM &&
		       a + sz <= LAYOUT_HIGH_RAM + mem->layout.high_size));
	}
	if (klen >= SH_END_MAX && !elf_is_elf(kernel, klen)) {
		struct bzimage_info bz;
		const char *why;

		check(bzimage_parse(kernel, klen, &bz, &why) == 0);
		/* The header is the image's own, up to where it ends. */
		for (size_t o = SH_SETUP_SECTS; o < bz.header_end; o++) {
			if ((o >= SH_VID_MODE && o < SH_VID_MODE + 2) ||
			    o == SH_TYPE_OF_LOADER ||
			    (o >= SH_RAMDISK_IMAGE &&
			     o < SH_RAMDISK_SIZE + 4) ||
			    (o >= SH_CMD_LINE_PTR && o < SH_CMD_LINE_PTR + 4))
				continue;
			check(zp[o] == kernel[o]);
		}
		for (size_t o = bz.header_end; o < ZP_E820_TABLE; o++)
			check(zp[o] == 0);
	}
}

static void check_bzimage(const struct guest_mem *mem, const uint8_t *kernel,
			  size_t klen, uint64_t entry, uint64_t initrd_size)
{
	const uint8_t *zp = mem->host + LAYOUT_ZERO_PAGE;
	struct bzimage_info bz;
	const char *why;

	unsigned __int128 running;

	check(bzimage_parse(kernel, klen, &bz, &why) == 0);
	check(entry == LAYOUT_HIGH_MEMORY + BZ_ENTRY64_OFFSET);
	/* Computed here without overflow: where the kernel runs fits RAM. */
	running = (unsigned __int128)(bz.pref_address > LAYOUT_HIGH_MEMORY ?
					      bz.pref_address :
					      LAYOUT_HIGH_MEMORY) +
		  bz.init_size;
	check(running <= mem->layout.low_size);
	check(LAYOUT_HIGH_MEMORY + bz.kernel_size <= mem->layout.low_size);
	check(!memcmp(mem->host + LAYOUT_HIGH_MEMORY, kernel + bz.setup_size,
		      bz.kernel_size));
	if (initrd_size) {
		uint64_t at = le32(zp + SH_RAMDISK_IMAGE);
		uint64_t floor = kernel_footprint_end(&bz);

		check(le32(zp + SH_RAMDISK_SIZE) == (uint32_t)initrd_size);
		check(at % 4096 == 0);
		check(at >= floor);
		check(at + initrd_size <= mem->layout.low_size);
		check(at + initrd_size - 1 <= bz.initrd_addr_max);
		/* Not over the kernel as loaded, nor where it will run. */
		check(at >= LAYOUT_HIGH_MEMORY + bz.kernel_size);
		check(at >= running);
	}
}

static void check_elf(const struct guest_mem *mem, const uint8_t *kernel,
		      size_t klen, uint64_t entry)
{
	struct elf_info elf;
	const char *why;
	bool in = false;

	check(elf_parse(kernel, klen, &elf, &why) == 0);
	check(elf.end <= mem->layout.low_size);
	for (unsigned int i = 0; i < elf.nseg; i++) {
		const struct elf_segment *s = &elf.seg[i];

		check(s->paddr >= LAYOUT_HIGH_MEMORY);
		in |= entry >= s->paddr && entry - s->paddr < s->memsz;
	}
	check(in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct guest_mem mem = { .memfd = -1 };
	struct boot_files f = { .initrd_fd = -1 };
	struct boot_entry entry = { 0 };
	uint64_t initrd_size;
	char cmdline[15 * 300 + 1]; /* up to 4500: past every limit */
	size_t cmdlen, klen;
	uint8_t *kernel;
	char err[512];
	uint8_t how;
	int ret;

	if (!ram_base)
		setup();
	if (size < 8)
		return 0;
	/* RAM 1..64 MiB, vCPUs 0..71, a command line up to 4.1 KiB. */
	mem.size = (1 + data[0] % 64) * MIB;
	mem.layout = ram_layout_of(mem.size);
	mem.host = ram_base;
	f.nvcpus = data[1] % 72;
	initrd_size = le32(data + 2) % (MAX_INITRD + 1);
	how = data[6];
	cmdlen = data[7] < 0xf0 ? data[7] % 64 : (data[7] - 0xf0) * 300;
	data += 8;
	size -= 8;
	if (cmdlen > size)
		cmdlen = size;
	for (size_t i = 0; i < cmdlen; i++)
		cmdline[i] = (char)(data[i] % 95 + 0x20);
	cmdline[cmdlen] = '\0';
	data += cmdlen;
	size -= cmdlen;

	klen = size;
	kernel = malloc(klen ? klen : 1);
	check(kernel);
	memcpy(kernel, data, klen);
	shape_kernel(kernel, klen, how);
	f.kernel = kernel;
	f.kernel_len = klen;
	f.cmdline = cmdline;
	if (how & 0x80 && initrd_size) {
		check(!ftruncate(initrd_fd, 0));
		check(!ftruncate(initrd_fd, (off_t)initrd_size));
		f.initrd_fd = initrd_fd;
		f.initrd_size = initrd_size;
	} else {
		initrd_size = 0;
	}

	err[0] = '\0';
	ret = x86_boot_load(&mem, &f, &entry, err, sizeof(err));
	if (ret < 0) {
		check(ret == -1);
		check(one_printable_line(err));
		check(!strncmp(err, "kernel: ", 8) ||
		      !strncmp(err, "memory: ", 8) ||
		      !strncmp(err, "initrd: ", 8) ||
		      !strncmp(err, "cmdline: ", 9) ||
		      !strncmp(err, "cannot build platform tables", 28));
	} else {
		check(ret == 0);
		check(entry.zero_page == LAYOUT_ZERO_PAGE);
		/* Only a bzImage has code to start the other vCPUs. */
		check(entry.all_vcpus == elf_is_elf(kernel, klen));
		check(f.nvcpus >= 1 && f.nvcpus <= 64);
		check(strlen(cmdline) < LAYOUT_CMDLINE_MAX);
		if (elf_is_elf(kernel, klen)) {
			check(!initrd_size);
			check_elf(&mem, kernel, klen, entry.rip);
		} else {
			check_bzimage(&mem, kernel, klen, entry.rip,
				      initrd_size);
		}
		check_zero_page(&mem, kernel, klen, cmdline);
	}
	free(kernel);
	return 0;
}
