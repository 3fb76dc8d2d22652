// SPDX-License-Identifier: GPL-2.0-only
/* Static ELF64 test-guest images: what is loaded and every refusal. */
#include "hv/x86/elf.h"
#include "hv/x86/layout.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define PH_OFF 64
#define PH_SIZE 56
#define FILE_LEN 0x4000

static void le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void le32(uint8_t *p, uint32_t v)
{
	le16(p, (uint16_t)v);
	le16(p + 2, (uint16_t)(v >> 16));
}

static void le64(uint8_t *p, uint64_t v)
{
	le32(p, (uint32_t)v);
	le32(p + 4, (uint32_t)(v >> 32));
}

/* Program header i: type, file offset, physical address, sizes. */
static void phdr(uint8_t *f, unsigned int i, uint32_t type, uint64_t off,
		 uint64_t paddr, uint64_t filesz, uint64_t memsz)
{
	uint8_t *p = f + PH_OFF + i * PH_SIZE;

	le32(p, type);
	le32(p + 4, 5); /* R+X */
	le64(p + 8, off);
	le64(p + 16, paddr | 0xffffffff80000000ull); /* vaddr: ignored */
	le64(p + 24, paddr);
	le64(p + 32, filesz);
	le64(p + 40, memsz);
	le64(p + 48, 0x1000);
}

/* Two loadable segments and a note, entry in the first. */
static uint8_t *make_elf(void)
{
	uint8_t *f = calloc(1, FILE_LEN);

	assert_non_null(f);
	memcpy(f, "\177ELF", 4);
	f[4] = 2; /* ELFCLASS64 */
	f[5] = 1; /* little-endian */
	f[6] = 1; /* EV_CURRENT */
	le16(f + 16, 2); /* ET_EXEC */
	le16(f + 18, 62); /* EM_X86_64 */
	le32(f + 20, 1);
	le64(f + 24, 0x100010); /* entry */
	le64(f + 32, PH_OFF);
	le16(f + 52, 64);
	le16(f + 54, PH_SIZE);
	le16(f + 56, 3);
	phdr(f, 0, 1, 0x1000, 0x100000, 0x800, 0x1000);
	phdr(f, 1, 4, 0x200, 0, 0x20, 0x20); /* PT_NOTE: not loaded */
	phdr(f, 2, 1, 0x2000, 0x200000, 0x1000, 0x5000);
	return f;
}

static void expect_refusal(const uint8_t *f, size_t len, const char *word)
{
	struct elf_info info;
	const char *why = NULL;

	assert_int_equal(elf_parse(f, len, &info, &why), -1);
	assert_non_null(why);
	if (!strstr(why, word))
		fail_msg("refusal \"%s\" does not mention \"%s\"", why, word);
}

static void test_valid(void **state)
{
	uint8_t *f = make_elf();
	struct elf_info info;
	const char *why;

	(void)state;
	assert_true(elf_is_elf(f, FILE_LEN));
	assert_int_equal(elf_parse(f, FILE_LEN, &info, &why), 0);
	assert_int_equal(info.entry, 0x100010);
	assert_int_equal(info.nseg, 2);
	assert_int_equal(info.seg[0].paddr, 0x100000);
	assert_int_equal(info.seg[0].offset, 0x1000);
	assert_int_equal(info.seg[0].filesz, 0x800);
	assert_int_equal(info.seg[0].memsz, 0x1000);
	assert_int_equal(info.seg[1].paddr, 0x200000);
	assert_int_equal(info.seg[1].memsz, 0x5000);
	assert_int_equal(info.end, 0x205000);
	free(f);
}

static void test_empty_segments_skipped(void **state)
{
	uint8_t *f = make_elf();
	struct elf_info info;
	const char *why;

	(void)state;
	/* A PT_LOAD with nothing in memory is ignored, wherever it points. */
	phdr(f, 1, 1, 0xffffffff, 0, 0, 0);
	assert_int_equal(elf_parse(f, FILE_LEN, &info, &why), 0);
	assert_int_equal(info.nseg, 2);
	free(f);
}

static void test_segment_limits(void **state)
{
	uint8_t *f = make_elf();
	struct elf_info info;
	const char *why;

	(void)state;
	/* A segment ending exactly at the MMIO hole is fine. */
	phdr(f, 2, 1, 0x2000, LAYOUT_MMIO_HOLE - 0x5000, 0x1000, 0x5000);
	assert_int_equal(elf_parse(f, FILE_LEN, &info, &why), 0);
	assert_int_equal(info.end, LAYOUT_MMIO_HOLE);
	/* A file-backed segment ending exactly at the end of the file. */
	phdr(f, 2, 1, FILE_LEN - 0x100, 0x200000, 0x100, 0x100);
	assert_int_equal(elf_parse(f, FILE_LEN, &info, &why), 0);
	/* The entry at the last byte of a segment. */
	le64(f + 24, 0x100fff);
	assert_int_equal(elf_parse(f, FILE_LEN, &info, &why), 0);
	/* Sixteen loadable segments is the maximum. */
	le16(f + 56, 16);
	for (unsigned int i = 0; i < 16; i++)
		phdr(f, i, 1, 0x1000, 0x100000 + i * 0x1000, 0x10, 0x1000);
	assert_int_equal(elf_parse(f, FILE_LEN, &info, &why), 0);
	assert_int_equal(info.nseg, 16);
	free(f);
}

static void test_refuse_header(void **state)
{
	uint8_t *f = make_elf();

	(void)state;
	expect_refusal(f, 63, "not an ELF");
	assert_false(elf_is_elf(f, 3));
	f[3] = 'G';
	expect_refusal(f, FILE_LEN, "not an ELF");
	assert_false(elf_is_elf(f, FILE_LEN));
	f[3] = 'F';
	f[4] = 1; /* ELFCLASS32 */
	expect_refusal(f, FILE_LEN, "64-bit little-endian");
	f[4] = 2;
	f[5] = 2; /* big-endian */
	expect_refusal(f, FILE_LEN, "64-bit little-endian");
	f[5] = 1;
	le16(f + 16, 3); /* ET_DYN */
	expect_refusal(f, FILE_LEN, "x86-64 executable");
	le16(f + 16, 2);
	le16(f + 18, 3); /* EM_386 */
	expect_refusal(f, FILE_LEN, "x86-64 executable");
	le16(f + 18, 62);
	le16(f + 54, 32);
	expect_refusal(f, FILE_LEN, "program header size");
	free(f);
}

static void test_refuse_program_headers(void **state)
{
	uint8_t *f = make_elf();

	(void)state;
	le16(f + 56, 0);
	expect_refusal(f, FILE_LEN, "program headers run past");
	le16(f + 56, 3);
	le64(f + 32, FILE_LEN + 1);
	expect_refusal(f, FILE_LEN, "program headers run past");
	/* The last header one byte past the end of the file. */
	le64(f + 32, PH_OFF);
	expect_refusal(f, PH_OFF + 3 * PH_SIZE - 1, "program headers run past");
	/* An offset so large that offset + size wraps. */
	le64(f + 32, UINT64_MAX - 8);
	expect_refusal(f, FILE_LEN, "program headers run past");
	free(f);
}

static void test_refuse_segments(void **state)
{
	uint8_t *f;

	(void)state;
	f = make_elf();
	phdr(f, 2, 1, 0x2000, 0x200000, 0x6000, 0x5000);
	expect_refusal(f, FILE_LEN, "file size exceeds");
	free(f);

	f = make_elf();
	phdr(f, 2, 1, FILE_LEN - 0xff, 0x200000, 0x100, 0x100);
	expect_refusal(f, FILE_LEN, "runs past end of file");
	phdr(f, 2, 1, FILE_LEN + 1, 0x200000, 0, 0x100);
	expect_refusal(f, FILE_LEN, "runs past end of file");
	phdr(f, 2, 1, UINT64_MAX, 0x200000, 2, 0x100);
	expect_refusal(f, FILE_LEN, "runs past end of file");
	free(f);

	f = make_elf();
	phdr(f, 2, 1, 0x2000, 0xfffff, 0x10, 0x10);
	expect_refusal(f, FILE_LEN, "outside");
	phdr(f, 2, 1, 0x2000, LAYOUT_MMIO_HOLE - 0xfff, 0x10, 0x1000);
	expect_refusal(f, FILE_LEN, "outside");
	phdr(f, 2, 1, 0x2000, 0x200000, 0x10, UINT64_MAX - 0x1000);
	expect_refusal(f, FILE_LEN, "outside");
	phdr(f, 2, 1, 0x2000, UINT64_MAX - 0xf, 0x10, 0x20);
	expect_refusal(f, FILE_LEN, "outside");
	free(f);

	f = make_elf();
	le16(f + 56, 17);
	for (unsigned int i = 0; i < 17; i++)
		phdr(f, i, 1, 0x1000, 0x100000 + i * 0x1000, 0x10, 0x1000);
	expect_refusal(f, FILE_LEN, "too many");
	free(f);

	f = make_elf();
	phdr(f, 0, 1, 0x1000, 0x100000, 0, 0);
	phdr(f, 2, 6, 0x2000, 0x200000, 0x10, 0x10); /* PT_PHDR */
	expect_refusal(f, FILE_LEN, "no loadable segment");
	free(f);
}

static void test_refuse_entry(void **state)
{
	uint8_t *f = make_elf();

	(void)state;
	le64(f + 24, 0x101000); /* one past the first segment */
	expect_refusal(f, FILE_LEN, "entry point");
	le64(f + 24, 0xfffff);
	expect_refusal(f, FILE_LEN, "entry point");
	le64(f + 24, 0);
	expect_refusal(f, FILE_LEN, "entry point");
	le64(f + 24, 0x204fff); /* the second segment's bss is fine */
	{
		struct elf_info info;
		const char *why;

		assert_int_equal(elf_parse(f, FILE_LEN, &info, &why), 0);
	}
	free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_empty_segments_skipped),
		cmocka_unit_test(test_segment_limits),
		cmocka_unit_test(test_refuse_header),
		cmocka_unit_test(test_refuse_program_headers),
		cmocka_unit_test(test_refuse_segments),
		cmocka_unit_test(test_refuse_entry),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
