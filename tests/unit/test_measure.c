// SPDX-License-Identifier: GPL-2.0-only
/*
 * Measured launch's pure pieces: the TCG event log's bytes (against a
 * layout written out field by field from the TCG PC Client PFP) and its
 * PCR replay (against values computed with Python's hashlib), the
 * decoder's refusals, canonical JSON, the canonical forms of a definition
 * and of its compiled rules, and measure_expect's parser.
 */
#include "policy_test_vms.h"
#include "toolstack_test.h"

#include "toolstack/canon_json.h"
#include "toolstack/measure_canon.h"
#include "toolstack/measure_expect.h"
#include "toolstack/measure_log.h"
#include "util/hex.h"

#include <errno.h>
#include <json-c/json.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static const uint8_t D1[32] = { [0 ... 31] = 0x11 };
static const uint8_t D2[32] = { [0 ... 31] = 0x22 };

/* kernel "/k" with D1, then cmdline "" with D2: 65 + 67 + 65 bytes. */
static const uint8_t two_events[] = {
	/* TCG_PCClientPCREvent */
	0x00,
	0x00,
	0x00,
	0x00, /* pcrIndex 0 */
	0x03,
	0x00,
	0x00,
	0x00, /* eventType EV_NO_ACTION */
	0,
	0,
	0,
	0,
	0,
	0,
	0,
	0,
	0,
	0, /* digest: 20 zero bytes */
	0,
	0,
	0,
	0,
	0,
	0,
	0,
	0,
	0,
	0, /* */
	0x21,
	0x00,
	0x00,
	0x00, /* eventDataSize 33 */
	/* TCG_EfiSpecIDEvent */
	'S',
	'p',
	'e',
	'c',
	' ',
	'I',
	'D',
	' ',
	'E',
	'v',
	'e',
	'n',
	't',
	'0',
	'3',
	0x00, /* signature */
	0x00,
	0x00,
	0x00,
	0x00, /* platformClass: client */
	0x00, /* specVersionMinor */
	0x02, /* specVersionMajor */
	0x00, /* specErrata */
	0x02, /* uintnSize: 64-bit */
	0x01,
	0x00,
	0x00,
	0x00, /* numberOfAlgorithms */
	0x0b,
	0x00,
	0x20,
	0x00, /* TPM_ALG_SHA256, 32 bytes */
	0x00, /* vendorInfoSize */
	/* TCG_PCR_EVENT2 1 */
	0x17,
	0x00,
	0x00,
	0x00, /* pcrIndex 23 */
	0x06,
	0x00,
	0x00,
	0x00, /* EV_EVENT_TAG */
	0x01,
	0x00,
	0x00,
	0x00, /* digests.count */
	0x0b,
	0x00, /* TPM_ALG_SHA256 */
	[79 ... 110] = 0x11, /* the digest */
	0x11,
	0x00,
	0x00,
	0x00, /* eventSize 17 */
	0x01,
	0x00,
	0x48,
	0x42, /* taggedEventID "BH" | kernel */
	0x09,
	0x00,
	0x00,
	0x00, /* taggedEventDataSize 9 */
	'k',
	'e',
	'r',
	'n',
	'e',
	'l',
	' ',
	'/',
	'k',
	/* TCG_PCR_EVENT2 2 */
	0x17,
	0x00,
	0x00,
	0x00,
	0x06,
	0x00,
	0x00,
	0x00,
	0x01,
	0x00,
	0x00,
	0x00,
	0x0b,
	0x00,
	[146 ... 177] = 0x22,
	0x0f,
	0x00,
	0x00,
	0x00, /* eventSize 15 */
	0x03,
	0x00,
	0x48,
	0x42, /* cmdline */
	0x07,
	0x00,
	0x00,
	0x00,
	'c',
	'm',
	'd',
	'l',
	'i',
	'n',
	'e',
};

static void make_two(struct measure_log *log)
{
	*log = (struct measure_log){ 0 };
	assert_int_equal(measure_log_add(log, MEASURE_KERNEL, D1, "/k"), 0);
	assert_int_equal(measure_log_add(log, MEASURE_CMDLINE, D2, NULL), 0);
}

static void hex_is(const uint8_t *v, const char *want)
{
	char hex[65];

	hex_encode(v, 32, hex);
	assert_string_equal(hex, want);
}

static void test_encode_layout(void **state)
{
	struct measure_log log;
	uint8_t *bytes;
	size_t len;

	(void)state;
	assert_int_equal(sizeof(two_events), 65 + 67 + 65);
	make_two(&log);
	assert_int_equal(measure_log_encode(&log, &bytes, &len), 0);
	assert_int_equal(len, sizeof(two_events));
	assert_memory_equal(bytes, two_events, len);
	free(bytes);
	measure_log_release(&log);

	/* No events: the header alone. */
	assert_int_equal(measure_log_encode(&log, &bytes, &len), 0);
	assert_int_equal(len, 65);
	assert_memory_equal(bytes, two_events, 65);
	free(bytes);
}

static void test_replay(void **state)
{
	struct measure_log log = { 0 };
	uint8_t pcr[32];

	(void)state;
	assert_int_equal(measure_log_replay(&log, pcr), 0);
	hex_is(pcr,
	       "0000000000000000000000000000000000000000000000000000000000000000");
	assert_int_equal(measure_log_add(&log, MEASURE_KERNEL, D1, "/k"), 0);
	assert_int_equal(measure_log_replay(&log, pcr), 0);
	/* hashlib.sha256(bytes(32) + b"\x11" * 32) */
	hex_is(pcr,
	       "8878b15a7d6a3a4f464e8f9f42591dbc0cf4bedea0ec309003d2b2ee53655ef8");
	assert_int_equal(measure_log_add(&log, MEASURE_CMDLINE, D2, ""), 0);
	assert_int_equal(measure_log_replay(&log, pcr), 0);
	hex_is(pcr,
	       "78830000e1197790a7e1884139a65721210d642ad112e6c9899a05cb214027a5");
	measure_log_release(&log);
}

static void test_decode_roundtrip(void **state)
{
	struct measure_log log, again;
	char err[200], detail[MEASURE_DETAIL_MAX + 1];
	uint8_t *bytes, *b2;
	size_t len, len2;

	(void)state;
	assert_int_equal(measure_log_decode(two_events, sizeof(two_events),
					    &log, err, sizeof(err)),
			 0);
	assert_int_equal(log.nevents, 2);
	assert_int_equal(log.events[0].what, MEASURE_KERNEL);
	assert_string_equal(log.events[0].detail, "/k");
	assert_memory_equal(log.events[0].sha256, D1, 32);
	assert_int_equal(log.events[1].what, MEASURE_CMDLINE);
	assert_string_equal(log.events[1].detail, "");
	measure_log_release(&log);

	/* Every kind, UTF-8 and the longest detail survive both ways. */
	memset(detail, 'x', MEASURE_DETAIL_MAX);
	detail[MEASURE_DETAIL_MAX] = '\0';
	log = (struct measure_log){ 0 };
	for (unsigned int w = 0; w < MEASURE_WHAT_COUNT; w++)
		assert_int_equal(measure_log_add(&log, (enum measure_what)w, D2,
						 w ? "caf\xc3\xa9 x" : detail),
				 0);
	assert_int_equal(measure_log_encode(&log, &bytes, &len), 0);
	assert_int_equal(
		measure_log_decode(bytes, len, &again, err, sizeof(err)), 0);
	assert_int_equal(again.nevents, MEASURE_WHAT_COUNT);
	for (size_t i = 0; i < again.nevents; i++) {
		assert_int_equal(again.events[i].what, log.events[i].what);
		assert_string_equal(again.events[i].detail,
				    log.events[i].detail);
	}
	assert_int_equal(measure_log_encode(&again, &b2, &len2), 0);
	assert_int_equal(len2, len);
	assert_memory_equal(b2, bytes, len);
	free(bytes);
	free(b2);
	measure_log_release(&log);
	measure_log_release(&again);
}

/* two_events with byte at changed to v must be refused, saying want. */
static void refused(size_t at, uint8_t v, const char *want)
{
	uint8_t b[sizeof(two_events)];
	struct measure_log log;
	char err[200];

	memcpy(b, two_events, sizeof(b));
	b[at] = v;
	assert_int_equal(measure_log_decode(b, sizeof(b), &log, err,
					    sizeof(err)),
			 -EINVAL);
	assert_null(log.events);
	if (!strstr(err, want))
		fail_msg("byte %zu = 0x%02x: \"%s\" lacks \"%s\"", at, v, err,
			 want);
}

static void test_decode_refusals(void **state)
{
	struct measure_log log;
	char err[200];

	(void)state;
	/* Every proper prefix that cuts an event is refused. */
	for (size_t n = 0; n < sizeof(two_events); n++) {
		int r = measure_log_decode(two_events, n, &log, err,
					   sizeof(err));

		if (n == 65 || n == 65 + 67) {
			assert_int_equal(r, 0);
			measure_log_release(&log);
		} else {
			assert_int_equal(r, -EINVAL);
		}
	}
	refused(4, 0x01, "Spec ID Event03"); /* header type */
	refused(40, 'x', "Spec ID Event03"); /* signature */
	refused(57, 0x02, "Spec ID Event03"); /* two algorithms */
	refused(61, 0x04, "Spec ID Event03"); /* SHA-1 only */
	refused(64, 0x01, "Spec ID Event03"); /* vendor info */
	refused(65, 0x0f, "not a Bulkhead event"); /* PCR 15 */
	refused(69, 0x0d, "not a Bulkhead event"); /* EV_IPL */
	refused(73, 0x02, "not a Bulkhead event"); /* two digests */
	refused(77, 0x04, "not a Bulkhead event"); /* SHA-1 */
	refused(111, 0xff, "does not fit"); /* eventSize */
	refused(111, 0x07, "does not fit"); /* smaller than a tag */
	refused(115, 0x0d, "unknown tagged event ID"); /* what 12 */
	/* A host event (bulkheadd's tag, 7) in PCR 23: not as written. */
	refused(115, 0x07, "a bulkheadd event names PCR 23, not 13");
	refused(115, 0x00, "unknown tagged event ID");
	refused(118, 0x43, "unknown tagged event ID"); /* not "BH" */
	refused(119, 0x08, "tagged data size"); /* 8, event has 9 */
	refused(123, 'K', "does not start \"kernel \"");
	refused(129, '_', "does not start \"kernel \""); /* "kernel_/k" */
	refused(130, 0x01, "not printable UTF-8");
	refused(130, 0xc3, "not printable UTF-8"); /* cut sequence */
	refused(130, 0x7f, "not printable UTF-8");
}

static void test_add_refusals(void **state)
{
	struct measure_log log = { 0 };
	char long_detail[MEASURE_DETAIL_MAX + 2];

	(void)state;
	assert_int_equal(measure_log_add(&log, MEASURE_KERNEL, D1, "a\nb"),
			 -EINVAL);
	assert_int_equal(measure_log_add(&log, MEASURE_KERNEL, D1, "\xc2\x85"),
			 -EINVAL); /* C1 control, NEL */
	assert_int_equal(measure_log_add(&log, MEASURE_KERNEL, D1, "\xc0\xaf"),
			 -EINVAL); /* overlong "/" */
	assert_int_equal(measure_log_add(&log, MEASURE_KERNEL, D1,
					 "\xed\xa0\x80"),
			 -EINVAL); /* a surrogate */
	assert_int_equal(measure_log_add(&log,
					 (enum measure_what)MEASURE_WHAT_COUNT,
					 D1, "x"),
			 -EINVAL);
	memset(long_detail, 'x', sizeof(long_detail) - 1);
	long_detail[sizeof(long_detail) - 1] = '\0';
	assert_int_equal(measure_log_add(&log, MEASURE_KERNEL, D1, long_detail),
			 -EINVAL);
	for (unsigned int i = 0; i < MEASURE_LOG_EVENTS_MAX; i++)
		assert_int_equal(measure_log_add(&log, MEASURE_DISK, D1, "x"),
				 0);
	assert_int_equal(measure_log_add(&log, MEASURE_DISK, D1, "x"), -EINVAL);
	measure_log_release(&log);
}

static void canon_is(struct json_object *v, const char *want)
{
	char *out;
	size_t len;

	assert_int_equal(canon_json(v, &out, &len), 0);
	assert_string_equal(out, want);
	assert_int_equal(len, strlen(want));
	free(out);
	json_object_put(v);
}

static void test_canon_json(void **state)
{
	struct json_object *o, *deep;
	char *out;
	size_t len;

	(void)state;
	o = json_tokener_parse(
		"{\"b\": [1, -2, true, null, {\"z\": \"\", \"a\": false}],"
		" \"a\": \"q\\\"b\\\\s/\\u0001\\b\\t\\n\\f\\r\\u001f\\u007f\\u00e9\","
		" \"B\": {}, \"ab\": [], \"a_\": 0}");
	assert_non_null(o);
	canon_is(o, "{\"B\":{},\"a\":\"q\\\"b\\\\s/\\u0001\\b\\t\\n\\f\\r"
		    "\\u001f\x7f\xc3\xa9\",\"a_\":0,\"ab\":[],\"b\":[1,-2,"
		    "true,null,{\"a\":false,\"z\":\"\"}]}");
	/* Added in any order, written in one. */
	o = json_object_new_object();
	json_object_object_add(o, "zeta", json_object_new_int64(INT64_MIN));
	json_object_object_add(o, "alpha", json_object_new_string("x"));
	canon_is(o, "{\"alpha\":\"x\",\"zeta\":-9223372036854775808}");
	/* Strings with NUL bytes keep them, escaped. */
	canon_is(json_object_new_string_len("a\0b", 3), "\"a\\u0000b\"");

	o = json_object_new_double(1.5);
	assert_int_equal(canon_json(o, &out, &len), -EINVAL);
	assert_null(out);
	json_object_put(o);
	deep = json_object_new_array();
	for (int i = 0; i < CANON_JSON_DEPTH_MAX; i++) {
		struct json_object *a = json_object_new_array();

		json_object_array_add(a, deep);
		deep = a;
	}
	assert_int_equal(canon_json(deep, &out, &len), 0); /* at the limit */
	free(out);
	o = json_object_new_array();
	json_object_array_add(o, deep);
	assert_int_equal(canon_json(o, &out, &len), -EINVAL);
	json_object_put(o);
}

#define DEF                                                               \
	"name = 'web'\nmemory = 256\nkernel = '/k'\nramdisk = 'i.img'\n"  \
	"cmdline = 'console=ttyS0 \"q\"'\n"                               \
	"hmx_rules = [ 'myself -> host:5555', 'reject any -> myself' ]\n" \
	"disk = [ '/d.img,raw,xvda,ro,measure=on',"                       \
	" 'format=qcow2,vdev=xvdb,access=rw,verify=" HEX64 ",target=/e' ]\n"
#define HEX64 "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

static const char def_canonical[] =
	"{\"cmdline\":\"console=ttyS0 \\\"q\\\"\",\"disks\":["
	"{\"backend\":\"bulkhead-blk\",\"direct\":false,\"discard\":true,"
	"\"format\":\"raw\",\"measure\":true,\"readonly\":true,\"snapshot\":"
	"\"persistent\",\"target\":\"/d.img\",\"vdev\":\"xvda\",\"verify\":null,"
	"\"verity\":null},"
	"{\"backend\":\"bulkhead-blk\",\"direct\":false,\"discard\":true,"
	"\"format\":\"qcow2\",\"measure\":false,\"readonly\":false,\"snapshot\":"
	"\"persistent\",\"target\":\"/e\",\"vdev\":\"xvdb\",\"verify\":\"" HEX64
	"\",\"verity\":null}],"
	"\"form\":\"bulkhead-vm-config/2\",\"hmx\":true,\"hmx_rules\":["
	"\"accept myself -> host:5555\",\"reject any -> myself\"],"
	"\"kernel\":\"/k\",\"memory_mib\":256,\"name\":\"web\",\"ramdisk\":"
	"\"/cfg/i.img\",\"role\":\"guest\",\"serial\":\"pty\",\"serial_path\":"
	"null,\"vcpus\":1,\"vifs\":[],\"vsock\":false}";

static char *canonical_of(const char *text)
{
	struct vmcfg *cfg = parse_ok(text);
	char *out;
	size_t len;

	assert_int_equal(measure_config_canonical(cfg, &out, &len), 0);
	assert_int_equal(strlen(out), len);
	vmcfg_free(cfg);
	return out;
}

static void test_config_canonical(void **state)
{
	char *c;

	(void)state;
	c = canonical_of(DEF);
	assert_string_equal(c, def_canonical);
	free(c);
	/* Not what the VM is: autostart, the pins, comments, key order. */
	c = canonical_of("autostart = yes # boot with the host\n"
			 "measure_expect = [ 'kernel=sha256:" HEX64
			 "' ]\n" DEF);
	assert_string_equal(c, def_canonical);
	free(c);
	/* What it is. */
	c = canonical_of(DEF "vcpus = 2\n");
	assert_string_not_equal(c, def_canonical);
	assert_non_null(strstr(c, "\"vcpus\":2,"));
	free(c);
	/* Vifs as parsed: defaults null, however the spec was spelt. */
	c = canonical_of(
		DEF
		"vif = [ ' model=hmxnet ,untrusted',\n"
		"  'backend=lan,mac=02:AB:00:00:00:01,ip=10.0.0.2 10.0.0.1' ]\n");
	assert_non_null(strstr(
		c, "\"vifs\":[{\"backend\":null,\"ip\":[],\"mac\":null},"
		   "{\"backend\":\"lan\",\"ip\":[\"10.0.0.2\",\"10.0.0.1\"],"
		   "\"mac\":\"02:ab:00:00:00:01\"}],"));
	free(c);
	c = canonical_of(DEF "serial = 'file:/log'\nvsock = on\n");
	assert_non_null(
		strstr(c, "\"serial\":\"file\",\"serial_path\":\"/log\""));
	assert_non_null(strstr(c, "\"vsock\":true"));
	free(c);
	/* A bare definition: the defaults, written out. */
	c = canonical_of("name = 'a'\nmemory = 64\nkernel = '/k'\n");
	assert_string_equal(
		c,
		"{\"cmdline\":\"\",\"disks\":[],\"form\":\"bulkhead-vm-config/2\","
		"\"hmx\":true,\"hmx_rules\":[],\"kernel\":\"/k\",\"memory_mib\":64,"
		"\"name\":\"a\",\"ramdisk\":null,\"role\":\"guest\",\"serial\":"
		"\"pty\",\"serial_path\":null,\"vcpus\":1,\"vifs\":[],\"vsock\":"
		"false}");
	free(c);
}

static char *rules_of(uint16_t web, uint16_t db, uint16_t ndvm, size_t *n)
{
	static const char *const web_rules[] = {
		"myself -> host:5555", "reject type=ndvm -> myself:22",
		"myself -> name=db:*", "myself -> name=gone:1", NULL
	};
	static const char *const db_rules[] = { "myself -> name=web:80", NULL };
	struct test_vm w, d, nd;
	struct test_vm *all[] = { &w, &d, &nd };
	struct policy_set *set;
	char *out;
	size_t len;

	test_vm_init(&w, "web", web, VM_ROLE_GUEST, true, web_rules);
	test_vm_init(&d, "db", db, VM_ROLE_GUEST, true, db_rules);
	test_vm_init(&nd, "ndvm", ndvm, VM_ROLE_NDVM, true, NULL);
	set = test_compile(all, 3);
	assert_int_equal(measure_rules_canonical(set, "web", &out, &len, n), 0);
	policy_set_free(set);
	return out;
}

static void test_rules_canonical(void **state)
{
	static const char want[] =
		"[{\"action\":\"reject\",\"dst\":\"web\",\"dst_port\":22,"
		"\"src\":\"ndvm\",\"src_port\":\"*\"},"
		"{\"action\":\"accept\",\"dst\":\"host\",\"dst_port\":5555,"
		"\"src\":\"web\",\"src_port\":\"*\"},"
		"{\"action\":\"accept\",\"dst\":\"db\",\"dst_port\":\"*\","
		"\"src\":\"web\",\"src_port\":\"*\"}]";
	struct policy_set *empty;
	char *c;
	size_t n, len;

	(void)state;
	c = rules_of(5, 7, 9, &n);
	assert_string_equal(c, want);
	assert_int_equal(n, 3);
	free(c);
	/* Other domids, the same rules. */
	c = rules_of(12, 3, 4, &n);
	assert_string_equal(c, want);
	free(c);
	/* A VM with no rules of its own. */
	assert_int_equal(policy_compile(NULL, 0, &empty, NULL, 0), 0);
	assert_int_equal(measure_rules_canonical(empty, "web", &c, &len, &n),
			 0);
	assert_string_equal(c, "[]");
	assert_int_equal(n, 0);
	free(c);
	policy_set_free(empty);
}

static void expect_ok(const char *s, enum measure_what want_what)
{
	struct measure_expect_error err;
	enum measure_what what;
	uint8_t d[32];

	assert_int_equal(measure_expect_parse(s, strlen(s), &what, d, &err), 0);
	assert_int_equal(what, want_what);
}

static void expect_bad(const char *s, size_t offset, const char *want)
{
	struct measure_expect_error err;
	enum measure_what what;
	uint8_t d[32];

	assert_int_equal(measure_expect_parse(s, strlen(s), &what, d, &err),
			 -EINVAL);
	if (!strstr(err.msg, want))
		fail_msg("\"%s\": \"%s\" lacks \"%s\"", s, err.msg, want);
	assert_int_equal(err.offset, offset);
	for (const char *p = err.msg; *p; p++)
		assert_true(*p >= 0x20 && *p < 0x7f);
}

static void test_expect_parse(void **state)
{
	struct measure_expect_error err;
	enum measure_what what;
	uint8_t d[32];
	char big[MEASURE_EXPECT_ITEM_MAX + 2];

	(void)state;
	expect_ok("kernel=sha256:" HEX64, MEASURE_KERNEL);
	expect_ok("initrd=sha256:" HEX64, MEASURE_INITRD);
	expect_ok("cmdline=sha256:" HEX64, MEASURE_CMDLINE);
	expect_ok("config=sha256:" HEX64, MEASURE_CONFIG);
	expect_ok("rules=sha256:" HEX64, MEASURE_RULES);
	assert_int_equal(
		measure_expect_parse(
			"config=sha256:00112233445566778899AABBCCDDEEFF00112233445566778899aAbBcCdDeEfF",
			78, &what, d, &err),
		0);
	hex_is(d, HEX64);

	expect_bad("kernel", 6, "expected NAME=sha256:HEX");
	expect_bad("", 0, "expected NAME=sha256:HEX");
	expect_bad("kernal=sha256:" HEX64, 0, "unknown measurement \"kernal\"");
	expect_bad(" kernel=sha256:" HEX64, 0,
		   "unknown measurement \" kernel\"");
	expect_bad("=sha256:" HEX64, 0, "unknown measurement \"\"");
	expect_bad("disk=sha256:" HEX64, 0,
		   "verify=sha256:HEX in its disk spec");
	expect_bad("disk:xvda=sha256:" HEX64, 0, "verify=");
	expect_bad("ramdisk=sha256:" HEX64, 0, "initrd=sha256:HEX");
	expect_bad("kernel=" HEX64, 7, "expected sha256:");
	expect_bad("kernel=SHA256:" HEX64, 7, "expected sha256:");
	expect_bad("kernel=sha1:" HEX64, 7, "expected sha256:");
	expect_bad("kernel=sha256:", 14, "got 0 characters");
	expect_bad("kernel=sha256:" HEX64 "0", 14, "got 65 characters");
	expect_bad("kernel=sha256:0011", 14, "got 4 characters");
	expect_bad(
		"kernel=sha256:00112233445566778899aabbccddeeff00112233445566778899aabbccddeefg",
		14 + 63, "not a hexadecimal digit");
	expect_bad(
		"kernel=sha256:x0112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
		14, "not a hexadecimal digit");
	expect_bad("kernel=sha256: " HEX64 "", 14, "got 65 characters");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	expect_bad(big, MEASURE_EXPECT_ITEM_MAX, "longer than 256 bytes");
	/* No NUL needed: the length bounds the element. */
	assert_int_equal(measure_expect_parse("rules=sha256:" HEX64 "junk",
					      13 + 64, &what, d, &err),
			 0);
	assert_int_equal(what, MEASURE_RULES);
}

static void test_expect_in_definition(void **state)
{
	struct vmcfg *cfg;
	uint8_t want[32];

	(void)state;
	cfg = parse_with(
		"ramdisk = '/i'\nmeasure_expect = [ 'initrd=sha256:" HEX64
		"', 'rules=sha256:" HEX64 "' ]\n");
	assert_true(cfg->expect.set[MEASURE_INITRD]);
	assert_true(cfg->expect.set[MEASURE_RULES]);
	assert_false(cfg->expect.set[MEASURE_KERNEL]);
	assert_false(cfg->expect.set[MEASURE_CMDLINE]);
	assert_false(cfg->expect.set[MEASURE_CONFIG]);
	assert_int_equal(hex_decode(HEX64, want, 32), 32);
	assert_memory_equal(cfg->expect.sha256[MEASURE_RULES], want, 32);
	vmcfg_free(cfg);
	cfg = parse_with("measure_expect = []\n");
	for (unsigned int w = 0; w < MEASURE_PINNABLE; w++)
		assert_false(cfg->expect.set[w]);
	vmcfg_free(cfg);

	parse_with_fails("measure_expect = 'kernel=sha256:" HEX64 "'\n", 4, 18,
			 "measure_expect: expected a list of quoted pins");
	parse_with_fails("measure_expect = [ kernel ]\n", 4, 20,
			 "a quoted string as each list element");
	parse_with_fails(
		"measure_expect = [ 'kernel=sha256:" HEX64 "',\n"
		"  'cmdline=sha256:" HEX64 "', 'kernel=sha256:" HEX64 "' ]\n",
		5, 86,
		"measure_expect[2]: \"kernel=sha256:00112233445566778899aabbcc...\": kernel is pinned twice (first by measure_expect[0], line 4)");
	parse_with_fails(
		"measure_expect = [ 'kernel=sha256:00' ]\n", 4, 20,
		"measure_expect[0]: \"kernel=sha256:00\": kernel: a SHA-256 digest is 64 hex digits, got 2 characters (at character 15)");
	parse_with_fails("measure_expect = [ 'bios=sha256:" HEX64 "' ]\n", 4,
			 20, "unknown measurement \"bios\"");
	/* initrd pinned, none given: could never be met. */
	parse_with_fails("measure_expect = [ 'kernel=sha256:" HEX64
			 "', 'initrd=sha256:" HEX64 "' ]\n",
			 4, 102,
			 "initrd is pinned but the definition has no ramdisk");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode_layout),
		cmocka_unit_test(test_replay),
		cmocka_unit_test(test_decode_roundtrip),
		cmocka_unit_test(test_decode_refusals),
		cmocka_unit_test(test_add_refusals),
		cmocka_unit_test(test_canon_json),
		cmocka_unit_test(test_config_canonical),
		cmocka_unit_test(test_rules_canonical),
		cmocka_unit_test(test_expect_parse),
		cmocka_unit_test(test_expect_in_definition),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
