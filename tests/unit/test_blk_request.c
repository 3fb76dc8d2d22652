// SPDX-License-Identifier: GPL-2.0-only
/*
 * bulkhead-blk's pure parts: blk_request_parse() on chains laid out the
 * way a driver may lay them out (header, data and status split or merged
 * across buffers), every range check at and around the capacity and at
 * the limits of 64-bit arithmetic, and the config space and features.
 */
#include <endian.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "devmodel/blk/blk_config.h"
#include "devmodel/blk/blk_request.h"

#define CAP 2048u /* sectors: 1 MiB */

static uint8_t guest[(1 << 20) + 4096];

struct built {
	struct iovec iov[16];
	struct vq_chain chain;
};

static struct blk_limits limits(bool readonly, bool discard)
{
	struct blk_params p = {
		.size = (uint64_t)CAP * 512,
		.block_size = 512,
		.discard_align = 4096,
		.readonly = readonly,
		.discard = discard,
		.nqueues = 1,
	};
	struct blk_limits lim;

	blk_limits_init(&p, true, &lim);
	return lim;
}

/* out: readable byte counts; in: writable ones; all from guest[]. */
static void build(struct built *b, const size_t *out, unsigned int nout,
		  const size_t *in, unsigned int nin)
{
	size_t off = 0;

	memset(b, 0, sizeof(*b));
	for (unsigned int i = 0; i < nout; i++) {
		b->iov[i].iov_base = guest + off;
		b->iov[i].iov_len = out[i];
		b->chain.out_len += out[i];
		off += out[i];
	}
	for (unsigned int i = 0; i < nin; i++) {
		b->iov[nout + i].iov_base = guest + off;
		b->iov[nout + i].iov_len = in[i];
		b->chain.in_len += in[i];
		off += in[i];
	}
	b->chain.nout = nout;
	b->chain.nin = nin;
	b->chain.iov = b->iov;
	b->chain.iov_cap = 16;
}

/* The header at the start of guest[], whatever the split. */
static void header(uint32_t type, uint64_t sector)
{
	struct virtio_blk_outhdr h = {
		.type = htole32(type),
		.sector = htole64(sector),
	};

	memcpy(guest, &h, sizeof(h));
}

static struct blk_request parse_simple(const struct blk_limits *lim,
				       uint32_t type, uint64_t sector,
				       size_t out_data, size_t in_data)
{
	size_t out[2] = { 16, out_data }, in[2] = { in_data, 1 };
	static struct built b; /* req points into it */
	struct blk_request req;

	header(type, sector);
	if (in_data)
		build(&b, out, out_data ? 2 : 1, in, 2);
	else
		build(&b, out, out_data ? 2 : 1, in + 1, 1);
	blk_request_parse(lim, &b.chain, &req);
	return req;
}

static void test_read_write(void **state)
{
	struct blk_limits lim = limits(false, true);
	struct blk_request r;

	(void)state;
	r = parse_simple(&lim, VIRTIO_BLK_T_IN, 8, 0, 4096);
	assert_int_equal(r.op, BLK_OP_READ);
	assert_int_equal(r.offset, 8 * 512);
	assert_int_equal(r.len, 4096);
	assert_int_equal(r.niov, 1);
	assert_ptr_equal(r.iov[0].iov_base, guest + 16);
	assert_ptr_equal(r.status_ptr, guest + 16 + 4096);
	assert_int_equal(blk_request_used_len(&r, VIRTIO_BLK_S_OK, 4096), 4097);
	assert_int_equal(blk_request_used_len(&r, VIRTIO_BLK_S_IOERR, 0), 1);

	r = parse_simple(&lim, VIRTIO_BLK_T_OUT, CAP - 8, 4096, 0);
	assert_int_equal(r.op, BLK_OP_WRITE);
	assert_int_equal(r.offset, (uint64_t)(CAP - 8) * 512);
	assert_int_equal(r.len, 4096);
	assert_ptr_equal(r.iov[0].iov_base, guest + 16);
	assert_int_equal(blk_request_used_len(&r, VIRTIO_BLK_S_OK, 0), 1);

	/* Zero-length transfers are fine and do nothing. */
	r = parse_simple(&lim, VIRTIO_BLK_T_IN, CAP, 0, 0);
	assert_int_equal(r.op, BLK_OP_ANSWER);
	assert_int_equal(r.status, VIRTIO_BLK_S_OK);
}

static void test_ranges_against_capacity(void **state)
{
	struct blk_limits lim = limits(false, true);
	static const struct {
		uint64_t sector;
		size_t len;
		bool ok;
	} cases[] = {
		{ 0, 512, true },
		{ CAP - 1, 512, true },
		{ CAP - 1, 1024, false },
		{ CAP, 512, false },
		{ CAP + 1, 512, false },
		{ 0, (size_t)CAP * 512, true },
		{ 1, (size_t)CAP * 512, false },
		{ UINT64_MAX, 512, false },
		{ UINT64_MAX / 512, 512, false },
		{ UINT64_MAX / 512 + 1, 512, false }, /* sector * 512 wraps */
		{ 1ull << 63, 512, false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct blk_request r;

		if (cases[i].len > sizeof(guest) - 64)
			continue;
		r = parse_simple(&lim, VIRTIO_BLK_T_IN, cases[i].sector, 0,
				 cases[i].len);
		assert_int_equal(r.op,
				 cases[i].ok ? BLK_OP_READ : BLK_OP_ANSWER);
		if (!cases[i].ok)
			assert_int_equal(r.status, VIRTIO_BLK_S_IOERR);
		r = parse_simple(&lim, VIRTIO_BLK_T_OUT, cases[i].sector,
				 cases[i].len, 0);
		assert_int_equal(r.op,
				 cases[i].ok ? BLK_OP_WRITE : BLK_OP_ANSWER);
	}
	/* Not whole sectors. */
	assert_int_equal(parse_simple(&lim, VIRTIO_BLK_T_IN, 0, 0, 100).status,
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(parse_simple(&lim, VIRTIO_BLK_T_OUT, 0, 513, 0).status,
			 VIRTIO_BLK_S_IOERR);
}

static void test_split_layouts(void **state)
{
	struct blk_limits lim = limits(false, true);
	struct blk_request r;
	struct built b;

	(void)state;
	/* Header in 3 pieces, data sharing a buffer with the header's end. */
	{
		size_t out[3] = { 5, 7, 4 + 1024 };

		header(VIRTIO_BLK_T_OUT, 2);
		build(&b, out, 3, (size_t[]){ 1 }, 1);
		blk_request_parse(&lim, &b.chain, &r);
		assert_int_equal(r.op, BLK_OP_WRITE);
		assert_int_equal(r.len, 1024);
		assert_int_equal(r.niov, 1);
		assert_ptr_equal(r.iov[0].iov_base, guest + 16);
		assert_int_equal(r.iov[0].iov_len, 1024);
	}
	/* Status byte at the end of the last data buffer. */
	{
		size_t out[1] = { 16 };
		size_t in[2] = { 512, 513 };

		header(VIRTIO_BLK_T_IN, 0);
		build(&b, out, 1, in, 2);
		blk_request_parse(&lim, &b.chain, &r);
		assert_int_equal(r.op, BLK_OP_READ);
		assert_int_equal(r.len, 1024);
		assert_int_equal(r.niov, 2);
		assert_int_equal(r.iov[1].iov_len, 512);
		assert_ptr_equal(r.status_ptr, guest + 16 + 1024);
	}
	/* Trailing empty writable buffers do not hide the status byte. */
	{
		size_t out[1] = { 16 };
		size_t in[3] = { 512, 1, 0 };

		header(VIRTIO_BLK_T_IN, 0);
		build(&b, out, 1, in, 3);
		blk_request_parse(&lim, &b.chain, &r);
		assert_int_equal(r.op, BLK_OP_READ);
		assert_ptr_equal(r.status_ptr, guest + 16 + 512);
	}
}

static void test_malformed_shapes(void **state)
{
	struct blk_limits lim = limits(false, true);
	struct blk_request r;
	struct built b;

	(void)state;
	/* No writable byte: nowhere to put a status. */
	header(VIRTIO_BLK_T_IN, 0);
	build(&b, (size_t[]){ 16 }, 1, NULL, 0);
	blk_request_parse(&lim, &b.chain, &r);
	assert_int_equal(r.op, BLK_OP_ANSWER);
	assert_null(r.status_ptr);
	assert_int_equal(blk_request_used_len(&r, VIRTIO_BLK_S_IOERR, 0), 0);
	/* A short header. */
	build(&b, (size_t[]){ 15 }, 1, (size_t[]){ 1 }, 1);
	blk_request_parse(&lim, &b.chain, &r);
	assert_int_equal(r.status, VIRTIO_BLK_S_IOERR);
	assert_non_null(r.status_ptr);
	/* Readable data on a read; writable data on a write or flush. */
	assert_int_equal(
		parse_simple(&lim, VIRTIO_BLK_T_IN, 0, 512, 512).status,
		VIRTIO_BLK_S_IOERR);
	assert_int_equal(
		parse_simple(&lim, VIRTIO_BLK_T_OUT, 0, 512, 512).status,
		VIRTIO_BLK_S_IOERR);
	assert_int_equal(parse_simple(&lim, VIRTIO_BLK_T_FLUSH, 0, 0, 8).status,
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(parse_simple(&lim, VIRTIO_BLK_T_FLUSH, 0, 0, 0).op,
			 BLK_OP_FLUSH);
	/* Types nobody implements here. */
	static const uint32_t unsupp[] = {
		2, 3, 10, 14, 15, 99, VIRTIO_BLK_T_IN | 0x80000000u, UINT32_MAX
	};
	for (size_t i = 0; i < sizeof(unsupp) / sizeof(unsupp[0]); i++) {
		r = parse_simple(&lim, unsupp[i], 0, 0, 512);
		assert_int_equal(r.op, BLK_OP_ANSWER);
		assert_int_equal(r.status, VIRTIO_BLK_S_UNSUPP);
	}
}

static void test_get_id(void **state)
{
	struct blk_limits lim = limits(false, true);
	struct blk_request r;

	(void)state;
	r = parse_simple(&lim, VIRTIO_BLK_T_GET_ID, 0, 0, 20);
	assert_int_equal(r.op, BLK_OP_GET_ID);
	assert_int_equal(r.len, 20);
	r = parse_simple(&lim, VIRTIO_BLK_T_GET_ID, 0, 0, 512);
	assert_int_equal(r.len, 20);
	r = parse_simple(&lim, VIRTIO_BLK_T_GET_ID, 0, 0, 8);
	assert_int_equal(r.len, 8);
	assert_int_equal(
		parse_simple(&lim, VIRTIO_BLK_T_GET_ID, 0, 0, 0).status,
		VIRTIO_BLK_S_IOERR);
	lim.serial = false;
	assert_int_equal(
		parse_simple(&lim, VIRTIO_BLK_T_GET_ID, 0, 0, 20).status,
		VIRTIO_BLK_S_UNSUPP);
}

static struct blk_request parse_ranges(const struct blk_limits *lim,
				       uint32_t type, const uint64_t (*seg)[3],
				       unsigned int n)
{
	struct virtio_blk_discard_write_zeroes d;
	struct blk_request req;
	struct built b;

	header(type, 0);
	for (unsigned int i = 0; i < n; i++) {
		d.sector = htole64(seg[i][0]);
		d.num_sectors = htole32((uint32_t)seg[i][1]);
		d.flags = htole32((uint32_t)seg[i][2]);
		memcpy(guest + 16 + 16 * i, &d, sizeof(d));
	}
	build(&b, (size_t[]){ 16 + 16 * n }, 1, (size_t[]){ 1 }, 1);
	blk_request_parse(lim, &b.chain, &req);
	return req;
}

static void test_discard_and_write_zeroes(void **state)
{
	struct blk_limits lim = limits(false, true);
	struct blk_request r;
	const uint64_t two[2][3] = { { 8, 8, 0 }, { CAP - 8, 8, 0 } };
	const uint64_t unmap[1][3] = { { 0, 8, 1 } };
	const uint64_t reserved[1][3] = { { 0, 8, 2 } };
	const uint64_t past[1][3] = { { CAP - 4, 8, 0 } };
	const uint64_t wrap[1][3] = { { UINT64_MAX - 2, 8, 0 } };
	const uint64_t empty[1][3] = { { 0, 0, 0 } };
	const uint64_t huge[1][3] = { { 0, BLK_RANGE_SECTORS_MAX + 1, 0 } };
	uint64_t many[BLK_RANGES_MAX + 1][3];

	(void)state;
	r = parse_ranges(&lim, VIRTIO_BLK_T_DISCARD, two, 2);
	assert_int_equal(r.op, BLK_OP_DISCARD);
	assert_int_equal(r.nranges, 2);
	assert_int_equal(r.range[1].offset, (uint64_t)(CAP - 8) * 512);
	assert_int_equal(r.range[1].len, 4096);
	/* The unmap flag belongs to WRITE_ZEROES only. */
	assert_int_equal(
		parse_ranges(&lim, VIRTIO_BLK_T_DISCARD, unmap, 1).status,
		VIRTIO_BLK_S_UNSUPP);
	r = parse_ranges(&lim, VIRTIO_BLK_T_WRITE_ZEROES, unmap, 1);
	assert_int_equal(r.op, BLK_OP_WRITE_ZEROES);
	assert_true(r.range[0].unmap);
	assert_int_equal(parse_ranges(&lim, VIRTIO_BLK_T_WRITE_ZEROES, reserved,
				      1)
				 .status,
			 VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(
		parse_ranges(&lim, VIRTIO_BLK_T_DISCARD, past, 1).status,
		VIRTIO_BLK_S_IOERR);
	assert_int_equal(
		parse_ranges(&lim, VIRTIO_BLK_T_DISCARD, wrap, 1).status,
		VIRTIO_BLK_S_IOERR);
	assert_int_equal(
		parse_ranges(&lim, VIRTIO_BLK_T_DISCARD, empty, 1).status,
		VIRTIO_BLK_S_IOERR);
	assert_int_equal(
		parse_ranges(&lim, VIRTIO_BLK_T_DISCARD, huge, 1).status,
		VIRTIO_BLK_S_IOERR);
	for (unsigned int i = 0; i <= BLK_RANGES_MAX; i++) {
		many[i][0] = i;
		many[i][1] = 1;
		many[i][2] = 0;
	}
	assert_int_equal(parse_ranges(&lim, VIRTIO_BLK_T_DISCARD, many,
				      BLK_RANGES_MAX)
				 .op,
			 BLK_OP_DISCARD);
	assert_int_equal(parse_ranges(&lim, VIRTIO_BLK_T_DISCARD, many,
				      BLK_RANGES_MAX + 1)
				 .status,
			 VIRTIO_BLK_S_IOERR);
	/* No ranges, or not whole ones. */
	assert_int_equal(
		parse_ranges(&lim, VIRTIO_BLK_T_DISCARD, two, 0).status,
		VIRTIO_BLK_S_IOERR);
	assert_int_equal(
		parse_simple(&lim, VIRTIO_BLK_T_DISCARD, 0, 20, 0).status,
		VIRTIO_BLK_S_IOERR);
	/* Without --discard: not offered, so unsupported; no unmapping. */
	lim = limits(false, false);
	assert_int_equal(
		parse_ranges(&lim, VIRTIO_BLK_T_DISCARD, two, 1).status,
		VIRTIO_BLK_S_UNSUPP);
	r = parse_ranges(&lim, VIRTIO_BLK_T_WRITE_ZEROES, unmap, 1);
	assert_int_equal(r.op, BLK_OP_WRITE_ZEROES);
	assert_false(r.range[0].unmap);
}

static void test_readonly(void **state)
{
	struct blk_limits lim = limits(true, true);
	const uint64_t one[1][3] = { { 0, 8, 0 } };

	(void)state;
	assert_int_equal(parse_simple(&lim, VIRTIO_BLK_T_IN, 0, 0, 512).op,
			 BLK_OP_READ);
	assert_int_equal(parse_simple(&lim, VIRTIO_BLK_T_OUT, 0, 512, 0).status,
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(
		parse_ranges(&lim, VIRTIO_BLK_T_DISCARD, one, 1).status,
		VIRTIO_BLK_S_IOERR);
	assert_int_equal(
		parse_ranges(&lim, VIRTIO_BLK_T_WRITE_ZEROES, one, 1).status,
		VIRTIO_BLK_S_IOERR);
	/* Nothing was written, so a flush has nothing to do. */
	assert_int_equal(parse_simple(&lim, VIRTIO_BLK_T_FLUSH, 0, 0, 0).op,
			 BLK_OP_ANSWER);
}

static void test_config_space(void **state)
{
	struct blk_params p = {
		.size = 10ull << 30 | 300, /* not a whole sector at the end */
		.block_size = 4096,
		.discard_align = 4096,
		.discard = true,
		.nqueues = 4,
	};
	struct virtio_blk_config c;
	uint8_t buf[sizeof(c) + 8];
	uint64_t f;

	(void)state;
	blk_config_init(&p, &c);
	assert_int_equal(le64toh(c.capacity), (10ull << 30) / 512);
	assert_int_equal(le32toh(c.seg_max), BLK_SEG_MAX);
	assert_int_equal(le32toh(c.blk_size), 4096);
	assert_int_equal(le16toh(c.num_queues), 4);
	assert_int_equal(le32toh(c.max_discard_seg), BLK_RANGES_MAX);
	assert_int_equal(le32toh(c.discard_sector_alignment), 8);
	assert_int_equal(c.write_zeroes_may_unmap, 1);
	f = blk_features(&p);
	assert_true(f & 1ull << VIRTIO_BLK_F_DISCARD);
	assert_true(f & 1ull << VIRTIO_BLK_F_WRITE_ZEROES);
	assert_true(f & 1ull << VIRTIO_BLK_F_FLUSH);
	assert_false(f & 1ull << VIRTIO_BLK_F_RO);
	/* Reads inside, at the edge, and out of bounds. */
	assert_int_equal(blk_config_read(&c, 0, buf, sizeof(c)), 0);
	assert_memory_equal(buf, &c, sizeof(c));
	assert_int_equal(blk_config_read(&c, sizeof(c), buf, 0), 0);
	assert_int_equal(blk_config_read(&c, sizeof(c) - 4, buf, 4), 0);
	assert_int_equal(blk_config_read(&c, sizeof(c) - 4, buf, 5), -1);
	assert_int_equal(blk_config_read(&c, sizeof(c) + 1, buf, 0), -1);
	assert_int_equal(blk_config_read(&c, UINT32_MAX, buf, 2), -1);
	assert_int_equal(blk_config_read(&c, 4, buf, UINT32_MAX), -1);

	p.readonly = true;
	blk_config_init(&p, &c);
	f = blk_features(&p);
	assert_true(f & 1ull << VIRTIO_BLK_F_RO);
	assert_false(f & 1ull << VIRTIO_BLK_F_DISCARD);
	assert_false(f & 1ull << VIRTIO_BLK_F_WRITE_ZEROES);
	assert_int_equal(c.max_discard_sectors, 0);
	assert_int_equal(c.max_write_zeroes_sectors, 0);
	p.readonly = false;
	p.discard = false;
	f = blk_features(&p);
	assert_false(f & 1ull << VIRTIO_BLK_F_DISCARD);
	assert_true(f & 1ull << VIRTIO_BLK_F_WRITE_ZEROES);
	/* Under layers neither is offered, whatever discard says. */
	p.discard = true;
	p.layered = true;
	blk_config_init(&p, &c);
	f = blk_features(&p);
	assert_false(f & 1ull << VIRTIO_BLK_F_DISCARD);
	assert_false(f & 1ull << VIRTIO_BLK_F_WRITE_ZEROES);
	assert_int_equal(c.max_discard_sectors, 0);
	assert_int_equal(c.max_write_zeroes_sectors, 0);
	assert_int_equal(c.write_zeroes_may_unmap, 0);
	{
		struct blk_limits lim;

		blk_limits_init(&p, false, &lim);
		assert_false(lim.discard);
		assert_false(lim.write_zeroes);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_write),
		cmocka_unit_test(test_ranges_against_capacity),
		cmocka_unit_test(test_split_layouts),
		cmocka_unit_test(test_malformed_shapes),
		cmocka_unit_test(test_get_id),
		cmocka_unit_test(test_discard_and_write_zeroes),
		cmocka_unit_test(test_readonly),
		cmocka_unit_test(test_config_space),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
