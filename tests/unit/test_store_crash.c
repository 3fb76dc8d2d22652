// SPDX-License-Identifier: GPL-2.0-only
/*
 * The config store's writes under failure and crashes: each system call
 * of a commit fails in turn (openat, write, fsync, renameat are --wrap'd),
 * a child dies at each of them, and a writer is killed mid-write in a
 * loop. Every time the store must open at the old or the new generation,
 * whole.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/anchor_file.h"
#include "store/store.h"
#include "store_testlib.h"

/* Calls of the wrapped functions counted while armed; at the fault_at-th
 * one, fail with EIO (or, with crash set, die as a crash would). */
static int armed, calls, fault_at;
static bool crash;

static bool fault(void)
{
	if (!armed || ++calls != fault_at)
		return false;
	if (crash)
		_exit(0);
	errno = EIO;
	return true;
}

int __real_openat(int dirfd, const char *path, int flags, ...);
int __wrap_openat(int dirfd, const char *path, int flags, ...);
int __wrap_openat(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;
	va_list ap;

	if (flags & O_CREAT) {
		va_start(ap, flags);
		mode = (mode_t)va_arg(ap, int);
		va_end(ap);
	}
	if (fault())
		return -1;
	return __real_openat(dirfd, path, flags, mode);
}

ssize_t __real_write(int fd, const void *buf, size_t len);
ssize_t __wrap_write(int fd, const void *buf, size_t len);
ssize_t __wrap_write(int fd, const void *buf, size_t len)
{
	if (fault())
		return -1;
	return __real_write(fd, buf, len);
}

int __real_fsync(int fd);
int __wrap_fsync(int fd);
int __wrap_fsync(int fd)
{
	return fault() ? -1 : __real_fsync(fd);
}

int __real_renameat(int a, const char *b, int c, const char *d);
int __wrap_renameat(int a, const char *b, int c, const char *d);
int __wrap_renameat(int a, const char *b, int c, const char *d)
{
	return fault() ? -1 : __real_renameat(a, b, c, d);
}

struct fx {
	char *dir, sdir[4096], apath[4096];
	struct anchor_file af;
	struct store_anchor anchor;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct store_create_opts co = { "pw", test_kdf, NULL, NULL };
	struct store *s;

	f->dir = scratch_dir();
	snprintf(f->sdir, sizeof(f->sdir), "%s/store.d", f->dir);
	snprintf(f->apath, sizeof(f->apath), "%s/anchor", f->dir);
	assert_int_equal(anchor_file_init(&f->af, f->apath, &f->anchor), 0);
	co.anchor = &f->anchor;
	assert_int_equal(store_create(f->sdir, &co, &s, NULL), 0);
	assert_int_equal(store_put(s, "vm/a", "old", 3, NULL), 0);
	assert_int_equal(store_commit(s, NULL), 0);
	store_close(s);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	rm_rf(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

/* Back to the old content, so each step starts the same. */
static void reset(void **state)
{
	teardown(state);
	setup(state);
}

static struct store *open_store(struct fx *f)
{
	struct store_open_opts oo = { .passphrase = "pw",
				      .anchor = &f->anchor };
	struct store_err e = { 0 };
	struct store *s = NULL;

	if (store_open(f->sdir, &oo, &s, &e))
		fail_msg("store refused after a crash: %s", e.msg);
	return s;
}

static int count_temps(struct fx *f)
{
	DIR *d = opendir(f->sdir);
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		n += !strncmp(de->d_name, "store.tmp.", 10);
	closedir(d);
	return n;
}

/* vm/a holds "old" at generation 2 or "new" at 3, nothing else. */
static void assert_old_or_new(struct store *s)
{
	const uint8_t *v;
	size_t len;

	assert_int_equal(store_get(s, "vm/a", &v, &len, NULL), 0);
	assert_int_equal(len, 3);
	if (store_generation(s) == 2)
		assert_memory_equal(v, "old", 3);
	else if (store_generation(s) == 3)
		assert_memory_equal(v, "new", 3);
	else
		fail_msg("generation %" PRIu64, store_generation(s));
}

static void test_fail_each_step(void **state)
{
	struct fx *f = *state;
	struct store_err e;
	struct store *s;
	int n, rc;

	for (n = 1;; n++) {
		s = open_store(f);
		assert_int_equal(store_put(s, "vm/a", "new", 3, NULL), 0);
		calls = 0;
		fault_at = n;
		armed = 1;
		rc = store_commit(s, &e);
		armed = 0;
		store_close(s);
		if (!rc)
			break;
		s = open_store(f);
		/* A failure before the rename keeps the old generation. */
		if (store_generation(s) == 2)
			assert_int_equal(e.code, STORE_E_IO);
		assert_old_or_new(s);
		assert_int_equal(count_temps(f), 0);
		store_close(s);
		reset(state);
		f = *state;
	}
	/* Failing openat, write, fsync, rename, fsync(dir) and the anchor's
	 * own steps: several calls were each failed before success. */
	assert_true(n > 5);
	s = open_store(f);
	assert_int_equal(store_generation(s), 3);
	store_close(s);
}

static void test_crash_each_step(void **state)
{
	struct fx *f = *state;
	struct store *s;
	int n, status;
	pid_t pid;

	for (n = 1; n < 64; n++) {
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			s = open_store(f);
			store_put(s, "vm/a", "new", 3, NULL);
			calls = 0;
			fault_at = n;
			crash = true;
			armed = 1;
			store_commit(s, NULL);
			_exit(7); /* the commit ended before the n-th call */
		}
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFEXITED(status));
		s = open_store(f);
		assert_old_or_new(s);
		store_close(s);
		if (WEXITSTATUS(status) == 7)
			break;
		reset(state);
		f = *state;
	}
	assert_true(n > 5 && n < 64);
}

static void test_leftover_temp(void **state)
{
	struct fx *f = *state;
	char path[8192];
	struct store *s;
	FILE *t;

	snprintf(path, sizeof(path), "%s/store.tmp.99999.0", f->sdir);
	t = fopen(path, "w");
	assert_non_null(t);
	fputs("half a generation", t);
	fclose(t);
	assert_int_equal(count_temps(f), 1);
	s = open_store(f);
	assert_old_or_new(s);
	assert_int_equal(count_temps(f), 0);
	store_close(s);
}

/* A writer that commits generation after generation, each holding its own
 * number, killed at a random moment; the survivor must be whole. */
static void test_kill_writer_loop(void **state)
{
	struct fx *f = *state;
	uint64_t last = 2, g;
	struct timespec ts;
	const uint8_t *v;
	struct store *s;
	char num[32];
	int status, progress[2];
	size_t len;
	pid_t pid;

	srand(1234);
	for (int round = 0; round < 40; round++) {
		assert_int_equal(pipe(progress), 0);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(progress[0]);
			fcntl(progress[1], F_SETFL, O_NONBLOCK);
			s = open_store(f);
			for (;;) {
				int n = snprintf(num, sizeof(num), "%" PRIu64,
						 store_generation(s) + 1);

				store_put(s, "gen", num, (size_t)n, NULL);
				if (store_commit(s, NULL))
					_exit(3);
				/* Tell the parent a commit landed (once is enough). */
				if (write(progress[1], "c", 1) < 0 &&
				    errno != EAGAIN)
					_exit(4);
			}
		}
		close(progress[1]);
		/* After the first commit, so each round kills a busy writer. */
		assert_int_equal(read(progress[0], num, 1), 1);
		close(progress[0]);
		ts.tv_sec = 0;
		ts.tv_nsec = (long)(rand() % 20000) * 1000;
		nanosleep(&ts, NULL);
		kill(pid, SIGKILL);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFSIGNALED(status));
		s = open_store(f);
		g = store_generation(s);
		assert_true(g >= last);
		if (g > 2) {
			assert_int_equal(store_get(s, "gen", &v, &len, NULL),
					 0);
			snprintf(num, sizeof(num), "%" PRIu64, g);
			assert_int_equal(len, strlen(num));
			assert_memory_equal(v, num, len);
		}
		last = g;
		store_close(s);
	}
	assert_true(last >= 2 + 40); /* each round committed at least once */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fail_each_step, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_crash_each_step, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_leftover_temp, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_kill_writer_loop, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
