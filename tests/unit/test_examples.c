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

static struct vmcfg *load_from(const char *dir, const char *file)
{
	char path[512], msg[1024];
	struct cfg_error err;
	struct vmcfg *cfg;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if (vmcfg_parse_file(path, &cfg, &err)) {
		cfg_error_format(&err, msg, sizeof(msg));
		fail_msg("%s", msg);
	}
	return cfg;
}

static struct vmcfg *load(const char *file)
{
	return load_from(BH_EXAMPLES_DIR, file);
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
	assert_true(n >= 4);
}

static void test_example_values(void **state)
{
	struct vmcfg *ndvm = load("ndvm.cfg");
	char want[600];

	(void)state;
	assert_string_equal(ndvm->name, "ndvm");
	assert_int_equal(ndvm->role, VM_ROLE_NDVM);
	assert_true(ndvm->autostart);
	snprintf(want, sizeof(want), "%s/images/vmlinuz", BH_EXAMPLES_DIR);
	assert_string_equal(ndvm->kernel, want);
	snprintf(want, sizeof(want), "%s/logs/ndvm.log", BH_EXAMPLES_DIR);
	assert_string_equal(ndvm->serial_path, want);
	assert_int_equal(ndvm->nrules, 3);
	assert_int_equal(ndvm->nvifs, 0);
	vmcfg_free(ndvm);
}

/*
 * A definition using exactly the constructs of Xen's example PVH guest
 * (tools/examples/xlexample.pvhlinux): xl's syntax means the same here.
 */
static void test_xl_pvh(void **state)
{
	struct vmcfg *cfg = load_from(BH_TEST_DATA_DIR, "xl-pvh.cfg");
	char want[600];
	const struct disk_spec *d;

	(void)state;
	snprintf(want, sizeof(want), "%s/xl-pvh.cfg", BH_TEST_DATA_DIR);
	assert_string_equal(cfg->source, want);
	assert_string_equal(cfg->name, "example.pvhlinux");
	assert_int_equal(cfg->role, VM_ROLE_GUEST);
	assert_string_equal(cfg->kernel, "/boot/vmlinuz");
	assert_null(cfg->ramdisk);
	assert_string_equal(cfg->cmdline, "root=/dev/xvda1");
	assert_int_equal(cfg->memory_mib, 512);
	assert_int_equal(cfg->vcpus, 4);
	assert_int_equal(cfg->nvifs, 1);
	assert_string_equal(cfg->vifs[0].backend, "");
	assert_false(cfg->vifs[0].has_mac);
	assert_int_equal(cfg->ndisks, 1);
	d = &cfg->disks[0];
	assert_string_equal(d->target, "/dev/vg/guest-volume");
	assert_int_equal(d->format, DISK_FORMAT_RAW);
	assert_string_equal(d->vdev, "xvda");
	assert_int_equal(d->index, 0);
	assert_false(d->readonly);
	assert_int_equal(d->backend, DISK_BACKEND_BULKHEAD_BLK);
	assert_true(d->discard);
	assert_int_equal(d->element, 0);
	assert_int_equal(d->line, 33);
	assert_int_equal(d->column, 10);
	/* Bulkhead's own keys keep their defaults. */
	assert_true(cfg->hmx);
	assert_false(cfg->autostart);
	assert_false(cfg->vsock);
	assert_int_equal(cfg->serial, VMCFG_SERIAL_PTY);
	assert_null(cfg->serial_path);
	assert_int_equal(cfg->nrules, 0);
	/* xl's vif means the same here: nothing to warn about. */
	assert_int_equal(cfg->nwarnings, 0);
	vmcfg_free(cfg);

	/* Its copy in examples/ differs only in placeholder paths. */
	cfg = load("xl-pvh.cfg");
	assert_string_equal(cfg->name, "example.pvhlinux");
	snprintf(want, sizeof(want), "%s/images/guest.img", BH_EXAMPLES_DIR);
	assert_string_equal(cfg->disks[0].target, want);
	assert_string_equal(cfg->cmdline, "root=/dev/vda1 console=ttyS0");
	assert_int_equal(cfg->memory_mib, 512);
	assert_int_equal(cfg->vcpus, 4);
	vmcfg_free(cfg);
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
		cmocka_unit_test(test_xl_pvh),
		cmocka_unit_test(test_example_policy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
