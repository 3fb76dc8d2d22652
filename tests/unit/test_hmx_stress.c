// SPDX-License-Identifier: GPL-2.0-only
/*
 * Many senders into one ring, one reader draining it, while another thread
 * churns the firewall, unrelated rings and a short-lived domain. Every byte
 * is checked; per sender nothing is lost, duplicated or reordered; no wait
 * for a wake-up may time out (a lost wake-up would).
 */
#include "hmx_testlib.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NSENDERS 8
#define NMSG 4000
#define MAXLEN 3000
#define RING_LEN (16u << 10)
#define RX_DOMID 3
#define RX_PORT 7000

struct waiter {
	pthread_mutex_t m;
	pthread_cond_t c;
};

struct sender {
	struct tg *g;
	struct waiter w;
	pthread_t t;
	uint32_t eagain;
};

static struct hmx_host *host;
static struct tg *rx;
static struct waiter rx_wait;
static struct sender senders[NSENDERS];
static struct tring rx_ring;
static _Atomic int senders_done;
static _Atomic int failures;
static _Atomic uint32_t timeouts;

static void fail(const char *what, uint32_t a, uint32_t b)
{
	fprintf(stderr, "stress: %s (%u, %u)\n", what, a, b);
	atomic_fetch_add(&failures, 1);
}

static void wake_hook(struct tg *g, uint32_t bits)
{
	struct waiter *w = g->hook_arg;

	(void)bits;
	pthread_mutex_lock(&w->m);
	pthread_cond_broadcast(&w->c);
	pthread_mutex_unlock(&w->m);
}

/* Wait until bit is raised; returns false on a 2 s timeout. */
static bool wait_bit(struct tg *g, struct waiter *w, uint32_t bit)
{
	struct timespec ts;
	bool ok = true;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 2;
	pthread_mutex_lock(&w->m);
	while (!(atomic_load(&g->irq) & bit)) {
		if (pthread_cond_timedwait(&w->c, &w->m, &ts) == ETIMEDOUT) {
			ok = false;
			break;
		}
	}
	pthread_mutex_unlock(&w->m);
	return ok;
}

static uint32_t msg_len(uint32_t s, uint32_t seq)
{
	return (s * 7919u + seq * 104729u) % (MAXLEN + 1);
}

static uint8_t msg_byte(uint32_t s, uint32_t seq, uint32_t i)
{
	return (uint8_t)(s * 31 + seq * 17 + i * 13 + (i >> 7));
}

static void *sender_main(void *arg)
{
	struct sender *sd = arg;
	uint32_t s = (uint32_t)(sd - senders);
	uint64_t buf = tg_alloc(sd->g, MAXLEN + 64, 64);
	uint64_t iovs = tg_alloc(sd->g, 3 * sizeof(struct hmx_iov), 16);
	uint64_t call = sd->g->call_gpa;

	for (uint32_t seq = 0; seq < NMSG; seq++) {
		uint32_t len = msg_len(s, seq), cut1 = len / 3, cut2 = len / 2;
		struct hmx_iov iov[3] = { 0 };
		struct hmx_call c = { .op = HMX_OP_SENDV };
		uint8_t *p = tg_ptr(sd->g, buf);
		int ret;

		for (uint32_t i = 0; i < len; i++)
			p[i] = msg_byte(s, seq, i);
		/* Three iovs, some empty, out of order in memory. */
		iov[0].gpa = buf;
		iov[0].len = cut1;
		iov[1].gpa = buf + cut1;
		iov[1].len = cut2 - cut1;
		iov[2].gpa = buf + cut2;
		iov[2].len = len - cut2;
		memcpy(tg_ptr(sd->g, iovs), iov, sizeof(iov));
		c.u.sendv.src.aport = 1;
		c.u.sendv.dst.domid = RX_DOMID;
		c.u.sendv.dst.aport = RX_PORT;
		c.u.sendv.iov_gpa = iovs;
		c.u.sendv.niov = 3;
		c.u.sendv.message_type = seq;
		for (;;) {
			atomic_fetch_and(&sd->g->irq, ~HMX_IRQ_SPACE);
			memcpy(tg_ptr(sd->g, call), &c, sizeof(c));
			ret = hmx_call(host, sd->g->domid, call);
			if (ret != -EAGAIN)
				break;
			sd->eagain++;
			if (!wait_bit(sd->g, &sd->w, HMX_IRQ_SPACE)) {
				/* A lost wake-up, or the reader gave up. */
				atomic_fetch_add(&timeouts, 1);
				atomic_fetch_add(&senders_done, 1);
				return NULL;
			}
		}
		if (ret != (int)len)
			fail("send failed", s, (uint32_t)-ret);
	}
	atomic_fetch_add(&senders_done, 1);
	return NULL;
}

static void *reader_main(void *arg)
{
	uint32_t next[NSENDERS] = { 0 }, total = 0;
	static uint8_t buf[MAXLEN];

	(void)arg;
	while (total < NSENDERS * NMSG && !atomic_load(&failures)) {
		struct hmx_msg_header mh;
		uint32_t got = 0;
		int n;

		atomic_fetch_and(&rx->irq, ~HMX_IRQ_DATA);
		while ((n = tring_recv(&rx_ring, &mh, buf, sizeof(buf))) >= 0) {
			uint32_t s = mh.source.domid - 10u, seq;

			got++;
			total++;
			if (s >= NSENDERS || mh.source.aport != 1) {
				fail("bad source", mh.source.domid,
				     mh.source.aport);
				continue;
			}
			seq = mh.message_type;
			if (seq != next[s])
				fail("order: got/expected", seq, next[s]);
			next[s] = seq + 1;
			if ((uint32_t)n != msg_len(s, seq))
				fail("length", (uint32_t)n, msg_len(s, seq));
			for (uint32_t i = 0; i < (uint32_t)n; i++) {
				if (buf[i] != msg_byte(s, seq, i)) {
					fail("byte", seq, i);
					break;
				}
			}
		}
		if (n != -EAGAIN)
			fail("reader", (uint32_t)-n, 0);
		/* Consumed: wake senders waiting for space. */
		if (hmx_notify(host, RX_DOMID, 0))
			fail("notify", 0, 0);
		if (!got && total < NSENDERS * NMSG &&
		    !wait_bit(rx, &rx_wait, HMX_IRQ_DATA)) {
			atomic_fetch_add(&timeouts, 1);
			break;
		}
	}
	for (uint32_t s = 0; s < NSENDERS; s++)
		if (next[s] != NMSG)
			fail("messages received from sender", s, next[s]);
	return NULL;
}

static void no_signal(void *opaque, uint32_t bits)
{
	(void)opaque;
	(void)bits;
}

/* Firewall swaps, ring churn and a domain that comes and goes. */
static void *churn_main(void *arg)
{
	struct hmx_fw_rule rules[64];
	struct tg *c = arg;
	uint32_t round = 0;
	/* Fixed pages, so that the churn never runs the guest out of RAM. */
	uint64_t page = tg_alloc(c, 4 * 4096, 4096);
	uint64_t list = tg_alloc(c, 4 * 8, 8);

	for (uint64_t i = 0; i < 4; i++)
		((uint64_t *)tg_ptr(c, list))[i] = page / 4096 + i;

	while (atomic_load(&senders_done) < NSENDERS &&
	       !atomic_load(&failures)) {
		struct hmx_domain_config cfg = { 0 };
		uint32_t n = 1 + round % 64;
		struct hmx_register_ring reg = { 0 };
		struct hmx_unregister_ring unreg = { 0 };

		/* Equivalent rule sets of varying shape: senders -> rx ok. */
		for (uint32_t i = 0; i + 1 < n; i++) {
			rules[i].src_domid = 100;
			rules[i].src_port = i;
			rules[i].dst_domid = HMX_DOMID_ANY;
			rules[i].dst_port = HMX_PORT_ANY;
			rules[i].action = HMX_FW_REJECT;
		}
		rules[n - 1].src_domid = HMX_DOMID_ANY;
		rules[n - 1].src_port = HMX_PORT_ANY;
		rules[n - 1].dst_domid = round & 1 ? RX_DOMID : HMX_DOMID_ANY;
		rules[n - 1].dst_port = HMX_PORT_ANY;
		rules[n - 1].action = HMX_FW_ACCEPT;
		if (hmx_firewall_set(host, rules, n))
			fail("firewall_set", round, 0);
		reg.aport = unreg.aport = 500 + round % 4;
		reg.partner = unreg.partner = RX_DOMID;
		reg.len = 48;
		reg.npages = 1;
		reg.pfn_list_gpa = list + (round % 4) * 8;
		if (hmx_register_ring(host, c->domid, &reg))
			fail("churn register", round, 0);
		if (hmx_unregister_ring(host, c->domid, &unreg))
			fail("churn unregister", round, 0);
		cfg.domid = 100;
		cfg.translate = tg_translate;
		cfg.translate_opaque = c;
		cfg.signal = no_signal;
		if (hmx_domain_add(host, &cfg))
			fail("domain add", round, 0);
		if (hmx_domain_remove(host, 100))
			fail("domain remove", round, 0);
		round++;
	}
	fprintf(stderr, "stress: churn rounds %u\n", round);
	return NULL;
}

int main(void)
{
	pthread_t reader, churn;
	struct tg *churner;
	uint32_t eagain = 0;
	struct tring t;

	host = host_new(NULL);
	fw_allow_all(host);
	rx = tg_new(host, RX_DOMID);
	pthread_mutex_init(&rx_wait.m, NULL);
	pthread_cond_init(&rx_wait.c, NULL);
	rx->hook_arg = &rx_wait;
	rx->hook = wake_hook;
	if (tg_ring(rx, RX_PORT, HMX_DOMID_ANY, RING_LEN, true, &rx_ring))
		return 1;
	for (uint32_t s = 0; s < NSENDERS; s++) {
		struct sender *sd = &senders[s];

		sd->g = tg_new(host, (uint16_t)(10 + s));
		pthread_mutex_init(&sd->w.m, NULL);
		pthread_cond_init(&sd->w.c, NULL);
		sd->g->hook_arg = &sd->w;
		sd->g->hook = wake_hook;
		if (tg_ring(sd->g, 1, RX_DOMID, 48, false, &t))
			return 1;
	}
	churner = tg_new(host, 9);
	pthread_create(&reader, NULL, reader_main, NULL);
	pthread_create(&churn, NULL, churn_main, churner);
	for (uint32_t s = 0; s < NSENDERS; s++)
		pthread_create(&senders[s].t, NULL, sender_main, &senders[s]);
	for (uint32_t s = 0; s < NSENDERS; s++) {
		pthread_join(senders[s].t, NULL);
		eagain += senders[s].eagain;
	}
	pthread_join(reader, NULL);
	pthread_join(churn, NULL);
	fprintf(stderr,
		"stress: %u senders x %u messages, %u EAGAIN, %u timeouts, %d failures\n",
		NSENDERS, NMSG, eagain, atomic_load(&timeouts),
		atomic_load(&failures));
	for (uint32_t s = 0; s < NSENDERS; s++)
		tg_free(senders[s].g);
	tg_free(churner);
	tg_free(rx);
	hmx_host_destroy(host);
	if (!eagain)
		fprintf(stderr, "stress: the ring never filled up\n");
	return atomic_load(&failures) || atomic_load(&timeouts) || !eagain;
}
