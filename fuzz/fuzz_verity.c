// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzzes bulkhead-blk's dm-verity engine. The input is a hash area (a
 * superblock at offset 0, then the tree) whose last 32 bytes are also
 * the trusted root. blk_verity_parse_sb() and blk_verity_geometry() run
 * on it; when both accept, the input is written to a memfd and a verifier
 * with a small cache (4 to 32 hash blocks, by the root's first byte)
 * checks data blocks of zeros: the first, second, middle and last, the
 * first again, and one past the end. Aborts when:
 *
 * - a refusal is not -EINVAL, or its message is empty or not printable;
 * - the geometry differs from one computed here by repeated division
 *   (levels, per-level counts and starts, top level first, one top
 *   block), or needs more than the input;
 * - a check's result differs from a plain walk of the input from the root
 *   down (no cache), or is -EINVAL for a block inside the data, or not
 *   for the one past it;
 * - the verifier read more hash blocks than the checks' paths hold.
 */
#include "devmodel/blk/blk_verity.h"
#include "fuzz_input.h"

#include <errno.h>
#include <openssl/evp.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t zeros[BLK_VERITY_BLOCK_MAX];

static void check_message(const char *err)
{
	check(err[0]);
	for (const char *p = err; *p; p++)
		check(*p >= 0x20 && *p < 0x7f);
}

/* The layout by division: level i holds ceil(n_{i-1} / fan-out) blocks. */
static void check_geometry(const struct blk_verity_sb *sb,
			   const struct blk_verity_geom *g, size_t size)
{
	uint64_t fanout = 1, n = sb->data_blocks, pos;
	unsigned int levels = 0;

	while (fanout * 2 * BLK_VERITY_DIGEST_SIZE <= sb->hash_block_size)
		fanout *= 2;
	check(g->digest_bits < 64 && (1ull << g->digest_bits) == fanout);
	check(g->slot_size * fanout == sb->hash_block_size);
	check(g->slot_size >= BLK_VERITY_DIGEST_SIZE);
	check(g->data_bytes == sb->data_blocks * sb->data_block_size);
	check(g->tree_start == 1);
	while (n > 1) {
		n = n / fanout + (n % fanout != 0);
		check(levels < g->levels);
		check(g->level_blocks[levels] == n);
		levels++;
	}
	check(levels == g->levels);
	pos = g->tree_start;
	for (unsigned int i = levels; i-- > 0;) {
		check(g->level_start[i] == pos);
		pos += g->level_blocks[i];
	}
	check(g->tree_blocks == pos - g->tree_start);
	check(g->hash_bytes_needed ==
	      (levels ? pos * sb->hash_block_size : BLK_VERITY_SB_SIZE));
	check(g->hash_bytes_needed <= size);
}

static void digest(const struct blk_verity_sb *sb, const uint8_t *p, size_t len,
		   uint8_t *out)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int n = 0;

	check(ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL));
	check(EVP_DigestUpdate(ctx, sb->salt, sb->salt_size));
	check(EVP_DigestUpdate(ctx, p, len));
	check(EVP_DigestFinal_ex(ctx, out, &n) && n == 32);
	EVP_MD_CTX_free(ctx);
}

/* 0 if a zero data block number b verifies by walking the input. */
static int oracle(const struct blk_verity_sb *sb,
		  const struct blk_verity_geom *g, const uint8_t *area,
		  const uint8_t *root, uint64_t b)
{
	uint8_t want[32], got[32];

	memcpy(want, root, 32);
	for (unsigned int i = g->levels; i-- > 0;) {
		uint64_t idx = (i + 1) * g->digest_bits >= 64 ?
				       0 :
				       b >> ((i + 1) * g->digest_bits);
		uint64_t slot = (b >> (i * g->digest_bits)) &
				((1ull << g->digest_bits) - 1);
		const uint8_t *blk =
			area + (g->level_start[i] + idx) * sb->hash_block_size;

		digest(sb, blk, sb->hash_block_size, got);
		if (memcmp(got, want, 32))
			return -EIO;
		memcpy(want, blk + slot * g->slot_size, 32);
	}
	digest(sb, zeros, sb->data_block_size, got);
	return memcmp(got, want, 32) ? -EIO : 0;
}

static void run_verifier(const struct blk_verity_sb *sb,
			 const struct blk_verity_geom *g, const uint8_t *data,
			 size_t size)
{
	uint8_t root[32] = { 0 };
	uint64_t last = sb->data_blocks - 1;
	const uint64_t blocks[] = { 0, 1, last / 2, last, 0, last + 1 };
	char err[512];
	struct blk_verity *v;
	struct blk_verity_stats st;
	size_t cache;
	int fd;

	if (size >= 32)
		memcpy(root, data + size - 32, 32);
	cache = (size_t)(4 + (root[0] & 7) * 4) * sb->hash_block_size;
	fd = memfd_create("fuzz_verity", MFD_CLOEXEC);
	check(fd >= 0);
	check(write(fd, data, size) == (ssize_t)size);
	err[0] = '\0';
	v = blk_verity_open(fd, root, 32, g->data_bytes, cache, err,
			    sizeof(err));
	check(v);
	blk_verity_quiet(v);
	check(blk_verity_fd(v) == fd);
	check(blk_verity_blocks(v) == sb->data_blocks);
	check(blk_verity_block_size(v) == sb->data_block_size);
	for (unsigned int i = 0; i < sizeof(blocks) / sizeof(blocks[0]); i++) {
		uint64_t b = blocks[i];
		int r = blk_verity_check(v, b, zeros);

		if (b > last) {
			check(r == -EINVAL);
			continue;
		}
		check(r == oracle(sb, g, data, root, b));
	}
	blk_verity_stats(v, &st);
	check(st.hash_reads <= 5 * (uint64_t)g->levels);
	check(st.failures <= 5);
	blk_verity_free(v);
	close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct blk_verity_sb sb;
	struct blk_verity_geom g;
	char err[512];
	int r;

	err[0] = '\0';
	r = blk_verity_parse_sb(data, size, &sb, err, sizeof(err));
	if (r) {
		check(r == -EINVAL);
		check_message(err);
		return 0;
	}
	check(sb.hash_type == 1 && sb.salt_size <= BLK_VERITY_SALT_MAX);
	err[0] = '\0';
	r = blk_verity_geometry(&sb, size, &g, err, sizeof(err));
	if (r) {
		check(r == -EINVAL);
		check_message(err);
		return 0;
	}
	check_geometry(&sb, &g, size);
	run_verifier(&sb, &g, data, size);
	return 0;
}
