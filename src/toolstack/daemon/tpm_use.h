/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * bulkheadd's TPM (docs/measured-launch.md, "TPM"): opened at start from
 * --tpm / $BULKHEAD_TPM, used to extend the host's measurements
 * (host_launch.h) and every VM's (measure_launch.h) into their PCRs.
 */
#ifndef BH_DAEMON_TPM_USE_H
#define BH_DAEMON_TPM_USE_H

#include <stddef.h>
#include <stdint.h>

#include "toolstack/measure_log.h"

struct bhd;
struct api_client;
struct json_object;

/*
 * Opens d->tpm_spec into d->tpm. No TPM ("none", or "auto" without
 * /dev/tpmrm0) is fine: d->tpm stays NULL and the logs are the record. A
 * TPM that is set or present but does not work is not: -1, logged.
 */
int bhd_tpm_open(struct bhd *d);

/* Extends events[from, to) of log into each one's PCR. 0, or -1 with err. */
int bhd_tpm_extend(struct bhd *d, const struct measure_log *log, size_t from,
		   size_t to, char *err, size_t errlen);

/* tpm.status: the TPM in use, its PCRs of ours, lockout and handles. */
void api_tpm_status(struct bhd *d, struct api_client *c, int64_t id,
		    struct json_object *req);

#endif
