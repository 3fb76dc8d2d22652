// SPDX-License-Identifier: GPL-2.0-only
/*
 * xl vif specifications: every form the parser accepts, every error with
 * where it points, and the vif list of a definition (order, bounds,
 * clashes, what it needs of the rest of the file, messages located at the
 * element).
 */
#include "toolstack_test.h"

#include "toolstack/vif_spec.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static struct vif_spec parse(const char *spec)
{
	struct vif_spec v;
	struct vif_spec_error err;
	int ret = vif_spec_parse(spec, strlen(spec), &v, &err);

	if (ret)
		print_error("\"%s\": unexpected error %d: %s (offset %zu)\n",
			    spec, ret, err.msg, err.offset);
	assert_int_equal(ret, 0);
	assert_int_equal(v.element, 0);
	assert_int_equal(v.line, 0);
	return v;
}

/* Requires spec to fail at byte offset with a message containing want. */
static void spec_fails(const char *spec, size_t offset, const char *want)
{
	struct vif_spec v, zero;
	struct vif_spec_error err;
	int ret = vif_spec_parse(spec, strlen(spec), &v, &err);

	if (ret != -EINVAL || err.offset != offset || !strstr(err.msg, want))
		print_error(
			"\"%s\": got %d \"%s\" at offset %zu, wanted \"%s\" at %zu\n",
			spec, ret, err.msg, err.offset, want, offset);
	assert_int_equal(ret, -EINVAL);
	assert_int_equal(err.offset, offset);
	assert_non_null(strstr(err.msg, want));
	for (const char *p = err.msg; *p; p++)
		assert_true(*p >= 0x20 && *p < 0x7f);
	memset(&zero, 0, sizeof(zero));
	assert_memory_equal(&v, &zero, sizeof(v));
}

static void mac_is(const struct vif_spec *v, const char *want)
{
	char text[VIF_MAC_TEXT];

	assert_true(v->has_mac);
	vif_mac_format(v->mac, text);
	assert_string_equal(text, want);
}

/* "" and everything that spells "every default". */
static void test_defaults(void **state)
{
	static const char *const same[] = {
		"",
		",",
		" , ,\t,",
		"model=hmxnet",
		"type=vif",
		"untrusted",
		" model = hmxnet , type=vif,untrusted, ",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(same) / sizeof(*same); i++) {
		struct vif_spec v = parse(same[i]);

		assert_string_equal(v.backend, "");
		assert_false(v.has_mac);
		assert_int_equal(v.nip, 0);
	}
}

static void test_keys(void **state)
{
	struct vif_spec v;
	char ip[VIF_IP_TEXT];

	(void)state;
	v = parse("backend=ndvm,mac=02:16:3E:74:3d:76,ip=10.0.0.5");
	assert_string_equal(v.backend, "ndvm");
	mac_is(&v, "02:16:3e:74:3d:76");
	assert_int_equal(v.nip, 1);
	assert_int_equal(v.ip[0], 0x0a000005);

	/* Blanks around parameters and around '=' do not count. */
	v = parse(
		"  backend = lan-0.a ,\tmac= 00:16:3e:00:00:01\t, ip =1.2.3.4 ");
	assert_string_equal(v.backend, "lan-0.a");
	mac_is(&v, "00:16:3e:00:00:01");
	assert_int_equal(v.ip[0], 0x01020304);

	/* xl's several addresses, separated by blanks, in order. */
	v = parse("ip=10.0.0.5 192.168.1.7\t\t172.16.0.1  8.8.8.8");
	assert_int_equal(v.nip, 4);
	vif_ip_format(v.ip[1], ip);
	assert_string_equal(ip, "192.168.1.7");
	vif_ip_format(v.ip[3], ip);
	assert_string_equal(ip, "8.8.8.8");
	v = parse(
		"ip=1.0.0.1 1.0.0.2 1.0.0.3 1.0.0.4 1.0.0.5 1.0.0.6 1.0.0.7 1.0.0.8");
	assert_int_equal(v.nip, VIF_IPS_MAX);
	v = parse("ip=223.255.255.254");
	vif_ip_format(v.ip[0], ip);
	assert_string_equal(ip, "223.255.255.254");

	/* A 32-byte backend name is the longest. */
	v = parse("backend=abcdefghijklmnopqrstuvwxyz012345");
	assert_int_equal(strlen(v.backend), VM_NAME_MAX);
}

static void test_default_mac(void **state)
{
	uint8_t mac[VIF_MAC_BYTES];
	char text[VIF_MAC_TEXT];

	(void)state;
	/* As guest/linux/hmxnet.c derives it: 02:48:4d:DOMID:VIF. */
	vif_default_mac(3, 0, mac);
	vif_mac_format(mac, text);
	assert_string_equal(text, "02:48:4d:00:03:00");
	vif_default_mac(0x1234, 7, mac);
	vif_mac_format(mac, text);
	assert_string_equal(text, "02:48:4d:12:34:07");
}

static void test_mac_errors(void **state)
{
	(void)state;
	spec_fails("mac=02:00:00:00:00", 4, "six pairs of hex digits");
	spec_fails("mac=02:00:00:00:00:00:00", 4, "six pairs of hex digits");
	spec_fails("mac=02-00-00-00-00-01", 4, "separated by colons");
	spec_fails("mac=02:00:00:00:00:0g", 4, "six pairs");
	spec_fails("mac=2:00:00:00:00:001", 4, "six pairs");
	spec_fails("mac=", 4, "six pairs");
	spec_fails(
		"ip=1.2.3.4, mac=01:00:5e:00:00:01", 16,
		"mac: 01:00:5e:00:00:01 is a multicast address (the first byte is odd); a vif needs a unicast one");
	spec_fails("mac=FF:FF:FF:FF:FF:FF", 4,
		   "ff:ff:ff:ff:ff:ff is a multicast address");
	spec_fails("mac=00:00:00:00:00:00", 4, "is no interface's address");
	spec_fails(
		"mac=02:48:4d:00:03:00", 4,
		"02:48:4d:00:03:00 is in the range hmxnet gives vifs without mac= (02:48:4d:...)");
	spec_fails("mac=fe:48:4D:00:03:00", 4, "(fe:48:4d:...)");
}

static void test_ip_errors(void **state)
{
	(void)state;
	spec_fails("ip=", 3, "expected one or more IPv4 addresses");
	spec_fails("ip=fe80::1", 3, "ip: \"fe80::1\": only IPv4 addresses");
	spec_fails("ip=10.0.0.05", 3,
		   "ip: \"10.0.0.05\" is not an IPv4 address such as 10.0.0.5");
	spec_fails("ip=10.0.0.256", 3, "is not an IPv4 address");
	spec_fails("ip=10.0.0", 3, "is not an IPv4 address");
	spec_fails("ip=10.0.0.1.", 3, "is not an IPv4 address");
	spec_fails("ip=10.0..1", 3, "is not an IPv4 address");
	spec_fails("ip=10.0.0.1/24", 3, "is not an IPv4 address");
	spec_fails("ip=10.0.0.1 127.0.0.1", 12,
		   "ip: 127.0.0.1 is a loopback address");
	spec_fails("ip=224.0.0.1", 3, "is a multicast address");
	spec_fails("ip=239.255.255.255", 3, "is a multicast address");
	spec_fails("ip=255.255.255.255", 3, "is the broadcast address");
	spec_fails("ip=0.1.2.3", 3, "0.0.0.0/8");
	spec_fails("ip=10.0.0.1  10.0.0.1", 13, "ip: 10.0.0.1 is given twice");
	spec_fails(
		"ip=1.0.0.1 1.0.0.2 1.0.0.3 1.0.0.4 1.0.0.5 1.0.0.6 1.0.0.7 1.0.0.8 1.0.0.9",
		67, "ip: at most 8 addresses");
}

static void test_model_and_type(void **state)
{
	(void)state;
	spec_fails(
		"model=e1000", 6,
		"model: e1000 is a NIC emulated by a device model; a Bulkhead vif is hmxnet, Ethernet over HMX with no device model: leave model out or write hmxnet");
	spec_fails("model=rtl8139", 6, "rtl8139 is a NIC emulated");
	spec_fails("model=virtio-net", 6, "virtio-net is a NIC emulated");
	spec_fails("model=tulip", 6,
		   "model: unknown model \"tulip\": the only one is hmxnet");
	spec_fails("model=", 6, "unknown model \"\"");
	spec_fails(
		"type=ioemu", 5,
		"type: ioemu is a NIC emulated by a device model; a Bulkhead vif is hmxnet: leave type out or write vif");
	spec_fails("type=pv", 5, "type: unknown type \"pv\": expected vif");
}

/* What the NDVM does is not said in a guest's definition. */
static void test_ndvm_keys(void **state)
{
	(void)state;
	spec_fails(
		"mac=02:00:00:00:00:01, bridge=xenbr0", 23,
		"bridge: not a vif key in Bulkhead: bridging is configured inside the NDVM, not in the guest's definition");
	spec_fails("script=vif-route", 0,
		   "hotplug scripts run inside the NDVM");
	spec_fails("gatewaydev=eth0", 0,
		   "routing is configured inside the NDVM");
	spec_fails("netdev=eth0", 0, "routing is configured inside the NDVM");
	spec_fails("rate=10Mb/s@20ms", 0, "traffic shaping");
	spec_fails(
		"vifname=web0", 0,
		"vifname: not a vif key in Bulkhead: the NDVM names its end vifDOMID.N itself");
	spec_fails("mtu=9000", 0,
		   "the MTU is set inside the guest and the NDVM");
	spec_fails("vlan=10", 0, "VLANs");
	spec_fails("forwarddev=eth1", 0, "forwarding");
	spec_fails("devid=3", 0, "a vif's number is its position in the list");
	spec_fails(
		"colo_sock_mirror_port=1", 0,
		"\"colo_sock_mirror_port\": COLO replication is not supported");
	spec_fails("accel=x", 0, "accel: an xl key Bulkhead does not support");
}

static void test_errors(void **state)
{
	(void)state;
	spec_fails("mac=02:00:00:00:00:01,mac=02:00:00:00:00:02", 22,
		   "mac given twice (first at character 1)");
	spec_fails("backend=a, backend = b", 11,
		   "backend given twice (first at character 1)");
	spec_fails("model=hmxnet,model=hmxnet", 13, "model given twice");
	spec_fails("untrusted,untrusted", 10, "untrusted given twice");
	spec_fails("backend=", 8, "backend: expected the backend VM's name");
	spec_fails("backend=-x", 8, "backend: ");
	spec_fails("backend=host", 8, "backend: ");
	spec_fails("backend=abcdefghijklmnopqrstuvwxyz0123456", 8, "backend: ");
	spec_fails(
		"trusted", 0,
		"trusted: hmxnet never trusts its backend (it checks every frame and shares no memory): leave it out or write untrusted");
	spec_fails("untrusted,mac", 10, "mac: expected mac=VALUE");
	spec_fails(
		"Mac=1", 0,
		"expected key=value, the key a lower-case word such as backend or mac");
	spec_fails("=x", 0, "expected key=value");
	spec_fails("-", 0, "expected key=value");
	spec_fails(
		"bogus=1", 0,
		"unknown vif key \"bogus\": the keys are backend, mac, ip, model and type");
	spec_fails("caf\xc3\xa9=1", 0, "expected key=value");
}

/* The vif list of a definition. */
static void test_vif_list(void **state)
{
	struct vmcfg *cfg;

	(void)state;
	cfg = parse_with("vif = [ '', 'backend=lan, mac=02:00:00:00:00:01',\n"
			 "  'ip=10.0.0.9' ]\n");
	assert_int_equal(cfg->nvifs, 3);
	assert_int_equal(cfg->nwarnings, 0);
	assert_string_equal(cfg->vifs[0].backend, "");
	assert_string_equal(cfg->vifs[1].backend, "lan");
	assert_true(cfg->vifs[1].has_mac);
	assert_int_equal(cfg->vifs[2].ip[0], 0x0a000009);
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(cfg->vifs[i].element, i);
	assert_int_equal(cfg->vifs[1].line, 4);
	assert_int_equal(cfg->vifs[1].column, 13);
	assert_int_equal(cfg->vifs[2].line, 5);
	assert_int_equal(cfg->vifs[2].column, 3);
	vmcfg_free(cfg);

	/* The element is located, and the character in it too. */
	parse_with_fails(
		"vif = [ '', 'backend=lan, bridge=br0' ]\n", 4, 13,
		"web.cfg:4:13: vif[1]: \"backend=lan, bridge=br0\": bridge: not a vif key in Bulkhead: bridging is configured inside the NDVM, not in the guest's definition (at character 14 of the spec)");
	parse_with_fails(
		"vif = [ 'mac=02:00:00:00:00:01', 'mac=02:00:00:00:00:01' ]\n",
		4, 34,
		"vif[1]: mac 02:00:00:00:00:01 is also the mac of vif[0] (line 4)");
	parse_with_fails(
		"vif = [ 'backend=web' ]\n", 4, 9,
		"vif[0]: backend=web is this VM itself; a vif's backend is another VM, such as an NDVM");
	parse_with_fails(
		"hmx = off\nvif = [ '' ]\n", 5, 1,
		"vif: hmxnet is carried over HMX: needs hmx = on (line 4)");
	parse_with_fails("vif = [ '','','','','','','','','' ]\n", 4, 33,
			 "vif: expected at most 8 entries");
	parse_with_fails(
		"vif = [ '' ]\ncmdline = 'quiet hmxnet.front=4'\n", 5, 1,
		"cmdline: hmxnet.front= is written by the toolstack from vif = [ ... ]; remove it");
	parse_with_fails(
		"vif = [ '' ]\nextra = 'hmxnet.mac=02:00:00:00:00:01'\n", 5, 1,
		"extra: hmxnet.mac= is written by the toolstack");
	parse_with_fails(
		"role = 'ndvm'\ncmdline = 'hmxnet.serve=2'\n", 5, 1,
		"cmdline: hmxnet.serve= is written by the toolstack from role = \"ndvm\"; remove it");

	/* Without vifs, or in another VM's role, the parameters are the
	 * user's: a guest may drive hmxnet by hand. */
	cfg = parse_with("cmdline = 'hmxnet.front=4 hmxnet.serve=1'\n");
	assert_string_equal(cfg->cmdline, "hmxnet.front=4 hmxnet.serve=1");
	vmcfg_free(cfg);
	cfg = parse_with("vif = [ '' ]\ncmdline = 'xhmxnet.front=4'\n");
	vmcfg_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_default_mac),
		cmocka_unit_test(test_mac_errors),
		cmocka_unit_test(test_ip_errors),
		cmocka_unit_test(test_model_and_type),
		cmocka_unit_test(test_ndvm_keys),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_vif_list),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
