// SPDX-License-Identifier: GPL-2.0-only
/*
 * Image locking (src/devmodel/image_lock.c): the bytes QEMU's file-posix
 * scheme uses for each permission set, then real OFD locks on a file
 * opened several times in this process (each open is its own open file
 * description, as another process's would be), also against locks laid
 * out by hand the way a QEMU writer lays them.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "devmodel/image_lock.h"

static char path[] = "/tmp/bh-lock-test-XXXXXX";

static int setup(void **state)
{
	int fd = mkstemp(path);

	(void)state;
	if (fd < 0 || ftruncate(fd, 1 << 20) < 0)
		return -1;
	close(fd);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(path);
	return 0;
}

static int open_image(int flags)
{
	int fd = open(path, flags | O_CLOEXEC);

	assert_true(fd >= 0);
	return fd;
}

static bool has(const uint16_t *v, unsigned int n, uint16_t x)
{
	for (unsigned int i = 0; i < n; i++)
		if (v[i] == x)
			return true;
	return false;
}

static void test_plan(void **state)
{
	struct image_lock_plan p;
	uint32_t perm, shared;

	(void)state;
	/* A writer holds read and write, shares read and write-unchanged. */
	image_lock_perms(true, &perm, &shared);
	assert_int_equal(perm, IMAGE_PERM_CONSISTENT_READ | IMAGE_PERM_WRITE);
	image_lock_plan(perm, shared, &p);
	assert_int_equal(p.nlock, 4);
	assert_true(has(p.lock, p.nlock, 100));
	assert_true(has(p.lock, p.nlock, 101));
	assert_true(has(p.lock, p.nlock, 201)); /* write not shared */
	assert_true(has(p.lock, p.nlock, 203)); /* resize not shared */
	assert_int_equal(p.ntest, 4);
	assert_true(has(p.test, p.ntest, 200));
	assert_true(has(p.test, p.ntest, 201));
	assert_true(has(p.test, p.ntest, 101));
	assert_true(has(p.test, p.ntest, 103));
	/* A reader: no write byte, and still no writer next to it. */
	image_lock_perms(false, &perm, &shared);
	image_lock_plan(perm, shared, &p);
	assert_int_equal(p.nlock, 3);
	assert_true(has(p.lock, p.nlock, 100));
	assert_false(has(p.lock, p.nlock, 101));
	assert_true(has(p.lock, p.nlock, 201));
	assert_true(has(p.test, p.ntest, 101));
	assert_false(has(p.test, p.ntest, 201));
	/* Everything shared, nothing held: nothing to do. */
	image_lock_plan(0, IMAGE_PERM_ALL, &p);
	assert_int_equal(p.nlock + p.ntest, 0);
	assert_string_equal(image_perm_name(IMAGE_PERM_WRITE), "write");
}

static void test_writers_and_readers(void **state)
{
	char why[256];
	int a = open_image(O_RDWR), b = open_image(O_RDWR),
	    c = open_image(O_RDONLY), d = open_image(O_RDONLY);

	(void)state;
	assert_int_equal(image_lock(a, true, why, sizeof(why)), 0);
	assert_int_equal(image_lock(a, true, why, sizeof(why)), 0); /* again */
	/* A second writer, and a reader, are refused. */
	assert_int_equal(image_lock(b, true, why, sizeof(why)), -EBUSY);
	assert_non_null(strstr(why, "in use by another process"));
	assert_int_equal(image_lock(c, false, why, sizeof(why)), -EBUSY);
	assert_int_equal(image_lock_check(c, false, why, sizeof(why)), -EBUSY);
	/* Refusal left nothing behind: once a goes, b gets it. */
	image_unlock(a);
	assert_int_equal(image_lock_check(b, true, why, sizeof(why)), 0);
	assert_int_equal(image_lock(b, true, why, sizeof(why)), 0);
	close(b);
	/* Readers share; a writer is kept off. */
	assert_int_equal(image_lock(c, false, why, sizeof(why)), 0);
	assert_int_equal(image_lock(d, false, why, sizeof(why)), 0);
	assert_int_equal(image_lock(a, true, why, sizeof(why)), -EBUSY);
	assert_non_null(strstr(why, "unshared \"write\""));
	/* Closing the last descriptor of an open file releases it. */
	close(c);
	close(d);
	assert_int_equal(image_lock(a, true, why, sizeof(why)), 0);
	close(a);
}

/* The bytes qemu-system takes for a writable disk (share-rw=off). */
static void lock_like_qemu_writer(int fd)
{
	static const int bytes[] = { 100, 101, 201 };

	for (unsigned int i = 0; i < 3; i++) {
		struct flock fl = {
			.l_type = F_RDLCK,
			.l_whence = SEEK_SET,
			.l_start = bytes[i],
			.l_len = 1,
		};

		assert_int_equal(fcntl(fd, F_OFD_SETLK, &fl), 0);
	}
}

static void test_against_qemu_layout(void **state)
{
	char why[256];
	int q = open_image(O_RDWR), a = open_image(O_RDWR),
	    r = open_image(O_RDONLY);

	(void)state;
	lock_like_qemu_writer(q);
	assert_int_equal(image_lock(a, true, why, sizeof(why)), -EBUSY);
	assert_non_null(strstr(why, "\"write\""));
	assert_int_equal(image_lock(r, false, why, sizeof(why)), -EBUSY);
	close(q);
	assert_int_equal(image_lock(a, true, why, sizeof(why)), 0);
	close(a);
	close(r);
}

/* The toolstack's case: lock, hand the descriptor on, the lock goes along. */
static void test_lock_travels_with_descriptor(void **state)
{
	char why[256];
	int a = open_image(O_RDWR), b = open_image(O_RDWR);
	int dup_a = dup(a);

	(void)state;
	assert_int_equal(image_lock(a, true, why, sizeof(why)), 0);
	close(a); /* the dup (another process, later) still holds it */
	assert_int_equal(image_lock(b, true, why, sizeof(why)), -EBUSY);
	assert_int_equal(image_lock(dup_a, true, why, sizeof(why)), 0);
	close(dup_a);
	assert_int_equal(image_lock(b, true, why, sizeof(why)), 0);
	close(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plan),
		cmocka_unit_test(test_writers_and_readers),
		cmocka_unit_test(test_against_qemu_layout),
		cmocka_unit_test(test_lock_travels_with_descriptor),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
