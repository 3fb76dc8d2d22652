// SPDX-License-Identifier: GPL-2.0-only
/* bulkhead disk measure: the SHA-256 of a whole image, for verify=. */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/disk.h"
#include "util/hex.h"

#define CHUNK (1u << 20)
#define PROGRESS_NS 250000000ll

const char disk_measure_usage[] =
	"usage: bulkhead disk measure IMAGE\n"
	"\n"
	"Prints the SHA-256 of the whole file IMAGE as\n"
	"\"sha256:HEX  IMAGE\": the value a disk specification's verify= takes.\n"
	"Shows its progress on a terminal.\n"
	"\n"
	"  -h, --help       this text\n";

static int64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000000ll + t.tv_nsec;
}

/* Hashes fd to its end; total (0 if unknown) is for progress only. */
static int hash_fd(int fd, const char *path, uint64_t total, uint8_t digest[32])
{
	static uint8_t buf[CHUNK];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int64_t shown = now_ns();
	uint64_t done = 0;
	unsigned int len;
	int r = -1;

	if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL))
		goto out;
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			cli_err("%s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		if (!EVP_DigestUpdate(ctx, buf, (size_t)n))
			goto out;
		done += (size_t)n;
		if (total && now_ns() - shown > PROGRESS_NS) {
			shown = now_ns();
			disk_progress(
				"measuring %s: %llu%%", path,
				(unsigned long long)(done >= total ?
							     100 :
							     done * 100 /
								     total));
		}
	}
	if (EVP_DigestFinal_ex(ctx, digest, &len) && len == 32)
		r = 0;
out:
	disk_progress_done();
	if (r < 0 && !errno)
		cli_err("%s: SHA-256 failed", path);
	EVP_MD_CTX_free(ctx);
	return r;
}

int disk_measure(int argc, char **argv)
{
	uint8_t digest[32];
	char hex[65];
	struct stat st;
	uint64_t total = 0;
	int fd, r;

	if (argc == 2 &&
	    (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(disk_measure_usage, stdout);
		return EXIT_OK;
	}
	if (argc != 2 || argv[1][0] == '-')
		return disk_usage_err("measure", "expected one IMAGE");
	fd = disk_open_image(argv[1], O_RDONLY);
	if (fd < 0)
		return EXIT_ERROR;
	if (fstat(fd, &st) == 0) {
		if (S_ISREG(st.st_mode))
			total = (uint64_t)st.st_size;
		else if (ioctl(fd, BLKGETSIZE64, &total) < 0)
			total = 0;
	}
	r = hash_fd(fd, argv[1], total, digest);
	close(fd);
	if (r < 0)
		return EXIT_ERROR;
	hex_encode(digest, sizeof(digest), hex);
	printf("sha256:%s  %s\n", hex, argv[1]);
	return EXIT_OK;
}
