// SPDX-License-Identifier: GPL-2.0-only
#include "hv/kvm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "hv/x86/cpuid.h"
#include "util/log.h"

#define CPUID_MAX_ENTRIES 256

static const struct {
	int cap;
	const char *name;
} required_caps[] = {
	{ KVM_CAP_IRQCHIP, "in-kernel irqchip" },
	{ KVM_CAP_PIT2, "in-kernel PIT" },
	{ KVM_CAP_USER_MEMORY, "user memory regions" },
	{ KVM_CAP_SET_TSS_ADDR, "TSS address" },
	{ KVM_CAP_EXT_CPUID, "extended CPUID" },
	{ KVM_CAP_IMMEDIATE_EXIT, "immediate exit" },
	{ KVM_CAP_SIGNAL_MSI, "MSI injection" },
	{ KVM_CAP_IRQ_ROUTING, "IRQ routing" },
};

int kvm_host_open(struct kvm_host *kvm, const char *path)
{
	struct kvm_cpuid2 *cpuid;
	unsigned int i;
	int ver;

	memset(kvm, 0, sizeof(*kvm));
	kvm->fd = open(path, O_RDWR | O_CLOEXEC);
	if (kvm->fd < 0) {
		bh_err("cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	ver = ioctl(kvm->fd, KVM_GET_API_VERSION, 0);
	if (ver != KVM_API_VERSION) {
		bh_err("%s: KVM API version %d, need %d", path, ver,
		       KVM_API_VERSION);
		goto fail;
	}
	for (i = 0; i < sizeof(required_caps) / sizeof(required_caps[0]); i++) {
		if (ioctl(kvm->fd, KVM_CHECK_EXTENSION, required_caps[i].cap) <=
		    0) {
			bh_err("%s: KVM lacks %s (capability %d)", path,
			       required_caps[i].name, required_caps[i].cap);
			goto fail;
		}
	}
	kvm->vcpu_mmap_size = ioctl(kvm->fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (kvm->vcpu_mmap_size < (int)sizeof(struct kvm_run)) {
		bh_err("%s: bad vCPU mmap size", path);
		goto fail;
	}
	cpuid = calloc(1, sizeof(*cpuid) + CPUID_MAX_ENTRIES *
						   sizeof(cpuid->entries[0]));
	if (!cpuid)
		goto fail;
	cpuid->nent = CPUID_MAX_ENTRIES;
	if (ioctl(kvm->fd, KVM_GET_SUPPORTED_CPUID, cpuid) < 0) {
		bh_err("%s: KVM_GET_SUPPORTED_CPUID: %s", path,
		       strerror(errno));
		free(cpuid);
		goto fail;
	}
	/*
	 * KVM emulates the TSC-deadline timer but does not list it as
	 * supported; without it Linux calibrates the LAPIC timer against the
	 * PIT, which fails under nested emulation.
	 */
	if (ioctl(kvm->fd, KVM_CHECK_EXTENSION, KVM_CAP_TSC_DEADLINE_TIMER) > 0)
		cpuid_set_tsc_deadline(cpuid->entries, (int)cpuid->nent);
	kvm->cpuid = cpuid;
	return 0;
fail:
	close(kvm->fd);
	kvm->fd = -1;
	return -1;
}

void kvm_host_close(struct kvm_host *kvm)
{
	free(kvm->cpuid);
	kvm->cpuid = NULL;
	if (kvm->fd >= 0)
		close(kvm->fd);
	kvm->fd = -1;
}
