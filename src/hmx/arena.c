// SPDX-License-Identifier: GPL-2.0-only
#include "hmx/arena.h"

#include "hmx/lock.h"

#include <bulkhead/hmx.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

struct hmx_arena {
	uint8_t *mem;
	size_t size;
	size_t npages;
	struct hmx_mutex lock; /* HMX_LOCK_LEAF: the page map */
	bool *used;
};

int hmx_arena_create(size_t size, struct hmx_arena **out)
{
	struct hmx_arena *a;

	*out = NULL;
	if (!size || size > (1ull << 40))
		return -EINVAL;
	size = (size + HMX_PAGE_SIZE - 1) & ~(size_t)(HMX_PAGE_SIZE - 1);
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->size = size;
	a->npages = size / HMX_PAGE_SIZE;
	a->used = calloc(a->npages, sizeof(*a->used));
	a->mem = mmap(NULL, size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!a->used || a->mem == MAP_FAILED) {
		if (a->mem != MAP_FAILED)
			munmap(a->mem, size);
		free(a->used);
		free(a);
		return -ENOMEM;
	}
	hmx_mutex_init(&a->lock, HMX_LOCK_LEAF, "arena");
	*out = a;
	return 0;
}

void hmx_arena_destroy(struct hmx_arena *a)
{
	if (!a)
		return;
	munmap(a->mem, a->size);
	hmx_mutex_destroy(&a->lock);
	free(a->used);
	free(a);
}

void *hmx_arena_translate(void *arena, uint64_t gpa, uint64_t len)
{
	struct hmx_arena *a = arena;

	if (gpa < HMX_ARENA_BASE || !len || len > a->size ||
	    gpa - HMX_ARENA_BASE > a->size - len)
		return NULL;
	return a->mem + (gpa - HMX_ARENA_BASE);
}

void *hmx_arena_ptr(struct hmx_arena *a, uint64_t gpa)
{
	return hmx_arena_translate(a, gpa, 1);
}

int hmx_arena_alloc(struct hmx_arena *a, size_t size, uint64_t *gpa)
{
	size_t n = (size + HMX_PAGE_SIZE - 1) / HMX_PAGE_SIZE, run = 0;

	if (!size || n > a->npages)
		return -EINVAL;
	hmx_mutex_lock(&a->lock);
	for (size_t i = 0; i < a->npages; i++) {
		run = a->used[i] ? 0 : run + 1;
		if (run == n) {
			size_t first = i + 1 - n;

			for (size_t j = first; j <= i; j++)
				a->used[j] = true;
			hmx_mutex_unlock(&a->lock);
			*gpa = HMX_ARENA_BASE + first * HMX_PAGE_SIZE;
			return 0;
		}
	}
	hmx_mutex_unlock(&a->lock);
	return -ENOMEM;
}

void hmx_arena_free(struct hmx_arena *a, uint64_t gpa, size_t size)
{
	size_t n = (size + HMX_PAGE_SIZE - 1) / HMX_PAGE_SIZE, first;

	if (!size || !hmx_arena_translate(a, gpa, n * HMX_PAGE_SIZE) ||
	    (gpa - HMX_ARENA_BASE) % HMX_PAGE_SIZE)
		return;
	first = (gpa - HMX_ARENA_BASE) / HMX_PAGE_SIZE;
	/* Periods processing: nothing leaks into the next user of a page. */
	memset(a->mem + first * HMX_PAGE_SIZE, 0, n * HMX_PAGE_SIZE);
	hmx_mutex_lock(&a->lock);
	for (size_t j = first; j < first + n; j++)
		a->used[j] = false;
	hmx_mutex_unlock(&a->lock);
}
