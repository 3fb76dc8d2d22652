// SPDX-License-Identifier: GPL-2.0-only
/*
 * The host's measurements (src/toolstack/host_measure.c): what is
 * measured, in which order, how a missing program is recorded, the log's
 * PCR, and which component host_measure_compare() names.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "toolstack/host_measure.h"

static char dir[64];

static void put(const char *name, const char *text)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void path_of(const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", dir, name);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/bh-host-measure-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	put("bulkheadd", "daemon");
	put("bulkhead-hv", "hv");
	put("bulkhead-blk", "blk");
	put("b.svcpolicy", "b");
	put("a.svcpolicy", "a");
	put(".hidden.svcpolicy", "h");
	put("web.cfg", "not policy");
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

/* Collects the host of dir, with net at net (a name in dir). */
static void collect(struct measure_log *log, const char *net)
{
	char d[128], hv[128], blk[128], n[128], err[256];
	struct host_measure_input in = {
		.daemon = d,
		.hv = hv,
		.blk = blk,
		.net = n,
		.config = "{\"form\":1}",
		.config_len = 10,
		.config_name = "bulkheadd settings",
		.policy_dir = dir,
	};

	path_of("bulkheadd", d, sizeof(d));
	path_of("bulkhead-hv", hv, sizeof(hv));
	path_of("bulkhead-blk", blk, sizeof(blk));
	path_of(net, n, sizeof(n));
	*log = (struct measure_log){ 0 };
	assert_int_equal(host_measure_collect(&in, log, err, sizeof(err)), 0);
}

static void sha(const char *s, uint8_t out[32])
{
	assert_int_equal(measure_sha256(s, strlen(s), out), 0);
}

static void test_collect(void **state)
{
	static const enum measure_what want[] = {
		MEASURE_HOST_DAEMON, MEASURE_HOST_HV,	  MEASURE_HOST_BLK,
		MEASURE_HOST_NET,    MEASURE_HOST_CONFIG, MEASURE_HOST_POLICY,
		MEASURE_HOST_POLICY,
	};
	struct measure_log log, back;
	uint8_t d[32], *bytes;
	char p[128], err[200];
	size_t len;

	(void)state;
	collect(&log, "bulkhead-net");
	assert_int_equal(log.nevents, 7);
	for (size_t i = 0; i < 7; i++)
		assert_int_equal(log.events[i].what, want[i]);
	sha("hv", d);
	assert_memory_equal(log.events[1].sha256, d, 32);
	/* The missing program: named, hashed as nothing. */
	path_of("bulkhead-net", p, sizeof(p));
	strcat(p, " (missing)");
	assert_string_equal(log.events[3].detail, p);
	sha("", d);
	assert_memory_equal(log.events[3].sha256, d, 32);
	sha("{\"form\":1}", d);
	assert_memory_equal(log.events[4].sha256, d, 32);
	assert_string_equal(log.events[4].detail, "bulkheadd settings");
	/* Policy files in lexical order, hidden and other files left out. */
	path_of("a.svcpolicy", p, sizeof(p));
	assert_string_equal(log.events[5].detail, p);
	path_of("b.svcpolicy", p, sizeof(p));
	assert_string_equal(log.events[6].detail, p);
	sha("b", d);
	assert_memory_equal(log.events[6].sha256, d, 32);
	/* The same TCG log, every event naming the host's PCR. */
	assert_int_equal(measure_log_encode(&log, &bytes, &len), 0);
	for (size_t at = 65, i = 0; i < log.nevents; i++) {
		assert_int_equal(bytes[at], MEASURE_HOST_PCR);
		at += 50 + (bytes[at + 46] | bytes[at + 47] << 8);
	}
	assert_int_equal(
		measure_log_decode(bytes, len, &back, err, sizeof(err)), 0);
	assert_int_equal(back.nevents, 7);
	free(bytes);
	measure_log_release(&back);
	measure_log_release(&log);
}

static void test_compare(void **state)
{
	struct measure_log rec, cur;
	char msg[400], p[128];

	(void)state;
	collect(&rec, "bulkhead-blk");
	collect(&cur, "bulkhead-blk");
	assert_int_equal(host_measure_compare(&rec, &cur, msg, sizeof(msg)), 0);
	measure_log_release(&cur);

	/* A changed byte in the hypervisor: named, with both digests. */
	put("bulkhead-hv", "hV");
	collect(&cur, "bulkhead-blk");
	assert_int_equal(host_measure_compare(&rec, &cur, msg, sizeof(msg)), 1);
	path_of("bulkhead-hv", p, sizeof(p));
	assert_non_null(strstr(msg, "bulkhead-hv "));
	assert_non_null(strstr(msg, p));
	assert_non_null(strstr(msg, " changed: recorded sha256:"));
	assert_non_null(strstr(msg, ", now sha256:"));
	measure_log_release(&cur);
	put("bulkhead-hv", "hv");

	/* A new policy file between two recorded ones. */
	put("aa.svcpolicy", "new");
	collect(&cur, "bulkhead-blk");
	assert_int_equal(host_measure_compare(&rec, &cur, msg, sizeof(msg)), 1);
	path_of("aa.svcpolicy", p, sizeof(p));
	assert_non_null(strstr(msg, p));
	assert_non_null(strstr(msg, "is new"));
	measure_log_release(&cur);

	/* A recorded policy file removed (and the new one kept). */
	path_of("a.svcpolicy", p, sizeof(p));
	unlink(p);
	collect(&cur, "bulkhead-blk");
	assert_int_equal(host_measure_compare(&rec, &cur, msg, sizeof(msg)), 1);
	assert_non_null(strstr(msg, "a.svcpolicy is gone"));
	measure_log_release(&cur);
	path_of("aa.svcpolicy", p, sizeof(p));
	unlink(p);

	/* The last one gone: at the end. */
	put("a.svcpolicy", "a");
	path_of("b.svcpolicy", p, sizeof(p));
	unlink(p);
	collect(&cur, "bulkhead-blk");
	assert_int_equal(host_measure_compare(&rec, &cur, msg, sizeof(msg)), 1);
	assert_non_null(strstr(msg, "b.svcpolicy is gone"));
	/* And the other way round: new at the end. */
	assert_int_equal(host_measure_compare(&cur, &rec, msg, sizeof(msg)), 1);
	assert_non_null(strstr(msg, "is new"));
	measure_log_release(&cur);
	measure_log_release(&rec);
	put("a.svcpolicy", "a");
	put("b.svcpolicy", "b");
}

static void test_refusals(void **state)
{
	struct measure_log log = { 0 };
	struct host_measure_input in = {
		.daemon = dir, /* a directory, not a program */
		.hv = dir,
		.blk = dir,
		.net = dir,
		.config = "",
		.config_name = "",
		.policy_dir = dir,
	};
	char err[256];

	(void)state;
	assert_int_equal(host_measure_collect(&in, &log, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "is not a regular file"));
	measure_log_release(&log);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_collect),
		cmocka_unit_test(test_compare),
		cmocka_unit_test(test_refusals),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
