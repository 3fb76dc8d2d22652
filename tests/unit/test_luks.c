// SPDX-License-Identifier: GPL-2.0-only
/*
 * LUKS images (toolstack/luks.c, luks_format.c) on files in a temporary
 * directory, checked against the cryptsetup program where it is installed
 * (it reads the images without device-mapper: luksDump, luksFormat).
 */
#include "toolstack/luks.h"
#include "util/hex.h"
#include "util/secret.h"

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
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>

#define MIB (1u << 20)
#define PASS "correct horse"
#define PASSLEN (sizeof(PASS) - 1)

static int format_image(uint64_t data_bytes, uint32_t sector_size,
			struct luks_info *info);

static char dir[64];
static char image[128];
static char template_image[128]; /* formatted once: 4096-byte sectors, 1 MiB */
static const char *cryptsetup;

/* Fixed KDF cost, no benchmark: every key slot opens in milliseconds. */
static const struct luks_pbkdf fast = { .iterations = 4,
					.max_memory_kib = 8192 };

static const char *find_program(const char *name)
{
	static char found[4][256];
	static int used;
	const char *dirs[] = { "/usr/sbin", "/sbin", "/usr/bin", "/bin" };
	const char *path = getenv("PATH");
	char buf[256];

	if (path) {
		char *copy = strdup(path), *save = NULL;

		for (char *d = strtok_r(copy, ":", &save); d;
		     d = strtok_r(NULL, ":", &save)) {
			snprintf(buf, sizeof(buf), "%s/%s", d, name);
			if (!access(buf, X_OK) && used < 4) {
				free(copy);
				snprintf(found[used], sizeof(found[used]), "%s",
					 buf);
				return found[used++];
			}
		}
		free(copy);
	}
	for (size_t i = 0; i < sizeof(dirs) / sizeof(*dirs); i++) {
		snprintf(buf, sizeof(buf), "%s/%s", dirs[i], name);
		if (!access(buf, X_OK) && used < 4) {
			snprintf(found[used], sizeof(found[used]), "%s", buf);
			return found[used++];
		}
	}
	return NULL;
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/bh-luks-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(template_image, sizeof(template_image), "%s/template.img",
		 dir);
	snprintf(image, sizeof(image), "%s", template_image);
	close(format_image(MIB, 4096, NULL));
	snprintf(image, sizeof(image), "%s/disk.img", dir);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void skip_without_cryptsetup(void)
{
	if (!cryptsetup) {
		print_message(
			"skipped: no cryptsetup program to compare with\n");
		skip();
	}
}

static int new_image(uint64_t size)
{
	int fd;

	unlink(image);
	fd = open(image, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	return fd;
}

static int format_image(uint64_t data_bytes, uint32_t sector_size,
			struct luks_info *info)
{
	struct luks_format_params p = { .sector_size = sector_size,
					.pbkdf = fast };
	char err[LUKS_ERR_MAX];
	int fd = new_image(LUKS2_HEADER_BYTES + data_bytes);
	int r = luks_format(fd, PASS, PASSLEN, &p, info, err, sizeof(err));

	if (r)
		fail_msg("luks_format: %d %s", r, err);
	return fd;
}

/*
 * A copy of the template: formatting fills 16 MiB of key slot area with
 * random bytes, which is most of a format's time.
 */
static int formatted_image(void)
{
	int fd = new_image(0), from = open(template_image, O_RDONLY);
	ssize_t n;

	assert_true(from >= 0);
	while ((n = copy_file_range(from, NULL, fd, NULL, 1 << 24, 0)) > 0)
		;
	assert_int_equal(n, 0);
	close(from);
	return fd;
}

static int reopen(int fd)
{
	close(fd);
	fd = open(image, O_RDWR | O_CLOEXEC);
	assert_true(fd >= 0);
	return fd;
}

/* Runs a shell command line; returns its exit status. */
static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int run(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void write_file(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	close(fd);
}

/*
 * Runs cryptsetup ARGS on the image with the passphrase in a key file;
 * its output goes to DIR/cs.out. Returns its exit status.
 */
static int cs_try(const char *pass, const char *args)
{
	char keyfile[128];

	snprintf(keyfile, sizeof(keyfile), "%s/key", dir);
	write_file(keyfile, pass, strlen(pass));
	return run("%s --batch-mode --key-file '%s' %s '%s' >'%s/cs.out' 2>&1",
		   cryptsetup, keyfile, args, image, dir);
}

/* cs_try, showing cryptsetup's output when it fails. */
static int cs(const char *pass, const char *args)
{
	int st = cs_try(pass, args);

	if (st)
		run("echo 'cryptsetup %s:'; cat '%s/cs.out'", args, dir);
	return st;
}

static void test_magic(void **state)
{
	static const uint8_t v1[] = { 'L', 'U', 'K', 'S', 0xba, 0xbe, 0, 1 };
	static const uint8_t v2[] = { 'L', 'U', 'K', 'S', 0xba, 0xbe, 0, 2 };
	static const uint8_t second[] = { 'S', 'K', 'U', 'L', 0xba, 0xbe };
	static const uint8_t off[] = { 'L', 'U', 'K', 'S', 0xba, 0xbf };

	(void)state;
	assert_true(luks_magic(v1, sizeof(v1)));
	assert_true(luks_magic(v2, 6));
	assert_false(luks_magic(v2, 5));
	assert_false(luks_magic(second, sizeof(second)));
	assert_false(luks_magic(off, sizeof(off)));
	assert_false(luks_magic(NULL, 8));
}

static void test_format_and_inspect(void **state)
{
	struct luks_info info, again;
	char err[LUKS_ERR_MAX];
	uint8_t pattern[4096], back[4096], head[8];
	int fd;

	(void)state;
	/* Data written before the header must survive it. */
	fd = new_image(LUKS2_HEADER_BYTES + MIB);
	memset(pattern, 0x5a, sizeof(pattern));
	assert_int_equal(pwrite(fd, pattern, sizeof(pattern),
				LUKS2_HEADER_BYTES + 8192),
			 (ssize_t)sizeof(pattern));
	{
		struct luks_format_params p = { .pbkdf = fast };

		assert_int_equal(luks_format(fd, PASS, PASSLEN, &p, &info, err,
					     sizeof(err)),
				 0);
	}
	assert_int_equal(pread(fd, back, sizeof(back),
			       LUKS2_HEADER_BYTES + 8192),
			 (ssize_t)sizeof(back));
	assert_memory_equal(back, pattern, sizeof(back));
	assert_int_equal(pread(fd, head, sizeof(head), 0), 8);
	assert_true(luks_magic(head, sizeof(head)));

	assert_int_equal(info.version, 2);
	assert_string_equal(info.cipher, "aes");
	assert_string_equal(info.mode, "xts-plain64");
	assert_int_equal(info.key_bytes, 64);
	assert_int_equal(info.sector_size, 4096); /* the default */
	assert_int_equal(info.data_offset, LUKS2_HEADER_BYTES);
	assert_int_equal(info.data_size, MIB);
	assert_int_equal(strlen(info.uuid), 36);
	assert_int_equal(info.keyslots_active, 1);
	assert_false(info.iv_large_sectors);

	fd = reopen(fd);
	assert_int_equal(luks_inspect(fd, &again, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_memory_equal(&again, &info, sizeof(info));
	close(fd);

	fd = format_image(3 * 512, 512, &info);
	assert_int_equal(info.sector_size, 512);
	assert_int_equal(info.data_size, 1536);
	close(fd);
}

static void expect_format_refused(uint64_t size, uint32_t sector_size,
				  const char *pass, const char *words)
{
	struct luks_format_params p = { .sector_size = sector_size,
					.pbkdf = fast };
	char err[LUKS_ERR_MAX];
	int fd = new_image(size);

	assert_int_equal(luks_format(fd, pass, strlen(pass), &p, NULL, err,
				     sizeof(err)),
			 -EINVAL);
	if (!strstr(err, words))
		fail_msg("\"%s\" lacks \"%s\"", err, words);
	close(fd);
}

static void test_format_refusals(void **state)
{
	(void)state;
	expect_format_refused(LUKS2_HEADER_BYTES + 4096, 1024, PASS,
			      "choose 512 or 4096");
	expect_format_refused(LUKS2_HEADER_BYTES + 4096, 4096, "",
			      "passphrase is empty");
	expect_format_refused(LUKS2_HEADER_BYTES, 4096, PASS,
			      "must hold the 16777216-byte LUKS2 header");
	expect_format_refused(LUKS2_HEADER_BYTES + 512, 4096, PASS,
			      "whole number of 4096-byte sectors");
	expect_format_refused(LUKS2_HEADER_BYTES + 100, 512, PASS,
			      "whole number of 512-byte sectors");
}

/* The volume key luks_unlock hands out, as bytes. */
static int unlock_key(int fd, const char *pass, uint8_t *key, char *err)
{
	struct luks_info info;
	int kfd = 12345, slot;
	ssize_t n;

	slot = luks_unlock(fd, pass, strlen(pass), &info, &kfd, err,
			   LUKS_ERR_MAX);
	if (slot < 0) {
		assert_int_equal(kfd, -1);
		return slot;
	}
	n = secret_read_memfd(kfd, key, LUKS_KEY_MAX);
	assert_int_equal(n, info.key_bytes);
	close(kfd);
	return slot;
}

static void test_unlock(void **state)
{
	uint8_t key[LUKS_KEY_MAX], zero[LUKS_KEY_MAX] = { 0 };
	char err[LUKS_ERR_MAX];
	int fd;

	(void)state;
	fd = formatted_image();
	assert_int_equal(unlock_key(fd, PASS, key, err), 0);
	assert_memory_not_equal(key, zero, sizeof(key));
	assert_int_equal(unlock_key(fd, "wrong horse", key, err), -EPERM);
	assert_string_equal(err,
			    "wrong passphrase (no key slot opens with it)");
	assert_int_equal(unlock_key(fd, "", key, err), -EPERM);
	close(fd);
}

/* The "MK dump:" of `cryptsetup luksDump --dump-volume-key`, as bytes. */
static size_t dumped_key(const char *pass, uint8_t *key)
{
	char path[128], line[256], hex[2 * LUKS_KEY_MAX + 1] = "";
	size_t n = 0;
	bool in = false;
	FILE *f;

	assert_int_equal(cs(pass, "luksDump --dump-volume-key"), 0);
	snprintf(path, sizeof(path), "%s/cs.out", dir);
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		const char *p = line;

		if (!strncmp(line, "MK dump:", 8)) {
			in = true;
			p += 8;
		} else if (!in || (line[0] != ' ' && line[0] != '\t')) {
			in = false;
			continue;
		}
		for (; *p; p++) {
			if (strchr("0123456789abcdef", *p) &&
			    n + 1 < sizeof(hex))
				hex[n++] = *p;
		}
	}
	fclose(f);
	hex[n] = '\0';
	return (size_t)hex_decode(hex, key, LUKS_KEY_MAX);
}

static void test_key_matches_cryptsetup(void **state)
{
	uint8_t ours[LUKS_KEY_MAX], theirs[LUKS_KEY_MAX];
	char err[LUKS_ERR_MAX];
	int fd;

	(void)state;
	skip_without_cryptsetup();
	fd = formatted_image();
	assert_int_equal(unlock_key(fd, PASS, ours, err), 0);
	assert_int_equal(dumped_key(PASS, theirs), 64);
	assert_memory_equal(ours, theirs, 64);
	close(fd);
}

static int cryptsetup_image(const char *args)
{
	char cmd[512];
	int fd = new_image(LUKS2_HEADER_BYTES + 2 * MIB);

	close(fd);
	snprintf(cmd, sizeof(cmd),
		 "luksFormat --pbkdf-force-iterations 4 --pbkdf-memory 8192 %s",
		 args);
	assert_int_equal(cs(PASS, cmd), 0);
	fd = open(image, O_RDWR | O_CLOEXEC);
	assert_true(fd >= 0);
	return fd;
}

static void test_cryptsetup_images(void **state)
{
	uint8_t ours[LUKS_KEY_MAX], theirs[LUKS_KEY_MAX];
	struct luks_info info;
	char err[LUKS_ERR_MAX];
	int fd;

	(void)state;
	skip_without_cryptsetup();
	/* LUKS2 as cryptsetup makes it by default, with 4096-byte sectors. */
	fd = cryptsetup_image("--type luks2 --sector-size 4096");
	assert_int_equal(luks_inspect(fd, &info, err, sizeof(err)), 0);
	assert_int_equal(info.version, 2);
	assert_int_equal(info.sector_size, 4096);
	assert_int_equal(info.data_offset + info.data_size,
			 LUKS2_HEADER_BYTES + 2 * MIB);
	assert_int_equal(unlock_key(fd, PASS, ours, err), 0);
	assert_int_equal(dumped_key(PASS, theirs), info.key_bytes);
	assert_memory_equal(ours, theirs, info.key_bytes);
	close(fd);

	/* LUKS1, with a 256-bit key (AES-128-XTS). */
	fd = new_image(LUKS2_HEADER_BYTES + 2 * MIB);
	close(fd);
	assert_int_equal(cs(PASS,
			    "luksFormat --type luks1 --key-size 256 "
			    "--pbkdf pbkdf2 --pbkdf-force-iterations 1000"),
			 0);
	fd = open(image, O_RDWR | O_CLOEXEC);
	assert_int_equal(luks_inspect(fd, &info, err, sizeof(err)), 0);
	assert_int_equal(info.version, 1);
	assert_int_equal(info.key_bytes, 32);
	assert_int_equal(info.sector_size, 512);
	assert_int_equal(info.keyslots_active, 1);
	assert_int_equal(unlock_key(fd, PASS, ours, err), 0);
	assert_int_equal(dumped_key(PASS, theirs), 32);
	assert_memory_equal(ours, theirs, 32);
	close(fd);
}

static uint64_t be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/*
 * Rewrites the data segment's cipher in both copies of a LUKS2 header,
 * with their checksums: the image cryptsetup makes with --cipher CIPHER
 * where the host's kernel has no CIPHER for it to test.
 */
static void set_segment_cipher(int fd, const char *cipher)
{
	static uint8_t hdr[1 << 20];
	uint64_t size, off = 0;
	unsigned int mdlen;

	for (int copy = 0; copy < 2; copy++) {
		char *json, *seg, *val, *end;
		size_t jlen, vlen;

		assert_int_equal(pread(fd, hdr, 4096, (off_t)off), 4096);
		size = be64(hdr + 8);
		assert_true(size > 4096 && size <= sizeof(hdr));
		assert_int_equal(pread(fd, hdr, size, (off_t)off),
				 (ssize_t)size);
		json = (char *)hdr + 4096;
		jlen = strnlen(json, size - 4096);
		seg = strstr(json, "\"segments\"");
		assert_non_null(seg);
		val = strstr(seg, "\"encryption\":\"");
		assert_non_null(val);
		val += strlen("\"encryption\":\"");
		end = strchr(val, '"');
		vlen = strlen(cipher);
		assert_true(jlen - (size_t)(end - val) + vlen < size - 4096);
		memmove(val + vlen, end, jlen - (size_t)(end - json) + 1);
		memcpy(val, cipher, vlen);
		/* sha256 over the header with its checksum field zeroed. */
		memset(hdr + 448, 0, 64);
		assert_int_equal(EVP_Digest(hdr, size, hdr + 448, &mdlen,
					    EVP_sha256(), NULL),
				 1);
		assert_int_equal(pwrite(fd, hdr, size, (off_t)off),
				 (ssize_t)size);
		off += size;
	}
}

static void test_refuses_serpent(void **state)
{
	struct luks_info info;
	char err[LUKS_ERR_MAX];
	int fd, kfd;

	(void)state;
	skip_without_cryptsetup();
	fd = new_image(LUKS2_HEADER_BYTES + MIB);
	close(fd);
	if (cs_try(PASS, "luksFormat --type luks2 --pbkdf-force-iterations 4 "
			 "--pbkdf-memory 8192 --cipher serpent-xts-plain64")) {
		/* It tests the cipher through dm-crypt when the kernel's
		 * crypto API lacks it: make its header from an AES one. */
		print_message(
			"note: cryptsetup cannot make a serpent image here; rewriting an AES one's header\n");
		fd = formatted_image();
		set_segment_cipher(fd, "serpent-xts-plain64");
	} else {
		fd = open(image, O_RDWR | O_CLOEXEC);
	}
	assert_int_equal(luks_inspect(fd, &info, err, sizeof(err)),
			 -EOPNOTSUPP);
	assert_string_equal(
		err,
		"unsupported cipher serpent-xts-plain64: bulkhead-blk serves only aes-xts-plain64");
	/* What was read is there for the caller to show. */
	assert_string_equal(info.cipher, "serpent");
	assert_int_equal(info.version, 2);
	/* And it is never unlocked. */
	assert_int_equal(luks_unlock(fd, PASS, PASSLEN, &info, &kfd, err,
				     sizeof(err)),
			 -EOPNOTSUPP);
	assert_int_equal(kfd, -1);
	close(fd);
}

static void test_refuses_other_modes(void **state)
{
	struct luks_info info;
	char err[LUKS_ERR_MAX];
	int fd;

	(void)state;
	skip_without_cryptsetup();
	fd = cryptsetup_image(
		"--type luks2 --cipher aes-cbc-essiv:sha256 --key-size 256");
	assert_int_equal(luks_inspect(fd, &info, err, sizeof(err)),
			 -EOPNOTSUPP);
	assert_string_equal(
		err,
		"unsupported cipher aes-cbc-essiv:sha256: bulkhead-blk serves only aes-xts-plain64");
	close(fd);
}

static void expect_inspect(int fd, int ret, const char *words)
{
	struct luks_info info;
	char err[LUKS_ERR_MAX];
	int r = luks_inspect(fd, &info, err, sizeof(err));

	if (r != ret)
		fail_msg("luks_inspect returned %d (%s), not %d", r, err, ret);
	if (!strstr(err, words))
		fail_msg("\"%s\" lacks \"%s\"", err, words);
	assert_null(strchr(err, '\n'));
}

static void test_refuses_truncated(void **state)
{
	static const uint64_t sizes[] = {
		LUKS2_HEADER_BYTES, MIB, 40000, 10000, 4096, 100
	};
	int fd;

	(void)state;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(*sizes); i++) {
		fd = formatted_image();
		assert_int_equal(ftruncate(fd, (off_t)sizes[i]), 0);
		expect_inspect(fd, -EINVAL,
			       "image is smaller than its LUKS header");
		close(fd);
	}
	/* A data area that is not whole sectors. */
	fd = formatted_image();
	assert_int_equal(ftruncate(fd, LUKS2_HEADER_BYTES + MIB - 512), 0);
	expect_inspect(fd, -EINVAL, "not a whole number of 4096-byte sectors");
	close(fd);
}

/* Flips bytes inside the JSON area of header copy at off. */
static void damage_json(int fd, off_t off)
{
	uint8_t b[16];

	assert_int_equal(pread(fd, b, sizeof(b), off + 4096 + 32), 16);
	for (size_t i = 0; i < sizeof(b); i++)
		b[i] ^= 0x55;
	assert_int_equal(pwrite(fd, b, sizeof(b), off + 4096 + 32), 16);
}

static void test_refuses_corrupt_header(void **state)
{
	struct luks_info info;
	char err[LUKS_ERR_MAX];
	uint8_t zeros[65536] = { 0 };
	int fd;

	(void)state;
	/* One damaged copy: libcryptsetup loads (and repairs) the other. */
	fd = formatted_image();
	damage_json(fd, 0);
	assert_int_equal(luks_inspect(fd, &info, err, sizeof(err)), 0);
	damage_json(fd, 16384);
	assert_int_equal(luks_inspect(fd, &info, err, sizeof(err)), 0);
	/* Both: refused, with libcryptsetup's finding, not just -EINVAL. */
	damage_json(fd, 0);
	damage_json(fd, 16384);
	expect_inspect(fd, -EINVAL,
		       "corrupt LUKS header: LUKS2 header checksum error");
	close(fd);

	/* No header at all. */
	fd = new_image(LUKS2_HEADER_BYTES + MIB);
	assert_int_equal(pwrite(fd, zeros, sizeof(zeros), 0), 65536);
	expect_inspect(fd, -EINVAL, "not a LUKS image");
	close(fd);
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	expect_inspect(fd, -EINVAL, "not a regular file or block device");
	close(fd);
}

static void test_add_and_change_keys(void **state)
{
	uint8_t key0[LUKS_KEY_MAX], key[LUKS_KEY_MAX];
	struct luks_info info;
	char err[LUKS_ERR_MAX];
	int fd;

	(void)state;
	fd = formatted_image();
	assert_int_equal(unlock_key(fd, PASS, key0, err), 0);

	assert_int_equal(luks_add_key(fd, PASS, PASSLEN, "second", 6, &fast,
				      err, sizeof(err)),
			 1);
	assert_int_equal(unlock_key(fd, "second", key, err), 1);
	assert_memory_equal(key, key0, 64);
	assert_int_equal(unlock_key(fd, PASS, key, err), 0);

	/* Change the passphrase of the slot "second" opens. */
	assert_int_equal(luks_change_key(fd, "second", 6, "third", 5, &fast,
					 err, sizeof(err)),
			 1);
	assert_int_equal(unlock_key(fd, "second", key, err), -EPERM);
	assert_int_equal(unlock_key(fd, "third", key, err), 1);
	assert_memory_equal(key, key0, 64);
	assert_int_equal(unlock_key(fd, PASS, key, err), 0);
	assert_int_equal(luks_inspect(fd, &info, err, sizeof(err)), 0);
	assert_int_equal(info.keyslots_active, 2);

	assert_int_equal(luks_add_key(fd, "nope", 4, "x", 1, &fast, err,
				      sizeof(err)),
			 -EPERM);
	assert_string_equal(err,
			    "wrong passphrase (no key slot opens with it)");
	assert_int_equal(luks_change_key(fd, "nope", 4, "x", 1, &fast, err,
					 sizeof(err)),
			 -EPERM);
	assert_int_equal(luks_add_key(fd, PASS, PASSLEN, "", 0, &fast, err,
				      sizeof(err)),
			 -EINVAL);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_magic),
		cmocka_unit_test(test_format_and_inspect),
		cmocka_unit_test(test_format_refusals),
		cmocka_unit_test(test_unlock),
		cmocka_unit_test(test_key_matches_cryptsetup),
		cmocka_unit_test(test_cryptsetup_images),
		cmocka_unit_test(test_refuses_serpent),
		cmocka_unit_test(test_refuses_other_modes),
		cmocka_unit_test(test_refuses_truncated),
		cmocka_unit_test(test_refuses_corrupt_header),
		cmocka_unit_test(test_add_and_change_keys),
	};

	cryptsetup = find_program("cryptsetup");
	if (!cryptsetup)
		printf("note: no cryptsetup program: the comparisons with it are skipped\n");
	return cmocka_run_group_tests(tests, setup, teardown);
}
