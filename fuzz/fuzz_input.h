/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What every harness shares: its invariant check, and the input read as a
 * stream of little-endian fields that reads as zeros once exhausted (so
 * every input, however short, is a complete run). Each field is read in a
 * statement of its own: the operands of one expression have no order.
 */
#ifndef BH_FUZZ_INPUT_H
#define BH_FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define check(cond)                                                       \
	do {                                                              \
		if (!(cond)) {                                            \
			fprintf(stderr, "invariant failed: %s (%s:%d)\n", \
				#cond, __FILE__, __LINE__);               \
			abort();                                          \
		}                                                         \
	} while (0)

struct rd {
	const uint8_t *p;
	size_t n;
};

static inline uint8_t u8(struct rd *r)
{
	if (!r->n)
		return 0;
	r->n--;
	return *r->p++;
}

static inline uint16_t u16(struct rd *r)
{
	uint16_t lo = u8(r);

	return (uint16_t)(lo | u8(r) << 8);
}

static inline uint32_t u32(struct rd *r)
{
	uint32_t lo = u16(r);

	return lo | (uint32_t)u16(r) << 16;
}

static inline uint64_t u64(struct rd *r)
{
	uint64_t lo = u32(r);

	return lo | (uint64_t)u32(r) << 32;
}

/* Up to want bytes, in place; returns how many there were. */
static inline size_t take(struct rd *r, size_t want, const uint8_t **out)
{
	if (want > r->n)
		want = r->n;
	*out = r->p;
	r->p += want;
	r->n -= want;
	return want;
}

#endif
