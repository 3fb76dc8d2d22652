/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A page-granular memory arena that serves as the "guest memory" of a domain
 * whose memory the hypervisor owns: the host (domid 0), and test or fuzz
 * domains. Guest-physical addresses start at HMX_ARENA_BASE, so 0 is never
 * valid. Freed pages are scrubbed before reuse.
 */
#ifndef BH_HMX_ARENA_H
#define BH_HMX_ARENA_H

#include <stddef.h>
#include <stdint.h>

#define HMX_ARENA_BASE 0x100000ull

struct hmx_arena;

/* size is rounded up to whole pages. -EINVAL, -ENOMEM. */
int hmx_arena_create(size_t size, struct hmx_arena **out);
void hmx_arena_destroy(struct hmx_arena *a);

/* An hmx_translate_fn: opaque is the arena. */
void *hmx_arena_translate(void *arena, uint64_t gpa, uint64_t len);

/* Allocate whole, zeroed, contiguous pages. -EINVAL, -ENOMEM. */
int hmx_arena_alloc(struct hmx_arena *a, size_t size, uint64_t *gpa);
/* Scrub and free what hmx_arena_alloc() returned (same size). */
void hmx_arena_free(struct hmx_arena *a, uint64_t gpa, size_t size);
/* Host pointer for an arena address, or NULL. */
void *hmx_arena_ptr(struct hmx_arena *a, uint64_t gpa);

#endif
