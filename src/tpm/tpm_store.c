// SPDX-License-Identifier: GPL-2.0-only
/* The TPM behind the config store's sealer and anchor interfaces. */
#include "tpm/tpm_store.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int tpm_status_errno(enum tpm_status s)
{
	switch (s) {
	case BH_TPM_OK:
		return 0;
	case BH_TPM_E_MEASUREMENT:
		return -EKEYREJECTED;
	case BH_TPM_E_LOCKOUT:
		return -EBUSY;
	case BH_TPM_E_AUTH:
		return -EPERM;
	case BH_TPM_E_NONE:
		return -ENODEV;
	case BH_TPM_E_INVAL:
		return -EINVAL;
	case BH_TPM_E_NOMEM:
		return -ENOMEM;
	case BH_TPM_E_NV_MISSING:
		return -ENOENT;
	default:
		return -EIO;
	}
}

static int seal(void *c, const uint8_t key[STORE_KEY_LEN], uint8_t **blob,
		size_t *len)
{
	struct tpm_sealer_ctx *ctx = c;
	int r;

	if (ctx->predicted && ctx->predicted->mask != ctx->mask) {
		ctx->last.status = BH_TPM_E_INVAL;
		snprintf(
			ctx->last.msg, sizeof(ctx->last.msg),
			"sealing: the predicted PCRs are not the sealer's set");
		return -EINVAL;
	}
	r = ctx->predicted ?
		    tpm_seal_to(ctx->tpm, ctx->predicted, key, blob, len,
				&ctx->last) :
		    tpm_seal(ctx->tpm, ctx->mask, key, blob, len, &ctx->last);
	return r ? tpm_status_errno(ctx->last.status) : 0;
}

static int unseal(void *c, const uint8_t *blob, size_t len,
		  uint8_t key[STORE_KEY_LEN], char *why, size_t why_len)
{
	struct tpm_sealer_ctx *ctx = c;

	if (!tpm_unseal(ctx->tpm, blob, len, key, &ctx->last))
		return 0;
	if (why && why_len)
		snprintf(why, why_len, "%s", ctx->last.msg);
	return tpm_status_errno(ctx->last.status);
}

void tpm_store_sealer(struct tpm_sealer_ctx *ctx, struct store_sealer *sealer)
{
	_Static_assert(STORE_KEY_LEN == TPM_SECRET_BYTES,
		       "the store's key is the TPM layer's secret");
	*sealer = (struct store_sealer){ .seal = seal,
					 .unseal = unseal,
					 .ctx = ctx };
}

static int anchor_read(void *c, uint64_t *value)
{
	struct tpm_anchor_ctx *ctx = c;

	if (tpm_counter_read(ctx->tpm, ctx->index, value, &ctx->last))
		return tpm_status_errno(ctx->last.status);
	return 0;
}

static int anchor_advance(void *c, uint64_t value)
{
	struct tpm_anchor_ctx *ctx = c;
	uint64_t now;

	if (tpm_counter_read(ctx->tpm, ctx->index, &now, &ctx->last))
		return tpm_status_errno(ctx->last.status);
	/* A counter past value stays: it never goes back. */
	if (now < value && value - now > TPM_ANCHOR_STEP_MAX) {
		ctx->last.status = BH_TPM_E_INVAL;
		snprintf(
			ctx->last.msg, sizeof(ctx->last.msg),
			"NV counter 0x%08x is %llu: %llu steps to %llu are more than %u",
			ctx->index, (unsigned long long)now,
			(unsigned long long)(value - now),
			(unsigned long long)value, TPM_ANCHOR_STEP_MAX);
		return -ERANGE;
	}
	while (now < value)
		if (tpm_counter_increment(ctx->tpm, ctx->index, &now,
					  &ctx->last))
			return tpm_status_errno(ctx->last.status);
	return 0;
}

void tpm_store_anchor(struct tpm_anchor_ctx *ctx, struct store_anchor *anchor)
{
	*anchor = (struct store_anchor){ .read = anchor_read,
					 .advance = anchor_advance,
					 .ctx = ctx };
}
