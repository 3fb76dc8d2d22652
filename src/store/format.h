/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The store file's layout (docs/config-store.md), parsed without keys:
 * these functions only check structure and bounds, so they are what the
 * fuzzer drives. Authentication is store.c's job.
 *
 *   off  size  field
 *     0     8  magic "BHSTORE1"
 *     8     4  version (1)
 *    12     4  flags (0)
 *    16    16  store id
 *    32     8  generation
 *    40    32  file salt (the data key of this file is derived from it)
 *    72     4  slots_len
 *    76     4  index_len (ciphertext bytes, the tag follows)
 *    80     -  slots: { u16 type, u16 zero, u32 len, len bytes }...
 *              index ciphertext, 16-byte tag
 *              records: per index entry value_len + 16-byte tag
 *              end of file
 * Integers are little-endian. The index is AES-256-GCM with bytes
 * 0..80+slots_len as AAD, so the header, generation and slot list are
 * authenticated by it.
 */
#ifndef BH_STORE_FORMAT_H
#define BH_STORE_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include "store/keyslot.h"
#include "store/store_err.h"

#define STORE_MAGIC "BHSTORE1"
#define STORE_VERSION 1
#define STORE_HEAD_LEN 80
#define STORE_FILE_SALT_LEN 32

#define STORE_NAME_MAX 255
#define STORE_VALUE_MAX (1u << 20)
#define STORE_RECORDS_MAX 4096
#define STORE_FILE_MAX (64u << 20)

enum store_slot_type {
	STORE_SLOT_PASSPHRASE = 1,
	STORE_SLOT_SEALED = 2,
};

struct store_head {
	uint8_t id[STORE_ID_LEN];
	uint64_t generation;
	uint8_t file_salt[STORE_FILE_SALT_LEN];
	const uint8_t *pass_slot; /* STORE_PASS_SLOT_LEN bytes, or NULL */
	const uint8_t *sealed; /* opaque blob, or NULL */
	size_t sealed_len;
	size_t aad_len; /* STORE_HEAD_LEN + slots_len */
	const uint8_t *index_ct; /* index_len bytes, then the tag */
	size_t index_len;
	const uint8_t *records; /* what follows the index tag */
	size_t records_len;
};

/*
 * Parses the header and slots of a whole file of len bytes into h
 * (pointers into buf). STORE_E_TRUNCATED if the file ends early,
 * STORE_E_CORRUPT for anything else that is not this layout.
 */
int store_parse_head(const uint8_t *buf, size_t len, struct store_head *h,
		     struct store_err *e);

struct store_index_entry {
	const char *name; /* not NUL-terminated: name_len bytes */
	uint16_t name_len;
	uint32_t value_len;
};

/*
 * Parses a decrypted index of len bytes (u32 count, then per record u16
 * name_len, name, u32 value_len) into *entries (malloc'd, *count long;
 * names point into pt). Names must be valid and strictly ascending
 * (bytewise), so there are no duplicates and one content has one
 * encoding. *records_len gets the byte count the records take on disk.
 */
int store_parse_index(const uint8_t *pt, size_t len,
		      struct store_index_entry **entries, size_t *count,
		      size_t *records_len, struct store_err *e);

/*
 * 0 if name (len bytes) is a record name: 1..STORE_NAME_MAX bytes of
 * [A-Za-z0-9._:@+-] in '/'-separated components, none empty, "." or "..".
 */
int store_name_check(const char *name, size_t len, struct store_err *e);

/* Nonce of record i (0-based); the index uses nonce zero. */
void store_record_iv(uint8_t iv[STORE_GCM_IV_LEN], uint64_t i);

/* AAD of a record: label, store id, generation, name. Returns its length. */
size_t store_record_aad(uint8_t *aad, const uint8_t id[STORE_ID_LEN],
			uint64_t generation, const char *name,
			uint16_t name_len);
#define STORE_RECORD_AAD_MAX (8 + STORE_ID_LEN + 8 + 2 + STORE_NAME_MAX)

#endif
