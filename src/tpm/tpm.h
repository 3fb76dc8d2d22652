/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Bulkhead's TPM 2.0 layer (docs/measured-launch.md, "TPM"), over tpm2-tss:
 * the TCTI loader opens the TPM (/dev/tpmrm0, or a TCTI string such as
 * "swtpm:host=127.0.0.1,port=2321"), ESAPI talks to it.
 *
 *   - PCRs: read and extend, SHA-256 bank only;
 *   - sealing: a 32-byte secret in a keyed-hash object under the owner
 *     hierarchy's storage primary, released only by a policy session
 *     whose PolicyPCR matches the values it was sealed to (the object has
 *     adminWithPolicy and no userWithAuth: no password opens it), to the
 *     current values or to given (predicted) ones;
 *   - an NV counter (TPMA_NV_COUNTER), the config store's rollback anchor.
 *
 * Every transient object and session an operation creates is flushed
 * before it returns, whatever the outcome. The unsealed secret crosses
 * the bus encrypted (a session salted to the primary key).
 *
 * Every function that can fail returns 0 or -1 with e filled in; e->status
 * says what kind of failure it is, e->msg says it for people.
 */
#ifndef BH_TPM_TPM_H
#define BH_TPM_TPM_H

#include <stddef.h>
#include <stdint.h>

#define TPM_SHA256_BYTES 32u
#define TPM_PCR_COUNT 24u /* PC Client: PCRs 0..23 */
#define TPM_SECRET_BYTES 32u
#define TPM_DEVICE_DEFAULT "/dev/tpmrm0"
#define TPM_SPEC_MAX 256u /* bytes in a TCTI configuration string */

enum tpm_status {
	BH_TPM_OK,
	BH_TPM_E_NONE, /* no TPM: "none", or none found */
	BH_TPM_E_INVAL, /* an argument or a sealed blob is not valid */
	BH_TPM_E_NOMEM,
	BH_TPM_E_IO, /* the TPM cannot be reached or answered badly */
	BH_TPM_E_MEASUREMENT, /* sealed to other PCR values */
	BH_TPM_E_PCR_CHANGED, /* PCRs changed under the operation, twice */
	BH_TPM_E_LOCKOUT, /* dictionary-attack lockout */
	BH_TPM_E_AUTH, /* an authorization (e.g. the owner's) failed */
	BH_TPM_E_NV_MISSING, /* no such NV index */
	BH_TPM_E_NV_OTHER, /* the NV index is there but no counter of ours */
	BH_TPM_E_FAILED, /* any other error the TPM reported */
};

struct tpm_err {
	enum tpm_status status;
	uint32_t rc; /* the TSS2_RC behind it, 0 if none */
	char msg[512];
};

/* "ok", "no-tpm", "invalid", ... : a stable word per status. */
const char *tpm_status_name(enum tpm_status s);

struct tpm;

/*
 * What a TPM setting says (pure): NULL, "" or "auto": TPM_DEVICE_DEFAULT
 * if it exists, else no TPM; "none": no TPM; anything else a TCTI
 * configuration string, NAME[:CONF], NAME one of device, swtpm, mssim,
 * tabrmd, printable ASCII, at most TPM_SPEC_MAX bytes.
 */
enum tpm_spec_kind { TPM_SPEC_AUTO, TPM_SPEC_NONE, TPM_SPEC_TCTI };
int tpm_spec_parse(const char *spec, enum tpm_spec_kind *kind,
		   struct tpm_err *e);

/*
 * Opens the TPM spec names and starts it if nobody has (TPM2_Startup,
 * CLEAR; a started TPM is fine). BH_TPM_E_NONE for "none", or "auto"
 * without TPM_DEVICE_DEFAULT.
 */
int tpm_open(const char *spec, struct tpm **out, struct tpm_err *e);
void tpm_close(struct tpm *t); /* NULL ignored */
/* The TCTI configuration in use, e.g. "device:/dev/tpmrm0". */
const char *tpm_tcti(const struct tpm *t);

int tpm_pcr_read(struct tpm *t, unsigned int pcr,
		 uint8_t value[TPM_SHA256_BYTES], struct tpm_err *e);
int tpm_pcr_extend(struct tpm *t, unsigned int pcr,
		   const uint8_t digest[TPM_SHA256_BYTES], struct tpm_err *e);

/* A set of SHA-256 PCRs (bit i: PCR i) and a value for each. */
struct tpm_pcr_values {
	uint32_t mask;
	uint8_t value[TPM_PCR_COUNT][TPM_SHA256_BYTES];
};

/* Reads every PCR in v->mask into v->value. */
int tpm_pcr_read_set(struct tpm *t, struct tpm_pcr_values *v,
		     struct tpm_err *e);

/*
 * Pure. The PCR after extending start with each of n digests in order,
 * pcr = SHA-256(pcr || digest): what a list of measurements produces
 * (start all zeros for a PCR since reset). 0, or -1 if OpenSSL failed.
 */
int tpm_pcr_chain(const uint8_t start[TPM_SHA256_BYTES],
		  const uint8_t (*digests)[TPM_SHA256_BYTES], size_t n,
		  uint8_t out[TPM_SHA256_BYTES]);

/*
 * Pure. The policy digest of one TPM2_PolicyPCR over v (from a zero
 * policy): SHA-256(zeros || TPM_CC_PolicyPCR || TPML_PCR_SELECTION ||
 * SHA-256(the values in PCR order)). v->mask must be non-empty.
 */
int tpm_policy_pcr(const struct tpm_pcr_values *v,
		   uint8_t policy[TPM_SHA256_BYTES]);

/*
 * Seals secret to the PCRs of mask at their current values (seal) or
 * to v's values (seal_to: forward sealing to predicted values). *blob,
 * malloc'd, is what unseal needs: the public and private parts and the
 * values sealed to (for the message when they differ); at most
 * TPM_BLOB_MAX bytes.
 */
#define TPM_BLOB_MAX 4096u
int tpm_seal(struct tpm *t, uint32_t mask,
	     const uint8_t secret[TPM_SECRET_BYTES], uint8_t **blob,
	     size_t *len, struct tpm_err *e);
int tpm_seal_to(struct tpm *t, const struct tpm_pcr_values *v,
		const uint8_t secret[TPM_SECRET_BYTES], uint8_t **blob,
		size_t *len, struct tpm_err *e);

/*
 * Unseals blob into secret. BH_TPM_E_MEASUREMENT when the PCRs are not
 * the values sealed to (the message names each PCR that differs, with
 * both values); a TPM_RC_PCR_CHANGED (a PCR extended between the policy
 * and the unseal) is retried once. On failure secret holds no key bytes.
 */
int tpm_unseal(struct tpm *t, const uint8_t *blob, size_t len,
	       uint8_t secret[TPM_SECRET_BYTES], struct tpm_err *e);

/* The PCR set and values a blob was sealed to (pure: no TPM needed). */
int tpm_blob_pcrs(const uint8_t *blob, size_t len, struct tpm_pcr_values *v,
		  struct tpm_err *e);

/*
 * NV monotonic counter at index (owner range 0x01000000..0x013fffff):
 * define creates it if missing (TPMA_NV_COUNTER, owner-authorized, no DA)
 * and increments it once so it reads (a new counter starts at the highest
 * value any counter of the TPM had); an index that exists as a counter is
 * left alone. read gives the value; increment adds one (*after, if not
 * NULL, gets the new value).
 */
#define TPM_NV_INDEX_FIRST 0x01000000u
#define TPM_NV_INDEX_LAST 0x013fffffu
int tpm_counter_define(struct tpm *t, uint32_t index, struct tpm_err *e);
int tpm_counter_read(struct tpm *t, uint32_t index, uint64_t *value,
		     struct tpm_err *e);
int tpm_counter_increment(struct tpm *t, uint32_t index, uint64_t *after,
			  struct tpm_err *e);

struct tpm_info {
	char manufacturer[5]; /* up to four ASCII characters: "IBM", "INTC" */
	uint32_t transient; /* transient objects loaded now */
	uint32_t sessions; /* sessions loaded or saved now */
	uint32_t lockout_counter; /* failed authorizations counted */
	uint32_t max_auth_fail; /* failures before lockout */
	uint32_t lockout_interval; /* seconds until one failure is forgotten */
	int in_lockout; /* TPMA_PERMANENT inLockout */
};
int tpm_get_info(struct tpm *t, struct tpm_info *info, struct tpm_err *e);

/*
 * For tests: called inside tpm_unseal between the policy and the unseal,
 * on each attempt (e.g. to extend a PCR and so provoke
 * TPM_RC_PCR_CHANGED). NULL removes it.
 */
void tpm_set_unseal_hook(struct tpm *t, void (*fn)(struct tpm *t, void *ctx),
			 void *ctx);

#endif
