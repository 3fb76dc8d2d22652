// SPDX-License-Identifier: GPL-2.0-only
/*
 * Allocation failure: the daemon must survive running out of memory while
 * parsing a definition or compiling the policy. Every allocation the
 * toolstack library makes goes through the --wrap'd functions below; the
 * test fails each one in turn and requires a clean -ENOMEM (and, in the
 * sanitizer builds, no leak) every time.
 */
#include "toolstack/measure_canon.h"
#include "toolstack/measure_log.h"
#include "toolstack/policy.h"
#include "toolstack/vmcfg.h"

#include <json-c/json.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

void *__real_malloc(size_t size);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t size);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t size);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);

/* Allocations counted since arming; the one numbered fail_at fails. */
static long counted;
static long fail_at = -1;
static bool failed;

static bool inject(void)
{
	if (fail_at < 0)
		return false;
	if (counted++ == fail_at) {
		failed = true;
		return true;
	}
	return false;
}

void *__wrap_malloc(size_t size)
{
	return inject() ? NULL : __real_malloc(size);
}

void *__wrap_calloc(size_t n, size_t size)
{
	return inject() ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t size)
{
	return inject() ? NULL : __real_realloc(p, size);
}

char *__wrap_strdup(const char *s)
{
	return inject() ? NULL : __real_strdup(s);
}

char *__wrap_strndup(const char *s, size_t n)
{
	return inject() ? NULL : __real_strndup(s, n);
}

static void arm(long n)
{
	counted = 0;
	failed = false;
	fail_at = n;
}

static void disarm(void)
{
	fail_at = -1;
}

static const char rich_cfg[] =
	"# every key, long enough to make the lexer grow its buffers\n"
	"name = 'web'\nrole = 'guest'\ntype = 'pvh'\nmemory = 2G\nvcpus = 2\n"
	"kernel = 'images/vmlinuz'\nramdisk = 'images/initrd'\n"
	"root = '/dev/vda1'\n"
	"extra = 'console=ttyS0 quiet loglevel=3 init=/sbin/init "
	"some.more=options and.more=options'\n"
	"hmx = on\nautostart = yes\nserial = 'file:logs/web.log'\n"
	"disk = [ 'images/root.img,raw,xvda,rw', 'phy:/dev/vg/data,xvdc,r',\n"
	"  'format=qcow2, vdev=xvdb, target=images/b,c.qcow2',\n"
	"  'backendtype=vhost-user,vdev=hdd,target=qsd.sock' ]\n"
	"vif = [ 'backend=lan, mac=02:00:00:00:00:01, ip=10.0.0.1', '' ]\n"
	"hmx_rules = [ 'myself -> host:5555', 'reject any -> myself:22',\n"
	"  'type=ndvm -> myself', 'myself -> name=ndvm:2000',\n"
	"  'myself -> name=ghost', 'any:7 -> myself:7',\n"
	"  'myself -> type=guest', 'name=ndvm:53 -> myself' ]\n";

static const char ndvm_cfg[] =
	"name = 'ndvm'\nrole = 'ndvm'\nmemory = 256\nkernel = '/k'\n"
	"hmx_rules = [ 'type=guest -> myself:2000', 'myself -> type=guest' ]\n";

static void test_parse_oom(void **state)
{
	struct cfg_error err;
	struct vmcfg *cfg;
	long n;
	int ret;

	(void)state;
	for (n = 0;; n++) {
		arm(n);
		ret = vmcfg_parse_buffer(rich_cfg, strlen(rich_cfg), "web.cfg",
					 "/cfg", &cfg, &err);
		disarm();
		if (!failed) {
			assert_int_equal(ret, 0);
			vmcfg_free(cfg);
			break;
		}
		if (ret != -ENOMEM)
			fail_msg("allocation %ld: got %d (%s)", n, ret,
				 err.msg);
		assert_null(cfg);
		assert_string_equal(err.msg, "out of memory");
	}
	/* The whole parse must have been exercised, not just its start. */
	assert_true(n > 40);
}

/* Compile, explain, render: each fails cleanly or succeeds. */
static void test_policy_oom(void **state)
{
	struct cfg_error err;
	struct vmcfg *web, *ndvm;
	struct policy_vm vms[2];
	struct policy_flow flow = { 3, 1, 0, 5555 };
	long n, failures = 0;

	(void)state;
	assert_int_equal(vmcfg_parse_buffer(rich_cfg, strlen(rich_cfg),
					    "web.cfg", "/cfg", &web, &err),
			 0);
	assert_int_equal(vmcfg_parse_buffer(ndvm_cfg, strlen(ndvm_cfg),
					    "ndvm.cfg", "/cfg", &ndvm, &err),
			 0);
	policy_vm_from_vmcfg(&vms[0], web, 3);
	policy_vm_from_vmcfg(&vms[1], ndvm, 4);
	for (n = 0;; n++) {
		struct policy_set *set = NULL;
		struct json_object *json = NULL;
		char msg[128], *text = NULL;
		int ret;

		arm(n);
		ret = policy_compile(vms, 2, &set, msg, sizeof(msg));
		if (ret) {
			disarm();
			assert_int_equal(ret, -ENOMEM);
			assert_null(set);
			assert_string_equal(msg, "out of memory");
			failures++;
			continue;
		}
		ret = policy_explain(set, &flow, &text);
		assert_true(ret == 0 || ret == -ENOMEM);
		free(text);
		ret = policy_set_render_text(set, &text);
		assert_true(ret == 0 || ret == -ENOMEM);
		free(text);
		json = policy_set_to_json(set);
		json_object_put(json);
		disarm();
		policy_set_free(set);
		if (!failed)
			break;
	}
	assert_true(failures > 5);
	vmcfg_free(web);
	vmcfg_free(ndvm);
}

/* The measured forms of a definition and its rules, and the log. */
static void test_measure_oom(void **state)
{
	static const uint8_t digest[MEASURE_SHA256_BYTES] = { 1 };
	struct cfg_error err;
	struct vmcfg *web, *ndvm;
	struct policy_vm vms[2];
	struct policy_set *set;
	long n, failures = 0;

	(void)state;
	assert_int_equal(vmcfg_parse_buffer(rich_cfg, strlen(rich_cfg),
					    "web.cfg", "/cfg", &web, &err),
			 0);
	assert_int_equal(vmcfg_parse_buffer(ndvm_cfg, strlen(ndvm_cfg),
					    "ndvm.cfg", "/cfg", &ndvm, &err),
			 0);
	policy_vm_from_vmcfg(&vms[0], web, 3);
	policy_vm_from_vmcfg(&vms[1], ndvm, 4);
	assert_int_equal(policy_compile(vms, 2, &set, NULL, 0), 0);
	for (n = 0;; n++) {
		struct measure_log log = { 0 }, back;
		uint8_t *bytes = NULL;
		char *text = NULL;
		size_t len, nrules;
		int r1, r2, r3 = 0, r4 = 0, r5 = 0;

		arm(n);
		r1 = measure_config_canonical(web, &text, &len);
		free(text);
		r2 = measure_rules_canonical(set, "web", &text, &len, &nrules);
		free(text);
		for (unsigned int w = 0; !r3 && w < MEASURE_WHAT_COUNT; w++)
			r3 = measure_log_add(&log, (enum measure_what)w, digest,
					     web->kernel);
		if (!r3)
			r4 = measure_log_encode(&log, &bytes, &len);
		if (!r3 && !r4)
			r5 = measure_log_decode(bytes, len, &back, NULL, 0);
		disarm();
		assert_true(r1 == 0 || r1 == -ENOMEM);
		assert_true(r2 == 0 || r2 == -ENOMEM);
		assert_true(r3 == 0 || r3 == -ENOMEM);
		assert_true(r4 == 0 || r4 == -ENOMEM);
		assert_true(r5 == 0 || r5 == -ENOMEM);
		failures += r1 || r2 || r3 || r4 || r5;
		if (!r3 && !r4 && !r5)
			measure_log_release(&back);
		free(bytes);
		measure_log_release(&log);
		if (!failed)
			break;
	}
	assert_true(failures > 10);
	policy_set_free(set);
	vmcfg_free(web);
	vmcfg_free(ndvm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_oom),
		cmocka_unit_test(test_policy_oom),
		cmocka_unit_test(test_measure_oom),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
