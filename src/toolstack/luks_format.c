// SPDX-License-Identifier: GPL-2.0-only
/* Writing LUKS headers and key slots (luks.h): format, add, change. */
#include <errno.h>
#include <libcryptsetup.h>
#include <string.h>
#include <unistd.h>

#include "toolstack/luks.h"
#include "toolstack/luks_cd.h"

#define ARGON2_FIXED_MEMORY_KIB 32768u

/* The KDF a new key slot of a LUKS1 or LUKS2 image gets from *p. */
static void pbkdf_for(unsigned version, const struct luks_pbkdf *p,
		      struct crypt_pbkdf_type *t)
{
	const struct crypt_pbkdf_type *def = crypt_get_pbkdf_default(
		version == 2 ? CRYPT_LUKS2 : CRYPT_LUKS1);

	memset(t, 0, sizeof(*t));
	t->hash = def && def->hash ? def->hash : "sha256";
	t->time_ms = p && p->iter_time_ms ? p->iter_time_ms :
		     def		  ? def->time_ms :
					    2000;
	if (version == 2) {
		t->type = CRYPT_KDF_ARGON2ID;
		t->max_memory_kb = p && p->max_memory_kib ? p->max_memory_kib :
				   def			  ? def->max_memory_kb :
							    0;
		t->parallel_threads = def ? def->parallel_threads : 4;
	} else {
		/* LUKS1 key slots know only PBKDF2. */
		t->type = CRYPT_KDF_PBKDF2;
	}
	if (p && p->iterations) {
		t->iterations = p->iterations;
		t->flags = CRYPT_PBKDF_NO_BENCHMARK;
		if (version == 2 && !(p->max_memory_kib))
			t->max_memory_kb = ARGON2_FIXED_MEMORY_KIB;
		if (version != 2 && t->iterations < 1000)
			t->iterations = 1000; /* libcryptsetup's least */
	}
}

static int sync_image(int fd, char *err, size_t errlen)
{
	if (fsync(fd) < 0) {
		luks_err(err, errlen, "cannot sync the image: %s",
			 strerror(errno));
		return -errno;
	}
	return 0;
}

int luks_format(int fd, const char *pass, size_t passlen,
		const struct luks_format_params *params, struct luks_info *info,
		char *err, size_t errlen)
{
	uint32_t ss = params && params->sector_size ? params->sector_size :
						      4096;
	struct crypt_pbkdf_type t;
	struct crypt_params_luks2 p2 = { 0 };
	struct luks_info again;
	struct luks_cd c = { 0 };
	uint64_t size;
	int r;

	if (err && errlen)
		err[0] = '\0';
	if (ss != 512 && ss != 4096) {
		luks_err(err, errlen, "sector size %u: choose 512 or 4096", ss);
		return -EINVAL;
	}
	if (!pass || !passlen) {
		luks_err(err, errlen, "the passphrase is empty");
		return -EINVAL;
	}
	r = luks_image_size(fd, &size, err, errlen);
	if (r < 0)
		return r;
	if (size <= LUKS2_HEADER_BYTES || (size - LUKS2_HEADER_BYTES) % ss) {
		luks_err(
			err, errlen,
			"the image (%llu bytes) must hold the %u-byte LUKS2 header and a whole number of %u-byte sectors",
			(unsigned long long)size, LUKS2_HEADER_BYTES, ss);
		return -EINVAL;
	}
	r = luks_cd_open(&c, fd, err, errlen);
	if (r < 0)
		goto out;
	pbkdf_for(2, params ? &params->pbkdf : NULL, &t);
	p2.pbkdf = &t;
	p2.sector_size = ss;
	r = crypt_set_data_offset(c.cd, LUKS2_HEADER_BYTES / 512);
	if (r < 0) {
		luks_err(err, errlen, "cannot place the data area: %s",
			 luks_cd_reason(&c, r));
		goto out;
	}
	/* NULL volume key: libcryptsetup draws a new one from its RNG. */
	r = crypt_format(c.cd, CRYPT_LUKS2, "aes", "xts-plain64", NULL, NULL,
			 64, &p2);
	if (r < 0) {
		luks_err(err, errlen, "cannot write the LUKS2 header: %s",
			 luks_cd_reason(&c, r));
		goto out;
	}
	r = crypt_keyslot_add_by_volume_key(c.cd, 0, NULL, 0, pass, passlen);
	if (r < 0) {
		luks_err(err, errlen, "cannot write key slot 0: %s",
			 luks_cd_reason(&c, r));
		goto out;
	}
	luks_cd_close(&c);
	r = sync_image(fd, err, errlen);
	if (r < 0)
		goto out;
	/* What was written is what a reader gets. */
	r = luks_inspect(fd, info ? info : &again, err, errlen);
out:
	luks_cd_close(&c);
	return r;
}

/* Loads the image for a key slot change: any valid LUKS header will do. */
static int load_for_keys(struct luks_cd *c, int fd, unsigned *version,
			 char *err, size_t errlen)
{
	struct luks_info info;
	int r = luks_cd_load(c, fd, &info, err, errlen);

	/* Only loading must succeed: the key slots are what change. */
	if (r < 0 && !(info.version && c->cd))
		return r;
	if (err && errlen)
		err[0] = '\0';
	*version = info.version;
	return 0;
}

static int slot_error(struct luks_cd *c, int r, char *err, size_t errlen)
{
	if (r == -EPERM || r == -ENOENT) {
		luks_err(err, errlen,
			 "wrong passphrase (no key slot opens with it)");
		return -EPERM;
	}
	luks_err(err, errlen, "cannot write the key slot: %s",
		 luks_cd_reason(c, r));
	return r;
}

static bool has_free_slot(struct crypt_device *cd)
{
	int max = crypt_keyslot_max(crypt_get_type(cd));

	for (int i = 0; i < max; i++)
		if (crypt_keyslot_status(cd, i) == CRYPT_SLOT_INACTIVE)
			return true;
	return false;
}

static int change_keys(int fd, bool add, const char *pass, size_t passlen,
		       const char *newpass, size_t newlen,
		       const struct luks_pbkdf *pbkdf, char *err, size_t errlen)
{
	struct crypt_pbkdf_type t;
	struct luks_cd c = { 0 };
	unsigned version;
	int r, slot;

	if (err && errlen)
		err[0] = '\0';
	if (!pass || !newpass || !newlen) {
		luks_err(err, errlen, "the new passphrase is empty");
		return -EINVAL;
	}
	r = load_for_keys(&c, fd, &version, err, errlen);
	if (r < 0)
		goto out;
	if (add && !has_free_slot(c.cd)) {
		luks_err(err, errlen, "every key slot is in use");
		r = -ENOSPC;
		goto out;
	}
	pbkdf_for(version, pbkdf, &t);
	r = crypt_set_pbkdf_type(c.cd, &t);
	if (r < 0) {
		luks_err(err, errlen, "cannot use that key derivation: %s",
			 luks_cd_reason(&c, r));
		goto out;
	}
	if (add)
		slot = crypt_keyslot_add_by_passphrase(
			c.cd, CRYPT_ANY_SLOT, pass, passlen, newpass, newlen);
	else
		slot = crypt_keyslot_change_by_passphrase(c.cd, CRYPT_ANY_SLOT,
							  CRYPT_ANY_SLOT, pass,
							  passlen, newpass,
							  newlen);
	if (slot < 0) {
		r = slot_error(&c, slot, err, errlen);
		goto out;
	}
	luks_cd_close(&c);
	r = sync_image(fd, err, errlen);
	if (r == 0)
		r = slot;
out:
	luks_cd_close(&c);
	return r;
}

int luks_add_key(int fd, const char *pass, size_t passlen, const char *newpass,
		 size_t newlen, const struct luks_pbkdf *pbkdf, char *err,
		 size_t errlen)
{
	return change_keys(fd, true, pass, passlen, newpass, newlen, pbkdf, err,
			   errlen);
}

int luks_change_key(int fd, const char *pass, size_t passlen,
		    const char *newpass, size_t newlen,
		    const struct luks_pbkdf *pbkdf, char *err, size_t errlen)
{
	return change_keys(fd, false, pass, passlen, newpass, newlen, pbkdf,
			   err, errlen);
}
