// SPDX-License-Identifier: GPL-2.0-only
#include "toolstack/daemon/tpm_use.h"

#include <json-c/json.h>
#include <stdio.h>

#include "toolstack/daemon/daemon.h"
#include "tpm/tpm.h"
#include "util/hex.h"
#include "util/log.h"

#define HEX_LEN (2 * MEASURE_SHA256_BYTES + 1)

int bhd_tpm_open(struct bhd *d)
{
	struct tpm_err e;

	if (!tpm_open(d->tpm_spec, &d->tpm, &e)) {
		bh_info("TPM: %s; host measurements extend PCR %u, VMs' PCR %u",
			tpm_tcti(d->tpm), MEASURE_HOST_PCR, MEASURE_LOG_PCR);
		return 0;
	}
	if (e.status == BH_TPM_E_NONE) {
		snprintf(d->tpm_none, sizeof(d->tpm_none), "%s", e.msg);
		bh_info("%s: measurements are logged, not extended into PCRs",
			e.msg);
		return 0;
	}
	bh_err("TPM (--tpm %s): %s", d->tpm_spec ? d->tpm_spec : "auto", e.msg);
	return -1;
}

int bhd_tpm_extend(struct bhd *d, const struct measure_log *log, size_t from,
		   size_t to, char *err, size_t errlen)
{
	struct tpm_err e;

	for (size_t i = from; d->tpm && i < to && i < log->nevents; i++) {
		const struct measure_event *ev = &log->events[i];

		if (tpm_pcr_extend(d->tpm, measure_what_pcr(ev->what),
				   ev->sha256, &e)) {
			snprintf(err, errlen, "TPM: %s %s: %s",
				 measure_what_name(ev->what), ev->detail,
				 e.msg);
			return -1;
		}
	}
	return 0;
}

static struct json_object *pcr_json(struct tpm *t, unsigned int pcr)
{
	uint8_t v[MEASURE_SHA256_BYTES];
	char hex[HEX_LEN];
	struct tpm_err e;

	if (tpm_pcr_read(t, pcr, v, &e))
		return json_object_new_string(e.msg);
	hex_encode(v, sizeof(v), hex);
	return json_object_new_string(hex);
}

void api_tpm_status(struct bhd *d, struct api_client *c, int64_t id,
		    struct json_object *req)
{
	struct json_object *o, *pcrs;
	struct tpm_info info;
	struct tpm_err e;
	char key[8];

	(void)req;
	if (!d->tpm) {
		api_reply_err(
			d, c, id, BHD_ERR_STATE,
			"%s (bulkheadd --tpm): measurements are logged, not extended into PCRs, and nothing can be sealed",
			d->tpm_none[0] ? d->tpm_none : "no TPM");
		return;
	}
	if (tpm_get_info(d->tpm, &info, &e)) {
		api_reply_err(d, c, id, BHD_ERR_FAILED, "TPM: %s", e.msg);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "tcti",
			       json_object_new_string(tpm_tcti(d->tpm)));
	json_object_object_add(o, "manufacturer",
			       json_object_new_string(info.manufacturer));
	pcrs = json_object_new_object();
	snprintf(key, sizeof(key), "%u", MEASURE_HOST_PCR);
	json_object_object_add(pcrs, key, pcr_json(d->tpm, MEASURE_HOST_PCR));
	snprintf(key, sizeof(key), "%u", MEASURE_LOG_PCR);
	json_object_object_add(pcrs, key, pcr_json(d->tpm, MEASURE_LOG_PCR));
	json_object_object_add(o, "pcrs", pcrs);
	json_object_object_add(o, "host_pcr",
			       json_object_new_int(MEASURE_HOST_PCR));
	json_object_object_add(o, "vm_pcr",
			       json_object_new_int(MEASURE_LOG_PCR));
	json_object_object_add(o, "in_lockout",
			       json_object_new_boolean(info.in_lockout));
	json_object_object_add(o, "lockout_counter",
			       json_object_new_int64(info.lockout_counter));
	json_object_object_add(o, "max_auth_fail",
			       json_object_new_int64(info.max_auth_fail));
	json_object_object_add(o, "lockout_interval",
			       json_object_new_int64(info.lockout_interval));
	json_object_object_add(o, "transient",
			       json_object_new_int64(info.transient));
	json_object_object_add(o, "sessions",
			       json_object_new_int64(info.sessions));
	api_reply(d, c, id, o, NULL, 0);
}
