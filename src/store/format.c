// SPDX-License-Identifier: GPL-2.0-only
#include "store/format.h"

#include <stdlib.h>
#include <string.h>

#include "util/bytes.h"

static int parse_slots(const uint8_t *p, size_t len, struct store_head *h,
		       struct store_err *e)
{
	size_t off = 0;

	while (off < len) {
		uint16_t type;
		uint32_t slen;

		if (len - off < 8)
			return store_fail(e, STORE_E_CORRUPT,
					  "corrupt store: key slot header "
					  "crosses the slot area's end");
		type = get_le16(p + off);
		slen = get_le32(p + off + 4);
		if (get_le16(p + off + 2))
			return store_fail(e, STORE_E_CORRUPT,
					  "corrupt store: key slot reserved "
					  "field is not zero");
		off += 8;
		if (slen > len - off)
			return store_fail(e, STORE_E_CORRUPT,
					  "corrupt store: key slot of %u bytes "
					  "crosses the slot area's end",
					  slen);
		switch (type) {
		case STORE_SLOT_PASSPHRASE:
			if (h->pass_slot || slen != STORE_PASS_SLOT_LEN)
				return store_fail(e, STORE_E_CORRUPT,
						  "corrupt store: bad or "
						  "repeated passphrase slot");
			h->pass_slot = p + off;
			break;
		case STORE_SLOT_SEALED:
			if (h->sealed || slen == 0 || slen > STORE_SEALED_MAX)
				return store_fail(e, STORE_E_CORRUPT,
						  "corrupt store: bad or "
						  "repeated sealed slot");
			h->sealed = p + off;
			h->sealed_len = slen;
			break;
		default:
			return store_fail(e, STORE_E_CORRUPT,
					  "corrupt store: unknown key slot "
					  "type %u",
					  type);
		}
		off += slen;
	}
	if (!h->pass_slot && !h->sealed)
		return store_fail(e, STORE_E_CORRUPT,
				  "corrupt store: no key slot");
	return 0;
}

int store_parse_head(const uint8_t *buf, size_t len, struct store_head *h,
		     struct store_err *e)
{
	uint32_t slots_len, index_len;
	size_t need;

	memset(h, 0, sizeof(*h));
	if (len < 8 || memcmp(buf, STORE_MAGIC, 8))
		return store_fail(e,
				  len < 8 ? STORE_E_TRUNCATED : STORE_E_CORRUPT,
				  "%s store: no \"" STORE_MAGIC "\" magic",
				  len < 8 ? "truncated" : "corrupt");
	if (len < STORE_HEAD_LEN)
		return store_fail(e, STORE_E_TRUNCATED,
				  "truncated store: %zu bytes, the header "
				  "alone is %d",
				  len, STORE_HEAD_LEN);
	if (len > STORE_FILE_MAX)
		return store_fail(e, STORE_E_LIMIT,
				  "store file of %zu bytes is over the %u "
				  "limit",
				  len, STORE_FILE_MAX);
	if (get_le32(buf + 8) != STORE_VERSION || get_le32(buf + 12))
		return store_fail(e, STORE_E_CORRUPT,
				  "corrupt store: version %u flags %#x, "
				  "expected version %d flags 0",
				  get_le32(buf + 8), get_le32(buf + 12),
				  STORE_VERSION);
	memcpy(h->id, buf + 16, STORE_ID_LEN);
	h->generation = get_le64(buf + 32);
	memcpy(h->file_salt, buf + 40, STORE_FILE_SALT_LEN);
	slots_len = get_le32(buf + 72);
	index_len = get_le32(buf + 76);
	/* Both are 32-bit and len is at most 64 MiB: no overflow in size_t. */
	need = (size_t)STORE_HEAD_LEN + slots_len + index_len +
	       STORE_GCM_TAG_LEN;
	if (slots_len > STORE_FILE_MAX || index_len > STORE_FILE_MAX ||
	    need > len)
		return store_fail(e, STORE_E_TRUNCATED,
				  "truncated store: %zu bytes, its header "
				  "declares at least %zu",
				  len, need);
	if (index_len < 4)
		return store_fail(e, STORE_E_CORRUPT,
				  "corrupt store: index of %u bytes",
				  index_len);
	h->aad_len = STORE_HEAD_LEN + slots_len;
	h->index_ct = buf + h->aad_len;
	h->index_len = index_len;
	h->records = buf + need;
	h->records_len = len - need;
	return parse_slots(buf + STORE_HEAD_LEN, slots_len, h, e);
}

static int name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || (c && strchr("._:@+-", c));
}

int store_name_check(const char *name, size_t len, struct store_err *e)
{
	size_t i, start = 0;

	if (len == 0 || len > STORE_NAME_MAX)
		return store_fail(e, STORE_E_NAME,
				  "record name must be 1..%d bytes",
				  STORE_NAME_MAX);
	for (i = 0; i <= len; i++) {
		if (i == len || name[i] == '/') {
			size_t clen = i - start;

			if (clen == 0 || (clen == 1 && name[start] == '.') ||
			    (clen == 2 && !memcmp(name + start, "..", 2)))
				return store_fail(
					e, STORE_E_NAME,
					"record name \"%.*s\": empty, "
					"\".\" or \"..\" component",
					(int)len, name);
			start = i + 1;
		} else if (!name_char(name[i])) {
			return store_fail(
				e, STORE_E_NAME,
				"record name has a byte 0x%02x; "
				"allowed are A-Z a-z 0-9 . _ : @ + - /",
				(unsigned char)name[i]);
		}
	}
	return 0;
}

static int name_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	if (c)
		return c;
	return alen < blen ? -1 : alen > blen;
}

int store_parse_index(const uint8_t *pt, size_t len,
		      struct store_index_entry **entries, size_t *count,
		      size_t *records_len, struct store_err *e)
{
	struct store_index_entry *v = NULL;
	size_t off = 4, i, n, total = 0;
	int rc;

	*entries = NULL;
	*count = 0;
	*records_len = 0;
	if (len < 4)
		return store_fail(e, STORE_E_CORRUPT,
				  "corrupt store: index too short");
	n = get_le32(pt);
	if (n > STORE_RECORDS_MAX)
		return store_fail(e, STORE_E_CORRUPT,
				  "corrupt store: %zu records, at most %d", n,
				  STORE_RECORDS_MAX);
	if (n) {
		v = calloc(n, sizeof(*v));
		if (!v)
			return store_fail(e, STORE_E_NOMEM, "out of memory");
	}
	for (i = 0; i < n; i++) {
		if (len - off < 2)
			goto short_index;
		v[i].name_len = get_le16(pt + off);
		off += 2;
		if (v[i].name_len > len - off)
			goto short_index;
		v[i].name = (const char *)pt + off;
		rc = store_name_check(v[i].name, v[i].name_len, e);
		if (rc) {
			store_fail(e, STORE_E_CORRUPT,
				   "corrupt store: index entry %zu has an "
				   "invalid name",
				   i);
			goto fail;
		}
		off += v[i].name_len;
		if (i && name_cmp(v[i - 1].name, v[i - 1].name_len, v[i].name,
				  v[i].name_len) >= 0) {
			store_fail(e, STORE_E_CORRUPT,
				   "corrupt store: index names not strictly "
				   "ascending at entry %zu",
				   i);
			goto fail;
		}
		if (len - off < 4)
			goto short_index;
		v[i].value_len = get_le32(pt + off);
		off += 4;
		if (v[i].value_len > STORE_VALUE_MAX) {
			store_fail(e, STORE_E_CORRUPT,
				   "corrupt store: record of %u bytes, at "
				   "most %u",
				   v[i].value_len, STORE_VALUE_MAX);
			goto fail;
		}
		total += (size_t)v[i].value_len + STORE_GCM_TAG_LEN;
	}
	if (off != len) {
		store_fail(e, STORE_E_CORRUPT,
			   "corrupt store: %zu stray bytes after the index",
			   len - off);
		goto fail;
	}
	*entries = v;
	*count = n;
	*records_len = total;
	return 0;
short_index:
	store_fail(e, STORE_E_CORRUPT,
		   "corrupt store: index entry %zu crosses the index's end", i);
fail:
	free(v);
	return -(int)STORE_E_CORRUPT;
}

void store_record_iv(uint8_t iv[STORE_GCM_IV_LEN], uint64_t i)
{
	memset(iv, 0, STORE_GCM_IV_LEN);
	put_le64(iv, i + 1);
}

size_t store_record_aad(uint8_t *aad, const uint8_t id[STORE_ID_LEN],
			uint64_t generation, const char *name,
			uint16_t name_len)
{
	memcpy(aad, "bhstrec1", 8);
	memcpy(aad + 8, id, STORE_ID_LEN);
	put_le64(aad + 8 + STORE_ID_LEN, generation);
	put_le16(aad + 16 + STORE_ID_LEN, name_len);
	memcpy(aad + 18 + STORE_ID_LEN, name, name_len);
	return 18 + STORE_ID_LEN + name_len;
}
