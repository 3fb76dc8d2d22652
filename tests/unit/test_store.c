// SPDX-License-Identifier: GPL-2.0-only
/* The config store (src/store): round trips, key slots, every kind of
 * corruption, rollback, names and limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store/anchor_file.h"
#include "store/format.h"
#include "store/store.h"
#include "store_testlib.h"

struct fx {
	char *dir;
	struct mem_anchor m;
	struct store_anchor anchor;
	struct test_sealer ts;
	struct store_sealer sealer;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	f->dir = scratch_dir();
	mem_anchor_init(&f->m, &f->anchor);
	test_sealer_init(&f->ts, &f->sealer);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	rm_rf(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

/* A store with both slots and two records, committed and closed. */
static void provision(struct fx *f)
{
	struct store_create_opts co = { "correct horse", test_kdf, &f->sealer,
					&f->anchor };
	struct store_err e = { 0 };
	struct store *s;

	assert_int_equal(store_create(f->dir, &co, &s, &e), 0);
	assert_int_equal(store_put(s, "vm/web", "kernel = a\n", 11, &e), 0);
	assert_int_equal(
		store_put(s, "diskkey/web/xvda", "\x01\x02\x03", 3, &e), 0);
	assert_int_equal(store_commit(s, &e), 0);
	store_close(s);
}

static int open_pass(struct fx *f, const char *pass, struct store **s,
		     struct store_err *e)
{
	struct store_open_opts oo = { .passphrase = pass,
				      .anchor = &f->anchor };

	return store_open(f->dir, &oo, s, e);
}

static int open_sealed(struct fx *f, struct store **s, struct store_err *e)
{
	struct store_open_opts oo = { .sealer = &f->sealer,
				      .anchor = &f->anchor };

	return store_open(f->dir, &oo, s, e);
}

static void assert_records(struct store *s)
{
	const uint8_t *v;
	size_t len;

	assert_int_equal(store_count(s), 2);
	assert_int_equal(store_get(s, "vm/web", &v, &len, NULL), 0);
	assert_int_equal(len, 11);
	assert_memory_equal(v, "kernel = a\n", 11);
	assert_int_equal(store_get(s, "diskkey/web/xvda", &v, &len, NULL), 0);
	assert_int_equal(len, 3);
	assert_memory_equal(v, "\x01\x02\x03", 3);
}

static void test_round_trip(void **state)
{
	struct fx *f = *state;
	struct store_err e = { 0 };
	struct store *s;

	provision(f);
	assert_int_equal(f->m.value, 2); /* create, then one commit */
	assert_int_equal(open_pass(f, "correct horse", &s, &e), 0);
	assert_records(s);
	assert_int_equal(store_generation(s), 2);
	store_close(s);
	assert_int_equal(open_sealed(f, &s, &e), 0);
	assert_records(s);
	assert_int_equal(store_delete(s, "vm/web", &e), 0);
	assert_int_equal(store_delete(s, "vm/web", &e), -STORE_E_NOENT);
	assert_int_equal(store_commit(s, &e), 0);
	store_close(s);
	assert_int_equal(open_sealed(f, &s, &e), 0);
	assert_int_equal(store_count(s), 1);
	assert_int_equal(store_generation(s), 3);
	store_close(s);
}

static void collect(void *ctx, const char *name)
{
	char *out = ctx;

	strcat(out, name);
	strcat(out, ";");
}

static void test_list_prefix(void **state)
{
	struct fx *f = *state;
	char got[256] = "";
	struct store *s;

	provision(f);
	assert_int_equal(open_sealed(f, &s, NULL), 0);
	assert_int_equal(store_put(s, "vm/db", "x", 1, NULL), 0);
	store_list(s, "vm/", collect, got);
	assert_string_equal(got, "vm/db;vm/web;");
	got[0] = 0;
	store_list(s, "", collect, got);
	assert_string_equal(got, "diskkey/web/xvda;vm/db;vm/web;");
	store_close(s);
}

static void test_wrong_passphrase(void **state)
{
	struct fx *f = *state;
	struct store_err e = { 0 };
	struct store *s = NULL;

	provision(f);
	assert_int_equal(open_pass(f, "wrong horse", &s, &e),
			 -STORE_E_PASSPHRASE);
	assert_null(s);
	assert_non_null(strstr(e.msg, "wrong passphrase"));
}

static void test_unseal_refused(void **state)
{
	struct fx *f = *state;
	struct store_err e = { 0 };
	struct store *s;

	provision(f);
	f->ts.fail = true;
	assert_int_equal(open_sealed(f, &s, &e), -STORE_E_UNSEAL);
	assert_non_null(strstr(e.msg, "PCR 11 changed"));
	/* A sealer that yields another key is not mistaken for the right one. */
	f->ts.fail = false;
	f->ts.pad[0] ^= 1;
	assert_int_equal(open_sealed(f, &s, &e), -STORE_E_UNSEAL);
	/* Recovery, then resealing to the "new state". */
	assert_int_equal(open_pass(f, "correct horse", &s, &e), 0);
	assert_int_equal(store_reseal(s, &f->sealer, &e), 0);
	store_close(s);
	assert_int_equal(open_sealed(f, &s, &e), 0);
	assert_records(s);
	store_close(s);
}

static void test_rekey_passphrase(void **state)
{
	struct fx *f = *state;
	struct store_err e = { 0 };
	struct store *s;

	provision(f);
	assert_int_equal(open_sealed(f, &s, &e), 0);
	assert_int_equal(store_rekey_passphrase(s, "new pass", &test_kdf, &e),
			 0);
	store_close(s);
	assert_int_equal(open_pass(f, "correct horse", &s, &e),
			 -STORE_E_PASSPHRASE);
	assert_int_equal(open_pass(f, "new pass", &s, &e), 0);
	assert_records(s);
	store_close(s);
}

static void test_passphrase_only(void **state)
{
	struct fx *f = *state;
	struct store_create_opts co = { "pw", test_kdf, NULL, &f->anchor };
	struct store_err e = { 0 };
	struct store *s;

	assert_int_equal(store_create(f->dir, &co, &s, &e), 0);
	store_close(s);
	assert_int_equal(open_sealed(f, &s, &e), -STORE_E_NOSLOT);
	assert_non_null(strstr(e.msg, "recovery passphrase"));
	assert_int_equal(open_pass(f, "pw", &s, &e), 0);
	store_close(s);
	/* No second store over the first. */
	assert_int_equal(store_create(f->dir, &co, &s, &e), -STORE_E_EXISTS);
}

static void test_create_refusals(void **state)
{
	struct fx *f = *state;
	struct store_create_opts co = { NULL, test_kdf, NULL, &f->anchor };
	struct store_kdf_params weak = { 1, 8, 1 };
	struct store_err e = { 0 };
	struct store *s = NULL;

	assert_int_equal(store_create(f->dir, &co, &s, &e), -STORE_E_INVAL);
	co.passphrase = "pw";
	co.anchor = NULL;
	assert_int_equal(store_create(f->dir, &co, &s, &e), -STORE_E_INVAL);
	assert_non_null(strstr(e.msg, "anchor"));
	co.anchor = &f->anchor;
	co.kdf = weak;
	assert_int_equal(store_create(f->dir, &co, &s, &e), -STORE_E_INVAL);
	assert_non_null(strstr(e.msg, "memory"));
	co.kdf = test_kdf;
	co.passphrase = "";
	assert_int_equal(store_create(f->dir, &co, &s, &e), -STORE_E_INVAL);
	co.passphrase = NULL;
	co.sealer = &f->sealer;
	f->ts.fail = true;
	assert_int_equal(store_create(f->dir, &co, &s, &e), -STORE_E_UNSEAL);
	assert_null(s);
	/* None of the refusals left a store behind. */
	f->ts.fail = false;
	assert_int_equal(store_create(f->dir, &co, &s, &e), 0);
	store_close(s);
}

static void test_truncated(void **state)
{
	struct fx *f = *state;
	struct store_err e;
	struct store *s = NULL;
	size_t len;
	uint8_t *orig;

	provision(f);
	orig = read_store(f->dir, &len);
	for (size_t n = 0; n < len; n++) {
		write_store(f->dir, orig, n);
		e.code = STORE_OK;
		assert_int_not_equal(open_pass(f, "correct horse", &s, &e), 0);
		assert_null(s);
		if (e.code != STORE_E_TRUNCATED && e.code != STORE_E_CORRUPT)
			fail_msg("length %zu: %s", n, e.msg);
	}
	/* The cut that drops only the last record's tail says truncated. */
	write_store(f->dir, orig, len - 1);
	open_pass(f, "correct horse", &s, &e);
	assert_int_equal(e.code, STORE_E_TRUNCATED);
	assert_non_null(strstr(e.msg, "truncated"));
	/* And one stray byte appended is refused too. */
	orig = realloc(orig, len + 1);
	orig[len] = 0;
	write_store(f->dir, orig, len + 1);
	assert_int_equal(open_pass(f, "correct horse", &s, &e),
			 -STORE_E_CORRUPT);
	free(orig);
}

static void test_bit_flips(void **state)
{
	struct fx *f = *state;
	struct store_err e;
	struct store *s = NULL;
	size_t len;
	uint8_t *orig, *buf;

	provision(f);
	orig = read_store(f->dir, &len);
	buf = malloc(len);
	for (size_t i = 0; i < len; i++) {
		for (int bit = 0; bit < 8; bit += 3) {
			memcpy(buf, orig, len);
			buf[i] ^= (uint8_t)(1u << bit);
			write_store(f->dir, buf, len);
			if (open_pass(f, "correct horse", &s, &e) == 0)
				fail_msg("flip of byte %zu bit %d accepted", i,
					 bit);
			assert_null(s);
			/* The sealed path must refuse it as well. */
			assert_int_not_equal(open_sealed(f, &s, &e), 0);
		}
	}
	/* The unflipped file still opens: the loop tested flips, not luck. */
	write_store(f->dir, orig, len);
	assert_int_equal(open_pass(f, "correct horse", &s, &e), 0);
	store_close(s);
	free(buf);
	free(orig);
}

static void test_wrong_store_id(void **state)
{
	struct fx *f = *state;
	struct store_err e = { 0 };
	uint8_t id[STORE_ID_LEN], other[STORE_ID_LEN];
	struct store_open_opts oo = { .sealer = &f->sealer,
				      .anchor = &f->anchor,
				      .expect_id = id };
	struct store *s;
	size_t len;
	uint8_t *buf;

	provision(f);
	assert_int_equal(open_sealed(f, &s, &e), 0);
	store_get_id(s, id);
	store_close(s);
	assert_int_equal(store_open(f->dir, &oo, &s, &e), 0);
	store_close(s);
	memcpy(other, id, sizeof(id));
	other[3] ^= 0xff;
	oo.expect_id = other;
	assert_int_equal(store_open(f->dir, &oo, &s, &e), -STORE_E_WRONG_ID);
	assert_non_null(strstr(e.msg, "wrong store id"));
	/* Editing the id in the file (to pass the check) fails the tag. */
	buf = read_store(f->dir, &len);
	memcpy(buf + 16, other, STORE_ID_LEN);
	write_store(f->dir, buf, len);
	assert_int_not_equal(store_open(f->dir, &oo, &s, &e), 0);
	free(buf);
}

static void test_rollback(void **state)
{
	struct fx *f = *state;
	struct store_err e = { 0 };
	struct store *s;
	size_t len;
	uint8_t *old;

	provision(f);
	old = read_store(f->dir, &len);
	assert_int_equal(open_sealed(f, &s, &e), 0);
	assert_int_equal(store_delete(s, "diskkey/web/xvda", &e), 0);
	assert_int_equal(store_commit(s, &e), 0);
	store_close(s);
	write_store(f->dir, old, len);
	assert_int_equal(open_sealed(f, &s, &e), -STORE_E_ROLLBACK);
	assert_non_null(strstr(e.msg, "generation 2"));
	assert_non_null(strstr(e.msg, "at least 3"));
	/* An anchor left behind by a crash is raised, not a refusal. */
	f->m.value = 1;
	assert_int_equal(open_sealed(f, &s, &e), 0);
	assert_int_equal(f->m.value, 2);
	store_close(s);
	free(old);
}

static void test_anchor_failure(void **state)
{
	struct fx *f = *state;
	struct store_err e = { 0 };
	struct store *s;

	provision(f);
	assert_int_equal(open_sealed(f, &s, &e), 0);
	f->m.fail = true;
	assert_int_equal(store_commit(s, &e), -STORE_E_ANCHOR);
	store_close(s);
	assert_int_equal(open_sealed(f, &s, &e), -STORE_E_ANCHOR);
}

static void test_anchor_file(void **state)
{
	struct fx *f = *state;
	struct store_create_opts co = { "pw", test_kdf, NULL, NULL };
	struct store_open_opts oo = { .passphrase = "pw" };
	struct anchor_file af;
	struct store_anchor a;
	char path[4096], sdir[4096];
	struct store *s;
	size_t len;
	uint8_t *old;
	uint64_t v;

	snprintf(path, sizeof(path), "%s/anchor", f->dir);
	snprintf(sdir, sizeof(sdir), "%s/store.d", f->dir);
	assert_int_equal(anchor_file_init(&af, path, &a), 0);
	assert_int_equal(a.read(a.ctx, &v), 0);
	assert_int_equal(v, 0);
	co.anchor = oo.anchor = &a;
	assert_int_equal(store_create(sdir, &co, &s, NULL), 0);
	old = read_store(sdir, &len);
	assert_int_equal(store_commit(s, NULL), 0);
	store_close(s);
	assert_int_equal(a.read(a.ctx, &v), 0);
	assert_int_equal(v, 2);
	assert_int_equal(a.advance(a.ctx, 1), 0); /* never lowered */
	assert_int_equal(a.read(a.ctx, &v), 0);
	assert_int_equal(v, 2);
	write_store(sdir, old, len);
	assert_int_equal(store_open(sdir, &oo, &s, NULL), -STORE_E_ROLLBACK);
	free(old);
}

static void test_names(void **state)
{
	struct fx *f = *state;
	static const char *const bad[] = {
		"",   "/vm",	"vm/",	       "vm//a",	 "vm/./a",  "vm/../a",
		"..", "vm/a b", "vm/\xc3\xa9", "vm/a\n", "vm/a\\b",
	};
	static const char *const good[] = {
		"vm/web",
		"diskkey/web/xvda",
		"policy/net.policy",
		"audit/tail",
		"a",
		"vm/web-1_2.3:x@y+z",
	};
	char longname[STORE_NAME_MAX + 2];
	struct store_err e;
	struct store *s;

	provision(f);
	assert_int_equal(open_sealed(f, &s, NULL), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (store_put(s, bad[i], "x", 1, &e) != -STORE_E_NAME)
			fail_msg("name \"%s\" accepted", bad[i]);
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_int_equal(store_put(s, good[i], "x", 1, &e), 0);
	memset(longname, 'a', sizeof(longname));
	longname[STORE_NAME_MAX] = 0;
	assert_int_equal(store_put(s, longname, "x", 1, &e), 0);
	longname[STORE_NAME_MAX] = 'a';
	longname[STORE_NAME_MAX + 1] = 0;
	assert_int_equal(store_put(s, longname, "x", 1, &e), -STORE_E_NAME);
	assert_int_equal(store_commit(s, &e), 0);
	store_close(s);
	assert_int_equal(open_sealed(f, &s, NULL), 0);
	/* Two of the good names replace provisioned records. */
	assert_int_equal(store_count(s), 2 + 4 + 1);
	store_close(s);
}

static void test_limits(void **state)
{
	struct fx *f = *state;
	struct store_err e;
	struct store *s;
	uint8_t *big = calloc(1, STORE_VALUE_MAX + 1);
	char name[32];
	const uint8_t *v;
	size_t len;

	provision(f);
	assert_int_equal(open_sealed(f, &s, NULL), 0);
	assert_int_equal(store_put(s, "vm/big", big, STORE_VALUE_MAX + 1, &e),
			 -STORE_E_LIMIT);
	assert_int_equal(store_put(s, "vm/big", big, STORE_VALUE_MAX, &e), 0);
	assert_int_equal(store_put(s, "vm/empty", "", 0, &e), 0);
	for (int i = (int)store_count(s); i < STORE_RECORDS_MAX; i++) {
		snprintf(name, sizeof(name), "r/%05d", i);
		assert_int_equal(store_put(s, name, "y", 1, &e), 0);
	}
	assert_int_equal(store_put(s, "r/one-too-many", "y", 1, &e),
			 -STORE_E_LIMIT);
	/* Replacing an existing record is no new record. */
	assert_int_equal(store_put(s, "vm/web", "z", 1, &e), 0);
	assert_int_equal(store_commit(s, &e), 0);
	store_close(s);
	assert_int_equal(open_sealed(f, &s, &e), 0);
	assert_int_equal(store_count(s), STORE_RECORDS_MAX);
	assert_int_equal(store_get(s, "vm/big", &v, &len, &e), 0);
	assert_int_equal(len, STORE_VALUE_MAX);
	assert_int_equal(store_get(s, "vm/empty", &v, &len, &e), 0);
	assert_int_equal(len, 0);
	store_close(s);
	free(big);
}

static void test_busy(void **state)
{
	struct fx *f = *state;
	struct store_err e;
	struct store *s, *t;

	provision(f);
	assert_int_equal(open_sealed(f, &s, NULL), 0);
	assert_int_equal(open_sealed(f, &t, &e), -STORE_E_BUSY);
	store_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_round_trip),	  T(test_list_prefix),
		T(test_wrong_passphrase), T(test_unseal_refused),
		T(test_rekey_passphrase), T(test_passphrase_only),
		T(test_create_refusals),  T(test_truncated),
		T(test_bit_flips),	  T(test_wrong_store_id),
		T(test_rollback),	  T(test_anchor_failure),
		T(test_anchor_file),	  T(test_names),
		T(test_limits),		  T(test_busy),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
