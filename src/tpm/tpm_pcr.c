// SPDX-License-Identifier: GPL-2.0-only
/* PCRs of the SHA-256 bank, and what the TPM says about itself. */
#include <stdio.h>
#include <string.h>

#include "tpm/tpm_priv.h"

/* TPM2_TRANSIENT_FIRST, without its macro's shift of a uint8_t into the
 * sign bit of an int (undefined behaviour, which UBSan reports). */
#define TRANSIENT_FIRST 0x80000000u

static int check_pcr(unsigned int pcr, struct tpm_err *e)
{
	if (pcr >= TPM_PCR_COUNT)
		return tpm_fail(e, BH_TPM_E_INVAL,
				"PCR %u: there are PCRs 0 to %u", pcr,
				TPM_PCR_COUNT - 1);
	return 0;
}

int tpm_pcr_read_set(struct tpm *t, struct tpm_pcr_values *v, struct tpm_err *e)
{
	uint32_t left = v->mask;

	if (!v->mask || v->mask >> TPM_PCR_COUNT)
		return tpm_fail(e, BH_TPM_E_INVAL,
				"PCR set 0x%x: not a set of PCRs 0 to %u",
				v->mask, TPM_PCR_COUNT - 1);
	/* A read returns at most 8 digests: ask until all are there. */
	while (left) {
		TPML_PCR_SELECTION sel, *got = NULL;
		TPML_DIGEST *vals = NULL;
		uint32_t counter, done = 0;
		size_t k = 0;
		TSS2_RC rc;

		tpm_selection(left, &sel);
		rc = Esys_PCR_Read(t->esys, ESYS_TR_NONE, ESYS_TR_NONE,
				   ESYS_TR_NONE, &sel, &counter, &got, &vals);
		if (rc != TSS2_RC_SUCCESS)
			return tpm_fail_rc(e, rc, "reading PCRs");
		for (unsigned int i = 0; got && got->count == 1 &&
					 i < TPM_PCR_COUNT && k < vals->count;
		     i++) {
			if (!(got->pcrSelections[0].pcrSelect[i / 8] &
			      (1u << (i % 8))))
				continue;
			if (vals->digests[k].size != TPM_SHA256_BYTES)
				break;
			memcpy(v->value[i], vals->digests[k].buffer,
			       TPM_SHA256_BYTES);
			done |= 1u << i;
			k++;
		}
		Esys_Free(got);
		Esys_Free(vals);
		if (!(done & left))
			return tpm_fail(
				e, BH_TPM_E_FAILED,
				"reading PCRs: the TPM returned no SHA-256 values for 0x%x (is its SHA-256 bank allocated?)",
				left);
		left &= ~done;
	}
	return 0;
}

int tpm_pcr_read(struct tpm *t, unsigned int pcr,
		 uint8_t value[TPM_SHA256_BYTES], struct tpm_err *e)
{
	struct tpm_pcr_values v;

	if (check_pcr(pcr, e))
		return -1;
	v.mask = 1u << pcr;
	if (tpm_pcr_read_set(t, &v, e))
		return -1;
	memcpy(value, v.value[pcr], TPM_SHA256_BYTES);
	return 0;
}

int tpm_pcr_extend(struct tpm *t, unsigned int pcr,
		   const uint8_t digest[TPM_SHA256_BYTES], struct tpm_err *e)
{
	TPML_DIGEST_VALUES d = { .count = 1 };
	char what[64];
	TSS2_RC rc;

	if (check_pcr(pcr, e))
		return -1;
	d.digests[0].hashAlg = TPM2_ALG_SHA256;
	memcpy(d.digests[0].digest.sha256, digest, TPM_SHA256_BYTES);
	rc = Esys_PCR_Extend(t->esys, ESYS_TR_PCR0 + pcr, ESYS_TR_PASSWORD,
			     ESYS_TR_NONE, ESYS_TR_NONE, &d);
	if (rc != TSS2_RC_SUCCESS) {
		snprintf(what, sizeof(what), "extending PCR %u", pcr);
		return tpm_fail_rc(e, rc, what);
	}
	return 0;
}

static int get_u32(struct tpm *t, TPM2_CAP cap, uint32_t prop, uint32_t *out,
		   struct tpm_err *e)
{
	TPMS_CAPABILITY_DATA *data = NULL;
	TPMI_YES_NO more;
	TSS2_RC rc;

	rc = Esys_GetCapability(t->esys, ESYS_TR_NONE, ESYS_TR_NONE,
				ESYS_TR_NONE, cap, prop, 1, &more, &data);
	if (rc != TSS2_RC_SUCCESS)
		return tpm_fail_rc(e, rc, "asking the TPM for its properties");
	*out = 0;
	if (data->data.tpmProperties.count == 1 &&
	    data->data.tpmProperties.tpmProperty[0].property == prop)
		*out = data->data.tpmProperties.tpmProperty[0].value;
	Esys_Free(data);
	return 0;
}

/*
 * Handles the TPM lists from first on whose type (top byte) is one of
 * types: the loaded-session list has HMAC (0x02) and policy (0x03)
 * handles alike.
 */
static int count_handles(struct tpm *t, uint32_t first, const uint8_t *types,
			 size_t ntypes, uint32_t *n, struct tpm_err *e)
{
	TPMI_YES_NO more = TPM2_YES;
	uint32_t from = first;

	*n = 0;
	while (more == TPM2_YES) {
		TPMS_CAPABILITY_DATA *data = NULL;
		TSS2_RC rc =
			Esys_GetCapability(t->esys, ESYS_TR_NONE, ESYS_TR_NONE,
					   ESYS_TR_NONE, TPM2_CAP_HANDLES, from,
					   TPM2_MAX_CAP_HANDLES, &more, &data);
		uint32_t c;

		if (rc != TSS2_RC_SUCCESS)
			return tpm_fail_rc(e, rc,
					   "asking the TPM for its handles");
		c = data->data.handles.count;
		for (uint32_t i = 0; i < c; i++) {
			uint32_t h = data->data.handles.handle[i];

			for (size_t k = 0; k < ntypes; k++)
				*n += (h >> 24) == types[k];
			from = h + 1;
		}
		Esys_Free(data);
		if (!c)
			break;
	}
	return 0;
}

int tpm_get_info(struct tpm *t, struct tpm_info *info, struct tpm_err *e)
{
	static const uint8_t transient[] = { TPM2_HT_TRANSIENT };
	static const uint8_t sessions[] = { TPM2_HT_HMAC_SESSION,
					    TPM2_HT_POLICY_SESSION };
	uint32_t manu, perm, loaded, saved;

	memset(info, 0, sizeof(*info));
	if (get_u32(t, TPM2_CAP_TPM_PROPERTIES, TPM2_PT_MANUFACTURER, &manu,
		    e) ||
	    get_u32(t, TPM2_CAP_TPM_PROPERTIES, TPM2_PT_LOCKOUT_COUNTER,
		    &info->lockout_counter, e) ||
	    get_u32(t, TPM2_CAP_TPM_PROPERTIES, TPM2_PT_MAX_AUTH_FAIL,
		    &info->max_auth_fail, e) ||
	    get_u32(t, TPM2_CAP_TPM_PROPERTIES, TPM2_PT_LOCKOUT_INTERVAL,
		    &info->lockout_interval, e) ||
	    get_u32(t, TPM2_CAP_TPM_PROPERTIES, TPM2_PT_PERMANENT, &perm, e) ||
	    count_handles(t, TRANSIENT_FIRST, transient, 1, &info->transient,
			  e) ||
	    count_handles(t, TPM2_LOADED_SESSION_FIRST, sessions, 2, &loaded,
			  e) ||
	    count_handles(t, TPM2_ACTIVE_SESSION_FIRST, sessions, 2, &saved, e))
		return -1;
	for (int i = 0; i < 4; i++) {
		char c = (char)(manu >> (24 - 8 * i));

		info->manufacturer[i] = c > 0x20 && c < 0x7f ? c : ' ';
	}
	/* "IBM " is IBM. */
	for (int i = 3; i >= 0 && info->manufacturer[i] == ' '; i--)
		info->manufacturer[i] = '\0';
	info->sessions = loaded + saved;
	info->in_lockout = !!(perm & TPMA_PERMANENT_INLOCKOUT);
	return 0;
}
