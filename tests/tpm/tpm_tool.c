// SPDX-License-Identifier: GPL-2.0-only
/*
 * bh-tpm-tool: drives the TPM layer (src/tpm) from the integration tests
 * (tests/integration/test_tpm.py), against swtpm. Not installed.
 *
 *   bh-tpm-tool [--tcti SPEC] COMMAND ARGS
 *
 * SPEC as bulkheadd's --tpm (default $BULKHEAD_TPM). Exit status: 0, or
 * 10 + the enum tpm_status of the failure (message on standard error,
 * after the status name), or 2 for a usage error.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tpm/tpm.h"
#include "tpm/tpm_store.h"
#include "util/hex.h"

#define HEX32 (2 * TPM_SHA256_BYTES + 1)

static int usage(void)
{
	fputs("usage: bh-tpm-tool [--tcti SPEC] seal PCRS SECRET BLOB | seal-to BLOB SECRET PCR=HEX... |\n"
	      "  unseal BLOB | unseal-race BLOB PCR TIMES | blob-pcrs BLOB | pcr-read PCR |\n"
	      "  pcr-extend PCR HEX | chain START DIGEST... | policy PCR=HEX... |\n"
	      "  cycles N PCRS | info | counter-define INDEX | counter-read INDEX |\n"
	      "  counter-inc INDEX | anchor-advance INDEX VALUE\n",
	      stderr);
	return 2;
}

static int failed(const struct tpm_err *e)
{
	fprintf(stderr, "%s: %s\n", tpm_status_name(e->status), e->msg);
	return 10 + (int)e->status;
}

static int hex32(const char *s, uint8_t out[TPM_SHA256_BYTES])
{
	return strlen(s) == 2 * TPM_SHA256_BYTES &&
			       hex_decode(s, out, TPM_SHA256_BYTES) ==
				       TPM_SHA256_BYTES ?
		       0 :
		       -1;
}

/* "13" or "13,23" */
static int parse_mask(const char *s, uint32_t *mask)
{
	char *end;

	*mask = 0;
	do {
		unsigned long p = strtoul(s, &end, 10);

		if (end == s || p >= TPM_PCR_COUNT)
			return -1;
		*mask |= 1u << p;
		s = end + 1;
	} while (*end == ',');
	return *end ? -1 : 0;
}

/* PCR=HEX... into v */
static int parse_values(int n, char **args, struct tpm_pcr_values *v)
{
	memset(v, 0, sizeof(*v));
	for (int i = 0; i < n; i++) {
		char *eq = strchr(args[i], '=');
		unsigned long p;

		if (!eq)
			return -1;
		*eq = '\0';
		p = strtoul(args[i], NULL, 10);
		if (p >= TPM_PCR_COUNT || hex32(eq + 1, v->value[p]))
			return -1;
		v->mask |= 1u << p;
	}
	return v->mask ? 0 : -1;
}

static int write_file(const char *path, const uint8_t *b, size_t n)
{
	FILE *f = fopen(path, "wb");
	int ok = f && fwrite(b, 1, n, f) == n;

	if (f && fclose(f))
		ok = 0;
	if (!ok)
		fprintf(stderr, "cannot write %s: %s\n", path, strerror(errno));
	return ok ? 0 : 1;
}

static int read_file(const char *path, uint8_t *b, size_t cap, size_t *n)
{
	FILE *f = fopen(path, "rb");

	if (!f) {
		fprintf(stderr, "cannot read %s: %s\n", path, strerror(errno));
		return 1;
	}
	*n = fread(b, 1, cap, f);
	fclose(f);
	return 0;
}

static void print32(const uint8_t v[TPM_SHA256_BYTES])
{
	char hex[HEX32];

	hex_encode(v, TPM_SHA256_BYTES, hex);
	printf("%s\n", hex);
}

struct race {
	unsigned int pcr;
	int times; /* attempts to race */
	int done;
};

/* Between PolicyPCR and Unseal: extend a PCR, so the TPM says
 * TPM_RC_PCR_CHANGED and the layer must try again. */
static void race_hook(struct tpm *t, void *ctx)
{
	struct race *r = ctx;
	uint8_t d[TPM_SHA256_BYTES] = { 0x42 };
	struct tpm_err e;

	if (r->done < r->times && !tpm_pcr_extend(t, r->pcr, d, &e))
		r->done++;
}

static int cmd_unseal(struct tpm *t, const char *path, struct race *race)
{
	uint8_t blob[TPM_BLOB_MAX], secret[TPM_SECRET_BYTES];
	struct tpm_err e;
	size_t n;

	if (read_file(path, blob, sizeof(blob), &n))
		return 1;
	if (race)
		tpm_set_unseal_hook(t, race_hook, race);
	if (tpm_unseal(t, blob, n, secret, &e))
		return failed(&e);
	print32(secret);
	if (race)
		printf("raced %d\n", race->done);
	return 0;
}

static int cmd_cycles(struct tpm *t, long count, uint32_t mask)
{
	uint8_t secret[TPM_SECRET_BYTES], back[TPM_SECRET_BYTES], *blob;
	struct tpm_info info;
	struct tpm_err e;
	size_t n;

	for (long i = 0; i < count; i++) {
		memset(secret, (int)i, sizeof(secret));
		if (tpm_seal(t, mask, secret, &blob, &n, &e))
			return failed(&e);
		if (tpm_unseal(t, blob, n, back, &e)) {
			free(blob);
			return failed(&e);
		}
		/* Half the unseals fail on purpose: a corrupt private part
		 * must flush as well as a good one. */
		blob[n - 5] ^= 1;
		if (!tpm_unseal(t, blob, n, back, &e)) {
			fprintf(stderr, "a corrupted blob unsealed\n");
			free(blob);
			return 1;
		}
		free(blob);
		if (tpm_seal(t, mask, secret, &blob, &n, &e))
			return failed(&e);
		free(blob);
	}
	if (tpm_get_info(t, &info, &e))
		return failed(&e);
	printf("transient %u\nsessions %u\n", info.transient, info.sessions);
	return 0;
}

static int cmd_info(struct tpm *t)
{
	struct tpm_info i;
	struct tpm_err e;

	if (tpm_get_info(t, &i, &e))
		return failed(&e);
	printf("tcti %s\nmanufacturer %s\ntransient %u\nsessions %u\n"
	       "lockout_counter %u\nmax_auth_fail %u\nlockout_interval %u\n"
	       "in_lockout %d\n",
	       tpm_tcti(t), i.manufacturer, i.transient, i.sessions,
	       i.lockout_counter, i.max_auth_fail, i.lockout_interval,
	       i.in_lockout);
	return 0;
}

/* Commands that need no TPM. */
static int pure(int argc, char **argv, int *rc)
{
	uint8_t start[TPM_SHA256_BYTES], out[TPM_SHA256_BYTES];
	struct tpm_pcr_values v;

	if (!strcmp(argv[0], "chain") && argc >= 2) {
		uint8_t(*d)[TPM_SHA256_BYTES] =
			calloc((size_t)argc, sizeof(*d));

		*rc = d && !hex32(argv[1], start) ? 0 : usage();
		for (int i = 2; !*rc && i < argc; i++)
			if (hex32(argv[i], d[i - 2]))
				*rc = usage();
		if (!*rc && !tpm_pcr_chain(start, (const void *)d,
					   (size_t)argc - 2, out))
			print32(out);
		free(d);
		return 1;
	}
	if (!strcmp(argv[0], "policy") && argc >= 2) {
		*rc = parse_values(argc - 1, argv + 1, &v) ? usage() : 0;
		if (!*rc && !tpm_policy_pcr(&v, out))
			print32(out);
		return 1;
	}
	if (!strcmp(argv[0], "blob-pcrs") && argc == 2) {
		uint8_t blob[TPM_BLOB_MAX];
		struct tpm_err e;
		size_t n;

		*rc = read_file(argv[1], blob, sizeof(blob), &n);
		if (!*rc && tpm_blob_pcrs(blob, n, &v, &e))
			*rc = failed(&e);
		for (unsigned int i = 0; !*rc && i < TPM_PCR_COUNT; i++)
			if (v.mask & (1u << i)) {
				printf("%u=", i);
				print32(v.value[i]);
			}
		return 1;
	}
	return 0;
}

static int run(struct tpm *t, int argc, char **argv)
{
	uint8_t secret[TPM_SECRET_BYTES], d[TPM_SHA256_BYTES], *blob;
	const char *c = argv[0];
	struct tpm_pcr_values v;
	struct tpm_err e;
	uint32_t mask;
	uint64_t value;
	size_t n;
	int r;

	if (!strcmp(c, "seal") && argc == 4) {
		if (parse_mask(argv[1], &mask) || hex32(argv[2], secret))
			return usage();
		if (tpm_seal(t, mask, secret, &blob, &n, &e))
			return failed(&e);
		r = write_file(argv[3], blob, n);
		free(blob);
		return r;
	}
	if (!strcmp(c, "seal-to") && argc >= 4) {
		if (hex32(argv[2], secret) ||
		    parse_values(argc - 3, argv + 3, &v))
			return usage();
		if (tpm_seal_to(t, &v, secret, &blob, &n, &e))
			return failed(&e);
		r = write_file(argv[1], blob, n);
		free(blob);
		return r;
	}
	if (!strcmp(c, "unseal") && argc == 2)
		return cmd_unseal(t, argv[1], NULL);
	if (!strcmp(c, "unseal-race") && argc == 4) {
		struct race race = { .pcr = (unsigned int)atoi(argv[2]),
				     .times = atoi(argv[3]) };

		return cmd_unseal(t, argv[1], &race);
	}
	if (!strcmp(c, "pcr-read") && argc == 2) {
		if (tpm_pcr_read(t, (unsigned int)atoi(argv[1]), d, &e))
			return failed(&e);
		print32(d);
		return 0;
	}
	if (!strcmp(c, "pcr-extend") && argc == 3) {
		if (hex32(argv[2], d))
			return usage();
		return tpm_pcr_extend(t, (unsigned int)atoi(argv[1]), d, &e) ?
			       failed(&e) :
			       0;
	}
	if (!strcmp(c, "cycles") && argc == 3) {
		if (parse_mask(argv[2], &mask))
			return usage();
		return cmd_cycles(t, atol(argv[1]), mask);
	}
	if (!strcmp(c, "info") && argc == 1)
		return cmd_info(t);
	if (!strncmp(c, "counter-", 8) && argc == 2) {
		uint32_t index = (uint32_t)strtoul(argv[1], NULL, 0);

		if (!strcmp(c, "counter-define"))
			r = tpm_counter_define(t, index, &e);
		else if (!strcmp(c, "counter-read"))
			r = tpm_counter_read(t, index, &value, &e);
		else if (!strcmp(c, "counter-inc"))
			r = tpm_counter_increment(t, index, &value, &e);
		else
			return usage();
		if (r)
			return failed(&e);
		if (strcmp(c, "counter-define"))
			printf("%llu\n", (unsigned long long)value);
		return 0;
	}
	if (!strcmp(c, "anchor-advance") && argc == 3) {
		struct tpm_anchor_ctx ctx = {
			.tpm = t,
			.index = (uint32_t)strtoul(argv[1], NULL, 0),
		};
		struct store_anchor a;

		tpm_store_anchor(&ctx, &a);
		r = a.advance(a.ctx, strtoull(argv[2], NULL, 0));
		if (!r)
			r = a.read(a.ctx, &value);
		if (r) {
			fprintf(stderr, "%s (%s)\n", ctx.last.msg,
				strerror(-r));
			return 1;
		}
		printf("%llu\n", (unsigned long long)value);
		return 0;
	}
	return usage();
}

int main(int argc, char **argv)
{
	const char *spec = getenv("BULKHEAD_TPM");
	struct tpm *t;
	struct tpm_err e;
	int rc;

	if (argc > 2 && !strcmp(argv[1], "--tcti")) {
		spec = argv[2];
		argc -= 2;
		argv += 2;
	}
	if (argc < 2)
		return usage();
	if (pure(argc - 1, argv + 1, &rc))
		return rc;
	if (tpm_open(spec, &t, &e))
		return failed(&e);
	rc = run(t, argc - 1, argv + 1);
	tpm_close(t);
	return rc;
}
