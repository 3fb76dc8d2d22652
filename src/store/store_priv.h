/* SPDX-License-Identifier: GPL-2.0-only */
/* The store's in-memory state, shared by store.c, commit.c and records.c. */
#ifndef BH_STORE_PRIV_H
#define BH_STORE_PRIV_H

#include <stdbool.h>

#include "store/store.h"

struct store_rec {
	char *name;
	uint8_t *value; /* zeroed before it is freed */
	size_t len;
};

struct store {
	int dirfd; /* flock'ed */
	uint8_t id[STORE_ID_LEN];
	uint64_t generation; /* of the file last read or written */
	uint8_t *key; /* secret_alloc(STORE_KEY_LEN) */
	bool has_pass;
	struct store_pass_slot pass;
	uint8_t *sealed; /* opaque sealed blob, or NULL */
	size_t sealed_len;
	struct store_anchor anchor;
	struct store_rec *recs; /* ascending by name */
	size_t nrec, cap;
};

/* Data key of one file: HKDF(master key, file salt, label || store id). */
int store_data_key(const struct store *s, const uint8_t *file_salt,
		   uint8_t out[STORE_KEY_LEN]);

/* Adds a record taking ownership of name and value (sorted insert). */
int store_rec_insert(struct store *s, char *name, uint8_t *value, size_t len,
		     struct store_err *e);
void store_recs_free(struct store *s);

#endif
