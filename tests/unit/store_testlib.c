// SPDX-License-Identifier: GPL-2.0-only
#include "store_testlib.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

const struct store_kdf_params test_kdf = { 1, 64, 1 };

static int mem_read(void *ctx, uint64_t *v)
{
	struct mem_anchor *m = ctx;

	if (m->fail)
		return -EIO;
	*v = m->value;
	return 0;
}

static int mem_advance(void *ctx, uint64_t v)
{
	struct mem_anchor *m = ctx;

	if (m->fail)
		return -EIO;
	if (v > m->value)
		m->value = v;
	return 0;
}

void mem_anchor_init(struct mem_anchor *m, struct store_anchor *a)
{
	m->value = 0;
	m->fail = false;
	*a = (struct store_anchor){ mem_read, mem_advance, m };
}

static int xor_seal(void *ctx, const uint8_t key[STORE_KEY_LEN], uint8_t **blob,
		    size_t *len)
{
	struct test_sealer *t = ctx;

	if (t->fail)
		return -EACCES;
	*blob = malloc(STORE_KEY_LEN);
	if (!*blob)
		return -ENOMEM;
	for (int i = 0; i < STORE_KEY_LEN; i++)
		(*blob)[i] = key[i] ^ t->pad[i];
	*len = STORE_KEY_LEN;
	return 0;
}

static int xor_unseal(void *ctx, const uint8_t *blob, size_t len,
		      uint8_t key[STORE_KEY_LEN], char *why, size_t why_len)
{
	struct test_sealer *t = ctx;

	if (t->fail || len != STORE_KEY_LEN) {
		snprintf(why, why_len, "PCR 11 changed (test)");
		return -EACCES;
	}
	for (int i = 0; i < STORE_KEY_LEN; i++)
		key[i] = blob[i] ^ t->pad[i];
	return 0;
}

void test_sealer_init(struct test_sealer *t, struct store_sealer *s)
{
	for (int i = 0; i < STORE_KEY_LEN; i++)
		t->pad[i] = (uint8_t)(0x5a + 7 * i);
	t->fail = false;
	*s = (struct store_sealer){ xor_seal, xor_unseal, t };
}

char *scratch_dir(void)
{
	const char *tmp = getenv("TMPDIR");
	char *d;

	assert_true(asprintf(&d, "%s/bhstore.XXXXXX", tmp ? tmp : "/tmp") > 0);
	assert_non_null(mkdtemp(d));
	return d;
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(p);
}

void rm_rf(const char *dir)
{
	nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

uint8_t *read_store(const char *dir, size_t *len)
{
	char path[4096];
	uint8_t *buf;
	FILE *f;
	long n;

	snprintf(path, sizeof(path), "%s/" STORE_FILE_NAME, dir);
	f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc(n ? (size_t)n : 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

void write_store(const char *dir, const uint8_t *buf, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/" STORE_FILE_NAME, dir);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	fclose(f);
}
