// SPDX-License-Identifier: GPL-2.0-only
/*
 * The sealed blob (docs/measured-launch.md, "Sealing"): big-endian,
 *
 *   "BHSL" | version 1 | PCR mask (u32) | 32 bytes per PCR in the mask,
 *   lowest first: the values sealed to | u16 length, TPM2B_PUBLIC |
 *   u16 length, TPM2B_PRIVATE
 *
 * and nothing after. The values are there for the message when they
 * differ and for forward sealing; the TPM enforces the policy, and the
 * decoder checks that the public area's policy is theirs.
 */
#include <stdlib.h>
#include <string.h>
#include <tss2/tss2_mu.h>

#include "tpm/tpm_priv.h"

#define MAGIC "BHSL"
#define VERSION 1

static size_t npcrs(uint32_t mask)
{
	return (size_t)__builtin_popcount(mask);
}

int tpm_blob_encode(const struct tpm_sealed *s, uint8_t **out, size_t *len,
		    struct tpm_err *e)
{
	uint8_t pub[sizeof(TPM2B_PUBLIC)], priv[sizeof(TPM2B_PRIVATE)], *b;
	size_t publen = 0, privlen = 0, at, total;

	if (Tss2_MU_TPM2B_PUBLIC_Marshal(&s->pub, pub, sizeof(pub), &publen) ||
	    Tss2_MU_TPM2B_PRIVATE_Marshal(&s->priv, priv, sizeof(priv),
					  &privlen))
		return tpm_fail(e, BH_TPM_E_FAILED,
				"sealing: the TPM's object does not marshal");
	total = 4 + 1 + 4 + npcrs(s->pcrs.mask) * TPM_SHA256_BYTES + 2 +
		publen + 2 + privlen;
	if (total > TPM_BLOB_MAX)
		return tpm_fail(e, BH_TPM_E_FAILED,
				"sealing: %zu bytes, more than %u", total,
				TPM_BLOB_MAX);
	b = malloc(total);
	if (!b)
		return tpm_fail(e, BH_TPM_E_NOMEM, "out of memory");
	memcpy(b, MAGIC, 4);
	b[4] = VERSION;
	b[5] = (uint8_t)(s->pcrs.mask >> 24);
	b[6] = (uint8_t)(s->pcrs.mask >> 16);
	b[7] = (uint8_t)(s->pcrs.mask >> 8);
	b[8] = (uint8_t)s->pcrs.mask;
	at = 9;
	for (unsigned int i = 0; i < TPM_PCR_COUNT; i++)
		if (s->pcrs.mask & (1u << i)) {
			memcpy(b + at, s->pcrs.value[i], TPM_SHA256_BYTES);
			at += TPM_SHA256_BYTES;
		}
	b[at] = (uint8_t)(publen >> 8);
	b[at + 1] = (uint8_t)publen;
	memcpy(b + at + 2, pub, publen);
	at += 2 + publen;
	b[at] = (uint8_t)(privlen >> 8);
	b[at + 1] = (uint8_t)privlen;
	memcpy(b + at + 2, priv, privlen);
	*out = b;
	*len = total;
	return 0;
}

static int bad(struct tpm_err *e, const char *why)
{
	return tpm_fail(e, BH_TPM_E_INVAL, "not a Bulkhead sealed blob: %s",
			why);
}

/* A u16-framed part at *at: *p and *n, *at past it. */
static int part(const uint8_t *b, size_t len, size_t *at, const uint8_t **p,
		size_t *n)
{
	if (len - *at < 2)
		return -1;
	*n = (size_t)b[*at] << 8 | b[*at + 1];
	if (len - *at - 2 < *n)
		return -1;
	*p = b + *at + 2;
	*at += 2 + *n;
	return 0;
}

int tpm_blob_decode(const uint8_t *b, size_t len, struct tpm_sealed *s,
		    struct tpm_err *e)
{
	const uint8_t *pub, *priv;
	size_t at = 9, publen, privlen, off;
	uint8_t policy[TPM_SHA256_BYTES];
	const TPMT_PUBLIC *pa;

	memset(s, 0, sizeof(*s));
	if (len < 9 || memcmp(b, MAGIC, 4))
		return bad(e, "no \"BHSL\" at its start");
	if (b[4] != VERSION)
		return bad(e, "an unknown version");
	s->pcrs.mask = (uint32_t)b[5] << 24 | (uint32_t)b[6] << 16 |
		       (uint32_t)b[7] << 8 | b[8];
	if (!s->pcrs.mask || s->pcrs.mask >> TPM_PCR_COUNT)
		return bad(e, "its PCR set is empty or past PCR 23");
	if (len - at < npcrs(s->pcrs.mask) * TPM_SHA256_BYTES)
		return bad(e, "truncated in its PCR values");
	for (unsigned int i = 0; i < TPM_PCR_COUNT; i++)
		if (s->pcrs.mask & (1u << i)) {
			memcpy(s->pcrs.value[i], b + at, TPM_SHA256_BYTES);
			at += TPM_SHA256_BYTES;
		}
	if (part(b, len, &at, &pub, &publen) ||
	    part(b, len, &at, &priv, &privlen))
		return bad(e, "truncated in its TPM parts");
	if (at != len)
		return bad(e, "bytes after its end");
	off = 0;
	/* tpm2-tss takes a TPM2B_PUBLIC's size field on trust: it must be
	 * what the area takes, as the TPM would see it re-marshalled. */
	if (Tss2_MU_TPM2B_PUBLIC_Unmarshal(pub, publen, &off, &s->pub) ||
	    off != publen || (size_t)s->pub.size + 2 != publen)
		return bad(e, "its public part does not parse");
	off = 0;
	if (Tss2_MU_TPM2B_PRIVATE_Unmarshal(priv, privlen, &off, &s->priv) ||
	    off != privlen || !s->priv.size)
		return bad(e, "its private part does not parse");
	pa = &s->pub.publicArea;
	if (pa->type != TPM2_ALG_KEYEDHASH || pa->nameAlg != TPM2_ALG_SHA256 ||
	    pa->objectAttributes != TPM_SEALED_ATTRS)
		return bad(e, "its object is not a policy-only sealed object");
	if (tpm_policy_pcr(&s->pcrs, policy))
		return tpm_fail(e, BH_TPM_E_NOMEM, "out of memory");
	if (pa->authPolicy.size != TPM_SHA256_BYTES ||
	    memcmp(pa->authPolicy.buffer, policy, TPM_SHA256_BYTES))
		return bad(
			e,
			"its object's policy is not PolicyPCR over the values it records");
	return 0;
}

int tpm_blob_pcrs(const uint8_t *blob, size_t len, struct tpm_pcr_values *v,
		  struct tpm_err *e)
{
	struct tpm_sealed s;

	if (tpm_blob_decode(blob, len, &s, e))
		return -1;
	*v = s.pcrs;
	return 0;
}
