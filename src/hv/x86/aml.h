/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Encoding the little ACPI Machine Language our DSDT needs (ACPI 6.5,
 * chapter 20, and resource descriptors, section 6.4). Objects are written
 * into a caller's buffer; a package-length prefix is filled in when its
 * object is closed. Any overflow is remembered and reported by aml_end.
 */
#ifndef BH_HV_X86_AML_H
#define BH_HV_X86_AML_H

#include <stddef.h>
#include <stdint.h>

#define AML_MAX_DEPTH 8

struct aml {
	uint8_t *buf;
	size_t cap;
	size_t len;
	int overflow;
	unsigned int depth;
	size_t open[AML_MAX_DEPTH]; /* where each open object's length goes */
};

void aml_init(struct aml *a, uint8_t *buf, size_t cap);
/* The encoded length, or 0 if anything overflowed or is left open. */
size_t aml_end(struct aml *a);

/* Encodes a package length (which counts its own bytes) for len bytes. */
size_t aml_pkglength(uint8_t out[4], size_t len);

void aml_name(struct aml *a, const char *seg); /* NameOp NAMESEG, then data */
void aml_integer(struct aml *a, uint64_t v); /* smallest encoding */
void aml_string(struct aml *a, const char *s);
uint32_t aml_eisaid(const char *id); /* "PNP0A03" -> compressed id */

/* Objects with a body; each must be closed with aml_close. */
void aml_scope(struct aml *a, const char *name);
void aml_device(struct aml *a, const char *seg);
void aml_package(struct aml *a, uint8_t nelements);
void aml_close(struct aml *a);

/* A buffer holding a resource template, closed with aml_resources_end. */
void aml_resources(struct aml *a);
void aml_res_io(struct aml *a, uint16_t base, uint8_t len);
void aml_res_word_bus(struct aml *a, uint16_t min, uint16_t max);
void aml_res_word_io(struct aml *a, uint16_t min, uint16_t max);
void aml_res_dword_memory(struct aml *a, uint32_t min, uint32_t max);
/* A 64-bit cacheable read-write window (no prefetch: any BAR fits). */
void aml_res_qword_memory(struct aml *a, uint64_t min, uint64_t max);
void aml_resources_end(struct aml *a);

#endif
