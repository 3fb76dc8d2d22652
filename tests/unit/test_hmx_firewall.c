// SPDX-License-Identifier: GPL-2.0-only
/* The HMX firewall: order, default deny, patterns, counters, audit. */
#include "hmx_testlib.h"

#include "hmx/internal.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define ANYD HMX_DOMID_ANY
#define ANYP HMX_PORT_ANY

struct fx {
	struct hmx_host *h;
	struct tg *a, *b, *c;
	struct tring ra, rb, rc, rb1;
};

static int setup(void **state)
{
	static struct fx f;

	f.h = host_new(NULL);
	fw_allow_all(f.h);
	f.a = tg_new(f.h, 3);
	f.b = tg_new(f.h, 4);
	f.c = tg_new(f.h, 5);
	/* Rings to send from (1) and to receive on (100) in each domain. */
	if (tg_ring(f.a, 1, ANYD, 4096, false, &f.ra) ||
	    tg_ring(f.b, 100, ANYD, 4096, false, &f.rb) ||
	    tg_ring(f.c, 1, ANYD, 4096, false, &f.rc) ||
	    tg_ring(f.b, 1, ANYD, 48, false, &f.rb1))
		return -1;
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	tg_free(f->a);
	tg_free(f->b);
	tg_free(f->c);
	hmx_host_destroy(f->h);
	return 0;
}

static struct hmx_fw_rule R(uint16_t sd, uint32_t sp, uint16_t dd, uint32_t dp,
			    uint32_t act) {
	struct hmx_fw_rule r = { .src_domid = sd,
				 .src_port = sp,
				 .dst_domid = dd,
				 .dst_port = dp,
				 .action = act };
	return r;
}

static void
drain(struct fx *f)
{
	uint8_t buf[64];

	while (tring_recv(&f->rb, NULL, buf, sizeof(buf)) >= 0)
		;
}

static void test_default_deny(void **state)
{
	struct fx *f = *state;
	struct hmx_audit_entry e[4];
	struct hmx_fw_stats st;
	uint64_t dropped;

	hmx_audit_read(f->h, e, 4, NULL);
	assert_int_equal(hmx_firewall_set(f->h, NULL, 0), 0);
	assert_int_equal(tg_send(f->a, 1, 4, 100, 0, "x", 1), -EPERM);
	assert_int_equal(hmx_audit_read(f->h, e, 4, &dropped), 1);
	assert_int_equal(dropped, 0);
	assert_int_equal(e[0].op, HMX_OP_SENDV);
	assert_int_equal(e[0].reason, HMX_AUDIT_DEFAULT);
	assert_int_equal(e[0].rule, -1);
	assert_int_equal(e[0].src.domid, 3);
	assert_int_equal(e[0].src.aport, 1);
	assert_int_equal(e[0].dst.domid, 4);
	assert_int_equal(e[0].dst.aport, 100);
	assert_true(e[0].time_ns > 1600000000ull * 1000000000ull);
	assert_int_equal(hmx_firewall_stats(f->h, &st, NULL, 0), 0);
	assert_int_equal(st.default_denied, 1);
	/* Rules that match nothing still leave the default. */
	{
		struct hmx_fw_rule r[2] = {
			R(5, ANYP, 4, 100, HMX_FW_ACCEPT),
			R(3, ANYP, 4, 101, HMX_FW_ACCEPT),
		};

		assert_int_equal(hmx_firewall_set(f->h, r, 2), 0);
	}
	assert_int_equal(tg_send(f->a, 1, 4, 100, 0, "x", 1), -EPERM);
	assert_int_equal(tg_send(f->c, 1, 4, 100, 0, "x", 1), 1);
}

/* A repeating refusal folds into its entry while unread: one entry. */
static void test_audit_folds_repeats(void **state)
{
	struct fx *f = *state;
	struct hmx_audit_entry e[64];
	uint64_t dropped;

	hmx_audit_read(f->h, e, 64, NULL);
	assert_int_equal(hmx_firewall_set(f->h, NULL, 0), 0);
	for (int i = 0; i < 100; i++) {
		assert_int_equal(tg_send(f->a, 1, 4, 100, 0, "x", 1), -EPERM);
		assert_int_equal(tg_send(f->a, 1, 4, 101, 0, "x", 1), -EPERM);
	}
	assert_int_equal(hmx_audit_read(f->h, e, 64, &dropped), 2);
	assert_int_equal(dropped, 0);
	assert_int_equal(e[0].dst.aport, 100);
	assert_int_equal(e[0].repeats, 99);
	assert_true(e[0].last_ns >= e[0].time_ns);
	assert_int_equal(e[1].dst.aport, 101);
	assert_int_equal(e[1].repeats, 99);
	/* Read entries are gone: the next one starts afresh. */
	assert_int_equal(tg_send(f->a, 1, 4, 100, 0, "x", 1), -EPERM);
	assert_int_equal(hmx_audit_read(f->h, e, 64, NULL), 1);
	assert_int_equal(e[0].repeats, 0);
	/* Beyond the window of newest entries a repeat is a new entry. */
	for (uint32_t p = 0; p <= HMX_AUDIT_FOLD_WINDOW; p++)
		assert_int_equal(tg_send(f->a, 1, 4, 200 + p, 0, "x", 1),
				 -EPERM);
	assert_int_equal(tg_send(f->a, 1, 4, 200, 0, "x", 1), -EPERM);
	assert_int_equal(hmx_audit_read(f->h, e, 64, NULL),
			 HMX_AUDIT_FOLD_WINDOW + 2);
	assert_int_equal(e[HMX_AUDIT_FOLD_WINDOW + 1].dst.aport, 200);
	assert_int_equal(e[HMX_AUDIT_FOLD_WINDOW + 1].repeats, 0);
}

static void test_first_match_wins(void **state)
{
	struct fx *f = *state;
	struct hmx_audit_entry e[4];
	struct hmx_fw_stats st;
	uint64_t hits[3];
	struct hmx_fw_rule r[3] = {
		R(3, ANYP, 4, 100, HMX_FW_REJECT),
		R(ANYD, ANYP, 4, ANYP, HMX_FW_ACCEPT),
		R(3, ANYP, 4, 100, HMX_FW_ACCEPT),
	};

	assert_int_equal(hmx_firewall_set(f->h, r, 3), 0);
	hmx_audit_read(f->h, e, 4, NULL);
	assert_int_equal(tg_send(f->a, 1, 4, 100, 0, "x", 1), -EPERM);
	assert_int_equal(hmx_audit_read(f->h, e, 4, NULL), 1);
	assert_int_equal(e[0].reason, HMX_AUDIT_RULE);
	assert_int_equal(e[0].rule, 0);
	assert_int_equal(tg_send(f->c, 1, 4, 100, 0, "x", 1), 1);
	assert_int_equal(tg_send(f->c, 1, 4, 100, 0, "x", 1), 1);
	assert_int_equal(hmx_firewall_stats(f->h, &st, hits, 3), 3);
	assert_int_equal(hits[0], 1);
	assert_int_equal(hits[1], 2);
	assert_int_equal(hits[2], 0);
	assert_int_equal(st.default_denied, 0);
	/* Reversed order: the accept comes first now. */
	r[0].action = HMX_FW_ACCEPT;
	r[1].action = HMX_FW_REJECT;
	assert_int_equal(hmx_firewall_set(f->h, r, 3), 0);
	assert_int_equal(tg_send(f->a, 1, 4, 100, 0, "x", 1), 1);
	assert_int_equal(tg_send(f->c, 1, 4, 100, 0, "x", 1), -EPERM);
	drain(f);
}

static void test_ports_and_wildcards(void **state)
{
	struct fx *f = *state;
	struct tring r2;
	struct hmx_fw_rule r[3] = {
		R(ANYD, 2, ANYD, ANYP, HMX_FW_REJECT), /* source port 2 */
		R(3, ANYP, ANYD, 100, HMX_FW_ACCEPT),
		R(ANYD, ANYP, 3, ANYP, HMX_FW_ACCEPT), /* anyone to A */
	};

	assert_int_equal(hmx_firewall_set(f->h, r, 3), 0);
	assert_int_equal(tg_ring(f->a, 2, 4, 48, false, &r2), 0);
	assert_int_equal(tg_send(f->a, 1, 4, 100, 0, "x", 1), 1);
	assert_int_equal(tg_send(f->a, 2, 4, 100, 0, "x", 1), -EPERM);
	assert_int_equal(tg_send(f->a, 1, 4, 1, 0, "x", 1), -EPERM);
	assert_int_equal(tg_send(f->b, 1, 3, 1, 0, "x", 1), 1);
	drain(f);
}

/* A ring you may not send to does not exist for notify. */
static void test_notify_filtered(void **state)
{
	struct fx *f = *state;
	struct hmx_ring_data_ent e = { 0 };
	struct hmx_audit_entry ae[4];
	struct hmx_fw_rule r[2] = {
		R(3, 1, 4, 100, HMX_FW_ACCEPT), /* port-specific accept */
		R(5, ANYP, 4, 100, HMX_FW_ACCEPT),
	};

	assert_int_equal(hmx_firewall_set(f->h, r, 2), 0);
	hmx_audit_read(f->h, ae, 4, NULL);
	e.ring.domid = 4;
	e.ring.aport = 100;
	assert_int_equal(tg_notify(f->c, &e, 1), 0);
	assert_int_equal(e.flags & HMX_RING_EXISTS, HMX_RING_EXISTS);
	/* A query from no particular port: port-specific rules don't apply. */
	assert_int_equal(tg_notify(f->a, &e, 1), 0);
	assert_int_equal(e.flags, 0);
	assert_int_equal(e.max_message_size, 0);
	assert_int_equal(hmx_audit_read(f->h, ae, 4, NULL), 1);
	assert_int_equal(ae[0].op, HMX_OP_NOTIFY);
	assert_int_equal(ae[0].src.aport, HMX_PORT_ANY);
	/* From the port the rule names, query and send agree: allowed. */
	f->a->notify_src_aport = 1;
	assert_int_equal(tg_notify(f->a, &e, 1), 0);
	assert_int_equal(e.flags & HMX_RING_EXISTS, HMX_RING_EXISTS);
	assert_int_equal(tg_send(f->a, 1, 4, 100, 0, "x", 1), 1);
	/* A source port the caller does not own is refused and audited. */
	f->a->notify_src_aport = 77;
	assert_int_equal(tg_notify(f->a, &e, 1), -EPERM);
	assert_int_equal(hmx_audit_read(f->h, ae, 4, NULL), 1);
	assert_int_equal(ae[0].op, HMX_OP_NOTIFY);
	assert_int_equal(ae[0].src.aport, 77);
	f->a->notify_src_aport = HMX_PORT_ANY;
	drain(f);
}

static void test_wildcard_registration(void **state)
{
	struct fx *f = *state;
	struct hmx_audit_entry ae[4];
	struct tring t;
	struct hmx_fw_rule r[3] = {
		R(5, ANYP, 3, 200, HMX_FW_REJECT),
		R(5, ANYP, 3, 200, HMX_FW_ACCEPT),
		R(ANYD, ANYP, 3, 300, HMX_FW_REJECT),
	};

	assert_int_equal(hmx_firewall_set(f->h, r, 3), 0);
	hmx_audit_read(f->h, ae, 4, NULL);
	/* An accept rule names (3, 200), even if shadowed: allowed. */
	assert_int_equal(tg_ring(f->a, 200, ANYD, 48, false, &t), 0);
	/* Only a reject names (3, 300): refused, audited. */
	assert_int_equal(tg_ring(f->a, 300, ANYD, 48, false, &t), -EPERM);
	assert_int_equal(hmx_audit_read(f->h, ae, 4, NULL), 1);
	assert_int_equal(ae[0].op, HMX_OP_REGISTER_RING);
	assert_int_equal(ae[0].dst.domid, 3);
	assert_int_equal(ae[0].dst.aport, 300);
	assert_int_equal(ae[0].src.domid, HMX_DOMID_ANY);
	/* Partner-specific rings are not checked at registration. */
	assert_int_equal(tg_ring(f->a, 300, 4, 48, false, &t), 0);
	/* Wildcard destination fields count too. */
	r[2] = R(ANYD, ANYP, ANYD, 400, HMX_FW_ACCEPT);
	assert_int_equal(hmx_firewall_set(f->h, r, 3), 0);
	assert_int_equal(tg_ring(f->a, 400, ANYD, 48, false, &t), 0);
	r[2] = R(ANYD, ANYP, 3, ANYP, HMX_FW_ACCEPT);
	assert_int_equal(hmx_firewall_set(f->h, r, 3), 0);
	assert_int_equal(tg_ring(f->a, 401, ANYD, 48, false, &t), 0);
}

static void test_rule_validation(void **state)
{
	struct fx *f = *state;
	struct hmx_fw_rule r = R(ANYD, ANYP, ANYD, ANYP, 3);
	struct hmx_limits lim;
	struct hmx_host *h;
	struct hmx_fw_rule many[3];

	assert_int_equal(hmx_firewall_set(f->h, &r, 1), -EINVAL);
	r.action = 0;
	assert_int_equal(hmx_firewall_set(f->h, &r, 1), -EINVAL);
	r = R(1, ANYP, ANYD, ANYP, HMX_FW_ACCEPT);
	assert_int_equal(hmx_firewall_set(f->h, &r, 1), -EINVAL);
	r = R(3, ANYP, 0x7ff0, ANYP, HMX_FW_ACCEPT);
	assert_int_equal(hmx_firewall_set(f->h, &r, 1), -EINVAL);
	assert_int_equal(hmx_firewall_set(f->h, NULL, 1), -EINVAL);
	/* The old set is still in force after a refused replacement. */
	assert_int_equal(tg_send(f->a, 1, 4, 100, 0, "x", 1), 1);
	hmx_limits_default(&lim);
	lim.max_firewall_rules = 2;
	h = host_new(&lim);
	for (int i = 0; i < 3; i++)
		many[i] = R(3, ANYP, 4, (uint32_t)i, HMX_FW_ACCEPT);
	assert_int_equal(hmx_firewall_set(h, many, 3), -E2BIG);
	assert_int_equal(hmx_firewall_set(h, many, 2), 0);
	hmx_host_destroy(h);
	drain(f);
}

static void test_generation_and_counters_reset(void **state)
{
	struct fx *f = *state;
	struct hmx_fw_stats st1, st2;
	uint64_t hits[1];

	assert_int_equal(tg_send(f->a, 1, 4, 100, 0, "x", 1), 1);
	hmx_firewall_stats(f->h, &st1, hits, 1);
	assert_int_equal(hits[0], 1);
	fw_allow_all(f->h);
	hmx_firewall_stats(f->h, &st2, hits, 1);
	assert_int_equal(st2.generation, st1.generation + 1);
	assert_int_equal(hits[0], 0);
	drain(f);
}

/* Each refusal names the rule set that decided it; the set reads back. */
static void test_get_and_audit_generation(void **state)
{
	struct fx *f = *state;
	struct hmx_fw_rule r[2] = {
		R(3, ANYP, 4, 100, HMX_FW_REJECT),
		R(ANYD, ANYP, ANYD, ANYP, HMX_FW_ACCEPT),
	};
	struct hmx_fw_rule back[4];
	struct hmx_audit_entry e[4];
	uint64_t gen1, gen2;

	hmx_audit_read(f->h, e, 4, NULL);
	assert_int_equal(hmx_firewall_set(f->h, r, 2), 0);
	assert_int_equal(hmx_firewall_get(f->h, back, 4, &gen1), 2);
	assert_memory_equal(back, r, sizeof(r));
	assert_int_equal(hmx_firewall_get(f->h, back, 1, NULL), 2);
	assert_int_equal(tg_send(f->a, 1, 4, 100, 0, "x", 1), -EPERM);
	assert_int_equal(hmx_firewall_set(f->h, NULL, 0), 0);
	assert_int_equal(hmx_firewall_get(f->h, back, 4, &gen2), 0);
	assert_int_equal(gen2, gen1 + 1);
	assert_int_equal(tg_send(f->a, 1, 4, 100, 0, "x", 1), -EPERM);
	assert_int_equal(tg_send(f->a, 77, 4, 100, 0, "x", 1), -EPERM);
	assert_int_equal(hmx_audit_read(f->h, e, 4, NULL), 3);
	/* Rule 0 of the first set, then the default of the empty one. */
	assert_int_equal(e[0].reason, HMX_AUDIT_RULE);
	assert_int_equal(e[0].rule, 0);
	assert_int_equal(e[0].generation, gen1);
	assert_int_equal(e[1].reason, HMX_AUDIT_DEFAULT);
	assert_int_equal(e[1].generation, gen2);
	/* A forged source port: the set in force is recorded too. */
	assert_int_equal(e[2].reason, HMX_AUDIT_SOURCE);
	assert_int_equal(e[2].generation, gen2);
}

static void test_audit_overflow(void **state)
{
	struct hmx_limits lim;
	struct hmx_host *h;
	struct tg *a;
	struct tring r;
	struct hmx_audit_entry e[8];
	uint64_t dropped;

	(void)state;
	hmx_limits_default(&lim);
	lim.audit_capacity = 3;
	h = host_new(&lim);
	a = tg_new(h, 3);
	fw_allow_all(h);
	assert_int_equal(tg_ring(a, 1, ANYD, 48, false, &r), 0);
	assert_int_equal(hmx_firewall_set(h, NULL, 0), 0);
	for (uint32_t i = 0; i < 5; i++)
		assert_int_equal(tg_send(a, 1, 3, 100 + i, 0, "x", 1), -EPERM);
	assert_int_equal(hmx_audit_read(h, e, 8, &dropped), 3);
	assert_int_equal(dropped, 2);
	/* The oldest are kept, in order. */
	for (uint32_t i = 0; i < 3; i++)
		assert_int_equal(e[i].dst.aport, 100 + i);
	assert_int_equal(hmx_audit_read(h, e, 8, &dropped), 0);
	assert_int_equal(tg_send(a, 1, 3, 200, 0, "x", 1), -EPERM);
	assert_int_equal(hmx_audit_read(h, e, 1, &dropped), 1);
	assert_int_equal(e[0].dst.aport, 200);
	assert_int_equal(dropped, 2);
	tg_free(a);
	hmx_host_destroy(h);
}

/* The compiled evaluation agrees with a plain first-match scan. */
static int reference(const struct hmx_fw_rule *r, uint32_t n, uint16_t sd,
		     uint32_t sp, uint16_t dd, uint32_t dp)
{
	for (uint32_t i = 0; i < n; i++) {
		if ((r[i].src_domid == ANYD || r[i].src_domid == sd) &&
		    (r[i].src_port == ANYP || r[i].src_port == sp) &&
		    (r[i].dst_domid == ANYD || r[i].dst_domid == dd) &&
		    (r[i].dst_port == ANYP || r[i].dst_port == dp))
			return r[i].action == HMX_FW_ACCEPT;
	}
	return 0;
}

static void test_compiled_matches_reference(void **state)
{
	struct fx *f = *state;
	struct hmx_fw_rule rules[300];
	uint32_t seed = 12345;

#define RND() (seed = seed * 1103515245u + 12345u, (seed >> 16) & 0x7fff)
	for (int set = 0; set < 40; set++) {
		uint32_t n = 1 + RND() % 300;

		for (uint32_t i = 0; i < n; i++) {
			rules[i].src_domid = RND() % 3 ? 3 + RND() % 4 : ANYD;
			rules[i].src_port = RND() % 2 ? RND() % 4 : ANYP;
			rules[i].dst_domid = RND() % 3 ? 3 + RND() % 4 : ANYD;
			rules[i].dst_port = RND() % 2 ? RND() % 4 : ANYP;
			rules[i].action = RND() % 2 ? HMX_FW_ACCEPT :
						      HMX_FW_REJECT;
		}
		assert_int_equal(hmx_firewall_set(f->h, rules, n), 0);
		for (uint32_t sd = 3; sd < 7; sd++)
			for (uint32_t sp = 0; sp < 5; sp++)
				for (uint32_t dd = 3; dd < 7; dd++)
					for (uint32_t dp = 0; dp < 5; dp++) {
						unsigned int s = hmx_rcu_enter(
							&f->h->rcu);
						int got = hmx_fw_allow(
							f->h, HMX_OP_SENDV,
							(uint16_t)sd, sp,
							(uint16_t)dd, dp);

						hmx_rcu_leave(&f->h->rcu, s);
						assert_int_equal(
							got,
							reference(rules, n,
								  (uint16_t)sd,
								  sp,
								  (uint16_t)dd,
								  dp));
					}
		{
			struct hmx_audit_entry e[64];

			while (hmx_audit_read(f->h, e, 64, NULL))
				;
		}
	}
#undef RND
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_default_deny),
		T(test_audit_folds_repeats),
		T(test_first_match_wins),
		T(test_ports_and_wildcards),
		T(test_notify_filtered),
		T(test_wildcard_registration),
		T(test_rule_validation),
		T(test_generation_and_counters_reset),
		T(test_get_and_audit_generation),
		cmocka_unit_test(test_audit_overflow),
		T(test_compiled_matches_reference),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
