/* SPDX-License-Identifier: GPL-2.0-only */
/* Strict number parsing: the whole string must be consumed, no sign. */
#ifndef BH_UTIL_PARSE_H
#define BH_UTIL_PARSE_H

#include <stdint.h>

/* Decimal or 0x-prefixed hex. Returns 0, -EINVAL (not a number) or -ERANGE. */
int bh_parse_u64(const char *s, uint64_t *out);

/*
 * A size with an optional binary suffix K, M, G or T (case-insensitive,
 * optionally followed by "iB" or "B"). A bare number is in units of
 * 1 << default_shift bytes (0 for bytes, 20 for MiB).
 * Returns 0, -EINVAL or -ERANGE.
 */
int bh_parse_size(const char *s, unsigned int default_shift, uint64_t *out);

#endif
