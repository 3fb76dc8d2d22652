// SPDX-License-Identifier: GPL-2.0-only
/*
 * Strict number and size parsing (util/parse.c), hex (util/hex.c) and the
 * allocation-free sort (util/heapsort.c).
 */
#include "util/heapsort.h"
#include "util/hex.h"
#include "util/parse.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void expect_u64(const char *s, int ret, uint64_t v)
{
	uint64_t out = 0xdeadbeef;

	if (bh_parse_u64(s, &out) != ret)
		fail_msg("bh_parse_u64(\"%s\") did not return %d", s, ret);
	if (!ret && out != v)
		fail_msg("bh_parse_u64(\"%s\") = %llu, not %llu", s,
			 (unsigned long long)out, (unsigned long long)v);
}

static void expect_size(const char *s, unsigned int shift, int ret, uint64_t v)
{
	uint64_t out = 0xdeadbeef;

	if (bh_parse_size(s, shift, &out) != ret)
		fail_msg("bh_parse_size(\"%s\", %u) did not return %d", s,
			 shift, ret);
	if (!ret && out != v)
		fail_msg("bh_parse_size(\"%s\", %u) = %llu, not %llu", s, shift,
			 (unsigned long long)out, (unsigned long long)v);
}

static void test_u64(void **state)
{
	(void)state;
	expect_u64("0", 0, 0);
	expect_u64("42", 0, 42);
	expect_u64("007", 0, 7);
	expect_u64("18446744073709551615", 0, UINT64_MAX);
	expect_u64("0x0", 0, 0);
	expect_u64("0X1f", 0, 31);
	expect_u64("0xDeadBeef", 0, 0xdeadbeef);
	expect_u64("0xffffffffffffffff", 0, UINT64_MAX);
	expect_u64("0x00000000000000000000000001", 0, 1);
}

static void test_u64_refusals(void **state)
{
	uint64_t out;

	(void)state;
	expect_u64("18446744073709551616", -ERANGE, 0);
	expect_u64("99999999999999999999999", -ERANGE, 0);
	expect_u64("0x10000000000000000", -ERANGE, 0);
	expect_u64("", -EINVAL, 0);
	expect_u64("0x", -EINVAL, 0);
	expect_u64("x1", -EINVAL, 0);
	expect_u64("-1", -EINVAL, 0);
	expect_u64("+1", -EINVAL, 0);
	expect_u64(" 1", -EINVAL, 0);
	expect_u64("1 ", -EINVAL, 0);
	expect_u64("12a", -EINVAL, 0);
	expect_u64("a", -EINVAL, 0);
	expect_u64("0xg", -EINVAL, 0);
	expect_u64("0x1g", -EINVAL, 0);
	expect_u64("1K", -EINVAL, 0);
	expect_u64("1.5", -EINVAL, 0);
	assert_int_equal(bh_parse_u64(NULL, &out), -EINVAL);
}

static void test_size(void **state)
{
	(void)state;
	expect_size("256", 20, 0, 256ull << 20);
	expect_size("256", 0, 0, 256);
	expect_size("4k", 0, 0, 4096);
	expect_size("4K", 20, 0, 4096); /* a suffix overrides the default */
	expect_size("256M", 0, 0, 256ull << 20);
	expect_size("256MiB", 0, 0, 256ull << 20);
	expect_size("256mib", 0, 0, 256ull << 20);
	expect_size("256MB", 0, 0, 256ull << 20);
	expect_size("1G", 0, 0, 1ull << 30);
	expect_size("1gb", 0, 0, 1ull << 30);
	expect_size("2T", 0, 0, 2ull << 40);
	expect_size("0x10M", 0, 0, 16ull << 20);
	expect_size("0", 20, 0, 0);
	/* The largest representable values at each scale. */
	expect_size("17179869183G", 0, 0, 17179869183ull << 30);
	expect_size("17592186044415", 20, 0, 17592186044415ull << 20);
	expect_size("16777215T", 0, 0, 16777215ull << 40);
}

static void test_size_refusals(void **state)
{
	uint64_t out;

	(void)state;
	expect_size("17179869184G", 0, -ERANGE, 0);
	expect_size("17592186044416", 20, -ERANGE, 0);
	expect_size("16777216T", 0, -ERANGE, 0);
	expect_size("18446744073709551616", 0, -ERANGE, 0);
	expect_size("", 20, -EINVAL, 0);
	expect_size("M", 20, -EINVAL, 0);
	expect_size("1P", 0, -EINVAL, 0);
	expect_size("1E", 0, -EINVAL, 0);
	expect_size("1MM", 0, -EINVAL, 0);
	expect_size("1Mi", 0, -EINVAL, 0);
	expect_size("1MiBs", 0, -EINVAL, 0);
	expect_size("1 M", 0, -EINVAL, 0);
	expect_size("-1M", 0, -EINVAL, 0);
	expect_size("1.5G", 0, -EINVAL, 0);
	assert_int_equal(bh_parse_size(NULL, 0, &out), -EINVAL);
}

static void test_hex_encode(void **state)
{
	static const uint8_t in[] = { 0x00, 0x01, 0x7f, 0x80, 0xab, 0xff };
	char out[2 * sizeof(in) + 1];

	(void)state;
	memset(out, 'z', sizeof(out));
	hex_encode(in, sizeof(in), out);
	assert_string_equal(out, "00017f80abff");
	hex_encode(in, 0, out);
	assert_string_equal(out, "");
}

static void test_hex_decode(void **state)
{
	uint8_t out[8];

	(void)state;
	memset(out, 0xee, sizeof(out));
	assert_int_equal(hex_decode("00017F80abFF", out, 6), 6);
	assert_memory_equal(out, "\x00\x01\x7f\x80\xab\xff", 6);
	assert_int_equal(out[6], 0xee); /* nothing written past the count */
	assert_int_equal(hex_decode("", out, 0), 0);
	/* Odd length, non-hex, too long for the buffer. */
	assert_int_equal(hex_decode("abc", out, 8), -1);
	assert_int_equal(hex_decode("0g", out, 8), -1);
	assert_int_equal(hex_decode("g0", out, 8), -1);
	assert_int_equal(hex_decode(" 0", out, 8), -1);
	assert_int_equal(hex_decode("0x01", out, 8), -1);
	assert_int_equal(hex_decode("000102", out, 2), -1);
	assert_int_equal(hex_decode("0001", out, 2), 2);
}

static void test_hex_round_trip(void **state)
{
	uint8_t in[256], back[256];
	char text[513];

	(void)state;
	for (int i = 0; i < 256; i++)
		in[i] = (uint8_t)i;
	hex_encode(in, sizeof(in), text);
	assert_int_equal(strlen(text), 512);
	assert_int_equal(hex_decode(text, back, sizeof(back)), 256);
	assert_memory_equal(in, back, 256);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

struct wide {
	uint32_t key;
	uint8_t payload[92]; /* more than the swap's buffer: swapped in parts */
};

static int cmp_wide(const void *a, const void *b)
{
	const struct wide *x = a, *y = b;

	return x->key < y->key ? -1 : x->key > y->key;
}

/* Against qsort on sizes around every heap shape, duplicates included. */
static void test_heapsort(void **state)
{
	static uint64_t got[1100], want[1100];
	static struct wide w[300];
	uint64_t seed = 0x9e3779b97f4a7c15ull;

	(void)state;
	for (size_t n = 0; n <= 1100; n += n < 40 ? 1 : 97) {
		for (size_t i = 0; i < n; i++) {
			seed = seed * 6364136223846793005ull + 1;
			/* A small range gives many equal keys. */
			got[i] = want[i] = (seed >> 33) % (n / 2 + 1);
		}
		bh_heapsort(got, n, sizeof(*got), cmp_u64);
		qsort(want, n, sizeof(*want), cmp_u64);
		assert_memory_equal(got, want, n * sizeof(*got));
	}
	for (size_t i = 0; i < 300; i++) {
		w[i].key = (uint32_t)((i * 7919) % 301);
		memset(w[i].payload, (int)(w[i].key & 0xff),
		       sizeof(w[i].payload));
	}
	bh_heapsort(w, 300, sizeof(*w), cmp_wide);
	for (size_t i = 0; i < 300; i++) {
		if (i)
			assert_true(w[i - 1].key <= w[i].key);
		for (size_t k = 0; k < sizeof(w[i].payload); k++)
			assert_int_equal(w[i].payload[k], w[i].key & 0xff);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_u64),
		cmocka_unit_test(test_u64_refusals),
		cmocka_unit_test(test_size),
		cmocka_unit_test(test_size_refusals),
		cmocka_unit_test(test_hex_encode),
		cmocka_unit_test(test_hex_decode),
		cmocka_unit_test(test_hex_round_trip),
		cmocka_unit_test(test_heapsort),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
