// SPDX-License-Identifier: GPL-2.0-only
/*
 * blk_crypt (aes-xts-plain64): IEEE P1619 XTS-AES vectors for both key
 * sizes; the 4096-byte unit's tweak numbering against an independent EVP
 * computation and against 512-byte units (the first 512 bytes of an XTS
 * unit with tweak n are the 512-byte unit with tweak n); round trips for
 * every unit size and both IV modes; iovec paths split at odd boundaries
 * giving exactly the contiguous path's bytes; refusals. Every cipher test
 * runs on both ways of setting tweaks (direct and EVP_CipherInit_ex).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "devmodel/blk/blk_crypt.h"
#include "util/hex.h"

#define BIG (64u << 10)

static char err[256];

/* IEEE P1619/D16 annex B: vector 4 (XTS-AES-128) and 10 (XTS-AES-256). */
static const char v4_key[] = "27182818284590452353602874713526"
			     "31415926535897932384626433832795";
static const char v4_ct[] =
	"27a7479befa1d476489f308cd4cfa6e2a96e4bbe3208ff25287dd3819616e89c"
	"c78cf7f5e543445f8333d8fa7f56000005279fa5d8b5e4ad40e736ddb4d35412"
	"328063fd2aab53e5ea1e0a9f332500a5df9487d07a5c92cc512c8866c7e860ce"
	"93fdf166a24912b422976146ae20ce846bb7dc9ba94a767aaef20c0d61ad0265"
	"5ea92dc4c4e41a8952c651d33174be51a10c421110e6d81588ede82103a252d8"
	"a750e8768defffed9122810aaeb99f9172af82b604dc4b8e51bcb08235a6f434"
	"1332e4ca60482a4ba1a03b3e65008fc5da76b70bf1690db4eae29c5f1badd03c"
	"5ccf2a55d705ddcd86d449511ceb7ec30bf12b1fa35b913f9f747a8afd1b130e"
	"94bff94effd01a91735ca1726acd0b197c4e5b03393697e126826fb6bbde8ecc"
	"1e08298516e2c9ed03ff3c1b7860f6de76d4cecd94c8119855ef5297ca67e9f3"
	"e7ff72b1e99785ca0a7e7720c5b36dc6d72cac9574c8cbbc2f801e23e56fd344"
	"b07f22154beba0f08ce8891e643ed995c94d9a69c9f1b5f499027a78572aeebd"
	"74d20cc39881c213ee770b1010e4bea718846977ae119f7a023ab58cca0ad752"
	"afe656bb3c17256a9f6e9bf19fdd5a38fc82bbe872c5539edb609ef4f79c203e"
	"bb140f2e583cb2ad15b4aa5b655016a8449277dbd477ef2c8d6c017db738b18d"
	"eb4a427d1923ce3ff262735779a418f20a282df920147beabe421ee5319d0568";
static const char v10_key[] =
	"2718281828459045235360287471352662497757247093699959574966967627"
	"3141592653589793238462643383279502884197169399375105820974944592";
static const char v10_ct[] =
	"1c3b3a102f770386e4836c99e370cf9bea00803f5e482357a4ae12d414a3e63b"
	"5d31e276f8fe4a8d66b317f9ac683f44680a86ac35adfc3345befecb4bb188fd"
	"5776926c49a3095eb108fd1098baec70aaa66999a72a82f27d848b21d4a741b0"
	"c5cd4d5fff9dac89aeba122961d03a757123e9870f8acf1000020887891429ca"
	"2a3e7a7d7df7b10355165c8b9a6d0a7de8b062c4500dc4cd120c0f7418dae3d0"
	"b5781c34803fa75421c790dfe1de1834f280d7667b327f6c8cd7557e12ac3a0f"
	"93ec05c52e0493ef31a12d3d9260f79a289d6a379bc70c50841473d1a8cc81ec"
	"583e9645e07b8d9670655ba5bbcfecc6dc3966380ad8fecb17b6ba02469a020a"
	"84e18e8f84252070c13e9f1f289be54fbc481457778f616015e1327a02b140f1"
	"505eb309326d68378f8374595c849d84f4c333ec4423885143cb47bd71c5edae"
	"9be69a2ffeceb1bec9de244fbe15992b11b77c040f12bd8f6a975a44a0f90c29"
	"a9abc3d4d893927284c58754cce294529f8614dcd2aba991925fedc4ae74ffac"
	"6e333b93eb4aff0479da9a410e4450e0dd7ae4c6e2910900575da401fc07059f"
	"645e8b7e9bfdef33943054ff84011493c27b3429eaedb4ed5376441a77ed4385"
	"1ad77f16f541dfd269d50d6a5f14fb0aab1cbb4c1550be97f7ab4066193c4caa"
	"773dad38014bd2092fa755c824bb5e54c4f36ffda9fcea70b9c6e693e148c151";

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void fill(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rnd();
}

static void test_key(uint8_t *key, size_t len)
{
	for (size_t i = 0; i < len; i++)
		key[i] = (uint8_t)(i * 37 + 11);
}

/* evp: tweaks by EVP_CipherInit_ex instead of directly. */
static struct blk_crypt *make(const uint8_t *key, size_t keylen,
			      uint32_t sector, bool large, bool evp)
{
	struct blk_crypt *c =
		blk_crypt_new(key, keylen, sector, large, err, sizeof(err));

	assert_non_null(c);
	if (evp)
		blk_crypt_force_evp_iv(c);
	else
		assert_true(blk_crypt_direct_iv(c));
	return c;
}

static void ieee_vector(const char *key_hex, const char *ct_hex, uint64_t tweak,
			bool evp)
{
	uint8_t key[64], pt[512], ct[512], buf[512];
	long keylen = hex_decode(key_hex, key, sizeof(key));
	struct blk_crypt *c;

	assert_int_equal(hex_decode(ct_hex, ct, sizeof(ct)), 512);
	assert_true(keylen == 32 || keylen == 64);
	for (unsigned int i = 0; i < 512; i++)
		pt[i] = (uint8_t)i;
	c = make(key, (size_t)keylen, 512, false, evp);
	memcpy(buf, pt, sizeof(buf));
	assert_int_equal(blk_crypt_encrypt(c, buf, 512, tweak * 512), 0);
	assert_memory_equal(buf, ct, 512);
	assert_int_equal(blk_crypt_decrypt(c, buf, 512, tweak * 512), 0);
	assert_memory_equal(buf, pt, 512);
	blk_crypt_free(c);

	/* iv_large_sectors changes nothing for 512-byte units. */
	c = make(key, (size_t)keylen, 512, true, evp);
	memcpy(buf, pt, sizeof(buf));
	assert_int_equal(blk_crypt_encrypt(c, buf, 512, tweak * 512), 0);
	assert_memory_equal(buf, ct, 512);
	blk_crypt_free(c);
}

static void test_ieee_vectors(void **state)
{
	(void)state;
	for (int evp = 0; evp < 2; evp++) {
		ieee_vector(v4_key, v4_ct, 0, evp);
		ieee_vector(v10_key, v10_ct, 0xff, evp);
	}
}

/* Unit k of the area, computed here with EVP alone. */
static void evp_unit(const uint8_t *key, size_t keylen, uint64_t ivnum,
		     const uint8_t *in, uint8_t *out, size_t len)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	uint8_t iv[16] = { 0 };
	int n = 0;

	for (int i = 0; i < 8; i++)
		iv[i] = (uint8_t)(ivnum >> (8 * i));
	assert_non_null(ctx);
	assert_int_equal(EVP_EncryptInit_ex(ctx,
					    keylen == 32 ? EVP_aes_128_xts() :
							   EVP_aes_256_xts(),
					    NULL, key, iv),
			 1);
	assert_int_equal(EVP_EncryptUpdate(ctx, out, &n, in, (int)len), 1);
	assert_int_equal(n, (int)len);
	EVP_CIPHER_CTX_free(ctx);
}

static void iv_numbering(size_t keylen, bool large, bool evp)
{
	static uint8_t pt[BIG], ct[BIG], want[4096], small[512];
	const uint64_t base = 3ull << 30; /* 3 GiB in: IVs past 32 bits */
	uint8_t key[64];
	struct blk_crypt *c, *c512;

	test_key(key, keylen);
	fill(pt, sizeof(pt));
	c = make(key, keylen, 4096, large, evp);
	c512 = make(key, keylen, 512, false, evp);
	memcpy(ct, pt, sizeof(ct));
	assert_int_equal(blk_crypt_encrypt(c, ct, sizeof(ct), base), 0);
	for (uint64_t k = 0; k < BIG / 4096; k++) {
		uint64_t off = base + k * 4096;
		uint64_t ivnum = large ? off / 4096 : off / 512;

		evp_unit(key, keylen, ivnum, pt + k * 4096, want, 4096);
		assert_memory_equal(ct + k * 4096, want, 4096);
		/* The same tweak with 512-byte units: the first 512 bytes. */
		memcpy(small, pt + k * 4096, 512);
		assert_int_equal(
			blk_crypt_encrypt(c512, small, 512, ivnum * 512), 0);
		assert_memory_equal(small, ct + k * 4096, 512);
	}
	/* Not the other numbering. */
	evp_unit(key, keylen, large ? base / 512 + 8 : base / 4096 + 1,
		 pt + 4096, want, 4096);
	assert_memory_not_equal(ct + 4096, want, 4096);
	blk_crypt_free(c);
	blk_crypt_free(c512);
}

static void test_iv_numbering(void **state)
{
	(void)state;
	for (int evp = 0; evp < 2; evp++) {
		for (int large = 0; large < 2; large++) {
			iv_numbering(32, large, evp);
			iv_numbering(64, large, evp);
		}
	}
}

static void test_round_trips(void **state)
{
	static uint8_t pt[BIG], buf[BIG];
	static const uint32_t sectors[] = { 512, 1024, 2048, 4096 };
	uint8_t key[64];

	(void)state;
	fill(pt, sizeof(pt));
	for (int evp = 0; evp < 2; evp++) {
		for (size_t keylen = 32; keylen <= 64; keylen += 32) {
			for (unsigned int s = 0; s < 4; s++) {
				for (int large = 0; large < 2; large++) {
					uint64_t off = (uint64_t)sectors[s] *
						       (rnd() % 100000);
					struct blk_crypt *c;

					test_key(key, keylen);
					c = make(key, keylen, sectors[s], large,
						 evp);
					assert_int_equal(blk_crypt_sector(c),
							 sectors[s]);
					memcpy(buf, pt, sizeof(buf));
					assert_int_equal(
						blk_crypt_encrypt(c, buf,
								  sizeof(buf),
								  off),
						0);
					assert_memory_not_equal(buf, pt, 512);
					assert_int_equal(
						blk_crypt_decrypt(c, buf,
								  sizeof(buf),
								  off),
						0);
					assert_memory_equal(buf, pt,
							    sizeof(buf));
					blk_crypt_free(c);
				}
			}
		}
	}
}

/* Both ways of setting tweaks give the same bytes. */
static void test_direct_matches_evp(void **state)
{
	static uint8_t pt[BIG], a[BIG], b[BIG];
	uint8_t key[64];
	struct blk_crypt *direct, *evp;

	(void)state;
	test_key(key, 64);
	fill(pt, sizeof(pt));
	direct = make(key, 64, 4096, false, false);
	evp = make(key, 64, 4096, false, true);
	memcpy(a, pt, sizeof(a));
	memcpy(b, pt, sizeof(b));
	assert_int_equal(blk_crypt_encrypt(direct, a, sizeof(a), 1 << 20), 0);
	assert_int_equal(blk_crypt_encrypt(evp, b, sizeof(b), 1 << 20), 0);
	assert_memory_equal(a, b, sizeof(a));
	assert_int_equal(blk_crypt_decrypt(direct, b, sizeof(b), 1 << 20), 0);
	assert_memory_equal(b, pt, sizeof(b));
	blk_crypt_free(direct);
	blk_crypt_free(evp);
}

/* Cuts n bytes of mem into segments: odd sizes, empty ones, whole units. */
static unsigned int split(uint8_t *mem, size_t n, struct iovec *iov,
			  unsigned int max, unsigned int pattern)
{
	static const size_t sizes[] = { 1,    7,    0,	  511,	513, 4095,
					4096, 4097, 8192, 1000, 3,   12288 };
	unsigned int k = 0;
	size_t off = 0;

	while (off < n) {
		size_t len = sizes[(k + pattern) % 12];

		if (pattern % 3 == 2)
			len = 1 + rnd() % 9000;
		if (len > n - off)
			len = n - off;
		assert_true(k < max);
		iov[k].iov_base = mem + off;
		iov[k].iov_len = len;
		off += len;
		k++;
	}
	return k;
}

static void test_iov_splits(void **state)
{
	static uint8_t pt[BIG], guest[BIG + 64], want[BIG], bounce[BIG + 64];
	static struct iovec iov[BIG];
	static const uint32_t sectors[] = { 512, 4096 };
	uint8_t key[64];

	(void)state;
	test_key(key, 64);
	fill(pt, sizeof(pt));
	for (int evp = 0; evp < 2; evp++) {
		for (unsigned int s = 0; s < 2; s++) {
			struct blk_crypt *c =
				make(key, 64, sectors[s], false, evp);
			uint64_t off = (uint64_t)sectors[s] * 77;

			memcpy(want, pt, sizeof(want));
			assert_int_equal(blk_crypt_encrypt(c, want,
							   sizeof(want), off),
					 0);
			for (unsigned int p = 0; p < 12; p++) {
				unsigned int n;

				/* encrypt: guest untouched, bounce exact. */
				memcpy(guest, pt, BIG);
				memset(guest + BIG, 0xa5, 64);
				memset(bounce, 0x5a, sizeof(bounce));
				n = split(guest, BIG, iov, BIG, p);
				assert_int_equal(
					blk_crypt_encrypt_iov(c, iov, n, bounce,
							      BIG, off),
					0);
				assert_memory_equal(bounce, want, BIG);
				assert_memory_equal(guest, pt, BIG);
				for (unsigned int i = 0; i < 64; i++)
					assert_int_equal(bounce[BIG + i], 0x5a);

				/* decrypt: plaintext into the segments only. */
				memset(guest, 0, BIG);
				n = split(guest, BIG, iov, BIG, p + 1);
				assert_int_equal(
					blk_crypt_decrypt_iov(c, want, iov, n,
							      BIG, off),
					0);
				assert_memory_equal(guest, pt, BIG);
				for (unsigned int i = 0; i < 64; i++)
					assert_int_equal(guest[BIG + i], 0xa5);
			}
			blk_crypt_free(c);
		}
	}
}

/* Segments longer than len: only len bytes are used. */
static void test_iov_longer_than_len(void **state)
{
	static uint8_t guest[3 * 4096], bounce[4096], want[4096];
	uint8_t key[64];
	struct iovec iov[2] = { { guest, 1000 }, { guest + 1000, 8000 } };
	struct blk_crypt *c;

	(void)state;
	test_key(key, 64);
	fill(guest, sizeof(guest));
	c = make(key, 64, 4096, false, false);
	memcpy(want, guest, 4096);
	assert_int_equal(blk_crypt_encrypt(c, want, 4096, 8192), 0);
	assert_int_equal(blk_crypt_encrypt_iov(c, iov, 2, bounce, 4096, 8192),
			 0);
	assert_memory_equal(bounce, want, 4096);
	memset(guest, 0, sizeof(guest));
	assert_int_equal(blk_crypt_decrypt_iov(c, want, iov, 2, 4096, 8192), 0);
	for (unsigned int i = 4096; i < sizeof(guest); i++)
		assert_int_equal(guest[i], 0);
	blk_crypt_free(c);
}

static void test_misaligned_refused(void **state)
{
	static uint8_t buf[8192], dst[8192], copy[8192];
	uint8_t key[64];
	struct iovec iov[2] = { { buf, 4096 }, { buf + 4096, 4095 } };
	struct blk_crypt *c;

	(void)state;
	test_key(key, 64);
	fill(buf, sizeof(buf));
	memcpy(copy, buf, sizeof(copy));
	memset(dst, 0x33, sizeof(dst));
	c = make(key, 64, 4096, false, false);
	assert_int_equal(blk_crypt_encrypt(c, buf, 4096, 512), -EINVAL);
	assert_int_equal(blk_crypt_encrypt(c, buf, 4095, 0), -EINVAL);
	assert_int_equal(blk_crypt_decrypt(c, buf, 512, 0), -EINVAL);
	assert_int_equal(blk_crypt_decrypt(c, buf, 4096, 1), -EINVAL);
	assert_int_equal(blk_crypt_encrypt(c, buf, 4096, UINT64_MAX - 4095),
			 -EINVAL);
	assert_int_equal(blk_crypt_encrypt_iov(c, iov, 2, dst, 4096, 100),
			 -EINVAL);
	assert_int_equal(blk_crypt_decrypt_iov(c, dst, iov, 2, 2048, 0),
			 -EINVAL);
	/* The segments hold 8191 bytes: two units do not fit. */
	assert_int_equal(blk_crypt_encrypt_iov(c, iov, 2, dst, 8192, 0),
			 -EINVAL);
	assert_int_equal(blk_crypt_decrypt_iov(c, dst, iov, 2, 8192, 0),
			 -EINVAL);
	assert_int_equal(blk_crypt_encrypt_iov(c, iov, 0, dst, 4096, 0),
			 -EINVAL);
	assert_memory_equal(buf, copy, sizeof(buf));
	for (unsigned int i = 0; i < sizeof(dst); i++)
		assert_int_equal(dst[i], 0x33);
	/* Nothing to do is fine. */
	assert_int_equal(blk_crypt_encrypt(c, buf, 0, 4096), 0);
	assert_int_equal(blk_crypt_encrypt_iov(c, iov, 0, dst, 0, 0), 0);
	blk_crypt_free(c);
}

static void refused(const uint8_t *key, size_t keylen, uint32_t sector,
		    const char *needle)
{
	err[0] = '\0';
	assert_null(
		blk_crypt_new(key, keylen, sector, false, err, sizeof(err)));
	if (!strstr(err, needle))
		fail_msg("message \"%s\" lacks \"%s\"", err, needle);
}

static void test_bad_parameters_refused(void **state)
{
	uint8_t key[65], same[64];

	(void)state;
	test_key(key, sizeof(key));
	refused(key, 0, 4096, "must be 32 (AES-128) or 64 (AES-256)");
	refused(key, 16, 4096, "key of 16 bytes");
	refused(key, 48, 4096, "key of 48 bytes");
	refused(key, 65, 4096, "key of 65 bytes");
	refused(key, 64, 0, "sector of 0 bytes");
	refused(key, 64, 256, "sector of 256 bytes");
	refused(key, 64, 513, "must be 512, 1024, 2048 or 4096");
	refused(key, 64, 8192, "sector of 8192 bytes");
	memset(same, 0x42, sizeof(same));
	refused(same, 64, 4096, "two halves are identical");
	refused(same, 32, 512, "two halves are identical");
	memcpy(same, key, 16);
	memcpy(same + 16, key, 16);
	refused(same, 32, 512, "two halves are identical");
	/* Halves differing in one bit are a key. */
	same[31] ^= 1;
	blk_crypt_free(make(same, 32, 512, false, false));
	blk_crypt_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ieee_vectors),
		cmocka_unit_test(test_iv_numbering),
		cmocka_unit_test(test_round_trips),
		cmocka_unit_test(test_direct_matches_evp),
		cmocka_unit_test(test_iov_splits),
		cmocka_unit_test(test_iov_longer_than_len),
		cmocka_unit_test(test_misaligned_refused),
		cmocka_unit_test(test_bad_parameters_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
