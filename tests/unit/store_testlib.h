/* SPDX-License-Identifier: GPL-2.0-only */
/* Helpers of the config store's tests: a scratch directory, an anchor in
 * memory, a sealer that a test can make refuse, file edits. */
#ifndef BH_TEST_STORE_TESTLIB_H
#define BH_TEST_STORE_TESTLIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

struct mem_anchor {
	uint64_t value;
	bool fail;
};

/* A test sealer: XOR with a pad, refusing when fail is set. Not secure:
 * it stands in for the TPM so the store's handling can be tested. */
struct test_sealer {
	uint8_t pad[STORE_KEY_LEN];
	bool fail;
};

extern const struct store_kdf_params test_kdf; /* cheap argon2id cost */

void mem_anchor_init(struct mem_anchor *m, struct store_anchor *a);
void test_sealer_init(struct test_sealer *t, struct store_sealer *s);

/* A new empty directory under $TMPDIR; rm_rf removes it. */
char *scratch_dir(void);
void rm_rf(const char *dir);

/* dir/store's bytes (malloc'd) and a write of new bytes. */
uint8_t *read_store(const char *dir, size_t *len);
void write_store(const char *dir, const uint8_t *buf, size_t len);

#endif
