// SPDX-License-Identifier: GPL-2.0-only
#include "hv/x86/loader.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hv/x86/acpi.h"
#include "hv/x86/bootparams.h"
#include "hv/x86/bzimage.h"
#include "hv/x86/cpu_boot.h"
#include "hv/x86/elf.h"
#include "hv/x86/layout.h"
#include "hv/x86/mptable.h"

#define MIB(x) ((unsigned long long)(((x) + (1ull << 20) - 1) >> 20))

static int load_bzimage(struct guest_mem *mem, const struct boot_files *f,
			struct bzimage_info *bz, uint64_t *entry, char *err,
			size_t errlen)
{
	const char *why;
	uint64_t need;

	if (bzimage_parse(f->kernel, f->kernel_len, bz, &why) < 0) {
		snprintf(err, errlen, "kernel: %s", why);
		return -1;
	}
	need = kernel_footprint_end(bz);
	/* Saturating: a header may claim a footprint near 2^64. */
	need = f->initrd_size > UINT64_MAX - need ? UINT64_MAX :
						    need + f->initrd_size;
	if (need > mem->layout.low_size) {
		snprintf(
			err, errlen,
			"memory: %llu MiB is too small: this kernel%s needs at least %llu MiB",
			MIB(mem->size), f->initrd_size ? " and initrd" : "",
			(unsigned long long)(need >> 20) + !!(need & 0xfffff));
		return -1;
	}
	memcpy(mem->host + LAYOUT_HIGH_MEMORY, f->kernel + bz->setup_size,
	       bz->kernel_size);
	*entry = LAYOUT_HIGH_MEMORY + BZ_ENTRY64_OFFSET;
	return 0;
}

static int load_elf(struct guest_mem *mem, const struct boot_files *f,
		    uint64_t *entry, char *err, size_t errlen)
{
	struct elf_info elf;
	const char *why;
	unsigned int i;

	if (elf_parse(f->kernel, f->kernel_len, &elf, &why) < 0) {
		snprintf(err, errlen, "kernel: %s", why);
		return -1;
	}
	if (elf.end > mem->layout.low_size) {
		snprintf(
			err, errlen,
			"memory: %llu MiB is too small: this ELF image needs at least %llu MiB",
			MIB(mem->size), MIB(elf.end));
		return -1;
	}
	for (i = 0; i < elf.nseg; i++) {
		const struct elf_segment *s = &elf.seg[i];

		memcpy(mem->host + s->paddr, f->kernel + s->offset, s->filesz);
		memset(mem->host + s->paddr + s->filesz, 0,
		       s->memsz - s->filesz);
	}
	*entry = elf.entry;
	return 0;
}

static int read_full_at(int fd, uint8_t *dst, uint64_t len)
{
	uint64_t done = 0;

	while (done < len) {
		ssize_t n = pread(fd, dst + done, len - done, (off_t)done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		done += (uint64_t)n;
	}
	return 0;
}

static int load_initrd(struct guest_mem *mem, const struct boot_files *f,
		       const struct bzimage_info *bz, uint64_t *gpa, char *err,
		       size_t errlen)
{
	const char *why;

	if (!bz) {
		snprintf(err, errlen,
			 "initrd: only a bzImage kernel takes an initrd");
		return -1;
	}
	if (initrd_place(bz, mem->layout.low_size, f->initrd_size, gpa, &why) <
	    0) {
		snprintf(err, errlen, "initrd: %llu MiB: %s",
			 MIB(f->initrd_size), why);
		return -1;
	}
	if (read_full_at(f->initrd_fd, mem->host + *gpa, f->initrd_size) < 0) {
		snprintf(err, errlen, "initrd: read failed or file shrank: %s",
			 errno ? strerror(errno) : "unexpected end of file");
		return -1;
	}
	return 0;
}

int x86_boot_load(struct guest_mem *mem, const struct boot_files *f,
		  struct boot_entry *entry, char *err, size_t errlen)
{
	struct bzimage_info bz, *bzp = NULL;
	struct boot_inputs in = { 0 };
	struct e820_map map;
	const char *why;

	if (mem->layout.low_size < LAYOUT_HIGH_MEMORY * 2) {
		snprintf(err, errlen, "memory: at least 2 MiB is needed");
		return -1;
	}
	entry->all_vcpus = elf_is_elf(f->kernel, f->kernel_len);
	if (entry->all_vcpus) {
		if (load_elf(mem, f, &entry->rip, err, errlen) < 0)
			return -1;
	} else {
		if (load_bzimage(mem, f, &bz, &entry->rip, err, errlen) < 0)
			return -1;
		bzp = &bz;
	}

	if (cmdline_check(f->cmdline, bzp, &why) < 0) {
		snprintf(err, errlen, "cmdline: %zu bytes: %s (at most %u)",
			 strlen(f->cmdline), why, cmdline_max(bzp));
		return -1;
	}
	in.cmdline_gpa = LAYOUT_CMDLINE;
	in.cmdline_len = (uint32_t)strlen(f->cmdline);
	memcpy(mem->host + LAYOUT_CMDLINE, f->cmdline, in.cmdline_len + 1);

	if (f->initrd_fd >= 0) {
		if (load_initrd(mem, f, bzp, &in.initrd_gpa, err, errlen) < 0)
			return -1;
		in.initrd_size = f->initrd_size;
	}

	if (!acpi_tables_build(mem->host + LAYOUT_ACPI, LAYOUT_ACPI_SIZE,
			       LAYOUT_ACPI, f->nvcpus,
			       mptable_ioapic_id(f->nvcpus),
			       LAYOUT_PCI_MMIO64(mem->layout.high_size)) ||
	    !mptable_build(mem->host + LAYOUT_MPTABLE, LAYOUT_MPTABLE_SIZE,
			   LAYOUT_MPTABLE, f->nvcpus)) {
		snprintf(err, errlen,
			 "cannot build platform tables for %u vCPUs",
			 f->nvcpus);
		return -1;
	}
	in.rsdp_gpa = LAYOUT_ACPI;
	e820_build(&map, &mem->layout);
	boot_params_build(mem->host + LAYOUT_ZERO_PAGE, bzp ? f->kernel : NULL,
			  bzp, &in, &map);
	cpu_boot_tables_write(mem->host);
	entry->zero_page = LAYOUT_ZERO_PAGE;
	return 0;
}
