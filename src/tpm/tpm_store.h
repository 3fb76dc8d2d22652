/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The TPM as the config store's sealer and rollback anchor
 * (src/store/keyslot.h, docs/config-store.md):
 *
 *   - the sealer seals the 32-byte master key to the PCRs of mask, at
 *     their current values, or at predicted ones (forward sealing); its
 *     unseal returns -EKEYREJECTED when a measurement changed (why names
 *     the PCRs), -EBUSY in dictionary-attack lockout, -EPERM when an
 *     authorization failed, -ENODEV without a TPM, -EINVAL for a blob
 *     that is not ours, -ENOMEM, else -EIO; why has the TPM layer's
 *     message in every case;
 *   - the anchor is an NV counter (tpm_counter_define() it first):
 *     advance increments until the counter reaches the value.
 */
#ifndef BH_TPM_TPM_STORE_H
#define BH_TPM_TPM_STORE_H

#include "store/keyslot.h"
#include "tpm/tpm.h"

struct tpm_sealer_ctx {
	struct tpm *tpm;
	uint32_t mask; /* the PCRs sealed to */
	/* NULL: the current values; else these (mask must equal theirs). */
	const struct tpm_pcr_values *predicted;
	struct tpm_err last; /* the last failure, for the caller's message */
};

/* Fills sealer to use ctx (which must outlive it). */
void tpm_store_sealer(struct tpm_sealer_ctx *ctx, struct store_sealer *sealer);

struct tpm_anchor_ctx {
	struct tpm *tpm;
	uint32_t index; /* the NV counter */
	struct tpm_err last;
};

/* An advance that needs more increments than this is refused (-ERANGE). */
#define TPM_ANCHOR_STEP_MAX 100000u

void tpm_store_anchor(struct tpm_anchor_ctx *ctx, struct store_anchor *anchor);

/* The -errno the adapters return for a status. */
int tpm_status_errno(enum tpm_status s);

#endif
