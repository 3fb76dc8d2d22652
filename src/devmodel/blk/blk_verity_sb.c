// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-verity's superblock and the tree layout it implies: pure arithmetic
 * on untrusted numbers, every product and sum checked against 2^63 (file
 * offsets are off_t).
 */
#include "devmodel/blk/blk_verity.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "util/bytes.h"

/* Superblock layout (little-endian). */
#define SB_SIGNATURE 0
#define SB_VERSION 8
#define SB_HASH_TYPE 12
#define SB_UUID 16
#define SB_ALGORITHM 32
#define SB_ALGORITHM_LEN 32
#define SB_DATA_BLOCK_SIZE 64
#define SB_HASH_BLOCK_SIZE 68
#define SB_DATA_BLOCKS 72
#define SB_SALT_SIZE 80
#define SB_SALT 88

#define OFF_MAX ((uint64_t)INT64_MAX)

static const char signature[8] = "verity\0\0";
static const char algorithm[] = "sha256";

static bool block_size_ok(uint32_t n)
{
	return n >= BLK_VERITY_BLOCK_MIN && n <= BLK_VERITY_BLOCK_MAX &&
	       !(n & (n - 1));
}

static unsigned int log2_u32(uint32_t n)
{
	unsigned int s = 0;

	while (n >> (s + 1))
		s++;
	return s;
}

/* The checks geometry depends on, for a superblock built by hand too. */
static int check_fields(const struct blk_verity_sb *sb, char *err,
			size_t errlen)
{
	if (sb->hash_type != 1) {
		snprintf(
			err, errlen,
			"verity hash type %u not supported (only 1, the normal format)",
			sb->hash_type);
		return -EINVAL;
	}
	if (!block_size_ok(sb->data_block_size)) {
		snprintf(
			err, errlen,
			"verity data block size %u: must be a power of two from %u to %u",
			sb->data_block_size, BLK_VERITY_BLOCK_MIN,
			BLK_VERITY_BLOCK_MAX);
		return -EINVAL;
	}
	if (!block_size_ok(sb->hash_block_size)) {
		snprintf(
			err, errlen,
			"verity hash block size %u: must be a power of two from %u to %u",
			sb->hash_block_size, BLK_VERITY_BLOCK_MIN,
			BLK_VERITY_BLOCK_MAX);
		return -EINVAL;
	}
	if (sb->salt_size > BLK_VERITY_SALT_MAX) {
		snprintf(err, errlen, "verity salt of %u bytes: at most %u",
			 sb->salt_size, BLK_VERITY_SALT_MAX);
		return -EINVAL;
	}
	if (!sb->data_blocks) {
		snprintf(err, errlen, "verity superblock has no data blocks");
		return -EINVAL;
	}
	if (sb->data_blocks > OFF_MAX / sb->data_block_size) {
		snprintf(err, errlen,
			 "verity data of %llu blocks of %u bytes is too large",
			 (unsigned long long)sb->data_blocks,
			 sb->data_block_size);
		return -EINVAL;
	}
	return 0;
}

int blk_verity_parse_sb(const uint8_t *buf, size_t len,
			struct blk_verity_sb *sb, char *err, size_t errlen)
{
	uint32_t version;
	const uint8_t *alg = buf + SB_ALGORITHM;

	if (len < BLK_VERITY_SB_SIZE) {
		snprintf(err, errlen, "verity superblock: %zu bytes, needs %u",
			 len, BLK_VERITY_SB_SIZE);
		return -EINVAL;
	}
	if (memcmp(buf + SB_SIGNATURE, signature, sizeof(signature))) {
		snprintf(err, errlen,
			 "no verity superblock (signature \"verity\" missing)");
		return -EINVAL;
	}
	version = get_le32(buf + SB_VERSION);
	if (version != 1) {
		snprintf(err, errlen,
			 "verity superblock version %u not supported (only 1)",
			 version);
		return -EINVAL;
	}
	/* The name, then zeros to the end of the field. */
	if (memcmp(alg, algorithm, sizeof(algorithm))) {
		char name[SB_ALGORITHM_LEN + 1];
		size_t n = 0;

		while (n < SB_ALGORITHM_LEN && alg[n] >= 0x20 &&
		       alg[n] < 0x7f) {
			name[n] = (char)alg[n];
			n++;
		}
		name[n] = '\0';
		snprintf(
			err, errlen,
			"verity hash algorithm \"%s\" not supported (only sha256)",
			name);
		return -EINVAL;
	}
	for (size_t i = sizeof(algorithm); i < SB_ALGORITHM_LEN; i++) {
		if (alg[i]) {
			snprintf(
				err, errlen,
				"verity hash algorithm field: bytes after \"sha256\" are not zero");
			return -EINVAL;
		}
	}
	memset(sb, 0, sizeof(*sb));
	sb->hash_type = get_le32(buf + SB_HASH_TYPE);
	memcpy(sb->uuid, buf + SB_UUID, sizeof(sb->uuid));
	sb->data_block_size = get_le32(buf + SB_DATA_BLOCK_SIZE);
	sb->hash_block_size = get_le32(buf + SB_HASH_BLOCK_SIZE);
	sb->data_blocks = get_le64(buf + SB_DATA_BLOCKS);
	sb->salt_size = get_le16(buf + SB_SALT_SIZE);
	if (check_fields(sb, err, errlen))
		return -EINVAL;
	memcpy(sb->salt, buf + SB_SALT, sb->salt_size);
	return 0;
}

static uint64_t shr(uint64_t x, unsigned int s)
{
	return s >= 64 ? 0 : x >> s;
}

int blk_verity_geometry(const struct blk_verity_sb *sb,
			uint64_t hash_area_bytes, struct blk_verity_geom *g,
			char *err, size_t errlen)
{
	uint32_t hbs;
	uint64_t pos, max_blocks;

	if (check_fields(sb, err, errlen))
		return -EINVAL;
	hbs = sb->hash_block_size;
	memset(g, 0, sizeof(*g));
	g->digest_bits = log2_u32(hbs / BLK_VERITY_DIGEST_SIZE);
	g->slot_size = hbs >> g->digest_bits;
	g->data_bytes = sb->data_blocks * sb->data_block_size;
	/* Levels until one hash block covers every data block. */
	while (shr(sb->data_blocks - 1, g->levels * g->digest_bits)) {
		if (g->levels == BLK_VERITY_LEVELS_MAX) {
			snprintf(err, errlen, "verity tree too deep");
			return -EINVAL;
		}
		g->levels++;
	}
	g->tree_start = (BLK_VERITY_SB_SIZE + hbs - 1) / hbs;
	max_blocks = OFF_MAX / hbs;
	pos = g->tree_start;
	for (unsigned int i = g->levels; i-- > 0;) {
		uint64_t n =
			shr(sb->data_blocks - 1, (i + 1) * g->digest_bits) + 1;

		g->level_start[i] = pos;
		g->level_blocks[i] = n;
		if (n > max_blocks - pos) {
			snprintf(err, errlen, "verity tree too large");
			return -EINVAL;
		}
		pos += n;
	}
	g->tree_blocks = pos - g->tree_start;
	g->hash_bytes_needed = g->levels ? pos * hbs :
					   (uint64_t)BLK_VERITY_SB_SIZE;
	if (hash_area_bytes < g->hash_bytes_needed) {
		snprintf(
			err, errlen,
			"verity hash area of %llu bytes is too small: the superblock and a tree of %llu blocks of %u bytes need %llu",
			(unsigned long long)hash_area_bytes,
			(unsigned long long)g->tree_blocks, hbs,
			(unsigned long long)g->hash_bytes_needed);
		return -EINVAL;
	}
	return 0;
}
