// SPDX-License-Identifier: GPL-2.0-only
/*
 * Per-vCPU CPUID topology: APIC ids, leaf 0xB levels, leaf 1 counts, leaf
 * 0x1F dropped, the entry array's capacity. The input imitates what
 * KVM_GET_SUPPORTED_CPUID returns on an Intel and on an AMD host.
 */
#include "hv/x86/cpuid.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#define CAP 32

static struct kvm_cpuid2_fixed {
	int n;
	struct kvm_cpuid_entry2 e[CAP];
} host;

static void add(uint32_t fn, uint32_t idx, uint32_t eax, uint32_t ebx,
		uint32_t ecx, uint32_t edx)
{
	struct kvm_cpuid_entry2 *x = &host.e[host.n++];

	memset(x, 0, sizeof(*x));
	x->function = fn;
	x->index = idx;
	x->eax = eax;
	x->ebx = ebx;
	x->ecx = ecx;
	x->edx = edx;
}

/* A host with max basic leaf 0x1f, stale 0xb/0x1f topology, caches. */
static void make_host(uint32_t max_leaf)
{
	host.n = 0;
	add(0, 0, max_leaf, 0x756e6547, 0x6c65746e, 0x49656e69);
	/* leaf 1: stepping info, brand 0x12, CLFLUSH 8, 32 logical, id 7 */
	add(1, 0, 0x000906ea, 0x07200812, 0x7ffafbff, 0xbfebfbff);
	add(4, 0, 0x1c004121, 0x01c0003f, 0x3f, 0);
	add(4, 1, 0x1c004122, 0x01c0003f, 0x3f, 0);
	add(4, 2, 0, 0, 0, 0); /* no more caches: left alone */
	add(7, 0, 0, 0x029c6fbf, 0, 0);
	add(0xb, 0, 1, 2, 0x100, 7);
	add(0xb, 1, 4, 16, 0x201, 7);
	add(0x1f, 0, 1, 2, 0x100, 7);
	add(0x1f, 1, 4, 16, 0x201, 7);
	add(0x80000000, 0, 0x80000008, 0, 0, 0);
	add(0x80000008, 0, 0x3030, 0, 0x0000700f, 0);
	add(0x8000001e, 0, 9, 0x0103, 0x0302, 0);
}

static const struct kvm_cpuid_entry2 *leaf(const struct kvm_cpuid_entry2 *e,
					   int n, uint32_t fn, uint32_t idx,
					   int *count)
{
	const struct kvm_cpuid_entry2 *found = NULL;
	int c = 0;

	for (int i = 0; i < n; i++) {
		if (e[i].function == fn && e[i].index == idx) {
			found = &e[i];
			c++;
		}
	}
	if (count)
		*count = c;
	return found;
}

static int count_fn(const struct kvm_cpuid_entry2 *e, int n, uint32_t fn)
{
	int c = 0;

	for (int i = 0; i < n; i++)
		c += e[i].function == fn;
	return c;
}

static int apply(struct kvm_cpuid_entry2 *e, unsigned int index,
		 unsigned int nvcpus)
{
	memcpy(e, host.e, sizeof(host.e));
	return cpuid_apply_topology(e, host.n, CAP, index, nvcpus);
}

static void test_id_bits(void **state)
{
	(void)state;
	assert_int_equal(cpuid_id_bits(1), 0);
	assert_int_equal(cpuid_id_bits(2), 1);
	assert_int_equal(cpuid_id_bits(3), 2);
	assert_int_equal(cpuid_id_bits(4), 2);
	assert_int_equal(cpuid_id_bits(5), 3);
	assert_int_equal(cpuid_id_bits(64), 6);
	assert_int_equal(cpuid_id_bits(65), 7);
}

static void check_vcpu(unsigned int index, unsigned int nvcpus)
{
	struct kvm_cpuid_entry2 e[CAP];
	const struct kvm_cpuid_entry2 *x;
	unsigned int bits = cpuid_id_bits(nvcpus);
	int n = apply(e, index, nvcpus), c;

	/* 0xb and 0x1f (2 each) replaced by 3 new 0xb subleaves. */
	assert_int_equal(n, host.n - 4 + 3);
	assert_int_equal(count_fn(e, n, 0x1f), 0);
	assert_int_equal(count_fn(e, n, 0xb), 3);

	x = leaf(e, n, 1, 0, &c);
	assert_int_equal(c, 1);
	assert_int_equal(x->ebx >> 24, index); /* initial APIC id */
	assert_int_equal((x->ebx >> 16) & 0xff, nvcpus & 0xff);
	assert_int_equal(x->ebx & 0xffff, 0x0812); /* the rest is the host's */
	assert_true(x->ecx & (1u << 31)); /* hypervisor present */
	assert_int_equal(!!(x->edx & (1u << 28)), nvcpus > 1); /* HTT */
	assert_int_equal(x->eax, 0x000906ea);

	/* Leaf 0xb: SMT level (1 thread), core level (all vCPUs), end. */
	x = leaf(e, n, 0xb, 0, &c);
	assert_int_equal(c, 1);
	assert_true(x->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX);
	assert_int_equal(x->eax & 0x1f, 0);
	assert_int_equal(x->ebx & 0xffff, 1);
	assert_int_equal(x->ecx, 1u << 8 | 0);
	assert_int_equal(x->edx, index); /* x2APIC id */
	x = leaf(e, n, 0xb, 1, &c);
	assert_int_equal(c, 1);
	assert_int_equal(x->eax & 0x1f, bits);
	assert_int_equal(x->ebx & 0xffff, nvcpus);
	assert_int_equal(x->ecx, 2u << 8 | 1);
	assert_int_equal(x->edx, index);
	/* The id fits the field the core level says it has. */
	assert_true(index < (1u << bits) || (bits == 0 && index == 0));
	x = leaf(e, n, 0xb, 2, &c);
	assert_int_equal(c, 1);
	assert_int_equal(x->ebx & 0xffff, 0);
	assert_int_equal((x->ecx >> 8) & 0xff, 0); /* invalid level: end */
	assert_int_equal(x->ecx & 0xff, 2);
	assert_int_equal(x->edx, index);

	/* Leaf 4: cores per package - 1 in bits 31:26; cache type kept. */
	x = leaf(e, n, 4, 0, NULL);
	assert_int_equal(x->eax >> 26, (1u << bits) - 1);
	assert_int_equal(x->eax & 0x3ff, 0x121);
	x = leaf(e, n, 4, 2, NULL);
	assert_int_equal(x->eax, 0);

	/* AMD: core count and id width; extended APIC id. */
	x = leaf(e, n, 0x80000008, 0, NULL);
	assert_int_equal(x->ecx & 0xff, nvcpus - 1);
	assert_int_equal((x->ecx >> 12) & 0xf, bits);
	assert_int_equal(x->eax, 0x3030);
	x = leaf(e, n, 0x8000001e, 0, NULL);
	assert_int_equal(x->eax, index);
	assert_int_equal(x->ebx & 0xff, index & 0xff);
	assert_int_equal(x->ecx & 0xff, 0);

	/* Untouched leaves stay as the host gave them. */
	x = leaf(e, n, 7, 0, NULL);
	assert_int_equal(x->ebx, 0x029c6fbf);
}

static void test_topology_each_vcpu(void **state)
{
	static const unsigned int counts[] = { 1, 2, 3, 4, 7, 64 };

	(void)state;
	make_host(0x1f);
	for (unsigned int c = 0; c < 6; c++)
		for (unsigned int i = 0; i < counts[c]; i++)
			check_vcpu(i, counts[c]);
}

/* Every vCPU of a VM gets a distinct APIC id, the same everywhere. */
static void test_apic_ids_unique(void **state)
{
	uint8_t seen[64] = { 0 };

	(void)state;
	make_host(0x1f);
	for (unsigned int i = 0; i < 64; i++) {
		struct kvm_cpuid_entry2 e[CAP];
		int n = apply(e, i, 64);
		uint32_t id1 = leaf(e, n, 1, 0, NULL)->ebx >> 24;
		uint32_t idb = leaf(e, n, 0xb, 0, NULL)->edx;

		assert_int_equal(id1, idb);
		assert_true(idb < 64);
		assert_int_equal(seen[idb], 0);
		seen[idb] = 1;
	}
}

/* A CPU without leaf 0xb gets none; 0x1f is still dropped. */
static void test_old_cpu(void **state)
{
	struct kvm_cpuid_entry2 e[CAP];
	int n;

	(void)state;
	make_host(0xa);
	n = apply(e, 1, 2);
	assert_int_equal(n, host.n - 4);
	assert_int_equal(count_fn(e, n, 0xb), 0);
	assert_int_equal(count_fn(e, n, 0x1f), 0);
	assert_int_equal(leaf(e, n, 1, 0, NULL)->ebx >> 24, 1);
}

static void test_capacity(void **state)
{
	struct kvm_cpuid_entry2 e[CAP];
	int room;

	(void)state;
	make_host(0x1f);
	room = host.n - 4 + 3; /* exactly what the result needs */
	memcpy(e, host.e, sizeof(host.e));
	assert_int_equal(cpuid_apply_topology(e, host.n, room, 0, 2), room);
	memcpy(e, host.e, sizeof(host.e));
	assert_int_equal(cpuid_apply_topology(e, host.n, room - 1, 0, 2), -1);
}

static void test_tsc_deadline(void **state)
{
	struct kvm_cpuid_entry2 e[CAP];

	(void)state;
	make_host(0x1f);
	memcpy(e, host.e, sizeof(host.e));
	e[1].ecx &= ~(1u << 24);
	cpuid_set_tsc_deadline(e, host.n);
	assert_true(leaf(e, host.n, 1, 0, NULL)->ecx & (1u << 24));
	assert_int_equal(leaf(e, host.n, 7, 0, NULL)->ecx, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_id_bits),
		cmocka_unit_test(test_topology_each_vcpu),
		cmocka_unit_test(test_apic_ids_unique),
		cmocka_unit_test(test_old_cpu),
		cmocka_unit_test(test_capacity),
		cmocka_unit_test(test_tsc_deadline),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
