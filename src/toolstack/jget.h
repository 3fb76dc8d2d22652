/* SPDX-License-Identifier: GPL-2.0-only */
/* Typed reads of JSON object members: NULL or the default when absent or
 * of another type, so callers check once. */
#ifndef BH_TOOLSTACK_JGET_H
#define BH_TOOLSTACK_JGET_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

static inline const char *jget_str(struct json_object *o, const char *k)
{
	struct json_object *v;

	if (!o || !json_object_object_get_ex(o, k, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static inline int64_t jget_int(struct json_object *o, const char *k,
			       int64_t def)
{
	struct json_object *v;

	if (!o || !json_object_object_get_ex(o, k, &v) ||
	    !json_object_is_type(v, json_type_int))
		return def;
	return json_object_get_int64(v);
}

static inline bool jget_bool(struct json_object *o, const char *k, bool def)
{
	struct json_object *v;

	if (!o || !json_object_object_get_ex(o, k, &v) ||
	    !json_object_is_type(v, json_type_boolean))
		return def;
	return json_object_get_boolean(v);
}

static inline struct json_object *jget(struct json_object *o, const char *k,
				       json_type t)
{
	struct json_object *v;

	if (!o || !json_object_object_get_ex(o, k, &v) ||
	    !json_object_is_type(v, t))
		return NULL;
	return v;
}

#endif
