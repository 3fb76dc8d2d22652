// SPDX-License-Identifier: GPL-2.0-only
#include "store/atomic_file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util/fd_write.h"

int atomic_replace(int dirfd, const char *name, const void *buf, size_t len)
{
	static unsigned seq;
	char tmp[256];
	int fd, rc;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d.%u", name, (int)getpid(),
		     seq++) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	rc = fd_write_all(fd, buf, len);
	if (!rc && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && !rc)
		rc = -errno;
	/* Only a durable temp file may replace the old generation. */
	if (!rc && renameat(dirfd, tmp, dirfd, name) < 0)
		rc = -errno;
	if (rc) {
		unlinkat(dirfd, tmp, 0);
		return rc;
	}
	/* The rename itself is durable only once the directory is. */
	if (fsync(dirfd) < 0)
		return -errno;
	return 0;
}

void atomic_remove_temps(int dirfd, const char *name)
{
	char prefix[256];
	struct dirent *d;
	size_t plen;
	DIR *dir;
	int fd;

	plen = (size_t)snprintf(prefix, sizeof(prefix), "%s.tmp.", name);
	if (plen >= sizeof(prefix))
		return;
	fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;
	dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		return;
	}
	while ((d = readdir(dir)))
		if (!strncmp(d->d_name, prefix, plen))
			unlinkat(dirfd, d->d_name, 0);
	closedir(dir);
}
