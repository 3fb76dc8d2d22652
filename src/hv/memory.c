// SPDX-License-Identifier: GPL-2.0-only
#include "hv/memory.h"

#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hv/x86/layout.h"
#include "util/log.h"

int guest_mem_create(struct guest_mem *mem, const char *name, uint64_t size)
{
	char label[64];

	memset(mem, 0, sizeof(*mem));
	mem->memfd = -1;
	snprintf(label, sizeof(label), "bulkhead-ram-%s", name);
	mem->memfd = memfd_create(label, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (mem->memfd < 0) {
		bh_err("memfd_create: %s", strerror(errno));
		return -1;
	}
	if (ftruncate(mem->memfd, (off_t)size) < 0) {
		bh_err("cannot size guest RAM to %llu bytes: %s",
		       (unsigned long long)size, strerror(errno));
		goto fail;
	}
	/* A fixed size keeps every translated pointer valid for the VM's life. */
	if (fcntl(mem->memfd, F_ADD_SEALS,
		  F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) < 0) {
		bh_err("cannot seal guest RAM: %s", strerror(errno));
		goto fail;
	}
	mem->host = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED,
			 mem->memfd, 0);
	if (mem->host == MAP_FAILED) {
		mem->host = NULL;
		bh_err("cannot map %llu MiB of guest RAM: %s",
		       (unsigned long long)(size >> 20), strerror(errno));
		goto fail;
	}
	/* Guest memory is private: never merged (KSM) or dumped with us. */
	madvise(mem->host, size, MADV_UNMERGEABLE);
	madvise(mem->host, size, MADV_DONTDUMP);
	mem->size = size;
	mem->layout = ram_layout_of(size);
	return 0;
fail:
	close(mem->memfd);
	mem->memfd = -1;
	return -1;
}

int guest_mem_map(struct guest_mem *mem, int vm_fd)
{
	struct kvm_userspace_memory_region low = {
		.slot = 0,
		.guest_phys_addr = 0,
		.memory_size = mem->layout.low_size,
		.userspace_addr = (uintptr_t)mem->host,
	};
	struct kvm_userspace_memory_region high = {
		.slot = 1,
		.guest_phys_addr = LAYOUT_HIGH_RAM,
		.memory_size = mem->layout.high_size,
		.userspace_addr = (uintptr_t)(mem->host + mem->layout.low_size),
	};

	if (ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, &low) < 0 ||
	    (high.memory_size &&
	     ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, &high) < 0)) {
		bh_err("KVM_SET_USER_MEMORY_REGION: %s", strerror(errno));
		return -1;
	}
	return 0;
}

void guest_mem_destroy(struct guest_mem *mem)
{
	if (mem->host)
		munmap(mem->host, mem->size);
	if (mem->memfd >= 0)
		close(mem->memfd);
	mem->host = NULL;
	mem->memfd = -1;
}

void *guest_mem_ptr(const struct guest_mem *mem, uint64_t gpa, uint64_t len)
{
	const struct ram_layout *l = &mem->layout;

	if (!len || gpa + len < gpa)
		return NULL;
	if (gpa + len <= l->low_size)
		return mem->host + gpa;
	if (gpa >= LAYOUT_HIGH_RAM && gpa - LAYOUT_HIGH_RAM <= l->high_size &&
	    len <= l->high_size - (gpa - LAYOUT_HIGH_RAM))
		return mem->host + l->low_size + (gpa - LAYOUT_HIGH_RAM);
	return NULL;
}

bool guest_mem_is_ram(const struct guest_mem *mem, uint64_t gpa, uint64_t len)
{
	return guest_mem_ptr(mem, gpa, len) != NULL;
}
