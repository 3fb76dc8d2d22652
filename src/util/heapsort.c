// SPDX-License-Identifier: GPL-2.0-only
#include "util/heapsort.h"

#include <string.h>

static void swap_elems(unsigned char *a, unsigned char *b, size_t size)
{
	unsigned char t[64];

	while (size) {
		size_t k = size < sizeof(t) ? size : sizeof(t);

		memcpy(t, a, k);
		memcpy(a, b, k);
		memcpy(b, t, k);
		a += k;
		b += k;
		size -= k;
	}
}

/* Moves element i down until the max-heap of the first n holds again. */
static void sift_down(unsigned char *base, size_t i, size_t n, size_t size,
		      int (*cmp)(const void *, const void *))
{
	for (;;) {
		size_t child = 2 * i + 1, big = i;

		if (child < n &&
		    cmp(base + child * size, base + big * size) > 0)
			big = child;
		if (child + 1 < n &&
		    cmp(base + (child + 1) * size, base + big * size) > 0)
			big = child + 1;
		if (big == i)
			return;
		swap_elems(base + i * size, base + big * size, size);
		i = big;
	}
}

void bh_heapsort(void *base, size_t n, size_t size,
		 int (*cmp)(const void *, const void *))
{
	unsigned char *b = base;

	if (n < 2 || !size)
		return;
	for (size_t i = n / 2; i-- > 0;)
		sift_down(b, i, n, size, cmp);
	for (size_t end = n - 1; end > 0; end--) {
		swap_elems(b, b + end * size, size);
		sift_down(b, 0, end, size, cmp);
	}
}
