/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Guest RAM: one sealed memfd mapped once into the hypervisor, registered
 * with KVM as up to two slots around the 32-bit MMIO hole. The mapping
 * lives as long as the VM, so translated pointers stay valid until then.
 */
#ifndef BH_HV_MEMORY_H
#define BH_HV_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv/x86/e820.h"

struct guest_mem {
	int memfd;
	uint8_t *host; /* whole of RAM; low part first, then high part */
	uint64_t size;
	struct ram_layout layout;
};

int guest_mem_create(struct guest_mem *mem, const char *name, uint64_t size);
/* Registers the slots with the VM fd. */
int guest_mem_map(struct guest_mem *mem, int vm_fd);
void guest_mem_destroy(struct guest_mem *mem);

/*
 * Host pointer for [gpa, gpa + len) if the whole range is guest RAM in one
 * slot, else NULL. Overflow-safe; len 0 is refused.
 */
void *guest_mem_ptr(const struct guest_mem *mem, uint64_t gpa, uint64_t len);

/* True if [gpa, gpa + len) lies entirely in RAM. */
bool guest_mem_is_ram(const struct guest_mem *mem, uint64_t gpa, uint64_t len);

#endif
