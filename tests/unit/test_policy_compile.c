// SPDX-License-Identifier: GPL-2.0-only
/*
 * The policy compiler: resolution of names and types to domids as VMs come
 * and go, wire values, ordering, first match, invalid running sets, and
 * agreement with the reference semantics on generated policies.
 */
#include "policy_oracle.h"
#include "policy_test_vms.h"
#include "toolstack_test.h"

#include <bulkhead/hmx.h>
#include <bulkhead/hmx_net.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define ANY_DOM HMX_DOMID_ANY
#define ANY_PORT HMX_PORT_ANY

static void assert_entry(const struct policy_set *set, size_t i, uint16_t src,
			 uint32_t sport, uint16_t dst, uint32_t dport,
			 enum policy_action action)
{
	const struct policy_entry *e;

	assert_true(i < set->nentries);
	e = &set->entries[i];
	assert_int_equal(e->src_domid, src);
	assert_int_equal(e->src_port, sport);
	assert_int_equal(e->dst_domid, dst);
	assert_int_equal(e->dst_port, dport);
	assert_int_equal(e->action, action);
}

/* The decision for a flow: POLICY_ACCEPT or POLICY_REJECT. */
static enum policy_action decide(const struct policy_set *set, uint16_t src,
				 uint32_t sport, uint16_t dst, uint32_t dport)
{
	struct policy_flow flow = { src, sport, dst, dport };
	const struct policy_entry *e = policy_check(set, &flow);

	return e ? e->action : POLICY_REJECT;
}

/* The origin of the entry deciding a flow, or NULL for default deny. */
static const struct policy_origin *decided_by(const struct policy_set *set,
					      uint16_t src, uint32_t sport,
					      uint16_t dst, uint32_t dport)
{
	struct policy_flow flow = { src, sport, dst, dport };
	const struct policy_entry *e = policy_check(set, &flow);

	return e ? &set->origins[e->origin] : NULL;
}

static void test_empty(void **state)
{
	struct policy_set *set = test_compile(NULL, 0);

	(void)state;
	assert_int_equal(set->nentries, 0);
	assert_int_equal(set->norigins, 0);
	assert_int_equal(set->ndomains, 0);
	assert_int_equal(decide(set, 0, 1, 3, 1), POLICY_REJECT);
	policy_set_free(set);
}

static void test_wire_values(void **state)
{
	(void)state;
	/* The brief fixes these; the firewall takes them 1:1. */
	assert_int_equal(HMX_DOMID_ANY, 0x7ff4);
	assert_int_equal(HMX_PORT_ANY, 0xffffffffu);
	assert_int_equal(HMX_DOMID_HOST, 0);
}

static void test_myself_to_host(void **state)
{
	static const char *const rules[] = { "myself -> host:5555", NULL };
	struct test_vm web;
	struct test_vm *vms[] = { &web };
	struct policy_set *set;
	const struct policy_origin *o;

	(void)state;
	test_vm_init(&web, "web", 3, VM_ROLE_GUEST, true, rules);
	set = test_compile(vms, 1);
	assert_int_equal(set->nentries, 1);
	assert_entry(set, 0, 3, ANY_PORT, HMX_DOMID_HOST, 5555, POLICY_ACCEPT);
	o = &set->origins[set->entries[0].origin];
	assert_string_equal(o->vm_name, "web");
	assert_int_equal(o->vm_domid, 3);
	assert_string_equal(o->source, "web.cfg");
	assert_int_equal(o->line, 10);
	assert_int_equal(o->column, 3);
	assert_int_equal(o->rule_index, 0);
	assert_string_equal(o->text, "myself -> host:5555");
	assert_int_equal(o->action, POLICY_ACCEPT);
	assert_int_equal(o->nentries, 1);
	assert_int_equal(decide(set, 3, 1, 0, 5555), POLICY_ACCEPT);
	assert_int_equal(decide(set, 3, 1, 0, 5556), POLICY_REJECT);
	assert_int_equal(decide(set, 0, 5555, 3, 1), POLICY_REJECT);
	assert_int_equal(decide(set, 4, 1, 0, 5555), POLICY_REJECT);
	policy_set_free(set);
}

static void test_any_compiles_to_wildcards(void **state)
{
	static const char *const rules[] = { "any:7 -> myself", "* -> myself:9",
					     NULL };
	struct test_vm a;
	struct test_vm *vms[] = { &a };
	struct policy_set *set;

	(void)state;
	test_vm_init(&a, "a", 3, VM_ROLE_GUEST, true, rules);
	set = test_compile(vms, 1);
	assert_int_equal(set->nentries, 2);
	assert_entry(set, 0, ANY_DOM, 7, 3, ANY_PORT, POLICY_ACCEPT);
	assert_entry(set, 1, ANY_DOM, ANY_PORT, 3, 9, POLICY_ACCEPT);
	/* any includes the host and VMs the toolstack does not know. */
	assert_int_equal(decide(set, 0, 7, 3, 1), POLICY_ACCEPT);
	assert_int_equal(decide(set, 0x7fef, 1, 3, 9), POLICY_ACCEPT);
	assert_int_equal(decide(set, 0x7fef, 1, 3, 8), POLICY_REJECT);
	policy_set_free(set);
}

/* The heart of the matter: a missing name matches nothing, never anything. */
static void test_vms_coming_and_going(void **state)
{
	static const char *const web_rules[] = { "myself -> name=db:5432",
						 NULL };
	static const char *const db_rules[] = { "name=web -> myself:5432",
						NULL };
	struct test_vm web, db, cache, db2;
	struct test_vm *only_web[] = { &web };
	struct test_vm *both[] = { &web, &db };
	struct test_vm *reused[] = { &web, &cache };
	struct test_vm *moved[] = { &web, &db2 };
	struct policy_set *set;

	(void)state;
	test_vm_init(&web, "web", 3, VM_ROLE_GUEST, true, web_rules);
	test_vm_init(&db, "db", 4, VM_ROLE_SERVICE, true, db_rules);
	test_vm_init(&cache, "cache", 4, VM_ROLE_SERVICE, true, NULL);
	test_vm_init(&db2, "db", 9, VM_ROLE_SERVICE, true, db_rules);

	/* db not running: the rule is kept as an origin but has no entry. */
	set = test_compile(only_web, 1);
	assert_int_equal(set->nentries, 0);
	assert_int_equal(set->norigins, 1);
	assert_int_equal(set->origins[0].nentries, 0);
	for (uint16_t d = HMX_DOMID_FIRST_GUEST; d <= 40; d++)
		assert_int_equal(decide(set, 3, 1, d, 5432), POLICY_REJECT);
	assert_int_equal(decide(set, 3, 1, ANY_DOM, 5432), POLICY_REJECT);
	policy_set_free(set);

	/* db starts: both rules resolve (the same flow, written twice). */
	set = test_compile(both, 2);
	assert_int_equal(set->nentries, 2);
	assert_entry(set, 0, 3, ANY_PORT, 4, 5432, POLICY_ACCEPT);
	assert_entry(set, 1, 3, ANY_PORT, 4, 5432, POLICY_ACCEPT);
	assert_int_equal(decide(set, 3, 1, 4, 5432), POLICY_ACCEPT);
	assert_int_equal(decide(set, 4, 1, 3, 5432), POLICY_REJECT);
	policy_set_free(set);

	/* db stops and its domid is reused by another VM: nothing carries over. */
	set = test_compile(reused, 2);
	assert_int_equal(set->nentries, 0);
	assert_int_equal(decide(set, 3, 1, 4, 5432), POLICY_REJECT);
	policy_set_free(set);

	/* db comes back under another domid: the rules follow the name. */
	set = test_compile(moved, 2);
	assert_int_equal(set->nentries, 2);
	assert_entry(set, 0, 3, ANY_PORT, 9, 5432, POLICY_ACCEPT);
	assert_int_equal(decide(set, 3, 1, 9, 5432), POLICY_ACCEPT);
	assert_int_equal(decide(set, 3, 1, 4, 5432), POLICY_REJECT);
	policy_set_free(set);
}

static void test_type_selects_several(void **state)
{
	static const char *const ndvm_rules[] = { "type=guest -> myself:53",
						  "myself -> type=service",
						  NULL };
	static const char *const a_rules[] = { "myself -> type=guest:1", NULL };
	struct test_vm ndvm, a, b, svc, off;
	struct test_vm *vms[] = { &ndvm, &a, &b, &svc, &off };
	struct policy_set *set;

	(void)state;
	test_vm_init(&ndvm, "ndvm", 3, VM_ROLE_NDVM, true, ndvm_rules);
	test_vm_init(&a, "a", 4, VM_ROLE_GUEST, true, a_rules);
	test_vm_init(&b, "b", 5, VM_ROLE_GUEST, true, NULL);
	test_vm_init(&svc, "svc", 6, VM_ROLE_SERVICE, true, NULL);
	test_vm_init(&off, "off", 7, VM_ROLE_GUEST, false, NULL);
	set = test_compile(vms, 5);
	/* Guests a and b (not off: no HMX), then svc, then a's own pair. */
	assert_int_equal(set->nentries, 5);
	assert_entry(set, 0, 4, ANY_PORT, 3, 53, POLICY_ACCEPT);
	assert_entry(set, 1, 5, ANY_PORT, 3, 53, POLICY_ACCEPT);
	assert_entry(set, 2, 3, ANY_PORT, 6, ANY_PORT, POLICY_ACCEPT);
	assert_entry(set, 3, 4, ANY_PORT, 4, 1, POLICY_ACCEPT);
	assert_entry(set, 4, 4, ANY_PORT, 5, 1, POLICY_ACCEPT);
	assert_int_equal(set->origins[0].nentries, 2);
	assert_int_equal(set->origins[1].nentries, 1);
	assert_int_equal(set->origins[2].nentries, 2);
	assert_int_equal(decide(set, 7, 1, 3, 53), POLICY_REJECT);
	policy_set_free(set);

	/* No service running: the second rule matches nothing. */
	test_vm_init(&svc, "svc", 6, VM_ROLE_GUEST, true, NULL);
	set = test_compile(vms, 5);
	assert_int_equal(set->origins[1].nentries, 0);
	assert_int_equal(decide(set, 3, 1, 6, 1), POLICY_REJECT);
	assert_int_equal(decide(set, 6, 1, 3, 53), POLICY_ACCEPT);
	policy_set_free(set);
}

static void test_hmx_off_is_invisible(void **state)
{
	static const char *const rules[] = { "myself -> name=off",
					     "name=off -> myself", NULL };
	struct test_vm a, off;
	struct test_vm *vms[] = { &a, &off };
	struct policy_set *set;

	(void)state;
	test_vm_init(&a, "a", 3, VM_ROLE_GUEST, true, rules);
	test_vm_init(&off, "off", 4, VM_ROLE_GUEST, false, NULL);
	set = test_compile(vms, 2);
	assert_int_equal(set->nentries, 0);
	assert_int_equal(set->norigins, 2);
	assert_int_equal(set->ndomains, 2);
	assert_false(set->domains[1].hmx);
	policy_set_free(set);
}

/*
 * Rejects come first, whoever wrote them and whenever that VM started: b's
 * reject of port 80 beats a's accept, and the outcome is the same whatever
 * the start order.
 */
static void test_rejects_before_accepts(void **state)
{
	static const char *const a_rules[] = { "myself -> name=b:80",
					       "reject myself -> host", NULL };
	static const char *const b_rules[] = { "any -> myself",
					       "reject name=a -> myself:80",
					       NULL };
	struct test_vm a, b;
	struct test_vm *ab[] = { &a, &b };
	struct test_vm *ba[] = { &b, &a };
	struct policy_set *set;
	const struct policy_origin *o;

	(void)state;
	test_vm_init(&a, "a", 3, VM_ROLE_GUEST, true, a_rules);
	test_vm_init(&b, "b", 4, VM_ROLE_GUEST, true, b_rules);

	set = test_compile(ab, 2);
	assert_int_equal(set->nentries, 4);
	assert_entry(set, 0, 3, ANY_PORT, 0, ANY_PORT, POLICY_REJECT);
	assert_entry(set, 1, 3, ANY_PORT, 4, 80, POLICY_REJECT);
	assert_entry(set, 2, 3, ANY_PORT, 4, 80, POLICY_ACCEPT);
	assert_entry(set, 3, ANY_DOM, ANY_PORT, 4, ANY_PORT, POLICY_ACCEPT);
	o = decided_by(set, 3, 1, 4, 80);
	assert_non_null(o);
	assert_string_equal(o->vm_name, "b");
	assert_int_equal(o->rule_index, 1);
	assert_int_equal(decide(set, 3, 1, 4, 80), POLICY_REJECT);
	assert_int_equal(decide(set, 3, 1, 4, 81), POLICY_ACCEPT);
	assert_int_equal(decide(set, 5, 1, 4, 80), POLICY_ACCEPT);
	/* a rejects everything to the host, even b's blanket any. */
	assert_int_equal(decide(set, 3, 1, 0, 1), POLICY_REJECT);
	policy_set_free(set);

	set = test_compile(ba, 2);
	assert_int_equal(set->nentries, 4);
	assert_entry(set, 0, 3, ANY_PORT, 4, 80, POLICY_REJECT);
	assert_entry(set, 1, 3, ANY_PORT, 0, ANY_PORT, POLICY_REJECT);
	assert_entry(set, 2, ANY_DOM, ANY_PORT, 4, ANY_PORT, POLICY_ACCEPT);
	assert_entry(set, 3, 3, ANY_PORT, 4, 80, POLICY_ACCEPT);
	assert_int_equal(decide(set, 3, 1, 4, 80), POLICY_REJECT);
	assert_int_equal(decide(set, 3, 1, 4, 81), POLICY_ACCEPT);
	/* The same flow is now credited to b's blanket rule, entry 3. */
	o = decided_by(set, 3, 1, 4, 81);
	assert_string_equal(o->text, "any -> myself");
	policy_set_free(set);
}

static void test_first_match_within_group(void **state)
{
	static const char *const rules[] = { "myself -> host:1",
					     "myself:9 -> host",
					     "myself -> host", NULL };
	struct test_vm a;
	struct test_vm *vms[] = { &a };
	struct policy_set *set;

	(void)state;
	test_vm_init(&a, "a", 3, VM_ROLE_GUEST, true, rules);
	set = test_compile(vms, 1);
	assert_int_equal(set->nentries, 3);
	assert_int_equal(decided_by(set, 3, 9, 0, 1)->rule_index, 0);
	assert_int_equal(decided_by(set, 3, 9, 0, 2)->rule_index, 1);
	assert_int_equal(decided_by(set, 3, 8, 0, 2)->rule_index, 2);
	assert_null(decided_by(set, 0, 8, 3, 2));
	policy_set_free(set);
}

static void test_compile_is_pure(void **state)
{
	static const char *const rules[] = { "type=guest -> myself",
					     "reject myself -> any:22",
					     "myself -> name=b", NULL };
	struct test_vm a, b, c;
	struct test_vm *vms[] = { &a, &b, &c };
	struct policy_set *s1, *s2;

	(void)state;
	test_vm_init(&a, "a", 3, VM_ROLE_GUEST, true, rules);
	test_vm_init(&b, "b", 4, VM_ROLE_GUEST, true, rules);
	test_vm_init(&c, "c", 5, VM_ROLE_NDVM, true, rules);
	s1 = test_compile(vms, 3);
	s2 = test_compile(vms, 3);
	assert_int_equal(s1->nentries, s2->nentries);
	for (size_t i = 0; i < s1->nentries; i++) {
		assert_int_equal(s1->entries[i].src_domid,
				 s2->entries[i].src_domid);
		assert_int_equal(s1->entries[i].src_port,
				 s2->entries[i].src_port);
		assert_int_equal(s1->entries[i].dst_domid,
				 s2->entries[i].dst_domid);
		assert_int_equal(s1->entries[i].dst_port,
				 s2->entries[i].dst_port);
		assert_int_equal(s1->entries[i].action, s2->entries[i].action);
		assert_int_equal(s1->entries[i].origin, s2->entries[i].origin);
	}
	policy_set_free(s1);
	policy_set_free(s2);
}

static void expect_invalid(struct test_vm *const *tvms, size_t n,
			   const char *want)
{
	struct policy_vm vms[4];
	struct policy_set *set = (struct policy_set *)1;
	char err[200];

	test_vms_collect(tvms, n, vms);
	assert_int_equal(policy_compile(vms, n, &set, err, sizeof(err)),
			 -EINVAL);
	assert_null(set);
	if (!strstr(err, want))
		fail_msg("got \"%s\", wanted \"%s\"", err, want);
}

#define NET0 HMX_NET_APORT(0)
#define NET1 HMX_NET_APORT(1)

/* A vif is its own port pair with its backend, both ways, nothing wider. */
static void test_vifs(void **state)
{
	static const char *const guard[] = { "reject name=bad -> myself",
					     NULL };
	struct test_vm web, ndvm, other;
	struct test_vm *vms[] = { &ndvm, &web, &other };
	struct policy_vif vifs[2] = { { "ndvm", 3, 7, 9 },
				      { "lan2", 9, 7, 13 } };
	const struct policy_origin *o;
	struct policy_set *set;

	(void)state;
	test_vm_init(&ndvm, "ndvm", 3, VM_ROLE_NDVM, true, guard);
	test_vm_init(&web, "web", 5, VM_ROLE_GUEST, true, NULL);
	test_vm_init(&other, "other", 6, VM_ROLE_GUEST, true, NULL);
	web.vm.vifs = vifs;
	web.vm.nvifs = 2;
	set = test_compile(vms, 3);
	/* The reject names no running VM; vif 0 is two entries; vif 1's
	 * backend is not running: nothing. */
	assert_int_equal(set->nentries, 2);
	assert_entry(set, 0, 5, NET0, 3, NET0, POLICY_ACCEPT);
	assert_entry(set, 1, 3, NET0, 5, NET0, POLICY_ACCEPT);
	assert_int_equal(set->norigins, 3);
	o = &set->origins[set->entries[0].origin];
	assert_ptr_equal(o, &set->origins[set->entries[1].origin]);
	assert_int_equal(o->kind, POLICY_ORIGIN_VIF);
	assert_string_equal(policy_origin_list(o), "vif");
	assert_string_equal(o->vm_name, "web");
	assert_int_equal(o->vm_domid, 5);
	assert_string_equal(o->source, "web.cfg");
	assert_int_equal(o->line, 7);
	assert_int_equal(o->column, 9);
	assert_int_equal(o->rule_index, 0);
	assert_int_equal(o->action, POLICY_ACCEPT);
	assert_int_equal(o->nentries, 2);
	assert_string_equal(
		o->text,
		"vif 0 to backend ndvm: hmxnet port 4294836224 (HMX_NET_APORT(0)) both ways");
	o = &set->origins[2];
	assert_int_equal(o->kind, POLICY_ORIGIN_VIF);
	assert_int_equal(o->rule_index, 1);
	assert_int_equal(o->nentries, 0);
	assert_int_equal(set->origins[0].kind, POLICY_ORIGIN_RULE);
	assert_string_equal(policy_origin_list(&set->origins[0]), "hmx_rules");

	assert_int_equal(decide(set, 5, NET0, 3, NET0), POLICY_ACCEPT);
	assert_int_equal(decide(set, 3, NET0, 5, NET0), POLICY_ACCEPT);
	/* Nothing wider: other ports, other peers, crossed ports. */
	assert_int_equal(decide(set, 5, NET1, 3, NET1), POLICY_REJECT);
	assert_int_equal(decide(set, 5, NET0, 3, NET1), POLICY_REJECT);
	assert_int_equal(decide(set, 5, 1, 3, NET0), POLICY_REJECT);
	assert_int_equal(decide(set, 6, NET0, 3, NET0), POLICY_REJECT);
	assert_int_equal(decide(set, 3, NET0, 6, NET0), POLICY_REJECT);
	assert_int_equal(decide(set, 5, NET0, 6, NET0), POLICY_REJECT);
	assert_int_equal(decide(set, 3, NET0, 0, NET0), POLICY_REJECT);
	policy_set_free(set);

	/* The backend replaced under another domid: the guest's front=
	 * names the old one, so nothing is opened to either. */
	ndvm.vm.domid = 4;
	set = test_compile(vms, 3);
	assert_int_equal(set->nentries, 0);
	assert_int_equal(set->origins[1].nentries, 0);
	assert_int_equal(decide(set, 5, NET0, 4, NET0), POLICY_REJECT);
	policy_set_free(set);

	/* Vif 1 too, once lan2 runs at the domid it was given. */
	ndvm.vm.domid = 3;
	test_vm_init(&other, "lan2", 9, VM_ROLE_SERVICE, true, NULL);
	set = test_compile(vms, 3);
	assert_int_equal(set->nentries, 4);
	assert_entry(set, 2, 5, NET1, 9, NET1, POLICY_ACCEPT);
	assert_entry(set, 3, 9, NET1, 5, NET1, POLICY_ACCEPT);
	assert_int_equal(decide(set, 5, NET0, 9, NET0), POLICY_REJECT);
	policy_set_free(set);

	/* A reject in the backend's file beats the vif, like any accept. */
	{
		static const char *const shut[] = { "reject name=web -> myself",
						    NULL };

		test_vm_init(&ndvm, "ndvm", 3, VM_ROLE_NDVM, true, shut);
		set = test_compile(vms, 3);
		assert_int_equal(decide(set, 5, NET0, 3, NET0), POLICY_REJECT);
		assert_int_equal(decide(set, 3, NET0, 5, NET0), POLICY_ACCEPT);
		policy_set_free(set);
	}

	/* A backend without HMX is no backend. */
	test_vm_init(&ndvm, "ndvm", 3, VM_ROLE_NDVM, false, NULL);
	set = test_compile(vms, 3);
	assert_int_equal(decide(set, 5, NET0, 3, NET0), POLICY_REJECT);
	policy_set_free(set);
}

static void test_invalid_running_sets(void **state)
{
	static const char *const rules[] = { "myself -> host", NULL };
	struct test_vm a, b;
	struct test_vm *ab[] = { &a, &b };
	struct test_vm *aa[] = { &a, &a };

	(void)state;
	test_vm_init(&a, "a", 3, VM_ROLE_GUEST, true, rules);
	test_vm_init(&b, "b", 3, VM_ROLE_GUEST, true, NULL);
	expect_invalid(ab, 2, "VMs a and b both have domid 3");
	expect_invalid(aa, 2, "VMs a and a both have domid 3");
	test_vm_init(&b, "a", 4, VM_ROLE_GUEST, true, NULL);
	expect_invalid(ab, 2, "two running VMs are named a");
	test_vm_init(&b, "b", 0, VM_ROLE_GUEST, true, NULL);
	expect_invalid(ab, 2, "VM b: domid 0 is not a guest domid");
	test_vm_init(&b, "b", 2, VM_ROLE_GUEST, true, NULL);
	expect_invalid(ab, 2, "domid 2 is not a guest domid");
	test_vm_init(&b, "b", HMX_DOMID_ANY, VM_ROLE_GUEST, true, NULL);
	expect_invalid(ab, 2, "domid 32756 is not a guest domid");
	test_vm_init(&b, "b", HMX_DOMID_LAST_GUEST + 1, VM_ROLE_GUEST, true,
		     NULL);
	expect_invalid(ab, 2, "is not a guest domid");
	test_vm_init(&b, "b", 4, VM_ROLE_GUEST, false, rules);
	expect_invalid(ab, 2, "VM b: has HMX rules but no HMX device");
	test_vm_init(&b, "host", 4, VM_ROLE_GUEST, true, NULL);
	expect_invalid(ab, 2, "running VM 1: invalid name");
	test_vm_init(&b, "b", 4, (enum vm_role)3, true, NULL);
	expect_invalid(ab, 2, "VM b: invalid type");
	test_vm_init(&b, "b", 4, VM_ROLE_GUEST, true, rules);
	b.rules[0].rule.dst.sel = (enum policy_selector)42;
	expect_invalid(ab, 2, "VM b: rule 0 is malformed");
	test_vm_init(&b, "b", 4, VM_ROLE_GUEST, true, rules);
	b.rules[0].rule.action = (enum policy_action)2;
	expect_invalid(ab, 2, "rule 0 is malformed");
	test_vm_init(&b, "b", 4, VM_ROLE_GUEST, true, rules);
	b.rules[0].rule.dst.sel = POLICY_SEL_NAME;
	strcpy(b.rules[0].rule.dst.name, "bad name");
	expect_invalid(ab, 2, "rule 0 is malformed");
	{
		struct policy_vif vif = { "a", 3, 1, 1 };

		test_vm_init(&b, "b", 4, VM_ROLE_GUEST, false, NULL);
		b.vm.vifs = &vif;
		b.vm.nvifs = 1;
		expect_invalid(ab, 2, "VM b: has vifs but no HMX device");
		b.vm.hmx = true;
		b.vm.nvifs = VIF_PER_VM_MAX + 1;
		expect_invalid(ab, 2, "VM b: vifs malformed");
		b.vm.nvifs = 1;
		b.vm.vifs = NULL;
		expect_invalid(ab, 2, "VM b: vifs malformed");
		b.vm.vifs = &vif;
		vif.backend = "any";
		expect_invalid(ab, 2, "VM b: vif 0 has no valid backend");
		vif.backend = NULL;
		expect_invalid(ab, 2, "VM b: vif 0 has no valid backend");
	}
	test_vm_init(&b, "b", 4, VM_ROLE_GUEST, true, rules);
	b.vm.rules = NULL;
	expect_invalid(ab, 2, "VM b: rules missing");
	test_vm_init(&b, "b", 4, VM_ROLE_GUEST, true, NULL);
	b.vm.name = NULL;
	expect_invalid(ab, 2, "running VM 1: invalid name");
}

/* A type= rule in every one of many VMs grows quadratically: bounded. */
static void test_entry_bound(void **state)
{
	static const char *const rules[] = { "type=guest -> myself", NULL };
	enum { N = 300 };
	struct policy_vm *vms = calloc(N, sizeof(*vms));
	struct test_vm *t = calloc(N, sizeof(*t));
	char(*names)[8] = calloc(N, sizeof(*names));
	struct policy_set *set;
	char err[128];

	(void)state;
	assert_true(vms && t && names);
	for (int i = 0; i < N; i++) {
		snprintf(names[i], sizeof(names[i]), "g%d", i);
		test_vm_init(&t[i], names[i], (uint16_t)(3 + i), VM_ROLE_GUEST,
			     true, rules);
		vms[i] = t[i].vm;
	}
	/* 255 x 255 = 65025 entries fit; 256 x 256 = 65536 exactly fits. */
	assert_int_equal(policy_compile(vms, 256, &set, err, sizeof(err)), 0);
	assert_int_equal(set->nentries, POLICY_ENTRIES_MAX);
	policy_set_free(set);
	assert_int_equal(policy_compile(vms, 257, &set, err, sizeof(err)),
			 -E2BIG);
	assert_null(set);
	assert_string_equal(
		err, "the policy compiles to more than 65536 firewall entries");
	free(vms);
	free(t);
	free(names);
}

static void test_from_vmcfg(void **state)
{
	struct vmcfg *cfg = parse_ok(
		"name = 'ndvm'\nrole = 'ndvm'\nmemory = 64\nkernel = '/k'\n"
		"hmx_rules = [ 'type=guest -> myself:53' ]\n");
	struct policy_vm vm;
	struct policy_set *set;
	char err[128];

	(void)state;
	policy_vm_from_vmcfg(&vm, cfg, 7);
	assert_string_equal(vm.name, "ndvm");
	assert_int_equal(vm.domid, 7);
	assert_int_equal(vm.type, VM_ROLE_NDVM);
	assert_true(vm.hmx);
	assert_string_equal(vm.source, "web.cfg");
	assert_int_equal(vm.nrules, 1);
	assert_int_equal(policy_compile(&vm, 1, &set, err, sizeof(err)), 0);
	/* The compiled set owns copies: the definition can go first. */
	vmcfg_free(cfg);
	assert_string_equal(set->origins[0].text, "type=guest -> myself:53");
	assert_int_equal(set->origins[0].line, 5);
	assert_int_equal(set->origins[0].column, 15);
	assert_string_equal(set->origins[0].source, "web.cfg");
	assert_string_equal(set->domains[0].name, "ndvm");
	policy_set_free(set);
}

/* A tiny deterministic generator, so failures reproduce. */
static uint32_t lcg(uint32_t *s)
{
	*s = *s * 1103515245u + 12345u;
	return (*s >> 16) & 0x7fff;
}

static const char *const templates[] = {
	"myself -> host:5555",
	"reject myself -> host",
	"myself -> name=v1:80",
	"name=v2:1 -> myself",
	"reject name=v3 -> myself:80",
	"type=guest -> myself",
	"reject type=ndvm -> myself:1",
	"myself -> type=service:80",
	"any -> myself:5555",
	"reject any:1 -> myself",
	"myself:80 -> any",
	"myself -> name=ghost",
	"reject myself -> type=guest",
	"host -> myself:80",
	"myself -> myself",
	"reject myself:5555 -> name=v0",
};

/* Generated running sets, compiled and checked against the oracle. */
static void test_matches_reference_semantics(void **state)
{
	enum { NVM = 6, ROUNDS = 300 };
	static const uint32_t ports[] = { 1, 80, 5555, HMX_NET_APORT(0),
					  HMX_NET_APORT(1) };
	const size_t nports = sizeof(ports) / sizeof(*ports);
	static const char *const names[NVM] = { "v0", "v1", "v2",
						"v3", "v4", "v5" };
	const char *rules[NVM][5];
	struct policy_vif vifs[NVM][2];
	struct test_vm t[NVM];
	struct policy_vm vms[NVM];
	uint32_t seed = 1;
	size_t checked = 0, accepted = 0;

	(void)state;
	for (int round = 0; round < ROUNDS; round++) {
		size_t nvm = 1 + lcg(&seed) % NVM;
		struct policy_set *set;
		char err[128];

		for (size_t i = 0; i < nvm; i++) {
			size_t nr = lcg(&seed) % 5;
			bool hmx = lcg(&seed) % 6 != 0;

			for (size_t r = 0; r < nr; r++)
				rules[i][r] = templates[lcg(&seed) %
							(sizeof(templates) /
							 sizeof(*templates))];
			rules[i][nr] = NULL;
			/* Names are a random subset, so some rules miss. */
			test_vm_init(&t[i], names[(i + round) % NVM],
				     (uint16_t)(3 + lcg(&seed) % 4 * NVM + i),
				     (enum vm_role)(lcg(&seed) % VM_ROLE_COUNT),
				     hmx, hmx ? rules[i] : NULL);
			vms[i] = t[i].vm;
			/* Vifs to any of the names, at a domid that may or
			 * may not be the backend's. */
			for (size_t n = 0; hmx && n < 2; n++)
				vifs[i][n] = (struct policy_vif){
					names[lcg(&seed) % NVM],
					(uint16_t)(3 + lcg(&seed) % (4 * NVM)),
					1, 1
				};
			vms[i].vifs = vifs[i];
			vms[i].nvifs = hmx ? lcg(&seed) % 3 : 0;
		}
		assert_int_equal(
			policy_compile(vms, nvm, &set, err, sizeof(err)), 0);
		for (size_t s = 0; s <= nvm; s++) {
			for (size_t d = 0; d <= nvm; d++) {
				uint16_t sd = s == nvm ? 0 : vms[s].domid;
				uint16_t dd = d == nvm ? 0 : vms[d].domid;

				for (size_t sp = 0; sp < nports; sp++) {
					for (size_t dp = 0; dp < nports; dp++) {
						struct policy_flow flow = {
							sd, ports[sp], dd,
							ports[dp]
						};
						enum policy_action want =
							policy_oracle_decide(
								vms, nvm,
								&flow);

						assert_int_equal(
							decide(set, sd,
							       ports[sp], dd,
							       ports[dp]),
							want);
						checked++;
						accepted += want ==
							    POLICY_ACCEPT;
					}
				}
			}
		}
		policy_set_free(set);
	}
	/* The generator must exercise both outcomes, or the test is hollow. */
	assert_true(accepted > checked / 20);
	assert_true(accepted < checked - checked / 20);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_wire_values),
		cmocka_unit_test(test_myself_to_host),
		cmocka_unit_test(test_any_compiles_to_wildcards),
		cmocka_unit_test(test_vms_coming_and_going),
		cmocka_unit_test(test_type_selects_several),
		cmocka_unit_test(test_hmx_off_is_invisible),
		cmocka_unit_test(test_rejects_before_accepts),
		cmocka_unit_test(test_first_match_within_group),
		cmocka_unit_test(test_compile_is_pure),
		cmocka_unit_test(test_vifs),
		cmocka_unit_test(test_invalid_running_sets),
		cmocka_unit_test(test_entry_bound),
		cmocka_unit_test(test_from_vmcfg),
		cmocka_unit_test(test_matches_reference_semantics),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
