// SPDX-License-Identifier: GPL-2.0-only
/*
 * A transfer moves run by run; each run is one op on one file. The
 * overlay's map has a bit per unit, set once a write of that unit to the
 * overlay has completed: a read racing a write may still see the image's
 * old data, which is what a disk may return for a read that overlaps a
 * write in flight, but never a unit the overlay does not yet hold.
 */
#include "devmodel/blk/blk_stack.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "devmodel/blk/blk_crypt.h"
#include "devmodel/blk/blk_request.h"
#include "devmodel/blk/blk_verity.h"

struct blk_stack {
	struct blk_stack_config c;
	struct blk_io *io;
	uint64_t *map; /* overlay: a bit per unit */
	uint64_t nunits;
	uint64_t overlay_units; /* bits set */
};

static bool map_test(const struct blk_stack *st, uint64_t u)
{
	return st->map[u / 64] & (1ull << (u % 64));
}

static void map_set(struct blk_stack *st, uint64_t u, uint64_t n)
{
	for (uint64_t i = u; i < u + n; i++) {
		if (!map_test(st, i)) {
			st->map[i / 64] |= 1ull << (i % 64);
			st->overlay_units++;
		}
	}
}

struct blk_stack *blk_stack_new(const struct blk_stack_config *c,
				struct blk_io *io)
{
	struct blk_stack *st;

	/* The unit divides a chunk, so runs are whole units. */
	if (!c->unit || (c->unit & (c->unit - 1)) ||
	    BLK_STACK_CHUNK % c->unit || c->size % c->unit)
		return NULL;
	st = calloc(1, sizeof(*st));
	if (!st)
		return NULL;
	st->c = *c;
	st->io = io;
	st->nunits = c->size / c->unit;
	if (c->overlay) {
		st->map = calloc(st->nunits / 64 + 1, sizeof(*st->map));
		if (!st->map) {
			free(st);
			return NULL;
		}
	}
	return st;
}

void blk_stack_free(struct blk_stack *st)
{
	if (!st)
		return;
	free(st->map);
	free(st);
}

bool blk_stack_overlay(const struct blk_stack *st)
{
	return st->c.overlay;
}

uint64_t blk_stack_overlay_blocks(const struct blk_stack *st)
{
	return st->overlay_units;
}

/* The iovecs covering [skip, skip + len) of iov, in x->slice. */
static unsigned int slice(struct blk_xfer *x, uint64_t skip, uint64_t len)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < x->niov && len && n < x->slice_cap; i++) {
		uint64_t l = x->iov[i].iov_len;

		if (skip >= l) {
			skip -= l;
			continue;
		}
		l -= skip;
		if (l > len)
			l = len;
		x->slice[n].iov_base = (char *)x->iov[i].iov_base + skip;
		x->slice[n++].iov_len = l;
		len -= l;
		skip = 0;
	}
	return len ? 0 : n;
}

/* How much of the rest comes from one file next; *overlay says which. */
static uint64_t next_run(const struct blk_stack *st, const struct blk_xfer *x,
			 bool *overlay)
{
	uint64_t pos = x->offset + x->done, left = x->len - x->done;
	uint64_t max = left < BLK_STACK_CHUNK ? left : BLK_STACK_CHUNK;
	uint64_t u = pos / st->c.unit, n = max / st->c.unit, k = 1;

	*overlay = st->c.overlay && (x->write || map_test(st, u));
	if (x->write || !st->c.overlay)
		return max;
	while (k < n && map_test(st, u + k) == *overlay)
		k++;
	return k * st->c.unit;
}

static struct blk_crypt *run_crypt(const struct blk_stack *st, bool overlay)
{
	return overlay ? st->c.overlay_crypt : st->c.crypt;
}

/* Whether the run's data passes through the bounce buffer. */
static bool run_bounces(const struct blk_stack *st, const struct blk_xfer *x)
{
	if (run_crypt(st, x->run_overlay))
		return true;
	return !x->write && !x->run_overlay && st->c.verity;
}

/* Sets up x->op for the next run; 0 or -errno. */
static int start_run(struct blk_stack *st, struct blk_xfer *x)
{
	struct blk_io_op *op = &x->op;
	uint64_t pos = x->offset + x->done;
	unsigned int n;

	x->run = next_run(st, x, &x->run_overlay);
	op->kind = x->write ? BLK_IO_WRITE : BLK_IO_READ;
	op->file = x->run_overlay ? BLK_FILE_OVERLAY : BLK_FILE_IMAGE;
	op->offset = x->run_overlay ? pos : st->c.data_offset + pos;
	n = slice(x, x->done, x->run);
	if (!n)
		return -EIO; /* the buffers are shorter than the request */
	if (!run_bounces(st, x)) {
		op->iov = x->slice;
		op->niov = n;
		return 0;
	}
	x->biov.iov_base = x->bounce;
	x->biov.iov_len = x->run;
	op->iov = &x->biov;
	op->niov = 1;
	if (x->write &&
	    blk_crypt_encrypt_iov(run_crypt(st, x->run_overlay), x->slice, n,
				  x->bounce, x->run, pos) < 0)
		return -EIO;
	return 0;
}

/* The image's blocks in the bounce buffer, each against the tree. */
static int verify_run(struct blk_stack *st, const struct blk_xfer *x)
{
	uint64_t at = st->c.data_offset + x->offset + x->done;
	uint32_t vb = st->c.verity_block;

	for (uint64_t i = 0; i < x->run; i += vb) {
		if (blk_verity_check(st->c.verity, (at + i) / vb,
				     x->bounce + i) < 0)
			return -EIO;
	}
	return 0;
}

/* A read run in the bounce buffer: checked, decrypted, to the guest. */
static int deliver_read(struct blk_stack *st, struct blk_xfer *x)
{
	struct blk_crypt *crypt = run_crypt(st, x->run_overlay);
	uint64_t pos = x->offset + x->done;
	/* blk_io consumed the slice: take it afresh. */
	unsigned int n = slice(x, x->done, x->run);

	if (!x->run_overlay && st->c.verity && verify_run(st, x) < 0)
		return -EIO;
	if (crypt)
		return blk_crypt_decrypt_iov(crypt, x->bounce, x->slice, n,
					     x->run, pos) < 0 ?
			       -EIO :
			       0;
	return blk_iov_copy_to(x->slice, n, x->bounce, x->run) == x->run ? 0 :
									   -EIO;
}

/* The run's op finished with res: true if more remains to be done. */
static bool run_done(struct blk_stack *st, struct blk_xfer *x, int res)
{
	uint64_t pos = x->offset + x->done;

	if (!res && !x->write && run_bounces(st, x))
		res = deliver_read(st, x);
	if (res) {
		x->res = res;
		return false;
	}
	if (x->write && x->run_overlay)
		map_set(st, pos / st->c.unit, x->run / st->c.unit);
	x->done += x->run;
	if (x->done < x->len)
		return true;
	x->res = 0;
	return false;
}

static bool submit_runs(struct blk_stack *st, struct blk_xfer *x)
{
	for (;;) {
		int r = start_run(st, x);

		if (r < 0) {
			x->res = r;
			return false;
		}
		x->in_submit = true;
		x->inline_done = false;
		blk_io_submit(st->io, &x->op);
		x->in_submit = false;
		/* The synchronous engine answers inside the submit: loop. */
		if (!x->inline_done)
			return true;
		if (!run_done(st, x, x->inline_res))
			return false;
	}
}

bool blk_stack_begin(struct blk_stack *st, struct blk_xfer *x)
{
	x->done = 0;
	x->res = 0;
	x->in_submit = false;
	if (x->offset % st->c.unit || x->len % st->c.unit ||
	    x->offset > st->c.size || x->len > st->c.size - x->offset) {
		x->res = -EINVAL;
		return false;
	}
	if (!x->len)
		return false;
	return submit_runs(st, x);
}

bool blk_stack_continue(struct blk_stack *st, struct blk_xfer *x, int res)
{
	if (x->in_submit) {
		x->inline_done = true;
		x->inline_res = res;
		return true;
	}
	if (!run_done(st, x, res))
		return false;
	return submit_runs(st, x);
}
