// SPDX-License-Identifier: GPL-2.0-only
/*
 * The HMX firewall. An ordered rule list is compiled into one hash table per
 * wildcard pattern (which of the four fields are exact): the verdict is the
 * lowest rule index found over the populated patterns, so a check costs at
 * most 16 lookups whatever the number of rules. Compiled sets are immutable
 * and published by pointer swap; the old set is freed after a grace period.
 */
#include "hmx/internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/heapsort.h"

#define PAT_SDOM 1u
#define PAT_SPORT 2u
#define PAT_DDOM 4u
#define PAT_DPORT 8u
#define NPAT 16u
#define NO_RULE UINT32_MAX

struct fw_slot {
	uint64_t a; /* sdom << 16 | ddom, wildcards zeroed */
	uint64_t b; /* sport << 32 | dport, wildcards zeroed */
	uint32_t idx; /* rule index + 1; 0 = empty slot */
};

struct fw_table {
	uint32_t mask;
	uint32_t min_idx; /* lowest rule index in this table */
	uint8_t pat;
	struct fw_slot *slot;
};

struct hmx_fw_set {
	uint64_t seed;
	uint64_t generation;
	uint32_t n;
	struct hmx_fw_rule *rules;
	_Atomic uint64_t *hits;
	_Atomic uint64_t default_denied;
	/* Populated patterns, sorted by min_idx for an early exit. */
	uint32_t ntab;
	struct fw_table tab[NPAT];
	/* Accept rules by destination pattern, for wildcard registration. */
	uint32_t nwtab;
	struct fw_table wtab[4];
};

static uint8_t rule_pattern(const struct hmx_fw_rule *r)
{
	uint8_t p = 0;

	if (r->src_domid != HMX_DOMID_ANY)
		p |= PAT_SDOM;
	if (r->src_port != HMX_PORT_ANY)
		p |= PAT_SPORT;
	if (r->dst_domid != HMX_DOMID_ANY)
		p |= PAT_DDOM;
	if (r->dst_port != HMX_PORT_ANY)
		p |= PAT_DPORT;
	return p;
}

static void make_key(uint8_t pat, uint16_t sdom, uint32_t sport, uint16_t ddom,
		     uint32_t dport, uint64_t *a, uint64_t *b)
{
	*a = ((uint64_t)(pat & PAT_SDOM ? sdom : 0) << 16) |
	     (pat & PAT_DDOM ? ddom : 0);
	*b = ((uint64_t)(pat & PAT_SPORT ? sport : 0) << 32) |
	     (pat & PAT_DPORT ? dport : 0);
}

/* Rules come from the host, not guests: a fast seeded hash is enough. */
static inline uint32_t slot_hash(uint64_t seed, uint64_t a, uint64_t b)
{
	uint64_t x = (a ^ seed) * 0x9e3779b97f4a7c15ull;

	x = (x ^ (x >> 29) ^ b) * 0xbf58476d1ce4e5b9ull;
	return (uint32_t)(x >> 32);
}

static inline uint32_t table_find(const struct fw_table *t, uint64_t seed,
				  uint64_t a, uint64_t b)
{
	for (uint32_t i = slot_hash(seed, a, b) & t->mask;;
	     i = (i + 1) & t->mask) {
		const struct fw_slot *s = &t->slot[i];

		if (!s->idx)
			return NO_RULE;
		if (s->a == a && s->b == b)
			return s->idx - 1;
	}
}

/* Keeps the first (lowest) index for a key: rules are added in order. */
static void table_add(struct fw_table *t, uint64_t seed, uint64_t a, uint64_t b,
		      uint32_t idx)
{
	for (uint32_t i = slot_hash(seed, a, b) & t->mask;;
	     i = (i + 1) & t->mask) {
		struct fw_slot *s = &t->slot[i];

		if (!s->idx) {
			s->a = a;
			s->b = b;
			s->idx = idx + 1;
			return;
		}
		if (s->a == a && s->b == b)
			return;
	}
}

static int table_alloc(struct fw_table *t, uint8_t pat, uint32_t count)
{
	uint32_t cap = 4;

	while (cap < count * 2)
		cap <<= 1;
	t->slot = calloc(cap, sizeof(*t->slot));
	if (!t->slot)
		return -ENOMEM;
	t->mask = cap - 1;
	t->pat = pat;
	t->min_idx = NO_RULE;
	return 0;
}

void hmx_fw_free(struct hmx_fw_set *s)
{
	if (!s)
		return;
	for (uint32_t i = 0; i < s->ntab; i++)
		free(s->tab[i].slot);
	for (uint32_t i = 0; i < s->nwtab; i++)
		free(s->wtab[i].slot);
	free(s->rules);
	free(s->hits);
	free(s);
}

static int cmp_table(const void *x, const void *y)
{
	const struct fw_table *a = x, *b = y;

	return a->min_idx < b->min_idx ? -1 : a->min_idx > b->min_idx;
}

static int fw_compile(const struct hmx_fw_rule *rules, uint32_t n,
		      uint64_t seed, struct hmx_fw_set **out)
{
	uint32_t count[NPAT] = { 0 }, wcount[4] = { 0 };
	int tab_of[NPAT], wtab_of[4];
	struct hmx_fw_set *s;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->seed = seed;
	s->n = n;
	atomic_init(&s->default_denied, 0);
	s->rules = malloc((n ? n : 1) * sizeof(*rules));
	s->hits = calloc(n ? n : 1, sizeof(*s->hits));
	if (!s->rules || !s->hits)
		goto nomem;
	if (n)
		memcpy(s->rules, rules, n * sizeof(*rules));
	for (uint32_t i = 0; i < n; i++) {
		uint8_t p = rule_pattern(&rules[i]);

		count[p]++;
		if (rules[i].action == HMX_FW_ACCEPT)
			wcount[p >> 2]++;
	}
	for (uint32_t p = 0; p < NPAT; p++) {
		tab_of[p] = -1;
		if (!count[p])
			continue;
		if (table_alloc(&s->tab[s->ntab], (uint8_t)p, count[p]))
			goto nomem;
		tab_of[p] = (int)s->ntab++;
	}
	for (uint32_t p = 0; p < 4; p++) {
		wtab_of[p] = -1;
		if (!wcount[p])
			continue;
		if (table_alloc(&s->wtab[s->nwtab], (uint8_t)(p << 2),
				wcount[p]))
			goto nomem;
		wtab_of[p] = (int)s->nwtab++;
	}
	for (uint32_t i = 0; i < n; i++) {
		const struct hmx_fw_rule *r = &rules[i];
		uint8_t p = rule_pattern(r);
		struct fw_table *t = &s->tab[tab_of[p]];
		uint64_t a, b;

		make_key(p, r->src_domid, r->src_port, r->dst_domid,
			 r->dst_port, &a, &b);
		table_add(t, seed, a, b, i);
		if (t->min_idx == NO_RULE)
			t->min_idx = i;
		if (r->action == HMX_FW_ACCEPT) {
			uint8_t wp = p & (PAT_DDOM | PAT_DPORT);

			make_key(wp, 0, 0, r->dst_domid, r->dst_port, &a, &b);
			table_add(&s->wtab[wtab_of[wp >> 2]], seed, a, b, i);
		}
	}
	bh_heapsort(s->tab, s->ntab, sizeof(s->tab[0]), cmp_table);
	*out = s;
	return 0;
nomem:
	hmx_fw_free(s);
	return -ENOMEM;
}

static bool rule_valid(const struct hmx_fw_rule *r)
{
	return (r->src_domid == HMX_DOMID_ANY ||
		hmx_domid_valid(r->src_domid)) &&
	       (r->dst_domid == HMX_DOMID_ANY ||
		hmx_domid_valid(r->dst_domid)) &&
	       (r->action == HMX_FW_ACCEPT || r->action == HMX_FW_REJECT);
}

int hmx_firewall_set(struct hmx_host *h, const struct hmx_fw_rule *rules,
		     uint32_t n)
{
	struct hmx_fw_set *s, *old;
	int ret;

	if (n > h->lim.max_firewall_rules)
		return -E2BIG;
	if (n && !rules)
		return -EINVAL;
	for (uint32_t i = 0; i < n; i++)
		if (!rule_valid(&rules[i]))
			return -EINVAL;
	ret = fw_compile(rules, n, h->hash_seed, &s);
	if (ret)
		return ret;
	hmx_mutex_lock(&h->admin_lock);
	s->generation = ++h->fw_generation;
	old = atomic_exchange(&h->fw, s);
	hmx_rcu_synchronize(&h->rcu);
	hmx_mutex_unlock(&h->admin_lock);
	hmx_fw_free(old);
	return 0;
}

/* The first matching rule, or NO_RULE. */
static uint32_t fw_eval(const struct hmx_fw_set *s, uint16_t sdom,
			uint32_t sport, uint16_t ddom, uint32_t dport)
{
	uint32_t best = NO_RULE;

	for (uint32_t i = 0; i < s->ntab; i++) {
		const struct fw_table *t = &s->tab[i];
		uint64_t a, b;
		uint32_t idx;

		/* Tables are sorted by their lowest rule: none can win now. */
		if (t->min_idx >= best)
			break;
		/* All fields wildcard: one key, its lowest rule. */
		if (!t->pat) {
			best = t->min_idx;
			continue;
		}
		make_key(t->pat, sdom, sport, ddom, dport, &a, &b);
		idx = table_find(t, s->seed, a, b);
		if (idx < best)
			best = idx;
	}
	return best;
}

bool hmx_fw_allow(struct hmx_host *h, uint32_t op, uint16_t sdom,
		  uint32_t sport, uint16_t ddom, uint32_t dport)
{
	struct hmx_fw_set *s = atomic_load(&h->fw);
	uint32_t idx = s ? fw_eval(s, sdom, sport, ddom, dport) : NO_RULE;

	if (idx == NO_RULE) {
		if (s)
			atomic_fetch_add_explicit(&s->default_denied, 1,
						  memory_order_relaxed);
		hmx_audit_add(h, s ? s->generation : 0, op, HMX_AUDIT_DEFAULT,
			      sdom, sport, ddom, dport, -1);
		return false;
	}
	atomic_fetch_add_explicit(&s->hits[idx], 1, memory_order_relaxed);
	if (s->rules[idx].action == HMX_FW_ACCEPT)
		return true;
	hmx_audit_add(h, s->generation, op, HMX_AUDIT_RULE, sdom, sport, ddom,
		      dport, (int32_t)idx);
	return false;
}

bool hmx_fw_allow_wildcard(struct hmx_host *h, uint16_t ddom, uint32_t dport)
{
	unsigned int slot = hmx_rcu_enter(&h->rcu);
	struct hmx_fw_set *s = atomic_load(&h->fw);
	uint64_t generation = s ? s->generation : 0;
	bool ok = false;

	for (uint32_t i = 0; s && i < s->nwtab && !ok; i++) {
		const struct fw_table *t = &s->wtab[i];
		uint64_t a, b;

		make_key(t->pat, 0, 0, ddom, dport, &a, &b);
		ok = table_find(t, s->seed, a, b) != NO_RULE;
	}
	hmx_rcu_leave(&h->rcu, slot);
	if (!ok)
		hmx_audit_add(h, generation, HMX_OP_REGISTER_RING,
			      HMX_AUDIT_DEFAULT, HMX_DOMID_ANY, HMX_PORT_ANY,
			      ddom, dport, -1);
	return ok;
}

uint64_t hmx_fw_current_generation(struct hmx_host *h)
{
	unsigned int slot = hmx_rcu_enter(&h->rcu);
	struct hmx_fw_set *s = atomic_load(&h->fw);
	uint64_t generation = s ? s->generation : 0;

	hmx_rcu_leave(&h->rcu, slot);
	return generation;
}

int hmx_firewall_get(struct hmx_host *h, struct hmx_fw_rule *rules,
		     uint32_t max, uint64_t *generation)
{
	unsigned int slot = hmx_rcu_enter(&h->rcu);
	struct hmx_fw_set *s = atomic_load(&h->fw);
	uint32_t n = s ? s->n : 0;

	if (generation)
		*generation = s ? s->generation : 0;
	if (rules && n)
		memcpy(rules, s->rules, (n < max ? n : max) * sizeof(*rules));
	hmx_rcu_leave(&h->rcu, slot);
	return (int)n;
}

int hmx_firewall_stats(struct hmx_host *h, struct hmx_fw_stats *st,
		       uint64_t *hits, uint32_t max)
{
	unsigned int slot = hmx_rcu_enter(&h->rcu);
	struct hmx_fw_set *s = atomic_load(&h->fw);
	uint32_t n = s ? s->n : 0;

	if (st) {
		st->generation = s ? s->generation : 0;
		st->nrules = n;
		st->default_denied =
			s ? atomic_load_explicit(&s->default_denied,
						 memory_order_relaxed) :
			    0;
	}
	for (uint32_t i = 0; hits && i < n && i < max; i++)
		hits[i] =
			atomic_load_explicit(&s->hits[i], memory_order_relaxed);
	hmx_rcu_leave(&h->rcu, slot);
	return (int)n;
}

/* The same refusal: everything but when. */
static bool audit_same(const struct hmx_audit_entry *a,
		       const struct hmx_audit_entry *b)
{
	return a->op == b->op && a->reason == b->reason &&
	       a->src.domid == b->src.domid && a->src.aport == b->src.aport &&
	       a->dst.domid == b->dst.domid && a->dst.aport == b->dst.aport &&
	       a->rule == b->rule && a->generation == b->generation;
}

void hmx_audit_add(struct hmx_host *h, uint64_t generation, uint32_t op,
		   uint32_t reason, uint16_t sdom, uint32_t sport,
		   uint16_t ddom, uint32_t dport, int32_t rule)
{
	struct hmx_audit *a = &h->audit;
	struct hmx_audit_entry e = { 0 };
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	e.time_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	e.op = op;
	e.reason = reason;
	e.src.domid = sdom;
	e.src.aport = sport;
	e.dst.domid = ddom;
	e.dst.aport = dport;
	e.rule = rule;
	e.generation = generation;
	hmx_mutex_lock(&a->lock);
	for (uint32_t i = 0; i < a->count && i < HMX_AUDIT_FOLD_WINDOW; i++) {
		struct hmx_audit_entry *o =
			&a->e[(a->head + a->count - 1 - i) % a->cap];

		if (audit_same(o, &e)) {
			if (o->repeats < UINT32_MAX)
				o->repeats++;
			o->last_ns = e.time_ns;
			hmx_mutex_unlock(&a->lock);
			return;
		}
	}
	if (a->count == a->cap)
		a->dropped++;
	else
		a->e[(a->head + a->count++) % a->cap] = e;
	hmx_mutex_unlock(&a->lock);
}

uint32_t hmx_audit_read(struct hmx_host *h, struct hmx_audit_entry *out,
			uint32_t max, uint64_t *dropped)
{
	struct hmx_audit *a = &h->audit;
	uint32_t n;

	hmx_mutex_lock(&a->lock);
	n = a->count < max ? a->count : max;
	for (uint32_t i = 0; i < n; i++)
		out[i] = a->e[(a->head + i) % a->cap];
	a->head = (a->head + n) % a->cap;
	a->count -= n;
	if (dropped)
		*dropped = a->dropped;
	hmx_mutex_unlock(&a->lock);
	return n;
}
