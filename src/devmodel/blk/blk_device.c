// SPDX-License-Identifier: GPL-2.0-only
/*
 * Requests live in slots: a slot holds the chain's iovecs, the parsed
 * request and the one I/O op it has in flight (ranges of DISCARD and
 * WRITE_ZEROES go one after another). Every kick and every batch of
 * completions is one pass: deliver what completed, take what the driver
 * added on every queue, submit, deliver what completed during the submit,
 * and only then signal, once per queue, when the event index says the
 * driver wants it. While a queue has requests in flight its kicks stay
 * off: each completion looks at its avail ring anyway, so the driver
 * need not exit to say it added more. When every slot is busy a queue is
 * left with kicks off and marked starved until a completion frees one.
 * A disk with layers (encryption, an overlay, verity) moves its reads and
 * writes through blk_stack.c; everything else is the same.
 */
#include "devmodel/blk/blk_device.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "devmodel/blk/blk_request.h"
#include "devmodel/blk/blk_stack.h"
#include "util/log.h"

/* Iovecs per chain: every segment split once at a region boundary. */
#define BLK_CHAIN_IOV (2 * (BLK_SEG_MAX + 2))
#define ZERO_CHUNK 4096u

enum zero_method {
	ZERO_BY_RANGE, /* FALLOC_FL_ZERO_RANGE */
	ZERO_BY_WRITE, /* writes from a page of zeros */
};

struct blk_slot {
	struct blk_request req;
	struct blk_io_op op;
	struct vhost_be_queue *q;
	uint16_t head;
	uint8_t status;
	uint64_t written; /* bytes put in the guest's buffers */
	unsigned int range; /* the range being worked on */
	uint64_t range_done; /* bytes of it zeroed by writes */
	bool range_punch; /* the range's current op punches a hole */
	struct iovec *iov; /* BLK_CHAIN_IOV */
	struct blk_xfer xfer; /* READ/WRITE on a layered disk */
	struct blk_slot *next_free;
};

struct blk_dev {
	struct blk_limits lim;
	struct virtio_blk_config config;
	uint64_t features;
	unsigned int nqueues;
	char serial[BLK_SERIAL_MAX];
	int fd;
	struct blk_io *io;
	struct blk_stack *stack; /* NULL: a plain disk */
	uint8_t *bounce_pool; /* BLK_DEPTH chunks, backed as touched */
	struct iovec *slice_pool;
	struct vhost_be *be;
	struct blk_slot *slots;
	struct iovec *iov_pool;
	struct blk_slot *free;
	uint32_t starved; /* queues waiting for a free slot */
	unsigned int inflight[VHOST_BE_QUEUES_MAX]; /* started, not pushed */
	uint64_t completed; /* requests answered, ever */
	uint64_t kicks; /* wake-ups by a driver's kick */
	uint64_t interrupts; /* calls signalled */
	uint32_t to_signal; /* queues with answers the driver was not told of */
	bool flush_failed; /* an fdatasync failed: no later flush may pass */
	bool punch_ok; /* the image takes FALLOC_FL_PUNCH_HOLE */
	enum zero_method zero;
	void *zero_page;
};

static void drain_queue(struct blk_dev *d, struct vhost_be_queue *q);

static struct blk_slot *slot_get(struct blk_dev *d)
{
	struct blk_slot *s = d->free;

	if (s)
		d->free = s->next_free;
	return s;
}

static void slot_put(struct blk_dev *d, struct blk_slot *s)
{
	s->next_free = d->free;
	d->free = s;
}

static void complete(struct blk_dev *d, struct blk_slot *s, uint8_t status)
{
	struct vhost_be_queue *q = s->q;

	if (s->req.status_ptr)
		*s->req.status_ptr = status;
	/* Rings are only reset after quiesce(), so q is still live here. */
	if (q->live) {
		vq_push(&q->vq, s->head,
			blk_request_used_len(&s->req, status, s->written));
		d->to_signal |= 1u << q->index;
	}
	d->inflight[q->index]--;
	d->completed++;
	slot_put(d, s);
}

static void signal_queues(struct blk_dev *d)
{
	unsigned int n = vhost_be_nqueues(d->be);

	for (unsigned int i = 0; i < n && d->to_signal; i++) {
		if ((d->to_signal & (1u << i)) &&
		    vhost_be_queue_signal(vhost_be_queue(d->be, i)))
			d->interrupts++;
	}
	d->to_signal = 0;
}

static void submit(struct blk_dev *d, struct blk_slot *s, enum blk_io_kind kind)
{
	s->op.kind = kind;
	s->op.owner = s;
	blk_io_submit(d->io, &s->op);
}

/* The next step of the current DISCARD / WRITE_ZEROES range. */
static void range_step(struct blk_dev *d, struct blk_slot *s)
{
	const struct blk_range *r = &s->req.range[s->range];

	s->range_punch = false;
	s->op.offset = r->offset;
	s->op.len = r->len;
	if (s->req.op == BLK_OP_DISCARD || (r->unmap && d->punch_ok)) {
		s->range_punch = true;
		s->op.mode = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
		submit(d, s, BLK_IO_FALLOCATE);
	} else if (d->zero == ZERO_BY_RANGE) {
		s->op.mode = FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE;
		submit(d, s, BLK_IO_FALLOCATE);
	} else {
		uint64_t left = r->len - s->range_done;
		unsigned int n = 0;

		s->op.offset = r->offset + s->range_done;
		while (left && n < BLK_CHAIN_IOV) {
			uint64_t k = left < ZERO_CHUNK ? left : ZERO_CHUNK;

			s->iov[n].iov_base = d->zero_page;
			s->iov[n++].iov_len = k;
			left -= k;
		}
		s->op.iov = s->iov;
		s->op.niov = n;
		s->range_done = r->len - left;
		submit(d, s, BLK_IO_WRITE);
	}
}

static bool unsupported(int res)
{
	return res == -EOPNOTSUPP || res == -ENOTSUP || res == -ENOSYS;
}

static void range_done(struct blk_dev *d, struct blk_slot *s, int res)
{
	const struct blk_range *r = &s->req.range[s->range];

	if (res && unsupported(res) && s->op.kind == BLK_IO_FALLOCATE) {
		if (s->range_punch) {
			d->punch_ok = false;
			if (s->req.op == BLK_OP_DISCARD) {
				/* Discarding is a hint: not doing it is fine. */
				res = 0;
				goto next;
			}
		} else if (d->zero == ZERO_BY_RANGE) {
			d->zero = ZERO_BY_WRITE;
		}
		bh_info("image does not take %s: falling back",
			s->range_punch ? "hole punching" : "zero ranges");
		range_step(d, s);
		return;
	}
	if (res) {
		complete(d, s, VIRTIO_BLK_S_IOERR);
		return;
	}
	if (s->op.kind == BLK_IO_WRITE && s->range_done < r->len) {
		range_step(d, s);
		return;
	}
next:
	if (++s->range < s->req.nranges) {
		s->range_done = 0;
		range_step(d, s);
		return;
	}
	complete(d, s, VIRTIO_BLK_S_OK);
}

/* A layered READ or WRITE: the stack has finished it, or went on. */
static void xfer_done(struct blk_dev *d, struct blk_slot *s, int res)
{
	if (blk_stack_continue(d->stack, &s->xfer, res))
		return;
	res = s->xfer.res;
	if (s->req.op == BLK_OP_READ)
		s->written = res ? 0 : s->req.len;
	complete(d, s, res ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK);
}

static void xfer_start(struct blk_dev *d, struct blk_slot *s)
{
	struct blk_xfer *x = &s->xfer;

	x->write = s->req.op == BLK_OP_WRITE;
	x->iov = s->req.iov;
	x->niov = s->req.niov;
	x->offset = s->req.offset;
	x->len = s->req.len;
	x->op.owner = s;
	if (blk_stack_begin(d->stack, x))
		return;
	if (!x->write)
		s->written = x->res ? 0 : s->req.len;
	complete(d, s, x->res ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK);
}

static void io_done(void *ctx, struct blk_io_op *op)
{
	struct blk_dev *d = ctx;
	struct blk_slot *s = op->owner;

	if (op == &s->xfer.op) {
		xfer_done(d, s, op->res);
		return;
	}
	switch (s->req.op) {
	case BLK_OP_READ:
		s->written = op->res ? 0 : s->req.len;
		complete(d, s, op->res ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK);
		return;
	case BLK_OP_WRITE:
		complete(d, s, op->res ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK);
		return;
	case BLK_OP_FLUSH:
		if (op->res) {
			/* Pages that failed writeback may now look clean. */
			bh_err("fdatasync failed: %s; every later flush fails",
			       strerror(-op->res));
			d->flush_failed = true;
		}
		complete(d, s, op->res ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK);
		return;
	case BLK_OP_DISCARD:
	case BLK_OP_WRITE_ZEROES:
		range_done(d, s, op->res);
		return;
	case BLK_OP_ANSWER:
	case BLK_OP_GET_ID:
		break;
	}
	complete(d, s, VIRTIO_BLK_S_IOERR);
}

static void start(struct blk_dev *d, struct blk_slot *s)
{
	struct blk_request *req = &s->req;

	switch (req->op) {
	case BLK_OP_ANSWER:
		complete(d, s, req->status);
		return;
	case BLK_OP_GET_ID:
		s->written = blk_iov_copy_to(req->iov, req->niov, d->serial,
					     req->len);
		complete(d, s, VIRTIO_BLK_S_OK);
		return;
	case BLK_OP_READ:
	case BLK_OP_WRITE:
		if (d->stack) {
			xfer_start(d, s);
			return;
		}
		s->op.iov = req->iov;
		s->op.niov = req->niov;
		s->op.offset = req->offset;
		submit(d, s,
		       req->op == BLK_OP_READ ? BLK_IO_READ : BLK_IO_WRITE);
		return;
	case BLK_OP_FLUSH:
		/* A temporary disk's writes are meant to vanish. */
		if (d->stack && blk_stack_overlay(d->stack)) {
			complete(d, s, VIRTIO_BLK_S_OK);
			return;
		}
		if (d->flush_failed) {
			complete(d, s, VIRTIO_BLK_S_IOERR);
			return;
		}
		submit(d, s, BLK_IO_FLUSH);
		return;
	case BLK_OP_DISCARD:
	case BLK_OP_WRITE_ZEROES:
		s->range = 0;
		s->range_done = 0;
		range_step(d, s);
		return;
	}
}

static void drain_queue(struct blk_dev *d, struct vhost_be_queue *q)
{
	d->starved &= ~(1u << q->index);
	while (vhost_be_queue_ready(q)) {
		vq_disable_notify(&q->vq);
		for (;;) {
			struct blk_slot *s;
			struct vq_chain chain;
			int r;

			if (!vhost_be_queue_ready(q))
				return;
			s = slot_get(d);
			if (!s) {
				/* Notifications stay off: a completion resumes. */
				d->starved |= 1u << q->index;
				return;
			}
			memset(&chain, 0, sizeof(chain));
			chain.iov = s->iov;
			chain.iov_cap = BLK_CHAIN_IOV;
			r = vq_pop(&q->vq, &chain);
			if (r <= 0) {
				slot_put(d, s);
				if (r < 0)
					vhost_be_queue_broken(q);
				break;
			}
			s->q = q;
			s->head = chain.head;
			s->written = 0;
			d->inflight[q->index]++;
			blk_request_parse(&d->lim, &chain, &s->req);
			start(d, s);
		}
		if (!vhost_be_queue_ready(q))
			return;
		/* The next completion drains this queue again: no kick needed. */
		if (d->inflight[q->index])
			return;
		if (!vq_enable_notify(&q->vq))
			return;
	}
}

static void drain_all(struct blk_dev *d)
{
	unsigned int n = vhost_be_nqueues(d->be);

	for (unsigned int i = 0; i < n && d->free; i++)
		drain_queue(d, vhost_be_queue(d->be, i));
}

/*
 * Passes over everything that can move (see the top of the file), until
 * one answers nothing: an answer may free a slot a starved queue needs,
 * or leave a queue with nothing in flight whose kicks must come back on.
 */
static void process(struct blk_dev *d)
{
	blk_io_quiet(d->io, true);
	for (;;) {
		uint64_t before = d->completed;

		blk_io_reap(d->io);
		drain_all(d);
		blk_io_commit(d->io); /* answers what completed inline */
		if (d->completed != before)
			continue;
		blk_io_quiet(d->io, false);
		/* Completed between the last look and the end of quiet? */
		if (!blk_io_ready(d->io))
			break;
		blk_io_quiet(d->io, true);
	}
	signal_queues(d);
}

static void on_kick(void *opaque, struct vhost_be_queue *q)
{
	struct blk_dev *d = opaque;

	(void)q;
	d->kicks++;
	process(d);
}

static void on_io_event(void *arg)
{
	process(arg);
}

static void on_quiesce(void *opaque)
{
	struct blk_dev *d = opaque;

	blk_io_drain(d->io);
	signal_queues(d);
}

static void on_reset(void *opaque)
{
	struct blk_dev *d = opaque;

	d->starved = 0;
	d->to_signal = 0;
	memset(d->inflight, 0, sizeof(d->inflight));
}

static int get_config(void *opaque, uint32_t offset, uint8_t *buf, uint32_t len)
{
	struct blk_dev *d = opaque;

	return blk_config_read(&d->config, offset, buf, len);
}

/* Nothing in the config space is writable (no CONFIG_WCE). */
static int set_config(void *opaque, uint32_t offset, const uint8_t *buf,
		      uint32_t len)
{
	(void)opaque;
	(void)offset;
	(void)buf;
	(void)len;
	return -1;
}

static void stack_free(struct blk_dev *d)
{
	blk_stack_free(d->stack);
	if (d->bounce_pool)
		munmap(d->bounce_pool, (size_t)BLK_DEPTH * BLK_STACK_CHUNK);
	free(d->slice_pool);
}

/* Each slot gets a chunk of bounce buffer and its own slice iovecs. */
static int stack_new(struct blk_dev *d, const struct blk_stack_config *c)
{
	void *pool = mmap(NULL, (size_t)BLK_DEPTH * BLK_STACK_CHUNK,
			  PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (pool == MAP_FAILED)
		return -1;
	/* Ciphertext only, but nothing of a disk belongs in a core dump. */
	madvise(pool, (size_t)BLK_DEPTH * BLK_STACK_CHUNK, MADV_DONTDUMP);
	d->bounce_pool = pool;
	d->slice_pool =
		calloc((size_t)BLK_DEPTH * BLK_CHAIN_IOV, sizeof(struct iovec));
	d->stack = blk_stack_new(c, d->io);
	if (!d->slice_pool || !d->stack)
		return -1;
	for (unsigned int i = 0; i < BLK_DEPTH; i++) {
		struct blk_xfer *x = &d->slots[i].xfer;

		x->bounce = d->bounce_pool + (size_t)i * BLK_STACK_CHUNK;
		x->slice = d->slice_pool + (size_t)i * BLK_CHAIN_IOV;
		x->slice_cap = BLK_CHAIN_IOV;
	}
	return 0;
}

struct blk_dev *blk_dev_new(const struct blk_dev_config *cfg)
{
	struct blk_dev *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->fd = cfg->image_fd;
	d->features = blk_features(&cfg->params);
	d->nqueues = cfg->params.nqueues;
	blk_config_init(&cfg->params, &d->config);
	blk_limits_init(&cfg->params, cfg->serial != NULL, &d->lim);
	/* Zero-padded, not terminated when it has all 20 bytes. */
	if (cfg->serial)
		memcpy(d->serial, cfg->serial,
		       strnlen(cfg->serial, sizeof(d->serial)));
	d->punch_ok = true;
	d->zero = ZERO_BY_RANGE;
	/* Never written: reading it maps the shared zero page, no memory. */
	d->zero_page = mmap(NULL, ZERO_CHUNK, PROT_READ,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	d->slots = calloc(BLK_DEPTH, sizeof(*d->slots));
	/* Large and mostly untouched: a fresh mapping costs only what is used. */
	d->iov_pool =
		calloc((size_t)BLK_DEPTH * BLK_CHAIN_IOV, sizeof(struct iovec));
	if (d->zero_page == MAP_FAILED || !d->slots || !d->iov_pool)
		goto fail;
	for (unsigned int i = 0; i < BLK_DEPTH; i++) {
		d->slots[i].iov = d->iov_pool + (size_t)i * BLK_CHAIN_IOV;
		slot_put(d, &d->slots[i]);
	}
	d->io = blk_io_new(cfg->image_fd, cfg->overlay_fd, cfg->params.readonly,
			   cfg->engine, BLK_DEPTH, io_done, d);
	if (!d->io || (cfg->stack && stack_new(d, cfg->stack) < 0))
		goto fail;
	return d;
fail:
	blk_io_free(d->io);
	stack_free(d);
	if (d->zero_page != MAP_FAILED && d->zero_page)
		munmap(d->zero_page, ZERO_CHUNK);
	free(d->slots);
	free(d->iov_pool);
	free(d);
	return NULL;
}

void blk_dev_free(struct blk_dev *d)
{
	if (!d)
		return;
	/* What it took to serve them: each kick and interrupt is a VM exit. */
	if (d->completed)
		bh_info("answered %llu requests; %llu kicks, %llu interrupts",
			(unsigned long long)d->completed,
			(unsigned long long)d->kicks,
			(unsigned long long)d->interrupts);
	if (d->stack && blk_stack_overlay_blocks(d->stack))
		bh_info("the overlay held %llu blocks: discarded",
			(unsigned long long)blk_stack_overlay_blocks(d->stack));
	blk_io_free(d->io);
	stack_free(d);
	munmap(d->zero_page, ZERO_CHUNK);
	free(d->slots);
	free(d->iov_pool);
	free(d);
}

void blk_dev_vhost(struct blk_dev *d, struct vhost_be_device *out)
{
	memset(out, 0, sizeof(*out));
	out->nqueues = d->nqueues;
	out->features = d->features;
	out->opaque = d;
	out->get_config = get_config;
	out->set_config = set_config;
	out->queue_kick = on_kick;
	out->quiesce = on_quiesce;
	out->reset = on_reset;
}

int blk_dev_attach(struct blk_dev *d, struct vhost_be *be)
{
	int efd = blk_io_event_fd(d->io);

	d->be = be;
	if (efd >= 0 && vhost_be_watch(be, efd, on_io_event, d) < 0) {
		bh_err("cannot watch I/O completions: %s", strerror(errno));
		return -1;
	}
	return 0;
}

enum blk_io_engine blk_dev_engine(const struct blk_dev *d)
{
	return blk_io_engine(d->io);
}

struct blk_io *blk_dev_io(struct blk_dev *d)
{
	return d->io;
}

unsigned int blk_dev_fds(const struct blk_dev *d, int *fds)
{
	return blk_io_fds(d->io, fds);
}
