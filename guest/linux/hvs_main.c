// SPDX-License-Identifier: GPL-2.0-only
/*
 * hmx_vsock: a PCI driver for the Bulkhead HMX controller that registers
 * as the guest's AF_VSOCK transport. A VM's CID is its domid; the host is
 * CID 2. There is one HMX controller per VM.
 */
#include <linux/interrupt.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/slab.h>

#include "hvs.h"

struct hvs_dev *hvs;

unsigned int hvs_listen_scan_ms = 10;
module_param_named(listen_scan_ms, hvs_listen_scan_ms, uint, 0644);
MODULE_PARM_DESC(listen_scan_ms,
		 "How often to look for new listening sockets (ms)");

/*
 * /sys/module/hmx_vsock/parameters/state: what the transport holds now,
 * then a line per socket (at most 32): what keeps a module busy.
 */
static int hvs_state_get(char *buf, const struct kernel_param *kp)
{
	unsigned int socks = 0, ctl = 0, waiters = 0, rings = 0;
	struct hvs_sock *hs;
	struct hvs_ring *ring;
	int len;

	if (!hvs)
		return sysfs_emit(buf, "no device\n");
	spin_lock_bh(&hvs->ctl_lock);
	list_for_each_entry(hs, &hvs->ctl_socks, ctl_link) ctl++;
	list_for_each_entry(hs, &hvs->space_waiters, wait_link) waiters++;
	spin_unlock_bh(&hvs->ctl_lock);
	mutex_lock(&hvs->ring_mutex);
	list_for_each_entry(ring, &hvs->rings, link) rings++;
	mutex_unlock(&hvs->ring_mutex);
	spin_lock_bh(&hvs->sock_lock);
	list_for_each_entry(hs, &hvs->socks, link) socks++;
	len = sysfs_emit(
		buf, "sockets=%u ctl_pending=%u space_waiters=%u rings=%u\n",
		socks, ctl, waiters, rings);
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

static irqreturn_t hvs_irq(int irq, void *data)
{
	struct hvs_dev *d = data;
	u32 bits = ioread32(d->io + HMX_REG_IRQ_STATUS);

	/* Spurious interrupts are allowed; the worker checks every ring. */
	atomic_or(bits, &d->irq_bits);
	queue_work(d->wq, &d->rx_work);
	return IRQ_HANDLED;
}

/* -EBUSY from HMX promised no wake-up: act as if space was signalled. */
static void hvs_retry_work(struct work_struct *work)
{
	atomic_or(HMX_IRQ_SPACE, &hvs->irq_bits);
	queue_work(hvs->wq, &hvs->rx_work);
}

static int hvs_dev_init(struct hvs_dev *d, struct pci_dev *pdev)
{
	size_t slots = (size_t)nr_cpu_ids * sizeof(struct hvs_slot);
	u32 version, domid;
	unsigned int i;

	version = ioread32(d->io + HMX_REG_ABI_VERSION);
	if (version != HMX_ABI_VERSION) {
		dev_err(&pdev->dev, "HMX ABI version %u, need %u\n", version,
			HMX_ABI_VERSION);
		return -ENODEV;
	}
	domid = ioread32(d->io + HMX_REG_DOMID);
	if (domid < HMX_DOMID_FIRST_GUEST || domid > HMX_DOMID_LAST_GUEST) {
		dev_err(&pdev->dev, "domid %u is not a guest's\n", domid);
		return -ENODEV;
	}
	d->domid = domid;
	/* Direct-mapped pages: every slot's GPA is virt_to_phys of it. */
	d->slots_order = get_order(slots);
	d->slots = (struct hvs_slot *)__get_free_pages(GFP_KERNEL | __GFP_ZERO,
						       d->slots_order);
	if (!d->slots)
		return -ENOMEM;
	d->wq = alloc_ordered_workqueue("hmx_vsock", WQ_MEM_RECLAIM);
	if (!d->wq) {
		free_pages((unsigned long)d->slots, d->slots_order);
		return -ENOMEM;
	}
	INIT_WORK(&d->rx_work, hvs_rx_work);
	INIT_DELAYED_WORK(&d->retry_work, hvs_retry_work);
	INIT_DELAYED_WORK(&d->listen_work, hvs_listen_work);
	mutex_init(&d->ring_mutex);
	mutex_init(&d->listen_mutex);
	spin_lock_init(&d->ref_lock);
	spin_lock_init(&d->sock_lock);
	spin_lock_init(&d->ctl_lock);
	for (i = 0; i < ARRAY_SIZE(d->ring_hash); i++)
		INIT_HLIST_HEAD(&d->ring_hash[i]);
	for (i = 0; i < ARRAY_SIZE(d->dgram_hash); i++)
		INIT_HLIST_HEAD(&d->dgram_hash[i]);
	INIT_LIST_HEAD(&d->rings);
	INIT_LIST_HEAD(&d->socks);
	INIT_LIST_HEAD(&d->ctl_socks);
	INIT_LIST_HEAD(&d->space_waiters);
	INIT_LIST_HEAD(&d->listeners);
	return 0;
}

static void hvs_dev_fini(struct hvs_dev *d)
{
	destroy_workqueue(d->wq);
	free_pages((unsigned long)d->slots, d->slots_order);
}

static int hvs_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct hvs_dev *d;
	int ret;

	if (hvs) {
		dev_err(&pdev->dev,
			"a second HMX controller is not supported\n");
		return -EBUSY;
	}
	d = devm_kzalloc(&pdev->dev, sizeof(*d), GFP_KERNEL);
	if (!d)
		return -ENOMEM;
	d->pdev = pdev;
	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	ret = pcim_iomap_regions(pdev, BIT(0), "hmx_vsock");
	if (ret)
		return ret;
	d->io = pcim_iomap_table(pdev)[0];
	ret = hvs_dev_init(d, pdev);
	if (ret)
		return ret;
	pci_set_master(pdev);
	ret = pci_alloc_irq_vectors(pdev, 1, 1, PCI_IRQ_MSIX);
	if (ret < 0)
		goto err_fini;
	ioread32(d->io + HMX_REG_IRQ_STATUS); /* drop stale reasons */
	ret = request_irq(pci_irq_vector(pdev, 0), hvs_irq, 0, "hmx_vsock", d);
	if (ret)
		goto err_vectors;
	pci_set_drvdata(pdev, d);
	hvs = d;
	ret = hvs_transport_register();
	if (ret)
		goto err_irq;
	queue_delayed_work(d->wq, &d->listen_work, 0);
	dev_info(&pdev->dev, "HMX vsock transport, CID %u\n",
		 HMX_VSOCK_DOMID_TO_CID(d->domid));
	return 0;

err_irq:
	hvs = NULL;
	free_irq(pci_irq_vector(pdev, 0), d);
err_vectors:
	pci_free_irq_vectors(pdev);
err_fini:
	hvs_dev_fini(d);
	return ret;
}

/*
 * Only on module unload (unbinding is suppressed): every socket that used
 * the transport holds a module reference, so none is left.
 */
static void hvs_remove(struct pci_dev *pdev)
{
	struct hvs_dev *d = pci_get_drvdata(pdev);

	hvs_transport_unregister();
	WRITE_ONCE(d->stopping, true);
	cancel_delayed_work_sync(&d->listen_work);
	cancel_delayed_work_sync(&d->retry_work);
	hvs_listeners_destroy();
	free_irq(pci_irq_vector(pdev, 0), d);
	pci_free_irq_vectors(pdev);
	flush_workqueue(d->wq);
	hvs_rings_retire();
	hvs_rings_destroy_all();
	hvs_dev_fini(d);
	hvs = NULL;
}

static const struct pci_device_id hvs_ids[] = {
	{ PCI_DEVICE(HMX_PCI_VENDOR_ID, HMX_PCI_DEVICE_ID) },
	{}
};
MODULE_DEVICE_TABLE(pci, hvs_ids);

static struct pci_driver hvs_driver = {
	.name = "hmx_vsock",
	.id_table = hvs_ids,
	.probe = hvs_probe,
	.remove = hvs_remove,
	.driver.suppress_bind_attrs = true,
};
module_pci_driver(hvs_driver);

MODULE_DESCRIPTION("AF_VSOCK transport over Bulkhead HMX");
MODULE_LICENSE("GPL");
