/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The verified disk: every data block read is checked against a dm-verity
 * hash tree (format version 1, as `veritysetup format` writes it by
 * default) up to a root digest the caller trusts. A block that does not
 * match is an error, never data.
 *
 * The hash area (the file at hash_fd, from offset 0) starts with a
 * 512-byte superblock; the tree follows from the first hash block after
 * it. Level 0 holds the digests of the data blocks, level i + 1 those of
 * level i's hash blocks; the top level (one block) comes first on disk,
 * level 0 last. A digest is H(salt || block) over the whole block; each
 * sits in a slot of block_size / 2^floor(log2(block_size / digest_size))
 * bytes, the rest zero. The root is the digest of the top hash block, or
 * of the only data block when there is one (no tree then).
 *
 * blk_verity_parse_sb() and blk_verity_geometry() are pure. The verifier
 * reads hash blocks with pread() on hash_fd only (the jail allows that
 * descriptor), each one once into private memory, and trusts its bytes
 * only after that copy matched its parent's digest; verified blocks stay
 * in a bounded cache.
 */
#ifndef BH_DEVMODEL_BLK_VERITY_H
#define BH_DEVMODEL_BLK_VERITY_H

#include <stddef.h>
#include <stdint.h>

#define BLK_VERITY_SB_SIZE 512u
#define BLK_VERITY_SALT_MAX 256u
#define BLK_VERITY_BLOCK_MIN 512u
#define BLK_VERITY_BLOCK_MAX 65536u
#define BLK_VERITY_DIGEST_SIZE 32u /* sha256, the only algorithm taken */
/* 16 digests per 512-byte block, 2^63 bytes of data at most: 14 levels. */
#define BLK_VERITY_LEVELS_MAX 16u

/* The superblock's fields, checked. */
struct blk_verity_sb {
	uint32_t hash_type; /* 1 */
	uint8_t uuid[16];
	uint32_t data_block_size;
	uint32_t hash_block_size;
	uint64_t data_blocks; /* > 0, data_blocks * data_block_size <= 2^63 - 1 */
	uint16_t salt_size;
	uint8_t salt[BLK_VERITY_SALT_MAX];
};

/* Where the tree lies in the hash area, in hash blocks from its start. */
struct blk_verity_geom {
	unsigned int levels; /* 0: one data block, no tree */
	unsigned int digest_bits; /* log2 of digests per hash block */
	unsigned int slot_size; /* bytes per digest slot */
	uint64_t level_start[BLK_VERITY_LEVELS_MAX]; /* level 0 = lowest */
	uint64_t level_blocks[BLK_VERITY_LEVELS_MAX];
	uint64_t tree_start; /* first block after the superblock */
	uint64_t tree_blocks; /* in all levels */
	uint64_t hash_bytes_needed; /* superblock and tree */
	uint64_t data_bytes; /* data_blocks * data_block_size */
};

/*
 * Parses and checks the superblock in the first 512 bytes of buf:
 * signature "verity\0\0", version 1, hash_type 1, algorithm "sha256"
 * (zero-padded), block sizes powers of two from 512 to 65536, salt at most
 * 256 bytes, data_blocks > 0 and its byte count below 2^63. 0 or -EINVAL
 * with a message.
 */
int blk_verity_parse_sb(const uint8_t *buf, size_t len,
			struct blk_verity_sb *sb, char *err, size_t errlen);

/*
 * The tree's layout for sb; -EINVAL if hash_area_bytes (the hash file's
 * size) cannot hold the superblock and the whole tree.
 */
int blk_verity_geometry(const struct blk_verity_sb *sb,
			uint64_t hash_area_bytes, struct blk_verity_geom *g,
			char *err, size_t errlen);

struct blk_verity;

/*
 * Reads and checks the superblock and the tree's extent on hash_fd (not
 * taken over: the caller keeps it open while v lives and closes it
 * after). root: the trusted root digest, 32 bytes. data_bytes: the data
 * image's size, which must be exactly data_blocks * data_block_size (a
 * tree that covers less would leave bytes unverified, one that covers
 * more would verify blocks the image does not have). cache_bytes bounds
 * the memory for verified hash blocks: at least 4 hash blocks. NULL with
 * a message on any error.
 */
struct blk_verity *blk_verity_open(int hash_fd, const uint8_t *root,
				   size_t rootlen, uint64_t data_bytes,
				   size_t cache_bytes, char *err,
				   size_t errlen);
void blk_verity_free(struct blk_verity *v);

/*
 * Checks data block number block (data_block_size bytes at data, host
 * memory read once) against the tree. 0 if it matches; -EIO if it or any
 * hash block on its path does not (logged, once per block, at most
 * BLK_VERITY_LOG_MAX lines in all) or a hash block cannot be read;
 * -EINVAL if block is past the end.
 */
int blk_verity_check(struct blk_verity *v, uint64_t block, const uint8_t *data);

#define BLK_VERITY_LOG_MAX 100u

/* Tests and fuzzers: v logs nothing. */
void blk_verity_quiet(struct blk_verity *v);

int blk_verity_fd(const struct blk_verity *v);
uint32_t blk_verity_block_size(const struct blk_verity *v);
uint64_t blk_verity_blocks(const struct blk_verity *v);

/* Counters for tests and benchmarks. */
struct blk_verity_stats {
	uint64_t hash_reads; /* hash blocks read from hash_fd */
	uint64_t digests; /* SHA-256 computations */
	uint64_t failures; /* checks that returned -EIO */
};
void blk_verity_stats(const struct blk_verity *v, struct blk_verity_stats *st);

#endif
