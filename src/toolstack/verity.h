/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dm-verity hash trees for verified read-only disks: written and read with
 * libcryptsetup in user space (no device-mapper), in the format
 * `veritysetup verify` and `veritysetup open` take. Like luks.h, it works
 * on descriptors, handing libcryptsetup /proc/self/fd/N.
 */
#ifndef BH_TOOLSTACK_VERITY_H
#define BH_TOOLSTACK_VERITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VERITY_BLOCK 4096u /* data and hash block size written */
#define VERITY_SALT_BYTES 32u /* random salt written */
#define VERITY_SALT_MAX 256u /* the superblock's salt field */
#define VERITY_ROOT_MAX 64u /* bytes of the largest root hash */

struct verity_info {
	uint32_t hash_type; /* format: 1 (0 is Chrome OS's) */
	char hash_name[32]; /* "sha256" */
	uint32_t data_block_size;
	uint32_t hash_block_size;
	uint64_t data_blocks; /* data covered, in data blocks */
	uint64_t hash_offset; /* bytes: the superblock's place in its file */
	uint32_t salt_size;
	uint8_t salt[VERITY_SALT_MAX];
	char uuid[40];
};

/* The verity superblock magic "verity\0\0" at buf's start. */
bool verity_magic(const uint8_t *buf, size_t len);

/*
 * Writes the hash tree of the data open at data_fd (a size that is a
 * nonzero multiple of VERITY_BLOCK) to the empty file open read-write at
 * hash_fd, superblock at offset 0: format 1, sha256, 4096-byte blocks, a
 * random VERITY_SALT_BYTES salt. The root hash goes to root (room for
 * VERITY_ROOT_MAX bytes), its length to *root_len; info (may be NULL) gets
 * the superblock. Returns 0 or -errno with err set.
 */
int verity_format(int data_fd, int hash_fd, uint8_t *root, size_t *root_len,
		  struct verity_info *info, char *err, size_t errlen);

/* Reads the superblock of the hash file open at fd. 0 or -errno. */
int verity_inspect(int fd, struct verity_info *info, char *err, size_t errlen);

#endif
