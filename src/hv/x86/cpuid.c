// SPDX-License-Identifier: GPL-2.0-only
#include "hv/x86/cpuid.h"

#include <string.h>

#define CPUID_1_ECX_HYPERVISOR (1u << 31)
#define CPUID_1_EDX_HTT (1u << 28)
#define CPUID_1_ECX_TSC_DEADLINE (1u << 24)
#define TOPO_LEVEL_SMT 1
#define TOPO_LEVEL_CORE 2

unsigned int cpuid_id_bits(unsigned int n)
{
	unsigned int bits = 0;

	while ((1u << bits) < n)
		bits++;
	return bits;
}

void cpuid_set_tsc_deadline(struct kvm_cpuid_entry2 *e, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (e[i].function == 1)
			e[i].ecx |= CPUID_1_ECX_TSC_DEADLINE;
}

static int drop_leaf(struct kvm_cpuid_entry2 *e, int n, __u32 function)
{
	int i, out = 0;

	for (i = 0; i < n; i++)
		if (e[i].function != function)
			e[out++] = e[i];
	return out;
}

static __u32 max_basic_leaf(const struct kvm_cpuid_entry2 *e, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (e[i].function == 0)
			return e[i].eax;
	return 0;
}

static void topo_leaf(struct kvm_cpuid_entry2 *e, __u32 sub, __u32 shift,
		      __u32 count, __u32 level, unsigned int apic_id)
{
	memset(e, 0, sizeof(*e));
	e->function = 0xb;
	e->index = sub;
	e->flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
	e->eax = shift;
	e->ebx = count;
	e->ecx = level << 8 | sub;
	e->edx = apic_id;
}

int cpuid_apply_topology(struct kvm_cpuid_entry2 *e, int n, int cap,
			 unsigned int index, unsigned int nvcpus)
{
	const unsigned int core_bits = cpuid_id_bits(nvcpus);
	int i;

	/* Leaf 0x1f would override 0xb; describe the topology once, in 0xb. */
	n = drop_leaf(e, n, 0x1f);
	n = drop_leaf(e, n, 0xb);
	for (i = 0; i < n; i++) {
		struct kvm_cpuid_entry2 *x = &e[i];

		switch (x->function) {
		case 0x1:
			x->ebx = (x->ebx & 0x0000ffff) | (nvcpus & 0xff) << 16 |
				 index << 24;
			x->ecx |= CPUID_1_ECX_HYPERVISOR;
			if (nvcpus > 1)
				x->edx |= CPUID_1_EDX_HTT;
			else
				x->edx &= ~CPUID_1_EDX_HTT;
			break;
		case 0x4:
			/* Deterministic cache parameters: cores per package. */
			if (x->eax & 0x1f)
				x->eax = (x->eax & 0x3ff) |
					 ((1u << core_bits) - 1) << 26;
			break;
		case 0x80000008:
			/* AMD: number of cores minus one, and the id width. */
			x->ecx = (x->ecx & ~0xf0ffu) | (nvcpus - 1) |
				 core_bits << 12;
			break;
		case 0x8000001e:
			x->eax = index;
			x->ebx = (x->ebx & ~0xffffu) | (index & 0xff);
			x->ecx &= ~0xffu;
			break;
		}
	}
	if (max_basic_leaf(e, n) < 0xb)
		return n;
	if (n + 3 > cap)
		return -1;
	topo_leaf(&e[n++], 0, 0, 1, TOPO_LEVEL_SMT, index);
	topo_leaf(&e[n++], 1, core_bits, nvcpus, TOPO_LEVEL_CORE, index);
	topo_leaf(&e[n++], 2, 0, 0, 0, index);
	return n;
}
