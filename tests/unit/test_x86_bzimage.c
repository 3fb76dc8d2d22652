// SPDX-License-Identifier: GPL-2.0-only
/*
 * bzImage parsing, the zero page, command-line bounds and initrd placement.
 * Images are synthetic: a setup header written field by field from the
 * x86 boot protocol, so every refusal can be provoked on its own.
 */
#include "hv/x86/bootparams.h"
#include "hv/x86/bzimage.h"
#include "hv/x86/layout.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define IMG_SETUP_SECTS 6
#define IMG_KERNEL_BYTES (64 * 1024)
#define IMG_LEN ((IMG_SETUP_SECTS + 1) * 512 + IMG_KERNEL_BYTES)

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

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
	return rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

/* A well-formed protocol 2.15 image: offsets from Documentation/x86/boot. */
static uint8_t *make_image(size_t len)
{
	uint8_t *b = calloc(1, len);

	assert_non_null(b);
	for (size_t i = 0x300; i < len; i++)
		b[i] = (uint8_t)(i * 7 + 1); /* kernel body: not zero */
	b[0x1f1] = IMG_SETUP_SECTS;
	le32(b + 0x1f4, IMG_KERNEL_BYTES / 16); /* syssize */
	le16(b + 0x1fe, 0xaa55);
	b[0x200] = 0xeb; /* jmp short */
	b[0x201] = 0x66; /* header runs to 0x202 + 0x66 = 0x268 */
	le32(b + 0x202, 0x53726448); /* "HdrS" */
	le16(b + 0x206, 0x020f);
	b[0x211] = 0x01; /* LOADED_HIGH */
	le32(b + 0x22c, 0x7fffffff); /* initrd_addr_max */
	le32(b + 0x230, 0x200000); /* kernel_alignment */
	b[0x234] = 1; /* relocatable */
	le16(b + 0x236,
	     0x0003); /* XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G */
	le32(b + 0x238, 2047); /* cmdline_size */
	le64(b + 0x258, 0x1000000); /* pref_address */
	le32(b + 0x260, 0x2000000); /* init_size */
	return b;
}

static void expect_refusal(const uint8_t *img, size_t len, const char *word)
{
	struct bzimage_info info;
	const char *why = NULL;

	assert_int_equal(bzimage_parse(img, len, &info, &why), -1);
	assert_non_null(why);
	if (!strstr(why, word))
		fail_msg("refusal \"%s\" does not mention \"%s\"", why, word);
}

static void test_parse_valid(void **state)
{
	uint8_t *img = make_image(IMG_LEN);
	struct bzimage_info info;
	const char *why = NULL;

	(void)state;
	assert_int_equal(bzimage_parse(img, IMG_LEN, &info, &why), 0);
	assert_int_equal(info.version, 0x020f);
	assert_int_equal(info.setup_size, (IMG_SETUP_SECTS + 1) * 512);
	assert_int_equal(info.kernel_size, IMG_KERNEL_BYTES);
	assert_int_equal(info.header_end, 0x268);
	assert_int_equal(info.initrd_addr_max, 0x7fffffff);
	assert_int_equal(info.cmdline_size, 2047);
	assert_int_equal(info.pref_address, 0x1000000);
	assert_int_equal(info.init_size, 0x2000000);
	assert_int_equal(info.loadflags, 0x01);
	assert_int_equal(info.xloadflags, 0x0003);
	free(img);
}

/* setup_sects 0 means 4 (boot protocol); trailing bytes are kernel too. */
static void test_parse_setup_sects_zero_and_padding(void **state)
{
	size_t len = 5 * 512 + IMG_KERNEL_BYTES + 100;
	uint8_t *img = make_image(len);
	struct bzimage_info info;
	const char *why;

	(void)state;
	img[0x1f1] = 0;
	assert_int_equal(bzimage_parse(img, len, &info, &why), 0);
	assert_int_equal(info.setup_size, 5 * 512);
	assert_int_equal(info.kernel_size, IMG_KERNEL_BYTES + 100);
	free(img);
}

/* A header claiming to run past the zero page's header area is cut there. */
static void test_parse_header_end_clamped(void **state)
{
	uint8_t *img = make_image(IMG_LEN);
	struct bzimage_info info;
	const char *why;

	(void)state;
	img[0x201] = 0xff;
	assert_int_equal(bzimage_parse(img, IMG_LEN, &info, &why), 0);
	assert_int_equal(info.header_end, SH_END_MAX);
	/* The boundary: one byte over is clamped, exactly 0x290 is kept. */
	img[0x201] = 0x8f;
	assert_int_equal(bzimage_parse(img, IMG_LEN, &info, &why), 0);
	assert_int_equal(info.header_end, SH_END_MAX);
	img[0x201] = 0x8e;
	assert_int_equal(bzimage_parse(img, IMG_LEN, &info, &why), 0);
	assert_int_equal(info.header_end, 0x290);
	img[0x201] = 0x62; /* exactly through init_size */
	assert_int_equal(bzimage_parse(img, IMG_LEN, &info, &why), 0);
	assert_int_equal(info.header_end, 0x264);
	free(img);
}

static void test_refuse_too_small(void **state)
{
	uint8_t *img = make_image(IMG_LEN);

	(void)state;
	expect_refusal(img, 0, "too small");
	expect_refusal(img, 0x28f, "too small");
	free(img);
}

static void test_refuse_no_boot_flag(void **state)
{
	uint8_t *img = make_image(IMG_LEN);

	(void)state;
	img[0x1fe] = 0x55;
	img[0x1ff] = 0x55;
	expect_refusal(img, IMG_LEN, "not a bzImage");
	free(img);
}

static void test_refuse_no_hdrs(void **state)
{
	uint8_t *img = make_image(IMG_LEN);

	(void)state;
	memcpy(img + 0x202, "HdrT", 4);
	expect_refusal(img, IMG_LEN, "not a bzImage");
	free(img);
}

static void test_refuse_old_protocol(void **state)
{
	uint8_t *img = make_image(IMG_LEN);
	struct bzimage_info info;
	const char *why;

	(void)state;
	le16(img + 0x206, 0x020b);
	expect_refusal(img, IMG_LEN, "older than 2.12");
	le16(img + 0x206, 0x020c); /* the oldest accepted */
	assert_int_equal(bzimage_parse(img, IMG_LEN, &info, &why), 0);
	free(img);
}

static void test_refuse_no_64bit_entry(void **state)
{
	uint8_t *img = make_image(IMG_LEN);

	(void)state;
	le16(img + 0x236, 0x0002);
	expect_refusal(img, IMG_LEN, "64-bit entry");
	free(img);
}

static void test_refuse_not_loaded_high(void **state)
{
	uint8_t *img = make_image(IMG_LEN);

	(void)state;
	img[0x211] = 0x80;
	expect_refusal(img, IMG_LEN, "zImage");
	free(img);
}

static void test_refuse_truncated_setup(void **state)
{
	uint8_t *img = make_image(IMG_LEN);

	(void)state;
	/* 128 setup sectors = 64.5 KiB of setup in a 0x290-byte file */
	img[0x1f1] = 128;
	expect_refusal(img, 0x1000, "setup code runs past");
	/* setup exactly as long as the file: no kernel at all */
	img[0x1f1] = 7;
	expect_refusal(img, 8 * 512, "setup code runs past");
	free(img);
}

static void test_refuse_syssize(void **state)
{
	uint8_t *img = make_image(IMG_LEN);
	struct bzimage_info info;
	const char *why;

	(void)state;
	le32(img + 0x1f4, 0);
	expect_refusal(img, IMG_LEN, "empty");
	/* One paragraph more than the file holds. */
	le32(img + 0x1f4, IMG_KERNEL_BYTES / 16 + 1);
	expect_refusal(img, IMG_LEN, "shorter than its header");
	/* A syssize whose byte count overflows 32 bits. */
	le32(img + 0x1f4, 0xffffffff);
	expect_refusal(img, IMG_LEN, "shorter than its header");
	le32(img + 0x1f4, IMG_KERNEL_BYTES / 16);
	assert_int_equal(bzimage_parse(img, IMG_LEN, &info, &why), 0);
	free(img);
}

static void test_refuse_short_header(void **state)
{
	uint8_t *img = make_image(IMG_LEN);

	(void)state;
	img[0x201] = 0x61; /* ends one byte into init_size */
	expect_refusal(img, IMG_LEN, "header too short");
	free(img);
}

static void test_refuse_zero_fields(void **state)
{
	static const size_t fields[] = { 0x260, 0x238, 0x22c };
	uint8_t *img = make_image(IMG_LEN);

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		uint8_t save[4];

		memcpy(save, img + fields[i], 4);
		le32(img + fields[i], 0);
		expect_refusal(img, IMG_LEN, "zero");
		memcpy(img + fields[i], save, 4);
	}
	free(img);
}

/* pref_address + init_size must not wrap: the loader sizes RAM by it. */
static void test_refuse_footprint_overflow(void **state)
{
	uint8_t *img = make_image(IMG_LEN);
	struct bzimage_info info;
	const char *why;

	(void)state;
	le64(img + 0x258, 0xffffffff00100000ull);
	le32(img + 0x260, 0xffffffff);
	expect_refusal(img, IMG_LEN, "overflows");
	/* The largest footprint end that does not wrap is accepted. */
	le64(img + 0x258, 0xffffffff00000000ull);
	assert_int_equal(bzimage_parse(img, IMG_LEN, &info, &why), 0);
	assert_int_equal(kernel_footprint_end(&info), UINT64_MAX);
	free(img);
}

static struct e820_map sample_map(void)
{
	struct e820_map m = { .n = 3 };

	m.entry[0] = (struct e820_entry){ 0, 0x9fc00, 1 };
	m.entry[1] = (struct e820_entry){ 0x100000, 0x7f00000, 1 };
	m.entry[2] = (struct e820_entry){ 0x100000000ull, 0x123456789ull, 2 };
	return m;
}

static void check_e820(const uint8_t *zp, const struct e820_map *m)
{
	assert_int_equal(zp[0x1e8], m->n);
	for (unsigned int i = 0; i < m->n; i++) {
		const uint8_t *e = zp + 0x2d0 + 20 * i;

		assert_int_equal(rd64(e), m->entry[i].addr);
		assert_int_equal(rd64(e + 8), m->entry[i].size);
		assert_int_equal(rd32(e + 16), m->entry[i].type);
	}
}

static void test_boot_params_from_image(void **state)
{
	uint8_t *img = make_image(IMG_LEN);
	struct boot_inputs in = {
		.cmdline_gpa = 0x20000,
		.cmdline_len = 12,
		.initrd_gpa = 0x7654000,
		.initrd_size = 0x123457,
		.rsdp_gpa = 0xe0000,
	};
	struct e820_map map = sample_map();
	struct bzimage_info info;
	uint8_t *zp = malloc(ZERO_PAGE_SIZE);
	const char *why;

	(void)state;
	assert_non_null(zp);
	/* Bytes past the header must not be copied: make them visible. */
	memset(img + 0x268, 0xcc, 0x300 - 0x268);
	assert_int_equal(bzimage_parse(img, IMG_LEN, &info, &why), 0);
	memset(zp, 0xee, ZERO_PAGE_SIZE);
	boot_params_build(zp, img, &info, &in, &map);

	/* The header is the image's, except the fields the loader owns. */
	for (size_t o = 0x1f1; o < 0x268; o++) {
		if ((o >= 0x1fa && o < 0x1fc) || o == 0x210 ||
		    (o >= 0x218 && o < 0x220) || (o >= 0x228 && o < 0x22c))
			continue;
		if (zp[o] != img[o])
			fail_msg("zero page byte 0x%zx differs from the image",
				 o);
	}
	assert_int_equal(zp[0x210], 0xff); /* type_of_loader: undefined */
	assert_int_equal(zp[0x1fa] | zp[0x1fb] << 8, 0xffff); /* vid_mode */
	assert_int_equal(rd32(zp + 0x218), 0x7654000);
	assert_int_equal(rd32(zp + 0x21c), 0x123457);
	assert_int_equal(rd32(zp + 0x228), 0x20000);
	assert_int_equal(rd64(zp + 0x070), 0xe0000);
	check_e820(zp, &map);
	/* Everything else is zero: the header copy is bounded. */
	for (size_t o = 0; o < ZERO_PAGE_SIZE; o++) {
		if ((o >= 0x1f1 && o < 0x268) || (o >= 0x070 && o < 0x078) ||
		    o == 0x1e8 || (o >= 0x2d0 && o < 0x2d0 + 3 * 20))
			continue;
		if (zp[o])
			fail_msg("zero page byte 0x%zx is 0x%x, not 0", o,
				 zp[o]);
	}
	free(zp);
	free(img);
}

/* An image whose header claims the maximum: the copy stops at 0x290. */
static void test_boot_params_header_copy_bounded(void **state)
{
	uint8_t *img = make_image(IMG_LEN);
	struct boot_inputs in = { 0 };
	struct e820_map map = { 0 };
	struct bzimage_info info;
	uint8_t *zp = malloc(ZERO_PAGE_SIZE);
	const char *why;

	(void)state;
	assert_non_null(zp);
	img[0x201] = 0xff;
	memset(img + 0x268, 0xcc, 0x300 - 0x268);
	assert_int_equal(bzimage_parse(img, IMG_LEN, &info, &why), 0);
	boot_params_build(zp, img, &info, &in, &map);
	assert_int_equal(zp[0x28f], 0xcc);
	for (size_t o = 0x290; o < 0x300; o++)
		assert_int_equal(zp[o], 0);
	free(zp);
	free(img);
}

/* An ELF guest: no header, only the command line, RSDP and memory map. */
static void test_boot_params_without_image(void **state)
{
	struct boot_inputs in = { .cmdline_gpa = 0x20000,
				  .initrd_gpa = 0x5000000,
				  .initrd_size = 99,
				  .rsdp_gpa = 0xe0000 };
	struct e820_map map = sample_map();
	uint8_t *zp = malloc(ZERO_PAGE_SIZE);

	(void)state;
	assert_non_null(zp);
	memset(zp, 0xee, ZERO_PAGE_SIZE);
	boot_params_build(zp, NULL, NULL, &in, &map);
	assert_int_equal(rd32(zp + 0x228), 0x20000);
	assert_int_equal(rd64(zp + 0x070), 0xe0000);
	check_e820(zp, &map);
	for (size_t o = 0; o < ZERO_PAGE_SIZE; o++) {
		if ((o >= 0x228 && o < 0x22c) || (o >= 0x070 && o < 0x078) ||
		    o == 0x1e8 || (o >= 0x2d0 && o < 0x2d0 + 3 * 20))
			continue;
		if (zp[o])
			fail_msg("zero page byte 0x%zx is 0x%x, not 0", o,
				 zp[o]);
	}
	free(zp);
}

/* A full e820 table (128 entries) ends exactly inside the zero page. */
static void test_boot_params_full_e820(void **state)
{
	struct boot_inputs in = { 0 };
	struct e820_map *map = calloc(1, sizeof(*map));
	uint8_t *zp = malloc(ZERO_PAGE_SIZE);

	(void)state;
	assert_non_null(zp);
	assert_non_null(map);
	map->n = E820_MAX_ENTRIES;
	for (unsigned int i = 0; i < map->n; i++)
		map->entry[i] = (struct e820_entry){ (uint64_t)i << 30,
						     1u << 20, 1 + i % 2 };
	boot_params_build(zp, NULL, NULL, &in, map);
	check_e820(zp, map);
	assert_true(0x2d0 + 128 * 20 <= 0xcd0);
	free(map);
	free(zp);
}

static char *string_of(size_t len)
{
	char *s = malloc(len + 1);

	assert_non_null(s);
	memset(s, 'x', len);
	s[len] = '\0';
	return s;
}

static void test_cmdline_bounds(void **state)
{
	struct bzimage_info small = { .cmdline_size = 255 };
	struct bzimage_info big = { .cmdline_size = 0x7fffffff };
	struct bzimage_info exact = { .cmdline_size = 4095 };
	char *s;
	const char *why = NULL;

	(void)state;
	/* Our layout reserves 4 KiB for the command line and its NUL. */
	assert_int_equal(cmdline_max(NULL), LAYOUT_CMDLINE_MAX - 1);
	assert_int_equal(cmdline_max(&small), 255);
	assert_int_equal(cmdline_max(&big), LAYOUT_CMDLINE_MAX - 1);
	assert_int_equal(cmdline_max(&exact), 4095);

	s = string_of(255);
	assert_int_equal(cmdline_check(s, &small, &why), 0);
	free(s);
	s = string_of(256);
	assert_int_equal(cmdline_check(s, &small, &why), -1);
	assert_non_null(why);
	free(s);
	s = string_of(4095);
	assert_int_equal(cmdline_check(s, NULL, &why), 0);
	assert_int_equal(cmdline_check(s, &big, &why), 0);
	free(s);
	s = string_of(4096);
	assert_int_equal(cmdline_check(s, NULL, &why), -1);
	assert_int_equal(cmdline_check(s, &big, &why), -1);
	free(s);
	assert_int_equal(cmdline_check("", &small, &why), 0);
}

static void test_kernel_footprint(void **state)
{
	struct bzimage_info i = { .kernel_size = 0x800000,
				  .pref_address = 0x1000000,
				  .init_size = 0x2000000 };

	(void)state;
	/* Running at pref_address needs more than the loaded copy. */
	assert_int_equal(kernel_footprint_end(&i), 0x3000000);
	/* A preferred address below 1 MiB means 1 MiB. */
	i.pref_address = 0x10000;
	assert_int_equal(kernel_footprint_end(&i), 0x100000 + 0x2000000);
	/* A loaded image bigger than init_size sets the end. */
	i.init_size = 0x1000;
	assert_int_equal(kernel_footprint_end(&i), 0x100000 + 0x800000);
}

static void test_initrd_top_placement(void **state)
{
	struct bzimage_info i = { .kernel_size = 0x800000,
				  .pref_address = 0x1000000,
				  .init_size = 0x2000000,
				  .initrd_addr_max = 0x7fffffff };
	const uint64_t ram = 256ull << 20, size = (10ull << 20) + 123;
	uint64_t gpa = 0;
	const char *why;

	(void)state;
	assert_int_equal(initrd_place(&i, ram, size, &gpa, &why), 0);
	assert_int_equal(gpa % 4096, 0);
	assert_true(gpa + size <= ram);
	/* The highest page-aligned address: one page more does not fit. */
	assert_true(gpa + 4096 + size > ram);
	assert_int_equal(gpa, (ram - size) & ~0xfffull);
}

static void test_initrd_addr_max(void **state)
{
	struct bzimage_info i = { .kernel_size = 0x800000,
				  .pref_address = 0x1000000,
				  .init_size = 0x2000000,
				  .initrd_addr_max = (64u << 20) - 1 };
	uint64_t gpa = 0;
	const char *why;

	(void)state;
	/* RAM reaches far above initrd_addr_max: the maximum rules. */
	assert_int_equal(initrd_place(&i, 1ull << 30, 4096, &gpa, &why), 0);
	assert_int_equal(gpa, (64u << 20) - 4096);
	assert_true(gpa + 4096 - 1 <= i.initrd_addr_max);
	/* initrd_addr_max above RAM: RAM rules. */
	i.initrd_addr_max = 0xffffffff;
	assert_int_equal(initrd_place(&i, 128u << 20, 4096, &gpa, &why), 0);
	assert_int_equal(gpa, (128u << 20) - 4096);
}

static void test_initrd_floor_and_fit(void **state)
{
	struct bzimage_info i = { .kernel_size = 0x800000,
				  .pref_address = 0x1000000,
				  .init_size = 0x2000123, /* end not aligned */
				  .initrd_addr_max = 0x7fffffff };
	const uint64_t ram = 64ull << 20;
	const uint64_t floor = (0x3000123ull + 4095) & ~4095ull;
	uint64_t gpa = 0;
	const char *why = NULL;

	(void)state;
	/* Exactly the room between the kernel and the top. */
	assert_int_equal(initrd_place(&i, ram, ram - floor, &gpa, &why), 0);
	assert_int_equal(gpa, floor);
	/* One byte more would have to start below the kernel's end. */
	assert_int_equal(initrd_place(&i, ram, ram - floor + 1, &gpa, &why),
			 -1);
	assert_non_null(why);
	assert_non_null(strstr(why, "does not fit"));
	/* Bigger than all of RAM (no unsigned wrap-around). */
	assert_int_equal(initrd_place(&i, ram, ram + 1, &gpa, &why), -1);
	assert_int_equal(initrd_place(&i, ram, UINT64_MAX, &gpa, &why), -1);
	/* RAM that ends below the kernel's footprint fits nothing. */
	assert_int_equal(initrd_place(&i, 0x2000000, 4096, &gpa, &why), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_valid),
		cmocka_unit_test(test_parse_setup_sects_zero_and_padding),
		cmocka_unit_test(test_parse_header_end_clamped),
		cmocka_unit_test(test_refuse_too_small),
		cmocka_unit_test(test_refuse_no_boot_flag),
		cmocka_unit_test(test_refuse_no_hdrs),
		cmocka_unit_test(test_refuse_old_protocol),
		cmocka_unit_test(test_refuse_no_64bit_entry),
		cmocka_unit_test(test_refuse_not_loaded_high),
		cmocka_unit_test(test_refuse_truncated_setup),
		cmocka_unit_test(test_refuse_syssize),
		cmocka_unit_test(test_refuse_short_header),
		cmocka_unit_test(test_refuse_zero_fields),
		cmocka_unit_test(test_refuse_footprint_overflow),
		cmocka_unit_test(test_boot_params_from_image),
		cmocka_unit_test(test_boot_params_header_copy_bounded),
		cmocka_unit_test(test_boot_params_without_image),
		cmocka_unit_test(test_boot_params_full_e820),
		cmocka_unit_test(test_cmdline_bounds),
		cmocka_unit_test(test_kernel_footprint),
		cmocka_unit_test(test_initrd_top_placement),
		cmocka_unit_test(test_initrd_addr_max),
		cmocka_unit_test(test_initrd_floor_and_fit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
