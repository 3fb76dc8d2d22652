// SPDX-License-Identifier: GPL-2.0-only
/*
 * The verifier. A check walks the data block's path through the tree top
 * down from the lowest level whose block is already verified and cached
 * (or from the root): each missing hash block is read once into the cache
 * slot it will occupy, its digest compared with the one its verified
 * parent holds, and only then is the slot marked valid and its digest
 * for the next level down taken. Digests are copied out of a slot before
 * the next read, so evicting a slot mid-walk is harmless.
 *
 * The cache is 4-way set associative over hash block numbers with LRU
 * eviction; a block used as the anchor of a walk counts as used, so the
 * upper levels stay cached while level 0 streams through. Sequential
 * reads then cost one digest per data block and one per level-0 block
 * (every 2^digest_bits data blocks).
 */
#include "devmodel/blk/blk_verity.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/log.h"

#define WAYS 4u
#define LOGGED_RING 64u /* recently logged bad blocks, not logged again */
#define BUF_ALIGN 4096u /* O_DIRECT-friendly reads */

struct blk_verity {
	int fd;
	struct blk_verity_sb sb;
	struct blk_verity_geom g;
	uint8_t root[BLK_VERITY_DIGEST_SIZE];
	EVP_MD *md;
	EVP_MD_CTX *ctx;
	uint64_t nsets;
	uint8_t *blocks; /* nsets * WAYS hash blocks */
	uint64_t *tag; /* hash block number + 1; 0: slot empty */
	uint64_t *used; /* LRU stamp */
	uint64_t tick;
	uint64_t logged[LOGGED_RING];
	unsigned int nlogged; /* entries of logged[] in use */
	unsigned int logged_next;
	unsigned int log_lines;
	struct blk_verity_stats st;
};

static int read_full(int fd, uint8_t *buf, size_t len, uint64_t off)
{
	while (len) {
		ssize_t r = pread(fd, buf, len, (off_t)off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -EIO; /* the file shrank */
		buf += r;
		len -= (size_t)r;
		off += (uint64_t)r;
	}
	return 0;
}

static int hash_size(int fd, uint64_t *size)
{
	off_t end = lseek(fd, 0, SEEK_END);

	if (end < 0)
		return -errno;
	*size = (uint64_t)end;
	return 0;
}

/* H(salt || block): format 1 puts the salt first. */
static int digest(struct blk_verity *v, const uint8_t *buf, size_t len,
		  uint8_t *out)
{
	unsigned int n;

	v->st.digests++;
	if (!EVP_DigestInit_ex(v->ctx, v->md, NULL) ||
	    (v->sb.salt_size &&
	     !EVP_DigestUpdate(v->ctx, v->sb.salt, v->sb.salt_size)) ||
	    !EVP_DigestUpdate(v->ctx, buf, len) ||
	    !EVP_DigestFinal_ex(v->ctx, out, &n) || n != BLK_VERITY_DIGEST_SIZE)
		return -EIO;
	return 0;
}

struct blk_verity *blk_verity_open(int hash_fd, const uint8_t *root,
				   size_t rootlen, uint64_t data_bytes,
				   size_t cache_bytes, char *err, size_t errlen)
{
	uint8_t sbuf[BLK_VERITY_SB_SIZE];
	struct blk_verity *v;
	uint64_t area = 0, nslots;
	int r;

	if (rootlen != BLK_VERITY_DIGEST_SIZE) {
		snprintf(err, errlen,
			 "verity root hash of %zu bytes: sha256 needs %u",
			 rootlen, BLK_VERITY_DIGEST_SIZE);
		return NULL;
	}
	v = calloc(1, sizeof(*v));
	if (!v) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	v->fd = hash_fd;
	memcpy(v->root, root, sizeof(v->root));
	r = hash_size(hash_fd, &area);
	if (r) {
		snprintf(err, errlen, "verity hash device: size: %s",
			 strerror(-r));
		goto fail;
	}
	r = area < sizeof(sbuf) ? -EIO :
				  read_full(hash_fd, sbuf, sizeof(sbuf), 0);
	if (r) {
		snprintf(err, errlen,
			 "verity hash device: cannot read its superblock: %s",
			 strerror(-r));
		goto fail;
	}
	if (blk_verity_parse_sb(sbuf, sizeof(sbuf), &v->sb, err, errlen) ||
	    blk_verity_geometry(&v->sb, area, &v->g, err, errlen))
		goto fail;
	if (v->g.data_bytes != data_bytes) {
		snprintf(
			err, errlen,
			"verity tree covers %llu bytes of data (%llu blocks of %u), the image has %llu",
			(unsigned long long)v->g.data_bytes,
			(unsigned long long)v->sb.data_blocks,
			v->sb.data_block_size, (unsigned long long)data_bytes);
		goto fail;
	}
	nslots = cache_bytes / v->sb.hash_block_size;
	if (nslots < WAYS) {
		snprintf(
			err, errlen,
			"verity cache of %zu bytes holds fewer than %u hash blocks of %u bytes",
			cache_bytes, WAYS, v->sb.hash_block_size);
		goto fail;
	}
	/* No more sets than the tree's blocks fill (one for no tree). */
	v->nsets = nslots / WAYS;
	if (v->nsets > (v->g.tree_blocks + WAYS - 1) / WAYS)
		v->nsets = (v->g.tree_blocks + WAYS - 1) / WAYS;
	if (!v->nsets)
		v->nsets = 1;
	nslots = v->nsets * WAYS;
	v->blocks = aligned_alloc(
		BUF_ALIGN, (nslots * v->sb.hash_block_size + BUF_ALIGN - 1) /
				   BUF_ALIGN * BUF_ALIGN);
	v->tag = calloc(nslots, sizeof(*v->tag));
	v->used = calloc(nslots, sizeof(*v->used));
	v->md = EVP_MD_fetch(NULL, "SHA256", NULL);
	v->ctx = EVP_MD_CTX_new();
	if (!v->blocks || !v->tag || !v->used || !v->md || !v->ctx) {
		snprintf(err, errlen,
			 "verity: out of memory or no SHA-256 in OpenSSL");
		goto fail;
	}
	return v;
fail:
	blk_verity_free(v);
	return NULL;
}

void blk_verity_free(struct blk_verity *v)
{
	if (!v)
		return;
	EVP_MD_CTX_free(v->ctx);
	EVP_MD_free(v->md);
	free(v->blocks);
	free(v->tag);
	free(v->used);
	free(v);
}

static uint8_t *slot_data(struct blk_verity *v, uint64_t slot)
{
	return v->blocks + slot * v->sb.hash_block_size;
}

/* The verified copy of hash block hb, or NULL. */
static uint8_t *cache_find(struct blk_verity *v, uint64_t hb)
{
	uint64_t base = hb % v->nsets * WAYS;

	for (unsigned int w = 0; w < WAYS; w++) {
		if (v->tag[base + w] == hb + 1) {
			v->used[base + w] = ++v->tick;
			return slot_data(v, base + w);
		}
	}
	return NULL;
}

static uint64_t cache_victim(const struct blk_verity *v, uint64_t hb)
{
	uint64_t base = hb % v->nsets * WAYS, best = base;

	for (unsigned int w = 0; w < WAYS; w++) {
		if (!v->tag[base + w])
			return base + w;
		if (v->used[base + w] < v->used[best])
			best = base + w;
	}
	return best;
}

enum load_result { LOAD_OK, LOAD_MISMATCH, LOAD_IO };

/*
 * Reads hash block hb into a cache slot and keeps it if its digest is
 * want; *out is the verified copy.
 */
static enum load_result cache_load(struct blk_verity *v, uint64_t hb,
				   const uint8_t *want, uint8_t **out)
{
	uint64_t slot = cache_victim(v, hb);
	uint8_t *p = slot_data(v, slot);
	uint8_t got[BLK_VERITY_DIGEST_SIZE];
	uint32_t hbs = v->sb.hash_block_size;
	int r;

	v->tag[slot] = 0;
	v->st.hash_reads++;
	r = read_full(v->fd, p, hbs, hb * hbs);
	if (r) {
		if (v->log_lines < BLK_VERITY_LOG_MAX) {
			v->log_lines++;
			bh_err("verity: cannot read hash block %llu: %s",
			       (unsigned long long)hb, strerror(-r));
		}
		return LOAD_IO;
	}
	if (digest(v, p, hbs, got))
		return LOAD_IO;
	if (memcmp(got, want, sizeof(got)))
		return LOAD_MISMATCH;
	v->tag[slot] = hb + 1;
	v->used[slot] = ++v->tick;
	*out = p;
	return LOAD_OK;
}

static bool logged_before(struct blk_verity *v, uint64_t block)
{
	for (unsigned int i = 0; i < v->nlogged; i++) {
		if (v->logged[i] == block)
			return true;
	}
	v->logged[v->logged_next] = block;
	v->logged_next = (v->logged_next + 1) % LOGGED_RING;
	if (v->nlogged < LOGGED_RING)
		v->nlogged++;
	return false;
}

/* level < 0: the data block's own digest; else hash block hb there. */
static int bad_block(struct blk_verity *v, uint64_t block, int level,
		     uint64_t hb)
{
	v->st.failures++;
	if (logged_before(v, block) || v->log_lines >= BLK_VERITY_LOG_MAX)
		return -EIO;
	v->log_lines++;
	if (level < 0)
		bh_err("verity: data block %llu does not match its hash tree",
		       (unsigned long long)block);
	else
		bh_err("verity: data block %llu unreadable: hash block %llu (level %d) does not match its parent",
		       (unsigned long long)block, (unsigned long long)hb,
		       level);
	if (v->log_lines == BLK_VERITY_LOG_MAX)
		bh_err("verity: %u bad blocks logged, not logging more",
		       BLK_VERITY_LOG_MAX);
	return -EIO;
}

static uint64_t shr(uint64_t x, unsigned int s)
{
	return s >= 64 ? 0 : x >> s;
}

int blk_verity_check(struct blk_verity *v, uint64_t block, const uint8_t *data)
{
	const struct blk_verity_geom *g = &v->g;
	uint64_t hb[BLK_VERITY_LEVELS_MAX];
	unsigned int slot[BLK_VERITY_LEVELS_MAX];
	uint64_t mask = ((uint64_t)1 << g->digest_bits) - 1;
	uint8_t want[BLK_VERITY_DIGEST_SIZE], got[BLK_VERITY_DIGEST_SIZE];
	unsigned int top = g->levels;

	if (block >= v->sb.data_blocks)
		return -EINVAL;
	for (unsigned int i = 0; i < g->levels; i++) {
		hb[i] = g->level_start[i] +
			shr(block, (i + 1) * g->digest_bits);
		slot[i] = (unsigned int)(shr(block, i * g->digest_bits) & mask);
	}
	memcpy(want, v->root, sizeof(want));
	for (unsigned int i = 0; i < g->levels; i++) {
		const uint8_t *p = cache_find(v, hb[i]);

		if (p) {
			memcpy(want, p + (size_t)slot[i] * g->slot_size,
			       sizeof(want));
			top = i;
			break;
		}
	}
	for (unsigned int i = top; i-- > 0;) {
		uint8_t *p = NULL;

		switch (cache_load(v, hb[i], want, &p)) {
		case LOAD_OK:
			break;
		case LOAD_MISMATCH:
			return bad_block(v, block, (int)i, hb[i]);
		case LOAD_IO:
			v->st.failures++;
			return -EIO;
		}
		memcpy(want, p + (size_t)slot[i] * g->slot_size, sizeof(want));
	}
	if (digest(v, data, v->sb.data_block_size, got)) {
		v->st.failures++;
		return -EIO;
	}
	if (memcmp(got, want, sizeof(got)))
		return bad_block(v, block, -1, 0);
	return 0;
}

void blk_verity_quiet(struct blk_verity *v)
{
	v->log_lines = BLK_VERITY_LOG_MAX + 1;
}

int blk_verity_fd(const struct blk_verity *v)
{
	return v->fd;
}

uint32_t blk_verity_block_size(const struct blk_verity *v)
{
	return v->sb.data_block_size;
}

uint64_t blk_verity_blocks(const struct blk_verity *v)
{
	return v->sb.data_blocks;
}

void blk_verity_stats(const struct blk_verity *v, struct blk_verity_stats *st)
{
	*st = v->st;
}
