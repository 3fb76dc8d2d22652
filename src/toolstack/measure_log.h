/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A VM's measurement log in the TCG PC Client crypto-agile format
 * (docs/measured-launch.md has the byte layout), SHA-256 only, so that
 * tpm2_eventlog(1) reads it:
 *
 *   - a TCG_PCClientPCREvent header: PCR 0, EV_NO_ACTION, 20 zero bytes,
 *     the "Spec ID Event03" structure naming one algorithm, SHA-256;
 *   - one TCG_PCR_EVENT2 per measurement: PCR MEASURE_LOG_PCR (a VM's
 *     events) or MEASURE_HOST_PCR (the host's, measure_what_pcr()),
 *     EV_EVENT_TAG, one SHA-256 digest, and as event data a
 *     TCG_PCClientTaggedEvent whose ID says what was measured
 *     (MEASURE_TAG_BASE + enum measure_what) and whose data names it,
 *     "kernel /boot/vmlinuz".
 *
 * The decoder takes only what the encoder writes, so a decoded log
 * encodes to the same bytes. Pure but for SHA-256 (OpenSSL).
 */
#ifndef BH_TOOLSTACK_MEASURE_LOG_H
#define BH_TOOLSTACK_MEASURE_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "toolstack/measure_expect.h"

/* The PCR every VM event names: PC Client's "application support" PCR. */
#define MEASURE_LOG_PCR 23u
/* The PCR the host's events name (docs/measured-launch.md, "Why PCR 13"). */
#define MEASURE_HOST_PCR 13u

/* The PCR an event of this kind is extended into: a VM's or the host's. */
unsigned int measure_what_pcr(enum measure_what what);

/* TCG PC Client event types and algorithm IDs used here. */
#define TCG_EV_NO_ACTION 0x00000003u
#define TCG_EV_EVENT_TAG 0x00000006u
#define TCG_ALG_SHA256 0x000Bu

/* Tagged-event IDs: "BH" in the upper half, enum measure_what + 1 below. */
#define MEASURE_TAG_BASE 0x42480000u

/* Bounds a decoded log keeps to (a hostile file costs no more). */
#define MEASURE_LOG_EVENTS_MAX 64u
#define MEASURE_DETAIL_MAX 4200u /* bytes after "what " in one event */

struct measure_event {
	enum measure_what what;
	uint8_t sha256[MEASURE_SHA256_BYTES];
	/* What was measured, e.g. the kernel's path; NUL-terminated,
	 * printable (no control characters), may be "". */
	char *detail;
};

struct measure_log {
	struct measure_event *events; /* in the order they were extended */
	size_t nevents;
};

/*
 * Appends an event; detail is copied (NULL is ""). Returns 0, -EINVAL
 * (detail too long or with control characters, too many events) or
 * -ENOMEM.
 */
int measure_log_add(struct measure_log *log, enum measure_what what,
		    const uint8_t sha256[MEASURE_SHA256_BYTES],
		    const char *detail);

/* The log's bytes, malloc'd in *out. Returns 0 or -ENOMEM. */
int measure_log_encode(const struct measure_log *log, uint8_t **out,
		       size_t *len);

/*
 * Reads a log written by measure_log_encode. Returns 0 with *out filled
 * (release it), or -EINVAL with a printable sentence in err (errlen > 0)
 * and *out empty, or -ENOMEM.
 */
int measure_log_decode(const uint8_t *buf, size_t len, struct measure_log *out,
		       char *err, size_t errlen);

/*
 * The PCR after the log's extends, from 32 zero bytes (a log's events all
 * name one PCR: a VM's log, or the host's):
 * pcr = SHA-256(pcr || digest) for each event in order. Returns 0, or
 * -ENOMEM if OpenSSL could not hash.
 */
int measure_log_replay(const struct measure_log *log,
		       uint8_t pcr[MEASURE_SHA256_BYTES]);

void measure_log_release(struct measure_log *log);

/* SHA-256 of n bytes at p (OpenSSL): 0, or -ENOMEM. */
int measure_sha256(const void *p, size_t n, uint8_t out[MEASURE_SHA256_BYTES]);

#endif
