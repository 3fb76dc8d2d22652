// SPDX-License-Identifier: GPL-2.0-only
/*
 * An NDVM's nic = [ ... ] (src/toolstack/nic_spec.c, vmcfg_nic.c): every
 * key and what it refuses, the derived MAC and tap names (stable, unique
 * per NIC, within IFNAMSIZ), and the definition-level rules: only an NDVM
 * has a NIC, no two NICs share a tap or a MAC, at most four.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "toolstack/nic_spec.h"
#include "toolstack_test.h"

static struct nic_spec parse(const char *s)
{
	struct nic_spec n;
	struct nic_spec_error e;

	if (nic_spec_parse(s, strlen(s), &n, &e))
		fail_msg("\"%s\" refused: %s", s, e.msg);
	return n;
}

static void refused(const char *s, size_t offset, const char *want)
{
	struct nic_spec n;
	struct nic_spec_error e;

	assert_int_equal(nic_spec_parse(s, strlen(s), &n, &e), -EINVAL);
	if (!strstr(e.msg, want))
		fail_msg("\"%s\": got \"%s\", wanted \"%s\"", s, e.msg, want);
	assert_int_equal(e.offset, offset);
}

static void test_keys(void **state)
{
	struct nic_spec n;

	(void)state;
	n = parse("netns=lan0");
	assert_string_equal(n.netns, "lan0");
	assert_false(n.mac_given);
	assert_false(n.tap_given);
	n = parse(" netns=lan-0.b_1 , mac=02:AB:cd:00:00:01,tap=lan0nic,");
	assert_string_equal(n.netns, "lan-0.b_1");
	assert_true(n.mac_given);
	assert_memory_equal(n.mac, "\x02\xab\xcd\x00\x00\x01", 6);
	assert_string_equal(n.tap, "lan0nic");
	n = parse("tap=abcdefghijklmno,netns=x");
	assert_string_equal(n.tap, "abcdefghijklmno");
	assert_string_equal(n.bridge, "");
	n = parse("netns=x, bridge=br-lan0");
	assert_string_equal(n.bridge, "br-lan0");
	n = parse("netns=012345678901234567890123456789012345678901234567890123"
		  "456789012");
	assert_int_equal(strlen(n.netns), NIC_NETNS_MAX);
}

static void test_refusals(void **state)
{
	(void)state;
	refused("", 0, "netns= is required");
	refused("mac=02:00:00:00:00:01", 0, "netns= is required");
	refused("netns=", 6, "netns: a network namespace name is empty");
	refused("netns=a/b", 6, "only letters, digits");
	refused("netns=..", 6, "cannot be . or ..");
	refused("netns=0123456789012345678901234567890123456789012345678901"
		"23456789012x",
		6, "longer than 63 bytes");
	refused("netns=a,netns=b", 8, "netns is given twice");
	refused("netns=a, model=e1000", 9,
		"unknown key \"model\": the keys are netns, mac, tap and bridge");
	refused("netns=a,bridge=", 15, "bridge: an interface name is empty");
	refused("netns=a,bridge=b,bridge=c", 17, "bridge is given twice");
	refused("netns=a,lan0", 8, "expected key=value");
	refused("netns=a,mac=03:00:00:00:00:01", 12, "multicast");
	refused("netns=a,mac=02:00:00:00:00", 12, "six hex pairs");
	refused("netns=a,mac=02:00:00:00:00:0x", 12, "six hex pairs");
	refused("netns=a,mac=02-00-00-00-00-01", 12, "six hex pairs");
	refused("netns=a,tap=abcdefghijklmnop", 12, "longer than 15 bytes");
	refused("netns=a,tap=eth 0", 12, "only letters, digits");
	refused("netns=a,tap=x,tap=y", 14, "tap is given twice");
	refused("netns=a,mac=02:00:00:00:00:01,mac=02:00:00:00:00:02", 30,
		"mac is given twice");
	refused("netns=a,\xc3\xa9=1", 8, "unknown key \"??\"");
}

static void test_defaults(void **state)
{
	uint8_t a[6], b[6], c[6];
	char t[NIC_IFNAME_MAX + 1];

	(void)state;
	nic_default_mac("ndvm", 0, a);
	nic_default_mac("ndvm", 0, b);
	nic_default_mac("ndvm", 1, c);
	assert_memory_equal(a, b, 6);
	assert_memory_not_equal(a, c, 6);
	assert_memory_equal(a, "\x02\x4e\x44", 3);
	nic_default_tap("ndvm", 0, t);
	assert_string_equal(t, "bh-ndvm-0");
	nic_default_tap("ndvm-lan-a", 3, t);
	assert_string_equal(t, "bh-ndvm-lan-a-3");
	/* Too long for IFNAMSIZ: a prefix and the name's hash. */
	nic_default_tap("ndvm-lan-ab", 3, t);
	assert_int_equal(strlen(t), 15);
	assert_memory_equal(t, "bh-ndvm-.", 9);
	assert_memory_equal(t + 13, "-3", 2);
	nic_default_tap("01234567890123456789012345678901", 3, t);
	assert_int_equal(strlen(t), 15);
	assert_null(nic_ifname_problem(t, strlen(t)));
	{
		char u[NIC_IFNAME_MAX + 1];

		nic_default_tap("01234567890123456789012345678902", 3, u);
		assert_string_not_equal(t, u);
	}
}

static void test_definition(void **state)
{
	struct vmcfg *cfg;
	char mac[18];

	(void)state;
	cfg = parse_with("role = 'ndvm'\n"
			 "nic = [ 'netns=lan0', 'netns=lan1, tap=up1, "
			 "mac=02:00:00:00:00:09' ]\n");
	assert_int_equal(cfg->nnics, 2);
	assert_string_equal(cfg->nics[0].netns, "lan0");
	assert_string_equal(cfg->nics[0].tap, "bh-web-0");
	assert_memory_equal(cfg->nics[0].mac, "\x02\x4e\x44", 3);
	nic_mac_format(cfg->nics[1].mac, mac);
	assert_string_equal(mac, "02:00:00:00:00:09");
	assert_string_equal(cfg->nics[1].tap, "up1");
	assert_int_equal(cfg->nics[1].line, 5);
	vmcfg_free(cfg);
	/* The role may come after the NICs. */
	cfg = parse_with("nic = [ 'netns=lan0' ]\nrole = 'ndvm'\n");
	assert_int_equal(cfg->nnics, 1);
	vmcfg_free(cfg);
	cfg = parse_with("nic = [ ]\n");
	assert_int_equal(cfg->nnics, 0);
	vmcfg_free(cfg);

	parse_with_fails("nic = [ 'netns=lan0' ]\n", 4, 1,
			 "nic: only a network device VM owns a NIC, and this "
			 "VM's role is \"guest\": write role = \"ndvm\"");
	parse_with_fails("role = 'service'\nnic = [ 'netns=lan0' ]\n", 5, 1,
			 "this VM's role is \"service\"");
	parse_with_fails(
		"role = 'ndvm'\nnic = [ 'netns=lan0, tap=a', "
		"'netns=lan0, tap=a' ]\n",
		5, 30, "nic[1]: tap \"a\" in netns \"lan0\" is also nic[0]'s");
	parse_with_fails(
		"role = 'ndvm'\nnic = [ 'netns=a, mac=02:00:00:00:00:01'"
		", 'netns=b, mac=02:00:00:00:00:01' ]\n",
		5, 43, "nic[1]: its MAC address is also nic[0]'s");
	parse_with_fails(
		"role = 'ndvm'\nnic = [ 'netns=a, mac=01:00:00:00:00:01'"
		" ]\n",
		5, 9,
		"nic[0]: \"netns=a, mac=01:00:00:00:00:01\": mac: a "
		"multicast MAC address");
	parse_with_fails("role = 'ndvm'\nnic = [ 'netns=a', 'netns=b', "
			 "'netns=c', 'netns=d', 'netns=e' ]\n",
			 5, 53, "at most 4 entries");
	parse_with_fails("role = 'ndvm'\nnic = 'netns=a'\n", 5, 7,
			 "a list of quoted NIC specs");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_definition),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
