/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What bulkheadd measures of the host at its start, before the config
 * store is opened (docs/measured-launch.md, "Host measurements"), as a
 * measurement log of its own (measure_log.h, PCR MEASURE_HOST_PCR):
 *
 *   1. bulkheadd      itself, /proc/self/exe
 *   2. bulkhead-hv    the hypervisor program
 *   3. bulkhead-blk   the block device model
 *   4. bulkhead-net   the NIC device model
 *   5. daemon-config  the daemon's settings, canonical JSON
 *   6… policy         each *.svcpolicy file of the config directory, in
 *                     lexical order
 *
 * Each event's name says which component it is and its detail is the
 * path, so host_measure_compare() can name the first component that
 * differs from a recorded log.
 */
#ifndef BH_TOOLSTACK_HOST_MEASURE_H
#define BH_TOOLSTACK_HOST_MEASURE_H

#include <stddef.h>

#include "toolstack/measure_log.h"

struct host_measure_input {
	const char *daemon; /* bulkheadd's own file, e.g. "/proc/self/exe" */
	const char *hv, *blk, *net; /* absolute paths */
	const char *config; /* the daemon's settings, canonical form */
	size_t config_len;
	const char *config_name; /* the detail of daemon-config */
	const char *policy_dir; /* where the *.svcpolicy files are */
};

/* More policy files than this are refused: the log holds 64 events. */
#define HOST_POLICY_FILES_MAX (MEASURE_LOG_EVENTS_MAX - 8u)

/*
 * Measures in into log (empty on entry). A program that does not exist
 * is measured as the SHA-256 of nothing, its detail "PATH (missing)", so
 * the log still names it and its appearance changes the PCR. 0, or -1
 * with err saying what could not be measured and why.
 */
int host_measure_collect(const struct host_measure_input *in,
			 struct measure_log *log, char *err, size_t errlen);

/*
 * Pure. 0 if current has the same events as recorded (kinds, details,
 * digests, in order); else 1 with msg naming the first component that
 * differs: changed (both digests), new, or gone.
 */
int host_measure_compare(const struct measure_log *recorded,
			 const struct measure_log *current, char *msg,
			 size_t msglen);

#endif
