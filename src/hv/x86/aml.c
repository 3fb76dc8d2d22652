// SPDX-License-Identifier: GPL-2.0-only
#include "hv/x86/aml.h"

#include <string.h>

#include "util/bytes.h"

#define AML_NAME_OP 0x08
#define AML_BYTE_PREFIX 0x0a
#define AML_WORD_PREFIX 0x0b
#define AML_DWORD_PREFIX 0x0c
#define AML_STRING_PREFIX 0x0d
#define AML_QWORD_PREFIX 0x0e
#define AML_SCOPE_OP 0x10
#define AML_BUFFER_OP 0x11
#define AML_PACKAGE_OP 0x12
#define AML_EXT_PREFIX 0x5b
#define AML_DEVICE_OP 0x82
#define AML_ZERO_OP 0x00
#define AML_ONE_OP 0x01
#define AML_ROOT_CHAR '\\'

/* Resource descriptors. */
#define RES_IO_PORT 0x47 /* small item, 7 bytes of data */
#define RES_END_TAG 0x79
#define RES_DWORD_ADDRESS 0x87
#define RES_WORD_ADDRESS 0x88
#define RES_QWORD_ADDRESS 0x8a
#define RES_TYPE_MEMORY 0
#define RES_TYPE_IO 1
#define RES_TYPE_BUS 2
#define RES_PRODUCER_FIXED 0x0c /* producer, min and max fixed, + decode */
#define RES_IO_ENTIRE_RANGE 0x03
#define RES_MEM_READ_WRITE 0x01 /* non-cacheable */
#define RES_MEM_CACHEABLE 0x02

/* The room reserved for a package length while its object is open. */
#define PKGLEN_ROOM 4

void aml_init(struct aml *a, uint8_t *buf, size_t cap)
{
	memset(a, 0, sizeof(*a));
	a->buf = buf;
	a->cap = cap;
}

static void emit(struct aml *a, const void *p, size_t n)
{
	if (a->overflow || n > a->cap - a->len) {
		a->overflow = 1;
		return;
	}
	memcpy(a->buf + a->len, p, n);
	a->len += n;
}

static void emit_byte(struct aml *a, uint8_t b)
{
	emit(a, &b, 1);
}

size_t aml_pkglength(uint8_t out[4], size_t len)
{
	size_t n;

	/* One byte holds up to 63; longer forms add 1-3 bytes of 8 bits. */
	if (len + 1 < 64) {
		out[0] = (uint8_t)(len + 1);
		return 1;
	}
	for (n = 2; n <= 4; n++) {
		size_t total = len + n;

		if (total < (1ull << (4 + 8 * (n - 1)))) {
			out[0] = (uint8_t)((n - 1) << 6 | (total & 0xf));
			for (size_t i = 1; i < n; i++)
				out[i] = (uint8_t)(total >> (4 + 8 * (i - 1)));
			return n;
		}
	}
	return 0; /* more than 2^28 bytes: not representable */
}

static void emit_nameseg(struct aml *a, const char *seg)
{
	char s[4] = { '_', '_', '_', '_' };
	size_t n = strlen(seg);

	/* Name segments are four characters, padded with '_'. */
	memcpy(s, seg, n < 4 ? n : 4);
	if (n > 4)
		a->overflow = 1;
	emit(a, s, 4);
}

static void open_object(struct aml *a)
{
	if (a->depth == AML_MAX_DEPTH || PKGLEN_ROOM > a->cap - a->len) {
		a->overflow = 1;
		return;
	}
	a->open[a->depth++] = a->len;
	a->len += PKGLEN_ROOM;
}

void aml_close(struct aml *a)
{
	uint8_t pl[4];
	size_t at, body, n;

	if (a->overflow || !a->depth) {
		a->overflow = 1;
		return;
	}
	at = a->open[--a->depth];
	body = a->len - at - PKGLEN_ROOM;
	n = aml_pkglength(pl, body);
	if (!n) {
		a->overflow = 1;
		return;
	}
	/* Shrink the reserved room to the encoding's real size. */
	memmove(a->buf + at + n, a->buf + at + PKGLEN_ROOM, body);
	memcpy(a->buf + at, pl, n);
	a->len -= PKGLEN_ROOM - n;
}

void aml_name(struct aml *a, const char *seg)
{
	emit_byte(a, AML_NAME_OP);
	emit_nameseg(a, seg);
}

void aml_integer(struct aml *a, uint64_t v)
{
	uint8_t b[8];

	if (v == 0) {
		emit_byte(a, AML_ZERO_OP);
	} else if (v == 1) {
		emit_byte(a, AML_ONE_OP);
	} else if (v <= 0xff) {
		emit_byte(a, AML_BYTE_PREFIX);
		emit_byte(a, (uint8_t)v);
	} else if (v <= 0xffff) {
		emit_byte(a, AML_WORD_PREFIX);
		put_le16(b, (uint16_t)v);
		emit(a, b, 2);
	} else if (v <= 0xffffffff) {
		emit_byte(a, AML_DWORD_PREFIX);
		put_le32(b, (uint32_t)v);
		emit(a, b, 4);
	} else {
		emit_byte(a, AML_QWORD_PREFIX);
		put_le64(b, v);
		emit(a, b, 8);
	}
}

void aml_string(struct aml *a, const char *s)
{
	emit_byte(a, AML_STRING_PREFIX);
	emit(a, s, strlen(s) + 1);
}

uint32_t aml_eisaid(const char *id)
{
	/* Three letters of 5 bits each, then four hex digits, big-endian. */
	uint32_t v = (uint32_t)((id[0] - '@') << 26 | (id[1] - '@') << 21 |
				(id[2] - '@') << 16);
	unsigned int i;

	for (i = 3; i < 7; i++) {
		char c = id[i];

		v |= (uint32_t)(c <= '9' ? c - '0' : c - 'A' + 10)
		     << (4 * (6 - i));
	}
	return __builtin_bswap32(v);
}

void aml_scope(struct aml *a, const char *name)
{
	emit_byte(a, AML_SCOPE_OP);
	open_object(a);
	if (name[0] == AML_ROOT_CHAR) {
		emit_byte(a, AML_ROOT_CHAR);
		name++;
	}
	emit_nameseg(a, name);
}

void aml_device(struct aml *a, const char *seg)
{
	emit_byte(a, AML_EXT_PREFIX);
	emit_byte(a, AML_DEVICE_OP);
	open_object(a);
	emit_nameseg(a, seg);
}

void aml_package(struct aml *a, uint8_t nelements)
{
	emit_byte(a, AML_PACKAGE_OP);
	open_object(a);
	emit_byte(a, nelements);
}

/*
 * A buffer's size is a term inside its own package. Reserve a word-sized
 * integer for it and fill it in at the end.
 */
void aml_resources(struct aml *a)
{
	static const uint8_t size_placeholder[3] = { AML_WORD_PREFIX, 0, 0 };

	emit_byte(a, AML_BUFFER_OP);
	open_object(a);
	emit(a, size_placeholder, sizeof(size_placeholder));
}

void aml_resources_end(struct aml *a)
{
	static const uint8_t end_tag[2] = { RES_END_TAG, 0 };
	size_t start;

	emit(a, end_tag, sizeof(end_tag));
	if (a->overflow || !a->depth) {
		a->overflow = 1;
		return;
	}
	start = a->open[a->depth - 1] + PKGLEN_ROOM;
	put_le16(a->buf + start + 1, (uint16_t)(a->len - start - 3));
	aml_close(a);
}

void aml_res_io(struct aml *a, uint16_t base, uint8_t len)
{
	uint8_t d[8] = { RES_IO_PORT, 0x01 /* 16-bit decode */ };

	put_le16(d + 2, base);
	put_le16(d + 4, base);
	d[6] = 1; /* alignment */
	d[7] = len;
	emit(a, d, sizeof(d));
}

static void word_address(struct aml *a, uint8_t type, uint8_t type_flags,
			 uint16_t min, uint16_t max)
{
	uint8_t d[16] = { RES_WORD_ADDRESS,   13,	 0, type,
			  RES_PRODUCER_FIXED, type_flags };

	put_le16(d + 6, 0); /* granularity */
	put_le16(d + 8, min);
	put_le16(d + 10, max);
	put_le16(d + 12, 0); /* translation */
	put_le16(d + 14, (uint16_t)(max - min + 1));
	emit(a, d, sizeof(d));
}

void aml_res_word_bus(struct aml *a, uint16_t min, uint16_t max)
{
	word_address(a, RES_TYPE_BUS, 0, min, max);
}

void aml_res_word_io(struct aml *a, uint16_t min, uint16_t max)
{
	word_address(a, RES_TYPE_IO, RES_IO_ENTIRE_RANGE, min, max);
}

void aml_res_dword_memory(struct aml *a, uint32_t min, uint32_t max)
{
	uint8_t d[26] = {
		RES_DWORD_ADDRESS, 23, 0, RES_TYPE_MEMORY, RES_PRODUCER_FIXED,
		RES_MEM_READ_WRITE
	};

	put_le32(d + 6, 0);
	put_le32(d + 10, min);
	put_le32(d + 14, max);
	put_le32(d + 18, 0);
	put_le32(d + 22, max - min + 1);
	emit(a, d, sizeof(d));
}

void aml_res_qword_memory(struct aml *a, uint64_t min, uint64_t max)
{
	uint8_t d[46] = { RES_QWORD_ADDRESS,
			  43,
			  0,
			  RES_TYPE_MEMORY,
			  RES_PRODUCER_FIXED,
			  RES_MEM_READ_WRITE | RES_MEM_CACHEABLE };

	put_le64(d + 6, 0); /* granularity */
	put_le64(d + 14, min);
	put_le64(d + 22, max);
	put_le64(d + 30, 0); /* translation */
	put_le64(d + 38, max - min + 1);
	emit(a, d, sizeof(d));
}

size_t aml_end(struct aml *a)
{
	return a->overflow || a->depth ? 0 : a->len;
}
