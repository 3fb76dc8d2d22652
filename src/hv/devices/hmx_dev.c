// SPDX-License-Identifier: GPL-2.0-only
#include "hv/devices/hmx_dev.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "hmx/core.h"
#include "hv/devices/pci.h"
#include "hv/devices/pci_msix.h"
#include "hv/memory.h"
#include "hv/vcpu.h"
#include "util/bytes.h"

struct hmx_dev {
	struct device dev;
	struct hmx_host *hmx;
	struct pci_device *pci;
	atomic_uint irq_status; /* HMX_IRQ_* raised and not yet read */
	/*
	 * The guest's status word, once registered: bits are ORed into it
	 * instead, and only its 0 -> non-zero edge raises the vector.
	 */
	_Atomic(atomic_uint *) status_word;
	atomic_uint status_hi; /* latched HMX_REG_STATUS_HI */
	bool domain_added;
	/* The doorbell's high half, latched per vCPU: no lock needed. */
	uint32_t call_hi[];
};

static void *hmx_dev_translate(void *opaque, uint64_t gpa, uint64_t len)
{
	const struct dev_platform *plat = opaque;

	return guest_mem_ptr(plat->mem, gpa, len);
}

/* Runs on whichever thread's operation raised it: any VM's vCPU. */
static void hmx_dev_signal(void *opaque, uint32_t bits)
{
	struct hmx_dev *dev = opaque;
	atomic_uint *word = atomic_load(&dev->status_word);

	/*
	 * A non-zero word means an interrupt is on its way or the guest is
	 * draining (HMX_STATUS_BUSY) and will see these bits before it stops:
	 * only the guest itself can lose by lying about the word.
	 */
	if (word) {
		if (!atomic_fetch_or(word, bits))
			pci_msix_notify(dev->pci, 0);
		return;
	}
	atomic_fetch_or(&dev->irq_status, bits);
	pci_msix_notify(dev->pci, 0);
}

/*
 * The guest names its status word; 0, or a word that is not 4-byte
 * aligned RAM, means back to IRQ_STATUS. Bits pending in the register
 * move into the word, with an interrupt.
 */
static void hmx_dev_set_status_word(struct hmx_dev *dev, uint64_t gpa)
{
	atomic_uint *word = NULL;
	uint32_t bits;

	if (gpa && gpa % sizeof(uint32_t) == 0)
		word = guest_mem_ptr(dev->dev.plat->mem, gpa, sizeof(*word));
	atomic_store(&dev->status_word, word);
	bits = atomic_exchange(&dev->irq_status, 0);
	if (bits)
		hmx_dev_signal(dev, bits);
}

static uint32_t hmx_dev_read(struct hmx_dev *dev, uint64_t offset)
{
	switch (offset) {
	case HMX_REG_IRQ_STATUS:
		return atomic_exchange(&dev->irq_status, 0);
	case HMX_REG_DOMID:
		return dev->dev.plat->domid;
	case HMX_REG_ABI_VERSION:
		return HMX_ABI_VERSION;
	case HMX_REG_FEATURES:
		return HMX_FEATURE_STATUS_WORD;
	case HMX_REG_STATUS_LO:
		return atomic_load(&dev->status_word) != NULL;
	}
	return 0xffffffff;
}

static void hmx_dev_write(struct hmx_dev *dev, struct vcpu *vcpu,
			  uint64_t offset, uint32_t value)
{
	unsigned int cpu = vcpu ? vcpu_index(vcpu) : 0;
	uint64_t gpa;

	if (cpu >= dev->dev.plat->nvcpus)
		return;
	switch (offset) {
	case HMX_REG_CALL_HI:
		dev->call_hi[cpu] = value;
		break;
	case HMX_REG_CALL_LO:
		/* The latch is per vCPU: another vCPU's call cannot mix in. */
		gpa = (uint64_t)dev->call_hi[cpu] << 32 | value;
		dev->call_hi[cpu] = 0;
		/* Errors land in the block; a bad block is the guest's loss. */
		hmx_call(dev->hmx, dev->dev.plat->domid, gpa);
		break;
	case HMX_REG_STATUS_HI:
		atomic_store(&dev->status_hi, value);
		break;
	case HMX_REG_STATUS_LO:
		gpa = (uint64_t)atomic_exchange(&dev->status_hi, 0) << 32 |
		      value;
		hmx_dev_set_status_word(dev, gpa);
		break;
	}
}

static void hmx_dev_io(void *opaque, struct vcpu *vcpu, uint64_t offset,
		       uint8_t *data, unsigned int size, bool is_write)
{
	struct hmx_dev *dev = opaque;

	/* Registers are 32 bits wide and 32-bit aligned; nothing else works. */
	if (size != 4 || offset % 4) {
		if (!is_write)
			memset(data, 0xff, size);
		return;
	}
	if (is_write)
		hmx_dev_write(dev, vcpu, offset, get_le32(data));
	else
		put_le32(data, hmx_dev_read(dev, offset));
}

static void hmx_dev_reset(struct device *d)
{
	struct hmx_dev *dev = container_of(d, struct hmx_dev, dev);

	/* Rings and waits live in the core and go with the domain. */
	atomic_store(&dev->irq_status, 0);
	atomic_store(&dev->status_word, NULL);
	atomic_store(&dev->status_hi, 0);
	memset(dev->call_hi, 0, d->plat->nvcpus * sizeof(dev->call_hi[0]));
}

static void hmx_dev_destroy(struct device *d)
{
	struct hmx_dev *dev = container_of(d, struct hmx_dev, dev);

	if (dev->domain_added)
		hmx_domain_remove(dev->hmx, d->plat->domid);
	free(dev);
}

const struct device_ops hmx_dev_ops = {
	.name = "hmx",
	.reset = hmx_dev_reset,
	.destroy = hmx_dev_destroy,
};

struct device *hmx_dev_create(const struct dev_platform *plat,
			      struct hmx_host *hmx)
{
	static const struct pci_ids ids = {
		.vendor = HMX_PCI_VENDOR_ID,
		.device = HMX_PCI_DEVICE_ID,
		.class_code = HMX_PCI_CLASS,
		.revision = HMX_PCI_REVISION,
		.subsystem_vendor = HMX_PCI_VENDOR_ID,
		.subsystem = HMX_PCI_DEVICE_ID,
	};
	struct hmx_domain_config cfg = {
		.domid = plat->domid,
		.translate = hmx_dev_translate,
		.translate_opaque = (void *)plat,
		.signal = hmx_dev_signal,
	};
	struct hmx_dev *dev;

	dev = calloc(1, sizeof(*dev) + plat->nvcpus * sizeof(dev->call_hi[0]));
	if (!dev)
		return NULL;
	device_init(&dev->dev, &hmx_dev_ops, plat);
	dev->hmx = hmx;
	dev->pci = pci_device_add(plat->pci, "hmx", &ids);
	if (!dev->pci ||
	    pci_device_add_bar(dev->pci, 0, PCI_BAR_IO, false, HMX_IO_BAR_SIZE,
			       hmx_dev_io, dev) < 0 ||
	    pci_device_add_msix(dev->pci, 1, HMX_MSIX_VECTORS,
				HMX_MSIX_PBA_OFFSET) < 0) {
		free(dev);
		return NULL;
	}
	cfg.signal_opaque = dev;
	if (hmx_domain_add(hmx, &cfg) < 0) {
		free(dev);
		return NULL;
	}
	dev->domain_added = true;
	return &dev->dev;
}
