/* SPDX-License-Identifier: GPL-2.0-only */
/* Puts a kernel, initrd, command line and platform tables into a VM. */
#ifndef BH_HV_X86_LOADER_H
#define BH_HV_X86_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv/memory.h"

struct boot_files {
	const uint8_t *kernel; /* whole bzImage or ELF file */
	size_t kernel_len;
	int initrd_fd; /* -1 for none */
	uint64_t initrd_size;
	const char *cmdline;
	unsigned int nvcpus;
};

struct boot_entry {
	uint64_t rip; /* 64-bit entry point */
	uint64_t zero_page; /* rsi at entry */
	/*
	 * A bzImage starts on the boot vCPU only; Linux wakes the others with
	 * INIT/SIPI. A freestanding ELF guest has no such code, so every
	 * vCPU starts at its entry and tells itself apart by its APIC id.
	 */
	bool all_vcpus;
};

/* Loads everything and fills *entry; -1 with a one-line reason on error. */
int x86_boot_load(struct guest_mem *mem, const struct boot_files *f,
		  struct boot_entry *entry, char *err, size_t errlen);

#endif
