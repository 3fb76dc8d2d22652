// SPDX-License-Identifier: GPL-2.0-only
/*
 * Listening stream sockets need a wildcard ring at their port before a peer
 * can send them a connection request. The 6.1 vsock core tells a transport
 * nothing about bind() or listen() (virtio needs no such hook: it receives
 * every packet of the VM on one queue), so we find listeners by scanning
 * the core's bound-socket table every hvs_listen_scan_ms. A peer that
 * connects in the window between listen() and the next scan is refused by
 * HMX with -ECONNREFUSED and retries for longer than a scan period
 * (hvs_stream.c), so it connects. docs/hmx-abi.md explains the ABI
 * addition that would replace the periodic scan.
 *
 * A wildcard ring the firewall does not back (no rule lets anyone in) is
 * refused with -EPERM; it is retried once a second, since the host may
 * install a new policy at any time.
 */
#include <linux/slab.h>

#include "hvs.h"

#define HVS_LISTEN_MAX 1024
#define HVS_LISTEN_RETRY (HZ)

static u32 hvs_listen_ports[HVS_LISTEN_MAX];

static unsigned int hvs_collect_listeners(void)
{
	u32 cid = HMX_VSOCK_DOMID_TO_CID(hmx_core_domid());
	unsigned int n = 0, i;
	struct vsock_sock *vsk;

	spin_lock_bh(&vsock_table_lock);
	/* The last bucket holds the unbound sockets. */
	for (i = 0; i < VSOCK_HASH_SIZE; i++) {
		list_for_each_entry(vsk, &vsock_bind_table[i], bound_table)
		{
			struct sock *sk = sk_vsock(vsk);

			if (sk->sk_type != SOCK_STREAM ||
			    READ_ONCE(sk->sk_state) != TCP_LISTEN)
				continue;
			if (vsk->local_addr.svm_cid != VMADDR_CID_ANY &&
			    vsk->local_addr.svm_cid != cid)
				continue;
			if (n == HVS_LISTEN_MAX) {
				pr_warn_once(
					"hmx_vsock: more than %u listening ports\n",
					HVS_LISTEN_MAX);
				goto out;
			}
			hvs_listen_ports[n++] = vsk->local_addr.svm_port;
		}
	}
out:
	spin_unlock_bh(&vsock_table_lock);
	return n;
}

static struct hvs_listener *hvs_listener_find(u32 port)
{
	struct hvs_listener *l;

	list_for_each_entry(l, &hvs->listeners, link)
	{
		if (l->port == port)
			return l;
	}
	return NULL;
}

static void hvs_listener_free(struct hvs_listener *l)
{
	if (l->ring)
		hmx_core_ring_put(l->ring);
	list_del(&l->link);
	kfree(l);
}

static void hvs_listen_scan(void)
{
	struct hvs_listener *l, *tmp;
	unsigned int n, i;
	int ret;

	mutex_lock(&hvs->listen_mutex);
	n = hvs_collect_listeners();
	list_for_each_entry(l, &hvs->listeners, link) l->seen = false;
	for (i = 0; i < n; i++) {
		l = hvs_listener_find(hvs_listen_ports[i]);
		if (!l) {
			l = kzalloc(sizeof(*l), GFP_KERNEL);
			if (!l)
				break;
			l->port = hvs_listen_ports[i];
			l->retry_at = jiffies;
			list_add_tail(&l->link, &hvs->listeners);
		}
		l->seen = true;
	}
	list_for_each_entry_safe(l, tmp, &hvs->listeners, link)
	{
		if (!l->seen) {
			hvs_listener_free(l);
			continue;
		}
		if (l->ring || time_before(jiffies, l->retry_at))
			continue;
		ret = hvs_ring_get(l->port, HMX_DOMID_ANY, &l->ring);
		if (ret) {
			l->ring = NULL;
			l->retry_at = jiffies + HVS_LISTEN_RETRY;
			if (ret != -EPERM)
				pr_warn_ratelimited(
					"hmx_vsock: no ring for listening port %u: %d\n",
					l->port, ret);
		}
	}
	mutex_unlock(&hvs->listen_mutex);
}

void hvs_listen_work(struct work_struct *work)
{
	hvs_listen_scan();
	if (!READ_ONCE(hvs->stopping))
		queue_delayed_work(hmx_core_wq(), &hvs->listen_work,
				   msecs_to_jiffies(hvs_listen_scan_ms));
}

void hvs_listen_kick(void)
{
	mod_delayed_work(hmx_core_wq(), &hvs->listen_work, 0);
}

void hvs_listeners_destroy(void)
{
	struct hvs_listener *l, *tmp;

	mutex_lock(&hvs->listen_mutex);
	list_for_each_entry_safe(l, tmp, &hvs->listeners, link)
		hvs_listener_free(l);
	mutex_unlock(&hvs->listen_mutex);
}
