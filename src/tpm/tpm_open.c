// SPDX-License-Identifier: GPL-2.0-only
/* Opening the TPM: the setting, the TCTI loader, ESAPI, TPM2_Startup. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tss2/tss2_tctildr.h>
#include <unistd.h>

#include "tpm/tpm_priv.h"

/* The TCTIs tpm2-tss ships (Debian libtss2-tcti-*), and tabrmd's. */
static const char *const tctis[] = { "device", "swtpm", "mssim", "tabrmd" };

int tpm_spec_parse(const char *spec, enum tpm_spec_kind *kind,
		   struct tpm_err *e)
{
	size_t len, name;

	if (!spec || !spec[0] || !strcmp(spec, "auto")) {
		*kind = TPM_SPEC_AUTO;
		return 0;
	}
	if (!strcmp(spec, "none")) {
		*kind = TPM_SPEC_NONE;
		return 0;
	}
	len = strlen(spec);
	if (len > TPM_SPEC_MAX)
		return tpm_fail(e, BH_TPM_E_INVAL,
				"TPM setting: longer than %u bytes",
				TPM_SPEC_MAX);
	for (size_t i = 0; i < len; i++)
		if (spec[i] < 0x21 || spec[i] > 0x7e)
			return tpm_fail(
				e, BH_TPM_E_INVAL,
				"TPM setting: byte %zu is not printable ASCII (no spaces)",
				i + 1);
	name = strcspn(spec, ":");
	for (size_t i = 0; i < sizeof(tctis) / sizeof(tctis[0]); i++)
		if (strlen(tctis[i]) == name &&
		    !strncmp(spec, tctis[i], name)) {
			*kind = TPM_SPEC_TCTI;
			return 0;
		}
	return tpm_fail(
		e, BH_TPM_E_INVAL,
		"TPM setting \"%s\": not auto, none or a TCTI (device:PATH, swtpm:host=H,port=P, swtpm:path=SOCKET, mssim:..., tabrmd:...)",
		spec);
}

static int startup(struct tpm *t, struct tpm_err *e)
{
	TSS2_RC rc = Esys_Startup(t->esys, TPM2_SU_CLEAR);

	/* Started already (firmware does so on real hardware). */
	if (rc == TSS2_RC_SUCCESS || tpm_rc_base(rc) == TPM2_RC_INITIALIZE)
		return 0;
	return tpm_fail_rc(e, rc, "TPM2_Startup");
}

int tpm_open(const char *spec, struct tpm **out, struct tpm_err *e)
{
	enum tpm_spec_kind kind;
	struct tpm *t;
	TSS2_RC rc;

	*out = NULL;
	if (tpm_spec_parse(spec, &kind, e))
		return -1;
	if (kind == TPM_SPEC_NONE)
		return tpm_fail(e, BH_TPM_E_NONE,
				"no TPM: the TPM setting is \"none\"");
	if (kind == TPM_SPEC_AUTO && access(TPM_DEVICE_DEFAULT, F_OK) < 0)
		return tpm_fail(e, BH_TPM_E_NONE,
				"no TPM: %s does not exist, and no TCTI is set",
				TPM_DEVICE_DEFAULT);
	/* Failures come back to the caller as messages: tpm2-tss's own
	 * logging to standard error stays off unless TSS2_LOG asks. */
	setenv("TSS2_LOG", "all+none", 0);
	t = calloc(1, sizeof(*t));
	if (!t)
		return tpm_fail(e, BH_TPM_E_NOMEM, "out of memory");
	snprintf(t->tcti_conf, sizeof(t->tcti_conf), "%s",
		 kind == TPM_SPEC_AUTO ? "device:" TPM_DEVICE_DEFAULT : spec);
	rc = Tss2_TctiLdr_Initialize(t->tcti_conf, &t->tcti);
	if (rc != TSS2_RC_SUCCESS) {
		char what[TPM_SPEC_MAX + 64];

		snprintf(what, sizeof(what), "opening the TPM at \"%s\"",
			 t->tcti_conf);
		tpm_fail_rc(e, rc, what);
		free(t);
		return -1;
	}
	rc = Esys_Initialize(&t->esys, t->tcti, NULL);
	if (rc != TSS2_RC_SUCCESS) {
		tpm_fail_rc(e, rc, "ESAPI");
		tpm_close(t);
		return -1;
	}
	if (startup(t, e)) {
		tpm_close(t);
		return -1;
	}
	*out = t;
	return 0;
}

void tpm_close(struct tpm *t)
{
	if (!t)
		return;
	if (t->esys)
		Esys_Finalize(&t->esys);
	if (t->tcti)
		Tss2_TctiLdr_Finalize(&t->tcti);
	free(t);
}

const char *tpm_tcti(const struct tpm *t)
{
	return t->tcti_conf;
}

void tpm_set_unseal_hook(struct tpm *t, void (*fn)(struct tpm *t, void *ctx),
			 void *ctx)
{
	t->unseal_hook = fn;
	t->unseal_hook_ctx = ctx;
}

void tpm_flush(struct tpm *t, ESYS_TR *h)
{
	if (*h != ESYS_TR_NONE)
		Esys_FlushContext(t->esys, *h);
	*h = ESYS_TR_NONE;
}

void tpm_selection(uint32_t mask, TPML_PCR_SELECTION *sel)
{
	memset(sel, 0, sizeof(*sel));
	sel->count = 1;
	sel->pcrSelections[0].hash = TPM2_ALG_SHA256;
	sel->pcrSelections[0].sizeofSelect = 3;
	for (unsigned int i = 0; i < TPM_PCR_COUNT; i++)
		if (mask & (1u << i))
			sel->pcrSelections[0].pcrSelect[i / 8] |=
				(uint8_t)(1u << (i % 8));
}

int tpm_primary(struct tpm *t, ESYS_TR *primary, struct tpm_err *e)
{
	/* TCG's storage root key template (ECC P-256, AES-128-CFB). */
	const TPM2B_PUBLIC tmpl = {
		.publicArea = {
			.type = TPM2_ALG_ECC,
			.nameAlg = TPM2_ALG_SHA256,
			.objectAttributes =
				TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
				TPMA_OBJECT_SENSITIVEDATAORIGIN |
				TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_NODA |
				TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT,
			.parameters.eccDetail = {
				.symmetric = { .algorithm = TPM2_ALG_AES,
					       .keyBits.aes = 128,
					       .mode.aes = TPM2_ALG_CFB },
				.scheme.scheme = TPM2_ALG_NULL,
				.curveID = TPM2_ECC_NIST_P256,
				.kdf.scheme = TPM2_ALG_NULL,
			},
			.unique.ecc = { .x.size = 32, .y.size = 32 },
		},
	};
	const TPM2B_SENSITIVE_CREATE none = { 0 };
	const TPM2B_DATA outside = { 0 };
	const TPML_PCR_SELECTION nopcr = { 0 };
	TSS2_RC rc;

	rc = Esys_CreatePrimary(t->esys, ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD,
				ESYS_TR_NONE, ESYS_TR_NONE, &none, &tmpl,
				&outside, &nopcr, primary, NULL, NULL, NULL,
				NULL);
	if (rc != TSS2_RC_SUCCESS) {
		*primary = ESYS_TR_NONE;
		return tpm_fail_rc(
			e, rc, "creating the owner hierarchy's storage key");
	}
	return 0;
}
