// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-blk request parsing (virtio 1.2, 5.2.6). The header is read from
 * the device-readable part, the status byte is the last device-writable
 * byte; data sits between. A request asks for exactly what its type
 * needs: extra readable or writable bytes make it an I/O error rather
 * than something guessed at.
 */
#include "devmodel/blk/blk_request.h"

#include <endian.h>
#include <string.h>

size_t blk_iov_copy_from(const struct iovec *iov, unsigned int niov,
			 size_t skip, void *buf, size_t len)
{
	size_t done = 0;

	for (unsigned int i = 0; i < niov && done < len; i++) {
		size_t n = iov[i].iov_len;

		if (skip >= n) {
			skip -= n;
			continue;
		}
		n -= skip;
		if (n > len - done)
			n = len - done;
		memcpy((uint8_t *)buf + done, (uint8_t *)iov[i].iov_base + skip,
		       n);
		done += n;
		skip = 0;
	}
	return done;
}

size_t blk_iov_copy_to(const struct iovec *iov, unsigned int niov,
		       const void *buf, size_t len)
{
	size_t done = 0;

	for (unsigned int i = 0; i < niov && done < len; i++) {
		size_t n = iov[i].iov_len;

		if (n > len - done)
			n = len - done;
		memcpy(iov[i].iov_base, (const uint8_t *)buf + done, n);
		done += n;
	}
	return done;
}

static uint64_t iov_bytes(const struct iovec *iov, unsigned int n)
{
	uint64_t sum = 0;

	for (unsigned int i = 0; i < n; i++)
		sum += iov[i].iov_len;
	return sum;
}

/* Drops the first skip bytes: the iovecs that remain, first one trimmed. */
static struct iovec *iov_skip(struct iovec *iov, unsigned int *niov,
			      size_t skip)
{
	while (*niov && skip >= iov->iov_len) {
		skip -= iov->iov_len;
		iov++;
		(*niov)--;
	}
	if (*niov) {
		iov->iov_base = (uint8_t *)iov->iov_base + skip;
		iov->iov_len -= skip;
	}
	return iov;
}

/* [sector, sector + bytes / 512) lies inside the disk; no overflow. */
static bool range_ok(const struct blk_limits *lim, uint64_t sector,
		     uint64_t bytes)
{
	uint64_t sectors = bytes / BLK_SECTOR;

	return sector <= lim->capacity && sectors <= lim->capacity - sector;
}

static void answer(struct blk_request *req, uint8_t status)
{
	req->op = BLK_OP_ANSWER;
	req->status = status;
}

static void parse_ranges(const struct blk_limits *lim, struct vq_chain *chain,
			 uint64_t out_data, struct blk_request *req)
{
	bool discard = req->type == VIRTIO_BLK_T_DISCARD;
	uint32_t allowed = discard ? 0 : VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP;
	struct virtio_blk_discard_write_zeroes seg[BLK_RANGES_MAX];
	unsigned int n;

	if (out_data == 0 || out_data % sizeof(seg[0]) ||
	    out_data / sizeof(seg[0]) > lim->ranges_max ||
	    out_data / sizeof(seg[0]) > BLK_RANGES_MAX) {
		answer(req, VIRTIO_BLK_S_IOERR);
		return;
	}
	n = (unsigned int)(out_data / sizeof(seg[0]));
	/* One copy out of guest memory; only the copy is looked at. */
	if (blk_iov_copy_from(chain->iov, chain->nout,
			      sizeof(struct virtio_blk_outhdr), seg,
			      n * sizeof(seg[0])) != n * sizeof(seg[0])) {
		answer(req, VIRTIO_BLK_S_IOERR);
		return;
	}
	for (unsigned int i = 0; i < n; i++) {
		uint64_t sector = le64toh(seg[i].sector);
		uint32_t num = le32toh(seg[i].num_sectors);
		uint32_t flags = le32toh(seg[i].flags);

		if (flags & ~allowed) {
			answer(req, VIRTIO_BLK_S_UNSUPP);
			return;
		}
		if (!num || num > lim->range_sectors_max ||
		    !range_ok(lim, sector, (uint64_t)num * BLK_SECTOR)) {
			answer(req, VIRTIO_BLK_S_IOERR);
			return;
		}
		req->range[i] = (struct blk_range){
			.offset = sector * BLK_SECTOR,
			.len = (uint64_t)num * BLK_SECTOR,
			.unmap = (flags & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP) &&
				 lim->may_unmap,
		};
	}
	req->nranges = n;
	req->op = discard ? BLK_OP_DISCARD : BLK_OP_WRITE_ZEROES;
}

void blk_request_parse(const struct blk_limits *lim, struct vq_chain *chain,
		       struct blk_request *req)
{
	struct iovec *in = chain->iov + chain->nout;
	unsigned int nin = chain->nin, nout = chain->nout;
	struct virtio_blk_outhdr hdr;
	uint64_t in_data, out_data, sector;

	memset(req, 0, sizeof(*req));
	while (nin && !in[nin - 1].iov_len)
		nin--;
	if (!nin) {
		answer(req, VIRTIO_BLK_S_IOERR); /* and nowhere to say so */
		return;
	}
	in[nin - 1].iov_len--;
	req->status_ptr = (uint8_t *)in[nin - 1].iov_base + in[nin - 1].iov_len;
	if (!in[nin - 1].iov_len)
		nin--; /* the status byte had a buffer of its own */
	in_data = iov_bytes(in, nin);

	if (blk_iov_copy_from(chain->iov, nout, 0, &hdr, sizeof(hdr)) !=
	    sizeof(hdr)) {
		answer(req, VIRTIO_BLK_S_IOERR);
		return;
	}
	out_data = iov_bytes(chain->iov, nout) - sizeof(hdr);
	req->type = le32toh(hdr.type);
	sector = le64toh(hdr.sector);

	switch (req->type) {
	case VIRTIO_BLK_T_IN:
		if (out_data || in_data % BLK_SECTOR ||
		    !range_ok(lim, sector, in_data)) {
			answer(req, VIRTIO_BLK_S_IOERR);
		} else if (!in_data) {
			answer(req, VIRTIO_BLK_S_OK);
		} else {
			req->op = BLK_OP_READ;
			req->iov = in;
			req->niov = nin;
			req->offset = sector * BLK_SECTOR;
			req->len = in_data;
		}
		return;
	case VIRTIO_BLK_T_OUT:
		if (lim->readonly || in_data || out_data % BLK_SECTOR ||
		    !range_ok(lim, sector, out_data)) {
			answer(req, VIRTIO_BLK_S_IOERR);
		} else if (!out_data) {
			answer(req, VIRTIO_BLK_S_OK);
		} else {
			req->op = BLK_OP_WRITE;
			req->niov = nout;
			req->iov =
				iov_skip(chain->iov, &req->niov, sizeof(hdr));
			req->offset = sector * BLK_SECTOR;
			req->len = out_data;
		}
		return;
	case VIRTIO_BLK_T_FLUSH:
		if (out_data || in_data)
			answer(req, VIRTIO_BLK_S_IOERR);
		else if (lim->readonly)
			answer(req, VIRTIO_BLK_S_OK); /* nothing was written */
		else
			req->op = BLK_OP_FLUSH;
		return;
	case VIRTIO_BLK_T_GET_ID:
		if (out_data || !in_data) {
			answer(req, VIRTIO_BLK_S_IOERR);
		} else if (!lim->serial) {
			answer(req, VIRTIO_BLK_S_UNSUPP);
		} else {
			req->op = BLK_OP_GET_ID;
			req->iov = in;
			req->niov = nin;
			req->len = in_data < BLK_SERIAL_MAX ? in_data :
							      BLK_SERIAL_MAX;
		}
		return;
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		if (lim->readonly || in_data)
			answer(req, VIRTIO_BLK_S_IOERR);
		else if (!(req->type == VIRTIO_BLK_T_DISCARD ?
				   lim->discard :
				   lim->write_zeroes))
			answer(req, VIRTIO_BLK_S_UNSUPP);
		else
			parse_ranges(lim, chain, out_data, req);
		return;
	default:
		answer(req, VIRTIO_BLK_S_UNSUPP);
		return;
	}
}

uint32_t blk_request_used_len(const struct blk_request *req, uint8_t status,
			      uint64_t written)
{
	uint64_t len = 1;

	if (!req->status_ptr)
		return 0;
	if (status == VIRTIO_BLK_S_OK &&
	    (req->op == BLK_OP_READ || req->op == BLK_OP_GET_ID))
		len += written;
	return len > UINT32_MAX ? UINT32_MAX : (uint32_t)len;
}
