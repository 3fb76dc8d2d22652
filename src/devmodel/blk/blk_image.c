// SPDX-License-Identifier: GPL-2.0-only
#include "devmodel/blk/blk_image.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devmodel/blk/blk_config.h"
#include "devmodel/image_lock.h"
#include "util/log.h"

static const char qcow2_magic[4] = { 'Q', 'F', 'I', '\xfb' };

static int open_fd(const struct blk_image_options *o, char *err, size_t errlen)
{
	int fd, fl;

	if (o->path) {
		fd = open(o->path, (o->readonly ? O_RDONLY : O_RDWR) |
					   O_CLOEXEC | O_NOCTTY);
		if (fd < 0)
			snprintf(err, errlen, "cannot open %s: %s", o->path,
				 strerror(errno));
		return fd;
	}
	fl = fcntl(o->fd, F_GETFL);
	if (fl < 0) {
		snprintf(err, errlen, "image descriptor %d: %s", o->fd,
			 strerror(errno));
		return -1;
	}
	/* Read-only is enforced by the descriptor too, not only by us. */
	if (o->readonly && (fl & O_ACCMODE) != O_RDONLY) {
		snprintf(err, errlen,
			 "image descriptor %d is writable; --readonly needs "
			 "one opened O_RDONLY",
			 o->fd);
		return -1;
	}
	if (!o->readonly && (fl & O_ACCMODE) != O_RDWR) {
		snprintf(err, errlen,
			 "image descriptor %d is not open for reading and "
			 "writing (pass --readonly?)",
			 o->fd);
		return -1;
	}
	fcntl(o->fd, F_SETFD, FD_CLOEXEC);
	return o->fd;
}

static int probe(const struct blk_image_options *o, struct blk_image *img,
		 const char *name, char *err, size_t errlen)
{
	struct stat st;

	if (fstat(img->fd, &st) < 0) {
		snprintf(err, errlen, "%s: %s", name, strerror(errno));
		return -1;
	}
	img->block_size = BLK_SECTOR;
	if (S_ISREG(st.st_mode)) {
		img->size = (uint64_t)st.st_size;
		img->discard_align =
			st.st_blksize >= (blksize_t)BLK_SECTOR &&
					st.st_blksize <= (1 << 20) &&
					st.st_blksize % BLK_SECTOR == 0 ?
				(uint32_t)st.st_blksize :
				BLK_SECTOR;
	} else if (S_ISBLK(st.st_mode)) {
		int ssz = 0, ro = 0;

		img->block_device = true;
		if (ioctl(img->fd, BLKGETSIZE64, &img->size) < 0 ||
		    ioctl(img->fd, BLKSSZGET, &ssz) < 0) {
			snprintf(err, errlen, "%s: block device size: %s", name,
				 strerror(errno));
			return -1;
		}
		if (ssz >= (int)BLK_SECTOR && ssz <= 65536 &&
		    ssz % BLK_SECTOR == 0)
			img->block_size = (uint32_t)ssz;
		img->discard_align = img->block_size;
		if (!o->readonly && ioctl(img->fd, BLKROGET, &ro) == 0 && ro) {
			snprintf(err, errlen,
				 "%s: the block device is read-only (pass "
				 "--readonly)",
				 name);
			return -1;
		}
	} else {
		snprintf(err, errlen, "%s: not a regular file or block device",
			 name);
		return -1;
	}
	if (img->size < BLK_SECTOR) {
		snprintf(err, errlen, "%s: smaller than one 512-byte sector",
			 name);
		return -1;
	}
	if (img->size % BLK_SECTOR)
		bh_warn("%s: the last %llu bytes are not a whole sector and "
			"stay invisible",
			name, (unsigned long long)(img->size % BLK_SECTOR));
	return 0;
}

int blk_image_open(const struct blk_image_options *o, struct blk_image *img,
		   char *err, size_t errlen)
{
	char namebuf[32], why[200];
	const char *name = o->path;
	char head[4];
	int r;

	memset(img, 0, sizeof(*img));
	img->fd = -1;
	img->readonly = o->readonly;
	if (o->format == BLK_FORMAT_QCOW2) {
		snprintf(err, errlen,
			 "qcow2 images are not supported, only raw (qemu-img "
			 "convert -O raw makes one)");
		return -1;
	}
	if (!name) {
		snprintf(namebuf, sizeof(namebuf), "image descriptor %d",
			 o->fd);
		name = namebuf;
	}
	img->fd = open_fd(o, err, errlen);
	if (img->fd < 0)
		return -1;
	if (probe(o, img, name, err, errlen) < 0)
		goto fail;
	/* The guest caches; a second copy in the host's page cache would not. */
	if (o->direct) {
		int fl = fcntl(img->fd, F_GETFL);

		if (fl < 0 || fcntl(img->fd, F_SETFL, fl | O_DIRECT) < 0) {
			snprintf(
				err, errlen,
				"%s: --direct: its file system does not take O_DIRECT (%s)",
				name, strerror(errno));
			goto fail;
		}
	}
	/* Serving a qcow2 file's bytes as a disk is only ever on purpose. */
	if (!o->format_given && pread(img->fd, head, sizeof(head), 0) == 4 &&
	    !memcmp(head, qcow2_magic, sizeof(head))) {
		snprintf(err, errlen,
			 "%s is a qcow2 image: qcow2 is not supported (pass "
			 "--format raw to serve its bytes as a raw disk)",
			 name);
		goto fail;
	}
	r = image_lock(img->fd, !o->readonly, why, sizeof(why));
	if (r < 0) {
		snprintf(err, errlen, "%s: %s", name, why);
		goto fail;
	}
	return 0;
fail:
	if (o->path && img->fd >= 0)
		close(img->fd);
	img->fd = -1;
	return -1;
}
