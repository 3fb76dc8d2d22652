// SPDX-License-Identifier: GPL-2.0-only
/*
 * io_uring requests are not system calls, so seccomp never sees them: the
 * ring itself is the sandbox's boundary for I/O. It is created disabled,
 * given the image as fixed file 0 (and a temporary disk's overlay as
 * fixed file 1), told which opcodes exist for them (READV, and for a
 * writable disk WRITEV, FSYNC, FALLOCATE; a read-only image descriptor
 * refuses writes itself) and that every SQE must name a fixed file, and
 * only then enabled. No register opcode
 * is allowed afterwards, so the set cannot grow.
 */
#include "devmodel/blk/blk_io.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "util/log.h"

struct blk_io {
	enum blk_io_engine engine;
	int fds[BLK_FILES_MAX];
	unsigned int nfds;
	bool readonly;
	blk_io_done_fn done;
	void *ctx;
	unsigned int inflight; /* submitted or queued, not yet done */
	unsigned int queued; /* SQEs not yet handed to the kernel */
	struct io_uring ring;
	int efd;
};

const char *blk_io_engine_name(enum blk_io_engine e)
{
	switch (e) {
	case BLK_IO_AUTO:
		return "auto";
	case BLK_IO_URING:
		return "io_uring";
	case BLK_IO_SYNC:
		return "synchronous";
	}
	return "?";
}

enum blk_io_engine blk_io_engine(const struct blk_io *io)
{
	return io->engine;
}

/* Consumes n transferred bytes of a READ/WRITE; true if some remain. */
static bool advance(struct blk_io_op *op, size_t n)
{
	op->offset += n;
	while (op->niov && n >= op->iov->iov_len) {
		n -= op->iov->iov_len;
		op->iov++;
		op->niov--;
	}
	if (op->niov) {
		op->iov->iov_base = (char *)op->iov->iov_base + n;
		op->iov->iov_len -= n;
	}
	while (op->niov && !op->iov->iov_len) {
		op->iov++;
		op->niov--;
	}
	return op->niov > 0;
}

static void finish(struct blk_io *io, struct blk_io_op *op, int res)
{
	op->res = res;
	io->inflight--;
	io->done(io->ctx, op);
}

/* ---- synchronous ---- */

static int sync_rw(struct blk_io *io, struct blk_io_op *op)
{
	while (op->niov) {
		int n = op->niov > IOV_MAX ? IOV_MAX : (int)op->niov;
		ssize_t r = op->kind == BLK_IO_READ ?
				    preadv(io->fds[op->file], op->iov, n,
					   (off_t)op->offset) :
				    pwritev(io->fds[op->file], op->iov, n,
					    (off_t)op->offset);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -EIO; /* past the end: the image shrank */
		advance(op, (size_t)r);
	}
	return 0;
}

static int sync_do(struct blk_io *io, struct blk_io_op *op)
{
	switch (op->kind) {
	case BLK_IO_READ:
	case BLK_IO_WRITE:
		return sync_rw(io, op);
	case BLK_IO_FLUSH:
		return fdatasync(io->fds[op->file]) < 0 ? -errno : 0;
	case BLK_IO_FALLOCATE:
		return fallocate(io->fds[op->file], op->mode, (off_t)op->offset,
				 (off_t)op->len) < 0 ?
			       -errno :
			       0;
	}
	return -EINVAL;
}

/* ---- io_uring ---- */

static int uring_setup(struct blk_io *io, unsigned int depth, char *why,
		       size_t whylen)
{
	struct io_uring_params p = { .flags = IORING_SETUP_R_DISABLED };
	struct io_uring_restriction res[8];
	unsigned int n = 0;
	int r;

	r = io_uring_queue_init_params(depth, &io->ring, &p);
	if (r < 0) {
		snprintf(why, whylen, "io_uring_setup: %s", strerror(-r));
		return r;
	}
	r = io_uring_register_files(&io->ring, io->fds, io->nfds);
	if (r < 0) {
		snprintf(why, whylen, "registering the image: %s",
			 strerror(-r));
		goto fail;
	}
	io->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (io->efd < 0) {
		r = -errno;
		snprintf(why, whylen, "eventfd: %s", strerror(errno));
		goto fail;
	}
	r = io_uring_register_eventfd(&io->ring, io->efd);
	if (r < 0) {
		snprintf(why, whylen, "registering the eventfd: %s",
			 strerror(-r));
		goto fail;
	}
	memset(res, 0, sizeof(res));
	res[n].opcode = IORING_RESTRICTION_SQE_OP;
	res[n++].sqe_op = IORING_OP_READV;
	if (!io->readonly) {
		res[n].opcode = IORING_RESTRICTION_SQE_OP;
		res[n++].sqe_op = IORING_OP_WRITEV;
		res[n].opcode = IORING_RESTRICTION_SQE_OP;
		res[n++].sqe_op = IORING_OP_FSYNC;
		res[n].opcode = IORING_RESTRICTION_SQE_OP;
		res[n++].sqe_op = IORING_OP_FALLOCATE;
	}
	res[n].opcode = IORING_RESTRICTION_SQE_FLAGS_ALLOWED;
	res[n++].sqe_flags = IOSQE_FIXED_FILE;
	res[n].opcode = IORING_RESTRICTION_SQE_FLAGS_REQUIRED;
	res[n++].sqe_flags = IOSQE_FIXED_FILE;
	r = io_uring_register_restrictions(&io->ring, res, n);
	if (r < 0) {
		snprintf(why, whylen, "restricting the ring: %s", strerror(-r));
		goto fail;
	}
	r = io_uring_enable_rings(&io->ring);
	if (r < 0) {
		snprintf(why, whylen, "enabling the ring: %s", strerror(-r));
		goto fail;
	}
	return 0;
fail:
	io_uring_queue_exit(&io->ring);
	if (io->efd >= 0)
		close(io->efd);
	io->efd = -1;
	return r;
}

static void uring_queue(struct blk_io *io, struct blk_io_op *op)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&io->ring);

	if (!sqe) {
		blk_io_commit(io);
		sqe = io_uring_get_sqe(&io->ring);
	}
	if (!sqe) {
		/* More ops than the ring has entries: the caller's depth. */
		finish(io, op, -EBUSY);
		return;
	}
	switch (op->kind) {
	case BLK_IO_READ:
		io_uring_prep_readv(sqe, op->file, op->iov, op->niov,
				    op->offset);
		break;
	case BLK_IO_WRITE:
		io_uring_prep_writev(sqe, op->file, op->iov, op->niov,
				     op->offset);
		break;
	case BLK_IO_FLUSH:
		io_uring_prep_fsync(sqe, op->file, IORING_FSYNC_DATASYNC);
		break;
	case BLK_IO_FALLOCATE:
		io_uring_prep_fallocate(sqe, op->file, op->mode, op->offset,
					op->len);
		break;
	}
	sqe->flags |= IOSQE_FIXED_FILE;
	io_uring_sqe_set_data(sqe, op);
	io->queued++;
}

static void uring_complete(struct blk_io *io, struct blk_io_op *op, int res)
{
	if (res == -EAGAIN || res == -EINTR) {
		uring_queue(io, op);
		return;
	}
	if ((op->kind == BLK_IO_READ || op->kind == BLK_IO_WRITE) && res >= 0) {
		if (res == 0) {
			finish(io, op, -EIO);
			return;
		}
		if (advance(op, (size_t)res)) {
			uring_queue(io, op); /* a short transfer: go on */
			return;
		}
		res = 0;
	}
	finish(io, op, res < 0 ? res : 0);
}

static void uring_reap(struct blk_io *io)
{
	struct io_uring_cqe *cqe;

	while (io_uring_peek_cqe(&io->ring, &cqe) == 0) {
		struct blk_io_op *op = io_uring_cqe_get_data(cqe);
		int res = cqe->res;

		io_uring_cqe_seen(&io->ring, cqe);
		uring_complete(io, op, res);
	}
}

/* ---- common ---- */

struct blk_io *blk_io_new(int fd, int overlay_fd, bool readonly,
			  enum blk_io_engine want, unsigned int depth,
			  blk_io_done_fn done, void *ctx)
{
	struct blk_io *io = calloc(1, sizeof(*io));
	char why[160] = "";

	if (!io)
		return NULL;
	io->fds[io->nfds++] = fd;
	if (overlay_fd >= 0)
		io->fds[io->nfds++] = overlay_fd;
	io->readonly = readonly;
	io->done = done;
	io->ctx = ctx;
	io->efd = -1;
	io->engine = BLK_IO_SYNC;
	if (want != BLK_IO_SYNC) {
		if (uring_setup(io, depth, why, sizeof(why)) == 0) {
			io->engine = BLK_IO_URING;
		} else if (want == BLK_IO_URING) {
			bh_err("io_uring unavailable: %s", why);
			free(io);
			return NULL;
		} else {
			bh_warn("io_uring unavailable (%s): using synchronous "
				"I/O",
				why);
		}
	}
	return io;
}

void blk_io_free(struct blk_io *io)
{
	if (!io)
		return;
	blk_io_drain(io);
	if (io->engine == BLK_IO_URING) {
		io_uring_queue_exit(&io->ring);
		close(io->efd);
	}
	free(io);
}

void blk_io_submit(struct blk_io *io, struct blk_io_op *op)
{
	io->inflight++;
	if (io->engine == BLK_IO_URING)
		uring_queue(io, op);
	else
		finish(io, op, sync_do(io, op));
}

void blk_io_commit(struct blk_io *io)
{
	if (io->engine != BLK_IO_URING || !io->queued)
		return;
	for (;;) {
		int r = io_uring_submit(&io->ring);

		if (r >= 0) {
			io->queued -= (unsigned int)r < io->queued ?
					      (unsigned int)r :
					      io->queued;
			/*
			 * A fast device (a RAM disk, the page cache) completes
			 * during the submit: answer now, in this same pass,
			 * and the guest gets one interrupt for the batch.
			 */
			uring_reap(io);
			if (!io->queued)
				return;
			continue;
		}
		if (r == -EINTR)
			continue;
		if (r == -EAGAIN || r == -EBUSY) {
			/* The kernel wants completions reaped first. */
			uring_reap(io);
			continue;
		}
		bh_err("io_uring_submit: %s", strerror(-r));
		return;
	}
}

void blk_io_quiet(struct blk_io *io, bool quiet)
{
	if (io->engine == BLK_IO_URING)
		io_uring_cq_eventfd_toggle(&io->ring, !quiet);
}

bool blk_io_ready(struct blk_io *io)
{
	return io->engine == BLK_IO_URING && io_uring_cq_ready(&io->ring);
}

int blk_io_event_fd(const struct blk_io *io)
{
	return io->engine == BLK_IO_URING ? io->efd : -1;
}

void blk_io_reap(struct blk_io *io)
{
	uint64_t n;

	if (io->engine != BLK_IO_URING)
		return;
	if (read(io->efd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		bh_warn("io_uring eventfd: %s", strerror(errno));
	uring_reap(io);
	blk_io_commit(io);
}

void blk_io_drain(struct blk_io *io)
{
	if (io->engine != BLK_IO_URING)
		return;
	while (io->inflight) {
		struct io_uring_cqe *cqe;
		int r;

		blk_io_commit(io);
		r = io_uring_wait_cqe(&io->ring, &cqe);
		if (r == -EINTR)
			continue;
		if (r < 0) {
			bh_err("io_uring_wait_cqe: %s", strerror(-r));
			return;
		}
		uring_reap(io);
	}
}

unsigned int blk_io_inflight(const struct blk_io *io)
{
	return io->inflight;
}

unsigned int blk_io_fds(const struct blk_io *io, int *fds)
{
	if (io->engine != BLK_IO_URING)
		return 0;
	fds[0] = io->ring.ring_fd;
	fds[1] = io->efd;
	return 2;
}

int blk_io_probe(struct blk_io *io, const struct io_uring_sqe *sqe)
{
	struct io_uring_sqe *mine;
	struct io_uring_cqe *cqe;
	int r;

	if (io->engine != BLK_IO_URING)
		return -ENOSYS;
	blk_io_drain(io);
	mine = io_uring_get_sqe(&io->ring);
	if (!mine)
		return -EBUSY;
	*mine = *sqe;
	mine->user_data = 0;
	r = io_uring_submit_and_wait(&io->ring, 1);
	if (r < 0)
		return r;
	r = io_uring_wait_cqe(&io->ring, &cqe);
	if (r < 0)
		return r;
	r = cqe->res;
	io_uring_cqe_seen(&io->ring, cqe);
	return r;
}
