// SPDX-License-Identifier: GPL-2.0-only
/* sendv: gather from the sender's memory into the receiver's ring. */
#include "hmx/internal.h"

#include <errno.h>
#include <string.h>

/*
 * Copy n bytes to data offset off of a ring (wrapping); returns new off.
 * memmove: a guest may send to its own ring from inside that ring's free
 * space, so source and destination can overlap (memcpy would be UB).
 */
static uint32_t ring_write(const struct hmx_ring_info *r, uint32_t off,
			   const uint8_t *src, uint32_t n)
{
	/* The common case: contiguous pages, no wrap. */
	if (r->data && r->len - off > n) {
		memmove(r->data + off, src, n);
		return off + n;
	}
	while (n) {
		uint32_t chunk = r->len - off < n ? r->len - off : n;

		if (r->data) {
			memmove(r->data + off, src, chunk);
		} else {
			uint64_t pos = HMX_RING_HEADER_SIZE + (uint64_t)off;
			uint32_t left = chunk;
			const uint8_t *s = src;

			while (left) {
				uint32_t po = (uint32_t)(pos % HMX_PAGE_SIZE);
				uint32_t c = HMX_PAGE_SIZE - po;

				if (c > left)
					c = left;
				memmove(r->pages[pos / HMX_PAGE_SIZE] + po, s,
					c);
				pos += c;
				s += c;
				left -= c;
			}
		}
		off += chunk;
		if (off == r->len)
			off = 0;
		src += chunk;
		n -= chunk;
	}
	return off;
}

static uint32_t ring_zero(const struct hmx_ring_info *r, uint32_t off,
			  uint32_t n)
{
	static const uint8_t zero[HMX_SLOT_SIZE];

	return ring_write(r, off, zero, n);
}

static bool grants_cover(const struct hmx_domain *d, uint32_t aport)
{
	const struct hmx_grants *g = atomic_load(&d->grants);

	if (!g)
		return false;
	for (uint32_t i = 0; i < g->n; i++)
		if (aport >= g->r[i].first && aport <= g->r[i].last)
			return true;
	return false;
}

bool hmx_domain_may_send_from(const struct hmx_domain *d, uint32_t aport)
{
	return hmx_domain_owns_port(d, aport) || grants_cover(d, aport);
}

int hmx_op_sendv(struct hmx_host *h, struct hmx_domain *s,
		 const struct hmx_sendv *req, struct hmx_sigbatch *b)
{
	const uint8_t *src[HMX_MAXIOV];
	struct hmx_iov iov[HMX_MAXIOV];
	struct hmx_sendv a = *req;
	struct hmx_msg_header mh;
	struct hmx_ring_info *r;
	struct hmx_domain *dst;
	uint32_t rx, need, off;
	uint64_t total = 0;
	int ret;

	if (a.src.pad || a.dst.pad || a.niov > HMX_MAXIOV ||
	    !hmx_domid_valid(a.dst.domid) || a.src.aport == HMX_PORT_ANY ||
	    a.dst.aport == HMX_PORT_ANY || a.iov_gpa % sizeof(uint64_t))
		return -EINVAL;
	if (a.niov) {
		const void *p = hmx_dom_translate(s, a.iov_gpa,
						  a.niov * sizeof(iov[0]));

		if (!p)
			return -EFAULT;
		memcpy(iov, p, a.niov * sizeof(iov[0])); /* read once */
	}
	/* Every pad before any range: the order docs/hmx-abi.md states. */
	for (uint32_t i = 0; i < a.niov; i++)
		if (iov[i].pad)
			return -EINVAL;
	for (uint32_t i = 0; i < a.niov; i++) {
		total += iov[i].len;
		src[i] = NULL;
		if (iov[i].len) {
			src[i] = hmx_dom_translate(s, iov[i].gpa, iov[i].len);
			if (!src[i])
				return -EFAULT;
		}
	}
	if (total > HMX_MAX_PAYLOAD(h->lim.max_ring_len))
		return -EMSGSIZE;

	/* Source authentication: a ring at that port, or a host grant. */
	if (!hmx_domain_may_send_from(s, a.src.aport)) {
		hmx_audit_add(h, hmx_fw_current_generation(h), HMX_OP_SENDV,
			      HMX_AUDIT_SOURCE, s->domid, a.src.aport,
			      a.dst.domid, a.dst.aport, -1);
		return -EPERM;
	}
	/* Policy before existence: a refused sender learns nothing. */
	if (!hmx_fw_allow(h, HMX_OP_SENDV, s->domid, a.src.aport, a.dst.domid,
			  a.dst.aport))
		return -EPERM;
	dst = hmx_domain_get(h, a.dst.domid);
	if (!dst)
		return -ECONNREFUSED;
	r = hmx_ring_match(dst, a.dst.aport, s->domid);
	if (!r)
		return -ECONNREFUSED;

	hmx_mutex_lock(&r->lock);
	if (r->dead) {
		ret = -ECONNREFUSED;
		goto out;
	}
	if (total > HMX_MAX_PAYLOAD(r->len)) {
		ret = -EMSGSIZE;
		goto out;
	}
	if (!hmx_ring_read_rx(r, &rx)) {
		ret = -ECONNRESET;
		goto out;
	}
	need = hmx_msg_space((uint32_t)total);
	if (hmx_ring_free_space(r, rx) < need) {
		ret = hmx_ring_wait_space(h, r, s->domid, need, &rx);
		if (ret)
			goto out;
	}

	mh.len = (uint32_t)total + (uint32_t)sizeof(mh);
	mh.source.aport = a.src.aport;
	mh.source.domid = s->domid;
	mh.source.pad = 0;
	mh.message_type = a.message_type;
	off = (r->tx + (uint32_t)sizeof(mh)) % r->len;
	for (uint32_t i = 0; i < a.niov; i++)
		if (iov[i].len)
			off = ring_write(r, off, src[i], iov[i].len);
	if (need > mh.len)
		off = ring_zero(r, off, need - mh.len);
	/* The header is slot-aligned: it never wraps or crosses a page. */
	if (r->data) {
		memcpy(r->data + r->tx, &mh, sizeof(mh));
	} else {
		uint32_t pos = HMX_RING_HEADER_SIZE + r->tx;

		memcpy(r->pages[pos / HMX_PAGE_SIZE] + pos % HMX_PAGE_SIZE, &mh,
		       sizeof(mh));
	}
	r->tx = off;
	/* Release: the message is visible before the receiver sees tx_ptr. */
	__atomic_store_n(&r->hdr->tx_ptr, off, __ATOMIC_RELEASE);
	hmx_sigbatch_add_dom(b, dst, HMX_IRQ_DATA);
	ret = (int)total;
out:
	hmx_mutex_unlock(&r->lock);
	return ret;
}

int hmx_sendv(struct hmx_host *h, uint16_t domid, const struct hmx_sendv *req)
{
	struct hmx_sigbatch b;
	struct hmx_domain *d;
	unsigned int slot;
	int ret;

	hmx_sigbatch_init(&b);
	slot = hmx_rcu_enter(&h->rcu);
	d = hmx_domain_get(h, domid);
	ret = d ? hmx_op_sendv(h, d, req, &b) : -ESRCH;
	hmx_sigbatch_flush(h, &b);
	hmx_rcu_leave(&h->rcu, slot);
	return ret;
}
