// SPDX-License-Identifier: GPL-2.0-only
/*
 * blk_verity against trees written by `veritysetup format` (which hashes
 * in user space: no device-mapper needed): every block verifies; a flipped
 * byte in a data block fails that block alone, one in a level-0 hash block
 * the blocks it covers, one in the top block or a wrong root all of them;
 * hash blocks are read once with a cache that holds the tree, and
 * sequential reads with a small one cost a digest per data block plus one
 * per level-0 block; corrupted superblocks give clear errors. Without
 * veritysetup those tests are skipped, saying so. The parser and the
 * geometry are also tested on hand-built superblocks, at their limits.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "devmodel/blk/blk_verity.h"
#include "util/bytes.h"
#include "util/hex.h"

#define CACHE_ALL (4u << 20)

static char err[512];

/* A data file, its tree and its root, in a temporary directory. */
struct tree {
	char dir[64], data[96], hash[96];
	uint32_t dbs, hbs;
	uint64_t blocks;
	uint8_t root[32];
	uint8_t *content; /* the data file's bytes */
	struct blk_verity_sb sb;
	struct blk_verity_geom g;
};

static const char *veritysetup_path(void)
{
	static char found[512];
	static const char *const extra[] = { "/usr/sbin", "/sbin" };
	const char *path = getenv("PATH");
	char dirs[4096];

	snprintf(dirs, sizeof(dirs), "%s:%s:%s", path ? path : "", extra[0],
		 extra[1]);
	for (char *save, *d = strtok_r(dirs, ":", &save); d;
	     d = strtok_r(NULL, ":", &save)) {
		snprintf(found, sizeof(found), "%s/veritysetup", d);
		if (*d && !access(found, X_OK))
			return found;
	}
	return NULL;
}

static uint64_t rng_state = 0x2545f4914f6cdd1dull;

static uint8_t rnd8(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint8_t)(rng_state >> 24);
}

static void write_file(const char *path, const uint8_t *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	close(fd);
}

static void patch_file(const char *path, uint64_t off, uint8_t xor)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);
	uint8_t b;

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &b, 1, (off_t)off), 1);
	b ^= xor;
	assert_int_equal(pwrite(fd, &b, 1, (off_t)off), 1);
	close(fd);
}

static void read_sb(const char *path, uint8_t *sb)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, sb, BLK_VERITY_SB_SIZE, 0),
			 BLK_VERITY_SB_SIZE);
	close(fd);
}

/*
 * Makes blocks random data blocks (zeros if zero) and formats them; false
 * (after saying why) if veritysetup is missing.
 */
static bool make_tree(struct tree *t, uint64_t blocks, uint32_t dbs,
		      uint32_t hbs, const char *salt, bool zero)
{
	const char *vs = veritysetup_path();
	char cmd[1024], line[512], *hex = NULL;
	size_t len = (size_t)(blocks * dbs);
	uint8_t sb[BLK_VERITY_SB_SIZE];
	struct stat st;
	FILE *out;

	if (!vs) {
		print_message(
			"veritysetup not found (cryptsetup-bin): skipped\n");
		return false;
	}
	memset(t, 0, sizeof(*t));
	snprintf(t->dir, sizeof(t->dir), "/tmp/test_blk_verity.XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	snprintf(t->data, sizeof(t->data), "%s/data", t->dir);
	snprintf(t->hash, sizeof(t->hash), "%s/hash", t->dir);
	t->dbs = dbs;
	t->hbs = hbs;
	t->blocks = blocks;
	t->content = malloc(len);
	assert_non_null(t->content);
	for (size_t i = 0; i < len; i++)
		t->content[i] = zero ? 0 : rnd8();
	write_file(t->data, t->content, len);
	snprintf(
		cmd, sizeof(cmd),
		"%s format --data-block-size=%u --hash-block-size=%u%s%s %s %s 2>&1",
		vs, dbs, hbs, salt ? " --salt=" : "", salt ? salt : "", t->data,
		t->hash);
	out = popen(cmd, "r");
	assert_non_null(out);
	while (fgets(line, sizeof(line), out)) {
		if (!strncmp(line, "Root hash:", 10)) {
			hex = line + 10;
			while (*hex == ' ' || *hex == '\t')
				hex++;
			hex[strcspn(hex, " \t\r\n")] = '\0';
			assert_int_equal(hex_decode(hex, t->root, 32), 32);
		}
	}
	assert_int_equal(pclose(out), 0);
	assert_non_null(hex);
	read_sb(t->hash, sb);
	assert_int_equal(blk_verity_parse_sb(sb, sizeof(sb), &t->sb, err,
					     sizeof(err)),
			 0);
	assert_int_equal(stat(t->hash, &st), 0);
	assert_int_equal(blk_verity_geometry(&t->sb, (uint64_t)st.st_size,
					     &t->g, err, sizeof(err)),
			 0);
	/* veritysetup writes exactly the superblock and the tree. */
	assert_int_equal(t->g.hash_bytes_needed,
			 t->g.levels ? (uint64_t)st.st_size : 512);
	return true;
}

static void drop_tree(struct tree *t)
{
	unlink(t->data);
	unlink(t->hash);
	rmdir(t->dir);
	free(t->content);
}

static struct blk_verity *open_tree(const struct tree *t, const uint8_t *root,
				    size_t cache, int *fd)
{
	struct blk_verity *v;

	*fd = open(t->hash, O_RDONLY | O_CLOEXEC);
	assert_true(*fd >= 0);
	v = blk_verity_open(*fd, root ? root : t->root, 32, t->blocks * t->dbs,
			    cache, err, sizeof(err));
	if (!v)
		fail_msg("blk_verity_open: %s", err);
	blk_verity_quiet(v);
	assert_int_equal(blk_verity_fd(v), *fd);
	assert_int_equal(blk_verity_block_size(v), t->dbs);
	assert_int_equal(blk_verity_blocks(v), t->blocks);
	return v;
}

static void close_tree(struct blk_verity *v, int fd)
{
	blk_verity_free(v);
	close(fd);
}

static int check_block(struct blk_verity *v, const struct tree *t, uint64_t b)
{
	return blk_verity_check(v, b, t->content + b * t->dbs);
}

/* Checks every block; returns how many failed, each -EIO. */
static uint64_t count_failures(struct blk_verity *v, const struct tree *t,
			       uint64_t lo, uint64_t hi, bool in_range)
{
	uint64_t bad = 0;

	for (uint64_t b = 0; b < t->blocks; b++) {
		int r = check_block(v, t, b);

		if (r)
			assert_int_equal(r, -EIO);
		if (!!r != (in_range && b >= lo && b < hi))
			fail_msg("block %llu: %d", (unsigned long long)b, r);
		bad += !!r;
	}
	return bad;
}

static void test_every_block_verifies(void **state)
{
	static const struct {
		uint64_t blocks;
		uint32_t dbs, hbs;
		const char *salt;
	} cases[] = {
		{ 300, 4096, 4096, NULL }, /* 2 levels */
		{ 2400, 512, 512, NULL }, /* 3 levels */
		{ 129, 4096, 4096, "-" }, /* no salt */
		{ 128, 4096, 4096, "00112233" },
		{ 40, 1024, 512, NULL },
		{ 70, 512, 4096, NULL },
		{ 1, 4096, 4096, NULL }, /* no tree: the root is the block's */
	};

	(void)state;
	for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tree t;
		struct blk_verity *v;
		struct blk_verity_stats st;
		int fd;

		if (!make_tree(&t, cases[i].blocks, cases[i].dbs, cases[i].hbs,
			       cases[i].salt, false)) {
			skip();
			return;
		}
		v = open_tree(&t, NULL, CACHE_ALL, &fd);
		for (int pass = 0; pass < 2; pass++)
			assert_int_equal(count_failures(v, &t, 0, 0, false), 0);
		/* The tree fits the cache: each hash block read once. */
		blk_verity_stats(v, &st);
		assert_int_equal(st.hash_reads, t.g.tree_blocks);
		assert_int_equal(st.digests, 2 * t.blocks + t.g.tree_blocks);
		assert_int_equal(st.failures, 0);
		assert_int_equal(blk_verity_check(v, t.blocks, t.content),
				 -EINVAL);
		assert_int_equal(blk_verity_check(v, UINT64_MAX, t.content),
				 -EINVAL);
		close_tree(v, fd);
		drop_tree(&t);
	}
}

/* A cache of 4 blocks: one digest per data block and per level-0 block. */
static void test_sequential_cost_small_cache(void **state)
{
	struct tree t;
	struct blk_verity *v;
	struct blk_verity_stats st;
	uint64_t level0;
	int fd;

	(void)state;
	if (!make_tree(&t, 2400, 512, 512, NULL, false)) {
		skip();
		return;
	}
	v = open_tree(&t, NULL, 4 * 512, &fd);
	assert_int_equal(t.g.levels, 3);
	assert_int_equal(count_failures(v, &t, 0, 0, false), 0);
	blk_verity_stats(v, &st);
	level0 = t.g.level_blocks[0];
	/* Upper levels are reread only when evicted: a few times at most. */
	assert_true(st.hash_reads >= t.g.tree_blocks);
	assert_true(st.hash_reads <= level0 + 2 * t.g.level_blocks[1] + 4);
	assert_true(st.digests <= t.blocks + st.hash_reads);
	close_tree(v, fd);
	drop_tree(&t);
}

static void test_flipped_data_byte(void **state)
{
	struct tree t;
	struct blk_verity *v;
	int fd;

	(void)state;
	if (!make_tree(&t, 300, 4096, 4096, NULL, false)) {
		skip();
		return;
	}
	v = open_tree(&t, NULL, CACHE_ALL, &fd);
	t.content[137 * 4096 + 4095] ^= 0x01;
	assert_int_equal(count_failures(v, &t, 137, 138, true), 1);
	t.content[137 * 4096 + 4095] ^= 0x01;
	t.content[0] ^= 0x80;
	assert_int_equal(count_failures(v, &t, 0, 1, true), 1);
	t.content[0] ^= 0x80;
	assert_int_equal(count_failures(v, &t, 0, 0, false), 0);
	close_tree(v, fd);
	drop_tree(&t);
}

/* Byte off of hash block hb flipped on disk, a fresh verifier each time. */
static void flipped_hash(const struct tree *t, uint64_t hb, uint32_t off,
			 uint64_t lo, uint64_t hi, size_t cache)
{
	struct blk_verity *v;
	int fd;

	patch_file(t->hash, hb * t->hbs + off, 0x10);
	v = open_tree(t, NULL, cache, &fd);
	assert_int_equal(count_failures(v, t, lo, hi, true), hi - lo);
	close_tree(v, fd);
	patch_file(t->hash, hb * t->hbs + off, 0x10);
}

static void test_flipped_hash_byte(void **state)
{
	struct tree t;
	uint64_t l0;

	(void)state;
	if (!make_tree(&t, 300, 4096, 4096, NULL, false)) {
		skip();
		return;
	}
	assert_int_equal(t.g.levels, 2);
	l0 = t.g.level_start[0];
	/* Level 0 block 1 covers data blocks 128..255, in any byte. */
	flipped_hash(&t, l0 + 1, 0, 128, 256, CACHE_ALL);
	flipped_hash(&t, l0 + 1, 40 * 32 + 31, 128, 256, CACHE_ALL);
	flipped_hash(&t, l0 + 1, 4095, 128, 256, 4 * 4096);
	/* The last one covers 256..299; its unused tail counts too. */
	flipped_hash(&t, l0 + 2, 44 * 32 + 5, 256, 300, CACHE_ALL);
	/* The top block covers everything. */
	flipped_hash(&t, t.g.level_start[1], 17, 0, 300, CACHE_ALL);
	drop_tree(&t);

	/* Three levels: a level-1 block covers 16 * 16 data blocks. */
	if (!make_tree(&t, 2400, 512, 512, NULL, false))
		return;
	assert_int_equal(t.g.levels, 3);
	flipped_hash(&t, t.g.level_start[1] + 2, 100, 512, 768, 4 * 512);
	flipped_hash(&t, t.g.level_start[0] + 149, 3, 2384, 2400, 8 * 512);
	drop_tree(&t);
}

static void test_wrong_root(void **state)
{
	struct tree t;
	struct blk_verity *v;
	struct blk_verity_stats st;
	uint8_t root[32];
	int fd;

	(void)state;
	if (!make_tree(&t, 300, 4096, 4096, NULL, false)) {
		skip();
		return;
	}
	memcpy(root, t.root, 32);
	root[31] ^= 1;
	v = open_tree(&t, root, CACHE_ALL, &fd);
	assert_int_equal(count_failures(v, &t, 0, 300, true), 300);
	blk_verity_stats(v, &st);
	assert_int_equal(st.failures, 300);
	close_tree(v, fd);
	drop_tree(&t);

	/* With no tree the root is the data block's digest. */
	if (!make_tree(&t, 1, 4096, 4096, NULL, false))
		return;
	memcpy(root, t.root, 32);
	root[0] ^= 1;
	v = open_tree(&t, root, CACHE_ALL, &fd);
	assert_int_equal(check_block(v, &t, 0), -EIO);
	close_tree(v, fd);
	drop_tree(&t);
}

/* Verified copies are what is used: changes on disk afterwards do not count. */
static void test_cached_copy_is_used(void **state)
{
	struct tree t;
	struct blk_verity *v;
	int fd;

	(void)state;
	if (!make_tree(&t, 300, 4096, 4096, NULL, false)) {
		skip();
		return;
	}
	v = open_tree(&t, NULL, CACHE_ALL, &fd);
	assert_int_equal(count_failures(v, &t, 0, 0, false), 0);
	patch_file(t.hash, (t.g.level_start[0] + 1) * 4096 + 64, 0xff);
	assert_int_equal(count_failures(v, &t, 0, 0, false), 0);
	close_tree(v, fd);
	/* A new verifier reads the changed block and refuses it. */
	v = open_tree(&t, NULL, CACHE_ALL, &fd);
	assert_int_equal(count_failures(v, &t, 128, 256, true), 128);
	close_tree(v, fd);
	drop_tree(&t);
}

/*
 * A hash block that fails its check leaves the cache as it was: the slot
 * it was read into (here the top block's, the least recently used of the
 * one set of a 4-block cache) no longer claims its old block.
 */
static void test_failed_load_keeps_cache_sound(void **state)
{
	struct tree t;
	struct blk_verity *v;
	int fd;

	(void)state;
	if (!make_tree(&t, 2400, 512, 512, NULL, false)) {
		skip();
		return;
	}
	v = open_tree(&t, NULL, 4 * 512, &fd);
	assert_int_equal(check_block(v, &t, 0), 0); /* top, L1 0, L0 0 */
	assert_int_equal(check_block(v, &t, 32), 0); /* L0 2 */
	patch_file(t.hash, (t.g.level_start[0] + 1) * 512 + 7, 0x01);
	assert_int_equal(check_block(v, &t, 16), -EIO); /* L0 1 over top */
	assert_int_equal(check_block(v, &t, 256), 0); /* needs the top */
	assert_int_equal(check_block(v, &t, 0), 0);
	assert_int_equal(check_block(v, &t, 31), -EIO);
	assert_int_equal(count_failures(v, &t, 16, 32, true), 16);
	close_tree(v, fd);
	drop_tree(&t);
}

/* One log line per bad block, however often it is read. */
static void test_logged_once(void **state)
{
	char logname[128], buf[4096];
	struct tree t;
	struct blk_verity *v;
	int fd, logfd, saved;
	ssize_t n;
	unsigned int lines = 0;

	(void)state;
	if (!make_tree(&t, 300, 4096, 4096, NULL, false)) {
		skip();
		return;
	}
	snprintf(logname, sizeof(logname), "%s/log", t.dir);
	logfd = open(logname, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(logfd >= 0);
	fd = open(t.hash, O_RDONLY | O_CLOEXEC);
	v = blk_verity_open(fd, t.root, 32, 300 * 4096, CACHE_ALL, err,
			    sizeof(err));
	assert_non_null(v);
	t.content[5 * 4096] ^= 1;
	t.content[9 * 4096] ^= 1;
	saved = dup(STDERR_FILENO);
	dup2(logfd, STDERR_FILENO);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(check_block(v, &t, 5), -EIO);
		assert_int_equal(check_block(v, &t, 9), -EIO);
		assert_int_equal(check_block(v, &t, 6), 0);
	}
	dup2(saved, STDERR_FILENO);
	close(saved);
	n = pread(logfd, buf, sizeof(buf) - 1, 0);
	assert_true(n > 0);
	buf[n] = '\0';
	for (char *p = buf; (p = strchr(p, '\n')); p++)
		lines++;
	assert_int_equal(lines, 2);
	assert_non_null(strstr(buf, "data block 5 does not match"));
	assert_non_null(strstr(buf, "data block 9 does not match"));
	close(logfd);
	unlink(logname);
	close_tree(v, fd);
	drop_tree(&t);
}

static void open_refused(const struct tree *t, const uint8_t *root,
			 size_t rootlen, uint64_t data_bytes, size_t cache,
			 const char *needle)
{
	int fd = open(t->hash, O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	err[0] = '\0';
	assert_null(blk_verity_open(fd, root, rootlen, data_bytes, cache, err,
				    sizeof(err)));
	if (!strstr(err, needle))
		fail_msg("message \"%s\" lacks \"%s\"", err, needle);
	close(fd);
}

/* Superblock field at off set to len bytes of val (little-endian). */
static void corrupt_sb(const struct tree *t, unsigned int off, unsigned int len,
		       uint64_t val, const char *needle)
{
	uint8_t orig[BLK_VERITY_SB_SIZE], sb[BLK_VERITY_SB_SIZE];
	int fd;

	read_sb(t->hash, orig);
	memcpy(sb, orig, sizeof(sb));
	for (unsigned int i = 0; i < len; i++)
		sb[off + i] = (uint8_t)(val >> (8 * i));
	fd = open(t->hash, O_WRONLY | O_CLOEXEC);
	assert_int_equal(pwrite(fd, sb, sizeof(sb), 0), (ssize_t)sizeof(sb));
	open_refused(t, t->root, 32, t->blocks * t->dbs, CACHE_ALL, needle);
	assert_int_equal(pwrite(fd, orig, sizeof(orig), 0),
			 (ssize_t)sizeof(orig));
	close(fd);
}

static void test_bad_superblocks_refused(void **state)
{
	struct tree t;
	struct stat st;

	(void)state;
	if (!make_tree(&t, 300, 4096, 4096, NULL, false)) {
		skip();
		return;
	}
	corrupt_sb(&t, 0, 1, 'V', "no verity superblock");
	corrupt_sb(&t, 6, 1, 'x', "no verity superblock");
	corrupt_sb(&t, 8, 4, 2, "superblock version 2 not supported");
	corrupt_sb(&t, 12, 4, 0, "hash type 0 not supported");
	corrupt_sb(&t, 32, 6, 0x312d616873, "\"sha-1\" not supported");
	corrupt_sb(&t, 39, 1, 'x', "bytes after \"sha256\" are not zero");
	corrupt_sb(&t, 64, 4, 8192 + 512, "data block size 8704");
	corrupt_sb(&t, 68, 4, 256, "hash block size 256");
	corrupt_sb(&t, 68, 4, 131072, "hash block size 131072");
	corrupt_sb(&t, 72, 8, 0, "no data blocks");
	corrupt_sb(&t, 72, 8, 301, "covers 1232896 bytes of data (301 blocks");
	corrupt_sb(&t, 72, 8, UINT64_MAX, "too large");
	corrupt_sb(&t, 72, 8, 1ull << 40,
		   "hash area of 20480 bytes is too small");
	corrupt_sb(&t, 80, 2, 257, "salt of 257 bytes");
	open_refused(&t, t.root, 31, 300 * 4096, CACHE_ALL,
		     "root hash of 31 bytes");
	open_refused(&t, t.root, 32, 300 * 4096 - 512, CACHE_ALL,
		     "the image has 1228288");
	open_refused(&t, t.root, 32, 300 * 4096, 4 * 4096 - 1,
		     "fewer than 4 hash blocks");
	/* A hash file cut short of its tree. */
	assert_int_equal(stat(t.hash, &st), 0);
	assert_int_equal(truncate(t.hash, st.st_size - 1), 0);
	open_refused(&t, t.root, 32, 300 * 4096, CACHE_ALL,
		     "hash area of 20479 bytes is too small");
	assert_int_equal(truncate(t.hash, 100), 0);
	open_refused(&t, t.root, 32, 300 * 4096, CACHE_ALL,
		     "cannot read its superblock");
	drop_tree(&t);
}

/* A superblock as veritysetup writes one. */
static void build_sb(uint8_t *sb, uint32_t dbs, uint32_t hbs, uint64_t blocks,
		     uint16_t salt)
{
	memset(sb, 0, BLK_VERITY_SB_SIZE);
	memcpy(sb, "verity\0\0", 8);
	put_le32(sb + 8, 1);
	put_le32(sb + 12, 1);
	memcpy(sb + 32, "sha256", 6);
	put_le32(sb + 64, dbs);
	put_le32(sb + 68, hbs);
	put_le64(sb + 72, blocks);
	put_le16(sb + 80, salt);
	for (unsigned int i = 0; i < salt && i < 256; i++)
		sb[88 + i] = (uint8_t)(i + 1);
}

static void parse_refused(const uint8_t *sb, size_t len, const char *needle)
{
	struct blk_verity_sb out;

	err[0] = '\0';
	assert_int_equal(blk_verity_parse_sb(sb, len, &out, err, sizeof(err)),
			 -EINVAL);
	if (!strstr(err, needle))
		fail_msg("message \"%s\" lacks \"%s\"", err, needle);
}

static void test_parser(void **state)
{
	uint8_t sb[BLK_VERITY_SB_SIZE];
	struct blk_verity_sb out;
	static const uint32_t bad_sizes[] = { 0,      1,	 256,  511,
					      513,    1536,	 3000, 6144,
					      131072, UINT32_MAX };

	(void)state;
	build_sb(sb, 4096, 4096, 300, 32);
	assert_int_equal(
		blk_verity_parse_sb(sb, sizeof(sb), &out, err, sizeof(err)), 0);
	assert_int_equal(out.hash_type, 1);
	assert_int_equal(out.data_block_size, 4096);
	assert_int_equal(out.hash_block_size, 4096);
	assert_int_equal(out.data_blocks, 300);
	assert_int_equal(out.salt_size, 32);
	assert_int_equal(out.salt[0], 1);
	assert_int_equal(out.salt[31], 32);
	assert_int_equal(out.salt[32], 0);
	parse_refused(sb, 511, "511 bytes, needs 512");
	for (unsigned int i = 0; i < sizeof(bad_sizes) / sizeof(bad_sizes[0]);
	     i++) {
		build_sb(sb, bad_sizes[i], 4096, 300, 0);
		parse_refused(sb, sizeof(sb), "data block size");
		build_sb(sb, 4096, bad_sizes[i], 300, 0);
		parse_refused(sb, sizeof(sb), "hash block size");
	}
	for (uint32_t s = 512; s <= 65536; s *= 2) {
		build_sb(sb, s, 65536 / s * 512, 7, 256);
		assert_int_equal(blk_verity_parse_sb(sb, sizeof(sb), &out, err,
						     sizeof(err)),
				 0);
	}
	build_sb(sb, 4096, 4096, 300, 257);
	parse_refused(sb, sizeof(sb), "salt of 257 bytes: at most 256");
	build_sb(sb, 4096, 4096, 0, 0);
	parse_refused(sb, sizeof(sb), "no data blocks");
	/* 2^63 - 1 bytes of data is the most. */
	build_sb(sb, 512, 4096, INT64_MAX / 512, 0);
	assert_int_equal(
		blk_verity_parse_sb(sb, sizeof(sb), &out, err, sizeof(err)), 0);
	build_sb(sb, 512, 4096, INT64_MAX / 512 + 1, 0);
	parse_refused(sb, sizeof(sb), "too large");
	build_sb(sb, 65536, 4096, UINT64_MAX, 0);
	parse_refused(sb, sizeof(sb), "too large");
	build_sb(sb, 4096, 4096, 1, 0);
	memcpy(sb + 32, "SHA256", 6);
	parse_refused(sb, sizeof(sb), "\"SHA256\" not supported");
	memcpy(sb + 32, "sha2561", 7);
	parse_refused(sb, sizeof(sb), "not supported (only sha256)");
	memcpy(sb + 32, "sha256\0", 7);
	sb[32 + 31] = 1;
	parse_refused(sb, sizeof(sb), "are not zero");
	build_sb(sb, 4096, 4096, 1, 0);
	sb[32] = 0xff;
	parse_refused(sb, sizeof(sb), "\"\" not supported");
	build_sb(sb, 4096, 4096, 1, 0);
	put_le32(sb + 12, 0);
	parse_refused(sb, sizeof(sb), "hash type 0 not supported");
	build_sb(sb, 4096, 4096, 1, 0);
	put_le32(sb + 8, 0);
	parse_refused(sb, sizeof(sb), "version 0 not supported");
	build_sb(sb, 4096, 4096, 1, 0);
	sb[7] = 1;
	parse_refused(sb, sizeof(sb), "signature");
}

static void geometry_of(uint32_t dbs, uint32_t hbs, uint64_t blocks,
			uint64_t area, struct blk_verity_geom *g)
{
	uint8_t sb[BLK_VERITY_SB_SIZE];
	struct blk_verity_sb s;

	build_sb(sb, dbs, hbs, blocks, 0);
	assert_int_equal(
		blk_verity_parse_sb(sb, sizeof(sb), &s, err, sizeof(err)), 0);
	if (blk_verity_geometry(&s, area, g, err, sizeof(err)))
		fail_msg("geometry: %s", err);
}

static void test_geometry(void **state)
{
	struct blk_verity_geom g;
	uint8_t sb[BLK_VERITY_SB_SIZE];
	struct blk_verity_sb s;

	(void)state;
	geometry_of(4096, 4096, 300, 20480, &g);
	assert_int_equal(g.levels, 2);
	assert_int_equal(g.digest_bits, 7);
	assert_int_equal(g.slot_size, 32);
	assert_int_equal(g.tree_start, 1);
	assert_int_equal(g.level_start[1], 1);
	assert_int_equal(g.level_blocks[1], 1);
	assert_int_equal(g.level_start[0], 2);
	assert_int_equal(g.level_blocks[0], 3);
	assert_int_equal(g.tree_blocks, 4);
	assert_int_equal(g.hash_bytes_needed, 20480);
	assert_int_equal(g.data_bytes, 300 * 4096);

	/* Powers of the fan-out: 128 blocks fit one hash block, 129 not. */
	geometry_of(4096, 4096, 128, 8192, &g);
	assert_int_equal(g.levels, 1);
	assert_int_equal(g.tree_blocks, 1);
	geometry_of(4096, 4096, 129, 16384, &g);
	assert_int_equal(g.levels, 2);
	assert_int_equal(g.tree_blocks, 3);
	geometry_of(4096, 4096, 128 * 128, 1 << 20, &g);
	assert_int_equal(g.levels, 2);
	assert_int_equal(g.tree_blocks, 129);
	geometry_of(4096, 4096, 128 * 128 + 1, 1 << 20, &g);
	assert_int_equal(g.levels, 3);
	assert_int_equal(g.level_blocks[0], 129);
	assert_int_equal(g.level_blocks[1], 2);
	assert_int_equal(g.level_blocks[2], 1);
	assert_int_equal(g.level_start[2], 1);
	assert_int_equal(g.level_start[1], 2);
	assert_int_equal(g.level_start[0], 4);
	geometry_of(4096, 4096, 1, 512, &g);
	assert_int_equal(g.levels, 0);
	assert_int_equal(g.tree_blocks, 0);
	assert_int_equal(g.hash_bytes_needed, 512);
	/* 512-byte hash blocks: 16 digests; the superblock fills block 0. */
	geometry_of(512, 512, 2400, 82944, &g);
	assert_int_equal(g.levels, 3);
	assert_int_equal(g.digest_bits, 4);
	assert_int_equal(g.tree_start, 1);
	assert_int_equal(g.tree_blocks, 161);
	/* 64 KiB hash blocks: 2048 digests. */
	geometry_of(4096, 65536, 2049, 4 << 20, &g);
	assert_int_equal(g.digest_bits, 11);
	assert_int_equal(g.levels, 2);
	assert_int_equal(g.hash_bytes_needed, 4 * 65536);

	/* The largest data the parser takes, with 512-byte blocks. */
	geometry_of(512, 512, INT64_MAX / 512, UINT64_MAX, &g);
	assert_int_equal(g.levels, 14);
	assert_true(g.hash_bytes_needed < (uint64_t)INT64_MAX);
	assert_int_equal(g.level_blocks[g.levels - 1], 1);

	/* Too small by one byte. */
	build_sb(sb, 4096, 4096, 300, 0);
	assert_int_equal(
		blk_verity_parse_sb(sb, sizeof(sb), &s, err, sizeof(err)), 0);
	assert_int_equal(blk_verity_geometry(&s, 20479, &g, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "need 20480"));
	/* Fields the parser never saw are checked again. */
	s.hash_block_size = 4097;
	assert_int_equal(blk_verity_geometry(&s, 1 << 20, &g, err, sizeof(err)),
			 -EINVAL);
	s.hash_block_size = 4096;
	s.data_blocks = 0;
	assert_int_equal(blk_verity_geometry(&s, 1 << 20, &g, err, sizeof(err)),
			 -EINVAL);
	s.data_blocks = UINT64_MAX;
	assert_int_equal(blk_verity_geometry(&s, UINT64_MAX, &g, err,
					     sizeof(err)),
			 -EINVAL);
	s.data_blocks = 1;
	s.salt_size = 300;
	assert_int_equal(blk_verity_geometry(&s, 1 << 20, &g, err, sizeof(err)),
			 -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parser),
		cmocka_unit_test(test_geometry),
		cmocka_unit_test(test_every_block_verifies),
		cmocka_unit_test(test_sequential_cost_small_cache),
		cmocka_unit_test(test_flipped_data_byte),
		cmocka_unit_test(test_flipped_hash_byte),
		cmocka_unit_test(test_wrong_root),
		cmocka_unit_test(test_cached_copy_is_used),
		cmocka_unit_test(test_failed_load_keeps_cache_sound),
		cmocka_unit_test(test_logged_once),
		cmocka_unit_test(test_bad_superblocks_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
