// SPDX-License-Identifier: GPL-2.0-only
#include "util/file_hash.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHUNK (1u << 20)
#define PROGRESS_EVERY (64u << 20)

int file_sha256(int fd, uint8_t out[FILE_SHA256_BYTES],
		file_hash_progress_fn progress, void *arg)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint8_t *buf = malloc(CHUNK);
	uint64_t done = 0, total;
	unsigned int len = 0;
	struct stat st;
	int ret = 0;

	if (!ctx || !buf) {
		ret = -ENOMEM;
		goto out;
	}
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		goto out;
	}
	total = (uint64_t)st.st_size;
	if (!EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
		ret = -EIO;
		goto out;
	}
	while (done < total) {
		size_t want = total - done < CHUNK ? total - done : CHUNK;
		ssize_t n = pread(fd, buf, want, (off_t)done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = n < 0 ? -errno : -EIO;
			goto out;
		}
		if (!EVP_DigestUpdate(ctx, buf, (size_t)n)) {
			ret = -EIO;
			goto out;
		}
		done += (uint64_t)n;
		if (progress &&
		    (done % PROGRESS_EVERY < (uint64_t)n || done == total))
			progress(done, total, arg);
	}
	if (!EVP_DigestFinal_ex(ctx, out, &len) || len != FILE_SHA256_BYTES)
		ret = -EIO;
out:
	EVP_MD_CTX_free(ctx);
	free(buf);
	return ret;
}
