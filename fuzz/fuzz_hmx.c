// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzzes the HMX mediation core through its device entry point, hmx_call(),
 * the way hostile guests drive it: four domains (the host, 3, 4, 5) with
 * small "RAM" that has an MMIO hole, call blocks, page lists, iov arrays
 * and ring-data arrays placed anywhere by the input (overlapping each other
 * and the rings), rx_ptr scribbled, memory rewritten between calls,
 * domains torn down and re-added, firewall and grants replaced.
 *
 * The oracle is a reference model written from docs/hmx-abi.md alone. It
 * keeps a shadow of every domain's memory and applies to it exactly the
 * writes the ABI allows (the call block's result and out fields, notify's
 * flags and max_message_size, peer-event domids, a new ring's header, and
 * a message at the receiving ring's producer offset within the free
 * space). After every operation the real memory of every domain must equal
 * its shadow, the result must equal the model's, and the interrupt bits
 * each domain got must equal the model's (at most one signal per domain).
 * So the fuzzer checks that the hypervisor never writes outside the
 * receiving ring or the caller's own call block and out fields, never
 * overwrites unread data, never loses a wake-up, and reports every error
 * the specification names. Leaks are libFuzzer's/LSan's to find.
 */
#include "fuzz_input.h"
#include "hmx/consumer.h"
#include "hmx/core.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NDOM 4
#define RAM_PAGES 20
#define PAGE 4096u
#define RAM_SIZE (RAM_PAGES * PAGE)
#define HOLE_LO (10 * PAGE) /* one page of "MMIO" inside RAM */
#define HOLE_HI (11 * PAGE)
#define MAX_RINGS 4
#define MAX_RING_LEN 16384u
#define MAX_RING_BYTES 20000u
#define MAX_PENDING 2
#define MAX_RULES 8
#define MAX_GRANTS 2
#define MAX_PAGES ((64 + MAX_RING_LEN + PAGE - 1) / PAGE)
#define MAX_OPS 96
#define NDOMIDS (HMX_DOMID_LAST_GUEST + 1u)
#define PFN_MAX (UINT64_MAX / PAGE)

static const uint16_t domids[NDOM] = { 0, 3, 4, 5 };

/* The model's view of a registered ring. */
struct mring {
	bool used;
	uint32_t aport;
	uint16_t partner;
	uint32_t len, npages;
	uint64_t pfns[MAX_PAGES];
	uint32_t tx; /* the hypervisor's producer offset */
	uint32_t npend;
	uint16_t pend_dom[MAX_PENDING];
	uint32_t pend_space[MAX_PENDING];
};

struct gdom {
	uint16_t domid;
	bool alive;
	uint8_t *mem; /* what the hypervisor sees */
	uint8_t *shadow; /* what the model says it must hold */
	uint32_t irq, nsig; /* observed during the current operation */
	uint32_t want_irq; /* expected during the current operation */
	struct mring ring[MAX_RINGS];
	uint32_t ngrants;
	struct hmx_port_range grant[MAX_GRANTS];
	uint16_t peerq[NDOM];
	uint32_t npeer;
};

struct world {
	struct hmx_host *h;
	struct gdom d[NDOM];
	bool fw_set;
	uint32_t nrules;
	struct hmx_fw_rule rules[MAX_RULES];
	int op_index;
};

/* Guest memory geometry, shared by the translate callback and the model. */
static bool in_ram(uint64_t gpa, uint64_t len)
{
	if (!len || len > RAM_SIZE || gpa > RAM_SIZE - len)
		return false;
	return !(gpa < HOLE_HI && gpa + len > HOLE_LO);
}

static void *dom_translate(void *opaque, uint64_t gpa, uint64_t len)
{
	struct gdom *g = opaque;

	check(g->alive); /* never after hmx_domain_remove() returned */
	return in_ram(gpa, len) ? g->mem + gpa : NULL;
}

static void dom_signal(void *opaque, uint32_t bits)
{
	struct gdom *g = opaque;

	check(g->alive);
	g->irq |= bits;
	g->nsig++;
}

static uint32_t rd32s(const struct gdom *g, uint64_t gpa)
{
	uint32_t v;

	memcpy(&v, g->shadow + gpa, 4);
	return v;
}

/* A write the model expects the hypervisor (or the harness) to make. */
static void shadow_put(struct gdom *g, uint64_t gpa, const void *src,
		       size_t len)
{
	check(in_ram(gpa, len));
	memcpy(g->shadow + gpa, src, len);
}

/* The harness writing guest memory, as the guest itself would. */
static void guest_write(struct gdom *g, uint64_t gpa, const void *src,
			size_t len)
{
	if (!len || !in_ram(gpa, len))
		return;
	memcpy(g->mem + gpa, src, len);
	memcpy(g->shadow + gpa, src, len);
}

static struct gdom *dom_of(struct world *w, uint32_t domid)
{
	for (int i = 0; i < NDOM; i++)
		if (w->d[i].alive && w->d[i].domid == domid)
			return &w->d[i];
	return NULL;
}

static bool domid_valid(uint32_t d)
{
	return d == HMX_DOMID_HOST ||
	       (d >= HMX_DOMID_FIRST_GUEST && d <= HMX_DOMID_LAST_GUEST);
}

static uint32_t msg_space(uint32_t payload)
{
	return HMX_ROUNDUP(payload + 16u);
}

/* Firewall: first matching rule decides, default deny (section 10). */
static bool rule_matches(const struct hmx_fw_rule *r, uint16_t sd, uint32_t sp,
			 uint16_t dd, uint32_t dp)
{
	return (r->src_domid == HMX_DOMID_ANY || r->src_domid == sd) &&
	       (r->src_port == HMX_PORT_ANY || r->src_port == sp) &&
	       (r->dst_domid == HMX_DOMID_ANY || r->dst_domid == dd) &&
	       (r->dst_port == HMX_PORT_ANY || r->dst_port == dp);
}

static bool fw_allows(const struct world *w, uint16_t sd, uint32_t sp,
		      uint16_t dd, uint32_t dp)
{
	for (uint32_t i = 0; i < w->nrules; i++)
		if (rule_matches(&w->rules[i], sd, sp, dd, dp))
			return w->rules[i].action == HMX_FW_ACCEPT;
	return false;
}

static bool fw_wildcard_ok(const struct world *w, uint16_t dd, uint32_t dp)
{
	for (uint32_t i = 0; i < w->nrules; i++) {
		const struct hmx_fw_rule *r = &w->rules[i];

		if (r->action == HMX_FW_ACCEPT &&
		    (r->dst_domid == HMX_DOMID_ANY || r->dst_domid == dd) &&
		    (r->dst_port == HMX_PORT_ANY || r->dst_port == dp))
			return true;
	}
	return false;
}

static struct mring *ring_lookup(struct gdom *g, uint32_t aport,
				 uint16_t partner)
{
	for (int i = 0; i < MAX_RINGS; i++)
		if (g->ring[i].used && g->ring[i].aport == aport &&
		    g->ring[i].partner == partner)
			return &g->ring[i];
	return NULL;
}

/* A partner-specific ring beats a wildcard ring (section 3). */
static struct mring *ring_match(struct gdom *dst, uint32_t aport, uint16_t src)
{
	struct mring *r = ring_lookup(dst, aport, src);

	return r ? r : ring_lookup(dst, aport, HMX_DOMID_ANY);
}

static bool may_send_from(const struct gdom *g, uint32_t aport)
{
	for (int i = 0; i < MAX_RINGS; i++)
		if (g->ring[i].used && g->ring[i].aport == aport)
			return true;
	for (uint32_t i = 0; i < g->ngrants; i++)
		if (aport >= g->grant[i].first && aport <= g->grant[i].last)
			return true;
	return false;
}

static uint64_t ring_gpa(const struct mring *r, uint32_t data_off)
{
	uint64_t pos = 64ull + data_off;

	return r->pfns[pos / PAGE] * PAGE + pos % PAGE;
}

static uint64_t hdr_gpa(const struct mring *r)
{
	return r->pfns[0] * PAGE;
}

static bool read_rx(const struct gdom *g, const struct mring *r, uint32_t *rx)
{
	uint32_t v = rd32s(g, hdr_gpa(r));

	if (v >= r->len || v % HMX_SLOT_SIZE)
		return false;
	*rx = v;
	return true;
}

static uint32_t free_space(const struct mring *r, uint32_t rx)
{
	if (rx > r->tx)
		return rx - r->tx - HMX_SLOT_SIZE;
	return r->len - (r->tx - rx) - HMX_SLOT_SIZE;
}

static void want_signal(struct world *w, uint16_t domid, uint32_t bits)
{
	struct gdom *g = dom_of(w, domid);

	if (g)
		g->want_irq |= bits;
}

/*
 * The waiter count; the hypervisor writes HMX_RING_F_WANT_NOTIFY into the
 * ring header when it goes between 0 and not 0.
 */
static void set_npend(struct gdom *g, struct mring *r, uint32_t n)
{
	uint32_t flags = n ? HMX_RING_F_WANT_NOTIFY : 0;

	if ((n > 0) != (r->npend > 0))
		shadow_put(g, hdr_gpa(r) + offsetof(struct hmx_ring, flags),
			   &flags, 4);
	r->npend = n;
}

/* 0, or -EBUSY when the queue is full (section 5, SENDV step 9). */
static int add_pending(struct gdom *g, struct mring *r, uint16_t domid,
		       uint32_t space)
{
	for (uint32_t i = 0; i < r->npend; i++) {
		if (r->pend_dom[i] == domid) {
			r->pend_space[i] = space;
			return 0;
		}
	}
	if (r->npend >= MAX_PENDING)
		return -EBUSY;
	r->pend_dom[r->npend] = domid;
	r->pend_space[r->npend] = space;
	set_npend(g, r, r->npend + 1);
	return 0;
}

static void drop_pending(struct gdom *g, struct mring *r, uint16_t domid)
{
	uint32_t j = 0;

	for (uint32_t i = 0; i < r->npend; i++) {
		if (r->pend_dom[i] != domid) {
			r->pend_dom[j] = r->pend_dom[i];
			r->pend_space[j++] = r->pend_space[i];
		}
	}
	set_npend(g, r, j);
}

static bool page_in_other_ring(const struct gdom *g, const struct mring *skip,
			       uint64_t pfn)
{
	for (int i = 0; i < MAX_RINGS; i++) {
		const struct mring *r = &g->ring[i];

		if (!r->used || r == skip)
			continue;
		for (uint32_t p = 0; p < r->npages; p++)
			if (r->pfns[p] == pfn)
				return true;
	}
	return false;
}

static int model_register(struct world *w, struct gdom *g,
			  const struct hmx_register_ring *q)
{
	uint64_t pfns[MAX_PAGES];
	struct mring *old, *r = NULL;
	uint32_t nrings = 0;
	uint64_t bytes = 0;

	if (q->pad || q->pad2 || (q->flags & ~HMX_REGISTER_FAIL_EXIST) ||
	    q->aport == HMX_PORT_ANY ||
	    (q->partner != HMX_DOMID_ANY && !domid_valid(q->partner)) ||
	    q->len % 16 || q->len < HMX_RING_MIN_LEN || q->len > MAX_RING_LEN ||
	    q->npages != (64 + q->len + PAGE - 1) / PAGE || q->pfn_list_gpa % 8)
		return -EINVAL;
	if (q->partner == HMX_DOMID_ANY &&
	    !fw_wildcard_ok(w, g->domid, q->aport))
		return -EPERM;
	if (!in_ram(q->pfn_list_gpa, q->npages * 8ull))
		return -EFAULT;
	memcpy(pfns, g->shadow + q->pfn_list_gpa, q->npages * 8ull);
	for (uint32_t i = 0; i < q->npages; i++)
		if (pfns[i] > PFN_MAX || !in_ram(pfns[i] * PAGE, PAGE))
			return -EFAULT;
	for (uint32_t i = 0; i < q->npages; i++)
		for (uint32_t j = i + 1; j < q->npages; j++)
			if (pfns[i] == pfns[j])
				return -EINVAL;
	old = ring_lookup(g, q->aport, q->partner);
	if (old) {
		if (q->flags & HMX_REGISTER_FAIL_EXIST)
			return -EEXIST;
		if (old->len != q->len)
			return -EBUSY;
		for (uint32_t i = 0; i < q->npages; i++)
			if (page_in_other_ring(g, old, pfns[i]))
				return -EADDRINUSE;
		/* The ring moves: producer offset kept, rx_ptr as found. */
		memcpy(old->pfns, pfns, sizeof(pfns));
		shadow_put(g, hdr_gpa(old) + 4, &old->tx, 4);
		{
			uint32_t f = old->npend ? HMX_RING_F_WANT_NOTIFY : 0;

			shadow_put(g, hdr_gpa(old) + 8, &f, 4);
		}
		return 0;
	}
	for (int i = 0; i < MAX_RINGS; i++) {
		if (g->ring[i].used) {
			nrings++;
			bytes += g->ring[i].len;
		} else if (!r) {
			r = &g->ring[i];
		}
	}
	if (nrings >= MAX_RINGS || bytes + q->len > MAX_RING_BYTES)
		return -ENOSPC;
	for (uint32_t i = 0; i < q->npages; i++)
		if (page_in_other_ring(g, NULL, pfns[i]))
			return -EADDRINUSE;
	if (q->partner != HMX_DOMID_ANY && q->partner != g->domid &&
	    !dom_of(w, q->partner))
		return -ESRCH;
	memset(r, 0, sizeof(*r));
	r->used = true;
	r->aport = q->aport;
	r->partner = q->partner;
	r->len = q->len;
	r->npages = q->npages;
	memcpy(r->pfns, pfns, sizeof(pfns));
	{
		static const uint8_t zero[12];

		shadow_put(g, hdr_gpa(r), zero, 12);
	}
	return 0;
}

static int model_unregister(struct world *w, struct gdom *g,
			    const struct hmx_unregister_ring *q)
{
	struct mring *r;

	if (q->pad || q->aport == HMX_PORT_ANY ||
	    (q->partner != HMX_DOMID_ANY && !domid_valid(q->partner)))
		return -EINVAL;
	r = ring_lookup(g, q->aport, q->partner);
	if (!r)
		return -ENOENT;
	for (uint32_t i = 0; i < r->npend; i++)
		want_signal(w, r->pend_dom[i], HMX_IRQ_SPACE);
	r->used = false;
	return 0;
}

/* Writes n message bytes at data offset off of ring r (wrapping). */
static void ring_put(struct gdom *g, const struct mring *r, uint32_t off,
		     const uint8_t *src, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		shadow_put(g, ring_gpa(r, (off + i) % r->len), src + i, 1);
}

/* Marks payload bytes whose source overlapped their destination. */
struct loose {
	struct gdom *g;
	const struct mring *r;
	uint32_t off, n;
};

static int model_sendv(struct world *w, struct gdom *s,
		       const struct hmx_sendv *q, struct loose *loose)
{
	struct hmx_iov iov[HMX_MAXIOV];
	struct hmx_msg_header mh;
	struct gdom *dst;
	struct mring *r;
	uint64_t total = 0;
	uint32_t rx, need, at;
	uint8_t *msg;
	bool overlap = false;

	if (q->src.pad || q->dst.pad || q->niov > HMX_MAXIOV ||
	    !domid_valid(q->dst.domid) || q->src.aport == HMX_PORT_ANY ||
	    q->dst.aport == HMX_PORT_ANY || q->iov_gpa % 8)
		return -EINVAL;
	if (q->niov) {
		if (!in_ram(q->iov_gpa, q->niov * sizeof(iov[0])))
			return -EFAULT;
		memcpy(iov, s->shadow + q->iov_gpa, q->niov * sizeof(iov[0]));
	}
	for (uint32_t i = 0; i < q->niov; i++)
		if (iov[i].pad)
			return -EINVAL;
	for (uint32_t i = 0; i < q->niov; i++) {
		total += iov[i].len;
		if (iov[i].len && !in_ram(iov[i].gpa, iov[i].len))
			return -EFAULT;
	}
	if (total > HMX_MAX_PAYLOAD(MAX_RING_LEN))
		return -EMSGSIZE;
	if (!may_send_from(s, q->src.aport))
		return -EPERM;
	if (!fw_allows(w, s->domid, q->src.aport, q->dst.domid, q->dst.aport))
		return -EPERM;
	dst = dom_of(w, q->dst.domid);
	if (!dst)
		return -ECONNREFUSED;
	r = ring_match(dst, q->dst.aport, s->domid);
	if (!r)
		return -ECONNREFUSED;
	if (total > HMX_MAX_PAYLOAD(r->len))
		return -EMSGSIZE;
	if (!read_rx(dst, r, &rx))
		return -ECONNRESET;
	need = msg_space((uint32_t)total);
	if (free_space(r, rx) < need)
		return add_pending(dst, r, s->domid, need) ? -EBUSY : -EAGAIN;

	/* The message as the ABI defines it, payload read before writing. */
	msg = calloc(1, need);
	check(msg);
	mh.len = (uint32_t)total + 16;
	mh.source.aport = q->src.aport;
	mh.source.domid = s->domid;
	mh.source.pad = 0;
	mh.message_type = q->message_type;
	memcpy(msg, &mh, sizeof(mh));
	at = 16;
	for (uint32_t i = 0; i < q->niov; i++) {
		if (!iov[i].len)
			continue;
		memcpy(msg + at, s->shadow + iov[i].gpa, iov[i].len);
		at += iov[i].len;
		/* A source inside the region being written: unspecified. */
		for (uint32_t b = 0; s == dst && b < total && !overlap; b++) {
			uint64_t d = ring_gpa(r, (r->tx + 16 + b) % r->len);

			overlap = d >= iov[i].gpa &&
				  d - iov[i].gpa < iov[i].len;
		}
	}
	ring_put(dst, r, r->tx, msg, need);
	free(msg);
	if (overlap) {
		loose->g = dst;
		loose->r = r;
		loose->off = (r->tx + 16) % r->len;
		loose->n = (uint32_t)total;
	}
	r->tx = (r->tx + need) % r->len;
	shadow_put(dst, hdr_gpa(r) + 4, &r->tx, 4);
	want_signal(w, dst->domid, HMX_IRQ_DATA);
	return (int)total;
}

static void wake_pending(struct world *w, struct gdom *g)
{
	for (int i = 0; i < MAX_RINGS; i++) {
		struct mring *r = &g->ring[i];
		uint32_t rx, space = 0, j = 0;
		bool sane;

		if (!r->used || !r->npend)
			continue;
		sane = read_rx(g, r, &rx);
		if (sane)
			space = free_space(r, rx);
		for (uint32_t k = 0; k < r->npend; k++) {
			if (!sane || r->pend_space[k] <= space) {
				want_signal(w, r->pend_dom[k], HMX_IRQ_SPACE);
			} else {
				r->pend_dom[j] = r->pend_dom[k];
				r->pend_space[j++] = r->pend_space[k];
			}
		}
		set_npend(g, r, j);
	}
}

static void query(struct world *w, struct gdom *c, uint32_t src_aport,
		  struct hmx_ring_data_ent *e)
{
	struct gdom *dst;
	struct mring *r;
	uint32_t rx, max;

	e->flags = 0;
	e->max_message_size = 0;
	if (!domid_valid(e->ring.domid) || e->ring.aport == HMX_PORT_ANY)
		return;
	if (!fw_allows(w, c->domid, src_aport, e->ring.domid, e->ring.aport))
		return;
	dst = dom_of(w, e->ring.domid);
	if (!dst)
		return;
	r = ring_match(dst, e->ring.aport, c->domid);
	if (!r)
		return;
	max = HMX_MAX_PAYLOAD(r->len);
	e->flags = HMX_RING_EXISTS;
	if (r->partner == HMX_DOMID_ANY)
		e->flags |= HMX_RING_SHARED;
	e->max_message_size = max;
	if (!read_rx(dst, r, &rx))
		return;
	if (rx == r->tx)
		e->flags |= HMX_RING_EMPTY;
	if (e->space_required > max)
		e->flags |= HMX_RING_EMSGSIZE;
	else if (free_space(r, rx) >= msg_space(e->space_required))
		e->flags |= HMX_RING_SUFFICIENT;
	else if (add_pending(dst, r, c->domid, msg_space(e->space_required)))
		e->flags |= HMX_RING_EBUSY;
}

static int model_notify(struct world *w, struct gdom *c, uint64_t gpa)
{
	struct hmx_ring_data_ent ent;
	struct hmx_ring_data rd;

	if (!gpa) {
		wake_pending(w, c);
		return 0;
	}
	if (gpa % 4)
		return -EINVAL;
	if (!in_ram(gpa, sizeof(rd)))
		return -EFAULT;
	memcpy(&rd, c->shadow + gpa, sizeof(rd));
	if (rd.nent > HMX_NOTIFY_MAX_ENTRIES)
		return -EINVAL;
	if (rd.nent && !in_ram(gpa + sizeof(rd), rd.nent * sizeof(ent)))
		return -EFAULT;
	for (uint32_t i = 0; i < rd.nent; i++) {
		memcpy(&ent, c->shadow + gpa + sizeof(rd) + i * sizeof(ent),
		       sizeof(ent));
		if (ent.ring.pad || ent.pad)
			return -EINVAL;
	}
	if (rd.src_aport != HMX_PORT_ANY && !may_send_from(c, rd.src_aport))
		return -EPERM;
	/* Entries are read once, before any answer is written. */
	{
		struct hmx_ring_data_ent *all =
			calloc(rd.nent + 1, sizeof(ent));

		check(all);
		memcpy(all, c->shadow + gpa + sizeof(rd),
		       rd.nent * sizeof(ent));
		wake_pending(w, c);
		for (uint32_t i = 0; i < rd.nent; i++) {
			uint64_t at = gpa + sizeof(rd) + i * sizeof(ent);

			query(w, c, rd.src_aport, &all[i]);
			shadow_put(c,
				   at + offsetof(struct hmx_ring_data_ent,
						 flags),
				   &all[i].flags, 2);
			shadow_put(c,
				   at + offsetof(struct hmx_ring_data_ent,
						 max_message_size),
				   &all[i].max_message_size, 4);
		}
		free(all);
	}
	return 0;
}

static int model_peer_events(struct world *w, struct gdom *g,
			     struct hmx_peer_events *q)
{
	uint32_t max = q->max < NDOMIDS ? q->max : NDOMIDS, n;

	q->count = 0;
	if (max) {
		if (q->domids_gpa % 2)
			return -EINVAL;
		if (!in_ram(q->domids_gpa, max * 2ull))
			return -EFAULT;
	}
	n = g->npeer < max ? g->npeer : max;
	for (uint32_t i = 0; i < n; i++)
		shadow_put(g, q->domids_gpa + 2 * i, &g->peerq[i], 2);
	memmove(g->peerq, g->peerq + n, (g->npeer - n) * sizeof(g->peerq[0]));
	g->npeer -= n;
	if (g->npeer)
		want_signal(w, g->domid, HMX_IRQ_PEER_GONE);
	q->count = n;
	return (int)n;
}

/* The whole call: block checks, dispatch, write-back. */
static int model_call(struct world *w, struct gdom *g, uint64_t gpa,
		      struct loose *loose)
{
	struct hmx_call c;
	int ret;

	if (gpa % 16 || gpa % PAGE + sizeof(c) > PAGE)
		return -EINVAL;
	if (!g->alive)
		return -ESRCH;
	if (!in_ram(gpa, sizeof(c)))
		return -EFAULT;
	memcpy(&c, g->shadow + gpa, sizeof(c));
	switch (c.op) {
	case HMX_OP_REGISTER_RING:
		ret = model_register(w, g, &c.u.register_ring);
		break;
	case HMX_OP_UNREGISTER_RING:
		ret = model_unregister(w, g, &c.u.unregister_ring);
		break;
	case HMX_OP_SENDV:
		ret = model_sendv(w, g, &c.u.sendv, loose);
		break;
	case HMX_OP_NOTIFY:
		ret = model_notify(w, g, c.u.notify.ring_data_gpa);
		break;
	case HMX_OP_PEER_EVENTS:
		ret = model_peer_events(w, g, &c.u.peer_events);
		shadow_put(g,
			   gpa + offsetof(struct hmx_call, u.peer_events.count),
			   &c.u.peer_events.count, 4);
		break;
	default:
		ret = -ENOSYS;
	}
	shadow_put(g, gpa + offsetof(struct hmx_call, result), &ret, 4);
	return ret;
}

static void reset_signals(struct world *w)
{
	for (int i = 0; i < NDOM; i++) {
		w->d[i].irq = 0;
		w->d[i].nsig = 0;
		w->d[i].want_irq = 0;
	}
}

/* FUZZ_HMX_TRACE=1 prints every operation (to debug a finding). */
static bool trace;

/* After every operation: memory, signals and the result agree. */
static void verify(struct world *w, const char *what, int got, int want)
{
	if (trace) {
		fprintf(stderr, "op %d %s: %d (irq", w->op_index, what, got);
		for (int i = 0; i < NDOM; i++)
			fprintf(stderr, " %u:%x", w->d[i].domid, w->d[i].irq);
		fprintf(stderr, ")\n");
	}
	if (got != want) {
		fprintf(stderr, "op %d (%s): result %d, model says %d\n",
			w->op_index, what, got, want);
		abort();
	}
	for (int i = 0; i < NDOM; i++) {
		struct gdom *g = &w->d[i];

		if (memcmp(g->mem, g->shadow, RAM_SIZE)) {
			uint32_t at = 0;

			while (g->mem[at] == g->shadow[at])
				at++;
			fprintf(stderr,
				"op %d (%s): domain %u gpa 0x%x is 0x%02x, model says 0x%02x\n",
				w->op_index, what, g->domid, at, g->mem[at],
				g->shadow[at]);
			abort();
		}
		if (g->nsig > 1 || g->irq != g->want_irq ||
		    (g->nsig == 1) != (g->irq != 0)) {
			fprintf(stderr,
				"op %d (%s): domain %u got irq 0x%x in %u signals, model says 0x%x\n",
				w->op_index, what, g->domid, g->irq, g->nsig,
				g->want_irq);
			abort();
		}
	}
}

static int run_call(struct world *w, struct gdom *g, uint64_t gpa,
		    const char *what)
{
	struct loose loose = { 0 };
	int want, got;

	reset_signals(w);
	want = model_call(w, g, gpa, &loose);
	got = hmx_call(w->h, g->domid, gpa);
	/* Bytes whose content the ABI leaves open: take what is there. */
	for (uint32_t i = 0; i < loose.n; i++) {
		uint64_t at = ring_gpa(loose.r, (loose.off + i) % loose.r->len);

		loose.g->shadow[at] = loose.g->mem[at];
	}
	verify(w, what, got, want);
	return got;
}

/* Value pickers: mostly meaningful values, sometimes anything. */
static struct gdom *pick_dom(struct world *w, struct rd *r)
{
	return &w->d[u8(r) % NDOM];
}

static uint16_t pick_domid(struct rd *r)
{
	uint8_t b = u8(r);

	if (b < 0xc0)
		return domids[b % NDOM];
	if (b < 0xe8)
		return HMX_DOMID_ANY;
	return u16(r);
}

static uint32_t pick_port(struct rd *r)
{
	uint8_t b = u8(r);

	if (b < 0xf0)
		return 1 + b % 4;
	if (b < 0xf8)
		return HMX_PORT_ANY;
	return u32(r);
}

static uint32_t pick_len(struct rd *r)
{
	static const uint32_t lens[] = { 48,   64,   96,   208,
					 4032, 4048, 8128, MAX_RING_LEN };
	uint8_t b = u8(r);

	if (b < 0xe0)
		return lens[b % 8];
	if (b < 0xf8)
		return (uint32_t)u16(r) & ~15u;
	return u32(r);
}

static uint64_t pick_gpa(struct rd *r, unsigned int align)
{
	uint8_t b = u8(r);

	if (b < 0xf8) {
		uint64_t page = u8(r) % (RAM_PAGES + 1);
		uint64_t off = (uint64_t)u16(r) * align % PAGE;

		return page * PAGE + off;
	}
	return u64(r);
}

static uint64_t pick_block(struct rd *r)
{
	uint8_t b = u8(r);

	if (b < 0xf0) /* 16-aligned, may cross a page or hit the hole */
		return (uint64_t)(u8(r) % RAM_PAGES) * PAGE + u8(r) * 16ull;
	return u64(r);
}

static int call_with(struct world *w, struct gdom *g, uint64_t gpa,
		     const struct hmx_call *c, const char *what)
{
	guest_write(g, gpa, c, sizeof(*c));
	return run_call(w, g, gpa, what);
}

static void cmd_register(struct world *w, struct rd *r)
{
	struct gdom *g = pick_dom(w, r);
	struct hmx_call c = { .op = HMX_OP_REGISTER_RING };
	struct hmx_register_ring *q = &c.u.register_ring;
	uint64_t list[MAX_PAGES + 1], block;
	uint8_t b;

	q->aport = pick_port(r);
	q->partner = pick_domid(r);
	q->len = pick_len(r);
	q->npages = (64 + q->len + PAGE - 1) / PAGE;
	b = u8(r);
	if (b >= 0xf0)
		q->npages = u8(r);
	q->flags = b & 1;
	if (b >= 0xf8)
		q->flags = u32(r);
	q->pfn_list_gpa = pick_gpa(r, 8);
	for (uint32_t i = 0; i <= MAX_PAGES; i++) {
		uint8_t p = u8(r);

		list[i] = p < 0xf8 ? p % (RAM_PAGES + 2) : u64(r);
	}
	if (q->npages <= MAX_PAGES + 1)
		guest_write(g, q->pfn_list_gpa, list, q->npages * 8ull);
	block = pick_block(r);
	call_with(w, g, block, &c, "register_ring");
}

static void cmd_unregister(struct world *w, struct rd *r)
{
	struct gdom *g = pick_dom(w, r);
	struct hmx_call c = { .op = HMX_OP_UNREGISTER_RING };

	c.u.unregister_ring.aport = pick_port(r);
	c.u.unregister_ring.partner = pick_domid(r);
	if (u8(r) >= 0xf8)
		c.u.unregister_ring.pad = 1;
	call_with(w, g, pick_block(r), &c, "unregister_ring");
}

static void cmd_sendv(struct world *w, struct rd *r)
{
	struct gdom *g = pick_dom(w, r);
	struct hmx_call c = { .op = HMX_OP_SENDV };
	struct hmx_sendv *q = &c.u.sendv;
	struct hmx_iov iov[HMX_MAXIOV];
	uint8_t b;

	q->src.aport = pick_port(r);
	q->dst.domid = pick_domid(r);
	q->dst.aport = pick_port(r);
	q->message_type = u8(r);
	b = u8(r);
	q->niov = b % 4;
	if (b >= 0xe0)
		q->niov = b % 10;
	if (b == 0xff)
		q->niov = u32(r);
	if (u8(r) >= 0xfc)
		q->dst.pad = 1;
	q->iov_gpa = pick_gpa(r, 8);
	memset(iov, 0, sizeof(iov));
	for (uint32_t i = 0; i < HMX_MAXIOV && i < q->niov; i++) {
		uint8_t l = u8(r);

		iov[i].gpa = pick_gpa(r, 1);
		iov[i].len = l < 0xc0 ? l : l < 0xf0 ? u16(r) : u32(r);
		if (l == 0xff)
			iov[i].pad = 1;
	}
	if (q->niov <= HMX_MAXIOV)
		guest_write(g, q->iov_gpa, iov, q->niov * sizeof(iov[0]));
	call_with(w, g, pick_block(r), &c, "sendv");
}

static void cmd_notify(struct world *w, struct rd *r)
{
	struct gdom *g = pick_dom(w, r);
	struct hmx_call c = { .op = HMX_OP_NOTIFY };
	union {
		struct hmx_ring_data rd;
		uint8_t room[sizeof(struct hmx_ring_data) +
			     8 * sizeof(struct hmx_ring_data_ent)];
	} q;
	uint8_t b = u8(r);

	memset(&q, 0, sizeof(q));
	if (b & 1) {
		q.rd.nent = b >> 5;
		if (b >= 0xfe)
			q.rd.nent = u32(r);
		q.rd.src_aport = u8(r) < 0x80 ? HMX_PORT_ANY : pick_port(r);
		for (uint32_t i = 0; i < 8; i++) {
			uint8_t s = u8(r);

			q.rd.data[i].ring.domid = pick_domid(r);
			q.rd.data[i].ring.aport = pick_port(r);
			q.rd.data[i].space_required = s < 0xe0 ? s * 16u :
								 u32(r);
			if (s == 0xff)
				q.rd.data[i].pad = 1;
		}
		c.u.notify.ring_data_gpa = pick_gpa(r, 4);
		if (q.rd.nent <= 8)
			guest_write(g, c.u.notify.ring_data_gpa, &q,
				    sizeof(q.rd) +
					    q.rd.nent * sizeof(q.rd.data[0]));
	}
	call_with(w, g, pick_block(r), &c, "notify");
}

static void cmd_peer_events(struct world *w, struct rd *r)
{
	struct gdom *g = pick_dom(w, r);
	struct hmx_call c = { .op = HMX_OP_PEER_EVENTS };
	uint8_t b = u8(r);

	c.u.peer_events.max = b < 0xf0 ? b % 5 : u32(r);
	c.u.peer_events.domids_gpa = pick_gpa(r, 2);
	c.u.peer_events.count = u32(r);
	call_with(w, g, pick_block(r), &c, "peer_events");
}

/* A block of arbitrary bytes: unknown ops, garbage fields. */
static void cmd_raw_call(struct world *w, struct rd *r)
{
	struct gdom *g = pick_dom(w, r);
	struct hmx_call c;

	for (size_t i = 0; i < sizeof(c); i++)
		((uint8_t *)&c)[i] = u8(r);
	c.op %= 7;
	call_with(w, g, pick_block(r), &c, "raw");
}

static void cmd_write_mem(struct world *w, struct rd *r)
{
	struct gdom *g = pick_dom(w, r);
	uint64_t gpa = u16(r) % RAM_SIZE;
	uint8_t buf[32];
	uint32_t n = u8(r) % sizeof(buf);

	for (uint32_t i = 0; i < n; i++)
		buf[i] = u8(r);
	guest_write(g, gpa, buf, n);
}

static struct mring *pick_ring(struct gdom *g, struct rd *r)
{
	uint8_t b = u8(r);

	for (int i = 0; i < MAX_RINGS; i++) {
		struct mring *x = &g->ring[(b + i) % MAX_RINGS];

		if (x->used)
			return x;
	}
	return NULL;
}

/* The guest scribbles its own rx_ptr: any value, aligned or not. */
static void cmd_set_rx(struct world *w, struct rd *r)
{
	struct gdom *g = pick_dom(w, r);
	struct mring *ring = pick_ring(g, r);
	uint8_t b = u8(r);
	uint32_t v;

	if (!ring)
		return;
	if (b < 0xc0) /* a position in the ring */
		v = (uint32_t)b * 16 % ring->len;
	else if (b < 0xe0) /* just around the end: len - 64 .. len + 60 */
		v = ring->len + (uint32_t)(b - 0xd0) * 4;
	else
		v = u32(r);
	guest_write(g, hdr_gpa(ring), &v, 4);
}

static void ring_read(const struct gdom *g, const struct mring *ring,
		      uint32_t off, uint8_t *dst, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		dst[i] = g->mem[ring_gpa(ring, (off + i) % ring->len)];
}

/*
 * A receiver that follows docs/hmx-abi.md "Receiving". For rings whose
 * pages are contiguous, src/hmx/consumer.c must agree with it exactly.
 */
static int receive_one(struct gdom *g, const struct mring *ring, uint8_t *buf)
{
	uint32_t rx = rd32s(g, hdr_gpa(ring)), tx = rd32s(g, hdr_gpa(ring) + 4);
	uint32_t used, step, next;
	struct hmx_msg_header h;

	if (rx == tx)
		return -EAGAIN;
	if (rx >= ring->len || tx >= ring->len || rx % 16 || tx % 16)
		return -EPROTO;
	used = tx > rx ? tx - rx : ring->len - rx + tx;
	ring_read(g, ring, rx, (uint8_t *)&h, sizeof(h));
	if (h.len < 16 || h.len > used || HMX_ROUNDUP(h.len) > used)
		return -EPROTO;
	ring_read(g, ring, (rx + 16) % ring->len, buf, h.len - 16);
	step = HMX_ROUNDUP(h.len);
	next = (rx + step) % ring->len;
	memcpy(g->shadow + hdr_gpa(ring), &next, 4);
	return (int)(h.len - 16);
}

static bool ring_contiguous(const struct mring *ring)
{
	for (uint32_t i = 1; i < ring->npages; i++)
		if (ring->pfns[i] != ring->pfns[0] + i)
			return false;
	return true;
}

static void cmd_consume(struct world *w, struct rd *r)
{
	static uint8_t mine[MAX_RING_LEN], theirs[MAX_RING_LEN];
	struct gdom *g = pick_dom(w, r);
	struct mring *ring = pick_ring(g, r);
	uint8_t b = u8(r);

	if (!ring || !g->alive)
		return;
	for (unsigned int k = 0; k <= b % 4; k++) {
		int a = receive_one(g, ring, mine);

		if (ring_contiguous(ring)) {
			struct hmx_ring *hdr =
				(struct hmx_ring *)(g->mem + hdr_gpa(ring));
			int c = hmx_ring_recv(hdr, ring->len, NULL, theirs,
					      sizeof(theirs));

			check(a == c);
			check(a < 0 || !memcmp(mine, theirs, (size_t)a));
		}
		/* Either way the guest's rx_ptr now is what the model says. */
		memcpy(g->mem + hdr_gpa(ring), g->shadow + hdr_gpa(ring), 4);
		if (a < 0)
			break;
	}
	if (b & 0x80) { /* then tell the hypervisor, as a driver must */
		struct hmx_call c = { .op = HMX_OP_NOTIFY };

		call_with(w, g, pick_block(r), &c, "notify after consume");
	}
}

/* Teardown (section 7): who hears PEER_GONE, which rings go. */
static void peer_gone(struct world *w, uint16_t peer, uint16_t gone)
{
	struct gdom *p;

	if (peer == gone)
		return;
	p = dom_of(w, peer);
	if (!p)
		return;
	for (uint32_t i = 0; i < p->npeer; i++)
		if (p->peerq[i] == gone)
			goto signal;
	check(p->npeer < NDOM);
	p->peerq[p->npeer++] = gone;
signal:
	p->want_irq |= HMX_IRQ_PEER_GONE;
}

static void model_remove(struct world *w, struct gdom *d)
{
	d->alive = false;
	for (int i = 0; i < MAX_RINGS; i++) {
		struct mring *r = &d->ring[i];

		if (!r->used)
			continue;
		for (uint32_t k = 0; k < r->npend; k++)
			peer_gone(w, r->pend_dom[k], d->domid);
		if (r->partner != HMX_DOMID_ANY)
			peer_gone(w, r->partner, d->domid);
		r->used = false;
	}
	d->ngrants = 0;
	d->npeer = 0;
	for (int o = 0; o < NDOM; o++) {
		struct gdom *x = &w->d[o];
		bool named = false;

		if (!x->alive)
			continue;
		for (int i = 0; i < MAX_RINGS; i++) {
			struct mring *r = &x->ring[i];

			if (!r->used)
				continue;
			if (r->partner == d->domid) {
				for (uint32_t k = 0; k < r->npend; k++)
					peer_gone(w, r->pend_dom[k], d->domid);
				r->used = false;
				named = true;
			} else {
				drop_pending(x, r, d->domid);
			}
		}
		if (named)
			peer_gone(w, x->domid, d->domid);
	}
}

static int add_domain(struct world *w, struct gdom *g)
{
	struct hmx_domain_config cfg = {
		.domid = g->domid,
		.translate = dom_translate,
		.translate_opaque = g,
		.signal = dom_signal,
		.signal_opaque = g,
	};
	bool was = g->alive;
	int ret;

	g->alive = true; /* callbacks may run from now on */
	ret = hmx_domain_add(w->h, &cfg);
	g->alive = was || !ret;
	return ret;
}

static void cmd_remove(struct world *w, struct rd *r)
{
	struct gdom *g = pick_dom(w, r);
	int want = g->alive ? 0 : -ESRCH;

	reset_signals(w);
	/* g is dead in the model first: its callbacks must not run now. */
	if (g->alive)
		model_remove(w, g);
	verify(w, "domain_remove", hmx_domain_remove(w->h, g->domid), want);
}

static void cmd_add(struct world *w, struct rd *r)
{
	struct gdom *g = pick_dom(w, r);
	int want = g->alive ? -EEXIST : 0;

	reset_signals(w);
	verify(w, "domain_add", add_domain(w, g), want);
}

static void cmd_firewall(struct world *w, struct rd *r)
{
	struct hmx_fw_rule rules[MAX_RULES + 1];
	uint32_t n = u8(r) % (MAX_RULES + 2);
	bool valid = n <= MAX_RULES;
	int want, got;

	for (uint32_t i = 0; i < n; i++) {
		uint8_t a = u8(r);

		rules[i].src_domid = pick_domid(r);
		rules[i].src_port = pick_port(r);
		rules[i].dst_domid = pick_domid(r);
		rules[i].dst_port = pick_port(r);
		rules[i].action = a < 0xb0 ? HMX_FW_ACCEPT :
				  a < 0xf8 ? HMX_FW_REJECT :
					     a;
	}
	want = valid ? 0 : -E2BIG;
	for (uint32_t i = 0; valid && i < n; i++) {
		const struct hmx_fw_rule *x = &rules[i];

		if ((x->src_domid != HMX_DOMID_ANY &&
		     !domid_valid(x->src_domid)) ||
		    (x->dst_domid != HMX_DOMID_ANY &&
		     !domid_valid(x->dst_domid)) ||
		    (x->action != HMX_FW_ACCEPT && x->action != HMX_FW_REJECT))
			want = -EINVAL;
	}
	reset_signals(w);
	got = hmx_firewall_set(w->h, rules, n);
	if (!want) {
		w->nrules = n;
		memcpy(w->rules, rules, n * sizeof(rules[0]));
	}
	verify(w, "firewall_set", got, want);
}

static void cmd_grants(struct world *w, struct rd *r)
{
	struct gdom *g = pick_dom(w, r);
	struct hmx_port_range ranges[MAX_GRANTS + 1];
	uint32_t n = u8(r) % (MAX_GRANTS + 2);
	int want = 0, got;

	for (uint32_t i = 0; i < n; i++) {
		ranges[i].first = pick_port(r);
		ranges[i].last = ranges[i].first + u8(r) % 3;
		if (u8(r) >= 0xf0)
			ranges[i].last = pick_port(r);
	}
	if (n > MAX_GRANTS)
		want = -E2BIG;
	for (uint32_t i = 0; !want && i < n; i++)
		if (ranges[i].first > ranges[i].last ||
		    ranges[i].last == HMX_PORT_ANY)
			want = -EINVAL;
	if (!want && !g->alive)
		want = -ESRCH;
	reset_signals(w);
	got = hmx_domain_set_port_grants(w->h, g->domid, ranges, n);
	if (!want) {
		g->ngrants = n;
		memcpy(g->grant, ranges, n * sizeof(ranges[0]));
	}
	verify(w, "set_port_grants", got, want);
}

static const struct hmx_fw_rule allow_all = { HMX_DOMID_ANY, HMX_DOMID_ANY,
					      HMX_PORT_ANY, HMX_PORT_ANY,
					      HMX_FW_ACCEPT };

static void world_init(struct world *w)
{
	struct hmx_limits lim;

	memset(w, 0, sizeof(*w));
	hmx_limits_default(&lim);
	lim.max_rings_per_domain = MAX_RINGS;
	lim.max_ring_len = MAX_RING_LEN;
	lim.max_ring_bytes_per_domain = MAX_RING_BYTES;
	lim.max_pending_per_ring = MAX_PENDING;
	lim.max_firewall_rules = MAX_RULES;
	lim.max_port_grants = MAX_GRANTS;
	lim.audit_capacity = 4;
	check(hmx_host_create(&lim, &w->h) == 0);
	for (int i = 0; i < NDOM; i++) {
		struct gdom *g = &w->d[i];

		g->domid = domids[i];
		g->mem = calloc(1, RAM_SIZE);
		g->shadow = calloc(1, RAM_SIZE);
		check(g->mem && g->shadow);
		check(add_domain(w, g) == 0);
	}
}

/*
 * Back to the state of a new host, through the public API only: every
 * ring unregistered (which drops every pending entry), peer events and
 * the audit log drained, grants cleared, removed domains added again,
 * memory zeroed, the firewall open. A new host per input would cost most
 * of the time (every domain removal scans the whole domain table).
 */
static void world_reset(struct world *w)
{
	struct hmx_audit_entry audit[4];

	for (int i = 0; i < NDOM; i++) {
		struct gdom *g = &w->d[i];

		if (!g->alive)
			check(add_domain(w, g) == 0);
		for (int k = 0; k < MAX_RINGS; k++) {
			struct hmx_unregister_ring q = {
				.aport = g->ring[k].aport,
				.partner = g->ring[k].partner,
			};

			if (g->ring[k].used)
				check(hmx_unregister_ring(w->h, g->domid, &q) ==
				      0);
		}
		for (;;) {
			struct hmx_peer_events pe = { .max = NDOM };

			if (hmx_peer_events(w->h, g->domid, &pe) <= 0)
				break;
		}
		check(hmx_domain_set_port_grants(w->h, g->domid, NULL, 0) == 0);
		memset(g->mem, 0, RAM_SIZE);
		memset(g->shadow, 0, RAM_SIZE);
		memset(g->ring, 0, sizeof(g->ring));
		g->ngrants = 0;
		g->npeer = 0;
	}
	while (hmx_audit_read(w->h, audit, 4, NULL))
		;
	/* Start open: every flow allowed, until the input says otherwise. */
	check(hmx_firewall_set(w->h, &allow_all, 1) == 0);
	w->nrules = 1;
	w->rules[0] = allow_all;
	reset_signals(w);
}

static struct world *the_world;

/* At exit the full teardown path runs, and LSan checks what it frees. */
__attribute__((destructor)) static void world_fini(void)
{
	struct world *w = the_world;

	if (!w)
		return;
	hmx_host_destroy(w->h);
	for (int i = 0; i < NDOM; i++) {
		free(w->d[i].mem);
		free(w->d[i].shadow);
	}
	free(w);
	the_world = NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static void (*const cmds[])(struct world *, struct rd *) = {
		cmd_register, cmd_register,  cmd_unregister, cmd_sendv,
		cmd_sendv,    cmd_sendv,     cmd_notify,     cmd_peer_events,
		cmd_raw_call, cmd_write_mem, cmd_consume,    cmd_consume,
		cmd_set_rx,   cmd_remove,    cmd_add,	     cmd_firewall,
		cmd_grants,
	};
	struct rd r = { data, size };
	struct world *w = the_world;

	if (!w) {
		w = malloc(sizeof(*w));
		check(w);
		world_init(w);
		the_world = w;
		trace = getenv("FUZZ_HMX_TRACE") != NULL;
	}
	world_reset(w);
	for (w->op_index = 0; r.n && w->op_index < MAX_OPS; w->op_index++)
		cmds[u8(&r) % (sizeof(cmds) / sizeof(cmds[0]))](w, &r);
	return 0;
}
