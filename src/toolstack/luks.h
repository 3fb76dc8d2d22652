/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * LUKS images for encrypted disks (docs/devmodels.md): their headers read,
 * checked against what bulkhead-blk can serve, unlocked to a volume key in
 * a sealed memfd, and written (format, key slots), all with libcryptsetup
 * on the image file itself. Nothing here activates dm-crypt or needs
 * device-mapper; images stay what `cryptsetup open` takes.
 *
 * Every function takes an open descriptor and hands libcryptsetup
 * /proc/self/fd/N, never a path, so the file checked is the file used.
 * err (errlen bytes, may be 0) receives a one-line reason on failure.
 *
 * libcryptsetup repairs a damaged copy of a LUKS2 header from the intact
 * one while loading it, as `cryptsetup open` does, unless the process has
 * turned metadata locking off with crypt_metadata_locking(NULL, 0).
 */
#ifndef BH_TOOLSTACK_LUKS_H
#define BH_TOOLSTACK_LUKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LUKS_ERR_MAX 256u /* room that holds any err message */
#define LUKS_KEY_MAX 64u /* bytes of the largest volume key served */
#define LUKS2_HEADER_BYTES (16u << 20) /* luks_format's header and key slots */

struct luks_info {
	unsigned version; /* 1 or 2 */
	char cipher[32]; /* "aes" */
	char mode[32]; /* "xts-plain64" */
	uint32_t key_bytes; /* volume key: 32 (AES-128-XTS) or 64 (AES-256) */
	uint32_t sector_size; /* encryption unit: 512, 1024, 2048 or 4096 */
	uint64_t data_offset; /* bytes from the image's start to sector 0 */
	uint64_t data_size; /* bytes the guest sees, whole sectors */
	char uuid[40];
	int keyslots_active; /* key slots a passphrase may open */
	/*
	 * Whether dm-crypt counts the plain64 IV in sector_size units: never
	 * for LUKS1 or LUKS2, so the IV of the sector at data byte B is B/512
	 * even with 4096-byte sectors (see luks.c for the evidence).
	 */
	bool iv_large_sectors;
};

/* The LUKS header magic "LUKS\xba\xbe" at buf's start (any version). */
bool luks_magic(const uint8_t *buf, size_t len);

/*
 * Reads the LUKS1 or LUKS2 header of the image open at fd (a regular file
 * or a block device) into *info. Returns 0 if bulkhead-blk can serve it;
 * -EOPNOTSUPP if it is a valid LUKS image it cannot serve (cipher, key
 * size, sector size, integrity, re-encryption: *info holds what was read);
 * -EINVAL if it is not LUKS, its header is corrupt or the image is smaller
 * than its header says; other -errno on I/O or memory failure. Never runs
 * the passphrase KDF.
 */
int luks_inspect(int fd, struct luks_info *info, char *err, size_t errlen);

/*
 * luks_inspect, then the volume key opened with the passphrase (pass,
 * passlen bytes) from any key slot, in a new sealed memfd (secret_memfd)
 * at *key_memfd. Returns the key slot that opened (>= 0), -EPERM if no key
 * slot opens with the passphrase, or luks_inspect's errors. Every copy of
 * the key in this process is zeroed before it returns.
 */
int luks_unlock(int fd, const char *pass, size_t passlen,
		struct luks_info *info, int *key_memfd, char *err,
		size_t errlen);

/* The argon2id cost of a new key slot (PBKDF2 in LUKS1 images). */
struct luks_pbkdf {
	/* Benchmarked to take this long (ms); 0: libcryptsetup's 2000. */
	uint32_t iter_time_ms;
	/* Memory cost limit (KiB); 0: libcryptsetup's (1 GiB, at most half
	 * of the RAM). Ignored for PBKDF2. */
	uint32_t max_memory_kib;
	/* Nonzero: exactly this many iterations (time cost) and
	 * max_memory_kib (or 32768) of memory, with no benchmark. */
	uint32_t iterations;
};

struct luks_format_params {
	uint32_t sector_size; /* 512 or 4096; 0: 4096 */
	struct luks_pbkdf pbkdf;
};

/*
 * Writes a new LUKS2 header onto the image open read-write at fd, whose
 * size is already final: aes-xts-plain64 with a new random 512-bit volume
 * key, the data area from LUKS2_HEADER_BYTES to the end (a whole number
 * of sectors), the passphrase in key slot 0. The data area is not
 * touched. Then reads the result back into *info (may be NULL). Returns
 * 0 or -errno (-EINVAL for a size or parameter that does not fit).
 */
int luks_format(int fd, const char *pass, size_t passlen,
		const struct luks_format_params *params, struct luks_info *info,
		char *err, size_t errlen);

/*
 * Adds a key slot holding newpass to the LUKS image at fd (read-write),
 * opening the volume key with pass. pbkdf may be NULL (defaults). Returns
 * the new key slot, -EPERM if pass opens no key slot, -ENOSPC if every
 * key slot is taken, or -errno.
 */
int luks_add_key(int fd, const char *pass, size_t passlen, const char *newpass,
		 size_t newlen, const struct luks_pbkdf *pbkdf, char *err,
		 size_t errlen);

/*
 * Replaces the passphrase of the key slot pass opens with newpass (the
 * slot keeps its number; the others are unchanged). Returns that key
 * slot, -EPERM if pass opens none, or -errno.
 */
int luks_change_key(int fd, const char *pass, size_t passlen,
		    const char *newpass, size_t newlen,
		    const struct luks_pbkdf *pbkdf, char *err, size_t errlen);

#endif
