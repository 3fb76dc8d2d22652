/* SPDX-License-Identifier: GPL-2.0-only */
/* SHA-256 of a whole file, read through a descriptor (OpenSSL EVP). */
#ifndef BH_UTIL_FILE_HASH_H
#define BH_UTIL_FILE_HASH_H

#include <stddef.h>
#include <stdint.h>

#define FILE_SHA256_BYTES 32u

/* Called now and then with the bytes hashed so far and the total. */
typedef void (*file_hash_progress_fn)(uint64_t done, uint64_t total, void *arg);

/*
 * Hashes every byte of fd from offset 0 to its size (pread: the file
 * offset is left alone). Returns 0, or -errno (-EIO if the file shrank
 * while being read).
 */
int file_sha256(int fd, uint8_t out[FILE_SHA256_BYTES],
		file_hash_progress_fn progress, void *arg);

#endif
