/* SPDX-License-Identifier: GPL-2.0-only */
/* The host's KVM: one open /dev/kvm and what it supports, shared by VMs. */
#ifndef BH_HV_KVM_H
#define BH_HV_KVM_H

#include <linux/kvm.h>

struct kvm_host {
	int fd;
	int vcpu_mmap_size;
	struct kvm_cpuid2 *cpuid; /* what guests may see; immutable */
};

/* Opens /dev/kvm and checks every capability Bulkhead relies on. */
int kvm_host_open(struct kvm_host *kvm, const char *path);
void kvm_host_close(struct kvm_host *kvm);

#endif
