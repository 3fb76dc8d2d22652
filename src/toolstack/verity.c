// SPDX-License-Identifier: GPL-2.0-only
#include "toolstack/verity.h"

#include <errno.h>
#include <libcryptsetup.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "toolstack/luks_cd.h"

bool verity_magic(const uint8_t *buf, size_t len)
{
	static const uint8_t magic[8] = { 'v', 'e', 'r', 'i', 't', 'y', 0, 0 };

	return buf && len >= sizeof(magic) &&
	       !memcmp(buf, magic, sizeof(magic));
}

/* A name from the superblock, as printable ASCII ('?' for other bytes). */
static void copy_name(char *out, size_t cap, const char *s)
{
	size_t n = 0;

	for (; s && *s && n + 1 < cap; s++, n++)
		out[n] = *s >= 0x20 && *s < 0x7f ? *s : '?';
	out[n] = '\0';
}

static int fill_info(struct luks_cd *c, struct verity_info *info, char *err,
		     size_t errlen)
{
	struct crypt_params_verity vp = { 0 };
	int r = crypt_get_verity_info(c->cd, &vp);

	memset(info, 0, sizeof(*info));
	if (r < 0) {
		luks_err(err, errlen, "cannot read the verity parameters: %s",
			 luks_cd_reason(c, r));
		return r;
	}
	if (vp.salt_size > VERITY_SALT_MAX || (vp.salt_size && !vp.salt)) {
		luks_err(err, errlen, "verity salt of %u bytes", vp.salt_size);
		return -EINVAL;
	}
	info->hash_type = vp.hash_type;
	copy_name(info->hash_name, sizeof(info->hash_name), vp.hash_name);
	info->data_block_size = vp.data_block_size;
	info->hash_block_size = vp.hash_block_size;
	info->data_blocks = vp.data_size;
	info->hash_offset = vp.hash_area_offset;
	info->salt_size = vp.salt_size;
	if (vp.salt_size)
		memcpy(info->salt, vp.salt, vp.salt_size);
	copy_name(info->uuid, sizeof(info->uuid), crypt_get_uuid(c->cd));
	return 0;
}

int verity_format(int data_fd, int hash_fd, uint8_t *root, size_t *root_len,
		  struct verity_info *info, char *err, size_t errlen)
{
	struct crypt_params_verity vp = { 0 };
	struct verity_info local;
	struct luks_cd c = { 0 };
	char data_path[32];
	uint64_t size;
	int r;

	if (err && errlen)
		err[0] = '\0';
	r = luks_image_size(data_fd, &size, err, errlen);
	if (r < 0)
		return r;
	if (!size || size % VERITY_BLOCK) {
		luks_err(
			err, errlen,
			"the image's size (%llu bytes) is not a nonzero multiple of %u",
			(unsigned long long)size, VERITY_BLOCK);
		return -EINVAL;
	}
	snprintf(data_path, sizeof(data_path), "/proc/self/fd/%d", data_fd);
	r = luks_cd_open(&c, hash_fd, err, errlen);
	if (r < 0)
		goto out;
	vp.hash_name = "sha256";
	vp.data_device = data_path;
	vp.salt = NULL; /* libcryptsetup draws it from its RNG */
	vp.salt_size = VERITY_SALT_BYTES;
	vp.hash_type = 1;
	vp.data_block_size = VERITY_BLOCK;
	vp.hash_block_size = VERITY_BLOCK;
	vp.data_size = size / VERITY_BLOCK;
	vp.hash_area_offset = 0;
	vp.flags = CRYPT_VERITY_CREATE_HASH;
	r = crypt_format(c.cd, CRYPT_VERITY, NULL, NULL, NULL, NULL, 0, &vp);
	if (r < 0) {
		luks_err(err, errlen, "cannot write the hash tree: %s",
			 luks_cd_reason(&c, r));
		goto out;
	}
	*root_len = VERITY_ROOT_MAX;
	r = crypt_volume_key_get(c.cd, CRYPT_ANY_SLOT, (char *)root, root_len,
				 NULL, 0);
	if (r < 0) {
		luks_err(err, errlen, "cannot read the root hash: %s",
			 luks_cd_reason(&c, r));
		goto out;
	}
	r = fill_info(&c, info ? info : &local, err, errlen);
	if (r == 0 && fsync(hash_fd) < 0) {
		r = -errno;
		luks_err(err, errlen, "cannot sync the hash file: %s",
			 strerror(errno));
	}
out:
	luks_cd_close(&c);
	return r;
}

int verity_inspect(int fd, struct verity_info *info, char *err, size_t errlen)
{
	struct luks_cd c = { 0 };
	int r;

	if (err && errlen)
		err[0] = '\0';
	memset(info, 0, sizeof(*info));
	r = luks_cd_open(&c, fd, err, errlen);
	if (r == 0) {
		r = crypt_load(c.cd, CRYPT_VERITY, NULL);
		if (r < 0)
			luks_err(err, errlen, "not a verity hash file: %s",
				 luks_cd_reason(&c, r));
	}
	if (r == 0)
		r = fill_info(&c, info, err, errlen);
	luks_cd_close(&c);
	return r;
}
