// SPDX-License-Identifier: GPL-2.0-only
/*
 * What a start decides for its vifs (vif_plan.h): each vif's backend
 * among the defined VMs, every refusal's sentence, the command line with
 * hmxnet's parameters, and the instance's record in the state file.
 */
#include "toolstack_test.h"

#include "toolstack/daemon/vif_plan.h"

#include <json-c/json.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* ndvm(3) running, vpn(5) a running service, lan an NDVM stopped,
 * web(6) a running guest, dark(7) a service without HMX, broken. */
static const struct vif_candidate vms[] = {
	{ "ndvm", true, VM_ROLE_NDVM, true, true, 3 },
	{ "vpn", true, VM_ROLE_SERVICE, true, true, 5 },
	{ "lan", true, VM_ROLE_NDVM, true, false, 0 },
	{ "web", true, VM_ROLE_GUEST, true, true, 6 },
	{ "dark", true, VM_ROLE_SERVICE, false, true, 7 },
	{ "broken", false, VM_ROLE_GUEST, false, false, 0 },
};
#define NVMS (sizeof(vms) / sizeof(*vms))

/* Plans the vifs of "name = 'me'" with extra keys among the first n. */
static int plan(const char *extra, size_t n, struct vif_inst *out, char *err,
		size_t errlen)
{
	char text[512];
	struct vmcfg *cfg;
	int ret;

	snprintf(text, sizeof(text),
		 "name = 'me'\nmemory = 64\nkernel = '/k'\n%s", extra);
	cfg = parse_ok(text);
	ret = vif_plan_backends(cfg, vms, n, out, err, errlen);
	vmcfg_free(cfg);
	return ret;
}

static void refused(const char *extra, size_t n, const char *want)
{
	struct vif_inst out[VIF_PER_VM_MAX];
	char err[256] = "";

	assert_int_equal(plan(extra, n, out, err, sizeof(err)), -1);
	assert_string_equal(err, want);
}

static void test_backends(void **state)
{
	struct vif_inst out[VIF_PER_VM_MAX];
	char err[256];

	(void)state;
	/* lan is an NDVM too: no default among all of them. */
	assert_int_equal(plan("vif = [ 'backend=ndvm', 'backend=vpn' ]\n", NVMS,
			      out, err, sizeof(err)),
			 0);
	assert_string_equal(out[0].backend, "ndvm");
	assert_int_equal(out[0].backend_domid, 3);
	assert_string_equal(out[1].backend, "vpn");
	assert_int_equal(out[1].backend_domid, 5);
	/* Without lan, ndvm is the only NDVM: the default. */
	assert_int_equal(plan("vif = [ '', 'backend=vpn', '' ]\n", 2, out, err,
			      sizeof(err)),
			 0);
	assert_string_equal(out[0].backend, "ndvm");
	assert_string_equal(out[2].backend, "ndvm");
}

/* The stopped backends a start must begin with, each once, in vif order. */
static void test_stopped_backends(void **state)
{
	const char *names[VIF_PER_VM_MAX];
	struct vmcfg *cfg;

	(void)state;
	cfg = parse_ok("name = 'me'\nmemory = 64\nkernel = '/k'\n"
		       "vif = [ 'backend=lan', 'backend=ndvm', 'backend=lan',"
		       " 'backend=dark', 'backend=web', 'backend=broken',"
		       " 'backend=nosuch' ]\n");
	/* Running, without HMX, a guest, unparsed, undefined: not ours. */
	assert_int_equal(vif_plan_stopped_backends(cfg, vms, NVMS, names,
						   VIF_PER_VM_MAX),
			 1);
	assert_string_equal(names[0], "lan");
	assert_int_equal(vif_plan_stopped_backends(cfg, vms, NVMS, names, 0),
			 0);
	vmcfg_free(cfg);
	/* The default NDVM, when it is the only one and stopped. */
	cfg = parse_ok("name = 'me'\nmemory = 64\nkernel = '/k'\n"
		       "vif = [ '' ]\n");
	assert_int_equal(vif_plan_stopped_backends(cfg, vms + 2, 1, names,
						   VIF_PER_VM_MAX),
			 1);
	assert_string_equal(names[0], "lan");
	/* Ambiguous: left for vif_plan_backends() to explain. */
	assert_int_equal(vif_plan_stopped_backends(cfg, vms, NVMS, names,
						   VIF_PER_VM_MAX),
			 0);
	vmcfg_free(cfg);
	/* Never the VM itself. */
	cfg = parse_ok("name = 'lan'\nrole = 'ndvm'\nmemory = 64\n"
		       "kernel = '/k'\nvif = [ 'backend=ndvm' ]\n");
	assert_int_equal(vif_plan_stopped_backends(cfg, vms + 2, 1, names,
						   VIF_PER_VM_MAX),
			 0);
	vmcfg_free(cfg);
}

static void test_refusals(void **state)
{
	(void)state;
	refused("vif = [ '' ]\n", NVMS,
		"vif 0 has no backend= and 2 VMs have role \"ndvm\" (ndvm, lan): write backend=NAME");
	refused("vif = [ 'backend=vpn', '' ]\n", 0,
		"vif 0: backend vpn: no VM of that name is defined");
	refused("vif = [ 'backend=vpn', '' ]\n", 4,
		"vif 1 has no backend= and 2 VMs have role \"ndvm\" (ndvm, lan): write backend=NAME");
	refused("vif = [ '' ]\n", 0,
		"vif 0 has no backend= and no VM with role \"ndvm\" is defined: write backend=NAME");
	refused("vif = [ 'backend=lan' ]\n", NVMS,
		"vif 0: backend lan is not running: start it first");
	refused("vif = [ 'backend=web' ]\n", NVMS,
		"vif 0: backend web has role \"guest\"; a backend has role \"ndvm\" or \"service\"");
	refused("vif = [ 'backend=dark' ]\n", NVMS,
		"vif 0: backend dark has hmx = off, and hmxnet runs over HMX");
	refused("vif = [ 'backend=broken' ]\n", NVMS,
		"vif 0: backend broken: its definition does not parse, so its role is unknown");
	refused("vif = [ 'backend=nosuch' ]\n", NVMS,
		"vif 0: backend nosuch: no VM of that name is defined");
}

static void test_self(void **state)
{
	static const struct vif_candidate me[] = {
		{ "me", true, VM_ROLE_NDVM, true, false, 0 },
	};
	struct vif_inst out[1];
	char text[] = "name = 'me'\nrole = 'ndvm'\nmemory = 64\n"
		      "kernel = '/k'\nvif = [ '' ]\n";
	struct vmcfg *cfg = parse_ok(text);
	char err[256];

	(void)state;
	assert_int_equal(vif_plan_backends(cfg, me, 1, out, err, sizeof(err)),
			 -1);
	assert_string_equal(
		err,
		"vif 0: its default backend is the only NDVM, me, which is this VM itself: write backend=NAME");
	vmcfg_free(cfg);
}

static char *cmdline_of(const char *extra, const struct vif_inst *vifs)
{
	char text[3000], err[256];
	struct vmcfg *cfg;
	char *line;

	snprintf(text, sizeof(text),
		 "name = 'me'\nmemory = 64\nkernel = '/k'\n%s", extra);
	cfg = parse_ok(text);
	line = vif_plan_cmdline(cfg, vifs, err, sizeof(err));
	if (!line)
		fail_msg("%s", err);
	vmcfg_free(cfg);
	return line;
}

static void test_cmdline(void **state)
{
	const struct vif_inst vifs[3] = { { "ndvm", 3 },
					  { "vpn", 12345 },
					  { "ndvm", 3 } };
	char *line;

	(void)state;
	line = cmdline_of("cmdline = 'console=ttyS0'\n", vifs);
	assert_string_equal(line, "console=ttyS0");
	free(line);
	line = cmdline_of("vif = [ '', 'backend=vpn', '' ]\n", vifs);
	assert_string_equal(line, "hmxnet.front=3,12345,3");
	free(line);
	line = cmdline_of(
		"extra = 'quiet'\nvif = [ '', 'mac=02:AA:00:00:00:01', '' ]\n",
		vifs);
	assert_string_equal(
		line,
		"quiet hmxnet.front=3,12345,3 hmxnet.mac=,02:aa:00:00:00:01,");
	free(line);
	line = cmdline_of("role = 'ndvm'\ncmdline = 'console=ttyS0'\n", vifs);
	assert_string_equal(line, "console=ttyS0 hmxnet.serve=8");
	free(line);
	line = cmdline_of("role = 'ndvm'\nvif = [ 'backend=vpn' ]\n", vifs);
	assert_string_equal(line, "hmxnet.front=3 hmxnet.serve=8");
	free(line);
	/* An NDVM without HMX has no hmxnet to serve with. */
	line = cmdline_of("role = 'ndvm'\nhmx = off\n", vifs);
	assert_string_equal(line, "");
	free(line);
	line = cmdline_of("role = 'service'\n", vifs);
	assert_string_equal(line, "");
	free(line);
}

static void test_cmdline_too_long(void **state)
{
	static const struct vif_inst vifs[VIF_PER_VM_MAX] = {
		{ "a", 32000 }, { "a", 32000 }, { "a", 32000 }, { "a", 32000 },
		{ "a", 32000 }, { "a", 32000 }, { "a", 32000 }, { "a", 32000 },
	};
	char text[4000], err[256], *p;
	struct vmcfg *cfg;

	(void)state;
	p = text + sprintf(text, "name = 'me'\nmemory = 64\nkernel = '/k'\n"
				 "vif = [ '','','','','','','','' ]\n"
				 "cmdline = '");
	memset(p, 'x', VMCFG_CMDLINE_MAX - 48);
	strcpy(p + VMCFG_CMDLINE_MAX - 48, "'\n");
	cfg = parse_ok(text);
	/* " hmxnet.front=" and 8 five-digit domids with their commas. */
	assert_null(vif_plan_cmdline(cfg, vifs, err, sizeof(err)));
	assert_string_equal(
		err,
		"the kernel command line with the vifs' hmxnet parameters is 2060 bytes; at most 2047");
	vmcfg_free(cfg);
}

static const char *const malformed[] = {
	"{}",
	"[{\"backend\":\"ndvm\"}]",
	"[{\"backend\":\"any\",\"backend_domid\":3}]",
	"[{\"backend\":\"ndvm\",\"backend_domid\":2}]",
	"[{\"backend\":\"ndvm\",\"backend_domid\":32752}]",
	"[{\"backend\":3,\"backend_domid\":3}]",
	"[{},{},{},{},{},{},{},{},{}]",
};

static void test_state_json(void **state)
{
	const struct vif_inst vifs[2] = { { "ndvm", 3 }, { "lan-2", 32751 } };
	struct vif_inst back[VIF_PER_VM_MAX];
	struct json_object *a = vif_insts_json(vifs, 2), *bad;

	(void)state;
	memset(back, 0, sizeof(back));
	assert_string_equal(
		json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN),
		"[{\"backend\":\"ndvm\",\"backend_domid\":3},"
		"{\"backend\":\"lan-2\",\"backend_domid\":32751}]");
	assert_int_equal(vif_insts_from_json(a, back), 2);
	for (size_t i = 0; i < 2; i++) {
		assert_string_equal(back[i].backend, vifs[i].backend);
		assert_int_equal(back[i].backend_domid, vifs[i].backend_domid);
	}
	json_object_put(a);
	for (size_t i = 0; i < sizeof(malformed) / sizeof(*malformed); i++) {
		bad = json_tokener_parse(malformed[i]);
		assert_non_null(bad);
		assert_int_equal(vif_insts_from_json(bad, back), -1);
		json_object_put(bad);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backends),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_stopped_backends),
		cmocka_unit_test(test_self),
		cmocka_unit_test(test_cmdline),
		cmocka_unit_test(test_cmdline_too_long),
		cmocka_unit_test(test_state_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
