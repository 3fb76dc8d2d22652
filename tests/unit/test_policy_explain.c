// SPDX-License-Identifier: GPL-2.0-only
/* policy check / explain, flow parsing, and the text and JSON renderings. */
#include "policy_test_vms.h"

#include <bulkhead/hmx.h>
#include <json-c/json.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static const char *const web_rules[] = { "myself -> host:5555",
					 "myself -> name=db:5432",
					 "reject any -> myself:22", NULL };
static const char *const db_rules[] = { "name=web -> myself:5432", NULL };
static const char *const off_rules[] = { NULL };

struct fixture {
	struct test_vm web, db, off;
	struct policy_set *set; /* web(3), db(4), off(5, no HMX) */
	struct policy_set *web_only;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct test_vm *all[3], *one[1];

	if (!fx)
		return -1;
	test_vm_init(&fx->web, "web", 3, VM_ROLE_GUEST, true, web_rules);
	test_vm_init(&fx->db, "db", 4, VM_ROLE_SERVICE, true, db_rules);
	test_vm_init(&fx->off, "off", 5, VM_ROLE_GUEST, false, off_rules);
	all[0] = &fx->web;
	all[1] = &fx->db;
	all[2] = &fx->off;
	one[0] = &fx->web;
	fx->set = test_compile(all, 3);
	fx->web_only = test_compile(one, 1);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	policy_set_free(fx->set);
	policy_set_free(fx->web_only);
	free(fx);
	return 0;
}

static void explain_is(const struct policy_set *set, const char *src,
		       const char *dst, const char *want)
{
	struct policy_flow flow;
	char err[128], *text;

	if (policy_flow_parse(set, src, dst, &flow, err, sizeof(err)))
		fail_msg("flow %s -> %s: %s", src, dst, err);
	assert_int_equal(policy_explain(set, &flow, &text), 0);
	assert_string_equal(text, want);
	free(text);
}

static void test_explain_accept(void **state)
{
	struct fixture *fx = *state;

	explain_is(fx->set, "web:1000", "host:5555",
		   "flow: web(3) port 1000 -> host port 5555\n"
		   "decision: accept\n"
		   "by: entry #2 of 4: accept web(3):* -> host:5555\n"
		   "rule: \"myself -> host:5555\"\n"
		   "from: VM web, hmx_rules[0], web.cfg:10:3\n");
	explain_is(fx->set, "name=web:1", "name=db:5432",
		   "flow: web(3) port 1 -> db(4) port 5432\n"
		   "decision: accept\n"
		   "by: entry #3 of 4: accept web(3):* -> db(4):5432\n"
		   "rule: \"myself -> name=db:5432\"\n"
		   "from: VM web, hmx_rules[1], web.cfg:11:3\n");
}

static void test_explain_reject(void **state)
{
	struct fixture *fx = *state;

	explain_is(fx->set, "db:9", "web:22",
		   "flow: db(4) port 9 -> web(3) port 22\n"
		   "decision: reject\n"
		   "by: entry #1 of 4: reject any:* -> web(3):22\n"
		   "rule: \"reject any -> myself:22\"\n"
		   "from: VM web, hmx_rules[2], web.cfg:12:3\n");
	explain_is(fx->set, "host:1", "web:22",
		   "flow: host port 1 -> web(3) port 22\n"
		   "decision: reject\n"
		   "by: entry #1 of 4: reject any:* -> web(3):22\n"
		   "rule: \"reject any -> myself:22\"\n"
		   "from: VM web, hmx_rules[2], web.cfg:12:3\n");
}

static void test_explain_default_deny(void **state)
{
	struct fixture *fx = *state;

	explain_is(
		fx->set, "db:5432", "web:5432",
		"flow: db(4) port 5432 -> web(3) port 5432\n"
		"decision: reject\n"
		"by: default deny (none of the 4 entries matches this flow)\n");
	/* With db not running, web's rule naming db does not open anything. */
	explain_is(
		fx->web_only, "web:1", "host:5556",
		"flow: web(3) port 1 -> host port 5556\n"
		"decision: reject\n"
		"by: default deny (none of the 2 entries matches this flow)\n");
}

static void test_explain_rejects_wildcards(void **state)
{
	struct fixture *fx = *state;
	struct policy_flow flows[] = {
		{ HMX_DOMID_ANY, 1, 3, 1 },
		{ 3, HMX_PORT_ANY, 0, 1 },
		{ 3, 1, HMX_DOMID_ANY, 1 },
		{ 3, 1, 0, HMX_PORT_ANY },
	};
	char *text;

	for (size_t i = 0; i < sizeof(flows) / sizeof(*flows); i++) {
		assert_int_equal(policy_explain(fx->set, &flows[i], &text),
				 -EINVAL);
		assert_null(text);
	}
}

static void test_explain_unknown_domid(void **state)
{
	struct fixture *fx = *state;
	struct policy_flow flow = { 77, 1, 3, 22 };
	char *text;

	assert_int_equal(policy_explain(fx->set, &flow, &text), 0);
	assert_non_null(strstr(text, "flow: dom77 port 1 -> web(3) port 22\n"
				     "decision: reject\n"));
	free(text);
}

static void flow_fails(const struct policy_set *set, const char *src,
		       const char *dst, const char *want)
{
	struct policy_flow flow;
	char err[128];

	assert_int_equal(policy_flow_parse(set, src, dst, &flow, err,
					   sizeof(err)),
			 -EINVAL);
	if (strcmp(err, want))
		fail_msg("got \"%s\", wanted \"%s\"", err, want);
}

static void test_flow_parse(void **state)
{
	struct fixture *fx = *state;
	struct policy_flow flow;
	char err[128];

	assert_int_equal(policy_flow_parse(fx->set, "host:0", "db:4294967294",
					   &flow, err, sizeof(err)),
			 0);
	assert_int_equal(flow.src_domid, 0);
	assert_int_equal(flow.src_port, 0);
	assert_int_equal(flow.dst_domid, 4);
	assert_int_equal(flow.dst_port, 4294967294u);
	flow_fails(fx->set, "web", "host:1",
		   "source: expected host:PORT or NAME:PORT, with a port");
	flow_fails(fx->set, "web:", "host:1",
		   "source: expected host:PORT or NAME:PORT, with a port");
	flow_fails(
		fx->set, "web:1", "host:4294967295",
		"destination: the port must be a number from 0 to 4294967294");
	flow_fails(
		fx->set, "web:1", "host:99999999999",
		"destination: the port must be a number from 0 to 4294967294");
	flow_fails(fx->set, "web:x", "host:1",
		   "source: the port must be a number from 0 to 4294967294");
	flow_fails(
		fx->set, "web:1", "host:*",
		"destination: the port must be a number from 0 to 4294967294");
	flow_fails(fx->set, "ghost:1", "host:1",
		   "source: no running VM is named ghost");
	flow_fails(fx->set, "web:1", "name=host:1",
		   "destination: no running VM is named host");
	flow_fails(fx->set, ":1", "web:1", "source: no running VM is named ");
	flow_fails(
		fx->set, "off:1", "web:1",
		"source: VM off has hmx = off, so it has no HMX flows at all");
	/* No error buffer is fine too. */
	assert_int_equal(policy_flow_parse(fx->set, "x:1", "y:1", &flow, NULL,
					   0),
			 -EINVAL);
}

static void test_labels(void **state)
{
	struct fixture *fx = *state;
	char buf[64];
	struct policy_entry e = { 3, HMX_PORT_ANY,  HMX_DOMID_ANY,
				  7, POLICY_REJECT, 0 };

	policy_domid_label(fx->set, 3, buf, sizeof(buf));
	assert_string_equal(buf, "web(3)");
	policy_domid_label(fx->set, 0, buf, sizeof(buf));
	assert_string_equal(buf, "host");
	policy_domid_label(fx->set, HMX_DOMID_ANY, buf, sizeof(buf));
	assert_string_equal(buf, "any");
	policy_domid_label(fx->set, 9, buf, sizeof(buf));
	assert_string_equal(buf, "dom9");
	policy_entry_format(fx->set, &e, buf, sizeof(buf));
	assert_string_equal(buf, "reject web(3):* -> any:7");
}

static void test_render_text(void **state)
{
	struct fixture *fx = *state;
	char *text;

	assert_int_equal(policy_set_render_text(fx->set, &text), 0);
	assert_string_equal(
		text,
		"HMX firewall: 4 entries, first match wins, default deny\n"
		"    #  ACTION  SOURCE       DESTINATION  FROM\n"
		"    1  reject  any:*        web(3):22    web.cfg:12 web hmx_rules[2] \"reject any -> myself:22\"\n"
		"    2  accept  web(3):*     host:5555    web.cfg:10 web hmx_rules[0] \"myself -> host:5555\"\n"
		"    3  accept  web(3):*     db(4):5432   web.cfg:11 web hmx_rules[1] \"myself -> name=db:5432\"\n"
		"    4  accept  web(3):*     db(4):5432   db.cfg:10 db hmx_rules[0] \"name=web -> myself:5432\"\n"
		"    -  reject  any:*        any:*        default deny\n");
	free(text);

	assert_int_equal(policy_set_render_text(fx->web_only, &text), 0);
	assert_string_equal(
		text,
		"HMX firewall: 2 entries, first match wins, default deny\n"
		"    #  ACTION  SOURCE       DESTINATION  FROM\n"
		"    1  reject  any:*        web(3):22    web.cfg:12 web hmx_rules[2] \"reject any -> myself:22\"\n"
		"    2  accept  web(3):*     host:5555    web.cfg:10 web hmx_rules[0] \"myself -> host:5555\"\n"
		"    -  reject  any:*        any:*        default deny\n"
		"\n"
		"Rules without effect now (they name no running VM with HMX, or a vif's backend is not running):\n"
		"  web.cfg:11 web hmx_rules[1] \"myself -> name=db:5432\"\n");
	free(text);
}

static void test_render_empty(void **state)
{
	struct policy_set *set = test_compile(NULL, 0);
	char *text;

	(void)state;
	assert_int_equal(policy_set_render_text(set, &text), 0);
	assert_string_equal(
		text,
		"HMX firewall: 0 entries, first match wins, default deny\n"
		"    #  ACTION  SOURCE       DESTINATION  FROM\n"
		"    -  reject  any:*        any:*        default deny\n");
	free(text);
	policy_set_free(set);
}

static int64_t get_int(struct json_object *obj, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(obj, key, &v) ||
	    !json_object_is_type(v, json_type_int))
		fail_msg("no integer %s", key);
	return json_object_get_int64(v);
}

static const char *get_str(struct json_object *obj, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(obj, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		fail_msg("no string %s", key);
	return json_object_get_string(v);
}

static struct json_object *get_array(struct json_object *obj, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(obj, key, &v) ||
	    !json_object_is_type(v, json_type_array))
		fail_msg("no array %s", key);
	return v;
}

/* Renders, prints and re-parses, so the wire text is what is checked. */
static void test_json(void **state)
{
	struct fixture *fx = *state;
	struct json_object *obj = policy_set_to_json(fx->set), *root, *arr, *e,
			   *o, *d, *hmx;
	const char *wire;

	assert_non_null(obj);
	wire = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN);
	root = json_tokener_parse(wire);
	json_object_put(obj);
	assert_non_null(root);
	assert_int_equal(get_int(root, "version"), 1);
	assert_int_equal(get_int(root, "domid_any"), 0x7ff4);
	assert_int_equal(get_int(root, "port_any"), 0xffffffffll);
	assert_string_equal(get_str(root, "default"), "reject");

	arr = get_array(root, "entries");
	assert_int_equal(json_object_array_length(arr), 4);
	e = json_object_array_get_idx(arr, 0);
	assert_string_equal(get_str(e, "action"), "reject");
	assert_int_equal(get_int(e, "src_domid"), 0x7ff4);
	assert_int_equal(get_int(e, "src_port"), 4294967295ll);
	assert_int_equal(get_int(e, "dst_domid"), 3);
	assert_int_equal(get_int(e, "dst_port"), 22);
	assert_int_equal(get_int(e, "origin"), 0);
	e = json_object_array_get_idx(arr, 3);
	assert_string_equal(get_str(e, "action"), "accept");
	assert_int_equal(get_int(e, "src_domid"), 3);
	assert_int_equal(get_int(e, "dst_domid"), 4);
	assert_int_equal(get_int(e, "dst_port"), 5432);
	assert_int_equal(get_int(e, "origin"), 3);

	arr = get_array(root, "origins");
	assert_int_equal(json_object_array_length(arr), 4);
	o = json_object_array_get_idx(arr, 3);
	assert_string_equal(get_str(o, "vm"), "db");
	assert_int_equal(get_int(o, "vm_domid"), 4);
	assert_string_equal(get_str(o, "file"), "db.cfg");
	assert_int_equal(get_int(o, "line"), 10);
	assert_int_equal(get_int(o, "column"), 3);
	assert_string_equal(get_str(o, "kind"), "hmx_rules");
	assert_int_equal(get_int(o, "rule_index"), 0);
	assert_string_equal(get_str(o, "rule"), "name=web -> myself:5432");
	assert_string_equal(get_str(o, "action"), "accept");
	assert_int_equal(get_int(o, "entries"), 1);

	arr = get_array(root, "domains");
	assert_int_equal(json_object_array_length(arr), 3);
	d = json_object_array_get_idx(arr, 2);
	assert_int_equal(get_int(d, "domid"), 5);
	assert_string_equal(get_str(d, "name"), "off");
	assert_string_equal(get_str(d, "type"), "guest");
	assert_true(json_object_object_get_ex(d, "hmx", &hmx));
	assert_false(json_object_get_boolean(hmx));
	json_object_put(root);
}

/* A vif's entries: explained, shown and in JSON as the vif's. */
static void test_vif_origin(void **state)
{
	struct test_vm web, ndvm;
	struct test_vm *both[] = { &ndvm, &web };
	struct policy_vif vifs[] = { { "ndvm", 3, 8, 9 },
				     { "gone", 7, 8, 13 } };
	struct json_object *root, *o;
	struct policy_set *set;
	char *text;

	(void)state;
	test_vm_init(&ndvm, "ndvm", 3, VM_ROLE_NDVM, true, NULL);
	test_vm_init(&web, "web", 5, VM_ROLE_GUEST, true, NULL);
	web.vm.vifs = vifs;
	web.vm.nvifs = 2;
	set = test_compile(both, 2);
	explain_is(
		set, "web:4294836224", "ndvm:4294836224",
		"flow: web(5) port 4294836224 -> ndvm(3) port 4294836224\n"
		"decision: accept\n"
		"by: entry #1 of 2: accept web(5):4294836224 -> ndvm(3):4294836224\n"
		"vif: \"vif 0 to backend ndvm: hmxnet port 4294836224 (HMX_NET_APORT(0)) both ways\"\n"
		"from: VM web, vif[0], web.cfg:8:9\n");
	explain_is(
		set, "ndvm:4294836224", "web:4294836224",
		"flow: ndvm(3) port 4294836224 -> web(5) port 4294836224\n"
		"decision: accept\n"
		"by: entry #2 of 2: accept ndvm(3):4294836224 -> web(5):4294836224\n"
		"vif: \"vif 0 to backend ndvm: hmxnet port 4294836224 (HMX_NET_APORT(0)) both ways\"\n"
		"from: VM web, vif[0], web.cfg:8:9\n");
	explain_is(
		set, "web:4294836225", "ndvm:4294836225",
		"flow: web(5) port 4294836225 -> ndvm(3) port 4294836225\n"
		"decision: reject\n"
		"by: default deny (none of the 2 entries matches this flow)\n");

	assert_int_equal(policy_set_render_text(set, &text), 0);
	assert_string_equal(
		text,
		"HMX firewall: 2 entries, first match wins, default deny\n"
		"    #  ACTION  SOURCE              DESTINATION         FROM\n"
		"    1  accept  web(5):4294836224   ndvm(3):4294836224  web.cfg:8 web vif[0] \"vif 0 to backend ndvm: hmxnet port 4294836224 (HMX_NET_APORT(0)) both ways\"\n"
		"    2  accept  ndvm(3):4294836224  web(5):4294836224   web.cfg:8 web vif[0] \"vif 0 to backend ndvm: hmxnet port 4294836224 (HMX_NET_APORT(0)) both ways\"\n"
		"    -  reject  any:*               any:*               default deny\n"
		"\n"
		"Rules without effect now (they name no running VM with HMX, or a vif's backend is not running):\n"
		"  web.cfg:8 web vif[1] \"vif 1 to backend gone: hmxnet port 4294836225 (HMX_NET_APORT(1)) both ways\"\n");
	free(text);

	root = policy_set_to_json(set);
	assert_non_null(root);
	o = json_object_array_get_idx(get_array(root, "origins"), 0);
	assert_string_equal(get_str(o, "kind"), "vif");
	assert_string_equal(get_str(o, "vm"), "web");
	assert_int_equal(get_int(o, "rule_index"), 0);
	assert_int_equal(get_int(o, "line"), 8);
	assert_int_equal(get_int(o, "column"), 9);
	assert_int_equal(get_int(o, "entries"), 2);
	o = json_object_array_get_idx(get_array(root, "origins"), 1);
	assert_int_equal(get_int(o, "rule_index"), 1);
	assert_int_equal(get_int(o, "entries"), 0);
	json_object_put(root);
	policy_set_free(set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_explain_accept),
		cmocka_unit_test(test_explain_reject),
		cmocka_unit_test(test_explain_default_deny),
		cmocka_unit_test(test_explain_rejects_wildcards),
		cmocka_unit_test(test_explain_unknown_domid),
		cmocka_unit_test(test_flow_parse),
		cmocka_unit_test(test_labels),
		cmocka_unit_test(test_render_text),
		cmocka_unit_test(test_vif_origin),
		cmocka_unit_test(test_render_empty),
		cmocka_unit_test(test_json),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
