// SPDX-License-Identifier: GPL-2.0-only
/*
 * Reading and unlocking LUKS images (luks.h).
 *
 * iv_large_sectors: dm-crypt counts the plain64 IV in 512-byte units
 * unless the table carries "iv_large_sectors". libcryptsetup (checked in
 * cryptsetup v2.6.1, the version built against, and its main branch) adds
 * that option only when CRYPT_ACTIVATE_IV_LARGE_SECTORS is set
 * (lib/libdevmapper.c, get_dm_crypt_params); the only code setting it is
 * BITLK activation (lib/bitlk/bitlk.c) and `cryptsetup open --type plain
 * --iv-large-sectors` (src/utils_luks.c; src/cryptsetup.c refuses the
 * option for any other type). LUKS2_activate (lib/luks2/
 * luks2_json_metadata.c) takes only the caller's flags and the header's
 * persistent flags, whose table (allow-discards, same-cpu-crypt, ...) has
 * no IV flag. So a LUKS1 or LUKS2 image with 4096-byte sectors still
 * numbers its IVs in 512-byte sectors: sector k of the data area (k in
 * sector_size units) has IV k * sector_size / 512. LUKS2_activate also
 * passes crypt_get_iv_offset(), which is 0 for LUKS: the segment's
 * iv_tweak is for re-encryption only, and this file refuses an image
 * whose iv_tweak is not 0.
 */
#include "toolstack/luks.h"

#include <errno.h>
#include <json-c/json.h>
#include <libcryptsetup.h>
#include <linux/fs.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "toolstack/cs_log.h"
#include "toolstack/luks_cd.h"
#include "util/parse.h"
#include "util/secret.h"

#define LUKS1_PHDR_BYTES 592u
#define LUKS2_BIN_HDR_BYTES 4096u

bool luks_magic(const uint8_t *buf, size_t len)
{
	static const uint8_t magic[6] = { 'L', 'U', 'K', 'S', 0xba, 0xbe };

	return buf && len >= sizeof(magic) &&
	       !memcmp(buf, magic, sizeof(magic));
}

void luks_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

int luks_image_size(int fd, uint64_t *size, char *err, size_t errlen)
{
	struct stat st;

	if (fstat(fd, &st) < 0) {
		luks_err(err, errlen, "cannot stat the image: %s",
			 strerror(errno));
		return -errno;
	}
	if (S_ISREG(st.st_mode)) {
		*size = (uint64_t)st.st_size;
		return 0;
	}
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, size) < 0) {
			luks_err(err, errlen,
				 "cannot read the block device's size: %s",
				 strerror(errno));
			return -errno;
		}
		return 0;
	}
	luks_err(err, errlen, "not a regular file or block device");
	return -EINVAL;
}

int luks_cd_open(struct luks_cd *c, int fd, char *err, size_t errlen)
{
	int r;

	memset(c, 0, sizeof(*c));
	snprintf(c->path, sizeof(c->path), "/proc/self/fd/%d", fd);
	cs_log_begin(&c->log, c->path);
	r = crypt_init(&c->cd, c->path);
	if (r < 0) {
		const char *why = cs_log_reason(&c->log);

		luks_err(err, errlen, "cannot open the image: %s",
			 why ? why : strerror(-r));
		cs_log_end();
		c->cd = NULL;
		return r;
	}
	cs_log_attach(c->cd);
	return 0;
}

void luks_cd_close(struct luks_cd *c)
{
	if (c->cd)
		crypt_free(c->cd);
	c->cd = NULL;
	cs_log_end();
}

const char *luks_cd_reason(const struct luks_cd *c, int r)
{
	const char *why = cs_log_reason(&c->log);

	return why ? why : strerror(r < 0 ? -r : r);
}

/*
 * Why a header libcryptsetup would not load is unreadable, when the
 * image is too short for it: its first bytes say how long it must be.
 */
static bool shorter_than_header(int fd, uint64_t size)
{
	uint8_t hdr[16];
	uint64_t hdr_size = 0;

	if (pread(fd, hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr))
		return size >= 6; /* magic, then nothing to read */
	if (!luks_magic(hdr, sizeof(hdr)))
		return false;
	if (hdr[6] == 0 && hdr[7] == 1)
		return size < LUKS1_PHDR_BYTES;
	if (hdr[6] != 0 || hdr[7] != 2)
		return false;
	for (int i = 8; i < 16; i++)
		hdr_size = hdr_size << 8 | hdr[i];
	/* Both copies of the binary header and JSON area. */
	return size < LUKS2_BIN_HDR_BYTES ||
	       (hdr_size <= (UINT64_MAX >> 1) && size < 2 * hdr_size);
}

static int load_error(struct luks_cd *c, int fd, uint64_t size, int r,
		      char *err, size_t errlen)
{
	const char *why = cs_log_reason(&c->log);
	uint8_t magic[6];

	if (shorter_than_header(fd, size) ||
	    (why && strstr(why, "too small"))) {
		luks_err(
			err, errlen,
			"image is smaller than its LUKS header (it has only %llu bytes)",
			(unsigned long long)size);
		return -EINVAL;
	}
	if (pread(fd, magic, sizeof(magic), 0) != (ssize_t)sizeof(magic) ||
	    !luks_magic(magic, sizeof(magic))) {
		/* LUKS2 loads from its second header copy if the first is
		 * gone; a failure with no magic is most likely no LUKS. */
		luks_err(err, errlen, "not a LUKS image (%s)",
			 why ? why : "no LUKS header magic");
		return -EINVAL;
	}
	luks_err(err, errlen, "corrupt LUKS header: %s", luks_cd_reason(c, r));
	return r == -ENOMEM ? -ENOMEM : r == -EIO ? -EIO : -EINVAL;
}

static const char *jstr(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/*
 * The LUKS2 data segment as the header's JSON has it: exactly one, a
 * plain crypt segment (no integrity, no re-encryption flags, iv_tweak 0)
 * agreeing with what libcryptsetup reported. Sets *fixed_size (0 for
 * "dynamic": the rest of the image). Returns NULL or what is wrong.
 */
static const char *luks2_segment(struct crypt_device *cd,
				 const struct luks_info *info,
				 uint64_t *fixed_size)
{
	struct json_object *root, *segs, *seg, *v;
	const char *json = NULL, *s, *problem = NULL;
	char spec[65];
	uint64_t off;

	if (crypt_dump_json(cd, &json, 0) < 0 || !json)
		return "cannot read the LUKS2 metadata";
	root = json_tokener_parse(json);
	if (!root)
		return "cannot parse the LUKS2 metadata";
	snprintf(spec, sizeof(spec), "%s-%s", info->cipher, info->mode);
	if (!json_object_object_get_ex(root, "segments", &segs) ||
	    !json_object_is_type(segs, json_type_object) ||
	    json_object_object_length(segs) != 1 ||
	    !json_object_object_get_ex(segs, "0", &seg) ||
	    !json_object_is_type(seg, json_type_object))
		problem =
			"the image has more than one data segment (an interrupted re-encryption?)";
	else if (!(s = jstr(seg, "type")) || strcmp(s, "crypt"))
		problem = "its data segment is not of type crypt";
	else if (!(s = jstr(seg, "offset")) || bh_parse_u64(s, &off) ||
		 off != info->data_offset)
		problem =
			"its data segment's offset disagrees with libcryptsetup";
	else if (!(s = jstr(seg, "iv_tweak")) || strcmp(s, "0"))
		problem =
			"its data segment has an IV tweak (iv_tweak is not 0)";
	else if (!(s = jstr(seg, "encryption")) || strcmp(s, spec))
		problem =
			"its data segment's cipher disagrees with libcryptsetup";
	else if (json_object_object_get_ex(seg, "integrity", &v))
		problem =
			"authenticated encryption (dm-integrity) is not supported";
	else if (json_object_object_get_ex(seg, "flags", &v) &&
		 (!json_object_is_type(v, json_type_array) ||
		  json_object_array_length(v)))
		problem = "its data segment carries flags (re-encryption)";
	else if (!(s = jstr(seg, "size")))
		problem = "its data segment has no size";
	else if (!strcmp(s, "dynamic"))
		*fixed_size = 0;
	else if (bh_parse_u64(s, fixed_size) || !*fixed_size)
		problem = "its data segment's size is not a number";
	json_object_put(root);
	return problem;
}

/* A name from the header, as printable ASCII ('?' for other bytes). */
static void copy_name(char *out, size_t cap, const char *s)
{
	size_t n = 0;

	for (; s && *s && n + 1 < cap; s++, n++)
		out[n] = *s >= 0x20 && *s < 0x7f ? *s : '?';
	out[n] = '\0';
}

static int refuse(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int refuse(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EOPNOTSUPP;
}

/* What libcryptsetup read, into *info; then what bulkhead-blk needs. */
static int check_loaded(struct luks_cd *c, uint64_t size,
			struct luks_info *info, char *err, size_t errlen)
{
	struct crypt_device *cd = c->cd;
	struct crypt_params_integrity ip = { 0 };
	const char *type = crypt_get_type(cd), *cipher, *mode, *problem;
	uint64_t sectors = crypt_get_data_offset(cd), fixed = 0, avail;
	uint32_t req = 0;
	int key = crypt_get_volume_key_size(cd);
	int ss = crypt_get_sector_size(cd), max;

	info->version = type && !strcmp(type, CRYPT_LUKS2) ? 2 : 1;
	cipher = crypt_get_cipher(cd);
	mode = crypt_get_cipher_mode(cd);
	copy_name(info->cipher, sizeof(info->cipher), cipher);
	copy_name(info->mode, sizeof(info->mode), mode);
	info->key_bytes = key > 0 ? (uint32_t)key : 0;
	info->sector_size = ss > 0 ? (uint32_t)ss : 0;
	if (sectors > UINT64_MAX / 512)
		return refuse(err, errlen, "data offset out of range");
	info->data_offset = sectors * 512;
	copy_name(info->uuid, sizeof(info->uuid), crypt_get_uuid(cd));
	max = crypt_keyslot_max(type);
	for (int i = 0; i < max; i++) {
		crypt_keyslot_info ks = crypt_keyslot_status(cd, i);

		if (ks == CRYPT_SLOT_ACTIVE || ks == CRYPT_SLOT_ACTIVE_LAST)
			info->keyslots_active++;
	}
	info->iv_large_sectors = false;

	if (!cipher || !mode || strcmp(cipher, "aes") ||
	    strcmp(mode, "xts-plain64"))
		return refuse(
			err, errlen,
			"unsupported cipher %s-%s: bulkhead-blk serves only aes-xts-plain64",
			info->cipher, info->mode);
	if (key <= 0 && !info->keyslots_active)
		return refuse(
			err, errlen,
			"the LUKS header has no key slot: no passphrase can open it");
	if (key != 32 && key != 64)
		return refuse(
			err, errlen,
			"unsupported key size of %d bits: aes-xts-plain64 takes a 256- or 512-bit key",
			key * 8);
	if (ss < 512 || ss > 4096 || (ss & (ss - 1)))
		return refuse(
			err, errlen,
			"unsupported sector size %d: bulkhead-blk serves powers of two from 512 to 4096",
			ss);
	if (crypt_get_integrity_info(cd, &ip) == 0 && ip.integrity) {
		char name[40];

		copy_name(name, sizeof(name), ip.integrity);
		return refuse(
			err, errlen,
			"authenticated encryption (integrity %s) is not supported: bulkhead-blk serves only aes-xts-plain64",
			name);
	}
	if (info->version == 2) {
		if (crypt_persistent_flags_get(cd, CRYPT_FLAGS_REQUIREMENTS,
					       &req) < 0)
			return refuse(err, errlen,
				      "cannot read the LUKS2 requirements");
		if (req & (CRYPT_REQUIREMENT_OFFLINE_REENCRYPT |
			   CRYPT_REQUIREMENT_ONLINE_REENCRYPT))
			return refuse(
				err, errlen,
				"the image is being re-encrypted (LUKS2 requirements 0x%x): finish that with cryptsetup first",
				req);
		if (req)
			return refuse(
				err, errlen,
				"the LUKS2 header has requirements unknown to this libcryptsetup (0x%x)",
				req);
		problem = luks2_segment(cd, info, &fixed);
		if (problem)
			return refuse(err, errlen,
				      "unsupported LUKS2 image: %s", problem);
	}
	if (info->data_offset >= size) {
		luks_err(
			err, errlen,
			"image is smaller than its LUKS header (its data starts at byte %llu, the image has %llu)",
			(unsigned long long)info->data_offset,
			(unsigned long long)size);
		return -EINVAL;
	}
	/* dm-crypt maps whole 512-byte sectors of what follows the header. */
	avail = (size - info->data_offset) & ~(uint64_t)511;
	if (fixed > avail) {
		luks_err(
			err, errlen,
			"image is smaller than its LUKS header says: its data segment needs %llu bytes, the image has %llu after the header",
			(unsigned long long)fixed,
			(unsigned long long)(size - info->data_offset));
		return -EINVAL;
	}
	info->data_size = fixed ? fixed : avail;
	if (!info->data_size || info->data_size % info->sector_size) {
		luks_err(
			err, errlen,
			"the data area (%llu bytes) is not a whole number of %u-byte sectors",
			(unsigned long long)info->data_size, info->sector_size);
		return -EINVAL;
	}
	return 0;
}

int luks_cd_load(struct luks_cd *c, int fd, struct luks_info *info, char *err,
		 size_t errlen)
{
	uint64_t size;
	int r;

	memset(c, 0, sizeof(*c));
	memset(info, 0, sizeof(*info));
	r = luks_image_size(fd, &size, err, errlen);
	if (r < 0)
		return r;
	r = luks_cd_open(c, fd, err, errlen);
	if (r < 0)
		return r;
	r = crypt_load(c->cd, CRYPT_LUKS, NULL);
	if (r < 0)
		return load_error(c, fd, size, r, err, errlen);
	return check_loaded(c, size, info, err, errlen);
}

int luks_inspect(int fd, struct luks_info *info, char *err, size_t errlen)
{
	struct luks_cd c;
	int r;

	if (err && errlen)
		err[0] = '\0';
	r = luks_cd_load(&c, fd, info, err, errlen);
	luks_cd_close(&c);
	return r;
}

int luks_unlock(int fd, const char *pass, size_t passlen,
		struct luks_info *info, int *key_memfd, char *err,
		size_t errlen)
{
	struct luks_cd c;
	size_t keylen = LUKS_KEY_MAX;
	char *key = NULL;
	int r, slot;

	*key_memfd = -1;
	if (err && errlen)
		err[0] = '\0';
	r = luks_cd_load(&c, fd, info, err, errlen);
	if (r < 0)
		goto out;
	key = secret_alloc(LUKS_KEY_MAX);
	if (!key) {
		r = -errno;
		luks_err(err, errlen, "cannot lock memory for the key: %s",
			 strerror(errno));
		goto out;
	}
	slot = crypt_volume_key_get(c.cd, CRYPT_ANY_SLOT, key, &keylen, pass,
				    passlen);
	if (slot < 0) {
		r = slot;
		if (r == -EPERM || r == -ENOENT) {
			r = -EPERM;
			luks_err(
				err, errlen,
				"wrong passphrase (no key slot opens with it)");
		} else {
			luks_err(err, errlen, "cannot open a key slot: %s",
				 luks_cd_reason(&c, r));
		}
		goto out;
	}
	if (keylen != info->key_bytes) {
		r = -EINVAL;
		luks_err(err, errlen,
			 "the key slot gave a %zu-byte key, not %u", keylen,
			 info->key_bytes);
		goto out;
	}
	r = secret_memfd(key, keylen);
	if (r < 0) {
		luks_err(err, errlen, "cannot make the key memfd: %s",
			 strerror(-r));
		goto out;
	}
	*key_memfd = r;
	r = slot;
out:
	secret_free(key, LUKS_KEY_MAX);
	luks_cd_close(&c);
	return r;
}
