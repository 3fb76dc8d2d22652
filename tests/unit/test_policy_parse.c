// SPDX-License-Identifier: GPL-2.0-only
/* The HMX rule language: every form, the canonical text, every error. */
#include "toolstack/policy_rule.h"

#include <bulkhead/hmx.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static struct policy_rule parse(const char *text)
{
	struct policy_rule rule;
	struct policy_rule_error err;
	int ret = policy_rule_parse(text, strlen(text), &rule, &err);

	if (ret)
		print_error("\"%s\": %s at %zu\n", text, err.msg, err.offset);
	assert_int_equal(ret, 0);
	return rule;
}

/* Parses text, which must be accepted and format back as canonical. */
static void roundtrip(const char *text, const char *canonical)
{
	struct policy_rule rule = parse(text);
	char buf[POLICY_RULE_TEXT_MAX + 32];

	policy_rule_format(&rule, buf, sizeof(buf));
	assert_string_equal(buf, canonical);
}

static void fails(const char *text, size_t offset, const char *want)
{
	struct policy_rule rule;
	struct policy_rule_error err;

	assert_int_equal(policy_rule_parse(text, strlen(text), &rule, &err),
			 -EINVAL);
	if (err.offset != offset || !strstr(err.msg, want))
		print_error("\"%s\": got \"%s\" at %zu, wanted \"%s\" at %zu\n",
			    text, err.msg, err.offset, want, offset);
	assert_int_equal(err.offset, offset);
	assert_non_null(strstr(err.msg, want));
}

static void test_selectors(void **state)
{
	struct policy_rule r;

	(void)state;
	r = parse("myself -> host:5555");
	assert_int_equal(r.action, POLICY_ACCEPT);
	assert_int_equal(r.src.sel, POLICY_SEL_MYSELF);
	assert_int_equal(r.src.port, HMX_PORT_ANY);
	assert_int_equal(r.dst.sel, POLICY_SEL_HOST);
	assert_int_equal(r.dst.port, 5555);

	r = parse("myself -> name=web:*");
	assert_int_equal(r.dst.sel, POLICY_SEL_NAME);
	assert_string_equal(r.dst.name, "web");
	assert_int_equal(r.dst.port, HMX_PORT_ANY);

	r = parse("type=ndvm -> myself:*");
	assert_int_equal(r.src.sel, POLICY_SEL_TYPE);
	assert_int_equal(r.src.type, VM_ROLE_NDVM);

	r = parse("name=a:1000 -> myself:80");
	assert_string_equal(r.src.name, "a");
	assert_int_equal(r.src.port, 1000);
	assert_int_equal(r.dst.port, 80);

	r = parse("any -> myself");
	assert_int_equal(r.src.sel, POLICY_SEL_ANY);
	r = parse("* -> myself");
	assert_int_equal(r.src.sel, POLICY_SEL_ANY);
	r = parse("*:7 -> myself");
	assert_int_equal(r.src.sel, POLICY_SEL_ANY);
	assert_int_equal(r.src.port, 7);
	r = parse("myself -> type=service");
	assert_int_equal(r.dst.type, VM_ROLE_SERVICE);
	r = parse("myself -> type=guest:0");
	assert_int_equal(r.dst.type, VM_ROLE_GUEST);
	assert_int_equal(r.dst.port, 0);
	r = parse("myself -> myself:4294967294");
	assert_int_equal(r.dst.port, 4294967294u);
}

static void test_actions(void **state)
{
	struct policy_rule r;

	(void)state;
	r = parse("accept myself -> host");
	assert_int_equal(r.action, POLICY_ACCEPT);
	r = parse("reject any -> myself:22");
	assert_int_equal(r.action, POLICY_REJECT);
	r = parse("  reject\t\tany->myself  ");
	assert_int_equal(r.action, POLICY_REJECT);
	assert_int_equal(r.src.sel, POLICY_SEL_ANY);
}

static void test_spacing(void **state)
{
	(void)state;
	roundtrip("myself->host:5555", "accept myself -> host:5555");
	roundtrip("myself-> host", "accept myself -> host");
	roundtrip("  myself   ->host:1  ", "accept myself -> host:1");
	/* "->" ends a name even though '-' may appear in one. */
	roundtrip("name=a-b->myself", "accept name=a-b -> myself");
	roundtrip("name=a-->myself", "accept name=a- -> myself");
	roundtrip("myself->name=x-y", "accept myself -> name=x-y");
}

static void test_canonical(void **state)
{
	(void)state;
	roundtrip("myself -> host:5555", "accept myself -> host:5555");
	roundtrip("reject * -> myself:*", "reject any -> myself");
	roundtrip("accept type=ndvm:53 -> myself",
		  "accept type=ndvm:53 -> myself");
	roundtrip("myself -> name=Web.1_x:8080",
		  "accept myself -> name=Web.1_x:8080");
	assert_string_equal(policy_action_name(POLICY_REJECT), "reject");
	assert_string_equal(policy_action_name(POLICY_ACCEPT), "accept");
}

static void test_selector_errors(void **state)
{
	(void)state;
	fails("myself -> hots:1", 10,
	      "unknown destination selector \"hots\": expected myself, host, any, *, name=NAME or type=TYPE");
	fails("Myself -> host", 0, "unknown source selector \"Myself\"");
	fails("me -> myself", 0, "unknown source selector \"me\"");
	fails("myself -> type=router", 15,
	      "unknown VM type \"router\": expected guest, ndvm or service");
	fails("myself -> type=", 15, "unknown VM type \"\"");
	fails("myself -> type=Guest", 15, "unknown VM type \"Guest\"");
	fails("myself -> name=", 15, "name=: a VM name must not be empty");
	fails("myself -> name=host", 15,
	      "name=: host, myself and any are reserved words");
	fails("myself -> name=-x", 15, "must start with a letter or digit");
	fails("myself -> name=a/b", 15, "may contain only letters");
	fails("myself -> name=012345678901234567890123456789012", 15,
	      "at most 32 characters");
	fails("myself -> name", 10, "unknown destination selector \"name\"");
	fails("myself -> **", 10, "unknown destination selector \"**\"");
	fails("myself -> \x01", 10, "unknown destination selector \"?\"");
}

static void test_port_errors(void **state)
{
	(void)state;
	fails("myself -> host:", 15,
	      "bad port \"\": expected a decimal number from 0 to 4294967294, or *");
	fails("myself -> host:4294967295", 15, "bad port \"4294967295\"");
	fails("myself -> host:99999999999", 15, "bad port \"99999999999\"");
	fails("myself -> host:-1", 15, "bad port \"-1\"");
	fails("myself -> host:0x10", 15, "bad port \"0x10\"");
	fails("myself -> host:http", 15, "bad port \"http\"");
	fails("myself -> host:80:81", 15, "bad port \"80:81\"");
	fails("myself:** -> host", 7, "bad port \"**\"");
	fails("myself: -> host", 7, "bad port \"\"");
}

static void test_structure_errors(void **state)
{
	(void)state;
	fails("", 0, "empty rule");
	fails("   ", 0, "empty rule");
	fails("myself", 6, "expected '->' and a destination after the source");
	fails("myself host", 7, "expected '->' after the source");
	fails("myself => host", 7, "expected '->' after the source");
	fails("myself ->", 9,
	      "expected a destination endpoint at the end of the rule");
	fails("myself ->  ", 11, "expected a destination endpoint at the end");
	fails("myself -> -> host", 10,
	      "expected a destination endpoint (myself");
	fails("-> host", 0, "expected a source endpoint (myself");
	fails("myself -> host extra", 15,
	      "unexpected text after the destination");
	fails("myself -> host -> myself", 15,
	      "unexpected text after the destination");
	fails("accept", 0, "unknown source selector \"accept\"");
	fails("reject ", 7,
	      "expected a source endpoint at the end of the rule");
	fails("deny myself -> host", 0, "unknown source selector \"deny\"");
	fails("allow myself -> host", 0, "unknown source selector \"allow\"");
	fails("ACCEPT myself -> host", 0, "unknown source selector \"ACCEPT\"");
	fails("reject reject myself -> host", 7,
	      "unknown source selector \"reject\"");
}

static void test_myself_required(void **state)
{
	(void)state;
	fails("any -> any", 0,
	      "a rule must have myself as its source or destination: a VM's file governs only that VM's flows");
	fails("host -> name=web:80", 0, "must have myself");
	fails("reject type=guest -> type=ndvm", 0, "must have myself");
	parse("myself -> myself");
	parse("host -> myself:80");
}

static void test_bounds(void **state)
{
	char text[POLICY_RULE_TEXT_MAX + 2];
	struct policy_rule rule;
	struct policy_rule_error err;

	(void)state;
	/* The longest rule: padded with spaces to exactly the limit. */
	memset(text, ' ', sizeof(text));
	memcpy(text, "myself -> host", 14);
	text[POLICY_RULE_TEXT_MAX] = '\0';
	assert_int_equal(
		policy_rule_parse(text, POLICY_RULE_TEXT_MAX, &rule, &err), 0);
	text[POLICY_RULE_TEXT_MAX] = ' ';
	text[POLICY_RULE_TEXT_MAX + 1] = '\0';
	fails(text, POLICY_RULE_TEXT_MAX, "a rule is at most 256 bytes long");
	/* Not NUL-terminated input: only len bytes are read. */
	assert_int_equal(
		policy_rule_parse("myself -> host:12345", 16, &rule, &err), 0);
	assert_int_equal(rule.dst.port, 1);
	assert_int_equal(policy_rule_parse("myself -> h\0st", 14, &rule, &err),
			 -EINVAL);
	assert_int_equal(err.offset, 11);
	assert_non_null(strstr(err.msg, "NUL"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_selectors),
		cmocka_unit_test(test_actions),
		cmocka_unit_test(test_spacing),
		cmocka_unit_test(test_canonical),
		cmocka_unit_test(test_selector_errors),
		cmocka_unit_test(test_port_errors),
		cmocka_unit_test(test_structure_errors),
		cmocka_unit_test(test_myself_required),
		cmocka_unit_test(test_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
