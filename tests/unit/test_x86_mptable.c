// SPDX-License-Identifier: GPL-2.0-only
/*
 * The MP table, read back as a guest would (MultiProcessor Specification
 * 1.4, chapter 4): find the floating pointer, verify both checksums, walk
 * the entries by their types.
 */
#include "hv/x86/layout.h"
#include "hv/x86/mptable.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define BUF_GPA 0xf0000u
#define BUF_LEN 0x10000u

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static unsigned int sum8(const uint8_t *p, size_t n)
{
	unsigned int s = 0;

	while (n--)
		s += *p++;
	return s & 0xff;
}

struct mp_seen {
	unsigned int cpus, bsp, buses, ioapics, ioints, lints;
	uint8_t cpu_ids[MPTABLE_MAX_CPUS];
	uint8_t ioapic_id;
	uint32_t ioapic_addr;
	uint16_t pin_of_irq[16];
};

/* Parses what mptable_build wrote; fails the test on any malformation. */
static void parse(const uint8_t *buf, size_t used, unsigned int ncpus,
		  struct mp_seen *s)
{
	const uint8_t *mpf = buf, *mpc, *p, *end;
	uint32_t table_gpa;
	uint16_t table_len, count;

	memset(s, 0, sizeof(*s));
	for (int i = 0; i < 16; i++)
		s->pin_of_irq[i] = 0xffff;
	assert_memory_equal(mpf, "_MP_", 4);
	assert_int_equal(mpf[8], 1); /* one paragraph */
	assert_int_equal(mpf[9], 4); /* spec 1.4 */
	assert_int_equal(sum8(mpf, 16), 0);
	assert_int_equal(mpf[11], 0); /* no default configuration */
	table_gpa = rd32(mpf + 4);
	assert_true(table_gpa >= BUF_GPA + 16 && table_gpa < BUF_GPA + used);
	mpc = buf + (table_gpa - BUF_GPA);

	assert_memory_equal(mpc, "PCMP", 4);
	table_len = rd16(mpc + 4);
	assert_int_equal(mpc[6], 4);
	assert_true((size_t)(mpc - buf) + table_len <= used);
	assert_int_equal(sum8(mpc, table_len), 0);
	assert_int_equal(rd32(mpc + 36), LAYOUT_LAPIC);
	count = rd16(mpc + 34);
	assert_int_equal(count, ncpus + 2 + 1 + 16 + 2);

	p = mpc + 44;
	end = mpc + table_len;
	for (unsigned int i = 0; i < count; i++) {
		assert_true(p < end);
		switch (p[0]) {
		case 0: /* processor */
			assert_true(p + 20 <= end);
			assert_true(s->cpus < MPTABLE_MAX_CPUS);
			s->cpu_ids[s->cpus++] = p[1];
			assert_true(p[3] & 1); /* enabled */
			if (p[3] & 2)
				s->bsp++;
			if (p[3] & 2)
				assert_int_equal(p[1], 0);
			p += 20;
			break;
		case 1: /* bus */
			assert_true(!memcmp(p + 2, "ISA   ", 6) ||
				    !memcmp(p + 2, "PCI   ", 6));
			s->buses++;
			p += 8;
			break;
		case 2: /* I/O APIC */
			s->ioapics++;
			s->ioapic_id = p[1];
			assert_true(p[3] & 1);
			s->ioapic_addr = rd32(p + 4);
			p += 8;
			break;
		case 3: /* I/O interrupt assignment */
			assert_int_equal(p[1], 0); /* INT */
			assert_int_equal(p[4], 0); /* the ISA bus */
			assert_int_equal(p[6], s->ioapic_id);
			assert_true(p[5] < 16);
			s->pin_of_irq[p[5]] = p[7];
			s->ioints++;
			p += 8;
			break;
		case 4: /* local interrupt assignment */
			assert_int_equal(p[6], 0xff); /* every local APIC */
			s->lints++;
			p += 8;
			break;
		default:
			fail_msg("unknown MP entry type %u", p[0]);
		}
	}
	assert_ptr_equal(p, end);
}

static void check_ncpus(unsigned int ncpus)
{
	uint8_t *buf = malloc(BUF_LEN);
	struct mp_seen s;
	size_t used;

	assert_non_null(buf);
	memset(buf, 0x5a, BUF_LEN);
	used = mptable_build(buf, BUF_LEN, BUF_GPA, ncpus);
	assert_int_equal(used, 16 + 44 + ncpus * 20 + 21 * 8);
	parse(buf, used, ncpus, &s);
	assert_int_equal(s.cpus, ncpus);
	assert_int_equal(s.bsp, 1);
	for (unsigned int i = 0; i < ncpus; i++)
		assert_int_equal(s.cpu_ids[i], i);
	assert_int_equal(s.buses, 2);
	assert_int_equal(s.ioapics, 1);
	/* The IOAPIC's id is distinct from every CPU's APIC id. */
	assert_int_equal(s.ioapic_id, mptable_ioapic_id(ncpus));
	assert_true(s.ioapic_id >= ncpus);
	assert_int_equal(s.ioapic_addr, LAYOUT_IOAPIC);
	assert_int_equal(s.ioints, 16);
	for (unsigned int irq = 0; irq < 16; irq++)
		assert_int_equal(s.pin_of_irq[irq], irq);
	assert_int_equal(s.lints, 2);
	/* Nothing written past what was reported. */
	for (size_t i = used; i < BUF_LEN; i++)
		assert_int_equal(buf[i], 0x5a);
	free(buf);
}

static void test_one_cpu(void **state)
{
	(void)state;
	check_ncpus(1);
}

static void test_many_cpus(void **state)
{
	(void)state;
	check_ncpus(2);
	check_ncpus(7);
	check_ncpus(MPTABLE_MAX_CPUS);
}

static void test_refusals(void **state)
{
	uint8_t *buf = malloc(BUF_LEN);
	size_t need = 16 + 44 + 4 * 20 + 21 * 8;

	(void)state;
	assert_non_null(buf);
	assert_int_equal(mptable_build(buf, BUF_LEN, BUF_GPA, 0), 0);
	assert_int_equal(
		mptable_build(buf, BUF_LEN, BUF_GPA, MPTABLE_MAX_CPUS + 1), 0);
	assert_int_equal(mptable_build(buf, BUF_LEN, BUF_GPA, 1000), 0);
	/* A buffer one byte short is refused and left untouched. */
	memset(buf, 0x5a, BUF_LEN);
	assert_int_equal(mptable_build(buf, need - 1, BUF_GPA, 4), 0);
	for (size_t i = 0; i < BUF_LEN; i++)
		assert_int_equal(buf[i], 0x5a);
	assert_int_equal(mptable_build(buf, need, BUF_GPA, 4), need);
	assert_int_equal(mptable_build(buf, 0, BUF_GPA, 4), 0);
	free(buf);
}

/* The floating pointer names the table by its guest address. */
static void test_gpa_relative(void **state)
{
	uint8_t *buf = malloc(BUF_LEN);

	(void)state;
	assert_non_null(buf);
	assert_true(mptable_build(buf, BUF_LEN, 0x9fc00, 2) > 0);
	assert_int_equal(rd32(buf + 4), 0x9fc00 + 16);
	assert_int_equal(sum8(buf, 16), 0);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_cpu),
		cmocka_unit_test(test_many_cpus),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_gpa_relative),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
