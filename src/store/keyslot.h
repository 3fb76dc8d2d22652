/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Key slots of the config store and the two interfaces a TPM (or any other
 * root of trust) plugs into: a sealer that wraps the 32-byte store master
 * key into an opaque blob, and an anchor, a monotonic counter that the
 * store's generation may never fall below (docs/config-store.md).
 */
#ifndef BH_STORE_KEYSLOT_H
#define BH_STORE_KEYSLOT_H

#include <stddef.h>
#include <stdint.h>

#include "store/store_err.h"

#define STORE_KEY_LEN 32
#define STORE_ID_LEN 16

/*
 * Seals and unseals the master key. The blob is opaque to the store (e.g.
 * a TPM2B_PUBLIC/PRIVATE pair sealed to a PolicyPCR); at most
 * STORE_SEALED_MAX bytes.
 *   seal: *blob is malloc'd by the sealer and freed by the store.
 *   unseal: writes the 32 key bytes into key (locked memory the store
 *   owns); on failure it leaves no key bytes there.
 * Both return 0 or -errno; unseal fills why (room for why_len bytes, may
 * be NULL) with a message such as which PCR changed.
 */
struct store_sealer {
	int (*seal)(void *ctx, const uint8_t key[STORE_KEY_LEN], uint8_t **blob,
		    size_t *len);
	int (*unseal)(void *ctx, const uint8_t *blob, size_t len,
		      uint8_t key[STORE_KEY_LEN], char *why, size_t why_len);
	void *ctx;
};

#define STORE_SEALED_MAX 4096

/*
 * A monotonic counter (a TPM NV counter, or the weaker file fallback of
 * anchor_file.h). read gives its value; advance raises it to at least
 * value (a counter that only increments by one steps until it is there)
 * and never lowers it. Both return 0 or -errno.
 */
struct store_anchor {
	int (*read)(void *ctx, uint64_t *value);
	int (*advance)(void *ctx, uint64_t value);
	void *ctx;
};

/* argon2id cost of a passphrase slot. */
struct store_kdf_params {
	uint32_t t_cost; /* passes, 1..STORE_KDF_T_MAX */
	uint32_t m_cost_kib; /* memory, STORE_KDF_M_MIN..STORE_KDF_M_MAX KiB */
	uint32_t lanes; /* parallelism, 1..STORE_KDF_LANES_MAX */
};

/* Defaults for a real store: 3 passes over 256 MiB, 1 lane. */
#define STORE_KDF_DEFAULT        \
	{                        \
		3, 256 * 1024, 1 \
	}
#define STORE_KDF_T_MAX 64
#define STORE_KDF_M_MIN 64
#define STORE_KDF_M_MAX (4u * 1024 * 1024) /* 4 GiB */
#define STORE_KDF_LANES_MAX 16
#define STORE_PASSPHRASE_MAX 1024

#define STORE_SALT_LEN 16
#define STORE_GCM_IV_LEN 12
#define STORE_GCM_TAG_LEN 16

/* A passphrase slot as stored: salt, cost, and the GCM-wrapped key. */
struct store_pass_slot {
	uint8_t salt[STORE_SALT_LEN];
	struct store_kdf_params kdf;
	uint8_t iv[STORE_GCM_IV_LEN];
	uint8_t wrapped[STORE_KEY_LEN];
	uint8_t tag[STORE_GCM_TAG_LEN];
};

#define STORE_PASS_SLOT_LEN                                       \
	(STORE_SALT_LEN + 12 + STORE_GCM_IV_LEN + STORE_KEY_LEN + \
	 STORE_GCM_TAG_LEN)

/* 0 if the cost is within the limits above, else a STORE_E_INVAL message. */
int store_kdf_check(const struct store_kdf_params *kdf, struct store_err *e);

/*
 * Wraps key under argon2id(passphrase) with a fresh salt and IV; the AAD
 * binds the slot to the store id and its cost parameters.
 */
int store_pass_wrap(struct store_pass_slot *slot,
		    const uint8_t id[STORE_ID_LEN],
		    const uint8_t key[STORE_KEY_LEN], const char *passphrase,
		    const struct store_kdf_params *kdf, struct store_err *e);

/* Unwraps into key (locked memory); STORE_E_PASSPHRASE if it does not fit. */
int store_pass_unwrap(const struct store_pass_slot *slot,
		      const uint8_t id[STORE_ID_LEN], const char *passphrase,
		      uint8_t key[STORE_KEY_LEN], struct store_err *e);

void store_pass_slot_encode(const struct store_pass_slot *slot,
			    uint8_t out[STORE_PASS_SLOT_LEN]);
void store_pass_slot_decode(struct store_pass_slot *slot,
			    const uint8_t in[STORE_PASS_SLOT_LEN]);

#endif
