// SPDX-License-Identifier: GPL-2.0-only
#include "store/aead.h"

#include <limits.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

static int gcm(int enc, const uint8_t key[32], const uint8_t iv[12],
	       const uint8_t *aad, size_t aad_len, const uint8_t *in,
	       size_t len, uint8_t *out, uint8_t tag[16])
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int n, ok = 0;

	if (!c || len > INT_MAX || aad_len > INT_MAX)
		goto out;
	if (EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) !=
		    1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, 12, NULL) != 1 ||
	    EVP_CipherInit_ex(c, NULL, NULL, key, iv, enc) != 1)
		goto out;
	if (aad_len && EVP_CipherUpdate(c, NULL, &n, aad, (int)aad_len) != 1)
		goto out;
	if (len && EVP_CipherUpdate(c, out, &n, in, (int)len) != 1)
		goto out;
	if (!enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, tag) != 1)
		goto out;
	if (EVP_CipherFinal_ex(c, out + len, &n) != 1)
		goto out;
	if (enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, tag) != 1)
		goto out;
	ok = 1;
out:
	EVP_CIPHER_CTX_free(c);
	if (!ok && !enc && len)
		explicit_bzero(out,
			       len); /* never hand out unauthenticated data */
	return ok ? 0 : -1;
}

int aead_seal(const uint8_t key[32], const uint8_t iv[12], const uint8_t *aad,
	      size_t aad_len, const uint8_t *pt, size_t len, uint8_t *ct,
	      uint8_t tag[16])
{
	return gcm(1, key, iv, aad, aad_len, pt, len, ct, tag);
}

int aead_open(const uint8_t key[32], const uint8_t iv[12], const uint8_t *aad,
	      size_t aad_len, const uint8_t *ct, size_t len,
	      const uint8_t tag[16], uint8_t *pt)
{
	uint8_t t[16];

	memcpy(t, tag, 16);
	return gcm(0, key, iv, aad, aad_len, ct, len, pt, t);
}

int hkdf32(const uint8_t ikm[32], const uint8_t *salt, size_t salt_len,
	   const uint8_t *info, size_t info_len, uint8_t out[32])
{
	EVP_PKEY_CTX *p = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL);
	size_t olen = 32;
	int ok;

	if (!p)
		return -1;
	ok = EVP_PKEY_derive_init(p) == 1 &&
	     EVP_PKEY_CTX_set_hkdf_md(p, EVP_sha256()) == 1 &&
	     EVP_PKEY_CTX_set1_hkdf_salt(p, salt, (int)salt_len) == 1 &&
	     EVP_PKEY_CTX_set1_hkdf_key(p, ikm, 32) == 1 &&
	     EVP_PKEY_CTX_add1_hkdf_info(p, info, (int)info_len) == 1 &&
	     EVP_PKEY_derive(p, out, &olen) == 1 && olen == 32;
	EVP_PKEY_CTX_free(p);
	return ok ? 0 : -1;
}

int random_bytes(uint8_t *buf, size_t len)
{
	return len <= INT_MAX && RAND_bytes(buf, (int)len) == 1 ? 0 : -1;
}
