// SPDX-License-Identifier: GPL-2.0-only
#include "policy_test_vms.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

void test_vm_init(struct test_vm *t, const char *name, uint16_t domid,
		  enum vm_role type, bool hmx, const char *const *rules)
{
	size_t n = 0;

	memset(t, 0, sizeof(*t));
	snprintf(t->source, sizeof(t->source), "%s.cfg", name);
	for (; rules && rules[n]; n++) {
		struct policy_rule_error err;

		assert_true(n < TEST_VM_RULES_MAX);
		if (policy_rule_parse(rules[n], strlen(rules[n]),
				      &t->rules[n].rule, &err))
			fail_msg("rule \"%s\": %s", rules[n], err.msg);
		t->rules[n].text = (char *)rules[n];
		t->rules[n].line = 10 + (unsigned int)n;
		t->rules[n].column = 3;
	}
	t->vm.name = name;
	t->vm.domid = domid;
	t->vm.type = type;
	t->vm.hmx = hmx;
	t->vm.source = t->source;
	t->vm.rules = t->rules;
	t->vm.nrules = n;
}

void test_vms_collect(struct test_vm *const *tvms, size_t n,
		      struct policy_vm *out)
{
	for (size_t i = 0; i < n; i++)
		out[i] = tvms[i]->vm;
}

struct policy_set *test_compile(struct test_vm *const *tvms, size_t n)
{
	struct policy_vm *vms = calloc(n ? n : 1, sizeof(*vms));
	struct policy_set *set = NULL;
	char err[256];
	int ret;

	assert_non_null(vms);
	test_vms_collect(tvms, n, vms);
	ret = policy_compile(vms, n, &set, err, sizeof(err));
	if (ret)
		fail_msg("compile: %s", err);
	free(vms);
	return set;
}
