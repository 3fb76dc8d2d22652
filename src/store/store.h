/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The encrypted config store (docs/config-store.md): named records (VM
 * definitions "vm/NAME", disk keys "diskkey/VM/VDEV", "policy/FILE",
 * "audit/tail"), AES-256-GCM under a random master key that a sealer
 * (TPM) and/or a recovery passphrase (argon2id) unwrap, written atomically
 * as numbered generations that a rollback anchor keeps from going back.
 *
 * A store is used by one process at a time (it holds a flock on its
 * directory). Changes (put, delete) stay in memory until store_commit.
 */
#ifndef BH_STORE_STORE_H
#define BH_STORE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "store/keyslot.h"
#include "store/store_err.h"

struct store;

/* The store's file in its directory; temp files are "store.tmp.*". */
#define STORE_FILE_NAME "store"

struct store_create_opts {
	const char *passphrase; /* recovery slot, or NULL */
	struct store_kdf_params kdf; /* its argon2id cost */
	const struct store_sealer *sealer; /* sealed slot, or NULL */
	const struct store_anchor *anchor; /* required */
};

/*
 * Provisions a new store in dir (created 0700 if missing; refused with
 * STORE_E_EXISTS if it holds a store): a random id and master key, the
 * asked slots (at least one), no records, generation anchor+1, committed.
 */
int store_create(const char *dir, const struct store_create_opts *o,
		 struct store **out, struct store_err *e);

struct store_open_opts {
	const char *passphrase; /* open by the recovery slot */
	const struct store_sealer *sealer; /* else by the sealed slot */
	const struct store_anchor *anchor; /* required */
	const uint8_t *expect_id; /* STORE_ID_LEN bytes, or NULL */
};

/*
 * Opens and checks the whole store: refuses (and never returns) a store
 * that is truncated, corrupt, of another id, or older than the anchor.
 * Raises the anchor to the store's generation if a crash left it behind.
 */
int store_open(const char *dir, const struct store_open_opts *o,
	       struct store **out, struct store_err *e);

/* Zeroes all key and record memory and releases the lock. NULL ignored. */
void store_close(struct store *s);

/* *value points into the store until the next change or close. */
int store_get(const struct store *s, const char *name, const uint8_t **value,
	      size_t *len, struct store_err *e);
int store_put(struct store *s, const char *name, const void *value, size_t len,
	      struct store_err *e);
int store_delete(struct store *s, const char *name, struct store_err *e);

/* Calls fn for each name starting with prefix ("" for all), ascending. */
void store_list(const struct store *s, const char *prefix,
		void (*fn)(void *ctx, const char *name), void *ctx);
size_t store_count(const struct store *s);

/* Writes a new generation and advances the anchor to it. */
int store_commit(struct store *s, struct store_err *e);

/* Replaces (or adds) the recovery slot and commits. */
int store_rekey_passphrase(struct store *s, const char *passphrase,
			   const struct store_kdf_params *kdf,
			   struct store_err *e);

/* Seals the master key anew (e.g. to the current PCRs) and commits. */
int store_reseal(struct store *s, const struct store_sealer *sealer,
		 struct store_err *e);

uint64_t store_generation(const struct store *s);
void store_get_id(const struct store *s, uint8_t id[STORE_ID_LEN]);

#endif
