/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Memory for key material (passphrases, volume keys) and the sealed memfd
 * a key travels in from bulkheadd to a device model.
 */
#ifndef BH_UTIL_SECRET_H
#define BH_UTIL_SECRET_H

#include <stddef.h>
#include <sys/types.h>

/*
 * len bytes (len > 0) of zeroed anonymous memory of their own pages:
 * locked in RAM (never swapped), left out of core dumps and not inherited
 * by a forked child. NULL on failure (errno set), e.g. when mlock is
 * refused by RLIMIT_MEMLOCK.
 */
void *secret_alloc(size_t len);

/* Zeroes and unmaps what secret_alloc(len) returned; NULL is ignored. */
void secret_free(void *p, size_t len);

/*
 * A memfd holding the len bytes (len > 0) of key, sealed against every
 * change (F_SEAL_SHRINK, GROW, WRITE and SEAL). Close-on-exec. Returns
 * the descriptor or -errno.
 */
int secret_memfd(const void *key, size_t len);

/*
 * Reads the whole content of fd into buf (room for max bytes) if fd is a
 * memfd sealed with at least F_SEAL_SHRINK, GROW and WRITE (so its
 * content cannot change under the reader) whose size is 1..max. Returns
 * the byte count, or -EBADF / -EINVAL (not such a memfd, or empty),
 * -EMSGSIZE (larger than max) or -EIO (short read). On error buf holds
 * no key bytes.
 */
ssize_t secret_read_memfd(int fd, void *buf, size_t max);

#endif
