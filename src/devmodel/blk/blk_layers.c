// SPDX-License-Identifier: GPL-2.0-only
#include "devmodel/blk/blk_layers.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devmodel/blk/blk_crypt.h"
#include "devmodel/blk/blk_verity.h"
#include "util/log.h"
#include "util/secret.h"

#define XTS_KEY_MAX 64u /* AES-256-XTS: two 256-bit keys */
/* Verified hash blocks kept: the top levels of a tree of many GiB. */
#define VERITY_CACHE_BYTES (4u << 20)

static const char *const snapshot_names[] = {
	[BLK_SNAPSHOT_PERSISTENT] = "persistent",
	[BLK_SNAPSHOT_TEMPORARY] = "temporary",
	[BLK_SNAPSHOT_TEMPORARY_ENCRYPTED] = "temporary-encrypted",
};

int blk_snapshot_parse(const char *s, enum blk_snapshot *out)
{
	for (unsigned int i = 0;
	     i < sizeof(snapshot_names) / sizeof(*snapshot_names); i++) {
		if (!strcmp(s, snapshot_names[i])) {
			*out = (enum blk_snapshot)i;
			return 0;
		}
	}
	return -1;
}

const char *blk_snapshot_name(enum blk_snapshot s)
{
	return (unsigned int)s < sizeof(snapshot_names) /
					 sizeof(*snapshot_names) ?
		       snapshot_names[s] :
		       "?";
}

/* The volume key from its sealed memfd, expanded, then wiped. */
static int open_image_crypt(const struct blk_layer_options *o,
			    struct blk_layers *l, char *err, size_t errlen)
{
	uint8_t *key = secret_alloc(XTS_KEY_MAX);
	ssize_t n;

	if (!key) {
		snprintf(err, errlen, "cannot lock memory for the key: %s",
			 strerror(errno));
		return -1;
	}
	n = secret_read_memfd(o->crypt_key_fd, key, XTS_KEY_MAX);
	if (n < 0)
		snprintf(err, errlen, "--crypt-key-fd %d: %s", o->crypt_key_fd,
			 strerror((int)-n));
	else
		l->crypt = blk_crypt_new(key, (size_t)n, o->crypt_sector,
					 o->crypt_iv_large, err, errlen);
	secret_free(key, XTS_KEY_MAX);
	close(o->crypt_key_fd);
	return l->crypt ? 0 : -1;
}

/* A key for this boot's overlay: random, never stored, gone at exit. */
static int open_overlay_crypt(uint32_t sector, struct blk_layers *l, char *err,
			      size_t errlen)
{
	uint8_t *key = secret_alloc(XTS_KEY_MAX);

	if (!key) {
		snprintf(err, errlen, "cannot lock memory for the key: %s",
			 strerror(errno));
		return -1;
	}
	if (getrandom(key, XTS_KEY_MAX, 0) != (ssize_t)XTS_KEY_MAX)
		snprintf(err, errlen, "getrandom: %s", strerror(errno));
	else
		l->overlay_crypt = blk_crypt_new(key, XTS_KEY_MAX, sector, true,
						 err, errlen);
	secret_free(key, XTS_KEY_MAX);
	return l->overlay_crypt ? 0 : -1;
}

/*
 * Periods processing: the overlay has no name (a crash leaves nothing),
 * starts empty as far as the guest can tell (the map says no unit is in
 * it), and is as large as the disk, sparse.
 */
static int check_overlay(int fd, uint64_t size, char *err, size_t errlen)
{
	struct stat st;
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fstat(fd, &st) < 0) {
		snprintf(err, errlen, "--overlay-fd %d: %s", fd,
			 strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode) || (fl & O_ACCMODE) != O_RDWR) {
		snprintf(
			err, errlen,
			"--overlay-fd %d: not a regular file open for reading and writing",
			fd);
		return -1;
	}
	if (st.st_nlink) {
		snprintf(
			err, errlen,
			"--overlay-fd %d: the overlay has a name (%ju links); it must be unlinked (O_TMPFILE) so nothing of it outlives the VM",
			fd, (uintmax_t)st.st_nlink);
		return -1;
	}
	if ((uint64_t)st.st_size < size && ftruncate(fd, (off_t)size) < 0) {
		snprintf(err, errlen, "--overlay-fd %d: cannot size it: %s", fd,
			 strerror(errno));
		return -1;
	}
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	return 0;
}

static uint32_t max_u32(uint32_t a, uint32_t b)
{
	return a > b ? a : b;
}

int blk_layers_open(const struct blk_layer_options *o,
		    const struct blk_image *img, struct blk_layers *l,
		    char *err, size_t errlen)
{
	struct blk_stack_config *c = &l->stack;
	uint64_t avail = img->size;

	memset(l, 0, sizeof(*l));
	l->block_size = img->block_size;
	l->any = o->crypt_key_fd >= 0 ||
		 o->snapshot != BLK_SNAPSHOT_PERSISTENT || o->verity_fd >= 0;
	if (!l->any)
		return 0;
	c->unit = img->block_size;
	if (o->crypt_key_fd >= 0) {
		if (o->verity_fd >= 0) {
			snprintf(
				err, errlen,
				"verity and encryption together are not supported");
			return -1;
		}
		if (o->crypt_offset >= img->size) {
			snprintf(
				err, errlen,
				"the image (%llu bytes) is no larger than its LUKS header (%llu bytes)",
				(unsigned long long)img->size,
				(unsigned long long)o->crypt_offset);
			return -1;
		}
		if (o->crypt_offset % img->block_size) {
			snprintf(
				err, errlen,
				"--crypt-offset %llu is not a multiple of the image's block size",
				(unsigned long long)o->crypt_offset);
			return -1;
		}
		if (open_image_crypt(o, l, err, errlen) < 0)
			goto fail;
		c->crypt = l->crypt;
		c->data_offset = o->crypt_offset;
		c->unit = max_u32(c->unit, o->crypt_sector);
		avail -= o->crypt_offset;
		if (o->crypt_size && o->crypt_size < avail)
			avail = o->crypt_size;
	}
	if (o->verity_fd >= 0) {
		l->verity = blk_verity_open(o->verity_fd, o->verity_root,
					    BLK_VERITY_ROOT_BYTES, img->size,
					    VERITY_CACHE_BYTES, err, errlen);
		if (!l->verity)
			goto fail;
		c->verity = l->verity;
		c->verity_block = blk_verity_block_size(l->verity);
		c->unit = max_u32(c->unit, c->verity_block);
		/* Blocks past the tree's would be served unchecked. */
		if (avail > blk_verity_blocks(l->verity) * c->verity_block)
			avail = blk_verity_blocks(l->verity) * c->verity_block;
	}
	c->size = avail - avail % c->unit;
	if (!c->size) {
		snprintf(err, errlen, "the disk would be empty");
		goto fail;
	}
	if (o->snapshot != BLK_SNAPSHOT_PERSISTENT) {
		if (o->overlay_fd < 0) {
			snprintf(err, errlen,
				 "--snapshot %s needs --overlay-fd",
				 blk_snapshot_name(o->snapshot));
			goto fail;
		}
		if (check_overlay(o->overlay_fd, c->size, err, errlen) < 0)
			goto fail;
		c->overlay = true;
		/* An encrypted disk's writes never reach the host in clear. */
		if ((o->snapshot == BLK_SNAPSHOT_TEMPORARY_ENCRYPTED ||
		     l->crypt) &&
		    open_overlay_crypt(c->unit > 4096 ? 4096 : c->unit, l, err,
				       errlen) < 0)
			goto fail;
		c->overlay_crypt = l->overlay_crypt;
	}
	l->block_size = c->unit;
	return 0;
fail:
	blk_layers_close(l);
	return -1;
}

void blk_layers_close(struct blk_layers *l)
{
	blk_crypt_free(l->crypt);
	blk_crypt_free(l->overlay_crypt);
	blk_verity_free(l->verity);
	memset(l, 0, sizeof(*l));
}
