// SPDX-License-Identifier: GPL-2.0-only
#include "toolstack/daemon/disk_layers.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devmodel/spawn.h"
#include "toolstack/daemon/daemon.h"
#include "toolstack/daemon/disks.h"
#include "toolstack/luks.h"
#include "util/file_hash.h"
#include "util/hex.h"
#include "util/log.h"
#include "util/secret.h"

/* cryptsetup's own limit for a key file read whole is far larger; a
 * passphrase is not. */
#define PASSPHRASE_MAX 8192u

int disk_key_path(const struct bhd *d, const char *vm, const char *vdev,
		  char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/disk-keys/%s.%s.key", d->state_dir, vm,
			 vdev);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* The passphrase, whole, from a root-only file that is not a link. */
static ssize_t read_key_file(const char *path, uint8_t *pass, char *err,
			     size_t errlen)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	struct stat st;
	ssize_t n;

	if (fd < 0) {
		snprintf(
			err, errlen,
			errno == ENOENT ?
				"no key file %s (bulkhead disk create --encrypt --for VM:VDEV, or bulkhead disk passwd --for, stores one)" :
				"cannot open the key file %s: %s",
			path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_uid != geteuid() || (st.st_mode & 077)) {
		snprintf(
			err, errlen,
			"the key file %s must be a regular file of ours that no one else may read or write (chmod 600)",
			path);
		close(fd);
		return -1;
	}
	if (!st.st_size || (uint64_t)st.st_size > PASSPHRASE_MAX) {
		snprintf(err, errlen,
			 "the key file %s holds %jd bytes (1 to %u)", path,
			 (intmax_t)st.st_size, PASSPHRASE_MAX);
		close(fd);
		return -1;
	}
	n = pread(fd, pass, (size_t)st.st_size, 0);
	close(fd);
	if (n != st.st_size) {
		snprintf(err, errlen, "cannot read the key file %s", path);
		return -1;
	}
	return n;
}

static int unlock(struct bhd *d, const char *vm, const struct disk_spec *ds,
		  int img, struct disk_layers *l, char *err, size_t errlen)
{
	char path[PATH_MAX], why[PATH_MAX + 256];
	uint8_t *pass = secret_alloc(PASSPHRASE_MAX);
	struct luks_info info;
	ssize_t n;
	int r = -1;

	if (!pass) {
		snprintf(err, errlen, "disk %s: cannot lock memory: %s",
			 ds->vdev, strerror(errno));
		return -1;
	}
	if (disk_key_path(d, vm, ds->vdev, path, sizeof(path)) < 0) {
		snprintf(err, errlen, "disk %s: key file path too long",
			 ds->vdev);
		goto out;
	}
	n = read_key_file(path, pass, why, sizeof(why));
	if (n < 0) {
		snprintf(err, errlen, "disk %s: %s is LUKS-encrypted: %s",
			 ds->vdev, ds->target, why);
		goto out;
	}
	if (luks_unlock(img, (const char *)pass, (size_t)n, &info, &l->key_fd,
			why, sizeof(why)) < 0) {
		snprintf(err, errlen, "disk %s: %s: %s", ds->vdev, ds->target,
			 why);
		goto out;
	}
	l->crypt_offset = info.data_offset;
	l->crypt_size = info.data_size;
	l->crypt_sector = info.sector_size;
	l->crypt_iv_large = info.iv_large_sectors;
	r = 0;
out:
	secret_free(pass, PASSPHRASE_MAX);
	return r;
}

/* An unnamed file: nothing of it is left after a crash (periods
 * processing), and only the device model holds it. */
static int open_overlay(struct bhd *d, const struct disk_spec *ds,
			struct disk_layers *l, char *err, size_t errlen)
{
	if (mkdir(d->overlay_dir, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "disk %s: cannot create %s: %s", ds->vdev,
			 d->overlay_dir, strerror(errno));
		return -1;
	}
	l->overlay_fd = open(d->overlay_dir,
			     O_TMPFILE | O_RDWR | O_EXCL | O_CLOEXEC, 0600);
	if (l->overlay_fd < 0) {
		snprintf(err, errlen,
			 "disk %s: cannot make an overlay in %s: %s", ds->vdev,
			 d->overlay_dir, strerror(errno));
		return -1;
	}
	return 0;
}

/* measure=on records the image's digest; verify= requires it. */
static int measure(struct bhd *d, const char *vm, const struct disk_spec *ds,
		   int img, struct disk_inst *di, char *err, size_t errlen)
{
	char want[2 * DISK_SHA256_BYTES + 1], got[2 * DISK_SHA256_BYTES + 1];
	int r;

	if (!ds->measure && !ds->verify)
		return 0;
	r = file_sha256(img, di->sha256, NULL, NULL);
	if (r < 0) {
		snprintf(err, errlen, "disk %s: cannot measure %s: %s",
			 ds->vdev, ds->target, strerror(-r));
		return -1;
	}
	di->measured = true;
	hex_encode(di->sha256, DISK_SHA256_BYTES, got);
	bh_info("vm %s: disk %s: %s has sha256:%s", vm, ds->vdev, ds->target,
		got);
	if (!ds->verify ||
	    !memcmp(di->sha256, ds->verify_sha256, DISK_SHA256_BYTES))
		return 0;
	hex_encode(ds->verify_sha256, DISK_SHA256_BYTES, want);
	snprintf(
		err, errlen,
		"disk %s: %s does not match verify=: expected sha256:%s, the image has sha256:%s; not starting",
		ds->vdev, ds->target, want, got);
	audit_toolstack(d, "disk.verify", vm, ds->vdev, err);
	return -1;
}

static bool image_is_luks(int img)
{
	uint8_t magic[8];

	return pread(img, magic, sizeof(magic), 0) == (ssize_t)sizeof(magic) &&
	       luks_magic(magic, sizeof(magic));
}

int disk_layers_prepare(struct bhd *d, const char *vm,
			const struct disk_spec *ds, int img,
			struct disk_inst *di, struct disk_layers *l, char *err,
			size_t errlen)
{
	*l = (struct disk_layers){ .key_fd = -1,
				   .overlay_fd = -1,
				   .verity_fd = -1,
				   .snapshot = ds->snapshot };
	if (measure(d, vm, ds, img, di, err, errlen) < 0)
		return -1;
	if (image_is_luks(img)) {
		if (ds->verity) {
			snprintf(
				err, errlen,
				"disk %s: verity= on a LUKS-encrypted image is not supported",
				ds->vdev);
			return -1;
		}
		if (unlock(d, vm, ds, img, l, err, errlen) < 0)
			goto fail;
		/* The device model never writes an encrypted disk's data
		 * to the host in clear. */
		if (l->snapshot == DISK_SNAPSHOT_TEMPORARY)
			l->snapshot = DISK_SNAPSHOT_TEMPORARY_ENCRYPTED;
	}
	if (ds->snapshot != DISK_SNAPSHOT_PERSISTENT &&
	    open_overlay(d, ds, l, err, errlen) < 0)
		goto fail;
	if (ds->verity) {
		l->verity_fd =
			open(ds->verity_hash, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		if (l->verity_fd < 0) {
			snprintf(
				err, errlen,
				"disk %s: cannot open the verity hash tree %s: %s",
				ds->vdev, ds->verity_hash, strerror(errno));
			goto fail;
		}
		memcpy(l->verity_root, ds->verity_root, DISK_SHA256_BYTES);
	}
	di->encrypted = l->key_fd >= 0;
	di->snapshot = l->snapshot;
	return 0;
fail:
	disk_layers_close(l);
	return -1;
}

static char *arg(struct disk_layers *l, unsigned int *used, const char *fmt,
		 ...) __attribute__((format(printf, 3, 4)));
static char *arg(struct disk_layers *l, unsigned int *used, const char *fmt,
		 ...)
{
	char *b = l->args[(*used)++];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(b, sizeof(l->args[0]), fmt, ap);
	va_end(ap);
	return b;
}

void disk_layers_args(struct disk_layers *l, int next, char **argv,
		      unsigned int *argc, struct devmodel_fd *fds,
		      unsigned int *nfds)
{
	unsigned int used = 0;

	if (l->key_fd >= 0) {
		argv[(*argc)++] = "--crypt=aes-xts-plain64";
		argv[(*argc)++] = arg(l, &used, "--crypt-key-fd=%d", next);
		argv[(*argc)++] = arg(l, &used, "--crypt-offset=%llu",
				      (unsigned long long)l->crypt_offset);
		argv[(*argc)++] = arg(l, &used, "--crypt-size=%llu",
				      (unsigned long long)l->crypt_size);
		argv[(*argc)++] = arg(l, &used, "--crypt-sector=%u",
				      (unsigned int)l->crypt_sector);
		if (l->crypt_iv_large)
			argv[(*argc)++] = "--crypt-iv-large-sectors";
		fds[(*nfds)++] = (struct devmodel_fd){ l->key_fd, next++ };
	}
	if (l->overlay_fd >= 0) {
		argv[(*argc)++] = arg(l, &used, "--snapshot=%s",
				      disk_snapshot_name(l->snapshot));
		argv[(*argc)++] = arg(l, &used, "--overlay-fd=%d", next);
		fds[(*nfds)++] = (struct devmodel_fd){ l->overlay_fd, next++ };
	}
	if (l->verity_fd >= 0) {
		char root[2 * DISK_SHA256_BYTES + 1];

		hex_encode(l->verity_root, DISK_SHA256_BYTES, root);
		argv[(*argc)++] = arg(l, &used, "--verity-root=%s", root);
		argv[(*argc)++] = arg(l, &used, "--verity-fd=%d", next);
		fds[(*nfds)++] = (struct devmodel_fd){ l->verity_fd, next++ };
	}
}

void disk_layers_close(struct disk_layers *l)
{
	if (l->key_fd >= 0)
		close(l->key_fd);
	if (l->overlay_fd >= 0)
		close(l->overlay_fd);
	if (l->verity_fd >= 0)
		close(l->verity_fd);
	l->key_fd = l->overlay_fd = l->verity_fd = -1;
}
