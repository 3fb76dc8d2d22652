/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The disk's I/O: readv/writev straight between the image and guest
 * memory, fdatasync, fallocate. Two engines: io_uring (many requests in
 * flight, one thread), its ring confined with IORING_REGISTER_RESTRICTIONS
 * to the opcodes the disk needs on the one registered image file; and a
 * synchronous one (preadv/pwritev in the calling thread) where io_uring
 * is unavailable. Short transfers are continued inside the engine: an op
 * completes when all its bytes moved or it failed.
 */
#ifndef BH_DEVMODEL_BLK_IO_H
#define BH_DEVMODEL_BLK_IO_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

enum blk_io_kind {
	BLK_IO_READ,
	BLK_IO_WRITE,
	BLK_IO_FLUSH, /* fdatasync */
	BLK_IO_FALLOCATE,
};

/* The files an engine works on: the image, and a temporary disk's overlay. */
enum blk_io_file {
	BLK_FILE_IMAGE,
	BLK_FILE_OVERLAY,
	BLK_FILES_MAX,
};

struct blk_io_op {
	enum blk_io_kind kind;
	enum blk_io_file file;
	struct iovec *iov; /* READ/WRITE: consumed in place */
	unsigned int niov;
	uint64_t offset;
	uint64_t len; /* FALLOCATE */
	int mode; /* FALLOCATE */
	int res; /* when done: 0 or -errno */
	void *owner;
};

enum blk_io_engine {
	BLK_IO_AUTO, /* io_uring, else synchronous */
	BLK_IO_URING,
	BLK_IO_SYNC,
};

struct blk_io;

/* Called once per op when it is done (op->res set); may submit again. */
typedef void (*blk_io_done_fn)(void *ctx, struct blk_io_op *op);

/*
 * An engine on the image fd and, if overlay_fd >= 0, an overlay (neither
 * taken over), for at most depth ops in flight. readonly: the ring may
 * only read (no overlay then). NULL (logged) if the engine asked for
 * cannot be had; AUTO falls back and logs why.
 */
struct blk_io *blk_io_new(int fd, int overlay_fd, bool readonly,
			  enum blk_io_engine want, unsigned int depth,
			  blk_io_done_fn done, void *ctx);
void blk_io_free(struct blk_io *io);

enum blk_io_engine blk_io_engine(const struct blk_io *io);
const char *blk_io_engine_name(enum blk_io_engine e);

/* Queues op (synchronous: does it and calls done before returning). */
void blk_io_submit(struct blk_io *io, struct blk_io_op *op);
/* Hands queued ops to the kernel. */
void blk_io_commit(struct blk_io *io);
/* Descriptor that becomes readable when ops complete; -1 if none. */
int blk_io_event_fd(const struct blk_io *io);
/* Delivers completed ops. */
void blk_io_reap(struct blk_io *io);
/*
 * While quiet, completions do not make the event fd readable: the caller
 * is delivering them itself (blk_io_commit reaps what completed inline).
 * After leaving quiet, check blk_io_ready: what completed meanwhile did
 * not signal.
 */
void blk_io_quiet(struct blk_io *io, bool quiet);
bool blk_io_ready(struct blk_io *io);
/* Waits until no op is in flight, delivering each. */
void blk_io_drain(struct blk_io *io);
unsigned int blk_io_inflight(const struct blk_io *io);

/*
 * Tests only: submits sqe as it is on the io_uring engine and waits for
 * its result (the ring's restrictions answer -EACCES to what they do not
 * allow). -ENOSYS on the synchronous engine.
 */
struct io_uring_sqe;
int blk_io_probe(struct blk_io *io, const struct io_uring_sqe *sqe);

/* The descriptors the engine needs kept open; returns how many (<= 2). */
unsigned int blk_io_fds(const struct blk_io *io, int *fds);

#endif
