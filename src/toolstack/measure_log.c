// SPDX-License-Identifier: GPL-2.0-only
#include "toolstack/measure_log.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SPEC_ID_SIGNATURE "Spec ID Event03"
/* TCG_PCClientPCREvent: pcrIndex, eventType, SHA-1 digest, eventDataSize. */
#define HEADER_FIXED (4 + 4 + 20 + 4)
/* TCG_EfiSpecIDEvent with one algorithm and no vendor info. */
#define SPEC_ID_SIZE (16 + 4 + 4 + 4 + 4 + 1)
#define HEADER_SIZE (HEADER_FIXED + SPEC_ID_SIZE)
/* TCG_PCR_EVENT2 up to its event data: pcrIndex, eventType, count, one
 * TPMT_HA (algorithm, digest), eventSize. */
#define EVENT_FIXED (4 + 4 + 4 + 2 + MEASURE_SHA256_BYTES + 4)
/* TCG_PCClientTaggedEvent's taggedEventID and taggedEventDataSize. */
#define TAG_FIXED (4 + 4)

unsigned int measure_what_pcr(enum measure_what what)
{
	return what >= MEASURE_HOST_FIRST ? MEASURE_HOST_PCR : MEASURE_LOG_PCR;
}

int measure_sha256(const void *p, size_t n, uint8_t out[MEASURE_SHA256_BYTES])
{
	unsigned int len = MEASURE_SHA256_BYTES;

	/* One-shot SHA-256 fails only when OpenSSL cannot allocate. */
	if (!EVP_Digest(p, n, out, &len, EVP_sha256(), NULL) ||
	    len != MEASURE_SHA256_BYTES)
		return -ENOMEM;
	return 0;
}

static void le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

/* The header is the same in every log: 65 bytes. */
static void write_header(uint8_t *p)
{
	memset(p, 0, HEADER_SIZE);
	le32(p, 0); /* PCR 0 */
	le32(p + 4, TCG_EV_NO_ACTION);
	/* p + 8: the SHA-1 digest field, zero */
	le32(p + 28, SPEC_ID_SIZE);
	p += HEADER_FIXED;
	memcpy(p, SPEC_ID_SIGNATURE, sizeof(SPEC_ID_SIGNATURE)); /* + NUL */
	le32(p + 16, 0); /* platformClass: client */
	p[20] = 0; /* specVersionMinor */
	p[21] = 2; /* specVersionMajor */
	p[22] = 0; /* specErrata */
	p[23] = 2; /* uintnSize: UINTN is 2 UINT32s */
	le32(p + 24, 1); /* numberOfAlgorithms */
	le16(p + 28, TCG_ALG_SHA256);
	le16(p + 30, MEASURE_SHA256_BYTES);
	p[32] = 0; /* vendorInfoSize */
}

/* Well-formed UTF-8 without control characters (C0, DEL, C1). */
static bool printable_utf8(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < n) {
		unsigned int c = p[i], need, cp;

		if (c < 0x80) {
			if (c < 0x20 || c == 0x7f)
				return false;
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			need = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			need = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (n - i <= need)
			return false;
		for (unsigned int k = 1; k <= need; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (p[i + k] & 0x3f);
		}
		/* Overlong forms, surrogates, past U+10FFFF, C1 controls. */
		if ((need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff ||
		    (cp >= 0x80 && cp <= 0x9f))
			return false;
		i += need + 1;
	}
	return true;
}

int measure_log_add(struct measure_log *log, enum measure_what what,
		    const uint8_t sha256[MEASURE_SHA256_BYTES],
		    const char *detail)
{
	struct measure_event *ev;
	size_t dlen;

	if (!detail)
		detail = "";
	dlen = strlen(detail);
	if (!measure_what_name(what) || dlen > MEASURE_DETAIL_MAX ||
	    !printable_utf8(detail, dlen) ||
	    log->nevents >= MEASURE_LOG_EVENTS_MAX)
		return -EINVAL;
	ev = realloc(log->events, (log->nevents + 1) * sizeof(*ev));
	if (!ev)
		return -ENOMEM;
	log->events = ev;
	ev = &log->events[log->nevents];
	ev->what = what;
	memcpy(ev->sha256, sha256, MEASURE_SHA256_BYTES);
	ev->detail = strdup(detail);
	if (!ev->detail)
		return -ENOMEM;
	log->nevents++;
	return 0;
}

/* The tagged event's data: "what" or "what detail". */
static size_t data_len(const struct measure_event *ev)
{
	size_t n = strlen(measure_what_name(ev->what));

	return ev->detail[0] ? n + 1 + strlen(ev->detail) : n;
}

int measure_log_encode(const struct measure_log *log, uint8_t **out,
		       size_t *len)
{
	size_t total = HEADER_SIZE, at = HEADER_SIZE;
	uint8_t *b;

	for (size_t i = 0; i < log->nevents; i++)
		total += EVENT_FIXED + TAG_FIXED + data_len(&log->events[i]);
	b = malloc(total);
	if (!b)
		return -ENOMEM;
	write_header(b);
	for (size_t i = 0; i < log->nevents; i++) {
		const struct measure_event *ev = &log->events[i];
		const char *name = measure_what_name(ev->what);
		size_t dlen = data_len(ev), nlen = strlen(name);
		uint8_t *p = b + at;

		le32(p, measure_what_pcr(ev->what));
		le32(p + 4, TCG_EV_EVENT_TAG);
		le32(p + 8, 1); /* digest count */
		le16(p + 12, TCG_ALG_SHA256);
		memcpy(p + 14, ev->sha256, MEASURE_SHA256_BYTES);
		le32(p + 14 + MEASURE_SHA256_BYTES,
		     (uint32_t)(TAG_FIXED + dlen));
		p += EVENT_FIXED;
		le32(p, MEASURE_TAG_BASE + (uint32_t)ev->what + 1);
		le32(p + 4, (uint32_t)dlen);
		memcpy(p + TAG_FIXED, name, nlen);
		if (ev->detail[0]) {
			p[TAG_FIXED + nlen] = ' ';
			memcpy(p + TAG_FIXED + nlen + 1, ev->detail,
			       dlen - nlen - 1);
		}
		at += EVENT_FIXED + TAG_FIXED + dlen;
	}
	*out = b;
	*len = total;
	return 0;
}

static int bad(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int bad(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* One TCG_PCR_EVENT2 at p (n bytes left); *used gets its size. */
static int decode_event(const uint8_t *p, size_t n, size_t index,
			struct measure_log *log, size_t *used, char *err,
			size_t errlen)
{
	uint32_t size, tag, dlen;
	const char *data, *name;
	uint8_t digest[MEASURE_SHA256_BYTES];
	char detail[MEASURE_DETAIL_MAX + 1];
	enum measure_what what;
	size_t nlen;
	int r;

	if (n < EVENT_FIXED + TAG_FIXED)
		return bad(err, errlen, "event %zu: truncated", index);
	if ((rd32(p) != MEASURE_LOG_PCR && rd32(p) != MEASURE_HOST_PCR) ||
	    rd32(p + 4) != TCG_EV_EVENT_TAG || rd32(p + 8) != 1 ||
	    rd16(p + 12) != TCG_ALG_SHA256)
		return bad(
			err, errlen,
			"event %zu: not a Bulkhead event (PCR %u or %u, EV_EVENT_TAG, one SHA-256 digest)",
			index, MEASURE_LOG_PCR, MEASURE_HOST_PCR);
	memcpy(digest, p + 14, MEASURE_SHA256_BYTES);
	size = rd32(p + 14 + MEASURE_SHA256_BYTES);
	if (size < TAG_FIXED || size > n - EVENT_FIXED)
		return bad(err, errlen,
			   "event %zu: event size %u does not fit the log",
			   index, size);
	p += EVENT_FIXED;
	tag = rd32(p);
	dlen = rd32(p + 4);
	if (tag <= MEASURE_TAG_BASE ||
	    tag - MEASURE_TAG_BASE > MEASURE_WHAT_COUNT)
		return bad(err, errlen,
			   "event %zu: unknown tagged event ID 0x%08x", index,
			   tag);
	if (dlen != size - TAG_FIXED)
		return bad(err, errlen,
			   "event %zu: tagged data size %u, event size %u",
			   index, dlen, size);
	what = (enum measure_what)(tag - MEASURE_TAG_BASE - 1);
	if (rd32(p - EVENT_FIXED) != measure_what_pcr(what))
		return bad(err, errlen,
			   "event %zu: a %s event names PCR %u, not %u", index,
			   measure_what_name(what), rd32(p - EVENT_FIXED),
			   measure_what_pcr(what));
	name = measure_what_name(what);
	nlen = strlen(name);
	data = (const char *)p + TAG_FIXED;
	if (dlen < nlen || memcmp(data, name, nlen) ||
	    (dlen > nlen && (dlen == nlen + 1 || data[nlen] != ' ')))
		return bad(err, errlen,
			   "event %zu: its data does not start \"%s \"", index,
			   name);
	if (dlen > nlen + 1 + MEASURE_DETAIL_MAX)
		return bad(err, errlen, "event %zu: data too long", index);
	if (dlen > nlen) {
		memcpy(detail, data + nlen + 1, dlen - nlen - 1);
		detail[dlen - nlen - 1] = '\0';
		if (!printable_utf8(detail, dlen - nlen - 1))
			return bad(err, errlen,
				   "event %zu: its data is not printable UTF-8",
				   index);
	} else {
		detail[0] = '\0';
	}
	if (log->nevents >= MEASURE_LOG_EVENTS_MAX)
		return bad(err, errlen, "more than %u events",
			   MEASURE_LOG_EVENTS_MAX);
	r = measure_log_add(log, what, digest, detail);
	if (r)
		return r;
	*used = EVENT_FIXED + size;
	return 0;
}

int measure_log_decode(const uint8_t *buf, size_t len, struct measure_log *out,
		       char *err, size_t errlen)
{
	uint8_t header[HEADER_SIZE];
	size_t at = HEADER_SIZE;
	int r = 0;

	*out = (struct measure_log){ 0 };
	write_header(header);
	if (len < HEADER_SIZE || memcmp(buf, header, HEADER_SIZE))
		return bad(
			err, errlen,
			"not a Bulkhead measurement log (its header is not the Spec ID Event03 event for SHA-256 alone)");
	while (!r && at < len) {
		size_t used = 0;

		r = decode_event(buf + at, len - at, out->nevents + 1, out,
				 &used, err, errlen);
		at += used;
	}
	if (r) {
		if (r == -ENOMEM && errlen)
			snprintf(err, errlen, "out of memory");
		measure_log_release(out);
	}
	return r;
}

int measure_log_replay(const struct measure_log *log,
		       uint8_t pcr[MEASURE_SHA256_BYTES])
{
	uint8_t cat[2 * MEASURE_SHA256_BYTES];

	memset(pcr, 0, MEASURE_SHA256_BYTES);
	for (size_t i = 0; i < log->nevents; i++) {
		memcpy(cat, pcr, MEASURE_SHA256_BYTES);
		memcpy(cat + MEASURE_SHA256_BYTES, log->events[i].sha256,
		       MEASURE_SHA256_BYTES);
		if (measure_sha256(cat, sizeof(cat), pcr))
			return -ENOMEM;
	}
	return 0;
}

void measure_log_release(struct measure_log *log)
{
	for (size_t i = 0; i < log->nevents; i++)
		free(log->events[i].detail);
	free(log->events);
	*log = (struct measure_log){ 0 };
}
