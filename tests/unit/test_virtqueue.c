// SPDX-License-Identifier: GPL-2.0-only
/*
 * The device side of split virtqueues (src/virtio/virtqueue.c) against a
 * driver played by the test the way Linux's virtio_ring lays out chains,
 * over fake guest RAM: regions in separate host mappings with
 * inaccessible guard pages around each, three of them adjacent in guest
 * physical space, one beyond a gap, one ending at 2^64 and a 4 GiB one
 * that is never accessible at all (for buffers near 2^32 bytes). Every
 * hostile case checks that the queue broke, that the error names the
 * problem and that guest memory is unchanged; the guard pages and the
 * inaccessible region make any access outside RAM a crash.
 */
#include "virtio/virtqueue.h"
#include "vq_oracle.h"

#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#define F_NEXT 1
#define F_WRITE 2
#define F_INDIRECT 4
#define FEAT_INDIRECT (1ull << VIRTIO_F_INDIRECT_DESC)
#define FEAT_EVENT_IDX (1ull << VIRTIO_F_EVENT_IDX)
#define FEAT_V1 (1ull << VIRTIO_F_VERSION_1)

enum { R_RINGS, R_ADJ1, R_ADJ2, R_FAR, R_TOP, R_HUGE, NREG };

static const struct {
	uint64_t gpa, size;
} layout[NREG] = {
	[R_RINGS] = { 0x0, 0x10000 },
	[R_ADJ1] = { 0x10000, 0x4000 },
	[R_ADJ2] = { 0x14000, 0x4000 },
	/* [0x18000, 0x20000) is a gap */
	[R_FAR] = { 0x20000, 0x10000 },
	[R_TOP] = { 0xfffffffffffff000, 0x1000 },
	/* Mapped PROT_NONE: the library must never touch a buffer. */
	[R_HUGE] = { 0x100000000, (4ull << 30) + 0x10000 },
};

#define GAP_GPA 0x18000ull
#define DESC_GPA 0x0ull
#define AVAIL_GPA 0x8000ull
#define USED_GPA 0x9000ull
#define TABLE_GPA (layout[R_FAR].gpa) /* indirect tables */
#define BUF_GPA (layout[R_FAR].gpa + 0x8000) /* ordinary buffers */

struct fx {
	struct vq_mem mem;
	uint8_t *map[NREG];
	size_t maplen[NREG];
	uint8_t *snap[NREG];
	/* The driver. */
	unsigned int size;
	bool event_idx;
	uint16_t avail_idx;
	uint16_t next_desc;
	/* The device. */
	struct virtqueue vq;
	struct iovec iov[VQ_CHAIN_IOV_MAX];
	struct vq_chain chain;
};

static long page_size(void)
{
	return sysconf(_SC_PAGESIZE);
}

static int group_setup(void **state)
{
	static struct fx f;
	size_t page = (size_t)page_size();

	f.mem.nregions = NREG;
	for (int i = 0; i < NREG; i++) {
		size_t size = layout[i].size;
		uint8_t *m;

		f.maplen[i] = size + 2 * page;
		m = mmap(NULL, f.maplen[i], PROT_NONE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (m == MAP_FAILED)
			return -1;
		if (i != R_HUGE &&
		    mprotect(m + page, size, PROT_READ | PROT_WRITE))
			return -1;
		f.map[i] = m;
		f.mem.region[i].gpa = layout[i].gpa;
		f.mem.region[i].size = size;
		f.mem.region[i].host = m + page;
		f.snap[i] = i == R_HUGE ? NULL : malloc(size);
		if (i != R_HUGE && !f.snap[i])
			return -1;
	}
	*state = &f;
	return 0;
}

static int group_teardown(void **state)
{
	struct fx *f = *state;

	for (int i = 0; i < NREG; i++) {
		munmap(f->map[i], f->maplen[i]);
		free(f->snap[i]);
	}
	return 0;
}

static int setup(void **state)
{
	struct fx *f = *state;

	for (int i = 0; i < NREG; i++) {
		if (i != R_HUGE)
			memset(f->mem.region[i].host, 0, layout[i].size);
	}
	f->mem.nregions = NREG;
	memset(&f->vq, 0, sizeof(f->vq));
	f->chain = (struct vq_chain){ .iov = f->iov, .iov_cap = 16 };
	return 0;
}

/* The test's own view of RAM: host bytes of [gpa, gpa + len), accessible. */
static uint8_t *host(struct fx *f, uint64_t gpa, uint64_t len)
{
	for (int i = 0; i < NREG; i++) {
		if (i != R_HUGE && gpa >= layout[i].gpa &&
		    gpa - layout[i].gpa <= layout[i].size &&
		    len <= layout[i].size - (gpa - layout[i].gpa))
			return f->mem.region[i].host + (gpa - layout[i].gpa);
	}
	fail_msg("test bug: 0x%llx is not test RAM", (unsigned long long)gpa);
	return NULL;
}

/* A host address of any region, R_HUGE included (never dereferenced). */
static void *haddr(struct fx *f, uint64_t gpa)
{
	for (int i = 0; i < NREG; i++) {
		if (gpa >= layout[i].gpa &&
		    gpa - layout[i].gpa < layout[i].size)
			return f->mem.region[i].host + (gpa - layout[i].gpa);
	}
	fail_msg("test bug: 0x%llx is not RAM", (unsigned long long)gpa);
	return NULL;
}

static void put16(struct fx *f, uint64_t gpa, uint16_t v)
{
	__atomic_store_n((uint16_t *)host(f, gpa, 2), v, __ATOMIC_RELAXED);
}

static uint16_t get16(struct fx *f, uint64_t gpa)
{
	return __atomic_load_n((uint16_t *)host(f, gpa, 2), __ATOMIC_RELAXED);
}

static uint32_t get32(struct fx *f, uint64_t gpa)
{
	return __atomic_load_n((uint32_t *)host(f, gpa, 4), __ATOMIC_RELAXED);
}

static void snapshot(struct fx *f)
{
	for (int i = 0; i < NREG; i++) {
		if (i != R_HUGE)
			memcpy(f->snap[i], f->mem.region[i].host,
			       layout[i].size);
	}
}

static void assert_ram_unchanged(struct fx *f)
{
	for (int i = 0; i < NREG; i++) {
		if (i != R_HUGE &&
		    memcmp(f->snap[i], f->mem.region[i].host, layout[i].size))
			fail_msg("guest RAM region %d changed", i);
	}
}

/* Driver side: descriptors, chains and the avail ring, as Linux does. */

struct buf {
	uint64_t gpa;
	uint32_t len;
	bool write;
};

static void put_desc(struct fx *f, uint64_t table, unsigned int i,
		     uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	uint8_t *p = host(f, table + 16ull * i, 16);

	memcpy(p, &addr, 8);
	memcpy(p + 8, &len, 4);
	memcpy(p + 12, &flags, 2);
	memcpy(p + 14, &next, 2);
}

static void publish(struct fx *f, uint16_t head)
{
	put16(f, AVAIL_GPA + 4 + 2 * (f->avail_idx % f->size), head);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	f->avail_idx++;
	put16(f, AVAIL_GPA + 2, f->avail_idx);
}

/* Links bufs into free descriptors of the table; returns the head. */
static uint16_t chain_of(struct fx *f, const struct buf *bufs, unsigned int n)
{
	uint16_t head = f->next_desc;

	for (unsigned int k = 0; k < n; k++) {
		uint16_t i = f->next_desc;
		uint16_t next = (uint16_t)((i + 1) % f->size);

		put_desc(f, DESC_GPA, i, bufs[k].gpa, bufs[k].len,
			 (uint16_t)((bufs[k].write ? F_WRITE : 0) |
				    (k + 1 < n ? F_NEXT : 0)),
			 k + 1 < n ? next : 0);
		f->next_desc = next;
	}
	return head;
}

/* An indirect table at table holding bufs, and the descriptor naming it. */
static uint16_t indirect_of(struct fx *f, uint64_t table,
			    const struct buf *bufs, unsigned int n)
{
	uint16_t head = f->next_desc;

	for (unsigned int k = 0; k < n; k++)
		put_desc(f, table, k, bufs[k].gpa, bufs[k].len,
			 (uint16_t)((bufs[k].write ? F_WRITE : 0) |
				    (k + 1 < n ? F_NEXT : 0)),
			 (uint16_t)(k + 1 < n ? k + 1 : 0));
	put_desc(f, DESC_GPA, head, table, 16 * n, F_INDIRECT, 0);
	f->next_desc = (uint16_t)((head + 1) % f->size);
	return head;
}

static uint16_t add(struct fx *f, const struct buf *bufs, unsigned int n)
{
	uint16_t head = chain_of(f, bufs, n);

	publish(f, head);
	return head;
}

static void start(struct fx *f, unsigned int size, uint64_t features,
		  uint16_t base)
{
	f->size = size;
	f->event_idx = features & FEAT_EVENT_IDX;
	f->avail_idx = base;
	f->next_desc = 0;
	put16(f, AVAIL_GPA + 2, base);
	put16(f, USED_GPA + 2, base);
	if (vq_init(&f->vq, &f->mem, size, DESC_GPA, AVAIL_GPA, USED_GPA,
		    features, base))
		fail_msg("vq_init: %s", f->vq.error);
}

static int pop(struct fx *f)
{
	return vq_pop(&f->vq, &f->chain);
}

/* Every iovec inside one region, the lengths adding up. */
static void assert_chain_in_ram(const struct vq_mem *mem,
				const struct vq_chain *c)
{
	uint64_t sum[2] = { 0, 0 };

	assert_true(c->nout + c->nin <= c->iov_cap);
	for (unsigned int k = 0; k < c->nout + c->nin; k++) {
		const uint8_t *b = c->iov[k].iov_base;
		size_t len = c->iov[k].iov_len;
		bool inside = false;

		assert_true(len > 0);
		for (unsigned int i = 0; i < mem->nregions; i++) {
			const struct vq_region *r = &mem->region[i];

			if (b >= r->host && (uint64_t)(b - r->host) < r->size &&
			    len <= r->size - (uint64_t)(b - r->host))
				inside = true;
		}
		if (!inside)
			fail_msg("iovec %u [%p, +%zu) is outside RAM", k, b,
				 len);
		sum[k >= c->nout] += len;
	}
	assert_true(sum[0] == c->out_len);
	assert_true(sum[1] == c->in_len);
	assert_true(c->out_len + c->in_len <= 1ull << 32);
}

static void expect_iov(struct fx *f, unsigned int k, uint64_t gpa, uint64_t len)
{
	if (f->iov[k].iov_base != haddr(f, gpa) || f->iov[k].iov_len != len)
		fail_msg("iovec %u is [%p, +%zu), not gpa 0x%llx (%p) +%llu", k,
			 f->iov[k].iov_base, f->iov[k].iov_len,
			 (unsigned long long)gpa, haddr(f, gpa),
			 (unsigned long long)len);
}

/*
 * The next pop breaks the queue with an error containing words, takes
 * nothing, writes nothing, and the queue stays broken.
 */
static void expect_broken(struct fx *f, const char *words)
{
	snapshot(f);
	assert_false(f->vq.broken);
	assert_int_equal(pop(f), -1);
	assert_true(f->vq.broken);
	if (!strstr(f->vq.error, words))
		fail_msg("error \"%s\" does not say \"%s\"", f->vq.error,
			 words);
	assert_int_equal(f->chain.nout + f->chain.nin, 0);
	assert_int_equal(pop(f), -1);
	assert_int_equal(vq_pending(&f->vq), 0);
	assert_false(vq_enable_notify(&f->vq));
	assert_ram_unchanged(f);
}

/* Guest memory lookup. */

static void test_mem_ptr(void **state)
{
	struct fx *f = *state;
	const struct vq_mem *m = &f->mem;
	uint64_t top = layout[R_TOP].gpa;

	assert_ptr_equal(vq_mem_ptr(m, 0x10, 0x20), haddr(f, 0x10));
	assert_ptr_equal(vq_mem_ptr(m, 0, 0x10000), haddr(f, 0));
	assert_null(vq_mem_ptr(m, 0, 0x10001)); /* into the next region */
	assert_null(vq_mem_ptr(m, 0xfff0, 0x20));
	assert_null(vq_mem_ptr(m, 0x10, 0)); /* len 0 */
	assert_null(vq_mem_ptr(m, GAP_GPA, 1));
	assert_null(vq_mem_ptr(m, GAP_GPA - 1, 2));
	assert_ptr_equal(vq_mem_ptr(m, GAP_GPA - 1, 1), haddr(f, GAP_GPA - 1));
	/* The region ending at 2^64. */
	assert_ptr_equal(vq_mem_ptr(m, top, 0x1000), haddr(f, top));
	assert_ptr_equal(vq_mem_ptr(m, UINT64_MAX, 1), haddr(f, UINT64_MAX));
	assert_null(vq_mem_ptr(m, UINT64_MAX, 2));
	assert_null(vq_mem_ptr(m, top + 1, 0x1000));
	assert_null(vq_mem_ptr(m, top, UINT64_MAX));
	assert_null(vq_mem_ptr(m, 0x10, UINT64_MAX));
	assert_null(vq_mem_ptr(m, UINT64_MAX, UINT64_MAX));
	assert_null(vq_mem_ptr(NULL, 0x10, 1));
	/* Only the first nregions count. */
	f->mem.nregions = 1;
	assert_null(vq_mem_ptr(m, layout[R_FAR].gpa, 1));
	f->mem.nregions = NREG;
}

/* vq_init. */

static void expect_init_fails(struct fx *f, unsigned int size, uint64_t desc,
			      uint64_t avail, uint64_t used, uint64_t features,
			      const char *words)
{
	snapshot(f);
	assert_int_equal(vq_init(&f->vq, &f->mem, size, desc, avail, used,
				 features, 0),
			 -1);
	assert_true(f->vq.broken);
	if (!strstr(f->vq.error, words))
		fail_msg("error \"%s\" does not say \"%s\"", f->vq.error,
			 words);
	/* A queue that never started takes, writes and tells nothing. */
	assert_int_equal(pop(f), -1);
	assert_int_equal(vq_pending(&f->vq), 0);
	vq_push(&f->vq, 0, 0);
	assert_false(vq_should_notify(&f->vq));
	vq_disable_notify(&f->vq);
	assert_false(vq_enable_notify(&f->vq));
	assert_ram_unchanged(f);
}

static void test_init_sizes(void **state)
{
	struct fx *f = *state;
	static const unsigned int bad[] = { 0,	   3,	  6,	   100,
					    255,   257,	  32767,   32769,
					    65536, 65535, 1u << 31 };

	uint64_t huge = layout[R_HUGE].gpa;

	/* In the inaccessible region: vq_init reads no ring. */
	for (unsigned int s = 1; s <= VQ_SIZE_MAX; s *= 2) {
		if (vq_init(&f->vq, &f->mem, s, huge, huge + 0x80000,
			    huge + 0x100000, FEAT_EVENT_IDX, 0))
			fail_msg("size %u: %s", s, f->vq.error);
		assert_int_equal(f->vq.size, s);
		assert_false(f->vq.broken);
		assert_string_equal(f->vq.error, "");
	}
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++)
		expect_init_fails(f, bad[k], DESC_GPA, AVAIL_GPA, USED_GPA, 0,
				  "is not a power of two");
}

static void test_init_placement(void **state)
{
	struct fx *f = *state;
	uint64_t end = layout[R_RINGS].size;
	struct vq_mem none = { 0 };

	expect_init_fails(f, 8, DESC_GPA + 8, AVAIL_GPA, USED_GPA, 0,
			  "descriptor table at 0x8 is not 16-byte aligned");
	expect_init_fails(f, 8, DESC_GPA, AVAIL_GPA + 1, USED_GPA, 0,
			  "avail ring at 0x8001 is not 2-byte aligned");
	expect_init_fails(f, 8, DESC_GPA, AVAIL_GPA, USED_GPA + 2, 0,
			  "used ring at 0x9002 is not 4-byte aligned");
	expect_init_fails(f, 8, GAP_GPA, AVAIL_GPA, USED_GPA, 0,
			  "descriptor table [0x18000, +0x80) is not inside "
			  "one RAM region");
	/* Across the boundary of two adjacent regions: still refused. */
	expect_init_fails(f, 8, end - 0x40, AVAIL_GPA, USED_GPA, 0,
			  "descriptor table");
	expect_init_fails(f, 8, DESC_GPA, end - 0x10, USED_GPA, 0,
			  "avail ring [0xfff0, +0x14) is not inside");
	expect_init_fails(f, 8, DESC_GPA, AVAIL_GPA, UINT64_MAX - 3, 0,
			  "used ring");
	expect_init_fails(f, 8, DESC_GPA, AVAIL_GPA, USED_GPA, 1ull << 34,
			  "packed");
	assert_int_equal(vq_init(&f->vq, &none, 8, 0, 0, 0, 0, 0), -1);
	assert_non_null(strstr(f->vq.error, "inside one RAM region"));
	assert_int_equal(vq_init(&f->vq, NULL, 8, 0, 0, 0, 0, 0), -1);
	assert_non_null(strstr(f->vq.error, "no guest memory table"));
	/* RAM mapped at an odd host address: the rings would be misaligned. */
	{
		struct vq_mem odd = { .nregions = 1 };

		odd.region[0].gpa = 0;
		odd.region[0].size = 0x1000;
		odd.region[0].host = f->mem.region[R_FAR].host + 1;
		assert_int_equal(
			vq_init(&f->vq, &odd, 8, 0, 0x100, 0x200, 0, 0), -1);
		assert_non_null(strstr(f->vq.error,
				       "descriptor table at 0x0 is mapped at a "
				       "host address that is not 16-byte "
				       "aligned"));
	}
	f->mem.nregions = VQ_MEM_REGIONS_MAX + 1;
	expect_init_fails(f, 8, DESC_GPA, AVAIL_GPA, USED_GPA, 0,
			  "9 regions, more than 8");
	f->mem.nregions = NREG;

	/* Exact sizes: rings that end at the region's end fit ... */
	assert_int_equal(vq_init(&f->vq, &f->mem, 8, end - 0x80, end - 0x94,
				 end - 0x44, 0, 0),
			 0);
	assert_int_equal(vq_init(&f->vq, &f->mem, 8, end - 0x80, end - 0x16,
				 end - 0x48, FEAT_EVENT_IDX, 0),
			 0);
	/* ... and with the event index's two more bytes they do not. */
	expect_init_fails(f, 8, DESC_GPA, end - 0x14, USED_GPA, FEAT_EVENT_IDX,
			  "avail ring [0xffec, +0x16) is not inside");
	expect_init_fails(f, 8, DESC_GPA, AVAIL_GPA, end - 0x44, FEAT_EVENT_IDX,
			  "used ring [0xffbc, +0x46)");
}

/* Chains. */

static void test_simple_chain(void **state)
{
	struct fx *f = *state;
	struct buf b[] = { { BUF_GPA, 16, false },
			   { BUF_GPA + 0x100, 1, true } };
	uint16_t head;

	start(f, 8, FEAT_V1, 0);
	assert_int_equal(pop(f), 0);
	head = add(f, b, 2);
	snapshot(f);
	assert_int_equal(pop(f), 1);
	assert_ram_unchanged(f); /* taking a chain writes nothing */
	assert_int_equal(f->chain.head, head);
	assert_int_equal(f->chain.nout, 1);
	assert_int_equal(f->chain.nin, 1);
	assert_int_equal(f->chain.out_len, 16);
	assert_int_equal(f->chain.in_len, 1);
	expect_iov(f, 0, BUF_GPA, 16);
	expect_iov(f, 1, BUF_GPA + 0x100, 1);
	assert_int_equal(pop(f), 0);
	assert_int_equal(f->chain.nout + f->chain.nin, 0);

	vq_push(&f->vq, head, 1);
	assert_int_equal(get16(f, USED_GPA + 2), 1);
	assert_int_equal(get32(f, USED_GPA + 4), head);
	assert_int_equal(get32(f, USED_GPA + 8), 1);
	assert_int_equal(f->vq.used_idx, 1);
}

static void test_out_in_split(void **state)
{
	struct fx *f = *state;
	struct buf b[] = {
		{ BUF_GPA, 100, false },	 { 0x1000, 200, false },
		{ BUF_GPA + 0x800, 1, false },	 { 0x2000, 4096, true },
		{ BUF_GPA + 0x1000, 512, true },
	};

	start(f, 8, 0, 0);
	assert_int_equal(add(f, b, 5), 0);
	assert_int_equal(pop(f), 1);
	assert_int_equal(f->chain.nout, 3);
	assert_int_equal(f->chain.nin, 2);
	assert_int_equal(f->chain.out_len, 301);
	assert_int_equal(f->chain.in_len, 4608);
	for (unsigned int k = 0; k < 5; k++)
		expect_iov(f, k, b[k].gpa, b[k].len);
	/* Only writable buffers, and only readable ones. */
	assert_int_equal(add(f, b + 3, 2), 5);
	assert_int_equal(add(f, b, 1), 7);
	assert_int_equal(pop(f), 1);
	assert_int_equal(f->chain.head, 5);
	assert_int_equal(f->chain.nout, 0);
	assert_int_equal(f->chain.nin, 2);
	assert_int_equal(pop(f), 1);
	assert_int_equal(f->chain.head, 7);
	assert_int_equal(f->chain.nout, 1);
	assert_int_equal(f->chain.nin, 0);
	assert_chain_in_ram(&f->mem, &f->chain);
}

static void test_zero_length_skipped(void **state)
{
	struct fx *f = *state;
	/* Zero length: no iovec, and the address is not even looked at. */
	struct buf b[] = {
		{ BUF_GPA, 0, false },	   { GAP_GPA, 0, false },
		{ BUF_GPA, 8, false },	   { UINT64_MAX, 0, true },
		{ BUF_GPA + 64, 4, true },
	};

	start(f, 8, 0, 0);
	add(f, b, 5);
	assert_int_equal(pop(f), 1);
	assert_int_equal(f->chain.nout, 1);
	assert_int_equal(f->chain.nin, 1);
	expect_iov(f, 0, BUF_GPA, 8);
	expect_iov(f, 1, BUF_GPA + 64, 4);
	/* A chain of nothing but an empty buffer. */
	add(f, b, 1);
	assert_int_equal(pop(f), 1);
	assert_int_equal(f->chain.nout + f->chain.nin, 0);
	assert_int_equal(f->chain.out_len + f->chain.in_len, 0);
	/* Still ordered: an empty readable one after a writable one. */
	b[0].write = true;
	b[1].write = false;
	add(f, b, 2);
	expect_broken(f, "readable descriptor after a writable one");
}

static void test_region_spanning(void **state)
{
	struct fx *f = *state;
	uint64_t adj1 = layout[R_ADJ1].gpa, adj2 = layout[R_ADJ2].gpa;
	struct buf b[] = {
		/* The last 16 bytes of R_RINGS, all of R_ADJ1, 16 of R_ADJ2. */
		{ adj1 - 16, 16 + 0x4000 + 16, false },
		/* Exactly to a region's end: one iovec. */
		{ adj2 - 32, 32, true },
		/* From the last byte of one region into the next. */
		{ adj2 - 1, 2, true },
	};

	start(f, 8, 0, 0);
	add(f, b, 3);
	f->chain.iov_cap = 6;
	assert_int_equal(pop(f), 1);
	assert_int_equal(f->chain.nout, 3);
	assert_int_equal(f->chain.nin, 3);
	expect_iov(f, 0, adj1 - 16, 16);
	expect_iov(f, 1, adj1, 0x4000);
	expect_iov(f, 2, adj2, 16);
	expect_iov(f, 3, adj2 - 32, 32);
	expect_iov(f, 4, adj2 - 1, 1);
	expect_iov(f, 5, adj2, 1);
	assert_int_equal(f->chain.out_len, 0x4020);
	assert_int_equal(f->chain.in_len, 34);
	/* The host mappings are apart: really two iovecs. */
	assert_ptr_not_equal((uint8_t *)f->iov[0].iov_base + 16,
			     f->iov[1].iov_base);
	assert_chain_in_ram(&f->mem, &f->chain);
}

static void test_indirect(void **state)
{
	struct fx *f = *state;
	struct buf t[] = {
		{ BUF_GPA, 16, false },
		{ layout[R_ADJ2].gpa - 8, 16, false }, /* spans two regions */
		{ BUF_GPA + 0x100, 512, true },
		{ BUF_GPA + 0x400, 1, true },
	};
	struct buf direct[] = { { BUF_GPA + 0x800, 3, false } };
	uint16_t head;

	start(f, 4, FEAT_INDIRECT, 0);
	head = indirect_of(f, TABLE_GPA, t, 4);
	publish(f, head);
	assert_int_equal(pop(f), 1);
	assert_int_equal(f->chain.head, head);
	assert_int_equal(f->chain.nout, 3);
	assert_int_equal(f->chain.nin, 2);
	expect_iov(f, 0, BUF_GPA, 16);
	expect_iov(f, 1, layout[R_ADJ2].gpa - 8, 8);
	expect_iov(f, 2, layout[R_ADJ2].gpa, 8);
	expect_iov(f, 3, BUF_GPA + 0x100, 512);
	expect_iov(f, 4, BUF_GPA + 0x400, 1);
	assert_int_equal(f->chain.out_len, 32);
	assert_int_equal(f->chain.in_len, 513);

	/* The WRITE flag of the descriptor naming the table means nothing. */
	head = indirect_of(f, TABLE_GPA + 0x100, t, 1);
	put_desc(f, DESC_GPA, head, TABLE_GPA + 0x100, 16, F_INDIRECT | F_WRITE,
		 0);
	publish(f, head);
	assert_int_equal(pop(f), 1);
	assert_int_equal(f->chain.nout, 1);
	assert_int_equal(f->chain.nin, 0);

	/* Direct descriptors, then one naming a table (the spec allows it). */
	head = chain_of(f, direct, 1);
	put_desc(f, DESC_GPA, head, direct[0].gpa, direct[0].len, F_NEXT,
		 f->next_desc);
	indirect_of(f, TABLE_GPA + 0x200, t + 2, 2);
	publish(f, head);
	assert_int_equal(pop(f), 1);
	assert_int_equal(f->chain.head, head);
	assert_int_equal(f->chain.nout, 1);
	assert_int_equal(f->chain.nin, 2);
	expect_iov(f, 0, BUF_GPA + 0x800, 3);
	expect_iov(f, 1, BUF_GPA + 0x100, 512);
	expect_iov(f, 2, BUF_GPA + 0x400, 1);

	/* A table longer than the queue is fine: its own length bounds it. */
	for (unsigned int k = 0; k < 40; k++)
		put_desc(f, TABLE_GPA + 0x1000, k, BUF_GPA + k, 1,
			 k < 39 ? F_NEXT : 0, (uint16_t)(k + 1));
	head = f->next_desc;
	put_desc(f, DESC_GPA, head, TABLE_GPA + 0x1000, 40 * 16, F_INDIRECT, 0);
	publish(f, head);
	f->chain.iov_cap = 40;
	assert_int_equal(pop(f), 1);
	assert_int_equal(f->chain.nout, 40);
	assert_int_equal(f->chain.out_len, 40);
	assert_chain_in_ram(&f->mem, &f->chain);
}

static void test_big_lengths(void **state)
{
	struct fx *f = *state;
	uint64_t huge = layout[R_HUGE].gpa;
	struct buf b[] = {
		{ huge, 0xffffffff, false },
		{ huge + 0x10000, 1, true },
	};

	/* 2^32 - 1 + 1 bytes: exactly the limit, summed in 64 bits. */
	start(f, 8, 0, 0);
	add(f, b, 2);
	assert_int_equal(pop(f), 1);
	assert_true(f->chain.out_len == 0xffffffffull);
	assert_true(f->chain.in_len == 1);
	expect_iov(f, 0, huge, 0xffffffff);
	expect_iov(f, 1, huge + 0x10000, 1);
	assert_chain_in_ram(&f->mem, &f->chain);
}

static void test_wraparound(void **state)
{
	struct fx *f = *state;
	struct buf b[] = { { BUF_GPA, 8, false }, { BUF_GPA + 8, 8, true } };

	/* Indices start just below 2^16 and run across it. */
	start(f, 4, 0, 65533);
	for (unsigned int round = 0; round < 6; round++) {
		uint16_t used, h1, h2;

		h1 = add(f, b, 2);
		h2 = add(f, b, 1);
		assert_int_equal(vq_pending(&f->vq), 2);
		assert_int_equal(pop(f), 1);
		assert_int_equal(f->chain.head, h1);
		assert_int_equal(pop(f), 1);
		assert_int_equal(f->chain.head, h2);
		assert_int_equal(pop(f), 0);
		vq_push(&f->vq, h1, 8);
		vq_push(&f->vq, h2, 0);
		used = (uint16_t)(65533 + 2 * (round + 1));
		assert_int_equal(get16(f, USED_GPA + 2), used);
		assert_int_equal(
			get32(f, USED_GPA + 4 + 8 * ((uint16_t)(used - 2) % 4)),
			h1);
		assert_int_equal(
			get32(f, USED_GPA + 4 + 8 * ((uint16_t)(used - 1) % 4)),
			h2);
	}
	assert_int_equal(f->vq.last_avail, (uint16_t)(65533 + 12));

	/* Many times round the 16-bit space through a queue of two. */
	setup(state);
	start(f, 2, FEAT_EVENT_IDX, 0);
	for (unsigned long n = 0; n < 3 * 65536ul + 7; n++) {
		uint16_t h = add(f, b, 1);

		assert_int_equal(pop(f), 1);
		assert_int_equal(f->chain.head, h);
		vq_push(&f->vq, h, 0);
	}
	assert_int_equal(get16(f, USED_GPA + 2), 7);
	assert_int_equal(f->vq.last_avail, 7);
	assert_int_equal(pop(f), 0);
}

/*
 * Chains given back are taken again, read anew; several pushed together
 * appear to the driver at once (used->idx moves once, past all of them).
 */
static void test_unpop_and_push_many(void **state)
{
	struct fx *f = *state;
	struct buf b[] = { { BUF_GPA, 64, true } };
	struct vq_used u[3];
	uint16_t h[3];

	start(f, 4, FEAT_EVENT_IDX, 65534);
	for (int i = 0; i < 3; i++)
		h[i] = add(f, b, 1);
	assert_int_equal(pop(f), 1);
	assert_int_equal(pop(f), 1);
	assert_int_equal(vq_pending(&f->vq), 1);
	vq_unpop(&f->vq, 2);
	assert_int_equal(vq_pending(&f->vq), 3);
	assert_int_equal(f->vq.last_avail, 65534);
	/* The driver changed the first chain meanwhile: the new one counts. */
	memcpy(host(f, DESC_GPA + 16ull * h[0] + 8, 4), &(uint32_t){ 32 }, 4);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(pop(f), 1);
		assert_int_equal(f->chain.head, h[i]);
		assert_int_equal(f->chain.in_len, i == 0 ? 32 : 64);
		u[i] = (struct vq_used){ h[i], 10u + (uint32_t)i };
	}
	assert_int_equal(pop(f), 0);
	vq_push_many(&f->vq, u, 3);
	assert_int_equal(get16(f, USED_GPA + 2), 1); /* 65534 + 3 */
	for (int i = 0; i < 3; i++) {
		uint16_t slot = (uint16_t)(65534 + i) % 4;

		assert_int_equal(get32(f, USED_GPA + 4 + 8 * slot), h[i]);
		assert_int_equal(get32(f, USED_GPA + 8 + 8 * slot), 10 + i);
	}
	/* Nothing pushed yet was signalled: the driver must hear of them. */
	assert_true(vq_should_notify(&f->vq));
	vq_push_many(&f->vq, u, 0);
	assert_int_equal(get16(f, USED_GPA + 2), 1);
}

static void test_pending(void **state)
{
	struct fx *f = *state;
	struct buf b[] = { { BUF_GPA, 8, false } };

	start(f, 8, 0, 65534);
	assert_int_equal(vq_pending(&f->vq), 0);
	for (unsigned int n = 1; n <= 8; n++) {
		add(f, b, 1);
		assert_int_equal(vq_pending(&f->vq), n);
	}
	assert_int_equal(pop(f), 1);
	assert_int_equal(vq_pending(&f->vq), 7);
	/* One more than the ring holds: the index is a lie. */
	put16(f, AVAIL_GPA + 2, (uint16_t)(f->vq.last_avail + 9));
	snapshot(f);
	assert_int_equal(vq_pending(&f->vq), 0);
	assert_true(f->vq.broken);
	assert_non_null(strstr(f->vq.error, "more than the queue size 8"));
	assert_int_equal(pop(f), -1);
	assert_ram_unchanged(f);
}

/* Notifications. */

static void test_notify_no_interrupt(void **state)
{
	struct fx *f = *state;
	struct buf b[] = { { BUF_GPA, 8, true } };

	start(f, 8, 0, 0);
	add(f, b, 1);
	assert_int_equal(pop(f), 1);
	vq_push(&f->vq, f->chain.head, 8);
	assert_true(vq_should_notify(&f->vq));
	put16(f, AVAIL_GPA, 1); /* VRING_AVAIL_F_NO_INTERRUPT */
	snapshot(f);
	assert_false(vq_should_notify(&f->vq));
	assert_ram_unchanged(f);
	put16(f, AVAIL_GPA, 0xfffe); /* other bits mean nothing */
	assert_true(vq_should_notify(&f->vq));
}

static void push_n(struct fx *f, unsigned int n)
{
	for (unsigned int k = 0; k < n; k++)
		vq_push(&f->vq, 0, 0);
}

static void test_notify_event_idx(void **state)
{
	struct fx *f = *state;
	uint64_t used_event = AVAIL_GPA + 4 + 2 * 8;

	start(f, 8, FEAT_EVENT_IDX, 0);
	/* NO_INTERRUPT means nothing with the event index. */
	put16(f, AVAIL_GPA, 1);
	put16(f, used_event, 100);
	/* The first decision always notifies. */
	push_n(f, 1);
	assert_true(vq_should_notify(&f->vq));
	/* used 1 -> 3, the driver wants to hear when entry 5 is used. */
	put16(f, used_event, 5);
	push_n(f, 2);
	assert_false(vq_should_notify(&f->vq));
	/* 3 -> 6 covers entry 5. */
	push_n(f, 3);
	assert_true(vq_should_notify(&f->vq));
	/* 6 -> 6: nothing new, nothing to say. */
	put16(f, used_event, 6);
	assert_false(vq_should_notify(&f->vq));
	/* 6 -> 7 covers exactly 6. */
	push_n(f, 1);
	assert_true(vq_should_notify(&f->vq));
	/* An event already behind: suppressed. */
	put16(f, used_event, 3);
	push_n(f, 1);
	assert_false(vq_should_notify(&f->vq));

	/* The window wraps round 2^16. */
	start(f, 8, FEAT_EVENT_IDX, 65530);
	push_n(f, 1);
	assert_true(vq_should_notify(&f->vq)); /* first */
	put16(f, used_event, 65535);
	push_n(f, 2); /* 65531 -> 65533 */
	assert_false(vq_should_notify(&f->vq));
	push_n(f, 5); /* 65533 -> 2 covers 65535 */
	assert_true(vq_should_notify(&f->vq));
	put16(f, used_event, 1);
	push_n(f, 1); /* 2 -> 3: 1 is behind */
	assert_false(vq_should_notify(&f->vq));
	put16(f, used_event, 3);
	push_n(f, 1);
	assert_true(vq_should_notify(&f->vq));

	/*
	 * 65536 completions without asking: the last notified index says
	 * nothing any more, so the driver is told.
	 */
	put16(f, used_event, 2);
	push_n(f, 65536);
	assert_true(vq_should_notify(&f->vq));
	assert_false(vq_should_notify(&f->vq));
}

static void test_suppress_flags(void **state)
{
	struct fx *f = *state;
	struct buf b[] = { { BUF_GPA, 8, false } };

	start(f, 8, 0, 0);
	vq_disable_notify(&f->vq);
	assert_int_equal(get16(f, USED_GPA), 1); /* VRING_USED_F_NO_NOTIFY */
	assert_false(vq_enable_notify(&f->vq));
	assert_int_equal(get16(f, USED_GPA), 0);
	vq_disable_notify(&f->vq);
	add(f, b, 1);
	/* Added while kicks were off: enable says so. */
	assert_true(vq_enable_notify(&f->vq));
	assert_int_equal(get16(f, USED_GPA), 0);
	assert_int_equal(pop(f), 1);
	assert_false(vq_enable_notify(&f->vq));
	/* Nothing of the event-index area is written without it. */
	assert_int_equal(get16(f, USED_GPA + 4 + 8 * 8), 0);
}

static void test_suppress_event_idx(void **state)
{
	struct fx *f = *state;
	uint64_t avail_event = USED_GPA + 4 + 8 * 8;
	struct buf b[] = { { BUF_GPA, 8, false } };

	start(f, 8, FEAT_EVENT_IDX, 65535);
	put16(f, avail_event, 1234);
	vq_disable_notify(&f->vq);
	assert_int_equal(get16(f, avail_event), 65535);
	assert_int_equal(get16(f, USED_GPA), 0); /* flags untouched */
	add(f, b, 1);
	add(f, b, 1);
	assert_int_equal(pop(f), 1);
	vq_disable_notify(&f->vq);
	assert_int_equal(get16(f, avail_event), 0);
	/* One still pending: enable asks for a kick at 0 and says more. */
	assert_true(vq_enable_notify(&f->vq));
	assert_int_equal(get16(f, avail_event), 0);
	assert_int_equal(pop(f), 1);
	assert_false(vq_enable_notify(&f->vq));
	assert_int_equal(get16(f, avail_event), 1);
	assert_int_equal(get16(f, USED_GPA), 0);
}

static void test_push_on_broken_queue(void **state)
{
	struct fx *f = *state;
	struct buf b[] = { { BUF_GPA, 8, true } };
	uint16_t head;

	start(f, 8, 0, 0);
	head = add(f, b, 1);
	assert_int_equal(pop(f), 1);
	put16(f, AVAIL_GPA + 2, 100);
	expect_broken(f, "more than the queue size");
	/* The chain taken before still completes and is announced. */
	vq_push(&f->vq, head, 8);
	assert_int_equal(get16(f, USED_GPA + 2), 1);
	assert_int_equal(get32(f, USED_GPA + 4), head);
	assert_true(vq_should_notify(&f->vq));
}

/* Hostile drivers: one test per way of breaking a queue. */

static void test_avail_idx_too_far(void **state)
{
	struct fx *f = *state;
	struct buf b[] = { { BUF_GPA, 8, false } };

	start(f, 8, 0, 65530);
	for (unsigned int n = 0; n < 8; n++)
		add(f, b, 1);
	assert_int_equal(vq_pending(&f->vq), 8); /* a full ring is fine */
	put16(f, AVAIL_GPA + 2, (uint16_t)(65530 + 9));
	expect_broken(f, "avail index moved from 65530 to 3, more than the "
			 "queue size 8");
}

static void test_avail_idx_backwards(void **state)
{
	struct fx *f = *state;

	start(f, 8, 0, 10);
	put16(f, AVAIL_GPA + 2, 9); /* 65535 ahead */
	expect_broken(f, "more than the queue size");
}

static void test_bad_head(void **state)
{
	struct fx *f = *state;

	start(f, 8, 0, 0);
	publish(f, 8);
	expect_broken(f, "avail ring entry 0 names head 8, outside the queue");
	start(f, 8, 0, 0);
	publish(f, 0xffff);
	expect_broken(f, "head 65535");
}

static void test_bad_next(void **state)
{
	struct fx *f = *state;

	start(f, 8, 0, 0);
	put_desc(f, DESC_GPA, 0, BUF_GPA, 8, F_NEXT, 8);
	publish(f, 0);
	expect_broken(f, "links to descriptor 8, outside the descriptor table "
			 "of 8 entries");
}

static void test_self_loop(void **state)
{
	struct fx *f = *state;

	start(f, 8, 0, 0);
	put_desc(f, DESC_GPA, 3, BUF_GPA, 0, F_NEXT, 3);
	publish(f, 3);
	expect_broken(
		f, "the chain at head 3 loops: it comes back to descriptor 3 "
		   "of its descriptor table");
}

static void test_long_loop(void **state)
{
	struct fx *f = *state;

	/* 0 -> 1 -> ... -> 7 -> 2: readable, no iovec limit reached first. */
	start(f, 8, 0, 0);
	for (unsigned int i = 0; i < 8; i++)
		put_desc(f, DESC_GPA, i, BUF_GPA, 1, F_NEXT,
			 (uint16_t)(i < 7 ? i + 1 : 2));
	publish(f, 0);
	f->chain.iov_cap = VQ_CHAIN_IOV_MAX;
	expect_broken(f,
		      "loops: it comes back to descriptor 2 of its descriptor "
		      "table");
}

static void test_indirect_not_negotiated(void **state)
{
	struct fx *f = *state;
	struct buf t[] = { { BUF_GPA, 8, false } };

	start(f, 8, FEAT_EVENT_IDX, 0);
	publish(f, indirect_of(f, TABLE_GPA, t, 1));
	expect_broken(f, "VIRTIO_F_INDIRECT_DESC was not negotiated");
}

static void test_indirect_with_next(void **state)
{
	struct fx *f = *state;
	struct buf t[] = { { BUF_GPA, 8, false } };
	uint16_t head;

	start(f, 8, FEAT_INDIRECT, 0);
	head = indirect_of(f, TABLE_GPA, t, 1);
	put_desc(f, DESC_GPA, head, TABLE_GPA, 16, F_INDIRECT | F_NEXT, 5);
	put_desc(f, DESC_GPA, 5, BUF_GPA, 8, 0, 0);
	publish(f, head);
	expect_broken(f, "both INDIRECT and NEXT");
}

static void test_nested_indirect(void **state)
{
	struct fx *f = *state;
	struct buf t[] = { { BUF_GPA, 8, false } };

	start(f, 8, FEAT_INDIRECT, 0);
	publish(f, indirect_of(f, TABLE_GPA, t, 1));
	/* The table's only entry names another table. */
	put_desc(f, TABLE_GPA + 0x100, 0, BUF_GPA, 8, 0, 0);
	put_desc(f, TABLE_GPA, 0, TABLE_GPA + 0x100, 16, F_INDIRECT, 0);
	expect_broken(f, "an indirect descriptor inside an indirect table");
}

static void test_indirect_bad_length(void **state)
{
	struct fx *f = *state;
	static const uint32_t lens[] = {
		0, 8, 17, 24, 0xfff0 + 1, (VQ_SIZE_MAX + 1) * 16, 0xfffffff0
	};

	for (size_t k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
		setup(state);
		start(f, 8, FEAT_INDIRECT, 0);
		put_desc(f, DESC_GPA, 0, layout[R_HUGE].gpa, lens[k],
			 F_INDIRECT, 0);
		publish(f, 0);
		expect_broken(f, "not a multiple of 16 in 16..524288");
	}
}

static void test_indirect_outside_ram(void **state)
{
	struct fx *f = *state;
	static const uint64_t where[] = {
		GAP_GPA,
		GAP_GPA - 0x10,
		0x100000 - 0x10, /* spans adjacent */
		0xfffffffffffffff0,
	};

	for (size_t k = 0; k < sizeof(where) / sizeof(where[0]); k++) {
		setup(state);
		start(f, 8, FEAT_INDIRECT, 0);
		put_desc(f, DESC_GPA, 0, where[k], 32, F_INDIRECT, 0);
		publish(f, 0);
		expect_broken(f, "indirect table");
		assert_non_null(strstr(f->vq.error, "not inside one RAM "
						    "region"));
	}
}

static void test_indirect_loop(void **state)
{
	struct fx *f = *state;

	start(f, 8, FEAT_INDIRECT, 0);
	put_desc(f, DESC_GPA, 0, TABLE_GPA, 3 * 16, F_INDIRECT, 0);
	put_desc(f, TABLE_GPA, 0, BUF_GPA, 0, F_NEXT, 1);
	put_desc(f, TABLE_GPA, 1, BUF_GPA, 0, F_NEXT, 2);
	put_desc(f, TABLE_GPA, 2, BUF_GPA, 0, F_NEXT, 0);
	publish(f, 0);
	expect_broken(
		f,
		"the chain at head 0 loops: it comes back to descriptor 0 of "
		"its indirect table");
}

static void test_indirect_bad_next(void **state)
{
	struct fx *f = *state;

	/* The next index is checked against the table, not the queue. */
	start(f, 8, FEAT_INDIRECT, 0);
	put_desc(f, DESC_GPA, 0, TABLE_GPA, 2 * 16, F_INDIRECT, 0);
	put_desc(f, TABLE_GPA, 0, BUF_GPA, 8, F_NEXT, 2);
	publish(f, 0);
	expect_broken(f, "links to descriptor 2, outside the indirect table "
			 "of 2 entries");
}

static void test_readable_after_writable(void **state)
{
	struct fx *f = *state;
	struct buf b[] = {
		{ BUF_GPA, 8, false },
		{ BUF_GPA + 8, 8, true },
		{ BUF_GPA + 16, 8, false },
	};
	uint16_t head;

	start(f, 8, FEAT_INDIRECT, 0);
	add(f, b, 3);
	expect_broken(f, "readable descriptor after a writable one");

	/* Across the step into an indirect table. */
	start(f, 8, FEAT_INDIRECT, 0);
	head = chain_of(f, b + 1, 1);
	put_desc(f, DESC_GPA, head, b[1].gpa, b[1].len, F_WRITE | F_NEXT,
		 f->next_desc);
	indirect_of(f, TABLE_GPA, b + 2, 1);
	publish(f, head);
	expect_broken(f, "readable descriptor after a writable one");
}

static void expect_outside(struct fx *f, uint64_t gpa, uint32_t len,
			   const char *words)
{
	struct buf b[] = { { BUF_GPA, 8, false }, { gpa, len, true } };

	setup(&(void *){ f });
	start(f, 8, 0, 0);
	add(f, b, 2);
	expect_broken(f, words);
}

static void test_buffer_outside_ram(void **state)
{
	struct fx *f = *state;
	uint64_t top = layout[R_TOP].gpa;

	expect_outside(f, GAP_GPA, 1,
		       "buffer [0x18000, +0x1) in the chain "
		       "at head 0 is not in guest RAM");
	/* Runs from RAM into the gap: adjacent regions only. */
	expect_outside(f, layout[R_ADJ1].gpa, 0x8001, "not in guest RAM");
	expect_outside(f, layout[R_FAR].gpa + layout[R_FAR].size - 4, 5,
		       "not in guest RAM");
	expect_outside(f, layout[R_FAR].gpa - 1, 2, "not in guest RAM");
	expect_outside(f, layout[R_HUGE].gpa + layout[R_HUGE].size - 1,
		       0xffffffff, "not in guest RAM");
	/* Into the region ending at 2^64, then past the end. */
	expect_outside(f, top + 0xf00, 0x200,
		       "wraps past the end of the address space");
	expect_outside(f, UINT64_MAX, 2, "wraps past the end");
	expect_outside(f, 0xfffffffffffff000 - 0x10, 0x20, "not in guest RAM");
}

static void test_chain_over_4g(void **state)
{
	struct fx *f = *state;
	uint64_t huge = layout[R_HUGE].gpa;
	struct buf b[] = {
		{ huge, 0xffffffff, false },
		{ huge, 0xffffffff, false },
	};
	struct buf c[] = {
		{ huge, 0x80000000, false },
		{ huge, 0x80000000, true },
		{ huge, 1, true },
	};

	start(f, 8, 0, 0);
	add(f, b, 2);
	expect_broken(f, "the chain at head 0 is longer than 2^32 bytes");
	/* Exactly 2^32 after two, one byte more with the third. */
	start(f, 8, 0, 0);
	add(f, c, 3);
	expect_broken(f, "longer than 2^32 bytes");
	/* Many descriptors of almost 2^32 in an indirect table. */
	start(f, 8, FEAT_INDIRECT, 0);
	for (unsigned int k = 0; k < 300; k++)
		put_desc(f, TABLE_GPA, k, huge, 0xfffffff0, F_NEXT | F_WRITE,
			 (uint16_t)(k + 1));
	put_desc(f, DESC_GPA, 0, TABLE_GPA, 300 * 16, F_INDIRECT, 0);
	publish(f, 0);
	f->chain.iov_cap = VQ_CHAIN_IOV_MAX;
	expect_broken(f, "longer than 2^32 bytes");
}

static void test_too_many_iovecs(void **state)
{
	struct fx *f = *state;
	struct buf b[] = {
		{ BUF_GPA, 8, false },
		{ BUF_GPA + 8, 8, false },
		{ BUF_GPA + 16, 8, true },
	};
	struct buf split[] = { { layout[R_ADJ1].gpa - 4, 8, false } };

	start(f, 8, 0, 0);
	add(f, b, 3);
	f->chain.iov_cap = 2;
	expect_broken(f, "the chain at head 0 needs more than 2 iovecs");
	/* One descriptor, but two regions: two iovecs. */
	start(f, 8, 0, 0);
	add(f, split, 1);
	f->chain.iov_cap = 1;
	expect_broken(f, "needs more than 1 iovecs");
	/* No array: nothing but empty buffers fits. */
	start(f, 8, 0, 0);
	add(f, b, 1);
	f->chain.iov = NULL;
	expect_broken(f, "needs more than 0 iovecs");
	/* A cap above VQ_CHAIN_IOV_MAX is VQ_CHAIN_IOV_MAX. */
	start(f, 8, FEAT_INDIRECT, 0);
	for (unsigned int k = 0; k <= VQ_CHAIN_IOV_MAX; k++)
		put_desc(f, TABLE_GPA, k, BUF_GPA, 1, F_NEXT,
			 (uint16_t)(k + 1));
	put_desc(f, TABLE_GPA, VQ_CHAIN_IOV_MAX, BUF_GPA, 1, 0, 0);
	put_desc(f, DESC_GPA, 0, TABLE_GPA, (VQ_CHAIN_IOV_MAX + 1) * 16,
		 F_INDIRECT, 0);
	publish(f, 0);
	f->chain.iov = f->iov;
	f->chain.iov_cap = 100000;
	expect_broken(f, "needs more than 1024 iovecs");
}

static void test_broken_stays_broken(void **state)
{
	struct fx *f = *state;
	struct buf b[] = { { BUF_GPA, 8, false } };

	start(f, 8, 0, 0);
	publish(f, 9);
	expect_broken(f, "outside the queue");
	/* The driver repairs the entry: too late. */
	put16(f, AVAIL_GPA + 4, 0);
	put_desc(f, DESC_GPA, 0, BUF_GPA, 8, 0, 0);
	assert_int_equal(pop(f), -1);
	assert_int_equal(vq_pending(&f->vq), 0);
	assert_true(f->vq.broken);
	/* A reset (vq_init) starts again. */
	start(f, 8, 0, 0);
	add(f, b, 1);
	assert_int_equal(pop(f), 1);
}

/* Random rings compared with the reference walker, invariants checked. */

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Near region edges, gaps and the ends of the address space. */
static uint64_t rnd_addr(uint64_t *s)
{
	static const uint64_t spots[] = {
		0x10000 - 0x20,
		0x10000,
		0x14000 - 1,
		0x18000 - 8,
		0x18000,
		0x20000,
		0x28000,
		0x30000 - 16,
		0x100000000,
		0xfffffffffffff000,
		0xffffffffffffffe0,
	};
	uint64_t base = spots[rnd(s) % (sizeof(spots) / sizeof(spots[0]))];

	return base + rnd(s) % 64 - 16;
}

static uint32_t rnd_len(uint64_t *s)
{
	static const uint32_t lens[] = { 0,  1,		 16,
					 64, 0x4000,	 0x10000,
					 48, 0x7fffffff, 0xffffffff };

	return lens[rnd(s) % (sizeof(lens) / sizeof(lens[0]))] +
	       (uint32_t)(rnd(s) % 3);
}

static void random_desc(struct fx *f, uint64_t *s, uint64_t table,
			unsigned int i, unsigned int entries)
{
	uint16_t flags = (uint16_t)(rnd(s) % 8);
	uint64_t addr = rnd_addr(s);
	uint32_t len = rnd_len(s);

	/* A table is read: never one in the inaccessible region. */
	if (flags & F_INDIRECT &&
	    (rnd(s) % 2 || (addr >= layout[R_HUGE].gpa &&
			    addr - layout[R_HUGE].gpa < layout[R_HUGE].size))) {
		addr = TABLE_GPA + 0x100 * (rnd(s) % 4);
		len = (uint32_t)(16 * (rnd(s) % 6));
	}
	if (rnd(s) % 3)
		flags &= (uint16_t)~F_INDIRECT;
	put_desc(f, table, i, addr, len, flags,
		 (uint16_t)(rnd(s) % (entries + 1)));
}

/*
 * Every guest read the library makes, seen through VQ_TEST_READ_HOOK
 * while armed: recorded, and the bytes behind it inverted at once, as a
 * racing driver could change them; restored when the call is over. A
 * library that read a byte twice, or used anything but its first copy,
 * would be seen or would disagree with the oracle run on the real bytes.
 */
#define MAX_READS 4096

static struct {
	bool armed;
	bool twice; /* some byte was read twice in one call */
	bool overflow;
	unsigned int n;
	struct {
		volatile uint8_t *p;
		size_t len;
		uint8_t orig[16];
	} r[MAX_READS];
} reads;

void vq_test_read_hook(const volatile void *p, size_t n);

void vq_test_read_hook(const volatile void *p, size_t n)
{
	volatile uint8_t *b = (volatile uint8_t *)p;

	if (!reads.armed)
		return;
	if (reads.n == MAX_READS || n > sizeof(reads.r[0].orig)) {
		reads.overflow = true;
		return;
	}
	for (unsigned int i = 0; i < reads.n; i++) {
		if (b < reads.r[i].p + reads.r[i].len && reads.r[i].p < b + n)
			reads.twice = true;
	}
	reads.r[reads.n].p = b;
	reads.r[reads.n].len = n;
	for (size_t k = 0; k < n; k++) {
		reads.r[reads.n].orig[k] = b[k];
		b[k] = (uint8_t)~b[k];
	}
	reads.n++;
}

static void reads_arm(void)
{
	reads.n = 0;
	reads.twice = reads.overflow = false;
	reads.armed = true;
}

/* Disarms, puts the real bytes back; returns how many reads there were. */
static unsigned int reads_done(void)
{
	reads.armed = false;
	for (unsigned int i = reads.n; i-- > 0;)
		for (size_t k = 0; k < reads.r[i].len; k++)
			reads.r[i].p[k] = reads.r[i].orig[k];
	assert_false(reads.overflow);
	if (reads.twice)
		fail_msg("the library read a guest byte twice in one call");
	return reads.n;
}

/* A queue of random size and features over random rings and tables. */
static void random_queue(struct fx *f, uint64_t *s, struct vq_oracle_queue *q)
{
	unsigned int size = 1u << (rnd(s) % 5);
	uint64_t features = rnd(s) & (FEAT_INDIRECT | FEAT_EVENT_IDX);
	uint16_t base = (uint16_t)rnd(s);

	*q = (struct vq_oracle_queue){
		.mem = &f->mem,
		.size = size,
		.indirect = features & FEAT_INDIRECT,
		.desc_gpa = DESC_GPA,
		.avail_gpa = AVAIL_GPA,
	};
	setup(&(void *){ f });
	start(f, size, features, base);
	for (unsigned int i = 0; i < size; i++) {
		random_desc(f, s, DESC_GPA, i, size);
		put16(f, AVAIL_GPA + 4 + 2 * i,
		      (uint16_t)(rnd(s) % (size + 1)));
	}
	for (unsigned int t = 0; t < 4; t++)
		for (unsigned int i = 0; i < 5; i++)
			random_desc(f, s, TABLE_GPA + 0x100 * t, i, 5);
	put16(f, AVAIL_GPA + 2, (uint16_t)(base + rnd(s) % (size + 2)));
	put16(f, AVAIL_GPA, (uint16_t)rnd(s));
	put16(f, AVAIL_GPA + 4 + 2 * size, (uint16_t)rnd(s)); /* used_event */
}

/*
 * Pops until the queue is empty or broken, each pop compared with the
 * oracle on the same memory and checked to write nothing; with racing,
 * under the scrambling read hook.
 */
static void pop_all_checked(struct fx *f, uint64_t *s,
			    struct vq_oracle_queue *q, bool racing)
{
	static struct vq_oracle_chain want;

	for (;;) {
		unsigned int cap = (unsigned int)(rnd(s) % 6);
		int ret;

		q->last_avail = f->vq.last_avail;
		vq_oracle_pop(q, cap, &want);
		f->chain.iov_cap = cap;
		snapshot(f);
		if (racing)
			reads_arm();
		ret = pop(f);
		if (racing && reads_done() == 0 && !f->vq.broken)
			fail_msg("the read hook saw nothing: not compiled in?");
		assert_ram_unchanged(f);
		if (ret != want.ret)
			fail_msg("vq_pop %d, oracle %d (%s)", ret, want.ret,
				 f->vq.error);
		if (ret != 1)
			break;
		assert_chain_in_ram(&f->mem, &f->chain);
		assert_int_equal(f->chain.head, want.head);
		assert_int_equal(f->chain.nout, want.nout);
		assert_int_equal(f->chain.nin, want.nin);
		assert_true(f->chain.out_len == want.out_len);
		assert_true(f->chain.in_len == want.in_len);
		assert_memory_equal(f->iov, want.iov,
				    (want.nout + want.nin) *
					    sizeof(struct iovec));
	}
	if (f->vq.broken)
		assert_true(f->vq.error[0] != '\0');
}

static void test_random_rings(void **state)
{
	struct fx *f = *state;
	uint64_t s = 0x9e3779b97f4a7c15ull;
	struct vq_oracle_queue q;

	for (unsigned int round = 0; round < 2000; round++) {
		random_queue(f, &s, &q);
		pop_all_checked(f, &s, &q, false);
	}
}

/*
 * Read once, deterministically: every guest byte a call reads is changed
 * behind it at once, yet each call reads each byte at most once and acts
 * on the values as they were (the oracle's answer on the real bytes).
 */
static void test_read_once(void **state)
{
	struct fx *f = *state;
	uint64_t s = 0x2545f4914f6cdd1dull;
	struct vq_oracle_queue q;

	for (unsigned int round = 0; round < 2000; round++) {
		int want_pending;
		bool want;

		random_queue(f, &s, &q);
		q.last_avail = f->vq.last_avail;
		want_pending = vq_oracle_pending(&q);
		reads_arm();
		assert_int_equal(vq_pending(&f->vq),
				 want_pending < 0 ? 0 : want_pending);
		assert_int_equal(reads_done(), 1);
		if (want_pending < 0)
			continue;
		pop_all_checked(f, &s, &q, true);
		/* Completions, then the notification decisions. */
		vq_push(&f->vq, 0, 0);
		want = f->event_idx || !(get16(f, AVAIL_GPA) & 1);
		reads_arm();
		assert_true(vq_should_notify(&f->vq) == want);
		assert_int_equal(reads_done(), f->event_idx ? 0 : 1);
		vq_push(&f->vq, 0, 0);
		reads_arm();
		vq_should_notify(&f->vq);
		assert_true(reads_done() <= 1);
		if (f->vq.broken)
			continue;
		want = get16(f, AVAIL_GPA + 2) != f->vq.last_avail;
		reads_arm();
		assert_true(vq_enable_notify(&f->vq) == want);
		assert_int_equal(reads_done(), 1);
	}
}

/*
 * The driver rewrites descriptors, ring entries and the index while the
 * device takes chains. Were any guest value read twice (checked once,
 * used from a second read), a length or address would sometimes escape
 * the checks; every chain must still lie in RAM and add up.
 */
struct scribbler {
	struct fx *f;
	bool stop;
	unsigned long writes;
};

static void *scribble(void *arg)
{
	struct scribbler *sc = arg;
	struct fx *f = sc->f;
	uint64_t s = 0x1234567;
	uint8_t *desc = host(f, DESC_GPA, 8 * 16);
	uint8_t *table = host(f, TABLE_GPA, 8 * 16);
	uint8_t *avail = host(f, AVAIL_GPA, 4 + 2 * 8);

	while (!__atomic_load_n(&sc->stop, __ATOMIC_RELAXED)) {
		uint64_t r = rnd(&s);
		uint8_t *d = (r & 1 ? table : desc) + 16 * ((r >> 1) % 8);
		/* In RAM and small, or far too long for anywhere. */
		uint64_t addr = r & 2 ? layout[R_FAR].gpa + 0x100 : 0x14000;
		uint64_t lenfl = (r & 4 ? 0x100 : 0xfffffff0) |
				 (uint64_t)((r >> 8) % 8) << 32 |
				 (uint64_t)((r >> 12) % 9) << 48;

		if ((r >> 20) % 4 == 0) {
			addr = TABLE_GPA;
			lenfl = (r & 4 ? 0x80 : 0x70000000) | 4ull << 32;
		}
		__atomic_store_n((uint64_t *)d, addr, __ATOMIC_RELAXED);
		__atomic_store_n((uint64_t *)(d + 8), lenfl, __ATOMIC_RELAXED);
		__atomic_store_n((uint16_t *)(avail + 4 + 2 * ((r >> 24) % 8)),
				 (uint16_t)((r >> 28) % 9), __ATOMIC_RELAXED);
		/* The device starts at 0: mostly a plausible index. */
		__atomic_store_n((uint16_t *)(avail + 2),
				 (uint16_t)((r >> 40) % 10), __ATOMIC_RELAXED);
		__atomic_fetch_add(&sc->writes, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void test_race_rewrites(void **state)
{
	struct fx *f = *state;
	struct scribbler sc = { .f = f };
	unsigned long chains = 0, first;
	pthread_t t;

	assert_int_equal(pthread_create(&t, NULL, scribble, &sc), 0);
	while (!__atomic_load_n(&sc.writes, __ATOMIC_RELAXED))
		sched_yield();
	first = __atomic_load_n(&sc.writes, __ATOMIC_RELAXED);
	/* Until both sides have done enough, however they are scheduled. */
	for (unsigned long round = 0;
	     round < 40000 || chains < 20000 ||
	     __atomic_load_n(&sc.writes, __ATOMIC_RELAXED) - first < 100000;
	     round++) {
		assert_int_equal(vq_init(&f->vq, &f->mem, 8, DESC_GPA,
					 AVAIL_GPA, USED_GPA,
					 round % 2 ? FEAT_INDIRECT : 0, 0),
				 0);
		for (unsigned int k = 0; k < 8; k++) {
			int ret;

			f->chain.iov_cap = 1 + round % 8;
			ret = pop(f);
			if (ret != 1)
				break;
			assert_chain_in_ram(&f->mem, &f->chain);
			assert_true(f->chain.head < 8);
			chains++;
		}
	}
	__atomic_store_n(&sc.stop, true, __ATOMIC_RELAXED);
	assert_int_equal(pthread_join(t, NULL), 0);
	print_message("%lu chains taken during %lu driver writes\n", chains,
		      sc.writes - first);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup(name, setup)
		T(test_mem_ptr),
		T(test_init_sizes),
		T(test_init_placement),
		T(test_simple_chain),
		T(test_out_in_split),
		T(test_zero_length_skipped),
		T(test_region_spanning),
		T(test_indirect),
		T(test_big_lengths),
		T(test_wraparound),
		T(test_pending),
		T(test_unpop_and_push_many),
		T(test_notify_no_interrupt),
		T(test_notify_event_idx),
		T(test_suppress_flags),
		T(test_suppress_event_idx),
		T(test_push_on_broken_queue),
		T(test_avail_idx_too_far),
		T(test_avail_idx_backwards),
		T(test_bad_head),
		T(test_bad_next),
		T(test_self_loop),
		T(test_long_loop),
		T(test_indirect_not_negotiated),
		T(test_indirect_with_next),
		T(test_nested_indirect),
		T(test_indirect_bad_length),
		T(test_indirect_outside_ram),
		T(test_indirect_loop),
		T(test_indirect_bad_next),
		T(test_readable_after_writable),
		T(test_buffer_outside_ram),
		T(test_chain_over_4g),
		T(test_too_many_iovecs),
		T(test_broken_stays_broken),
		T(test_random_rings),
		T(test_read_once),
		T(test_race_rewrites),
#undef T
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
