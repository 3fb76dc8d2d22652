/* SPDX-License-Identifier: GPL-2.0-only */
/* Inside the TPM layer: the context and the error helpers. */
#ifndef BH_TPM_TPM_PRIV_H
#define BH_TPM_TPM_PRIV_H

#include <tss2/tss2_esys.h>

#include "tpm/tpm.h"

struct tpm {
	TSS2_TCTI_CONTEXT *tcti;
	ESYS_CONTEXT *esys;
	char tcti_conf[TPM_SPEC_MAX + 32];
	void (*unseal_hook)(struct tpm *t, void *ctx);
	void *unseal_hook_ctx;
};

/* Fills e: status, no rc, the formatted message. Returns -1. */
int tpm_fail(struct tpm_err *e, enum tpm_status s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Fills e for a failed TSS call: the status tpm_rc_status() gives, and
 * "WHAT: MEANING (TPM rc 0x...: tpm2-tss's decoding)". Returns -1.
 */
int tpm_fail_rc(struct tpm_err *e, TSS2_RC rc, const char *what);

/* Pure: the kind of failure a TSS2_RC is (BH_TPM_OK for success). */
enum tpm_status tpm_rc_status(TSS2_RC rc);
/* The TPM's own error code without handle/session/parameter bits (or the
 * whole rc for other layers): TPM2_RC_POLICY_FAIL, TPM2_RC_LOCKOUT... */
TSS2_RC tpm_rc_base(TSS2_RC rc);

/* The selection of v->mask in the SHA-256 bank. */
void tpm_selection(uint32_t mask, TPML_PCR_SELECTION *sel);

/* Flushes *h if it is a handle and sets it to ESYS_TR_NONE. */
void tpm_flush(struct tpm *t, ESYS_TR *h);

/* The owner hierarchy's storage primary (ECC P-256, the TCG template),
 * the same key each time from the same seed. */
int tpm_primary(struct tpm *t, ESYS_TR *primary, struct tpm_err *e);

/*
 * The sealed object's attributes: bound to this TPM and parent, used only
 * through its policy (adminWithPolicy, no userWithAuth: its empty
 * password opens nothing), outside dictionary-attack counting (nothing
 * secret is guessed at: a wrong boot must not lock the owner out).
 */
#define TPM_SEALED_ATTRS                                  \
	(TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | \
	 TPMA_OBJECT_ADMINWITHPOLICY | TPMA_OBJECT_NODA)

/* A sealed secret as the blob carries it. */
struct tpm_sealed {
	struct tpm_pcr_values pcrs; /* sealed to */
	TPM2B_PUBLIC pub;
	TPM2B_PRIVATE priv;
};

/* The blob's bytes, malloc'd (tpm_blob.c). */
int tpm_blob_encode(const struct tpm_sealed *s, uint8_t **out, size_t *len,
		    struct tpm_err *e);
/*
 * Reads a blob: refused unless it is one of ours, whole, with a public
 * area of TPM_SEALED_ATTRS whose policy is PolicyPCR over the recorded
 * values.
 */
int tpm_blob_decode(const uint8_t *b, size_t len, struct tpm_sealed *s,
		    struct tpm_err *e);

#endif
