// SPDX-License-Identifier: GPL-2.0-only
/*
 * The rx worker: the only reader of our rings. It handles the interrupt
 * reasons, drains every ring and hands each message to its ring's
 * client. Clients are called one at a time, in this order: space, the
 * messages, peer_gone for each dead domain, pass_done.
 */
#include <linux/sched.h>

#include "hmxc.h"

static void hmxc_peer_events(void)
{
	u16 domids[HMXC_PEER_EVENTS_MAX];
	struct hmx_client *c;
	int n, i;

	do {
		n = hmxc_hc_peer_events(domids, HMXC_PEER_EVENTS_MAX);
		for (i = 0; i < n; i++) {
			hmxc_rings_partner_gone(domids[i]);
			list_for_each_entry(c, &hmxc_clients, link)
			{
				if (c->peer_gone)
					c->peer_gone(domids[i]);
			}
		}
	} while (n == HMXC_PEER_EVENTS_MAX);
}

static void hmxc_drain(void)
{
	unsigned int n, i;
	bool progress, notify;

	do {
		progress = notify = false;
		n = hmxc_rings_snapshot();
		for (i = 0; i < n; i++) {
			if (!hmxc_ring_consume(hmxc->snap[i]))
				continue;
			progress = true;
			if (hmxc_ring_wants_notify(hmxc->snap[i]))
				notify = true;
		}
		for (i = 0; i < n; i++)
			hmx_core_ring_put(hmxc->snap[i]);
		/* Senders waiting for space in our rings need a NOTIFY. */
		if (notify)
			hmxc_hc_notify();
		cond_resched();
	} while (progress);
}

void hmxc_rx_work(struct work_struct *work)
{
	u32 bits = hmxc_irq_take();
	struct hmx_client *c;

	mutex_lock(&hmxc_clients_mutex);
	if (bits & HMX_IRQ_SPACE) {
		atomic_inc(&hmxc->space_gen);
		list_for_each_entry(c, &hmxc_clients, link)
		{
			if (c->space)
				c->space();
		}
	}
	hmxc_rings_retire();
	/* Data a dead peer sent before it died is still delivered... */
	hmxc_drain();
	/* ...then the clients hear that it died. */
	if (bits & HMX_IRQ_PEER_GONE)
		hmxc_peer_events();
	list_for_each_entry(c, &hmxc_clients, link)
	{
		if (c->pass_done)
			c->pass_done(bits);
	}
	mutex_unlock(&hmxc_clients_mutex);
	if (hmxc_irq_more())
		queue_work(hmxc->wq, &hmxc->rx_work);
}
