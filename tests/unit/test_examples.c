// SPDX-License-Identifier: GPL-2.0-only
/* The definitions in examples/ parse cleanly and mean what they say. */
#include "toolstack/policy.h"
#include "toolstack/vmcfg.h"

#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static struct vmcfg *load(const char *file)
{
	char path[512], msg[1024];
	struct cfg_error err;
	struct vmcfg *cfg;

	snprintf(path, sizeof(path), "%s/%s", BH_EXAMPLES_DIR, file);
	if (vmcfg_parse_file(path, &cfg, &err)) {
		cfg_error_format(&err, msg, sizeof(msg));
		fail_msg("%s", msg);
	}
	return cfg;
}

static void test_every_example_parses(void **state)
{
	DIR *dir = opendir(BH_EXAMPLES_DIR);
	struct dirent *de;
	size_t n = 0;

	(void)state;
	assert_non_null(dir);
	while ((de = readdir(dir))) {
		size_t len = strlen(de->d_name);

		if (len < 5 || strcmp(de->d_name + len - 4, ".cfg"))
			continue;
		vmcfg_free(load(de->d_name));
		n++;
	}
	closedir(dir);
	assert_true(n >= 3);
}

static void test_example_values(void **state)
{
	struct vmcfg *ndvm = load("ndvm.cfg");
	char want[600];

	(void)state;
	assert_string_equal(ndvm->name, "ndvm");
	assert_int_equal(ndvm->type, VM_TYPE_NDVM);
	assert_true(ndvm->autostart);
	snprintf(want, sizeof(want), "%s/images/vmlinuz", BH_EXAMPLES_DIR);
	assert_string_equal(ndvm->kernel, want);
	snprintf(want, sizeof(want), "%s/logs/ndvm.log", BH_EXAMPLES_DIR);
	assert_string_equal(ndvm->serial_path, want);
	assert_int_equal(ndvm->nrules, 3);
	vmcfg_free(ndvm);
}

static const char *decide(const struct policy_set *set, const char *src,
			  const char *dst)
{
	struct policy_flow flow;
	const struct policy_entry *e;
	char err[128];

	if (policy_flow_parse(set, src, dst, &flow, err, sizeof(err)))
		fail_msg("%s", err);
	e = policy_check(set, &flow);
	return e ? policy_action_name(e->action) : "default deny";
}

static void test_example_policy(void **state)
{
	struct vmcfg *cfgs[3] = { load("ndvm.cfg"), load("work.cfg"),
				  load("personal.cfg") };
	struct policy_vm vms[3];
	struct policy_set *set;
	char err[128];

	(void)state;
	for (int i = 0; i < 3; i++)
		policy_vm_from_vmcfg(&vms[i], cfgs[i], (uint16_t)(3 + i));
	assert_int_equal(policy_compile(vms, 3, &set, err, sizeof(err)), 0);
	assert_string_equal(decide(set, "work:40000", "ndvm:2000"), "accept");
	assert_string_equal(decide(set, "personal:1", "ndvm:2000"), "accept");
	assert_string_equal(decide(set, "ndvm:2000", "personal:1"), "accept");
	assert_string_equal(decide(set, "ndvm:2001", "personal:1"),
			    "default deny");
	assert_string_equal(decide(set, "work:1", "host:5555"), "accept");
	assert_string_equal(decide(set, "personal:1", "work:8080"), "reject");
	assert_string_equal(decide(set, "work:1", "personal:8080"),
			    "default deny");
	assert_string_equal(decide(set, "ndvm:1", "host:5555"), "reject");
	policy_set_free(set);
	for (int i = 0; i < 3; i++)
		vmcfg_free(cfgs[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_example_parses),
		cmocka_unit_test(test_example_values),
		cmocka_unit_test(test_example_policy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
