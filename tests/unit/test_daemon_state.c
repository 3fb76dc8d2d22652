// SPDX-License-Identifier: GPL-2.0-only
/* bulkheadd's pure pieces: the restart reconciliation plan and the VM
 * records of its state file. */
#include <json-c/json.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "toolstack/daemon/reconcile.h"
#include "toolstack/daemon/vmrec.h"

static void test_plan_known_vms(void **state)
{
	const struct rc_known known[] = {
		{ "web", 5, 1 }, /* running as recorded */
		{ "db", 6, 1 }, /* stopped meanwhile */
		{ "new", 7, 0 }, /* created, never started */
		{ "gone", 8, 1 }, /* the hypervisor restarted */
		{ "mid", 0, 0 }, /* we died before vm.create answered */
	};
	const struct rc_hv_vm hv[] = {
		{ "db", 6, RC_HV_STOPPED },
		{ "web", 5, RC_HV_PAUSED },
		{ "new", 7, RC_HV_CREATED },
		{ "mid", 9, RC_HV_RUNNING },
	};
	struct rc_step steps[9];
	size_t n;

	(void)state;
	n = reconcile_plan(known, 5, hv, 4, steps);
	assert_int_equal(n, 5);
	assert_int_equal(steps[0].action, RC_ADOPT);
	assert_int_equal(steps[0].hv, 1);
	assert_int_equal(steps[1].action, RC_HANDLE_STOP);
	assert_int_equal(steps[1].hv, 0);
	assert_int_equal(steps[2].action, RC_FINISH_START);
	assert_int_equal(steps[3].action, RC_LOST);
	assert_int_equal(steps[3].hv, -1);
	/* domid 0 matches by name alone. */
	assert_int_equal(steps[4].action, RC_ADOPT);
	assert_int_equal(steps[4].hv, 3);
}

static void test_plan_domid_mismatch_and_unrecorded(void **state)
{
	/* A VM of the same name but another domid is another instance: the
	 * recorded one is lost, the other is unrecorded. */
	const struct rc_known known[] = { { "web", 5, 1 } };
	const struct rc_hv_vm hv[] = {
		{ "web", 12, RC_HV_RUNNING },
		{ "old", 4, RC_HV_STOPPED },
		{ "half", 13, RC_HV_CREATED },
	};
	struct rc_step steps[4];
	size_t n;

	(void)state;
	n = reconcile_plan(known, 1, hv, 3, steps);
	assert_int_equal(n, 4);
	assert_int_equal(steps[0].action, RC_LOST);
	assert_int_equal(steps[1].action, RC_ADOPT_UNRECORDED);
	assert_int_equal(steps[1].hv, 0);
	assert_int_equal(steps[1].known, -1);
	assert_int_equal(steps[2].action, RC_DESTROY);
	assert_int_equal(steps[3].action, RC_DESTROY);
}

static void test_plan_empty(void **state)
{
	struct rc_step steps[1];

	(void)state;
	assert_int_equal(reconcile_plan(NULL, 0, NULL, 0, steps), 0);
	assert_string_equal(rc_action_name(RC_FINISH_START), "finish-start");
}

static void test_vmrec_round_trip(void **state)
{
	struct vmrec *r = vmrec_new("web"), *back;
	struct json_object *o;
	char err[200];

	(void)state;
	r->def_path = strdup("/etc/bulkhead/vms/web.cfg");
	r->registered = true;
	r->active = true;
	r->domid = 17;
	r->seq = 42;
	r->started = true;
	r->restart_pending = true;
	r->snap.text = strdup("name = \"web\"\nmemory = 64\n");
	r->snap.source = strdup("/etc/bulkhead/vms/web.cfg");
	r->snap.base_dir = strdup("/etc/bulkhead/vms");
	r->guest_reboots = 3;
	r->crash_restarts = 4;
	vmrec_set_stop(r, "reboot", "reset through the ACPI reset register");
	o = vmrec_to_json(r);
	back = vmrec_from_json(o, err, sizeof(err));
	assert_non_null(back);
	assert_string_equal(back->name, "web");
	assert_string_equal(back->def_path, r->def_path);
	assert_true(back->registered && back->active && back->started);
	assert_true(back->restart_pending && !back->shutdown_requested);
	assert_int_equal(back->domid, 17);
	assert_int_equal(back->seq, 42);
	assert_int_equal(back->guest_reboots, 3);
	assert_int_equal(back->crash_restarts, 4);
	assert_string_equal(back->snap.text, r->snap.text);
	assert_string_equal(back->snap.base_dir, "/etc/bulkhead/vms");
	assert_string_equal(back->stop_reason, "reboot");
	assert_null(back->cfg); /* re-parsed by the daemon, not here */
	json_object_put(o);
	vmrec_free(back);

	/* Without an instance nothing of one is written or read back. */
	vmrec_clear_instance(r);
	o = vmrec_to_json(r);
	assert_false(json_object_object_get_ex(o, "snapshot", NULL));
	back = vmrec_from_json(o, err, sizeof(err));
	assert_non_null(back);
	assert_false(back->active);
	assert_null(back->snap.text);
	json_object_put(o);
	vmrec_free(back);
	vmrec_free(r);
}

/* A burst of crash restarts within the window, then no more. */
static void test_crash_restart_window(void **state)
{
	struct vmrec *r = vmrec_new("ndvm");
	const uint64_t s = 1000000000ull;

	(void)state;
	for (int i = 0; i < VMREC_CRASH_BURST; i++)
		assert_true(vmrec_crash_restart_allowed(r, 1000 * s + i * s));
	assert_false(vmrec_crash_restart_allowed(r, 1010 * s));
	assert_false(vmrec_crash_restart_allowed(r, 1299 * s));
	/* The first restart falls out of the window: one more allowed. */
	assert_true(vmrec_crash_restart_allowed(r, 1300 * s));
	assert_false(vmrec_crash_restart_allowed(r, 1300 * s + 1));
	/* Long after: a fresh burst. */
	for (int i = 0; i < VMREC_CRASH_BURST; i++)
		assert_true(vmrec_crash_restart_allowed(r, 9000 * s + i));
	assert_false(vmrec_crash_restart_allowed(r, 9001 * s));
	vmrec_free(r);
}

static void expect_bad(const char *text, const char *why)
{
	struct json_object *o = json_tokener_parse(text);
	char err[200];

	assert_non_null(o);
	assert_null(vmrec_from_json(o, err, sizeof(err)));
	assert_non_null(strstr(err, why));
	json_object_put(o);
}

static void test_vmrec_malformed(void **state)
{
	(void)state;
	expect_bad("{}", "without a valid VM name");
	expect_bad("{\"name\":\"host\",\"def_path\":\"/a\"}",
		   "without a valid VM name");
	expect_bad("{\"name\":\"web\"}", "malformed");
	expect_bad("{\"name\":\"web\",\"def_path\":\"relative.cfg\"}",
		   "malformed");
	expect_bad("{\"name\":\"web\",\"def_path\":\"/a\",\"active\":\"yes\"}",
		   "malformed");
	/* Active without a snapshot, or with an impossible domid. */
	expect_bad("{\"name\":\"web\",\"def_path\":\"/a\",\"active\":true,"
		   "\"domid\":5,\"seq\":1}",
		   "malformed");
	expect_bad("{\"name\":\"web\",\"def_path\":\"/a\",\"active\":true,"
		   "\"domid\":40000,\"seq\":1,\"snapshot\":{\"text\":\"\","
		   "\"source\":\"/a\",\"base_dir\":\"/\"}}",
		   "malformed");
	expect_bad("{\"name\":\"web\",\"def_path\":\"/a\",\"active\":true,"
		   "\"domid\":5,\"seq\":-1,\"snapshot\":{\"text\":\"\","
		   "\"source\":\"/a\",\"base_dir\":\"/\"}}",
		   "malformed");
	expect_bad("{\"name\":\"web\",\"def_path\":\"/a\",\"active\":true,"
		   "\"domid\":5,\"seq\":1,\"snapshot\":{\"text\":\"\","
		   "\"source\":\"/a\",\"base_dir\":\"rel\"}}",
		   "malformed");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plan_known_vms),
		cmocka_unit_test(test_plan_domid_mismatch_and_unrecorded),
		cmocka_unit_test(test_plan_empty),
		cmocka_unit_test(test_vmrec_round_trip),
		cmocka_unit_test(test_crash_restart_window),
		cmocka_unit_test(test_vmrec_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
