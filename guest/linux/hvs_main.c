// SPDX-License-Identifier: GPL-2.0-only
/*
 * hmx_vsock: the guest's AF_VSOCK transport over HMX, a client of
 * hmx_core. A VM's CID is its domid; the host is CID 2.
 */
#include <linux/module.h>
#include <linux/slab.h>

#include "hvs.h"

struct hvs_dev *hvs;

unsigned int hvs_listen_scan_ms = 10;
module_param_named(listen_scan_ms, hvs_listen_scan_ms, uint, 0644);
MODULE_PARM_DESC(listen_scan_ms,
		 "How often to look for new listening sockets (ms)");

unsigned int hvs_credit_div = 2;
module_param_named(credit_div, hvs_credit_div, uint, 0644);
MODULE_PARM_DESC(credit_div,
		 "Tell the peer about freed buffer space every 1/N of the "
		 "buffer (2: halves; more: more messages, smaller bursts)");

/*
 * /sys/module/hmx_vsock/parameters/state: what the transport holds now,
 * then a line per socket (at most 32): what keeps a module busy.
 */
static int hvs_state_get(char *buf, const struct kernel_param *kp)
{
	unsigned int socks = 0, ctl = 0, waiters = 0;
	struct hvs_sock *hs;
	int len;

	if (!hvs)
		return sysfs_emit(buf, "no device\n");
	spin_lock_bh(&hvs->ctl_lock);
	list_for_each_entry(hs, &hvs->ctl_socks, ctl_link) ctl++;
	list_for_each_entry(hs, &hvs->space_waiters, wait_link) waiters++;
	spin_unlock_bh(&hvs->ctl_lock);
	spin_lock_bh(&hvs->sock_lock);
	list_for_each_entry(hs, &hvs->socks, link) socks++;
	len = sysfs_emit(buf, "sockets=%u ctl_pending=%u space_waiters=%u\n",
			 socks, ctl, waiters);
	socks = 0;
	list_for_each_entry(hs, &hvs->socks, link)
	{
		struct vsock_sock *vsk = hs->vsk;
		struct sock *sk = sk_vsock(vsk);

		if (socks++ == 32)
			break;
		len += sysfs_emit_at(
			buf, len,
			"sock type=%d state=%d %u -> %u:%u refs=%d done=%d "
			"dead=%d orphan=%d request_sent=%d tries=%u\n",
			sk->sk_type, sk->sk_state, vsk->local_addr.svm_port,
			vsk->remote_addr.svm_cid, vsk->remote_addr.svm_port,
			refcount_read(&sk->sk_refcnt), sock_flag(sk, SOCK_DONE),
			sock_flag(sk, SOCK_DEAD), !sk->sk_socket,
			hs->request_sent, hs->connect_tries);
	}
	spin_unlock_bh(&hvs->sock_lock);
	return len;
}

static const struct kernel_param_ops hvs_state_ops = {
	.get = hvs_state_get,
};
module_param_cb(state, &hvs_state_ops, NULL, 0444);
MODULE_PARM_DESC(state, "Sockets, queued senders and rings (read-only)");

/* -EBUSY from HMX promised no wake-up: act as if space was signalled. */
static void hvs_retry_work(struct work_struct *work)
{
	hmx_core_kick(HMX_IRQ_SPACE);
}

struct hmx_client hvs_client = {
	.name = "hmx_vsock",
	.rx = hvs_rx_msg,
	.space = hvs_rx_space,
	.peer_gone = hvs_peer_gone,
	.pass_done = hvs_rx_pass_done,
};

static struct hvs_dev *hvs_dev_new(void)
{
	struct hvs_dev *d = kzalloc(sizeof(*d), GFP_KERNEL);
	unsigned int i;

	if (!d)
		return NULL;
	INIT_DELAYED_WORK(&d->retry_work, hvs_retry_work);
	INIT_DELAYED_WORK(&d->listen_work, hvs_listen_work);
	mutex_init(&d->listen_mutex);
	spin_lock_init(&d->sock_lock);
	spin_lock_init(&d->ctl_lock);
	for (i = 0; i < ARRAY_SIZE(d->dgram_hash); i++)
		INIT_HLIST_HEAD(&d->dgram_hash[i]);
	INIT_LIST_HEAD(&d->socks);
	INIT_LIST_HEAD(&d->ctl_socks);
	INIT_LIST_HEAD(&d->space_waiters);
	INIT_LIST_HEAD(&d->listeners);
	return d;
}

static int __init hvs_init(void)
{
	int ret;

	if (!hmx_core_ready()) {
		pr_err("hmx_vsock: no HMX controller (is hmx_core bound?)\n");
		return -ENODEV;
	}
	hvs = hvs_dev_new();
	if (!hvs)
		return -ENOMEM;
	ret = hmx_client_register(&hvs_client);
	if (ret)
		goto err_free;
	ret = hvs_transport_register();
	if (ret)
		goto err_client;
	queue_delayed_work(hmx_core_wq(), &hvs->listen_work, 0);
	pr_info("hmx_vsock: HMX vsock transport, CID %u\n",
		HMX_VSOCK_DOMID_TO_CID(hmx_core_domid()));
	return 0;

err_client:
	hmx_client_unregister(&hvs_client);
err_free:
	kfree(hvs);
	hvs = NULL;
	return ret;
}

/*
 * Every socket that used the transport holds a module reference, so on
 * unload none is left; the listeners' rings are the last we hold.
 */
static void __exit hvs_exit(void)
{
	hvs_transport_unregister();
	WRITE_ONCE(hvs->stopping, true);
	cancel_delayed_work_sync(&hvs->listen_work);
	cancel_delayed_work_sync(&hvs->retry_work);
	hvs_listeners_destroy();
	hmx_client_unregister(&hvs_client);
	/* A pass that ran before the unregister may have re-armed it. */
	cancel_delayed_work_sync(&hvs->retry_work);
	kfree(hvs);
	hvs = NULL;
}

module_init(hvs_init);
module_exit(hvs_exit);

MODULE_DESCRIPTION("AF_VSOCK transport over Bulkhead HMX");
MODULE_LICENSE("GPL");
