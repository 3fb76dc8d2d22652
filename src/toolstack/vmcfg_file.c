// SPDX-License-Identifier: GPL-2.0-only
/* Definition files on disk: reading them and resolving the paths they hold. */
#include "toolstack/vmcfg.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* "./a" and "a" name the same file; drop the noise before joining. */
static const char *skip_dot_slash(const char *p)
{
	while (p[0] == '.' && p[1] == '/') {
		p += 2;
		while (*p == '/')
			p++;
	}
	return p;
}

char *vmcfg_resolve_path(const char *base_dir, const char *path)
{
	size_t blen, plen;
	char *out;

	if (path[0] == '/') {
		if (strlen(path) > VMCFG_PATH_MAX) {
			errno = ENAMETOOLONG;
			return NULL;
		}
		out = strdup(path);
		if (!out)
			errno = ENOMEM;
		return out;
	}
	if (!base_dir) {
		errno = EINVAL;
		return NULL;
	}
	path = skip_dot_slash(path);
	blen = strlen(base_dir);
	while (blen > 1 && base_dir[blen - 1] == '/')
		blen--;
	plen = strlen(path);
	/* base + "/" + path; "." alone resolves to the directory itself. */
	if (blen + 1 + plen > VMCFG_PATH_MAX) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	out = malloc(blen + 1 + plen + 1);
	if (!out) {
		errno = ENOMEM;
		return NULL;
	}
	memcpy(out, base_dir, blen);
	if (plen && !(blen == 1 && base_dir[0] == '/'))
		out[blen++] = '/';
	memcpy(out + blen, path, plen + 1);
	return out;
}

/* The absolute directory holding path. */
static char *file_directory(const char *path)
{
	const char *slash = strrchr(path, '/');
	char cwd[PATH_MAX], *dir, *out;

	if (slash == path)
		return strdup("/");
	dir = slash ? strndup(path, (size_t)(slash - path)) : strdup(".");
	if (!dir || dir[0] == '/')
		return dir;
	if (!getcwd(cwd, sizeof(cwd))) {
		free(dir);
		return NULL;
	}
	out = strcmp(dir, ".") ? vmcfg_resolve_path(cwd, dir) : strdup(cwd);
	free(dir);
	return out;
}

static int read_all(int fd, char **out, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);

	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t r;

		if (n == cap) {
			char *nbuf;

			/* Read one byte past the limit to see the file is too big. */
			if (cap > VMCFG_FILE_MAX) {
				free(buf);
				return -EFBIG;
			}
			cap *= 2;
			nbuf = realloc(buf, cap);
			if (!nbuf) {
				free(buf);
				return -ENOMEM;
			}
			buf = nbuf;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;

			free(buf);
			return -e;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	*out = buf;
	*len = n;
	return 0;
}

int vmcfg_parse_file(const char *path, struct vmcfg **out,
		     struct cfg_error *err)
{
	char *buf = NULL, *dir = NULL;
	struct stat st;
	size_t len = 0;
	int fd, ret;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		ret = -errno;
		cfg_error_set(err, path, 0, 0, "cannot open: %s",
			      strerror(-ret));
		return ret;
	}
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		cfg_error_set(err, path, 0, 0, "cannot stat: %s",
			      strerror(-ret));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = -EINVAL;
		cfg_error_set(err, path, 0, 0, "not a regular file");
		goto out;
	}
	ret = read_all(fd, &buf, &len);
	if (ret == 0 && len > VMCFG_FILE_MAX)
		ret = -EFBIG;
	if (ret == -EFBIG) {
		cfg_error_set(
			err, path, 0, 0,
			"file too large: a definition is at most %u bytes",
			VMCFG_FILE_MAX);
		goto out;
	}
	if (ret) {
		cfg_error_set(err, path, 0, 0, "cannot read: %s",
			      strerror(-ret));
		goto out;
	}
	errno = 0;
	dir = file_directory(path);
	if (!dir) {
		ret = errno ? -errno : -ENOMEM;
		cfg_error_set(err, path, 0, 0,
			      "cannot work out the file's directory: %s",
			      strerror(-ret));
		goto out;
	}
	ret = vmcfg_parse_buffer(buf, len, path, dir, out, err);
out:
	free(dir);
	free(buf);
	close(fd);
	return ret;
}
