/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * bulkheadd's measurements of the host (docs/measured-launch.md, "Host
 * measurements"): at start, before the config store is opened, the
 * programs it runs, its settings and the policy files
 * (host_measure.h), logged in <state>/host.eventlog and, with a TPM,
 * extended into PCR MEASURE_HOST_PCR.
 *
 * The log holds everything extended into that PCR since the TPM's reset:
 * a bulkheadd restarted with the same measurements extends nothing (the
 * log already ends with them); one restarted with a changed component
 * extends the new set and appends it, as the PCR cannot go back.
 */
#ifndef BH_DAEMON_HOST_LAUNCH_H
#define BH_DAEMON_HOST_LAUNCH_H

#include <stddef.h>
#include <stdint.h>

struct bhd;
struct api_client;
struct json_object;
struct measure_log;

/* Measures, logs and extends. 0, or -1 (logged): bulkheadd stops. */
int host_launch_measure(struct bhd *d);

/*
 * The daemon's settings as measured (canonical JSON, malloc'd). 0 or
 * -ENOMEM.
 */
int host_config_canonical(const struct bhd *d, char **text, size_t *len);

/*
 * host.measure {eventlog, compare}: the host's log, its replay, the TPM's
 * PCR. compare: true with a host log as fds[0] (one recorded earlier):
 * "differs" names the first component this start measured differently
 * (host_measure_compare()), null if none.
 */
void api_host_measure(struct bhd *d, struct api_client *c, int64_t id,
		      struct json_object *req, const int *fds, size_t nfds);

#endif
