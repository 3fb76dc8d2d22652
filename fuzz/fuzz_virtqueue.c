// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzzes the device side of split virtqueues (src/virtio/virtqueue.c) the
 * way a hostile driver drives it: queue size, features and ring placement
 * from the input (anywhere, misaligned, overlapping, across region ends),
 * guest RAM of five regions (three adjacent, one past a gap, one ending at
 * 2^64) written by the input between device calls, and a sequence of
 * pops, pushes, notification decisions, suppression, pending counts and
 * resets. fuzz/seeds/virtqueue.py describes the encoding.
 *
 * The harness keeps a shadow of RAM with exactly the writes the device
 * may make (a push: one used element and used->idx; suppression: used
 * flags or avail_event; nothing else, ever). After each call RAM must
 * equal the shadow; a pop must agree with the reference walker of
 * vq_oracle.c (return value, head, every iovec) and, independently, each
 * iovec must lie inside one region (its first and last byte are read, for
 * ASan), nout + nin must fit the cap and out_len/in_len must be the iovec
 * sums; notification answers must follow the event-index rule or the
 * NO_INTERRUPT flag; a broken queue must stay broken until vq_init; the
 * queue's indices must move as the calls say. Regions are separate heap
 * blocks of exact size, so any access outside RAM is ASan's to find.
 */
#include "fuzz_input.h"
#include "virtio/virtqueue.h"
#include "vq_oracle.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NREG 5
#define MAX_OPS 160
#define MAX_TAKEN 32
#define F_PACKED (1ull << 34)

static const struct {
	uint64_t gpa, size;
} layout[NREG] = {
	{ 0x0, 0x2000 },
	{ 0x2000, 0x1000 }, /* adjacent to the one before */
	{ 0x3000, 0x1000 }, /* and to this */
	{ 0x8000, 0x2000 }, /* past a gap */
	{ 0xfffffffffffff000, 0x1000 }, /* ends at 2^64 */
};

typedef unsigned __int128 u128;

struct world {
	bool trace; /* FUZZ_VQ_TRACE=1: print every call's result */
	struct vq_mem mem;
	uint8_t *shadow[NREG];
	struct virtqueue vq;
	/* The queue as set up: what vq_init was given. */
	unsigned int size;
	uint64_t features;
	uint64_t desc, avail, used;
	bool ready; /* vq_init succeeded */
	bool event_idx;
	/* What the device's state must be. */
	uint16_t last_avail, used_idx, signalled;
	bool signalled_valid;
	bool broken;
	/* The driver. */
	uint16_t drv_idx;
	uint16_t taken[MAX_TAKEN];
	unsigned int ntaken;
	struct iovec iov[VQ_CHAIN_IOV_MAX];
	struct vq_oracle_chain want;
};

__attribute__((format(printf, 2, 3))) static void trace(const struct world *w,
							const char *fmt, ...)
{
	va_list ap;

	if (!w->trace)
		return;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

/* The input's way of naming an address: mostly near a region. */
static uint64_t place(struct rd *r)
{
	uint8_t sel = u8(r);

	if (sel & 0x80)
		return u64(r);
	return layout[sel % NREG].gpa + u16(r);
}

static uint8_t *byte_at(struct world *w, uint64_t gpa, bool shadow)
{
	for (int i = 0; i < NREG; i++) {
		if (gpa >= layout[i].gpa &&
		    gpa - layout[i].gpa < layout[i].size)
			return (shadow ? w->shadow[i] : w->mem.region[i].host) +
			       (gpa - layout[i].gpa);
	}
	return NULL;
}

/* The driver writes guest memory (bytes outside RAM are dropped). */
static void guest_write(struct world *w, uint64_t gpa, const uint8_t *src,
			size_t len)
{
	for (size_t k = 0; k < len; k++) {
		uint8_t *m = byte_at(w, gpa + k, false);

		if (m) {
			*m = src[k];
			*byte_at(w, gpa + k, true) = src[k];
		}
	}
}

static void guest_put16(struct world *w, uint64_t gpa, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)v, (uint8_t)(v >> 8) };

	guest_write(w, gpa, b, 2);
}

/* A write the device is allowed to make, applied to the shadow only. */
static void expect_put(struct world *w, uint64_t gpa, uint64_t v,
		       unsigned int n)
{
	for (unsigned int k = 0; k < n; k++) {
		uint8_t *s = byte_at(w, gpa + k, true);

		check(s); /* the rings are RAM */
		*s = (uint8_t)(v >> (8 * k));
	}
}

static uint16_t shadow16(struct world *w, uint64_t gpa)
{
	uint8_t *lo = byte_at(w, gpa, true), *hi = byte_at(w, gpa + 1, true);

	check(lo && hi);
	return (uint16_t)(*lo | *hi << 8);
}

static void check_ram(struct world *w)
{
	for (int i = 0; i < NREG; i++)
		check(!memcmp(w->mem.region[i].host, w->shadow[i],
			      layout[i].size));
}

static bool in_one_region(uint64_t gpa, u128 len)
{
	for (int i = 0; i < NREG; i++) {
		if (gpa >= layout[i].gpa &&
		    (u128)gpa + len <= (u128)layout[i].gpa + layout[i].size)
			return true;
	}
	return false;
}

/* The device's view must match what the calls so far imply. */
static void check_state(struct world *w)
{
	check(w->vq.broken == w->broken);
	check(w->broken == (w->vq.error[0] != '\0'));
	check(memchr(w->vq.error, '\0', sizeof(w->vq.error)));
	if (!w->ready)
		return;
	check(w->vq.last_avail == w->last_avail);
	check(w->vq.used_idx == w->used_idx);
}

static void do_init(struct world *w, uint16_t base)
{
	bool pow2 = w->size && w->size <= VQ_SIZE_MAX &&
		    !(w->size & (w->size - 1));
	bool e = w->features & (1ull << VIRTIO_F_EVENT_IDX);
	bool ok = pow2 && !(w->features & F_PACKED) && w->desc % 16 == 0 &&
		  w->avail % 2 == 0 && w->used % 4 == 0 &&
		  in_one_region(w->desc, (u128)16 * w->size) &&
		  in_one_region(w->avail, 4 + (u128)2 * w->size + 2 * e) &&
		  in_one_region(w->used, 4 + (u128)8 * w->size + 2 * e);
	int ret = vq_init(&w->vq, &w->mem, w->size, w->desc, w->avail, w->used,
			  w->features, base);

	trace(w, "init size %u features %#llx base %u: %d %s\n", w->size,
	      (unsigned long long)w->features, base, ret, w->vq.error);
	check(ret == (ok ? 0 : -1));
	w->ready = ok;
	w->broken = !ok;
	w->event_idx = e;
	w->last_avail = w->used_idx = w->signalled = base;
	w->signalled_valid = false;
	w->drv_idx = base;
	w->ntaken = 0;
	check_ram(w); /* vq_init writes nothing */
}

static void check_chain_in_ram(struct world *w, const struct vq_chain *c,
			       unsigned int cap)
{
	uint64_t sum[2] = { 0, 0 };

	check(c->nout + c->nin <= cap);
	for (unsigned int k = 0; k < c->nout + c->nin; k++) {
		const volatile uint8_t *b = c->iov[k].iov_base;
		size_t len = c->iov[k].iov_len;
		bool inside = false;

		check(len > 0);
		for (int i = 0; i < NREG; i++) {
			const uint8_t *h = w->mem.region[i].host;

			if ((const uint8_t *)b >= h &&
			    (size_t)((const uint8_t *)b - h) < layout[i].size &&
			    len <= layout[i].size -
					    (size_t)((const uint8_t *)b - h))
				inside = true;
		}
		check(inside);
		(void)b[0];
		(void)b[len - 1];
		sum[k >= c->nout] += len;
	}
	check(sum[0] == c->out_len && sum[1] == c->in_len);
	check(c->out_len + c->in_len <= 1ull << 32);
}

static void op_pop(struct world *w, struct rd *r)
{
	uint8_t how = u8(r);
	unsigned int cap = how < 200 ? how % 9u : VQ_CHAIN_IOV_MAX;
	struct vq_chain c = { .iov = w->iov, .iov_cap = cap };
	struct vq_oracle_queue q = {
		.mem = &w->mem,
		.size = w->size,
		.indirect = w->features & (1ull << VIRTIO_F_INDIRECT_DESC),
		.desc_gpa = w->desc,
		.avail_gpa = w->avail,
		.last_avail = w->last_avail,
	};
	int ret;

	if (how >= 250) /* above the limit: VQ_CHAIN_IOV_MAX applies */
		c.iov_cap = 100000u * how;
	if (how == 255) { /* no array at all: room for nothing */
		c.iov = NULL;
		cap = 0;
	}
	w->want.ret = -1;
	if (!w->broken)
		vq_oracle_pop(&q, cap, &w->want);
	ret = vq_pop(&w->vq, &c);
	trace(w, "pop cap %u: %d head %u out %u/%llu in %u/%llu %s\n", cap, ret,
	      c.head, c.nout, (unsigned long long)c.out_len, c.nin,
	      (unsigned long long)c.in_len, w->vq.error);
	check(ret == w->want.ret);
	if (ret != 1) {
		check(c.nout == 0 && c.nin == 0);
		check(c.out_len == 0 && c.in_len == 0);
		w->broken |= ret < 0;
		return;
	}
	check(c.head == w->want.head && c.head < w->size);
	check(c.nout == w->want.nout && c.nin == w->want.nin);
	check(c.out_len == w->want.out_len && c.in_len == w->want.in_len);
	/* c.iov may be NULL: a chain of empty buffers needs no iovec. */
	check(c.nout + c.nin == 0 ||
	      !memcmp(c.iov, w->want.iov,
		      (c.nout + c.nin) * sizeof(struct iovec)));
	check_chain_in_ram(w, &c, cap);
	w->last_avail++;
	if (w->ntaken < MAX_TAKEN)
		w->taken[w->ntaken++] = c.head;
}

static void op_push(struct world *w, struct rd *r)
{
	uint8_t k = u8(r);
	uint32_t len = u32(r);
	uint16_t head = k;

	if (w->ntaken) {
		unsigned int at = k % w->ntaken;

		head = w->taken[at];
		w->ntaken--;
		w->taken[at] = w->taken[w->ntaken];
	}
	vq_push(&w->vq, head, len);
	if (!w->ready)
		return;
	expect_put(w, w->used + 4 + 8 * (uint64_t)(w->used_idx % w->size), head,
		   4);
	expect_put(w, w->used + 8 + 8 * (uint64_t)(w->used_idx % w->size), len,
		   4);
	w->used_idx++;
	expect_put(w, w->used + 2, w->used_idx, 2);
	if (w->used_idx == w->signalled)
		w->signalled_valid = false;
}

static void op_notify(struct world *w)
{
	bool want = false, got = vq_should_notify(&w->vq);

	if (w->ready && !w->event_idx) {
		want = !(shadow16(w, w->avail) & 1);
	} else if (w->ready) {
		uint16_t old = w->signalled;
		uint16_t event = shadow16(w, w->avail + 4 + 2ull * w->size);

		/* Told before, or used_event among the entries [old, new). */
		want = !w->signalled_valid ||
		       (uint16_t)(event - old) < (uint16_t)(w->used_idx - old);
		w->signalled = w->used_idx;
		w->signalled_valid = true;
	}
	trace(w, "notify: %d\n", got);
	check(got == want);
}

static void expect_suppress(struct world *w, bool on)
{
	if (w->event_idx)
		expect_put(w, w->used + 4 + 8ull * w->size, w->last_avail, 2);
	else
		expect_put(w, w->used, on, 2);
}

static void op_enable(struct world *w)
{
	bool got = vq_enable_notify(&w->vq), want = false;

	if (w->ready && !w->broken) {
		expect_suppress(w, false);
		want = shadow16(w, w->avail + 2) != w->last_avail;
	}
	check(got == want);
}

static void op_pending(struct world *w)
{
	struct vq_oracle_queue q = {
		.mem = &w->mem,
		.size = w->size,
		.avail_gpa = w->avail,
		.last_avail = w->last_avail,
	};
	unsigned int got = vq_pending(&w->vq);
	int want = w->broken ? 0 : vq_oracle_pending(&q);

	if (want < 0) {
		w->broken = true;
		want = 0;
	}
	check(got == (unsigned int)want);
}

static void put_desc(struct world *w, uint64_t gpa, uint64_t addr, uint32_t len,
		     uint16_t flags, uint16_t next)
{
	uint8_t d[16];

	for (int k = 0; k < 8; k++)
		d[k] = (uint8_t)(addr >> (8 * k));
	for (int k = 0; k < 4; k++)
		d[8 + k] = (uint8_t)(len >> (8 * k));
	d[12] = (uint8_t)flags;
	d[13] = (uint8_t)(flags >> 8);
	d[14] = (uint8_t)next;
	d[15] = (uint8_t)(next >> 8);
	guest_write(w, gpa, d, 16);
}

static void desc_fields(struct world *w, struct rd *r, uint64_t gpa)
{
	uint64_t addr = place(r);
	uint32_t len = u32(r);
	uint16_t flags = u16(r);
	uint16_t next = u16(r);

	put_desc(w, gpa, addr, len, flags, next);
}

static void publish(struct world *w, uint16_t head)
{
	if (!w->ready)
		return;
	guest_put16(w, w->avail + 4 + 2ull * (w->drv_idx % w->size), head);
	w->drv_idx++;
	guest_put16(w, w->avail + 2, w->drv_idx);
}

/* A well-formed chain of n descriptors from index start, published. */
static void op_chain(struct world *w, struct rd *r)
{
	unsigned int n = u8(r) % 8 + 1;
	uint16_t start = u16(r);

	for (unsigned int k = 0; k < n && w->ready; k++) {
		uint16_t i = (uint16_t)((start + k) % w->size);
		uint64_t addr = place(r);
		uint16_t len = u16(r);
		uint8_t how = u8(r);
		uint16_t flags = (uint16_t)((how & 1 ? 2 : 0) |
					    (k + 1 < n ? 1 : 0) | (how & 4));

		put_desc(w, w->desc + 16ull * i, addr, len, flags,
			 (uint16_t)((i + 1) % w->size));
	}
	publish(w, (uint16_t)(w->ready ? start % w->size : 0));
}

static void op_field(struct world *w, struct rd *r)
{
	uint8_t which = u8(r) % 5;
	uint16_t v = u16(r);

	if (!w->ready)
		return;
	switch (which) {
	case 0: /* avail flags */
		guest_put16(w, w->avail, v);
		break;
	case 1: /* avail idx, as the driver's own idea of it too */
		w->drv_idx = v;
		guest_put16(w, w->avail + 2, v);
		break;
	case 2:
		guest_put16(w, w->avail + 4 + 2ull * w->size, v);
		break;
	case 3: /* the device's fields: a guest may scribble them */
		guest_put16(w, w->used, v);
		break;
	default:
		guest_put16(w, w->used + 4 + 8ull * w->size, v);
		break;
	}
}

static void run(struct world *w, struct rd *r)
{
	uint8_t sel = u8(r), feat;
	uint16_t base, n;
	const uint8_t *bytes;
	size_t len;

	w->size = sel < 0xf0 ? 1u << (sel % 11) : u16(r);
	feat = u8(r);
	w->features = (feat & 1 ? 1ull << VIRTIO_F_INDIRECT_DESC : 0) |
		      (feat & 2 ? 1ull << VIRTIO_F_EVENT_IDX : 0) |
		      (feat & 4 ? 1ull << VIRTIO_F_VERSION_1 : 0) |
		      (feat & 8 ? F_PACKED : 0);
	w->desc = place(r);
	w->avail = place(r);
	w->used = place(r);
	base = u16(r);
	/* Initial RAM: bytes from gpa 0 on, through the adjacent regions. */
	n = u16(r);
	len = take(r, n, &bytes);
	guest_write(w, 0, bytes, len);
	do_init(w, base);
	for (int i = 0; i < MAX_OPS && r->n; i++) {
		uint8_t op = u8(r);

		switch (op % 13) {
		case 0:
			op_pop(w, r);
			break;
		case 1:
			op_push(w, r);
			break;
		case 2:
			op_notify(w);
			break;
		case 3:
			vq_disable_notify(&w->vq);
			if (w->ready)
				expect_suppress(w, true);
			break;
		case 4:
			op_enable(w);
			break;
		case 5:
			op_pending(w);
			break;
		case 6: {
			uint64_t gpa = place(r);

			n = u8(r);
			len = take(r, n, &bytes);
			guest_write(w, gpa, bytes, len);
			break;
		}
		case 7: /* a descriptor of the queue's table */
			desc_fields(
				w, r,
				w->desc + 16ull * (w->ready ? u16(r) % w->size :
							      u16(r)));
			break;
		case 8: /* a descriptor anywhere: indirect tables */
			desc_fields(w, r, place(r));
			break;
		case 9:
			publish(w, u16(r));
			break;
		case 10:
			op_field(w, r);
			break;
		case 11:
			do_init(w, u16(r));
			break;
		default:
			op_chain(w, r);
			break;
		}
		check_ram(w);
		check_state(w);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct world w; /* large: the expected chain's iovecs */
	struct rd r = { data, size };

	memset(&w, 0, sizeof(w));
	w.trace = getenv("FUZZ_VQ_TRACE") != NULL;
	w.mem.nregions = NREG;
	for (int i = 0; i < NREG; i++) {
		w.mem.region[i].gpa = layout[i].gpa;
		w.mem.region[i].size = layout[i].size;
		w.mem.region[i].host = calloc(1, layout[i].size);
		w.shadow[i] = calloc(1, layout[i].size);
		check(w.mem.region[i].host && w.shadow[i]);
	}
	run(&w, &r);
	for (int i = 0; i < NREG; i++) {
		free(w.mem.region[i].host);
		free(w.shadow[i]);
	}
	return 0;
}
