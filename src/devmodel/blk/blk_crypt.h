/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The encrypted disk's data path: AES-XTS exactly as dm-crypt's
 * aes-xts-plain64 does it, so a LUKS2 volume (or an encrypted overlay)
 * reads the same here and under the kernel. The area is cut into units
 * of `sector` bytes, each enciphered on its own; a unit's tweak is its
 * plain64 number, a 16-byte little-endian value, counted in 512-byte
 * sectors from the start of the area (unit k of 4096 bytes: k * 8), or
 * in units with iv_large_sectors (LUKS2's sector_size with
 * iv_large_sectors). Offsets are bytes into the encrypted area.
 *
 * The _iov calls move data between the guest's buffers and a host bounce
 * buffer, never through guest memory in place: every guest byte is read
 * exactly once (encrypt) or written once and never read back (decrypt).
 * Guest segments may have any lengths; units split across segments pass
 * through a private unit-sized buffer.
 *
 * Pure: no globals, no I/O, no allocation after blk_crypt_new().
 */
#ifndef BH_DEVMODEL_BLK_CRYPT_H
#define BH_DEVMODEL_BLK_CRYPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define BLK_CRYPT_SECTOR_MIN 512u
#define BLK_CRYPT_SECTOR_MAX 4096u

struct blk_crypt;

/*
 * keylen 32 (AES-128-XTS) or 64 (AES-256-XTS): the two XTS halves, data
 * key first, as LUKS2 stores a volume key; they must differ. sector:
 * 512, 1024, 2048 or 4096. The key is not kept (only OpenSSL's schedule,
 * cleansed by blk_crypt_free). NULL with a message in err on a bad
 * argument or when OpenSSL cannot set the cipher up.
 */
struct blk_crypt *blk_crypt_new(const uint8_t *key, size_t keylen,
				uint32_t sector, bool iv_large_sectors,
				char *err, size_t errlen);
void blk_crypt_free(struct blk_crypt *c);

uint32_t blk_crypt_sector(const struct blk_crypt *c);

/*
 * Whether units set their tweak straight in OpenSSL's context (checked at
 * set-up; blk_crypt.c says why) rather than by EVP_CipherInit_ex(). Tests
 * and benchmarks force the latter to compare the two.
 */
bool blk_crypt_direct_iv(const struct blk_crypt *c);
void blk_crypt_force_evp_iv(struct blk_crypt *c);

/*
 * For every call: offset and len must be multiples of the unit, and
 * offset + len must not wrap; len 0 does nothing. The iovecs must hold
 * at least len bytes (only the first len are used). Returns 0, -EINVAL
 * (misaligned, too short, wraps: nothing written) or -EIO (OpenSSL
 * failed; the output is then undefined).
 */

/* Plaintext from the guest's iovecs to ciphertext in dst (host memory). */
int blk_crypt_encrypt_iov(struct blk_crypt *c, const struct iovec *src,
			  unsigned int niov, uint8_t *dst, size_t len,
			  uint64_t offset);
/* Ciphertext in src (host memory) to plaintext in the guest's iovecs. */
int blk_crypt_decrypt_iov(struct blk_crypt *c, const uint8_t *src,
			  const struct iovec *dst, unsigned int niov,
			  size_t len, uint64_t offset);
/* In place, on host memory only. */
int blk_crypt_encrypt(struct blk_crypt *c, uint8_t *buf, size_t len,
		      uint64_t offset);
int blk_crypt_decrypt(struct blk_crypt *c, uint8_t *buf, size_t len,
		      uint64_t offset);

#endif
