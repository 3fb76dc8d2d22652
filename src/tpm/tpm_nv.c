// SPDX-License-Identifier: GPL-2.0-only
/*
 * An NV monotonic counter (TPMA_NV_COUNTER): what only goes up, even
 * across an undefine and a define, as a TPM starts a new counter at the
 * highest value any of its counters had. Owner-authorized (empty owner
 * password), outside dictionary-attack counting.
 */
#include <stdbool.h>
#include <stdio.h>

#include "tpm/tpm_priv.h"

#define COUNTER_ATTRS                                                      \
	((TPM2_NT_COUNTER << TPMA_NV_TPM2_NT_SHIFT) | TPMA_NV_OWNERWRITE | \
	 TPMA_NV_OWNERREAD | TPMA_NV_NO_DA)

static int check_index(uint32_t index, struct tpm_err *e)
{
	if (index < TPM_NV_INDEX_FIRST || index > TPM_NV_INDEX_LAST)
		return tpm_fail(
			e, BH_TPM_E_INVAL,
			"NV index 0x%08x: not in the owner range 0x%08x..0x%08x",
			index, TPM_NV_INDEX_FIRST, TPM_NV_INDEX_LAST);
	return 0;
}

/*
 * The counter at index as an ESYS_TR (close it with Esys_TR_Close), and
 * whether it was ever incremented. BH_TPM_E_NV_MISSING if the index is not
 * defined, BH_TPM_E_NV_OTHER if it is no counter.
 */
static int open_counter(struct tpm *t, uint32_t index, ESYS_TR *nv,
			bool *written, struct tpm_err *e)
{
	TPM2B_NV_PUBLIC *pub = NULL;
	char what[64];
	TSS2_RC rc;
	uint32_t type;
	TPMA_NV attrs;

	snprintf(what, sizeof(what), "NV index 0x%08x", index);
	rc = Esys_TR_FromTPMPublic(t->esys, index, ESYS_TR_NONE, ESYS_TR_NONE,
				   ESYS_TR_NONE, nv);
	if (rc != TSS2_RC_SUCCESS) {
		*nv = ESYS_TR_NONE;
		if (tpm_rc_base(rc) == TPM2_RC_HANDLE)
			return tpm_fail(e, BH_TPM_E_NV_MISSING,
					"%s: no NV counter is defined there",
					what);
		return tpm_fail_rc(e, rc, what);
	}
	rc = Esys_NV_ReadPublic(t->esys, *nv, ESYS_TR_NONE, ESYS_TR_NONE,
				ESYS_TR_NONE, &pub, NULL);
	if (rc != TSS2_RC_SUCCESS) {
		Esys_TR_Close(t->esys, nv);
		return tpm_fail_rc(e, rc, what);
	}
	attrs = pub->nvPublic.attributes;
	Esys_Free(pub);
	type = (attrs & TPMA_NV_TPM2_NT_MASK) >> TPMA_NV_TPM2_NT_SHIFT;
	*written = !!(attrs & TPMA_NV_WRITTEN);
	if (type != TPM2_NT_COUNTER || !(attrs & TPMA_NV_OWNERWRITE) ||
	    !(attrs & TPMA_NV_OWNERREAD)) {
		Esys_TR_Close(t->esys, nv);
		return tpm_fail(
			e, BH_TPM_E_NV_OTHER,
			"%s: defined, but not as an owner-read, owner-write counter (attributes 0x%08x)",
			what, (unsigned int)attrs);
	}
	return 0;
}

static int increment(struct tpm *t, ESYS_TR nv, uint32_t index,
		     struct tpm_err *e)
{
	TSS2_RC rc = Esys_NV_Increment(t->esys, ESYS_TR_RH_OWNER, nv,
				       ESYS_TR_PASSWORD, ESYS_TR_NONE,
				       ESYS_TR_NONE);
	char what[64];

	if (rc == TSS2_RC_SUCCESS)
		return 0;
	snprintf(what, sizeof(what), "incrementing NV counter 0x%08x", index);
	return tpm_fail_rc(e, rc, what);
}

int tpm_counter_define(struct tpm *t, uint32_t index, struct tpm_err *e)
{
	TPM2B_NV_PUBLIC pub = {
		.nvPublic = {
			.nvIndex = index,
			.nameAlg = TPM2_ALG_SHA256,
			.attributes = COUNTER_ATTRS,
			.dataSize = 8,
		},
	};
	const TPM2B_AUTH noauth = { 0 };
	ESYS_TR nv = ESYS_TR_NONE;
	bool written = false;
	char what[64];
	TSS2_RC rc;
	int r;

	if (check_index(index, e))
		return -1;
	r = open_counter(t, index, &nv, &written, e);
	if (r && e->status != BH_TPM_E_NV_MISSING)
		return -1;
	if (r) {
		rc = Esys_NV_DefineSpace(t->esys, ESYS_TR_RH_OWNER,
					 ESYS_TR_PASSWORD, ESYS_TR_NONE,
					 ESYS_TR_NONE, &noauth, &pub, &nv);
		if (rc != TSS2_RC_SUCCESS) {
			snprintf(what, sizeof(what),
				 "defining NV counter 0x%08x", index);
			return tpm_fail_rc(e, rc, what);
		}
	}
	/* Only an incremented counter can be read. */
	r = written ? 0 : increment(t, nv, index, e);
	Esys_TR_Close(t->esys, &nv);
	return r;
}

int tpm_counter_read(struct tpm *t, uint32_t index, uint64_t *value,
		     struct tpm_err *e)
{
	TPM2B_MAX_NV_BUFFER *data = NULL;
	ESYS_TR nv;
	bool written;
	char what[64];
	TSS2_RC rc;

	if (check_index(index, e) || open_counter(t, index, &nv, &written, e))
		return -1;
	if (!written) {
		Esys_TR_Close(t->esys, &nv);
		return tpm_fail(
			e, BH_TPM_E_NV_OTHER,
			"NV counter 0x%08x was never incremented, so it has no value yet",
			index);
	}
	rc = Esys_NV_Read(t->esys, ESYS_TR_RH_OWNER, nv, ESYS_TR_PASSWORD,
			  ESYS_TR_NONE, ESYS_TR_NONE, 8, 0, &data);
	Esys_TR_Close(t->esys, &nv);
	if (rc != TSS2_RC_SUCCESS) {
		snprintf(what, sizeof(what), "reading NV counter 0x%08x",
			 index);
		return tpm_fail_rc(e, rc, what);
	}
	if (data->size != 8) {
		Esys_Free(data);
		return tpm_fail(e, BH_TPM_E_FAILED,
				"NV counter 0x%08x: read %u bytes, not 8",
				index, (unsigned int)data->size);
	}
	*value = 0;
	for (int i = 0; i < 8; i++) /* big-endian */
		*value = *value << 8 | data->buffer[i];
	Esys_Free(data);
	return 0;
}

int tpm_counter_increment(struct tpm *t, uint32_t index, uint64_t *after,
			  struct tpm_err *e)
{
	ESYS_TR nv;
	bool written;
	int r;

	if (check_index(index, e) || open_counter(t, index, &nv, &written, e))
		return -1;
	r = increment(t, nv, index, e);
	Esys_TR_Close(t->esys, &nv);
	if (r || !after)
		return r;
	return tpm_counter_read(t, index, after, e);
}
