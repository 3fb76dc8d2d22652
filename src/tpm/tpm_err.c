// SPDX-License-Identifier: GPL-2.0-only
/* What a TSS2_RC means for Bulkhead's callers, and its message. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <tss2/tss2_rc.h>

#include "tpm/tpm_priv.h"

const char *tpm_status_name(enum tpm_status s)
{
	static const char *const names[] = {
		[BH_TPM_OK] = "ok",
		[BH_TPM_E_NONE] = "no-tpm",
		[BH_TPM_E_INVAL] = "invalid",
		[BH_TPM_E_NOMEM] = "no-memory",
		[BH_TPM_E_IO] = "io",
		[BH_TPM_E_MEASUREMENT] = "measurement-changed",
		[BH_TPM_E_PCR_CHANGED] = "pcr-changed",
		[BH_TPM_E_LOCKOUT] = "lockout",
		[BH_TPM_E_AUTH] = "auth",
		[BH_TPM_E_NV_MISSING] = "nv-missing",
		[BH_TPM_E_NV_OTHER] = "nv-other",
		[BH_TPM_E_FAILED] = "failed",
	};

	return (unsigned int)s < sizeof(names) / sizeof(names[0]) ? names[s] :
								    "unknown";
}

int tpm_fail(struct tpm_err *e, enum tpm_status s, const char *fmt, ...)
{
	va_list ap;

	e->status = s;
	e->rc = 0;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -1;
}

/* A TPM's own code; tabrmd passes them on in a layer of its own. */
static bool from_tpm(TSS2_RC *rc)
{
	if ((*rc & TSS2_RC_LAYER_MASK) == TSS2_RESMGR_TPM_RC_LAYER)
		*rc &= ~TSS2_RC_LAYER_MASK;
	return (*rc & TSS2_RC_LAYER_MASK) == TSS2_TPM_RC_LAYER;
}

TSS2_RC tpm_rc_base(TSS2_RC rc)
{
	if (!from_tpm(&rc))
		return rc;
	/* Format one carries a handle, session or parameter number in bits
	 * 6 and 8-11; format zero has none. */
	if (rc & TPM2_RC_FMT1)
		return rc & (TPM2_RC_FMT1 | 0x3f);
	return rc & 0xfff;
}

enum tpm_status tpm_rc_status(TSS2_RC rc)
{
	if (rc == TSS2_RC_SUCCESS)
		return BH_TPM_OK;
	if (!from_tpm(&rc)) {
		/* The TSS itself: memory, else the transport (TCTI). */
		if ((rc & TSS2_RC_LAYER_MASK) == TSS2_ESAPI_RC_LAYER &&
		    (rc & ~TSS2_RC_LAYER_MASK) == TSS2_BASE_RC_MEMORY)
			return BH_TPM_E_NOMEM;
		return BH_TPM_E_IO;
	}
	switch (tpm_rc_base(rc)) {
	case TPM2_RC_POLICY_FAIL:
		return BH_TPM_E_MEASUREMENT;
	case TPM2_RC_PCR_CHANGED:
		return BH_TPM_E_PCR_CHANGED;
	case TPM2_RC_LOCKOUT:
		return BH_TPM_E_LOCKOUT;
	case TPM2_RC_BAD_AUTH:
	case TPM2_RC_AUTH_FAIL:
	case TPM2_RC_AUTH_MISSING:
	case TPM2_RC_AUTH_UNAVAILABLE:
		return BH_TPM_E_AUTH;
	default:
		return BH_TPM_E_FAILED;
	}
}

static const char *meaning(TSS2_RC rc, enum tpm_status s)
{
	switch (s) {
	case BH_TPM_E_MEASUREMENT:
		return "the PCRs are not the values this secret was sealed to: a measurement changed";
	case BH_TPM_E_PCR_CHANGED:
		return "a PCR was extended while the TPM checked the policy";
	case BH_TPM_E_LOCKOUT:
		return "the TPM is in dictionary-attack lockout after too many failed authorizations; it refuses until its lockout interval has passed, or until the holder of the lockout password clears it (tpm2_dictionarylockout --clear-lockout)";
	case BH_TPM_E_AUTH:
		if (tpm_rc_base(rc) == TPM2_RC_AUTH_FAIL)
			return "authorization failed, and the TPM counted it towards its dictionary-attack lockout: Bulkhead uses the owner hierarchy with an empty password, and this TPM's owner hierarchy has one";
		return "authorization failed: Bulkhead uses the owner hierarchy with an empty password, and this TPM's owner hierarchy has one";
	case BH_TPM_E_IO:
		return "cannot talk to the TPM";
	case BH_TPM_E_NOMEM:
		return "out of memory";
	default:
		if (tpm_rc_base(rc) == TPM2_RC_OBJECT_MEMORY ||
		    tpm_rc_base(rc) == TPM2_RC_SESSION_MEMORY)
			return "the TPM has no room left for another object or session: a program leaves them loaded (tpm2_getcap handles-transient; tpm2_flushcontext -t)";
		return "the TPM refused";
	}
}

int tpm_fail_rc(struct tpm_err *e, TSS2_RC rc, const char *what)
{
	enum tpm_status s = tpm_rc_status(rc);

	e->status = s == BH_TPM_OK ? BH_TPM_E_FAILED : s;
	e->rc = rc;
	snprintf(e->msg, sizeof(e->msg), "%s: %s (TPM rc 0x%x: %s)", what,
		 meaning(rc, e->status), (unsigned int)rc, Tss2_RC_Decode(rc));
	return -1;
}
