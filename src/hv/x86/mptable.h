/* SPDX-License-Identifier: GPL-2.0-only */
/* Intel MultiProcessor Specification 1.4 tables: CPUs, buses, the IOAPIC. */
#ifndef BH_HV_X86_MPTABLE_H
#define BH_HV_X86_MPTABLE_H

#include <stddef.h>
#include <stdint.h>

#define MPTABLE_MAX_CPUS 64
#define MPTABLE_IOAPIC_PINS 24

/*
 * Writes the floating pointer and configuration table for ncpus CPUs
 * (APIC ids 0..ncpus-1) into buf, which the guest sees at gpa. Returns
 * the number of bytes used, or 0 if ncpus is out of range or buf too small.
 */
size_t mptable_build(uint8_t *buf, size_t len, uint64_t gpa,
		     unsigned int ncpus);

/* The IOAPIC's id: one above the highest CPU APIC id. */
unsigned int mptable_ioapic_id(unsigned int ncpus);

#endif
