// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzzes measured launch's parsers and its writer. The first byte picks:
 *
 *   0 mod 3: the rest is one measure_expect element. A parse returns 0 or
 *            -EINVAL; an error is printable ASCII at an offset within the
 *            element; an accepted element is NAME=sha256:HEX of a
 *            pinnable NAME, and the digest written back in lower case
 *            parses to the same.
 *   1 mod 3: the rest is an event log file. measure_log_decode returns 0
 *            or -EINVAL with a printable message and nothing kept; a log
 *            it accepts has at most MEASURE_LOG_EVENTS_MAX events of known
 *            kinds with printable details, encodes to the very same
 *            bytes, and replays.
 *   2 mod 3: the rest is events to write, each a kind byte, 32 digest
 *            bytes, a length byte and that many detail bytes: each is
 *            added (or refused with -EINVAL), and the log written decodes
 *            to the same events.
 */
#include "fuzz_input.h"
#include "toolstack/measure_expect.h"
#include "toolstack/measure_log.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_printable(const char *s)
{
	check(s[0] != '\0');
	for (; *s; s++)
		check(*s >= 0x20 && *s < 0x7f);
}

static void check_detail(const char *s)
{
	check(strlen(s) <= MEASURE_DETAIL_MAX);
	for (; *s; s++)
		check((unsigned char)*s >= 0x20 && *s != 0x7f);
}

static void fuzz_expect(const uint8_t *p, size_t n)
{
	struct measure_expect_error err;
	uint8_t digest[MEASURE_SHA256_BYTES], again[MEASURE_SHA256_BYTES];
	static const char hex[] = "0123456789abcdef";
	enum measure_what what, what2;
	char canon[128];
	const char *name;
	int ret, len;

	ret = measure_expect_parse((const char *)p, n, &what, digest, &err);
	if (ret) {
		check(ret == -EINVAL);
		check(err.offset <= n);
		check_printable(err.msg);
		return;
	}
	check((unsigned int)what < MEASURE_PINNABLE);
	name = measure_what_name(what);
	len = snprintf(canon, sizeof(canon), "%s=sha256:", name);
	check(n == (size_t)len + 2 * MEASURE_SHA256_BYTES);
	check(!memcmp(p, canon, (size_t)len));
	for (size_t i = 0; i < MEASURE_SHA256_BYTES; i++) {
		canon[len + 2 * i] = hex[digest[i] >> 4];
		canon[len + 2 * i + 1] = hex[digest[i] & 15];
	}
	len += 2 * MEASURE_SHA256_BYTES;
	check(measure_expect_parse(canon, (size_t)len, &what2, again, &err) ==
	      0);
	check(what2 == what && !memcmp(again, digest, sizeof(digest)));
}

static void check_log(const struct measure_log *log)
{
	uint8_t pcr[MEASURE_SHA256_BYTES];

	check(log->nevents <= MEASURE_LOG_EVENTS_MAX);
	for (size_t i = 0; i < log->nevents; i++) {
		check(measure_what_name(log->events[i].what));
		check_detail(log->events[i].detail);
	}
	check(measure_log_replay(log, pcr) == 0);
}

static void fuzz_decode(const uint8_t *p, size_t n)
{
	struct measure_log log;
	uint8_t *bytes;
	size_t len;
	char err[200];
	int ret;

	ret = measure_log_decode(p, n, &log, err, sizeof(err));
	if (ret) {
		check(ret == -EINVAL);
		check(!log.events && !log.nevents);
		check_printable(err);
		return;
	}
	check_log(&log);
	check(measure_log_encode(&log, &bytes, &len) == 0);
	check(len == n && !memcmp(bytes, p, n));
	free(bytes);
	measure_log_release(&log);
}

static void fuzz_encode(struct rd *in)
{
	struct measure_log log = { 0 }, again;
	uint8_t *bytes;
	size_t len;
	char err[200];

	while (in->n) {
		uint8_t digest[MEASURE_SHA256_BYTES];
		char detail[256];
		const uint8_t *d;
		uint8_t what = u8(in);
		size_t dl, before = log.nevents;
		int ret;

		for (size_t i = 0; i < sizeof(digest); i++)
			digest[i] = u8(in);
		dl = take(in, u8(in), &d);
		memcpy(detail, d, dl);
		detail[dl] = '\0';
		ret = measure_log_add(&log, (enum measure_what)what, digest,
				      detail);
		check(ret == 0 || ret == -EINVAL);
		check(log.nevents == before + (ret == 0));
	}
	check_log(&log);
	check(measure_log_encode(&log, &bytes, &len) == 0);
	check(measure_log_decode(bytes, len, &again, err, sizeof(err)) == 0);
	check(again.nevents == log.nevents);
	for (size_t i = 0; i < log.nevents; i++) {
		check(again.events[i].what == log.events[i].what);
		check(!memcmp(again.events[i].sha256, log.events[i].sha256,
			      MEASURE_SHA256_BYTES));
		check(!strcmp(again.events[i].detail, log.events[i].detail));
	}
	free(bytes);
	measure_log_release(&log);
	measure_log_release(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rd in = { data, size };

	switch (u8(&in) % 3) {
	case 0:
		fuzz_expect(in.p, in.n);
		break;
	case 1:
		fuzz_decode(in.p, in.n);
		break;
	default:
		fuzz_encode(&in);
		break;
	}
	return 0;
}
