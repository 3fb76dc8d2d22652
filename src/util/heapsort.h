/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef BH_UTIL_HEAPSORT_H
#define BH_UTIL_HEAPSORT_H

#include <stddef.h>

/*
 * Sorts like qsort(3), in place, with no allocation and no system call.
 * glibc's qsort asks sysconf(_SC_PHYS_PAGES) (the sysinfo system call)
 * before sorting more than 1 KiB, which a seccomp jail rightly kills; and
 * the size here may be a guest's to choose. Not stable.
 */
void bh_heapsort(void *base, size_t n, size_t size,
		 int (*cmp)(const void *, const void *));

#endif
