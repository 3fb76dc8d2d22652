// SPDX-License-Identifier: GPL-2.0-only
/*
 * The TPM layer's sealed-blob reader (src/tpm/tpm_blob.c), which reads
 * what the config store hands back from disk: any bytes are a blob. It
 * aborts when a refusal is not BH_TPM_E_INVAL with a printable message,
 * or an accepted blob is not what the sealer writes: a policy-only
 * keyed-hash object whose policy is PolicyPCR over the values recorded,
 * which encodes back to the very bytes it was read from.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tpm/tpm_priv.h"

#define check(c)                 \
	do {                     \
		if (!(c))        \
			abort(); \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tpm_sealed s;
	struct tpm_err e = { 0 };
	uint8_t policy[TPM_SHA256_BYTES], *back;
	size_t len;

	if (tpm_blob_decode(data, size, &s, &e)) {
		check(e.status == BH_TPM_E_INVAL);
		check(e.msg[0]);
		for (const char *c = e.msg; *c; c++)
			check(*c >= 0x20 && *c < 0x7f);
		return 0;
	}
	check(s.pcrs.mask && !(s.pcrs.mask >> TPM_PCR_COUNT));
	check(s.pub.publicArea.type == TPM2_ALG_KEYEDHASH);
	check(s.pub.publicArea.objectAttributes == TPM_SEALED_ATTRS);
	check(!(s.pub.publicArea.objectAttributes & TPMA_OBJECT_USERWITHAUTH));
	check(tpm_policy_pcr(&s.pcrs, policy) == 0);
	check(s.pub.publicArea.authPolicy.size == TPM_SHA256_BYTES &&
	      !memcmp(s.pub.publicArea.authPolicy.buffer, policy,
		      TPM_SHA256_BYTES));
	check(size <= TPM_BLOB_MAX);
	check(tpm_blob_encode(&s, &back, &len, &e) == 0);
	check(len == size && !memcmp(back, data, size));
	free(back);
	return 0;
}
