/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef BH_UTIL_THREADS_H
#define BH_UTIL_THREADS_H

#include <stdbool.h>

/*
 * Whether this process has exactly one thread. Capabilities, seccomp
 * filters and namespaces are per thread: a process confining itself must
 * be single-threaded first, or its other threads stay free. False if
 * /proc/self/task cannot be read.
 */
bool proc_single_threaded(void);

#endif
