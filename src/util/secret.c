// SPDX-License-Identifier: GPL-2.0-only
#include "util/secret.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/fd_write.h"

#define SEALS_NEEDED (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

static size_t page_round(size_t len)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	if (len > SIZE_MAX - (page - 1))
		return 0;
	return (len + page - 1) & ~(page - 1);
}

void *secret_alloc(size_t len)
{
	size_t mlen = page_round(len);
	void *p;
	int e;

	if (!len || !mlen) {
		errno = EINVAL;
		return NULL;
	}
	p = mmap(NULL, mlen, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	if (mlock(p, mlen) < 0 || madvise(p, mlen, MADV_DONTDUMP) < 0 ||
	    madvise(p, mlen, MADV_WIPEONFORK) < 0) {
		e = errno;
		munmap(p, mlen);
		errno = e;
		return NULL;
	}
	return p;
}

void secret_free(void *p, size_t len)
{
	size_t mlen = page_round(len);

	if (!p || !mlen)
		return;
	/* The whole mapping: a caller may have used the page's slack. */
	explicit_bzero(p, mlen);
	munmap(p, mlen);
}

int secret_memfd(const void *key, size_t len)
{
	int fd, r;

	if (!key || !len)
		return -EINVAL;
	fd = memfd_create("bulkhead-key", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	r = fd_write_all(fd, key, len);
	if (!r && fcntl(fd, F_ADD_SEALS, SEALS_NEEDED | F_SEAL_SEAL) < 0)
		r = -errno;
	if (r) {
		/* Nothing else holds it: closing frees the pages. */
		close(fd);
		return r;
	}
	return fd;
}

ssize_t secret_read_memfd(int fd, void *buf, size_t max)
{
	struct stat st;
	size_t got = 0, size;
	int seals;

	if (fd < 0)
		return -EBADF;
	seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0)
		return errno == EBADF ? -EBADF : -EINVAL;
	if ((seals & SEALS_NEEDED) != SEALS_NEEDED)
		return -EINVAL;
	/* Sealed against resizing: the size cannot change after this. */
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || st.st_size <= 0)
		return -EINVAL;
	if ((uint64_t)st.st_size > max)
		return -EMSGSIZE;
	size = (size_t)st.st_size;
	while (got < size) {
		ssize_t n =
			pread(fd, (char *)buf + got, size - got, (off_t)got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			explicit_bzero(buf, got);
			return -EIO;
		}
		got += (size_t)n;
	}
	return (ssize_t)size;
}
