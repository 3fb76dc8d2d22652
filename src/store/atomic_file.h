/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef BH_STORE_ATOMIC_FILE_H
#define BH_STORE_ATOMIC_FILE_H

#include <stddef.h>

/*
 * Replaces dirfd/name with len bytes of buf (mode 0600) so that a crash at
 * any point leaves either the old or the new content: writes a new temp
 * file "name.tmp.PID.N", fsyncs it, renames it over name, fsyncs the
 * directory. On failure the temp file is removed and name is untouched.
 * 0 or -errno.
 */
int atomic_replace(int dirfd, const char *name, const void *buf, size_t len);

/* Removes leftover "name.tmp.*" files of writers that died. */
void atomic_remove_temps(int dirfd, const char *name);

#endif
