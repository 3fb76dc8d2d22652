// SPDX-License-Identifier: GPL-2.0-only
#include "store/anchor_file.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "store/atomic_file.h"

static int anchor_read(void *ctx, uint64_t *value)
{
	struct anchor_file *a = ctx;
	char buf[64], tail;
	ssize_t n;
	int fd;

	fd = open(a->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno != ENOENT)
			return -errno;
		*value = 0;
		return 0;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	if (sscanf(buf, "bhstore-anchor 1 %" SCNu64 "%c", value, &tail) != 2 ||
	    tail != '\n')
		return -EBADMSG;
	return 0;
}

static int anchor_advance(void *ctx, uint64_t value)
{
	struct anchor_file *a = ctx;
	char dir[4096], line[64], *base;
	uint64_t cur;
	int dfd, rc, n;

	rc = anchor_read(ctx, &cur);
	if (rc)
		return rc;
	if (cur >= value)
		return 0; /* never lowered */
	snprintf(dir, sizeof(dir), "%s", a->path);
	base = strrchr(a->path, '/') ? strrchr(a->path, '/') + 1 : a->path;
	dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	atomic_remove_temps(dfd, base); /* of a writer that crashed */
	n = snprintf(line, sizeof(line), "bhstore-anchor 1 %" PRIu64 "\n",
		     value);
	rc = atomic_replace(dfd, base, line, (size_t)n);
	close(dfd);
	return rc;
}

int anchor_file_init(struct anchor_file *a, const char *path,
		     struct store_anchor *anchor)
{
	if (!*path || snprintf(a->path, sizeof(a->path), "%s", path) >=
			      (int)sizeof(a->path))
		return -ENAMETOOLONG;
	anchor->read = anchor_read;
	anchor->advance = anchor_advance;
	anchor->ctx = a;
	return 0;
}
