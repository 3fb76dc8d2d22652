// SPDX-License-Identifier: GPL-2.0-only
/* Key memory and sealed key memfds (util/secret.c). */
#include "util/secret.h"

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
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

/* ASan's runtime turns mlock into a no-op (its shadow is not lockable). */
#if defined(__SANITIZE_ADDRESS__)
#define MLOCK_WORKS false
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MLOCK_WORKS false
#endif
#endif
#ifndef MLOCK_WORKS
#define MLOCK_WORKS true
#endif

/* The VmFlags line of the /proc/self/smaps entry that starts at p. */
static void vm_flags(const void *p, char *out, size_t cap)
{
	char line[512], start[32];
	bool in = false;
	FILE *f = fopen("/proc/self/smaps", "r");

	assert_non_null(f);
	snprintf(start, sizeof(start), "%lx-", (unsigned long)(uintptr_t)p);
	out[0] = '\0';
	while (fgets(line, sizeof(line), f)) {
		if (strchr(line, '-') && strchr(line, ' ') &&
		    strchr(line, '-') < strchr(line, ' '))
			in = !strncmp(line, start, strlen(start));
		if (in && !strncmp(line, "VmFlags:", 8)) {
			snprintf(out, cap, "%s", line + 8);
			break;
		}
	}
	fclose(f);
	if (!out[0])
		fail_msg("no smaps entry starts at %p", p);
}

static bool has_flag(const char *flags, const char *flag)
{
	char padded[8];

	snprintf(padded, sizeof(padded), " %s", flag);
	return strstr(flags, padded) != NULL;
}

static void test_alloc_is_locked_undumped_and_wiped_on_fork(void **state)
{
	char flags[512];
	uint8_t *p = secret_alloc(100);
	pid_t pid;
	int status;

	(void)state;
	assert_non_null(p);
	for (size_t i = 0; i < 100; i++)
		assert_int_equal(p[i], 0);
	memset(p, 0xa5, 100);
	vm_flags(p, flags, sizeof(flags));
	if ((MLOCK_WORKS && !has_flag(flags, "lo")) || !has_flag(flags, "dd") ||
	    !has_flag(flags, "wf"))
		fail_msg("VmFlags \"%s\" lack lo, dd or wf", flags);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* The child gets zeroed pages in place of the key. */
		for (size_t i = 0; i < 100; i++)
			if (p[i])
				_exit(1);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(p[99], 0xa5);
	secret_free(p, 100);
}

static void test_alloc_spans_pages(void **state)
{
	size_t len = (size_t)sysconf(_SC_PAGESIZE) * 2 + 1;
	uint8_t *p = secret_alloc(len);

	(void)state;
	assert_non_null(p);
	memset(p, 0x11, len);
	secret_free(p, len);
	secret_free(NULL, 10);
	errno = 0;
	assert_null(secret_alloc(0));
	assert_int_equal(errno, EINVAL);
	assert_null(secret_alloc(SIZE_MAX));
}

static void test_memfd_sealed_round_trip(void **state)
{
	static const char key[] = "0123456789abcdef0123456789abcdef";
	char buf[64];
	int fd = secret_memfd(key, 32);
	int seals;

	(void)state;
	assert_true(fd >= 0);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	seals = fcntl(fd, F_GET_SEALS);
	assert_int_equal(seals, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE |
					F_SEAL_SEAL);
	/* Nothing can change it now. */
	assert_int_equal(write(fd, "x", 1), -1);
	assert_int_equal(errno, EPERM);
	assert_int_equal(ftruncate(fd, 0), -1);
	assert_int_equal(fcntl(fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE), -1);
	assert_true(mmap(NULL, 32, PROT_WRITE, MAP_SHARED, fd, 0) ==
		    MAP_FAILED);
	assert_int_equal(secret_read_memfd(fd, buf, sizeof(buf)), 32);
	assert_memory_equal(buf, key, 32);
	/* Exactly max fits; one byte less does not. */
	assert_int_equal(secret_read_memfd(fd, buf, 32), 32);
	assert_int_equal(secret_read_memfd(fd, buf, 31), -EMSGSIZE);
	close(fd);
	assert_int_equal(secret_memfd(NULL, 32), -EINVAL);
	assert_int_equal(secret_memfd(key, 0), -EINVAL);
}

static int memfd_with(const char *content, int seals)
{
	int fd = memfd_create("test", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	assert_true(fd >= 0);
	if (content)
		assert_int_equal(write(fd, content, strlen(content)),
				 (ssize_t)strlen(content));
	if (seals)
		assert_int_equal(fcntl(fd, F_ADD_SEALS, seals), 0);
	return fd;
}

static void expect_refused(int fd, ssize_t want)
{
	char buf[64];
	ssize_t r;

	memset(buf, 0, sizeof(buf));
	r = secret_read_memfd(fd, buf, sizeof(buf));
	if (r != want)
		fail_msg("secret_read_memfd returned %zd, not %zd", r, want);
	for (size_t i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0);
}

static void test_read_refuses_what_is_not_a_sealed_memfd(void **state)
{
	char path[] = "/tmp/bh-secret-XXXXXX";
	int fds[2], fd;
	char buf[8];

	(void)state;
	/* A regular file with the key in it. */
	fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(write(fd, "key", 3), 3);
	expect_refused(fd, -EINVAL);
	close(fd);
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write(fds[1], "key", 3), 3);
	expect_refused(fds[0], -EINVAL);
	close(fds[0]);
	close(fds[1]);
	expect_refused(-1, -EBADF);
	expect_refused(1000, -EBADF);

	/* Memfds without the seals that keep their content still. */
	fd = memfd_with("key", 0);
	expect_refused(fd, -EINVAL);
	close(fd);
	fd = memfd_with("key", F_SEAL_SHRINK | F_SEAL_GROW);
	expect_refused(fd, -EINVAL);
	close(fd);
	fd = memfd_with("key", F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SEAL);
	expect_refused(fd, -EINVAL);
	close(fd);
	fd = memfd_create("unsealable", MFD_CLOEXEC);
	assert_int_equal(write(fd, "key", 3), 3);
	expect_refused(fd, -EINVAL);
	close(fd);
	/* Sealed but empty. */
	fd = memfd_with(NULL, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE);
	expect_refused(fd, -EINVAL);
	close(fd);
	/* Sealed and over the limit. */
	fd = memfd_with("0123456789",
			F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE);
	assert_int_equal(secret_read_memfd(fd, buf, sizeof(buf)), -EMSGSIZE);
	close(fd);
	/* The three seals suffice; F_SEAL_SEAL is the sender's business. */
	fd = memfd_with("key", F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE);
	assert_int_equal(secret_read_memfd(fd, buf, sizeof(buf)), 3);
	assert_memory_equal(buf, "key", 3);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_alloc_is_locked_undumped_and_wiped_on_fork),
		cmocka_unit_test(test_alloc_spans_pages),
		cmocka_unit_test(test_memfd_sealed_round_trip),
		cmocka_unit_test(test_read_refuses_what_is_not_a_sealed_memfd),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
