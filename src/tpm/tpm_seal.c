// SPDX-License-Identifier: GPL-2.0-only
/*
 * Sealing a 32-byte secret to PCR values and unsealing it. The policy is
 * computed by a trial session (TPM2_PolicyPCR with the values' digest) and
 * checked against tpm_policy_pcr(); the object is created under the
 * owner's storage primary with that policy; unsealing runs a real policy
 * session whose PolicyPCR takes the TPM's current values. Both use a
 * session salted to the primary, so the secret is encrypted on the bus.
 * Every handle is flushed on every path.
 */
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tpm/tpm_priv.h"
#include "util/hex.h"

static const TPMT_SYM_DEF aes128cfb = {
	.algorithm = TPM2_ALG_AES,
	.keyBits.aes = 128,
	.mode.aes = TPM2_ALG_CFB,
};

/* A session salted to primary; attrs added to its attributes. */
static int start_session(struct tpm *t, ESYS_TR primary, TPM2_SE type,
			 TPMA_SESSION attrs, ESYS_TR *s, struct tpm_err *e)
{
	TSS2_RC rc;

	rc = Esys_StartAuthSession(t->esys, primary, ESYS_TR_NONE, ESYS_TR_NONE,
				   ESYS_TR_NONE, ESYS_TR_NONE, NULL, type,
				   &aes128cfb, TPM2_ALG_SHA256, s);
	if (rc != TSS2_RC_SUCCESS) {
		*s = ESYS_TR_NONE;
		return tpm_fail_rc(e, rc, "starting a TPM session");
	}
	/* continueSession: the session stays until we flush it. */
	rc = Esys_TRSess_SetAttributes(
		t->esys, *s, attrs | TPMA_SESSION_CONTINUESESSION, 0xff);
	if (rc != TSS2_RC_SUCCESS)
		return tpm_fail_rc(e, rc, "setting the session's attributes");
	return 0;
}

/* PolicyPCR over sel in session s, with digest (NULL: the TPM's values). */
static int policy_pcr(struct tpm *t, ESYS_TR s, const struct tpm_pcr_values *v,
		      bool explicit_values, struct tpm_err *e)
{
	TPM2B_DIGEST digest = { 0 };
	TPML_PCR_SELECTION sel;
	TSS2_RC rc;

	tpm_selection(v->mask, &sel);
	if (explicit_values) {
		EVP_MD_CTX *ctx = EVP_MD_CTX_new();
		unsigned int len = TPM_SHA256_BYTES;
		int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);

		for (unsigned int i = 0; ok && i < TPM_PCR_COUNT; i++)
			if (v->mask & (1u << i))
				ok = EVP_DigestUpdate(ctx, v->value[i],
						      TPM_SHA256_BYTES);
		ok = ok && EVP_DigestFinal_ex(ctx, digest.buffer, &len);
		EVP_MD_CTX_free(ctx);
		if (!ok)
			return tpm_fail(e, BH_TPM_E_NOMEM, "out of memory");
		digest.size = TPM_SHA256_BYTES;
	}
	rc = Esys_PolicyPCR(t->esys, s, ESYS_TR_NONE, ESYS_TR_NONE,
			    ESYS_TR_NONE, &digest, &sel);
	if (rc != TSS2_RC_SUCCESS)
		return tpm_fail_rc(e, rc, "TPM2_PolicyPCR");
	return 0;
}

/* The policy digest for v, from a trial session, checked against ours. */
static int trial_policy(struct tpm *t, const struct tpm_pcr_values *v,
			TPM2B_DIGEST *policy, struct tpm_err *e)
{
	uint8_t ours[TPM_SHA256_BYTES];
	ESYS_TR s = ESYS_TR_NONE;
	TPM2B_DIGEST *got = NULL;
	TSS2_RC rc;
	int r = -1;

	if (tpm_policy_pcr(v, ours))
		return tpm_fail(e, BH_TPM_E_NOMEM, "out of memory");
	if (start_session(t, ESYS_TR_NONE, TPM2_SE_TRIAL, 0, &s, e) ||
	    policy_pcr(t, s, v, true, e))
		goto out;
	rc = Esys_PolicyGetDigest(t->esys, s, ESYS_TR_NONE, ESYS_TR_NONE,
				  ESYS_TR_NONE, &got);
	if (rc != TSS2_RC_SUCCESS) {
		tpm_fail_rc(e, rc, "TPM2_PolicyGetDigest");
		goto out;
	}
	if (got->size != TPM_SHA256_BYTES ||
	    memcmp(got->buffer, ours, TPM_SHA256_BYTES)) {
		tpm_fail(
			e, BH_TPM_E_FAILED,
			"the TPM's PolicyPCR digest is not the one Bulkhead computes");
		goto out;
	}
	*policy = *got;
	r = 0;
out:
	Esys_Free(got);
	tpm_flush(t, &s);
	return r;
}

int tpm_seal_to(struct tpm *t, const struct tpm_pcr_values *v,
		const uint8_t secret[TPM_SECRET_BYTES], uint8_t **blob,
		size_t *len, struct tpm_err *e)
{
	TPM2B_SENSITIVE_CREATE in = { 0 };
	TPM2B_PUBLIC tmpl = { 0 };
	const TPM2B_DATA outside = { 0 };
	const TPML_PCR_SELECTION nopcr = { 0 };
	TPM2B_PRIVATE *priv = NULL;
	TPM2B_PUBLIC *pub = NULL;
	ESYS_TR primary = ESYS_TR_NONE, s = ESYS_TR_NONE;
	struct tpm_sealed sealed;
	TSS2_RC rc;
	int r = -1;

	if (!v->mask || v->mask >> TPM_PCR_COUNT)
		return tpm_fail(
			e, BH_TPM_E_INVAL,
			"sealing: PCR set 0x%x is not a set of PCRs 0 to %u",
			v->mask, TPM_PCR_COUNT - 1);
	tmpl.publicArea.type = TPM2_ALG_KEYEDHASH;
	tmpl.publicArea.nameAlg = TPM2_ALG_SHA256;
	tmpl.publicArea.objectAttributes = TPM_SEALED_ATTRS;
	tmpl.publicArea.parameters.keyedHashDetail.scheme.scheme =
		TPM2_ALG_NULL;
	if (trial_policy(t, v, &tmpl.publicArea.authPolicy, e) ||
	    tpm_primary(t, &primary, e) ||
	    /* decrypt: the secret goes to the TPM encrypted. */
	    start_session(t, primary, TPM2_SE_HMAC, TPMA_SESSION_DECRYPT, &s,
			  e))
		goto out;
	in.sensitive.data.size = TPM_SECRET_BYTES;
	memcpy(in.sensitive.data.buffer, secret, TPM_SECRET_BYTES);
	rc = Esys_Create(t->esys, primary, ESYS_TR_PASSWORD, s, ESYS_TR_NONE,
			 &in, &tmpl, &outside, &nopcr, &priv, &pub, NULL, NULL,
			 NULL);
	explicit_bzero(&in, sizeof(in));
	if (rc != TSS2_RC_SUCCESS) {
		tpm_fail_rc(e, rc, "creating the sealed object");
		goto out;
	}
	sealed.pcrs = *v;
	sealed.pub = *pub;
	sealed.priv = *priv;
	r = tpm_blob_encode(&sealed, blob, len, e);
out:
	Esys_Free(priv);
	Esys_Free(pub);
	tpm_flush(t, &s);
	tpm_flush(t, &primary);
	return r;
}

int tpm_seal(struct tpm *t, uint32_t mask,
	     const uint8_t secret[TPM_SECRET_BYTES], uint8_t **blob,
	     size_t *len, struct tpm_err *e)
{
	struct tpm_pcr_values v = { .mask = mask };

	if (tpm_pcr_read_set(t, &v, e))
		return -1;
	return tpm_seal_to(t, &v, secret, blob, len, e);
}

/* e says the PCRs differ: name each PCR whose value is not the sealed one. */
static void name_changed(struct tpm *t, const struct tpm_pcr_values *sealed,
			 struct tpm_err *e)
{
	struct tpm_pcr_values now = { .mask = sealed->mask };
	struct tpm_err ignore;
	size_t at, start;

	if (tpm_pcr_read_set(t, &now, &ignore))
		return;
	start = at = (size_t)snprintf(e->msg, sizeof(e->msg),
				      "unsealing: a measurement changed: ");
	for (unsigned int i = 0; i < TPM_PCR_COUNT; i++) {
		char a[2 * TPM_SHA256_BYTES + 1], b[2 * TPM_SHA256_BYTES + 1];
		int n;

		if (!(sealed->mask & (1u << i)) ||
		    !memcmp(now.value[i], sealed->value[i], TPM_SHA256_BYTES))
			continue;
		hex_encode(now.value[i], TPM_SHA256_BYTES, a);
		hex_encode(sealed->value[i], TPM_SHA256_BYTES, b);
		n = snprintf(
			e->msg + at, sizeof(e->msg) - at,
			"%sPCR %u is sha256:%.16s..., sealed to sha256:%.16s...",
			at > start ? "; " : "", i, a, b);
		if (n < 0 || (size_t)n >= sizeof(e->msg) - at)
			return;
		at += (size_t)n;
	}
	if (at > start)
		return;
	snprintf(
		e->msg, sizeof(e->msg),
		"the TPM refused the policy, yet PCRs 0x%x hold the values sealed to",
		sealed->mask);
}

/* One attempt: policy session, PolicyPCR, unseal. */
static int unseal_once(struct tpm *t, ESYS_TR primary, ESYS_TR obj,
		       const struct tpm_sealed *sealed,
		       uint8_t secret[TPM_SECRET_BYTES], struct tpm_err *e)
{
	TPM2B_SENSITIVE_DATA *out = NULL;
	ESYS_TR s = ESYS_TR_NONE;
	TSS2_RC rc;
	int r = -1;

	/* encrypt: the secret comes back encrypted. */
	if (start_session(t, primary, TPM2_SE_POLICY, TPMA_SESSION_ENCRYPT, &s,
			  e) ||
	    policy_pcr(t, s, &sealed->pcrs, false, e))
		goto out;
	if (t->unseal_hook)
		t->unseal_hook(t, t->unseal_hook_ctx);
	rc = Esys_Unseal(t->esys, obj, s, ESYS_TR_NONE, ESYS_TR_NONE, &out);
	if (rc != TSS2_RC_SUCCESS) {
		tpm_fail_rc(e, rc, "unsealing");
		goto out;
	}
	if (out->size != TPM_SECRET_BYTES) {
		tpm_fail(e, BH_TPM_E_INVAL,
			 "unsealing: the object holds %u bytes, not %u",
			 (unsigned int)out->size, TPM_SECRET_BYTES);
		goto out;
	}
	memcpy(secret, out->buffer, TPM_SECRET_BYTES);
	r = 0;
out:
	if (out) {
		explicit_bzero(out, sizeof(*out));
		Esys_Free(out);
	}
	tpm_flush(t, &s);
	return r;
}

int tpm_unseal(struct tpm *t, const uint8_t *blob, size_t len,
	       uint8_t secret[TPM_SECRET_BYTES], struct tpm_err *e)
{
	ESYS_TR primary = ESYS_TR_NONE, obj = ESYS_TR_NONE;
	struct tpm_sealed sealed;
	TSS2_RC rc;
	int r = -1;

	if (tpm_blob_decode(blob, len, &sealed, e) ||
	    tpm_primary(t, &primary, e))
		goto out;
	rc = Esys_Load(t->esys, primary, ESYS_TR_PASSWORD, ESYS_TR_NONE,
		       ESYS_TR_NONE, &sealed.priv, &sealed.pub, &obj);
	if (rc != TSS2_RC_SUCCESS) {
		obj = ESYS_TR_NONE;
		tpm_fail_rc(
			e, rc,
			"loading the sealed object (sealed by another TPM, or its owner hierarchy was cleared?)");
		goto out;
	}
	r = unseal_once(t, primary, obj, &sealed, secret, e);
	/* A PCR extended between the policy and the unseal: once more. */
	if (r && e->status == BH_TPM_E_PCR_CHANGED)
		r = unseal_once(t, primary, obj, &sealed, secret, e);
	if (r && e->status == BH_TPM_E_MEASUREMENT)
		name_changed(t, &sealed.pcrs, e);
out:
	if (r)
		explicit_bzero(secret, TPM_SECRET_BYTES);
	tpm_flush(t, &obj);
	tpm_flush(t, &primary);
	return r;
}
