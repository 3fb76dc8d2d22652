/* SPDX-License-Identifier: GPL-2.0-only */
/* AES-256-GCM and HKDF-SHA256 through OpenSSL EVP, for the store. */
#ifndef BH_STORE_AEAD_H
#define BH_STORE_AEAD_H

#include <stddef.h>
#include <stdint.h>

/* ct gets len bytes, tag 16. 0 or -1 (OpenSSL failure). */
int aead_seal(const uint8_t key[32], const uint8_t iv[12], const uint8_t *aad,
	      size_t aad_len, const uint8_t *pt, size_t len, uint8_t *ct,
	      uint8_t tag[16]);

/* 0, or -1 when the tag does not authenticate (pt then holds zeros). */
int aead_open(const uint8_t key[32], const uint8_t iv[12], const uint8_t *aad,
	      size_t aad_len, const uint8_t *ct, size_t len,
	      const uint8_t tag[16], uint8_t *pt);

/* HKDF-SHA256(ikm, salt, info) -> out[32]. 0 or -1. */
int hkdf32(const uint8_t ikm[32], const uint8_t *salt, size_t salt_len,
	   const uint8_t *info, size_t info_len, uint8_t out[32]);

/* 0, or -1 if the CSPRNG fails. */
int random_bytes(uint8_t *buf, size_t len);

#endif
