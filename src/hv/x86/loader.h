/* SPDX-License-Identifier: GPL-2.0-only */
/* Puts a kernel, initrd, command line and platform tables into a VM. */
#ifndef BH_HV_X86_LOADER_H
#define BH_HV_X86_LOADER_H

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

/*
 * Loads everything and returns the 64-bit entry point and zero page in
 * *entry and *zero_page. On failure returns -1 with a one-line reason.
 */
int x86_boot_load(struct guest_mem *mem, const struct boot_files *f,
		  uint64_t *entry, uint64_t *zero_page, char *err,
		  size_t errlen);

#endif
