/* SPDX-License-Identifier: GPL-2.0-only */
/* Per-vCPU CPUID: what KVM supports, with this vCPU's APIC id and topology. */
#ifndef BH_HV_X86_CPUID_H
#define BH_HV_X86_CPUID_H

#include <linux/kvm.h>

/*
 * Rewrites entries (n of them, room for cap) in place for vCPU index of
 * nvcpus: one socket, nvcpus cores, one thread per core, APIC id = index.
 * Returns the new entry count, or -1 if cap is too small.
 */
int cpuid_apply_topology(struct kvm_cpuid_entry2 *entries, int n, int cap,
			 unsigned int index, unsigned int nvcpus);

/* Advertises the TSC-deadline mode of the local APIC timer (leaf 1). */
void cpuid_set_tsc_deadline(struct kvm_cpuid_entry2 *entries, int n);

/* Bits needed to number n ids (0 for n == 1). */
unsigned int cpuid_id_bits(unsigned int n);

#endif
