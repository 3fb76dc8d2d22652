// SPDX-License-Identifier: GPL-2.0-only
/*
 * The TPM layer's pure parts (src/tpm): PCR prediction, the PolicyPCR
 * digest (vectors computed with Python's hashlib from TPM 2.0 Part 3; the
 * integration test checks the same against tpm2_createpolicy and the
 * TPM's own trial session), the TPM setting, the error mapping and the
 * sealed blob's decoder.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tpm/tpm_priv.h"
#include "tpm/tpm_store.h"
#include "util/hex.h"

static void unhex(const char *s, uint8_t out[32])
{
	assert_int_equal(hex_decode(s, out, 32), 32);
}

static void test_chain(void **state)
{
	uint8_t zero[32] = { 0 }, d[2][32], out[32], want[32], mid[32];

	(void)state;
	memset(d[0], 1, 32);
	memset(d[1], 2, 32);
	unhex("a7f2fad943905535b10ccf63c832802ed84eaffb15e4fb6bee86a817c35eb833",
	      want);
	assert_int_equal(tpm_pcr_chain(zero, (const void *)d, 2, out), 0);
	assert_memory_equal(out, want, 32);
	/* Extending in two steps is extending once from the middle. */
	assert_int_equal(tpm_pcr_chain(zero, (const void *)d, 1, mid), 0);
	assert_int_equal(tpm_pcr_chain(mid, (const void *)&d[1], 1, out), 0);
	assert_memory_equal(out, want, 32);
	/* Nothing to extend: the start. */
	assert_int_equal(tpm_pcr_chain(mid, (const void *)d, 0, out), 0);
	assert_memory_equal(out, mid, 32);
	/* Order matters. */
	memcpy(d[0], d[1], 32);
	memset(d[1], 1, 32);
	assert_int_equal(tpm_pcr_chain(zero, (const void *)d, 2, out), 0);
	assert_memory_not_equal(out, want, 32);
}

static void test_policy(void **state)
{
	struct tpm_pcr_values v = { .mask = 1u << 13 };
	uint8_t p[32], want[32];

	(void)state;
	unhex("ea07badf162f2c454bdf5aa5e4976b6f7189f2023edfa316fdf58c15d26ec814",
	      want);
	assert_int_equal(tpm_policy_pcr(&v, p), 0);
	assert_memory_equal(p, want, 32);
	/* Two PCRs, the values taken lowest PCR first. */
	v.mask |= 1u << 23;
	memset(v.value[13], 0x11, 32);
	memset(v.value[23], 0x22, 32);
	unhex("437a06921c9c3b7e44033cf9b7356949797d90394e48b1065fbf3cdafbe47f63",
	      want);
	assert_int_equal(tpm_policy_pcr(&v, p), 0);
	assert_memory_equal(p, want, 32);
	/* A PCR's value outside the mask does not count. */
	memset(v.value[5], 0x55, 32);
	assert_int_equal(tpm_policy_pcr(&v, p), 0);
	assert_memory_equal(p, want, 32);
	/* Empty, or past PCR 23: refused. */
	v.mask = 0;
	assert_int_equal(tpm_policy_pcr(&v, p), -1);
	v.mask = 1u << 24;
	assert_int_equal(tpm_policy_pcr(&v, p), -1);
}

static void test_spec(void **state)
{
	enum tpm_spec_kind k;
	struct tpm_err e;
	char longer[TPM_SPEC_MAX + 2];

	(void)state;
	assert_int_equal(tpm_spec_parse(NULL, &k, &e), 0);
	assert_int_equal(k, TPM_SPEC_AUTO);
	assert_int_equal(tpm_spec_parse("auto", &k, &e), 0);
	assert_int_equal(k, TPM_SPEC_AUTO);
	assert_int_equal(tpm_spec_parse("none", &k, &e), 0);
	assert_int_equal(k, TPM_SPEC_NONE);
	assert_int_equal(
		tpm_spec_parse("swtpm:host=127.0.0.1,port=2321", &k, &e), 0);
	assert_int_equal(k, TPM_SPEC_TCTI);
	assert_int_equal(tpm_spec_parse("device:/dev/tpmrm0", &k, &e), 0);
	assert_int_equal(tpm_spec_parse("mssim", &k, &e), 0);
	assert_int_equal(tpm_spec_parse("tabrmd:bus_type=system", &k, &e), 0);
	assert_int_equal(tpm_spec_parse("swtpmx:port=1", &k, &e), -1);
	assert_int_equal(e.status, BH_TPM_E_INVAL);
	assert_non_null(strstr(e.msg, "not auto, none or a TCTI"));
	assert_int_equal(tpm_spec_parse("/dev/tpm0", &k, &e), -1);
	assert_int_equal(tpm_spec_parse("swtpm:host=a b", &k, &e), -1);
	assert_non_null(strstr(e.msg, "byte 13"));
	memset(longer, 'a', sizeof(longer) - 1);
	memcpy(longer, "swtpm:", 6);
	longer[sizeof(longer) - 1] = '\0';
	assert_int_equal(tpm_spec_parse(longer, &k, &e), -1);
	assert_non_null(strstr(e.msg, "longer than"));
}

static void test_rc(void **state)
{
	struct tpm_err e;

	(void)state;
	assert_int_equal(tpm_rc_status(TSS2_RC_SUCCESS), BH_TPM_OK);
	/* Unseal with a policy session 1 that does not match. */
	assert_int_equal(tpm_rc_status(0x99d), BH_TPM_E_MEASUREMENT);
	assert_int_equal(tpm_rc_base(0x99d), TPM2_RC_POLICY_FAIL);
	assert_int_equal(tpm_rc_status(TPM2_RC_PCR_CHANGED),
			 BH_TPM_E_PCR_CHANGED);
	assert_int_equal(tpm_rc_status(TPM2_RC_LOCKOUT), BH_TPM_E_LOCKOUT);
	/* Owner authorization, session 1: bad auth and the DA kind. */
	assert_int_equal(tpm_rc_status(0x9a2), BH_TPM_E_AUTH);
	assert_int_equal(tpm_rc_status(0x98e), BH_TPM_E_AUTH);
	assert_int_equal(tpm_rc_status(TPM2_RC_NV_DEFINED), BH_TPM_E_FAILED);
	/* tabrmd's layer around a TPM code is the TPM's code. */
	assert_int_equal(tpm_rc_status(TSS2_RESMGR_TPM_RC_LAYER | 0x921),
			 BH_TPM_E_LOCKOUT);
	assert_int_equal(tpm_rc_status(TSS2_TCTI_RC_IO_ERROR), BH_TPM_E_IO);
	assert_int_equal(tpm_rc_status(TSS2_ESYS_RC_MEMORY), BH_TPM_E_NOMEM);
	/* Messages say what to do. */
	tpm_fail_rc(&e, TPM2_RC_LOCKOUT, "unsealing");
	assert_int_equal(e.status, BH_TPM_E_LOCKOUT);
	assert_non_null(strstr(e.msg, "unsealing: "));
	assert_non_null(strstr(e.msg, "dictionary-attack lockout"));
	assert_non_null(strstr(e.msg, "--clear-lockout"));
	tpm_fail_rc(&e, 0x9a2, "creating the key");
	assert_non_null(strstr(e.msg, "owner hierarchy has one"));
	tpm_fail_rc(&e, 0x99d, "unsealing");
	assert_non_null(strstr(e.msg, "a measurement changed"));
	assert_non_null(strstr(e.msg, "0x99d"));
	assert_string_equal(tpm_status_name(BH_TPM_E_MEASUREMENT),
			    "measurement-changed");
	/* What the store's sealer returns for each. */
	assert_int_equal(tpm_status_errno(BH_TPM_E_MEASUREMENT), -EKEYREJECTED);
	assert_int_equal(tpm_status_errno(BH_TPM_E_LOCKOUT), -EBUSY);
	assert_int_equal(tpm_status_errno(BH_TPM_E_AUTH), -EPERM);
	assert_int_equal(tpm_status_errno(BH_TPM_E_NONE), -ENODEV);
}

/* A blob as the sealer would write it for v (the TPM's parts made up). */
static void make_sealed(struct tpm_sealed *s)
{
	memset(s, 0, sizeof(*s));
	s->pcrs.mask = 1u << 13 | 1u << 23;
	memset(s->pcrs.value[13], 0x11, 32);
	memset(s->pcrs.value[23], 0x22, 32);
	s->pub.publicArea.type = TPM2_ALG_KEYEDHASH;
	s->pub.publicArea.nameAlg = TPM2_ALG_SHA256;
	s->pub.publicArea.objectAttributes = TPM_SEALED_ATTRS;
	s->pub.publicArea.parameters.keyedHashDetail.scheme.scheme =
		TPM2_ALG_NULL;
	s->pub.publicArea.unique.keyedHash.size = 32;
	s->pub.publicArea.authPolicy.size = 32;
	assert_int_equal(tpm_policy_pcr(&s->pcrs,
					s->pub.publicArea.authPolicy.buffer),
			 0);
	s->priv.size = 100;
	memset(s->priv.buffer, 0x5a, 100);
}

static void refused(const uint8_t *b, size_t n, const char *want)
{
	struct tpm_sealed back;
	struct tpm_err e;

	assert_int_equal(tpm_blob_decode(b, n, &back, &e), -1);
	assert_int_equal(e.status, BH_TPM_E_INVAL);
	if (!strstr(e.msg, want))
		fail_msg("\"%s\" lacks \"%s\"", e.msg, want);
}

static void test_blob(void **state)
{
	struct tpm_sealed s, back;
	struct tpm_pcr_values v;
	struct tpm_err e;
	uint8_t *b, *c;
	size_t n;

	(void)state;
	make_sealed(&s);
	assert_int_equal(tpm_blob_encode(&s, &b, &n, &e), 0);
	assert_int_equal(tpm_blob_decode(b, n, &back, &e), 0);
	assert_int_equal(back.pcrs.mask, s.pcrs.mask);
	assert_memory_equal(back.pcrs.value[13], s.pcrs.value[13], 32);
	assert_memory_equal(back.pcrs.value[23], s.pcrs.value[23], 32);
	assert_int_equal(back.priv.size, 100);
	assert_memory_equal(back.priv.buffer, s.priv.buffer, 100);
	assert_int_equal(tpm_blob_pcrs(b, n, &v, &e), 0);
	assert_int_equal(v.mask, s.pcrs.mask);

	/* Every truncation, and a byte more. */
	for (size_t k = 0; k < n; k++)
		refused(b, k, "not a Bulkhead sealed blob");
	c = malloc(n + 1);
	memcpy(c, b, n);
	c[n] = 0;
	refused(c, n + 1, "bytes after its end");
	/* A recorded value that is not what the policy was made of. */
	c[9] ^= 1;
	refused(c, n, "policy is not PolicyPCR over the values it records");
	c[9] ^= 1;
	c[0] = 'X';
	refused(c, n, "no \"BHSL\"");
	c[0] = 'B';
	c[4] = 2;
	refused(c, n, "unknown version");
	free(c);
	free(b);

	/* userWithAuth would let the empty password open it: refused. */
	make_sealed(&s);
	s.pub.publicArea.objectAttributes |= TPMA_OBJECT_USERWITHAUTH;
	assert_int_equal(tpm_blob_encode(&s, &b, &n, &e), 0);
	refused(b, n, "not a policy-only sealed object");
	free(b);
	make_sealed(&s);
	s.pcrs.mask = 0;
	assert_int_equal(tpm_blob_encode(&s, &b, &n, &e), 0);
	refused(b, n, "PCR set is empty");
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chain), cmocka_unit_test(test_policy),
		cmocka_unit_test(test_spec),  cmocka_unit_test(test_rc),
		cmocka_unit_test(test_blob),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
