// SPDX-License-Identifier: GPL-2.0-only
/* The bulkhead command's tables and its duration arguments. */
#include <json-c/json.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli/cli.h"
#include "cli/render.h"

static void test_durations(void **state)
{
	static const struct {
		const char *in;
		int64_t ms;
	} ok[] = { { "60", 60000 },  { "0", 0 },       { "500ms", 500 },
		   { "90s", 90000 }, { "2m", 120000 }, { "1h", 3600000 } };
	static const char *const bad[] = {
		"",	 "s",	 "-1",
		"1.5s",	 "0x10", "10 s",
		"10sec", "ms",	 "99999999999999999999"
	};
	int64_t ms;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(cli_parse_duration(ok[i].in, &ms), 0);
		assert_int_equal(ms, ok[i].ms);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(cli_parse_duration(bad[i], &ms), -EINVAL);
}

static void test_render_duration(void **state)
{
	char b[32];

	(void)state;
	render_duration(0, b, sizeof(b));
	assert_string_equal(b, "0s");
	render_duration(59999, b, sizeof(b));
	assert_string_equal(b, "59s");
	render_duration(303000, b, sizeof(b));
	assert_string_equal(b, "5m03s");
	render_duration(3720000, b, sizeof(b));
	assert_string_equal(b, "1h02m");
	render_duration(90000000, b, sizeof(b));
	assert_string_equal(b, "1d01h");
}

static void test_vm_table(void **state)
{
	struct json_object *vms = json_tokener_parse(
		"[{\"name\":\"web\",\"domid\":12,\"role\":\"guest\","
		"\"memory_mib\":1024,\"vcpus\":2,\"state\":\"running\","
		"\"uptime_ms\":303000,\"guest_reboots\":2,\"disks\":["
		"{\"vdev\":\"xvda\",\"access\":\"rw\"},"
		"{\"vdev\":\"xvdb\",\"access\":\"ro\"}]},"
		"{\"name\":\"ndvm\",\"role\":\"ndvm\",\"memory_mib\":256,"
		"\"vcpus\":1,\"state\":\"stopped\",\"stop_reason\":\"crash\","
		"\"stop_detail\":\"triple fault\"},"
		"{\"name\":\"x\",\"state\":\"off\",\"definition_error\":"
		"\"x.cfg: gone\"}]");
	char *t;

	(void)state;
	t = render_vm_table(vms);
	assert_string_equal(
		t,
		"NAME  ID  ROLE     MEM  VCPUS  DISKS          STATE    UPTIME  INFO\n"
		"web   12  guest  1024M      2  xvda,xvdb(ro)  running  5m03s   2 guest reboots\n"
		"ndvm   -  ndvm    256M      1  -              stopped  -       crash: triple fault\n"
		"x      -  -          -      -  -              off      -       definition: x.cfg: gone\n");
	free(t);
	json_object_put(vms);

	/* No VMs: the heading alone. */
	vms = json_object_new_array();
	t = render_vm_table(vms);
	assert_string_equal(
		t, "NAME  ID  ROLE  MEM  VCPUS  DISKS  STATE  UPTIME  INFO\n");
	free(t);
	json_object_put(vms);
}

static void test_disk_table(void **state)
{
	struct json_object *disks = json_tokener_parse(
		"[{\"vdev\":\"xvda\",\"target\":\"/v/root.img\","
		"\"format\":\"raw\",\"access\":\"rw\","
		"\"backend\":\"bulkhead-blk\",\"pid\":4242,"
		"\"state\":\"running\"},"
		"{\"vdev\":\"xvdc\",\"target\":\"/run/qsd.sock\","
		"\"format\":\"raw\",\"access\":\"ro\","
		"\"backend\":\"vhost-user\",\"state\":\"connected\"},"
		"{\"vdev\":\"xvdd\",\"target\":\"/v/s.img\","
		"\"format\":\"raw\",\"access\":\"rw\",\"encrypted\":true,"
		"\"snapshot\":\"temporary-encrypted\","
		"\"backend\":\"bulkhead-blk\",\"pid\":7,"
		"\"state\":\"running\"}]");
	char *t;

	(void)state;
	t = render_disk_table(disks);
	assert_string_equal(
		t,
		"VDEV  GUEST     TARGET         FORMAT  ACCESS  LAYERS                    BACKEND        PID  STATE\n"
		"xvda  /dev/vda  /v/root.img    raw     rw      -                         bulkhead-blk  4242  running\n"
		"xvdc  /dev/vdb  /run/qsd.sock  raw     ro      -                         vhost-user       -  connected\n"
		"xvdd  /dev/vdc  /v/s.img       raw     rw      luks,temporary-encrypted  bulkhead-blk     7  running\n");
	free(t);
	json_object_put(disks);
}

static void test_vif_table(void **state)
{
	struct json_object *vifs = json_tokener_parse(
		"[{\"index\":0,\"backend\":\"ndvm\",\"backend_domid\":3,"
		"\"mac\":\"02:16:3e:00:00:01\",\"ip\":[\"10.0.0.5\",\"10.0.0.6\"],"
		"\"state\":\"up\"},"
		"{\"index\":1,\"backend\":\"lan\",\"backend_domid\":12,"
		"\"mac\":\"02:48:4d:00:05:01\",\"ip\":[],"
		"\"state\":\"backend-moved\"},"
		"{\"index\":2,\"backend\":null,\"backend_domid\":null,"
		"\"mac\":null,\"ip\":[],\"state\":\"off\"}]");
	char *t;

	(void)state;
	t = render_vif_table(vifs);
	assert_string_equal(
		t,
		"IDX  BACKEND         BE-ID  MAC                IP                 STATE\n"
		"  0  ndvm                3  02:16:3e:00:00:01  10.0.0.5,10.0.0.6  up\n"
		"  1  lan                12  02:48:4d:00:05:01  -                  backend-moved\n"
		"  2  (default ndvm)      -  (derived)          -                  off\n");
	free(t);
	json_object_put(vifs);
}

static void test_policy_text(void **state)
{
	struct json_object *reply = json_tokener_parse(
		"{\"enforced\":true,"
		"\"policy\":{\"entries\":["
		"{\"action\":\"reject\",\"src_domid\":4,\"src_port\":4294967295,"
		"\"dst_domid\":3,\"dst_port\":1001,\"origin\":0},"
		"{\"action\":\"accept\",\"src_domid\":4,\"src_port\":4294967295,"
		"\"dst_domid\":0,\"dst_port\":5555,\"origin\":1}],"
		"\"origins\":["
		"{\"vm\":\"a\",\"file\":\"/v/a.cfg\",\"line\":4,\"rule_index\":0,"
		"\"rule\":\"reject name=b -> myself:1001\",\"entries\":1},"
		"{\"vm\":\"b\",\"file\":\"/v/b.cfg\",\"line\":5,\"rule_index\":0,"
		"\"rule\":\"myself -> host:5555\",\"entries\":1},"
		"{\"vm\":\"b\",\"file\":\"/v/b.cfg\",\"line\":6,\"rule_index\":1,"
		"\"rule\":\"myself -> name=db:1\",\"entries\":0},"
		"{\"kind\":\"vif\",\"vm\":\"b\",\"file\":\"/v/b.cfg\",\"line\":7,"
		"\"rule_index\":0,\"rule\":\"vif 0 to backend gone\",\"entries\":0}],"
		"\"domains\":[{\"domid\":3,\"name\":\"a\"},"
		"{\"domid\":4,\"name\":\"b\"}]},"
		"\"stats\":{\"generation\":7,\"nrules\":2,\"default_denied\":9,"
		"\"hits\":[3,11]},"
		"\"audit\":{\"entries\":["
		"{\"time_ns\":0,\"op\":\"sendv\",\"kind\":\"rule\",\"rule\":0,"
		"\"src\":{\"domid\":4,\"aport\":2000},"
		"\"dst\":{\"domid\":3,\"aport\":1001},"
		"\"src_label\":\"b(4):2000\",\"dst_label\":\"a(3):1001\","
		"\"rule_text\":\"reject b(4):* -> a(3):1001\"},"
		"{\"time_ns\":1500000000,\"op\":\"register_ring\","
		"\"kind\":\"default\",\"rule\":null,"
		"\"src\":{\"domid\":32756,\"aport\":4294967295},"
		"\"dst\":{\"domid\":9,\"aport\":7}}],"
		"\"total_kept\":2,\"dropped\":0}}");
	char *t;

	(void)state;
	setenv("TZ", "UTC", 1);
	t = render_policy(reply);
	assert_non_null(t);
	assert_string_equal(
		t,
		"HMX firewall: 2 entries, first match wins, default deny (hypervisor generation 7, 2 rules)\n"
		"#  ACTION  SOURCE  DESTINATION  HITS  FROM\n"
		"1  reject  b(4):*  a(3):1001       3  /v/a.cfg:4 a hmx_rules[0] \"reject name=b -> myself:1001\"\n"
		"2  accept  b(4):*  host:5555      11  /v/b.cfg:5 b hmx_rules[0] \"myself -> host:5555\"\n"
		"-  reject  any:*   any:*           9  default deny\n"
		"\n"
		"Rules without effect now (they name no running VM with HMX, or a vif's backend is not running):\n"
		"  /v/b.cfg:6 b hmx_rules[1] \"myself -> name=db:1\"\n"
		"  /v/b.cfg:7 b vif[0] \"vif 0 to backend gone\"\n"
		"\n"
		"Audit log (refused operations), last 2 of 2:\n"
		"TIME          OP             SOURCE     DESTINATION  DECIDED BY\n"
		"00:00:00.000  sendv          b(4):2000  a(3):1001    rule: reject b(4):* -> a(3):1001\n"
		"00:00:01.500  register_ring  any:*      dom9:7       default deny\n");
	free(t);
	json_object_put(reply);

	/* Not installed, no counters. */
	reply = json_tokener_parse(
		"{\"enforced\":false,\"policy\":{\"entries\":[],"
		"\"origins\":[],\"domains\":[]}}");
	t = render_policy(reply);
	assert_non_null(
		strstr(t, "(not installed: this hypervisor has no HMX"));
	assert_non_null(strstr(
		t, "\n-  reject  any:*   any:*           -  default deny\n"));
	free(t);
	json_object_put(reply);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_render_duration),
		cmocka_unit_test(test_vm_table),
		cmocka_unit_test(test_disk_table),
		cmocka_unit_test(test_vif_table),
		cmocka_unit_test(test_policy_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
