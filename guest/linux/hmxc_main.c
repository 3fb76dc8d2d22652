// SPDX-License-Identifier: GPL-2.0-only
/*
 * hmx_core: the PCI driver for the Bulkhead HMX controller (one per VM).
 * It owns the device and the rings, and serves in-kernel clients through
 * hmx_core.h: hmx_vsock (AF_VSOCK) is one.
 */
#include <linux/interrupt.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/slab.h>

#include "hmxc.h"

struct hmxc_dev *hmxc;
LIST_HEAD(hmxc_clients);
DEFINE_MUTEX(hmxc_clients_mutex);

static bool status_word = true;
module_param(status_word, bool, 0444);
MODULE_PARM_DESC(status_word,
		 "Take interrupt reasons from a status word in memory, not "
		 "the IRQ_STATUS register (no exit per interrupt)");

/* /sys/module/hmx_core/parameters/state: the domid, rings and clients. */
static int hmxc_state_get(char *buf, const struct kernel_param *kp)
{
	struct hmx_client *c;
	int len;

	if (!hmxc)
		return sysfs_emit(buf, "no device\n");
	len = sysfs_emit(buf, "domid=%u rings=%u clients=", hmxc->domid,
			 hmxc_rings_count());
	mutex_lock(&hmxc_clients_mutex);
	list_for_each_entry(c, &hmxc_clients, link)
		len += sysfs_emit_at(buf, len, "%s%s",
				     c->link.prev == &hmxc_clients ? "" : ",",
				     c->name);
	mutex_unlock(&hmxc_clients_mutex);
	return len + sysfs_emit_at(buf, len, "\n");
}

static const struct kernel_param_ops hmxc_state_ops = {
	.get = hmxc_state_get,
};
module_param_cb(state, &hmxc_state_ops, NULL, 0444);
MODULE_PARM_DESC(state, "The domid, rings and clients (read-only)");

bool hmx_core_ready(void)
{
	return READ_ONCE(hmxc) != NULL;
}
EXPORT_SYMBOL_GPL(hmx_core_ready);

u16 hmx_core_domid(void)
{
	return hmxc->domid;
}
EXPORT_SYMBOL_GPL(hmx_core_domid);

struct workqueue_struct *hmx_core_wq(void)
{
	return hmxc->wq;
}
EXPORT_SYMBOL_GPL(hmx_core_wq);

u32 hmx_core_space_gen(void)
{
	return (u32)atomic_read(&hmxc->space_gen);
}
EXPORT_SYMBOL_GPL(hmx_core_space_gen);

void hmx_core_kick(u32 bits)
{
	atomic_or(bits, &hmxc->irq_bits);
	queue_work(hmxc->wq, &hmxc->rx_work);
}
EXPORT_SYMBOL_GPL(hmx_core_kick);

int hmx_client_register(struct hmx_client *c)
{
	if (!hmx_core_ready())
		return -ENODEV;
	mutex_lock(&hmxc_clients_mutex);
	list_add_tail(&c->link, &hmxc_clients);
	mutex_unlock(&hmxc_clients_mutex);
	return 0;
}
EXPORT_SYMBOL_GPL(hmx_client_register);

/*
 * The client has put every ring it held. One more rx pass unregisters,
 * drains (to the client, still listed) and frees them; then it goes.
 */
void hmx_client_unregister(struct hmx_client *c)
{
	struct hmx_core_ring *ring;

	hmx_core_kick(0);
	flush_work(&hmxc->rx_work);
	mutex_lock(&hmxc_clients_mutex);
	list_del(&c->link);
	mutex_lock(&hmxc->ring_mutex);
	list_for_each_entry(ring, &hmxc->rings, link)
		WARN_ONCE(ring->client == c, "hmx_core: %s left ring %u/%u\n",
			  c->name, ring->aport, ring->partner);
	mutex_unlock(&hmxc->ring_mutex);
	mutex_unlock(&hmxc_clients_mutex);
}
EXPORT_SYMBOL_GPL(hmx_client_unregister);

static irqreturn_t hmxc_irq(int irq, void *data)
{
	struct hmxc_dev *d = data;

	/* With the status word the worker reads the reasons itself. */
	if (!READ_ONCE(d->status_word))
		atomic_or(ioread32(d->io + HMX_REG_IRQ_STATUS), &d->irq_bits);
	/* Spurious interrupts are allowed; the worker checks every ring. */
	queue_work(d->wq, &d->rx_work);
	return IRQ_HANDLED;
}

u32 hmxc_irq_take(void)
{
	u32 *word = READ_ONCE(hmxc->status_word);
	u32 bits = (u32)atomic_xchg(&hmxc->irq_bits, 0);

	if (word)
		bits |= xchg(word, HMX_STATUS_BUSY) & ~HMX_STATUS_BUSY;
	return bits;
}

/*
 * Reasons that arrived while the word was busy raised no interrupt: the
 * word still holds them, and this pass must not end without them.
 */
bool hmxc_irq_more(void)
{
	u32 *word = READ_ONCE(hmxc->status_word);

	return word && cmpxchg(word, HMX_STATUS_BUSY, 0) != HMX_STATUS_BUSY;
}

/*
 * Asks the device to OR reasons into a word of ours. Any failure leaves
 * the IRQ_STATUS register in use, which works as well, with an exit more.
 */
static void hmxc_status_word_init(struct hmxc_dev *d)
{
	u32 features = ioread32(d->io + HMX_REG_FEATURES);
	u32 *word;
	phys_addr_t pa;

	if (!status_word || features == ~0u ||
	    !(features & HMX_FEATURE_STATUS_WORD))
		return;
	word = kzalloc(sizeof(*word), GFP_KERNEL);
	if (!word)
		return;
	pa = virt_to_phys(word);
	/* Before the device uses it: an interrupt from now on reads it. */
	WRITE_ONCE(d->status_word, word);
	iowrite32(upper_32_bits(pa), d->io + HMX_REG_STATUS_HI);
	iowrite32(lower_32_bits(pa), d->io + HMX_REG_STATUS_LO);
	if (ioread32(d->io + HMX_REG_STATUS_LO) != 1) {
		dev_warn(&d->pdev->dev,
			 "status word refused; using IRQ_STATUS\n");
		WRITE_ONCE(d->status_word, NULL);
		synchronize_irq(pci_irq_vector(d->pdev, 0));
		flush_work(&d->rx_work);
		kfree(word);
		hmx_core_kick(0);
	}
}

/* The device stops writing the word; free it once no worker can run. */
static u32 *hmxc_status_word_off(struct hmxc_dev *d)
{
	u32 *word = d->status_word;

	if (word) {
		iowrite32(0, d->io + HMX_REG_STATUS_HI);
		iowrite32(0, d->io + HMX_REG_STATUS_LO);
		WRITE_ONCE(d->status_word, NULL);
	}
	return word;
}

static int hmxc_dev_init(struct hmxc_dev *d, struct pci_dev *pdev)
{
	size_t slots = 2 * (size_t)nr_cpu_ids * sizeof(struct hmxc_slot);
	u32 version, domid;
	unsigned int i;

	BUILD_BUG_ON(sizeof(struct hmxc_slot) != 256);
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
	/* Below 4 GiB if possible: see hmxc_hcall.c. */
	d->slots = (struct hmxc_slot *)__get_free_pages(
		GFP_KERNEL | __GFP_ZERO | GFP_DMA32, d->slots_order);
	if (!d->slots)
		d->slots = (struct hmxc_slot *)__get_free_pages(
			GFP_KERNEL | __GFP_ZERO, d->slots_order);
	d->slots_low = d->slots &&
		       !upper_32_bits(virt_to_phys(d->slots) +
				      (PAGE_SIZE << d->slots_order) - 1);
	if (!d->slots)
		return -ENOMEM;
	d->wq = alloc_ordered_workqueue("hmx_core", WQ_MEM_RECLAIM);
	if (!d->wq) {
		free_pages((unsigned long)d->slots, d->slots_order);
		return -ENOMEM;
	}
	INIT_WORK(&d->rx_work, hmxc_rx_work);
	mutex_init(&d->ring_mutex);
	spin_lock_init(&d->ref_lock);
	for (i = 0; i < ARRAY_SIZE(d->ring_hash); i++)
		INIT_HLIST_HEAD(&d->ring_hash[i]);
	INIT_LIST_HEAD(&d->rings);
	return 0;
}

static void hmxc_dev_fini(struct hmxc_dev *d)
{
	destroy_workqueue(d->wq);
	free_pages((unsigned long)d->slots, d->slots_order);
}

static int hmxc_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct hmxc_dev *d;
	int ret;

	if (hmxc) {
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
	ret = pcim_iomap_regions(pdev, BIT(0), "hmx_core");
	if (ret)
		return ret;
	d->io = pcim_iomap_table(pdev)[0];
	ret = hmxc_dev_init(d, pdev);
	if (ret)
		return ret;
	pci_set_master(pdev);
	ret = pci_alloc_irq_vectors(pdev, 1, 1, PCI_IRQ_MSIX);
	if (ret < 0)
		goto err_fini;
	ioread32(d->io + HMX_REG_IRQ_STATUS); /* drop stale reasons */
	ret = request_irq(pci_irq_vector(pdev, 0), hmxc_irq, 0, "hmx_core", d);
	if (ret)
		goto err_vectors;
	pci_set_drvdata(pdev, d);
	WRITE_ONCE(hmxc, d);
	hmxc_status_word_init(d);
	dev_info(&pdev->dev, "HMX controller, domid %u%s\n", d->domid,
		 d->status_word ? ", status word" : "");
	return 0;

err_vectors:
	pci_free_irq_vectors(pdev);
err_fini:
	hmxc_dev_fini(d);
	return ret;
}

/*
 * Only on module unload (unbinding is suppressed): every client module
 * holds a reference to this one, so none is left.
 */
static void hmxc_remove(struct pci_dev *pdev)
{
	struct hmxc_dev *d = pci_get_drvdata(pdev);
	u32 *word = hmxc_status_word_off(d);

	free_irq(pci_irq_vector(pdev, 0), d);
	pci_free_irq_vectors(pdev);
	flush_workqueue(d->wq);
	kfree(word);
	hmxc_rings_retire();
	hmxc_rings_destroy_all();
	hmxc_dev_fini(d);
	WRITE_ONCE(hmxc, NULL);
}

static const struct pci_device_id hmxc_ids[] = {
	{ PCI_DEVICE(HMX_PCI_VENDOR_ID, HMX_PCI_DEVICE_ID) },
	{}
};
MODULE_DEVICE_TABLE(pci, hmxc_ids);

static struct pci_driver hmxc_driver = {
	.name = "hmx_core",
	.id_table = hmxc_ids,
	.probe = hmxc_probe,
	.remove = hmxc_remove,
	.driver.suppress_bind_attrs = true,
};
module_pci_driver(hmxc_driver);

MODULE_DESCRIPTION("Bulkhead HMX controller: rings and hypercalls for clients");
MODULE_LICENSE("GPL");
