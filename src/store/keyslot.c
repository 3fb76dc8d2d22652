// SPDX-License-Identifier: GPL-2.0-only
#include "store/keyslot.h"

#include <string.h>

#include <argon2.h>

#include "store/aead.h"
#include "util/bytes.h"
#include "util/secret.h"

int store_kdf_check(const struct store_kdf_params *kdf, struct store_err *e)
{
	if (kdf->t_cost < 1 || kdf->t_cost > STORE_KDF_T_MAX)
		return store_fail(e, STORE_E_INVAL,
				  "argon2id passes %u not in 1..%u",
				  kdf->t_cost, STORE_KDF_T_MAX);
	if (kdf->lanes < 1 || kdf->lanes > STORE_KDF_LANES_MAX)
		return store_fail(e, STORE_E_INVAL,
				  "argon2id lanes %u not in 1..%u", kdf->lanes,
				  STORE_KDF_LANES_MAX);
	/* argon2 needs at least 8 KiB per lane. */
	if (kdf->m_cost_kib < STORE_KDF_M_MIN ||
	    kdf->m_cost_kib > STORE_KDF_M_MAX ||
	    kdf->m_cost_kib < 8 * kdf->lanes)
		return store_fail(e, STORE_E_INVAL,
				  "argon2id memory %u KiB not in %u..%u KiB",
				  kdf->m_cost_kib, STORE_KDF_M_MIN,
				  STORE_KDF_M_MAX);
	return 0;
}

/* The slot's AAD: a label, the store id and the cost, so none can be swapped. */
static size_t slot_aad(uint8_t *aad, const struct store_pass_slot *s,
		       const uint8_t id[STORE_ID_LEN])
{
	size_t n = 0;

	memcpy(aad, "bhstore-pass1", 13);
	n += 13;
	memcpy(aad + n, id, STORE_ID_LEN);
	n += STORE_ID_LEN;
	memcpy(aad + n, s->salt, STORE_SALT_LEN);
	n += STORE_SALT_LEN;
	put_le32(aad + n, s->kdf.t_cost);
	put_le32(aad + n + 4, s->kdf.m_cost_kib);
	put_le32(aad + n + 8, s->kdf.lanes);
	return n + 12;
}

static int derive_kek(uint8_t *kek, const struct store_pass_slot *s,
		      const char *passphrase, struct store_err *e)
{
	size_t plen = strnlen(passphrase, STORE_PASSPHRASE_MAX + 1);
	int rc;

	if (plen == 0 || plen > STORE_PASSPHRASE_MAX)
		return store_fail(e, STORE_E_INVAL,
				  "passphrase must be 1..%d bytes",
				  STORE_PASSPHRASE_MAX);
	rc = store_kdf_check(&s->kdf, e);
	if (rc)
		return rc;
	rc = argon2id_hash_raw(s->kdf.t_cost, s->kdf.m_cost_kib, s->kdf.lanes,
			       passphrase, plen, s->salt, STORE_SALT_LEN, kek,
			       STORE_KEY_LEN);
	if (rc == ARGON2_MEMORY_ALLOCATION_ERROR)
		return store_fail(e, STORE_E_NOMEM,
				  "argon2id: cannot allocate %u KiB",
				  s->kdf.m_cost_kib);
	if (rc != ARGON2_OK)
		return store_fail(e, STORE_E_INVAL, "argon2id: %s",
				  argon2_error_message(rc));
	return 0;
}

int store_pass_wrap(struct store_pass_slot *slot,
		    const uint8_t id[STORE_ID_LEN],
		    const uint8_t key[STORE_KEY_LEN], const char *passphrase,
		    const struct store_kdf_params *kdf, struct store_err *e)
{
	uint8_t aad[64];
	uint8_t *kek;
	size_t alen;
	int rc;

	slot->kdf = *kdf;
	if (random_bytes(slot->salt, sizeof(slot->salt)) ||
	    random_bytes(slot->iv, sizeof(slot->iv)))
		return store_fail(e, STORE_E_IO, "no random bytes");
	kek = secret_alloc(STORE_KEY_LEN);
	if (!kek)
		return store_fail(e, STORE_E_NOMEM, "cannot lock key memory");
	rc = derive_kek(kek, slot, passphrase, e);
	if (!rc) {
		alen = slot_aad(aad, slot, id);
		if (aead_seal(kek, slot->iv, aad, alen, key, STORE_KEY_LEN,
			      slot->wrapped, slot->tag))
			rc = store_fail(e, STORE_E_IO, "AES-GCM failed");
	}
	secret_free(kek, STORE_KEY_LEN);
	return rc;
}

int store_pass_unwrap(const struct store_pass_slot *slot,
		      const uint8_t id[STORE_ID_LEN], const char *passphrase,
		      uint8_t key[STORE_KEY_LEN], struct store_err *e)
{
	uint8_t aad[64];
	uint8_t *kek;
	size_t alen;
	int rc;

	kek = secret_alloc(STORE_KEY_LEN);
	if (!kek)
		return store_fail(e, STORE_E_NOMEM, "cannot lock key memory");
	rc = derive_kek(kek, slot, passphrase, e);
	if (!rc) {
		alen = slot_aad(aad, slot, id);
		if (aead_open(kek, slot->iv, aad, alen, slot->wrapped,
			      STORE_KEY_LEN, slot->tag, key))
			rc = store_fail(e, STORE_E_PASSPHRASE,
					"wrong passphrase: it does not open "
					"the recovery slot");
	}
	secret_free(kek, STORE_KEY_LEN);
	return rc;
}

void store_pass_slot_encode(const struct store_pass_slot *s,
			    uint8_t out[STORE_PASS_SLOT_LEN])
{
	uint8_t *p = out;

	memcpy(p, s->salt, STORE_SALT_LEN);
	p += STORE_SALT_LEN;
	put_le32(p, s->kdf.t_cost);
	put_le32(p + 4, s->kdf.m_cost_kib);
	put_le32(p + 8, s->kdf.lanes);
	p += 12;
	memcpy(p, s->iv, STORE_GCM_IV_LEN);
	p += STORE_GCM_IV_LEN;
	memcpy(p, s->wrapped, STORE_KEY_LEN);
	p += STORE_KEY_LEN;
	memcpy(p, s->tag, STORE_GCM_TAG_LEN);
}

void store_pass_slot_decode(struct store_pass_slot *s,
			    const uint8_t in[STORE_PASS_SLOT_LEN])
{
	const uint8_t *p = in;

	memcpy(s->salt, p, STORE_SALT_LEN);
	p += STORE_SALT_LEN;
	s->kdf.t_cost = get_le32(p);
	s->kdf.m_cost_kib = get_le32(p + 4);
	s->kdf.lanes = get_le32(p + 8);
	p += 12;
	memcpy(s->iv, p, STORE_GCM_IV_LEN);
	p += STORE_GCM_IV_LEN;
	memcpy(s->wrapped, p, STORE_KEY_LEN);
	p += STORE_KEY_LEN;
	memcpy(s->tag, p, STORE_GCM_TAG_LEN);
}
