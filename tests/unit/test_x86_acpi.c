// SPDX-License-Identifier: GPL-2.0-only
/*
 * The ACPI tables, followed from the RSDP the way an OS does (ACPI 6.x,
 * chapter 5): every pointer, length and checksum is verified here against
 * the specification's offsets, not the builder's constants.
 */
#include "hv/x86/acpi.h"
#include "hv/x86/layout.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define GPA 0xe0000u
#define LEN 0x10000u
#define MMIO64 0x140000000ull

struct tables {
	const uint8_t *buf;
	size_t used;
};

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
	return rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static unsigned int sum8(const uint8_t *p, size_t n)
{
	unsigned int s = 0;

	while (n--)
		s += *p++;
	return s & 0xff;
}

/* The table at gpa with its signature, length and checksum verified. */
static const uint8_t *table_at(const struct tables *t, uint64_t gpa,
			       const char *sig)
{
	const uint8_t *p;
	uint32_t len;

	assert_true(gpa >= GPA && gpa + 36 <= GPA + t->used);
	p = t->buf + (gpa - GPA);
	assert_memory_equal(p, sig, 4);
	len = rd32(p + 4);
	assert_true(len >= 36);
	assert_true(gpa + len <= GPA + t->used);
	if (sum8(p, len))
		fail_msg("%s checksum is wrong", sig);
	return p;
}

static const uint8_t *xsdt_of(const struct tables *t)
{
	const uint8_t *rsdp = t->buf;

	assert_memory_equal(rsdp, "RSD PTR ", 8);
	if (sum8(rsdp, 20))
		fail_msg("RSDP (ACPI 1.0 part) checksum is wrong");
	assert_int_equal(rsdp[15], 2); /* revision: XSDT present */
	assert_int_equal(rd32(rsdp + 20), 36);
	if (sum8(rsdp, 36))
		fail_msg("RSDP extended checksum is wrong");
	return table_at(t, rd64(rsdp + 24), "XSDT");
}

/* The XSDT entry whose table has signature sig (exactly one). */
static const uint8_t *find(const struct tables *t, const char *sig)
{
	const uint8_t *xsdt = xsdt_of(t), *found = NULL;
	uint32_t n = (rd32(xsdt + 4) - 36) / 8;

	assert_int_equal((rd32(xsdt + 4) - 36) % 8, 0);
	for (uint32_t i = 0; i < n; i++) {
		uint64_t gpa = rd64(xsdt + 36 + 8 * i);
		const uint8_t *p;

		assert_true(gpa >= GPA && gpa < GPA + t->used);
		p = t->buf + (gpa - GPA);
		if (!memcmp(p, sig, 4)) {
			assert_null(found);
			found = table_at(t, gpa, sig);
		}
	}
	assert_non_null(found);
	return found;
}

static uint8_t *build(unsigned int ncpus, unsigned int ioapic, struct tables *t)
{
	uint8_t *buf = malloc(LEN);

	assert_non_null(buf);
	memset(buf, 0x5a, LEN);
	t->buf = buf;
	t->used = acpi_tables_build(buf, LEN, GPA, ncpus, ioapic, MMIO64);
	assert_true(t->used > 0 && t->used <= LEN);
	for (size_t i = t->used; i < LEN; i++)
		assert_int_equal(buf[i], 0x5a);
	return buf;
}

static void test_rsdp_and_xsdt(void **state)
{
	struct tables t;
	uint8_t *buf = build(2, 2, &t);
	const uint8_t *xsdt;

	(void)state;
	xsdt = xsdt_of(&t);
	assert_int_equal(rd32(xsdt + 4), 36 + 2 * 8);
	find(&t, "FACP");
	find(&t, "APIC");
	/* Breaking any byte of the RSDP is noticed by its checksums. */
	buf[10] ^= 1;
	assert_int_not_equal(sum8(buf, 20), 0);
	free(buf);
}

static void check_gas(const uint8_t *g, unsigned int bits, uint64_t port)
{
	assert_int_equal(g[0], 1); /* system I/O space */
	assert_int_equal(g[1], bits);
	assert_int_equal(g[2], 0);
	assert_int_equal(rd64(g + 4), port);
}

static void test_fadt(void **state)
{
	struct tables t;
	uint8_t *buf = build(1, 1, &t);
	const uint8_t *fadt = find(&t, "FACP"), *dsdt, *facs;
	uint64_t facs_gpa;

	(void)state;
	assert_int_equal(rd32(fadt + 4), 276); /* ACPI 6 FADT */
	assert_int_equal(rd16(fadt + 46), IRQ_ACPI_SCI);
	assert_int_equal(rd32(fadt + 48), 0); /* SMI_CMD: no SMM handshake */
	assert_int_equal(rd32(fadt + 56), PORT_ACPI_PM1_EVT);
	assert_int_equal(rd32(fadt + 64), PORT_ACPI_PM1_CNT);
	assert_int_equal(fadt[88], 4);
	assert_int_equal(fadt[89], 2);
	/* Reset register: supported, an I/O port byte write. */
	assert_true(rd32(fadt + 112) & (1u << 10));
	check_gas(fadt + 116, 8, PORT_ACPI_RESET);
	assert_int_equal(fadt[128], ACPI_RESET_VALUE);
	/* The 64-bit pointers agree with the 32-bit ones. */
	assert_int_equal(rd64(fadt + 140), rd32(fadt + 40));
	assert_int_equal(rd64(fadt + 132), rd32(fadt + 36));
	check_gas(fadt + 148, 32, PORT_ACPI_PM1_EVT);
	check_gas(fadt + 172, 16, PORT_ACPI_PM1_CNT);
	dsdt = table_at(&t, rd64(fadt + 140), "DSDT");
	(void)dsdt;
	facs_gpa = rd64(fadt + 132);
	assert_int_equal(facs_gpa % 64, 0);
	assert_true(facs_gpa >= GPA && facs_gpa + 64 <= GPA + t.used);
	facs = buf + (facs_gpa - GPA);
	assert_memory_equal(facs, "FACS", 4);
	assert_int_equal(rd32(facs + 4), 64);
	free(buf);
}

/* The host bridge's _CRS offers the 64-bit window as a QWord memory range. */
static void test_dsdt_mmio64_window(void **state)
{
	struct tables t;
	uint8_t *buf = build(1, 1, &t);
	const uint8_t *fadt = find(&t, "FACP");
	const uint8_t *dsdt = table_at(&t, rd64(fadt + 140), "DSDT");
	uint32_t len = rd32(dsdt + 4);
	const uint8_t *q = NULL;

	(void)state;
	for (const uint8_t *p = dsdt + 36; p + 46 <= dsdt + len; p++) {
		if (p[0] == 0x8a && p[1] == 43 && p[2] == 0 && p[3] == 0) {
			assert_null(q);
			q = p;
		}
	}
	assert_non_null(q);
	assert_int_equal(rd64(q + 14), MMIO64);
	assert_int_equal(rd64(q + 22), MMIO64 + LAYOUT_PCI_MMIO64_SIZE - 1);
	assert_int_equal(rd64(q + 38), LAYOUT_PCI_MMIO64_SIZE);
	free(buf);
}

/* The DSDT holds Name(_S5_, Package(){SLP_TYP, ...}) for poweroff. */
static void test_dsdt_s5(void **state)
{
	struct tables t;
	uint8_t *buf = build(1, 1, &t);
	const uint8_t *fadt = find(&t, "FACP");
	const uint8_t *dsdt = table_at(&t, rd64(fadt + 140), "DSDT");
	uint32_t len = rd32(dsdt + 4);
	const uint8_t *aml = dsdt + 36, *s5 = NULL;

	(void)state;
	for (uint32_t i = 0; i + 5 <= len - 36; i++)
		if (aml[i] == 0x08 && !memcmp(aml + i + 1, "_S5_", 4))
			s5 = aml + i + 5;
	assert_non_null(s5);
	assert_int_equal(s5[0], 0x12); /* PackageOp */
	/* PkgLength (one byte), NumElements >= 1, first a ByteConst. */
	assert_true(s5[2] >= 1);
	assert_int_equal(s5[3], 0x0a);
	assert_int_equal(s5[4], ACPI_S5_SLP_TYP);
	assert_true(s5 + 1 + s5[1] <= dsdt + len);
	free(buf);
}

static void check_madt(unsigned int ncpus, unsigned int ioapic_id)
{
	struct tables t;
	uint8_t *buf = build(ncpus, ioapic_id, &t);
	const uint8_t *madt = find(&t, "APIC"), *p, *end;
	unsigned int lapics = 0, ioapics = 0, nmis = 0;
	uint8_t seen[256] = { 0 };

	assert_int_equal(rd32(madt + 36), LAYOUT_LAPIC);
	assert_true(rd32(madt + 40) & 1); /* PCAT_COMPAT: 8259s present */
	p = madt + 44;
	end = madt + rd32(madt + 4);
	while (p < end) {
		assert_true(p[1] >= 2 && p + p[1] <= end);
		switch (p[0]) {
		case 0: /* processor local APIC */
			assert_int_equal(p[1], 8);
			assert_int_equal(p[2], p[3]); /* UID = APIC id */
			assert_true(p[3] < ncpus);
			assert_int_equal(seen[p[3]], 0);
			seen[p[3]] = 1;
			assert_true(rd32(p + 4) & 1);
			lapics++;
			break;
		case 1: /* I/O APIC */
			assert_int_equal(p[1], 12);
			assert_int_equal(p[2], ioapic_id);
			assert_int_equal(rd32(p + 4), LAYOUT_IOAPIC);
			assert_int_equal(rd32(p + 8), 0); /* GSI base */
			ioapics++;
			break;
		case 4: /* local APIC NMI */
			assert_int_equal(p[1], 6);
			assert_int_equal(p[2], 0xff);
			assert_int_equal(p[5], 1); /* LINT1 */
			nmis++;
			break;
		default:
			fail_msg("unexpected MADT entry type %u", p[0]);
		}
		p += p[1];
	}
	assert_ptr_equal(p, end);
	assert_int_equal(lapics, ncpus);
	assert_int_equal(ioapics, 1);
	assert_int_equal(nmis, 1);
	free(buf);
}

static void test_madt(void **state)
{
	(void)state;
	check_madt(1, 1);
	check_madt(2, 2);
	check_madt(64, 64);
	check_madt(255, 0); /* the most the builder accepts */
}

static void test_refusals(void **state)
{
	uint8_t *buf = malloc(LEN);
	size_t need;

	(void)state;
	assert_non_null(buf);
	assert_int_equal(acpi_tables_build(buf, LEN, GPA, 0, 0, MMIO64), 0);
	assert_int_equal(acpi_tables_build(buf, LEN, GPA, 256, 0, MMIO64), 0);
	assert_int_equal(acpi_tables_build(buf, LEN, GPA + 8, 1, 1, MMIO64), 0);
	need = acpi_tables_build(buf, LEN, GPA, 4, 4, MMIO64);
	assert_true(need > 0);
	memset(buf, 0x5a, LEN);
	assert_int_equal(acpi_tables_build(buf, need - 1, GPA, 4, 4, MMIO64),
			 0);
	for (size_t i = 0; i < LEN; i++)
		assert_int_equal(buf[i], 0x5a);
	assert_int_equal(acpi_tables_build(buf, need, GPA, 4, 4, MMIO64), need);
	/* The tables fit the area the layout reserves, even for 255 CPUs. */
	assert_true(acpi_tables_build(buf, LAYOUT_ACPI_SIZE, LAYOUT_ACPI, 255,
				      0, MMIO64) > 0);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rsdp_and_xsdt),
		cmocka_unit_test(test_fadt),
		cmocka_unit_test(test_dsdt_s5),
		cmocka_unit_test(test_dsdt_mmio64_window),
		cmocka_unit_test(test_madt),
		cmocka_unit_test(test_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
