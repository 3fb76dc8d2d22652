// SPDX-License-Identifier: GPL-2.0-only
#include "hmx_testlib.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void tg_signal(void *opaque, uint32_t bits)
{
	struct tg *g = opaque;

	atomic_fetch_or(&g->irq, bits);
	atomic_fetch_add(&g->nsig, 1);
	if (g->hook)
		g->hook(g, bits);
}

void *tg_translate(void *opaque, uint64_t gpa, uint64_t len)
{
	struct tg *g = opaque;

	if (!len || len > g->size || gpa > g->size - len)
		return NULL;
	if (gpa < TG_HOLE_HI && gpa + len > TG_HOLE_LO)
		return NULL;
	return g->mem + gpa;
}

struct tg *tg_new(struct hmx_host *h, uint16_t domid)
{
	struct tg *g = calloc(1, sizeof(*g));
	struct hmx_domain_config cfg = { 0 };

	if (!g)
		abort();
	g->h = h;
	g->domid = domid;
	g->notify_src_aport = HMX_PORT_ANY;
	g->size = TG_RAM_SIZE;
	g->mem = aligned_alloc(4096, TG_RAM_SIZE);
	if (!g->mem)
		abort();
	memset(g->mem, 0xa5, TG_RAM_SIZE);
	g->brk = 4096; /* gpa 0 stays unused */
	g->call_gpa = tg_alloc(g, 4096, 4096);
	cfg.domid = domid;
	cfg.translate = tg_translate;
	cfg.translate_opaque = g;
	cfg.signal = tg_signal;
	cfg.signal_opaque = g;
	if (hmx_domain_add(h, &cfg)) {
		fprintf(stderr, "hmx_domain_add(%u) failed\n", domid);
		abort();
	}
	return g;
}

void tg_free(struct tg *g)
{
	if (!g)
		return;
	hmx_domain_remove(g->h, g->domid);
	free(g->mem);
	free(g);
}

uint64_t tg_alloc(struct tg *g, uint64_t size, uint64_t align)
{
	uint64_t at = (g->brk + align - 1) & ~(align - 1);

	if (at < TG_HOLE_HI && at + size > TG_HOLE_LO)
		at = (TG_HOLE_HI + align - 1) & ~(align - 1);
	if (at + size > g->size) {
		fprintf(stderr, "test guest out of memory\n");
		abort();
	}
	g->brk = at + size;
	return at;
}

void *tg_ptr(struct tg *g, uint64_t gpa)
{
	return g->mem + gpa;
}

uint32_t tg_take_irq(struct tg *g)
{
	return atomic_exchange(&g->irq, 0);
}

int tg_call(struct tg *g, struct hmx_call *c)
{
	int ret;

	memcpy(tg_ptr(g, g->call_gpa), c, sizeof(*c));
	ret = hmx_call(g->h, g->domid, g->call_gpa);
	memcpy(c, tg_ptr(g, g->call_gpa), sizeof(*c));
	if (ret != c->result) {
		fprintf(stderr, "hmx_call returned %d but wrote %d\n", ret,
			c->result);
		abort();
	}
	return ret;
}

int tg_ring_flags(struct tg *g, uint32_t aport, uint16_t partner, uint32_t len,
		  bool scatter, uint32_t flags, struct tring *out)
{
	struct hmx_call c = { .op = HMX_OP_REGISTER_RING };
	uint32_t npages = (64 + len + 4095) / 4096;
	uint64_t list, base = 0;

	memset(out, 0, sizeof(*out));
	out->g = g;
	out->aport = aport;
	out->partner = partner;
	out->len = len;
	out->npages = npages;
	if (!scatter)
		base = tg_alloc(g, (uint64_t)npages * 4096, 4096);
	for (uint32_t i = 0; i < npages; i++) {
		uint32_t at = scatter ? npages - 1 - i : i;

		if (scatter) {
			out->pfns[at] = tg_alloc(g, 4096, 4096) / 4096;
			tg_alloc(g, 4096, 4096); /* a gap page */
		} else {
			out->pfns[at] = base / 4096 + i;
		}
	}
	list = tg_alloc(g, npages * 8ull, 8);
	memcpy(tg_ptr(g, list), out->pfns, npages * 8ull);
	c.u.register_ring.aport = aport;
	c.u.register_ring.partner = partner;
	c.u.register_ring.len = len;
	c.u.register_ring.npages = npages;
	c.u.register_ring.pfn_list_gpa = list;
	c.u.register_ring.flags = flags;
	return tg_call(g, &c);
}

int tg_ring(struct tg *g, uint32_t aport, uint16_t partner, uint32_t len,
	    bool scatter, struct tring *out)
{
	return tg_ring_flags(g, aport, partner, len, scatter, 0, out);
}

int tg_unring(struct tg *g, uint32_t aport, uint16_t partner)
{
	struct hmx_call c = { .op = HMX_OP_UNREGISTER_RING };

	c.u.unregister_ring.aport = aport;
	c.u.unregister_ring.partner = partner;
	return tg_call(g, &c);
}

uint8_t *tring_byte(const struct tring *r, uint32_t data_off)
{
	uint64_t pos = 64ull + data_off;

	return tg_ptr(r->g, r->pfns[pos / 4096] * 4096 + pos % 4096);
}

struct hmx_ring *tring_hdr(const struct tring *r)
{
	return (struct hmx_ring *)tg_ptr(r->g, r->pfns[0] * 4096);
}

static void tring_copy(const struct tring *r, uint32_t off, uint8_t *dst,
		       uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		dst[i] = *tring_byte(r, (off + i) % r->len);
}

int tring_recv(struct tring *r, struct hmx_msg_header *mh, void *buf,
	       uint32_t cap)
{
	struct hmx_ring *hdr = tring_hdr(r);
	uint32_t rx = __atomic_load_n(&hdr->rx_ptr, __ATOMIC_RELAXED);
	uint32_t tx = __atomic_load_n(&hdr->tx_ptr, __ATOMIC_ACQUIRE);
	struct hmx_msg_header h;
	uint32_t payload;

	if (rx == tx)
		return -EAGAIN;
	tring_copy(r, rx, (uint8_t *)&h, sizeof(h));
	if (h.len < 16 || h.len - 16 > cap)
		return -EMSGSIZE;
	payload = h.len - 16;
	tring_copy(r, rx + 16, buf, payload);
	if (mh)
		*mh = h;
	__atomic_store_n(&hdr->rx_ptr, (rx + ((h.len + 15) & ~15u)) % r->len,
			 __ATOMIC_RELEASE);
	return (int)payload;
}

int tg_sendv(struct tg *g, const struct hmx_sendv *sv,
	     const struct hmx_iov *iov, uint32_t niov)
{
	struct hmx_call c = { .op = HMX_OP_SENDV };

	c.u.sendv = *sv;
	if (niov) {
		uint64_t at = tg_alloc(g, niov * sizeof(*iov), 16);

		memcpy(tg_ptr(g, at), iov, niov * sizeof(*iov));
		c.u.sendv.iov_gpa = at;
	}
	return tg_call(g, &c);
}

int tg_send(struct tg *g, uint32_t sport, uint16_t ddom, uint32_t dport,
	    uint32_t type, const void *buf, uint32_t len)
{
	struct hmx_sendv sv = { 0 };
	struct hmx_iov iov = { 0 };
	uint64_t at;

	/* Reuse one scratch area so long tests do not run out of memory. */
	if (!g->scratch)
		g->scratch = tg_alloc(g, 1u << 17, 4096);
	at = g->scratch;
	if (len > (1u << 17) - 64)
		at = tg_alloc(g, len + 64, 16);
	memcpy(tg_ptr(g, at + 64), buf, len);
	iov.gpa = at + 64;
	iov.len = len;
	memcpy(tg_ptr(g, at), &iov, sizeof(iov));
	sv.src.aport = sport;
	sv.dst.domid = ddom;
	sv.dst.aport = dport;
	sv.iov_gpa = at;
	sv.niov = 1;
	sv.message_type = type;
	{
		struct hmx_call c = { .op = HMX_OP_SENDV };

		c.u.sendv = sv;
		return tg_call(g, &c);
	}
}

int tg_notify(struct tg *g, struct hmx_ring_data_ent *ents, uint32_t n)
{
	struct hmx_call c = { .op = HMX_OP_NOTIFY };
	uint64_t at = 0;
	int ret;

	if (ents) {
		struct hmx_ring_data rd = { .nent = n,
					    .src_aport = g->notify_src_aport };

		at = tg_alloc(g, sizeof(rd) + n * sizeof(*ents), 8);
		memcpy(tg_ptr(g, at), &rd, sizeof(rd));
		memcpy(tg_ptr(g, at + sizeof(rd)), ents, n * sizeof(*ents));
	}
	c.u.notify.ring_data_gpa = at;
	ret = tg_call(g, &c);
	if (ents)
		memcpy(ents, tg_ptr(g, at + sizeof(struct hmx_ring_data)),
		       n * sizeof(*ents));
	return ret;
}

int tg_peer_events(struct tg *g, uint16_t *out, uint32_t max)
{
	struct hmx_call c = { .op = HMX_OP_PEER_EVENTS };
	uint64_t at = tg_alloc(g, max * 2ull + 2, 2);
	int ret;

	c.u.peer_events.domids_gpa = at;
	c.u.peer_events.max = max;
	ret = tg_call(g, &c);
	if (ret >= 0) {
		if ((uint32_t)ret != c.u.peer_events.count)
			abort();
		memcpy(out, tg_ptr(g, at), (size_t)ret * 2);
	}
	return ret;
}

void fw_allow_all(struct hmx_host *h)
{
	struct hmx_fw_rule r = {
		.src_domid = HMX_DOMID_ANY,
		.dst_domid = HMX_DOMID_ANY,
		.src_port = HMX_PORT_ANY,
		.dst_port = HMX_PORT_ANY,
		.action = HMX_FW_ACCEPT,
	};

	if (hmx_firewall_set(h, &r, 1))
		abort();
}

struct hmx_host *host_new(const struct hmx_limits *lim)
{
	struct hmx_host *h;

	if (hmx_host_create(lim, &h))
		abort();
	return h;
}
