/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Canonical JSON, for what is hashed: one byte string per value, whatever
 * order its keys were added in and whichever json-c wrote it.
 *
 * - objects: members sorted by key, bytewise (strcmp); no duplicates;
 * - no whitespace anywhere;
 * - strings: UTF-8 as is, except '"' and '\' escaped with a backslash,
 *   \b \t \n \f \r for those bytes, \u00xx (lower-case hex) for the other
 *   bytes below 0x20; nothing else is escaped ('/' is not);
 * - numbers: integers only, in decimal (json-c's int64); a double is an
 *   error;
 * - true, false, null.
 *
 * For values whose keys are ASCII and whose numbers are integers of at
 * most 2^53 this is RFC 8785 (JCS), and Python's
 * json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
 * gives the same bytes.
 */
#ifndef BH_TOOLSTACK_CANON_JSON_H
#define BH_TOOLSTACK_CANON_JSON_H

#include <stddef.h>

struct json_object;

/* Nesting deeper than this is refused (what is hashed here is shallow). */
#define CANON_JSON_DEPTH_MAX 16

/*
 * Writes v's canonical form to a malloc'd, NUL-terminated *out of *len
 * bytes. Returns 0, -EINVAL (a double, or nesting past the limit) or
 * -ENOMEM; *out is NULL on failure.
 */
int canon_json(struct json_object *v, char **out, size_t *len);

#endif
