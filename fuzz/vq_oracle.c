// SPDX-License-Identifier: GPL-2.0-only
/* A reference for vq_pop(): see vq_oracle.h for how it differs. */
#include "vq_oracle.h"

#include <stdint.h>
#include <string.h>

typedef unsigned __int128 u128;

#define F_NEXT 1
#define F_WRITE 2
#define F_INDIRECT 4

static unsigned int nregions(const struct vq_mem *mem)
{
	return mem->nregions > VQ_MEM_REGIONS_MAX ? VQ_MEM_REGIONS_MAX :
						    mem->nregions;
}

bool vq_oracle_byte(const struct vq_mem *mem, uint64_t gpa, uint8_t *out)
{
	for (unsigned int i = 0; i < nregions(mem); i++) {
		const struct vq_region *r = &mem->region[i];

		if (r->host && (u128)gpa >= r->gpa &&
		    (u128)gpa < (u128)r->gpa + r->size) {
			*out = r->host[gpa - r->gpa];
			return true;
		}
	}
	return false;
}

/* Little-endian value of n bytes at gpa, all in RAM. */
static bool read_le(const struct vq_mem *mem, uint64_t gpa, unsigned int n,
		    uint64_t *out)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < n; i++) {
		uint8_t b;

		if ((u128)gpa + i > UINT64_MAX ||
		    !vq_oracle_byte(mem, gpa + i, &b))
			return false;
		v |= (uint64_t)b << (8 * i);
	}
	*out = v;
	return true;
}

/* One region holds all of [gpa, gpa + len). */
static bool in_one_region(const struct vq_mem *mem, uint64_t gpa, uint64_t len)
{
	for (unsigned int i = 0; i < nregions(mem); i++) {
		const struct vq_region *r = &mem->region[i];

		if (r->host && (u128)gpa >= r->gpa &&
		    (u128)gpa + len <= (u128)r->gpa + r->size)
			return true;
	}
	return false;
}

struct desc {
	uint64_t addr;
	uint64_t len;
	uint64_t flags;
	uint64_t next;
};

static bool read_desc(const struct vq_mem *mem, uint64_t gpa, struct desc *d)
{
	return (u128)gpa + 16 <= (u128)UINT64_MAX + 1 &&
	       read_le(mem, gpa, 8, &d->addr) &&
	       read_le(mem, gpa + 8, 4, &d->len) &&
	       read_le(mem, gpa + 12, 2, &d->flags) &&
	       read_le(mem, gpa + 14, 2, &d->next);
}

/*
 * Appends [gpa, gpa + len) as iovecs, cut where it leaves a region: the
 * piece starting at each address is the intersection with the region
 * holding that address (the first one listed, as a lookup would find).
 */
static bool map_buffer(const struct vq_mem *mem, uint64_t gpa, uint64_t len,
		       unsigned int cap, struct vq_oracle_chain *c,
		       unsigned int *count)
{
	u128 at = gpa, end = (u128)gpa + len;

	while (at < end) {
		const struct vq_region *hit = NULL;
		u128 stop;

		for (unsigned int i = 0; i < nregions(mem) && !hit; i++) {
			const struct vq_region *r = &mem->region[i];

			if (r->host && at >= r->gpa &&
			    at < (u128)r->gpa + r->size)
				hit = r;
		}
		if (!hit || c->nout + c->nin >= cap)
			return false;
		stop = (u128)hit->gpa + hit->size;
		if (stop > end)
			stop = end;
		c->iov[c->nout + c->nin].iov_base =
			hit->host + (uint64_t)(at - hit->gpa);
		c->iov[c->nout + c->nin].iov_len = (size_t)(stop - at);
		at = stop;
		(*count)++;
	}
	return true;
}

int vq_oracle_pending(const struct vq_oracle_queue *q)
{
	uint64_t idx;
	unsigned int n;

	if (!read_le(q->mem, q->avail_gpa + 2, 2, &idx))
		return -1;
	n = (unsigned int)((idx - q->last_avail) & 0xffff);
	return n > q->size ? -1 : (int)n;
}

static int walk(const struct vq_oracle_queue *q, unsigned int cap,
		uint64_t head, struct vq_oracle_chain *c)
{
	uint64_t table = q->desc_gpa, entries = q->size, i = head, steps = 0;
	bool indirect = false, writable = false;
	struct desc d;

	for (;;) {
		/* More steps than the table has entries: it must loop. */
		if (++steps > entries)
			return -1;
		if (!read_desc(q->mem, table + 16 * i, &d))
			return -1; /* cannot happen: the table is RAM */
		if (d.flags & F_INDIRECT) {
			if (!q->indirect || indirect || (d.flags & F_NEXT) ||
			    d.len == 0 || d.len % 16 ||
			    d.len > 16 * (uint64_t)VQ_SIZE_MAX ||
			    !in_one_region(q->mem, d.addr, d.len))
				return -1;
			table = d.addr;
			entries = d.len / 16;
			indirect = true;
			steps = 0;
			i = 0;
			continue;
		}
		if (!(d.flags & F_WRITE) && writable)
			return -1;
		if (d.flags & F_WRITE) {
			writable = true;
			if (!map_buffer(q->mem, d.addr, d.len, cap, c, &c->nin))
				return -1;
			c->in_len += d.len;
		} else {
			if (!map_buffer(q->mem, d.addr, d.len, cap, c,
					&c->nout))
				return -1;
			c->out_len += d.len;
		}
		if (c->out_len + c->in_len > ((uint64_t)1 << 32))
			return -1;
		if (!(d.flags & F_NEXT))
			return 1;
		if (d.next >= entries)
			return -1;
		i = d.next;
	}
}

void vq_oracle_pop(const struct vq_oracle_queue *q, unsigned int cap,
		   struct vq_oracle_chain *out)
{
	int n = vq_oracle_pending(q);
	uint64_t head;

	out->nout = out->nin = 0;
	out->out_len = out->in_len = 0;
	out->head = 0;
	if (n <= 0) {
		out->ret = n;
		return;
	}
	if (!read_le(q->mem, q->avail_gpa + 4 + 2 * (q->last_avail % q->size),
		     2, &head) ||
	    head >= q->size) {
		out->ret = -1;
		return;
	}
	out->head = (uint16_t)head;
	out->ret = walk(q, cap, head, out);
	if (out->ret < 0) {
		out->nout = out->nin = 0;
		out->out_len = out->in_len = 0;
	}
}
