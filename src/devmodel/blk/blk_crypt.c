// SPDX-License-Identifier: GPL-2.0-only
/*
 * One EVP context per direction, keyed once; each unit only gets its
 * tweak and one update. A unit that lies inside one guest segment is
 * enciphered straight from or into it; one that straddles segments is
 * gathered into, or scattered from, c->unit, which is cleansed afterwards
 * (it held plaintext).
 *
 * Setting the tweak: the documented way, EVP_CipherInit_ex() with only an
 * IV, costs OpenSSL 3 about 130 ns (parameter look-ups by name for the IV
 * length), 13-15% of a 4096-byte unit. OpenSSL's XTS provider reads the
 * tweak from its context's IV buffer on every update, and hands out that
 * buffer's address as OSSL_CIPHER_PARAM_UPDATED_IV; writing the plain64
 * value there is then all a unit needs. That is an implementation detail,
 * so it is used only after a known-answer check at set-up: two units with
 * different tweaks, each direction, written through the pointer must give
 * exactly what EVP_CipherInit_ex() gives. Otherwise (another OpenSSL, a
 * FIPS provider that copies) every unit takes the documented way.
 */
#include "devmodel/blk/blk_crypt.h"

#include <errno.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/bytes.h"

#define XTS_IV_LEN 16
#define SECTOR_SHIFT 9

struct blk_crypt {
	EVP_CIPHER *cipher;
	EVP_CIPHER_CTX *enc, *dec;
	/* The provider's live IV buffers, if they passed the check. */
	uint8_t *enc_iv, *dec_iv;
	uint32_t sector;
	unsigned int iv_shift; /* IV number = byte offset >> iv_shift */
	uint8_t unit[BLK_CRYPT_SECTOR_MAX]; /* a straddling unit */
};

static int log2_sector(uint32_t sector)
{
	for (unsigned int s = SECTOR_SHIFT; (1u << s) <= BLK_CRYPT_SECTOR_MAX;
	     s++) {
		if (sector == 1u << s)
			return (int)s;
	}
	return -1;
}

static EVP_CIPHER_CTX *keyed_ctx(const EVP_CIPHER *cipher, const uint8_t *key,
				 int enc)
{
	static const uint8_t zero_iv[XTS_IV_LEN];
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();

	if (!ctx)
		return NULL;
	if (!EVP_CipherInit_ex(ctx, cipher, NULL, key, zero_iv, enc)) {
		EVP_CIPHER_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

static void plain64(uint8_t iv[XTS_IV_LEN], uint64_t n)
{
	memset(iv, 0, XTS_IV_LEN);
	put_le64(iv, n);
}

/* The address OpenSSL gives for the context's IV, or NULL. */
static uint8_t *provider_iv(EVP_CIPHER_CTX *ctx)
{
	void *p = NULL;
	OSSL_PARAM params[] = {
		OSSL_PARAM_octet_ptr(OSSL_CIPHER_PARAM_UPDATED_IV, &p, 0),
		OSSL_PARAM_END,
	};

	if (!EVP_CIPHER_CTX_get_params(ctx, params) || !p ||
	    params[0].return_size != XTS_IV_LEN)
		return NULL;
	return p;
}

#define KAT_LEN 64

/*
 * Does writing the tweak at iv steer ctx's updates exactly as
 * EVP_CipherInit_ex() steers ref's? ctx is left with iv in charge.
 */
static bool direct_iv_works(EVP_CIPHER_CTX *ctx, EVP_CIPHER_CTX *ref,
			    uint8_t *iv)
{
	static const uint64_t tweaks[] = { 0x0123456789abcdefull, 8 };
	uint8_t in[KAT_LEN], want[KAT_LEN], got[KAT_LEN], t[XTS_IV_LEN];
	bool same = true;

	for (unsigned int i = 0; i < KAT_LEN; i++)
		in[i] = (uint8_t)(i * 29 + 3);
	for (unsigned int k = 0; k < 2 && same; k++) {
		int n1 = 0, n2 = 0;

		plain64(t, tweaks[k]);
		memcpy(iv, t, XTS_IV_LEN);
		same = EVP_CipherInit_ex(ref, NULL, NULL, NULL, t, -1) &&
		       EVP_CipherUpdate(ref, want, &n1, in, KAT_LEN) &&
		       EVP_CipherUpdate(ctx, got, &n2, in, KAT_LEN) &&
		       n1 == KAT_LEN && n2 == KAT_LEN &&
		       !memcmp(want, got, KAT_LEN);
	}
	OPENSSL_cleanse(want, sizeof(want));
	OPENSSL_cleanse(got, sizeof(got));
	return same;
}

/* Keys both directions; takes the direct tweak if both pass the check. */
static int set_up(struct blk_crypt *c, const uint8_t *key)
{
	EVP_CIPHER_CTX *ref_enc = keyed_ctx(c->cipher, key, 1);
	EVP_CIPHER_CTX *ref_dec = keyed_ctx(c->cipher, key, 0);
	int ret = -EIO;

	c->enc = keyed_ctx(c->cipher, key, 1);
	c->dec = keyed_ctx(c->cipher, key, 0);
	if (c->enc && c->dec && ref_enc && ref_dec) {
		uint8_t *e = provider_iv(c->enc), *d = provider_iv(c->dec);

		if (e && d && e != d && direct_iv_works(c->enc, ref_enc, e) &&
		    direct_iv_works(c->dec, ref_dec, d)) {
			c->enc_iv = e;
			c->dec_iv = d;
		}
		ret = 0;
	}
	EVP_CIPHER_CTX_free(ref_enc);
	EVP_CIPHER_CTX_free(ref_dec);
	return ret;
}

struct blk_crypt *blk_crypt_new(const uint8_t *key, size_t keylen,
				uint32_t sector, bool iv_large_sectors,
				char *err, size_t errlen)
{
	struct blk_crypt *c;
	const char *name;
	int shift = log2_sector(sector);

	if (keylen == 32) {
		name = "AES-128-XTS";
	} else if (keylen == 64) {
		name = "AES-256-XTS";
	} else {
		snprintf(
			err, errlen,
			"aes-xts-plain64 key of %zu bytes: must be 32 (AES-128) or 64 (AES-256)",
			keylen);
		return NULL;
	}
	if (shift < 0) {
		snprintf(
			err, errlen,
			"encryption sector of %u bytes: must be 512, 1024, 2048 or 4096",
			sector);
		return NULL;
	}
	/* XTS is insecure with equal halves; OpenSSL refuses them to encrypt. */
	if (!CRYPTO_memcmp(key, key + keylen / 2, keylen / 2)) {
		snprintf(
			err, errlen,
			"aes-xts-plain64 key refused: its two halves are identical");
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->sector = sector;
	c->iv_shift = iv_large_sectors ? (unsigned int)shift : SECTOR_SHIFT;
	c->cipher = EVP_CIPHER_fetch(NULL, name, NULL);
	if (!c->cipher || set_up(c, key)) {
		snprintf(err, errlen, "OpenSSL cannot set up %s", name);
		blk_crypt_free(c);
		return NULL;
	}
	return c;
}

void blk_crypt_free(struct blk_crypt *c)
{
	if (!c)
		return;
	/* EVP_CIPHER_CTX_free cleanses the key schedule. */
	EVP_CIPHER_CTX_free(c->enc);
	EVP_CIPHER_CTX_free(c->dec);
	EVP_CIPHER_free(c->cipher);
	OPENSSL_cleanse(c, sizeof(*c));
	free(c);
}

uint32_t blk_crypt_sector(const struct blk_crypt *c)
{
	return c->sector;
}

bool blk_crypt_direct_iv(const struct blk_crypt *c)
{
	return c->enc_iv != NULL;
}

void blk_crypt_force_evp_iv(struct blk_crypt *c)
{
	c->enc_iv = NULL;
	c->dec_iv = NULL;
}

/* One unit, out of place or exactly in place. */
static int unit_crypt(const struct blk_crypt *c, bool enc, uint8_t *out,
		      const uint8_t *in, uint64_t ivnum)
{
	EVP_CIPHER_CTX *ctx = enc ? c->enc : c->dec;
	uint8_t *direct = enc ? c->enc_iv : c->dec_iv;
	uint8_t iv[XTS_IV_LEN];
	int outl;

	plain64(iv, ivnum);
	if (direct)
		memcpy(direct, iv, XTS_IV_LEN);
	else if (!EVP_CipherInit_ex(ctx, NULL, NULL, NULL, iv, -1))
		return -EIO;
	if (!EVP_CipherUpdate(ctx, out, &outl, in, (int)c->sector) ||
	    outl != (int)c->sector)
		return -EIO;
	return 0;
}

static bool aligned(const struct blk_crypt *c, size_t len, uint64_t offset)
{
	uint64_t mask = c->sector - 1;

	return !(offset & mask) && !(len & mask) && offset + len >= offset;
}

static bool iov_holds(const struct iovec *iov, unsigned int niov, size_t len)
{
	size_t total = 0;

	for (unsigned int i = 0; i < niov && total < len; i++) {
		if (iov[i].iov_len > len - total)
			return true;
		total += iov[i].iov_len;
	}
	return total >= len;
}

/* Where the walk over the guest's segments stands. */
struct seg_cursor {
	const struct iovec *iov;
	unsigned int left; /* segments from iov on */
	size_t pos; /* bytes of *iov consumed */
};

static void cursor_skip_empty(struct seg_cursor *s)
{
	while (s->left && s->pos == s->iov->iov_len) {
		s->iov++;
		s->left--;
		s->pos = 0;
	}
}

/* n bytes straight in the current segment, or NULL if it has fewer. */
static uint8_t *cursor_take(struct seg_cursor *s, size_t n)
{
	uint8_t *p;

	cursor_skip_empty(s);
	if (s->iov->iov_len - s->pos < n)
		return NULL;
	p = (uint8_t *)s->iov->iov_base + s->pos;
	s->pos += n;
	return p;
}

/* Copies n bytes between buf and the segments (to_segs: buf -> segments). */
static void cursor_copy(struct seg_cursor *s, uint8_t *buf, size_t n,
			bool to_segs)
{
	while (n) {
		size_t k;
		uint8_t *p;

		cursor_skip_empty(s);
		k = s->iov->iov_len - s->pos;
		if (k > n)
			k = n;
		p = (uint8_t *)s->iov->iov_base + s->pos;
		if (to_segs)
			memcpy(p, buf, k);
		else
			memcpy(buf, p, k);
		s->pos += k;
		buf += k;
		n -= k;
	}
}

int blk_crypt_encrypt_iov(struct blk_crypt *c, const struct iovec *src,
			  unsigned int niov, uint8_t *dst, size_t len,
			  uint64_t offset)
{
	struct seg_cursor s = { .iov = src, .left = niov };
	uint64_t ivnum = offset >> c->iv_shift;
	uint64_t ivstep = (uint64_t)c->sector >> c->iv_shift;
	bool gathered = false;
	int ret = 0;

	if (!aligned(c, len, offset) || !iov_holds(src, niov, len))
		return -EINVAL;
	for (size_t done = 0; done < len && !ret; done += c->sector) {
		const uint8_t *in = cursor_take(&s, c->sector);

		if (!in) {
			cursor_copy(&s, c->unit, c->sector, false);
			in = c->unit;
			gathered = true;
		}
		ret = unit_crypt(c, true, dst + done, in, ivnum);
		ivnum += ivstep;
	}
	if (gathered)
		OPENSSL_cleanse(c->unit, c->sector);
	return ret;
}

int blk_crypt_decrypt_iov(struct blk_crypt *c, const uint8_t *src,
			  const struct iovec *dst, unsigned int niov,
			  size_t len, uint64_t offset)
{
	struct seg_cursor s = { .iov = dst, .left = niov };
	uint64_t ivnum = offset >> c->iv_shift;
	uint64_t ivstep = (uint64_t)c->sector >> c->iv_shift;
	bool scattered = false;
	int ret = 0;

	if (!aligned(c, len, offset) || !iov_holds(dst, niov, len))
		return -EINVAL;
	for (size_t done = 0; done < len && !ret; done += c->sector) {
		uint8_t *out = cursor_take(&s, c->sector);

		if (out) {
			ret = unit_crypt(c, false, out, src + done, ivnum);
		} else {
			ret = unit_crypt(c, false, c->unit, src + done, ivnum);
			if (!ret)
				cursor_copy(&s, c->unit, c->sector, true);
			scattered = true;
		}
		ivnum += ivstep;
	}
	if (scattered)
		OPENSSL_cleanse(c->unit, c->sector);
	return ret;
}

static int crypt_in_place(struct blk_crypt *c, bool enc, uint8_t *buf,
			  size_t len, uint64_t offset)
{
	uint64_t ivnum = offset >> c->iv_shift;
	uint64_t ivstep = (uint64_t)c->sector >> c->iv_shift;

	if (!aligned(c, len, offset))
		return -EINVAL;
	for (size_t done = 0; done < len; done += c->sector) {
		if (unit_crypt(c, enc, buf + done, buf + done, ivnum))
			return -EIO;
		ivnum += ivstep;
	}
	return 0;
}

int blk_crypt_encrypt(struct blk_crypt *c, uint8_t *buf, size_t len,
		      uint64_t offset)
{
	return crypt_in_place(c, true, buf, len, offset);
}

int blk_crypt_decrypt(struct blk_crypt *c, uint8_t *buf, size_t len,
		      uint64_t offset)
{
	return crypt_in_place(c, false, buf, len, offset);
}
