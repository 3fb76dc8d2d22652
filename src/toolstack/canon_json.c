// SPDX-License-Identifier: GPL-2.0-only
#include "toolstack/canon_json.h"

#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct buf {
	char *p;
	size_t len, cap;
};

static int put(struct buf *b, const char *s, size_t n)
{
	if (b->cap - b->len <= n) {
		size_t cap = b->cap ? b->cap : 256;
		char *p;

		while (cap - b->len <= n) {
			if (cap > SIZE_MAX / 2)
				return -ENOMEM;
			cap *= 2;
		}
		p = realloc(b->p, cap);
		if (!p)
			return -ENOMEM;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

static int put_string(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t run = 0;
	int r = put(b, "\"", 1);

	for (size_t i = 0; !r && i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[7] = { '\\', 0 };
		size_t elen = 2;

		switch (c) {
		case '"':
		case '\\':
			esc[1] = (char)c;
			break;
		case '\b':
			esc[1] = 'b';
			break;
		case '\t':
			esc[1] = 't';
			break;
		case '\n':
			esc[1] = 'n';
			break;
		case '\f':
			esc[1] = 'f';
			break;
		case '\r':
			esc[1] = 'r';
			break;
		default:
			if (c >= 0x20)
				continue;
			memcpy(esc + 1, "u00", 3);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			elen = 6;
		}
		/* The plain bytes before this one, then its escape. */
		r = put(b, s + run, i - run);
		if (!r)
			r = put(b, esc, elen);
		run = i + 1;
	}
	if (!r)
		r = put(b, s + run, n - run);
	return r ? r : put(b, "\"", 1);
}

struct member {
	const char *key;
	struct json_object *val;
};

static int by_key(const void *a, const void *b)
{
	return strcmp(((const struct member *)a)->key,
		      ((const struct member *)b)->key);
}

static int emit(struct buf *b, struct json_object *v, int depth);

static int emit_object(struct buf *b, struct json_object *v, int depth)
{
	size_t n = (size_t)json_object_object_length(v), i = 0;
	struct member *m = calloc(n ? n : 1, sizeof(*m));
	int r = 0;

	if (!m)
		return -ENOMEM;
	json_object_object_foreach(v, key, val)
	{
		m[i].key = key;
		m[i++].val = val;
	}
	qsort(m, n, sizeof(*m), by_key);
	r = put(b, "{", 1);
	for (i = 0; !r && i < n; i++) {
		if (i)
			r = put(b, ",", 1);
		if (!r)
			r = put_string(b, m[i].key, strlen(m[i].key));
		if (!r)
			r = put(b, ":", 1);
		if (!r)
			r = emit(b, m[i].val, depth + 1);
	}
	free(m);
	return r ? r : put(b, "}", 1);
}

static int emit(struct buf *b, struct json_object *v, int depth)
{
	char num[24];
	int r;

	if (depth > CANON_JSON_DEPTH_MAX)
		return -EINVAL;
	switch (json_object_get_type(v)) {
	case json_type_null:
		return put(b, "null", 4);
	case json_type_boolean:
		return json_object_get_boolean(v) ? put(b, "true", 4) :
						    put(b, "false", 5);
	case json_type_int:
		snprintf(num, sizeof(num), "%" PRId64,
			 json_object_get_int64(v));
		return put(b, num, strlen(num));
	case json_type_string:
		return put_string(b, json_object_get_string(v),
				  (size_t)json_object_get_string_len(v));
	case json_type_array:
		r = put(b, "[", 1);
		for (size_t i = 0; !r && i < json_object_array_length(v); i++) {
			if (i)
				r = put(b, ",", 1);
			if (!r)
				r = emit(b, json_object_array_get_idx(v, i),
					 depth + 1);
		}
		return r ? r : put(b, "]", 1);
	case json_type_object:
		return emit_object(b, v, depth);
	case json_type_double:
		break;
	}
	return -EINVAL;
}

int canon_json(struct json_object *v, char **out, size_t *len)
{
	struct buf b = { 0 };
	int r = emit(&b, v, 0);

	if (!r && !b.p)
		r = -ENOMEM; /* nothing written: cannot happen, but be sure */
	if (r) {
		free(b.p);
		*out = NULL;
		return r;
	}
	*out = b.p;
	*len = b.len;
	return 0;
}
