// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzzes the config store's parsers (src/store/format.c), what stands
 * between a file on disk and the decryption. The first byte picks:
 *
 *   0 mod 3: the rest is a store file. store_parse_head accepts it or
 *            refuses it with a message; an accepted one has at least one
 *            slot, every pointer inside the input, and header, slots,
 *            index, tag and records that add up to the input's size.
 *   1 mod 3: the rest is a decrypted index. An accepted one has valid,
 *            strictly ascending names inside the input, values within
 *            the limit, and records_len equal to their sum with tags.
 *   2 mod 3: the rest is a record name. An accepted name is 1..255
 *            bytes of the allowed set with no empty, "." or ".." part.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/format.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int inside(const void *p, size_t len, const uint8_t *buf, size_t size)
{
	const uint8_t *q = p;

	return q >= buf && q <= buf + size && len <= (size_t)(buf + size - q);
}

static void check_message(const struct store_err *e)
{
	if (!e->msg[0] || e->code == STORE_OK)
		abort();
}

static void fuzz_head(const uint8_t *buf, size_t size)
{
	struct store_head h;
	struct store_err e = { 0 };

	if (store_parse_head(buf, size, &h, &e)) {
		check_message(&e);
		return;
	}
	if (!h.pass_slot && !h.sealed)
		abort();
	if (h.pass_slot && !inside(h.pass_slot, STORE_PASS_SLOT_LEN, buf, size))
		abort();
	if (h.sealed && (!inside(h.sealed, h.sealed_len, buf, size) ||
			 h.sealed_len > STORE_SEALED_MAX))
		abort();
	if (h.index_ct != buf + h.aad_len ||
	    h.aad_len + h.index_len + STORE_GCM_TAG_LEN + h.records_len !=
		    size ||
	    h.records != buf + size - h.records_len)
		abort();
}

static void fuzz_index(const uint8_t *buf, size_t size)
{
	struct store_index_entry *ent;
	struct store_err e = { 0 };
	size_t n, total, sum = 0;

	if (store_parse_index(buf, size, &ent, &n, &total, &e)) {
		check_message(&e);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (!inside(ent[i].name, ent[i].name_len, buf, size) ||
		    store_name_check(ent[i].name, ent[i].name_len, NULL) ||
		    ent[i].value_len > STORE_VALUE_MAX)
			abort();
		if (i && memcmp(ent[i - 1].name, ent[i].name,
				ent[i - 1].name_len < ent[i].name_len ?
					ent[i - 1].name_len :
					ent[i].name_len) > 0)
			abort();
		sum += ent[i].value_len + STORE_GCM_TAG_LEN;
	}
	if (sum != total || n > STORE_RECORDS_MAX)
		abort();
	free(ent);
}

static void fuzz_name(const uint8_t *buf, size_t size)
{
	static const char allowed[] = "abcdefghijklmnopqrstuvwxyz"
				      "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				      "0123456789._:@+-/";
	const char *name = (const char *)buf;

	if (store_name_check(name, size, NULL))
		return;
	if (!size || size > STORE_NAME_MAX || name[0] == '/' ||
	    name[size - 1] == '/')
		abort();
	for (size_t i = 0; i < size; i++)
		if (!memchr(allowed, name[i], sizeof(allowed) - 1) ||
		    (i && name[i] == '/' && name[i - 1] == '/'))
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy;

	if (!size)
		return 0;
	/* An exact-size copy, so ASan sees any read past the input. */
	copy = malloc(size - 1 ? size - 1 : 1);
	if (!copy)
		return 0;
	memcpy(copy, data + 1, size - 1);
	switch (data[0] % 3) {
	case 0:
		fuzz_head(copy, size - 1);
		break;
	case 1:
		fuzz_index(copy, size - 1);
		break;
	default:
		fuzz_name(copy, size - 1);
		break;
	}
	free(copy);
	return 0;
}
