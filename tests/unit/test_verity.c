// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-verity hash trees (toolstack/verity.c), checked by veritysetup where
 * it is installed (`veritysetup verify` hashes in user space, no dm).
 */
#include "toolstack/verity.h"
#include "util/hex.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

static char dir[64], data[128], hash[128];
static const char *veritysetup;

static int setup(void **state)
{
	static const char *const paths[] = { "/usr/sbin/veritysetup",
					     "/sbin/veritysetup",
					     "/usr/bin/veritysetup" };

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/bh-verity-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(data, sizeof(data), "%s/data.img", dir);
	snprintf(hash, sizeof(hash), "%s/data.img.verity", dir);
	for (size_t i = 0; i < sizeof(paths) / sizeof(*paths); i++)
		if (!access(paths[i], X_OK)) {
			veritysetup = paths[i];
			break;
		}
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static int make_data(size_t size)
{
	uint8_t block[4096];
	int fd = open(data, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	assert_true(fd >= 0);
	for (size_t off = 0; off < size; off += sizeof(block)) {
		size_t n = size - off < sizeof(block) ? size - off :
							sizeof(block);

		for (size_t i = 0; i < n; i++)
			block[i] = (uint8_t)((off + i) * 7 / 13);
		assert_int_equal(pwrite(fd, block, n, (off_t)off), (ssize_t)n);
	}
	return fd;
}

static int new_hash_file(void)
{
	int fd;

	unlink(hash);
	fd = open(hash, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	return fd;
}

static int verify(const uint8_t *root, size_t len)
{
	char hex[2 * VERITY_ROOT_MAX + 1], cmd[512];
	int st;

	hex_encode(root, len, hex);
	snprintf(cmd, sizeof(cmd), "%s verify '%s' '%s' %s >/dev/null 2>&1",
		 veritysetup, data, hash, hex);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_format_inspect_verify(void **state)
{
	uint8_t root[VERITY_ROOT_MAX], head[8], flip;
	struct verity_info info, again;
	char err[256];
	size_t len = 0;
	int dfd = make_data(40 * 4096), hfd = new_hash_file();

	(void)state;
	assert_int_equal(verity_format(dfd, hfd, root, &len, &info, err,
				       sizeof(err)),
			 0);
	assert_int_equal(len, 32);
	assert_int_equal(pread(hfd, head, sizeof(head), 0), 8);
	assert_true(verity_magic(head, sizeof(head)));
	assert_int_equal(info.hash_type, 1);
	assert_string_equal(info.hash_name, "sha256");
	assert_int_equal(info.data_block_size, 4096);
	assert_int_equal(info.hash_block_size, 4096);
	assert_int_equal(info.data_blocks, 40);
	assert_int_equal(info.hash_offset, 0);
	assert_int_equal(info.salt_size, VERITY_SALT_BYTES);
	assert_int_equal(strlen(info.uuid), 36);

	assert_int_equal(verity_inspect(hfd, &again, err, sizeof(err)), 0);
	assert_memory_equal(&again, &info, sizeof(info));
	assert_int_equal(verity_inspect(dfd, &again, err, sizeof(err)) < 0, 1);
	assert_non_null(strstr(err, "not a verity hash file"));

	if (!veritysetup) {
		print_message("skipped: no veritysetup to verify with\n");
	} else {
		assert_int_equal(verify(root, len), 0);
		/* One flipped data bit and the tree no longer matches. */
		assert_int_equal(pread(dfd, &flip, 1, 5 * 4096 + 17), 1);
		flip ^= 1;
		assert_int_equal(pwrite(dfd, &flip, 1, 5 * 4096 + 17), 1);
		assert_int_not_equal(verify(root, len), 0);
	}
	close(dfd);
	close(hfd);
}

static void test_salt_is_random(void **state)
{
	uint8_t r1[VERITY_ROOT_MAX], r2[VERITY_ROOT_MAX];
	struct verity_info i1, i2;
	char err[256];
	size_t l1, l2;
	int dfd = make_data(4096), hfd = new_hash_file();

	(void)state;
	assert_int_equal(verity_format(dfd, hfd, r1, &l1, &i1, err, 256), 0);
	close(hfd);
	hfd = new_hash_file();
	assert_int_equal(verity_format(dfd, hfd, r2, &l2, &i2, err, 256), 0);
	assert_memory_not_equal(i1.salt, i2.salt, VERITY_SALT_BYTES);
	assert_memory_not_equal(r1, r2, 32);
	close(dfd);
	close(hfd);
}

static void test_refuses_partial_blocks(void **state)
{
	uint8_t root[VERITY_ROOT_MAX];
	char err[256];
	size_t len;
	int dfd = make_data(4096 * 3 + 512), hfd = new_hash_file();

	(void)state;
	assert_int_equal(verity_format(dfd, hfd, root, &len, NULL, err,
				       sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "not a nonzero multiple of 4096"));
	close(dfd);
	dfd = make_data(0);
	assert_int_equal(verity_format(dfd, hfd, root, &len, NULL, err,
				       sizeof(err)),
			 -EINVAL);
	close(dfd);
	close(hfd);
}

static void test_magic(void **state)
{
	(void)state;
	assert_true(verity_magic((const uint8_t *)"verity\0\0\1", 9));
	assert_false(verity_magic((const uint8_t *)"verity\0", 7));
	assert_false(verity_magic((const uint8_t *)"verity\0x", 8));
	assert_false(verity_magic(NULL, 8));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_inspect_verify),
		cmocka_unit_test(test_salt_is_random),
		cmocka_unit_test(test_refuses_partial_blocks),
		cmocka_unit_test(test_magic),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
