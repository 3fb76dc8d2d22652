// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzzes luks_inspect() (src/toolstack/luks.c), and libcryptsetup's
 * LUKS1/LUKS2 header parsing under it, on images of any bytes. The first
 * input byte holds flags: bit 0 set recomputes the sha256 checksum of each
 * LUKS2 header copy found before the image is read, so mutated JSON gets
 * past the checksum to the validation. The rest goes into a memfd that
 * luks_inspect reads. Never unlocks: no passphrase KDF runs. Aborts when:
 *
 * - it returns other than 0, -EINVAL, -EOPNOTSUPP, -EIO or -ENOMEM, or
 *   its reason is empty on failure, set on success, not one printable line,
 *   or a name it read (cipher, mode, UUID) is not printable;
 * - an accepted image is outside what bulkhead-blk serves: version 1 or 2,
 *   aes-xts-plain64, a 32- or 64-byte key, a power-of-two sector from 512
 *   to 4096, a nonzero data area of whole sectors inside the image after
 *   the header, no iv_large_sectors, a NUL-terminated UUID, 0..32 slots;
 * - the image changed size, or a descriptor stayed open.
 *
 * FUZZ_LUKS2_TRACE=1 prints each result.
 */
#include "fuzz_input.h"
#include "toolstack/luks.h"

#include <dirent.h>
#include <errno.h>
#include <openssl/evp.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FIX_CHECKSUMS 0x01
#define LUKS2_BIN_HDR 4096u
#define CSUM_AT 448u

static uint64_t be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* Re-checksums the LUKS2 header copy at off if it is one; its size. */
static uint64_t fix_copy(uint8_t *img, size_t len, uint64_t off)
{
	static const uint8_t m1[6] = { 'L', 'U', 'K', 'S', 0xba, 0xbe };
	static const uint8_t m2[6] = { 'S', 'K', 'U', 'L', 0xba, 0xbe };
	uint8_t *h = img + off;
	unsigned int mdlen;
	uint64_t hsize;

	if (off > len || len - off < LUKS2_BIN_HDR)
		return 0;
	if (memcmp(h, m1, 6) && memcmp(h, m2, 6))
		return 0;
	hsize = be64(h + 8);
	if (hsize < LUKS2_BIN_HDR || hsize > len - off)
		return 0;
	memset(h + CSUM_AT, 0, 64);
	check(EVP_Digest(h, hsize, h + CSUM_AT, &mdlen, EVP_sha256(), NULL));
	return hsize;
}

static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	check(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static bool one_printable_line(const char *s)
{
	for (; *s; s++)
		if (*s < 0x20 || *s >= 0x7f)
			return false;
	return true;
}

static bool printable_field(const char *s, size_t cap)
{
	return memchr(s, '\0', cap) && one_printable_line(s);
}

static void check_accepted(const struct luks_info *i, size_t size)
{
	check(i->version == 1 || i->version == 2);
	check(!strcmp(i->cipher, "aes") && !strcmp(i->mode, "xts-plain64"));
	check(i->key_bytes == 32 || i->key_bytes == 64);
	check(i->sector_size >= 512 && i->sector_size <= 4096 &&
	      !(i->sector_size & (i->sector_size - 1)));
	check(i->data_size && !(i->data_size % i->sector_size));
	check(i->data_offset < size && i->data_size <= size - i->data_offset);
	check(!i->iv_large_sectors);
	check(memchr(i->uuid, '\0', sizeof(i->uuid)));
	check(i->keyslots_active >= 0 && i->keyslots_active <= 32);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int baseline = -1;
	struct rd in = { data, size };
	uint8_t flags = u8(&in);
	const uint8_t *bytes;
	size_t len = take(&in, in.n, &bytes);
	char err[LUKS_ERR_MAX];
	struct luks_info info;
	struct stat st;
	uint8_t *img;
	int fd, r;

	fd = memfd_create("fuzz-luks2", MFD_CLOEXEC);
	check(fd >= 0);
	if (len) {
		img = malloc(len);
		check(img);
		memcpy(img, bytes, len);
		if (flags & FIX_CHECKSUMS)
			fix_copy(img, len, fix_copy(img, len, 0));
		check(write(fd, img, len) == (ssize_t)len);
		free(img);
	}
	r = luks_inspect(fd, &info, err, sizeof(err));
	if (getenv("FUZZ_LUKS2_TRACE"))
		fprintf(stderr, "luks_inspect: %d %s\n", r, err);
	check(r == 0 || r == -EINVAL || r == -EOPNOTSUPP || r == -EIO ||
	      r == -ENOMEM);
	check(memchr(err, '\0', sizeof(err)) && one_printable_line(err));
	if (r == 0) {
		check(err[0] == '\0');
		check_accepted(&info, len);
	} else {
		check(err[0] != '\0');
	}
	/* What a header names is shown to users: printable only. */
	if (r == 0 || r == -EOPNOTSUPP)
		check(printable_field(info.cipher, sizeof(info.cipher)) &&
		      printable_field(info.mode, sizeof(info.mode)) &&
		      printable_field(info.uuid, sizeof(info.uuid)));
	/* libcryptsetup may repair a header copy, never resize. */
	check(fstat(fd, &st) == 0 && (size_t)st.st_size == len);
	close(fd);
	/* The first run opens what libcryptsetup keeps (its RNG). */
	if (baseline < 0)
		baseline = open_fds();
	check(open_fds() <= baseline);
	return 0;
}
