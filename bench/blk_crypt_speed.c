// SPDX-License-Identifier: GPL-2.0-only
/*
 * bulkhead-blk's AES-XTS data path (src/devmodel/blk/blk_crypt.c) on a
 * 64 MiB buffer in 4096-byte units with a 64-byte key (AES-256-XTS,
 * aes-xts-plain64), against the peer: what `cryptsetup benchmark -c
 * aes-xts -s 512` measures, AES-256-XTS over 64 KiB data units with one
 * IV each, here with OpenSSL's EVP instead of the kernel's AF_ALG
 * (cryptsetup's benchmark needs AF_ALG and a kernel xts(aes), which not
 * every host has). Also measured, to show what each choice buys:
 * blk_crypt with its tweaks set by EVP_CipherInit_ex instead of directly,
 * plain EVP per unit with EVP_CipherInit_ex2, with EVP_Cipher, with a
 * final call, and re-keyed every unit; and the iovec paths (4096-byte
 * segments: straight from guest memory to a bounce buffer; 512-byte
 * segments: every unit gathered); and, to show the CPU cost that memory
 * traffic hides on 64 MiB, both ways of setting tweaks on 256 KiB that stay
 * in cache (64 MiB of work). Figures are CPU time of the one thread,
 * best of interleaved rounds, to damp other load on the shared machine.
 * Ends with RESULT lines (docs/benchmarks.md).
 */
#include "devmodel/blk/blk_crypt.h"

#include <openssl/evp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BUF_BYTES (64u << 20)
#define UNIT 4096u
#define PEER_UNIT (64u << 10)
#define HOT_BYTES (256u << 10) /* fits in L2: CPU cost without memory */
#define ROUNDS 15
#define PASSES 1 /* over the buffer per measurement */
#define GOAL 0.9

enum variant {
	V_PEER, /* 64 KiB units, one IV each: cryptsetup benchmark's method */
	V_BLK, /* blk_crypt_encrypt / _decrypt, in place */
	V_BLK_EVPIV, /* the same, tweaks set by EVP_CipherInit_ex */
	V_BLK_IOV, /* blk_crypt_encrypt_iov / _decrypt_iov, 4096-byte segments */
	V_BLK_IOV512, /* the same with 512-byte segments */
	V_FINAL, /* IV, update and final per unit */
	V_INIT2, /* IV by EVP_CipherInit_ex2, update */
	V_ONESHOT, /* IV, EVP_Cipher (the provider's one-shot call) */
	V_REKEY, /* key and IV per unit */
	V_HOT, /* blk_crypt in place, the same 256 KiB over and over */
	V_HOT_EVPIV, /* the same, tweaks by EVP_CipherInit_ex */
	V_COUNT,
};

static const char *const names[V_COUNT] = {
	[V_PEER] = "peer: EVP, 64 KiB units (cryptsetup benchmark's method)",
	[V_BLK] = "blk_crypt in place (tweak written directly)",
	[V_BLK_EVPIV] = "blk_crypt in place, tweak by EVP_CipherInit_ex",
	[V_BLK_IOV] = "blk_crypt_*_iov, 4096-byte segments",
	[V_BLK_IOV512] = "blk_crypt_*_iov, 512-byte segments",
	[V_FINAL] = "EVP: IV + update + final per unit",
	[V_REKEY] = "EVP: key + IV per unit (no reuse)",
	[V_INIT2] = "EVP: IV by EVP_CipherInit_ex2 + update per unit",
	[V_ONESHOT] = "EVP: IV + EVP_Cipher per unit",
	[V_HOT] = "in cache: blk_crypt, tweak written directly",
	[V_HOT_EVPIV] = "in cache: blk_crypt, tweak by EVP_CipherInit_ex",
};

static uint8_t key[64];
static uint8_t *buf, *bounce;
static struct iovec *iov4k, *iov512;
static EVP_CIPHER *cipher;
static EVP_CIPHER_CTX *ctx[2]; /* decrypt, encrypt */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what)
{
	fprintf(stderr, "blk_crypt_speed: %s\n", what);
	exit(1);
}

static void iv_of(uint8_t iv[16], uint64_t n)
{
	memset(iv, 0, 16);
	for (int i = 0; i < 8; i++)
		iv[i] = (uint8_t)(n >> (8 * i));
}

/* Plain EVP over buf in units of unit bytes; mode: V_PEER, V_FINAL, V_REKEY. */
static void evp_pass(enum variant mode, int enc, size_t unit)
{
	EVP_CIPHER_CTX *c = ctx[enc];
	uint8_t iv[16];
	int outl;

	for (size_t off = 0; off < BUF_BYTES; off += unit) {
		bool ok;

		iv_of(iv, off >> 9);
		if (mode == V_REKEY)
			ok = EVP_CipherInit_ex(c, cipher, NULL, key, iv, enc);
		else if (mode == V_INIT2)
			ok = EVP_CipherInit_ex2(c, NULL, NULL, iv, -1, NULL);
		else
			ok = EVP_CipherInit_ex(c, NULL, NULL, NULL, iv, -1);
		if (mode == V_ONESHOT)
			ok = ok && EVP_Cipher(c, buf + off, buf + off,
					      (unsigned int)unit) > 0;
		else
			ok = ok && EVP_CipherUpdate(c, buf + off, &outl,
						    buf + off, (int)unit);
		if (mode == V_FINAL)
			ok = ok && EVP_CipherFinal_ex(c, buf + off, &outl);
		if (!ok)
			die("OpenSSL failed");
	}
}

static void blk_pass(struct blk_crypt *bc, enum variant mode, int enc)
{
	int r;

	switch (mode) {
	case V_BLK:
	case V_BLK_EVPIV:
		r = enc ? blk_crypt_encrypt(bc, buf, BUF_BYTES, 0) :
			  blk_crypt_decrypt(bc, buf, BUF_BYTES, 0);
		break;
	case V_BLK_IOV:
		r = enc ? blk_crypt_encrypt_iov(bc, iov4k, BUF_BYTES / UNIT,
						bounce, BUF_BYTES, 0) :
			  blk_crypt_decrypt_iov(bc, bounce, iov4k,
						BUF_BYTES / UNIT, BUF_BYTES, 0);
		break;
	case V_HOT:
	case V_HOT_EVPIV:
		r = 0;
		for (size_t off = 0; off < BUF_BYTES && !r; off += HOT_BYTES)
			r = enc ? blk_crypt_encrypt(bc, buf, HOT_BYTES, off) :
				  blk_crypt_decrypt(bc, buf, HOT_BYTES, off);
		break;
	default:
		r = enc ? blk_crypt_encrypt_iov(bc, iov512, BUF_BYTES / 512,
						bounce, BUF_BYTES, 0) :
			  blk_crypt_decrypt_iov(bc, bounce, iov512,
						BUF_BYTES / 512, BUF_BYTES, 0);
		break;
	}
	if (r)
		die("blk_crypt failed");
}

/* MiB/s of PASSES passes over the buffer. */
static double measure(struct blk_crypt *bc, struct blk_crypt *bc_evpiv,
		      enum variant v, int enc)
{
	double t0 = now(), dt;

	for (int p = 0; p < PASSES; p++) {
		if (v == V_PEER)
			evp_pass(v, enc, PEER_UNIT);
		else if (v == V_FINAL || v == V_REKEY || v == V_INIT2 ||
			 v == V_ONESHOT)
			evp_pass(v, enc, UNIT);
		else
			blk_pass(v == V_BLK_EVPIV || v == V_HOT_EVPIV ?
					 bc_evpiv :
					 bc,
				 v, enc);
	}
	dt = now() - t0;
	return (double)BUF_BYTES * PASSES / (1 << 20) / dt;
}

int main(void)
{
	double best[V_COUNT][2] = { { 0 } };
	struct blk_crypt *bc, *bc_evpiv;
	char err[256];

	for (unsigned int i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(i * 7 + 1);
	buf = aligned_alloc(4096, BUF_BYTES);
	bounce = aligned_alloc(4096, BUF_BYTES);
	iov4k = calloc(BUF_BYTES / UNIT, sizeof(*iov4k));
	iov512 = calloc(BUF_BYTES / 512, sizeof(*iov512));
	if (!buf || !bounce || !iov4k || !iov512)
		die("out of memory");
	for (size_t i = 0; i < BUF_BYTES; i++)
		buf[i] = (uint8_t)(i * 131 + (i >> 12));
	memset(bounce, 0, BUF_BYTES);
	for (size_t i = 0; i < BUF_BYTES / UNIT; i++)
		iov4k[i] = (struct iovec){ buf + i * UNIT, UNIT };
	for (size_t i = 0; i < BUF_BYTES / 512; i++)
		iov512[i] = (struct iovec){ buf + i * 512, 512 };

	bc = blk_crypt_new(key, sizeof(key), UNIT, false, err, sizeof(err));
	bc_evpiv =
		blk_crypt_new(key, sizeof(key), UNIT, false, err, sizeof(err));
	if (!bc || !bc_evpiv)
		die(err);
	blk_crypt_force_evp_iv(bc_evpiv);
	cipher = EVP_CIPHER_fetch(NULL, "AES-256-XTS", NULL);
	for (int enc = 0; enc < 2; enc++) {
		ctx[enc] = EVP_CIPHER_CTX_new();
		if (!cipher || !ctx[enc] ||
		    !EVP_CipherInit_ex(ctx[enc], cipher, NULL, key, NULL, enc))
			die("OpenSSL has no AES-256-XTS");
	}

	for (int round = 0; round < ROUNDS; round++) {
		for (int v = 0; v < V_COUNT; v++) {
			for (int enc = 1; enc >= 0; enc--) {
				double mibs = measure(bc, bc_evpiv,
						      (enum variant)v, enc);

				if (mibs > best[v][enc])
					best[v][enc] = mibs;
			}
		}
	}

	printf("AES-256-XTS (64-byte key), %u MiB buffer, %u-byte units, best of %d rounds (CPU time)\n",
	       BUF_BYTES >> 20, UNIT, ROUNDS);
	printf("blk_crypt sets tweaks %s\n",
	       blk_crypt_direct_iv(bc) ?
		       "directly (the known-answer check passed)" :
		       "by EVP_CipherInit_ex (the direct way failed its check)");
	printf("%-58s %10s %10s\n", "", "encrypt", "decrypt");
	for (int v = 0; v < V_COUNT; v++)
		printf("%-58s %7.0f MiB/s %7.0f MiB/s\n", names[v], best[v][1],
		       best[v][0]);
	for (int enc = 1; enc >= 0; enc--) {
		double ratio = best[V_BLK][enc] / best[V_PEER][enc];

		printf("RESULT blk_crypt_%s_4k_vs_peer %.3f x goal >=%.1f %s\n",
		       enc ? "encrypt" : "decrypt", ratio, GOAL,
		       ratio >= GOAL ? "met" : "missed");
	}

	blk_crypt_free(bc);
	blk_crypt_free(bc_evpiv);
	for (int enc = 0; enc < 2; enc++)
		EVP_CIPHER_CTX_free(ctx[enc]);
	EVP_CIPHER_free(cipher);
	free(iov512);
	free(iov4k);
	free(bounce);
	free(buf);
	return 0;
}
