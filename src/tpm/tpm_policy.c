// SPDX-License-Identifier: GPL-2.0-only
/*
 * Pure: the PCR values a list of measurements produces, and the policy
 * digest TPM2_PolicyPCR gives for a set of PCR values (TPM 2.0 Part 3,
 * PolicyPCR), so a secret can be sealed to values that are not (yet) in
 * the TPM.
 */
#include <openssl/evp.h>
#include <string.h>

#include "tpm/tpm.h"

#define CC_POLICY_PCR 0x0000017fu
#define ALG_SHA256 0x000bu

int tpm_pcr_chain(const uint8_t start[TPM_SHA256_BYTES],
		  const uint8_t (*digests)[TPM_SHA256_BYTES], size_t n,
		  uint8_t out[TPM_SHA256_BYTES])
{
	uint8_t cat[2 * TPM_SHA256_BYTES];
	unsigned int len;

	memcpy(cat, start, TPM_SHA256_BYTES);
	for (size_t i = 0; i < n; i++) {
		memcpy(cat + TPM_SHA256_BYTES, digests[i], TPM_SHA256_BYTES);
		len = TPM_SHA256_BYTES;
		if (!EVP_Digest(cat, sizeof(cat), cat, &len, EVP_sha256(),
				NULL))
			return -1;
	}
	memcpy(out, cat, TPM_SHA256_BYTES);
	return 0;
}

static void be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

int tpm_policy_pcr(const struct tpm_pcr_values *v,
		   uint8_t policy[TPM_SHA256_BYTES])
{
	/* policyDigest(0) || TPM_CC || TPML_PCR_SELECTION (one bank,
	 * three select bytes) || pcrDigest */
	uint8_t buf[TPM_SHA256_BYTES + 4 + 4 + 2 + 1 + 3 + TPM_SHA256_BYTES];
	uint8_t *p = buf;
	EVP_MD_CTX *ctx;
	unsigned int len = TPM_SHA256_BYTES;
	int ok;

	if (!v->mask || v->mask >> TPM_PCR_COUNT)
		return -1;
	ctx = EVP_MD_CTX_new();
	if (!ctx)
		return -1;
	memset(p, 0, TPM_SHA256_BYTES);
	p += TPM_SHA256_BYTES;
	be32(p, CC_POLICY_PCR);
	be32(p + 4, 1);
	p[8] = (uint8_t)(ALG_SHA256 >> 8);
	p[9] = (uint8_t)ALG_SHA256;
	p[10] = 3;
	p[11] = (uint8_t)v->mask;
	p[12] = (uint8_t)(v->mask >> 8);
	p[13] = (uint8_t)(v->mask >> 16);
	p += 14;
	/* pcrDigest: the selected values, lowest PCR first. */
	ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	for (unsigned int i = 0; ok && i < TPM_PCR_COUNT; i++)
		if (v->mask & (1u << i))
			ok = EVP_DigestUpdate(ctx, v->value[i],
					      TPM_SHA256_BYTES);
	ok = ok && EVP_DigestFinal_ex(ctx, p, &len);
	EVP_MD_CTX_free(ctx);
	len = TPM_SHA256_BYTES;
	if (!ok ||
	    !EVP_Digest(buf, sizeof(buf), policy, &len, EVP_sha256(), NULL))
		return -1;
	return 0;
}
