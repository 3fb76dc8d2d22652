/* SPDX-License-Identifier: GPL-2.0-only */
/* Building running sets for policy tests from rule strings. */
#ifndef BH_TESTS_POLICY_TEST_VMS_H
#define BH_TESTS_POLICY_TEST_VMS_H

#include "toolstack/policy.h"

#define TEST_VM_RULES_MAX 16

struct test_vm {
	struct policy_vm vm;
	struct policy_written_rule rules[TEST_VM_RULES_MAX];
	char source[48];
};

/*
 * Fills t: a VM with rules parsed from the NULL-terminated list (which
 * must outlive t), its file "<name>.cfg", rule i at line 10 + i, column 3.
 */
void test_vm_init(struct test_vm *t, const char *name, uint16_t domid,
		  enum vm_role type, bool hmx, const char *const *rules);

/* Copies the policy_vm of each test_vm into out (in that order). */
void test_vms_collect(struct test_vm *const *tvms, size_t n,
		      struct policy_vm *out);

/* Compiles tvms[0..n) and fails the test on error. */
struct policy_set *test_compile(struct test_vm *const *tvms, size_t n);

#endif
