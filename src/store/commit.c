// SPDX-License-Identifier: GPL-2.0-only
/* Encodes and writes a new generation (layout in format.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store/aead.h"
#include "store/atomic_file.h"
#include "store/format.h"
#include "store/store_priv.h"
#include "util/bytes.h"
#include "util/secret.h"

int store_data_key(const struct store *s, const uint8_t *file_salt,
		   uint8_t out[STORE_KEY_LEN])
{
	uint8_t info[15 + STORE_ID_LEN];

	memcpy(info, "bhstore-data v1", 15);
	memcpy(info + 15, s->id, STORE_ID_LEN);
	return hkdf32(s->key, file_salt, STORE_FILE_SALT_LEN, info,
		      sizeof(info), out);
}

static size_t slots_len(const struct store *s)
{
	return (s->has_pass ? 8 + STORE_PASS_SLOT_LEN : 0) +
	       (s->sealed ? 8 + s->sealed_len : 0);
}

static size_t index_len(const struct store *s)
{
	size_t n = 4;

	for (size_t i = 0; i < s->nrec; i++)
		n += 2 + strlen(s->recs[i].name) + 4;
	return n;
}

static uint8_t *put_slot(uint8_t *p, uint16_t type, const uint8_t *data,
			 size_t len)
{
	put_le16(p, type);
	put_le16(p + 2, 0);
	put_le32(p + 4, (uint32_t)len);
	memcpy(p + 8, data, len);
	return p + 8 + len;
}

/* Fills buf (total bytes) with generation gen under data key k. */
static int encode(const struct store *s, uint64_t gen, const uint8_t *salt,
		  const uint8_t *k, uint8_t *buf, size_t total)
{
	size_t sl = slots_len(s), il = index_len(s);
	uint8_t pass[STORE_PASS_SLOT_LEN], iv[STORE_GCM_IV_LEN];
	uint8_t aad[STORE_RECORD_AAD_MAX];
	uint8_t *p, *index, *out;
	int rc = 0;

	memcpy(buf, STORE_MAGIC, 8);
	put_le32(buf + 8, STORE_VERSION);
	put_le32(buf + 12, 0);
	memcpy(buf + 16, s->id, STORE_ID_LEN);
	put_le64(buf + 32, gen);
	memcpy(buf + 40, salt, STORE_FILE_SALT_LEN);
	put_le32(buf + 72, (uint32_t)sl);
	put_le32(buf + 76, (uint32_t)il);
	p = buf + STORE_HEAD_LEN;
	if (s->has_pass) {
		store_pass_slot_encode(&s->pass, pass);
		p = put_slot(p, STORE_SLOT_PASSPHRASE, pass, sizeof(pass));
	}
	if (s->sealed)
		p = put_slot(p, STORE_SLOT_SEALED, s->sealed, s->sealed_len);

	/* The index is encrypted too: record names (VM names) stay off disk. */
	index = malloc(il);
	if (!index)
		return -ENOMEM;
	put_le32(index, (uint32_t)s->nrec);
	out = index + 4;
	for (size_t i = 0; i < s->nrec; i++) {
		size_t nl = strlen(s->recs[i].name);

		put_le16(out, (uint16_t)nl);
		memcpy(out + 2, s->recs[i].name, nl);
		put_le32(out + 2 + nl, (uint32_t)s->recs[i].len);
		out += 2 + nl + 4;
	}
	memset(iv, 0, sizeof(iv));
	if (aead_seal(k, iv, buf, STORE_HEAD_LEN + sl, index, il, p, p + il))
		rc = -EIO;
	free(index);
	p += il + STORE_GCM_TAG_LEN;
	for (size_t i = 0; !rc && i < s->nrec; i++) {
		const struct store_rec *r = &s->recs[i];
		size_t alen = store_record_aad(aad, s->id, gen, r->name,
					       (uint16_t)strlen(r->name));

		store_record_iv(iv, i);
		if (aead_seal(k, iv, aad, alen, r->value, r->len, p,
			      p + r->len))
			rc = -EIO;
		p += r->len + STORE_GCM_TAG_LEN;
	}
	if (!rc && (size_t)(p - buf) != total)
		rc = -EFAULT; /* the size computation and encoding disagree */
	return rc;
}

int store_commit(struct store *s, struct store_err *e)
{
	uint8_t salt[STORE_FILE_SALT_LEN];
	uint64_t anchored, gen;
	size_t total, sl = slots_len(s), il = index_len(s);
	uint8_t *buf, *k;
	int rc;

	total = STORE_HEAD_LEN + sl + il + STORE_GCM_TAG_LEN;
	for (size_t i = 0; i < s->nrec; i++)
		total += s->recs[i].len + STORE_GCM_TAG_LEN;
	if (total > STORE_FILE_MAX)
		return store_fail(e, STORE_E_LIMIT,
				  "store would be %zu bytes, over the %u limit",
				  total, STORE_FILE_MAX);
	rc = s->anchor.read(s->anchor.ctx, &anchored);
	if (rc)
		return store_fail(e, STORE_E_ANCHOR,
				  "cannot read the rollback anchor: %s",
				  strerror(-rc));
	gen = (anchored > s->generation ? anchored : s->generation) + 1;
	if (random_bytes(salt, sizeof(salt)))
		return store_fail(e, STORE_E_IO, "no random bytes");
	buf = malloc(total);
	k = secret_alloc(STORE_KEY_LEN);
	if (!buf || !k) {
		free(buf);
		secret_free(k, STORE_KEY_LEN);
		return store_fail(e, STORE_E_NOMEM, "out of memory");
	}
	rc = store_data_key(s, salt, k) ? -EIO : 0;
	if (!rc)
		rc = encode(s, gen, salt, k, buf, total);
	secret_free(k, STORE_KEY_LEN);
	if (rc) {
		free(buf);
		return store_fail(e, STORE_E_IO, "cannot encode the store: %s",
				  strerror(-rc));
	}
	rc = atomic_replace(s->dirfd, STORE_FILE_NAME, buf, total);
	free(buf);
	if (rc)
		return store_fail(e, STORE_E_IO,
				  "cannot write generation %llu (generation "
				  "%llu is still in place): %s",
				  (unsigned long long)gen,
				  (unsigned long long)s->generation,
				  strerror(-rc));
	s->generation = gen;
	/* The file is durable first: a crash here leaves the anchor behind,
	 * which store_open repairs; the reverse order would lock us out. */
	rc = s->anchor.advance(s->anchor.ctx, gen);
	if (rc)
		return store_fail(e, STORE_E_ANCHOR,
				  "generation %llu is written but the anchor "
				  "could not advance to it: %s",
				  (unsigned long long)gen, strerror(-rc));
	return 0;
}
