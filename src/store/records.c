// SPDX-License-Identifier: GPL-2.0-only
/* Records in memory: a sorted array, values zeroed when dropped. */
#include <stdlib.h>
#include <string.h>

#include "store/format.h"
#include "store/store_priv.h"

static void rec_free(struct store_rec *r)
{
	if (r->value)
		explicit_bzero(r->value, r->len);
	free(r->value);
	free(r->name);
}

void store_recs_free(struct store *s)
{
	for (size_t i = 0; i < s->nrec; i++)
		rec_free(&s->recs[i]);
	free(s->recs);
	s->recs = NULL;
	s->nrec = s->cap = 0;
}

/* Index of name, or of where it would go (*found false). */
static size_t find(const struct store *s, const char *name, bool *found)
{
	size_t lo = 0, hi = s->nrec;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(s->recs[mid].name, name);

		if (!c) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

int store_rec_insert(struct store *s, char *name, uint8_t *value, size_t len,
		     struct store_err *e)
{
	bool found;
	size_t i = find(s, name, &found);

	if (found) {
		rec_free(&s->recs[i]);
		s->recs[i] = (struct store_rec){ name, value, len };
		return 0;
	}
	if (s->nrec >= STORE_RECORDS_MAX)
		return store_fail(e, STORE_E_LIMIT,
				  "store holds %d records, the most it can",
				  STORE_RECORDS_MAX);
	if (s->nrec == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		struct store_rec *r = realloc(s->recs, cap * sizeof(*r));

		if (!r)
			return store_fail(e, STORE_E_NOMEM, "out of memory");
		s->recs = r;
		s->cap = cap;
	}
	memmove(s->recs + i + 1, s->recs + i, (s->nrec - i) * sizeof(*s->recs));
	s->recs[i] = (struct store_rec){ name, value, len };
	s->nrec++;
	return 0;
}

int store_get(const struct store *s, const char *name, const uint8_t **value,
	      size_t *len, struct store_err *e)
{
	bool found;
	size_t i;
	int rc = store_name_check(name, strnlen(name, STORE_NAME_MAX + 1), e);

	if (rc)
		return rc;
	i = find(s, name, &found);
	if (!found)
		return store_fail(e, STORE_E_NOENT, "no record \"%s\"", name);
	*value = s->recs[i].value;
	*len = s->recs[i].len;
	return 0;
}

int store_put(struct store *s, const char *name, const void *value, size_t len,
	      struct store_err *e)
{
	char *n;
	uint8_t *v;
	int rc = store_name_check(name, strnlen(name, STORE_NAME_MAX + 1), e);

	if (rc)
		return rc;
	if (len > STORE_VALUE_MAX)
		return store_fail(e, STORE_E_LIMIT,
				  "record \"%s\" of %zu bytes is over the "
				  "%u-byte limit",
				  name, len, STORE_VALUE_MAX);
	n = strdup(name);
	v = malloc(len ? len : 1);
	if (!n || !v) {
		free(n);
		free(v);
		return store_fail(e, STORE_E_NOMEM, "out of memory");
	}
	if (len)
		memcpy(v, value, len);
	rc = store_rec_insert(s, n, v, len, e);
	if (rc) {
		explicit_bzero(v, len);
		free(v);
		free(n);
	}
	return rc;
}

int store_delete(struct store *s, const char *name, struct store_err *e)
{
	bool found;
	size_t i;
	int rc = store_name_check(name, strnlen(name, STORE_NAME_MAX + 1), e);

	if (rc)
		return rc;
	i = find(s, name, &found);
	if (!found)
		return store_fail(e, STORE_E_NOENT, "no record \"%s\"", name);
	rec_free(&s->recs[i]);
	memmove(s->recs + i, s->recs + i + 1,
		(s->nrec - i - 1) * sizeof(*s->recs));
	s->nrec--;
	return 0;
}

void store_list(const struct store *s, const char *prefix,
		void (*fn)(void *ctx, const char *name), void *ctx)
{
	size_t plen = strlen(prefix);

	for (size_t i = 0; i < s->nrec; i++)
		if (!strncmp(s->recs[i].name, prefix, plen))
			fn(ctx, s->recs[i].name);
}

size_t store_count(const struct store *s)
{
	return s->nrec;
}
