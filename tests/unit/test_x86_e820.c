// SPDX-License-Identifier: GPL-2.0-only
/* The RAM layout around the 32-bit MMIO hole and the e820 map for it. */
#include "hv/x86/e820.h"
#include "hv/x86/layout.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#define MIB (1ull << 20)
#define GIB (1ull << 30)

static void test_layout_below_hole(void **state)
{
	struct ram_layout r = ram_layout_of(256 * MIB);

	(void)state;
	assert_int_equal(r.low_size, 256 * MIB);
	assert_int_equal(r.high_size, 0);
	r = ram_layout_of(2 * MIB);
	assert_int_equal(r.low_size, 2 * MIB);
	assert_int_equal(r.high_size, 0);
}

static void test_layout_boundaries(void **state)
{
	struct ram_layout r;

	(void)state;
	/* Exactly up to the hole: nothing above 4 GiB. */
	r = ram_layout_of(3 * GIB);
	assert_int_equal(r.low_size, 3 * GIB);
	assert_int_equal(r.high_size, 0);
	/* One MiB short and one MiB over. */
	r = ram_layout_of(3 * GIB - MIB);
	assert_int_equal(r.low_size, 3 * GIB - MIB);
	assert_int_equal(r.high_size, 0);
	r = ram_layout_of(3 * GIB + MIB);
	assert_int_equal(r.low_size, 3 * GIB);
	assert_int_equal(r.high_size, MIB);
	/* The hole is not RAM: 8 GiB of RAM is 3 below and 5 above. */
	r = ram_layout_of(8 * GIB);
	assert_int_equal(r.low_size, 3 * GIB);
	assert_int_equal(r.high_size, 5 * GIB);
	r = ram_layout_of(1ull << 40);
	assert_int_equal(r.low_size + r.high_size, 1ull << 40);
	assert_int_equal(r.low_size, LAYOUT_MMIO_HOLE);
}

/* Sorted, non-overlapping, no RAM in the BIOS area or the hole. */
static void check_map(const struct e820_map *m, const struct ram_layout *r)
{
	uint64_t ram = 0;

	assert_true(m->n >= 4 && m->n <= E820_MAX_ENTRIES);
	for (unsigned int i = 0; i < m->n; i++) {
		const struct e820_entry *e = &m->entry[i];

		assert_true(e->type == E820_RAM || e->type == E820_RESERVED);
		if (i)
			assert_true(m->entry[i - 1].addr +
					    m->entry[i - 1].size <=
				    e->addr);
		if (e->type != E820_RAM)
			continue;
		ram += e->size;
		/* RAM is never in the legacy area or the 32-bit hole. */
		assert_false(e->addr < 0x100000 &&
			     e->addr + e->size > LAYOUT_EBDA);
		assert_false(e->addr < LAYOUT_HIGH_RAM &&
			     e->addr + e->size > LAYOUT_MMIO_HOLE);
		/* ...and always backed by guest RAM. */
		if (e->addr < LAYOUT_HIGH_RAM)
			assert_true(e->addr + e->size <= r->low_size);
		else
			assert_true(e->addr + e->size <=
				    LAYOUT_HIGH_RAM + r->high_size);
	}
	/* All of RAM except [EBDA, 1 MiB) is reported as RAM. */
	assert_int_equal(ram,
			 r->low_size + r->high_size - (0x100000 - LAYOUT_EBDA));
}

static void test_e820_low_only(void **state)
{
	struct ram_layout r = ram_layout_of(256 * MIB);
	struct e820_map m;

	(void)state;
	assert_int_equal(e820_build(&m, &r), 0);
	assert_int_equal(m.n, 4);
	assert_int_equal(m.entry[0].addr, 0);
	assert_int_equal(m.entry[0].size, LAYOUT_EBDA);
	assert_int_equal(m.entry[0].type, E820_RAM);
	assert_int_equal(m.entry[1].addr, LAYOUT_EBDA);
	assert_int_equal(m.entry[1].addr + m.entry[1].size, 0xa0000);
	assert_int_equal(m.entry[1].type, E820_RESERVED);
	/* The ACPI tables and MP table live here: reserved. */
	assert_int_equal(m.entry[2].addr, LAYOUT_ACPI);
	assert_int_equal(m.entry[2].addr + m.entry[2].size, 0x100000);
	assert_int_equal(m.entry[2].type, E820_RESERVED);
	assert_true(LAYOUT_MPTABLE >= m.entry[2].addr);
	assert_int_equal(m.entry[3].addr, 0x100000);
	assert_int_equal(m.entry[3].addr + m.entry[3].size, 256 * MIB);
	assert_int_equal(m.entry[3].type, E820_RAM);
	check_map(&m, &r);
}

static void test_e820_high(void **state)
{
	static const uint64_t sizes[] = { 3 * GIB, 3 * GIB + MIB, 8 * GIB,
					  1ull << 40 };
	struct e820_map m;

	(void)state;
	for (unsigned int i = 0; i < 4; i++) {
		struct ram_layout r = ram_layout_of(sizes[i]);

		assert_int_equal(e820_build(&m, &r), 0);
		check_map(&m, &r);
		assert_int_equal(m.entry[3].addr + m.entry[3].size,
				 LAYOUT_MMIO_HOLE);
		if (!r.high_size) {
			assert_int_equal(m.n, 4);
			continue;
		}
		assert_int_equal(m.n, 5);
		assert_int_equal(m.entry[4].addr, LAYOUT_HIGH_RAM);
		assert_int_equal(m.entry[4].size, r.high_size);
		assert_int_equal(m.entry[4].type, E820_RAM);
	}
}

static void test_e820_minimum(void **state)
{
	struct ram_layout r = { .low_size = 0x100000 - 1 };
	struct e820_map m;

	(void)state;
	assert_int_equal(e820_build(&m, &r), -1);
	r.low_size = 2 * MIB;
	assert_int_equal(e820_build(&m, &r), 0);
	check_map(&m, &r);
	assert_int_equal(m.entry[3].size, MIB);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout_below_hole),
		cmocka_unit_test(test_layout_boundaries),
		cmocka_unit_test(test_e820_low_only),
		cmocka_unit_test(test_e820_high),
		cmocka_unit_test(test_e820_minimum),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
