// SPDX-License-Identifier: GPL-2.0-only
#include "hv/devices/hmx_dev.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "hmx/core.h"
#include "hv/devices/pci.h"
#include "hv/memory.h"
#include "hv/vcpu.h"
#include "hv/vm.h"
#include "util/bytes.h"

struct hmx_dev {
	struct vm *vm;
	struct hmx_host *hmx;
	struct pci_device *pci;
	atomic_uint irq_status; /* HMX_IRQ_* raised and not yet read */
	bool domain_added;
};

static void *hmx_dev_translate(void *opaque, uint64_t gpa, uint64_t len)
{
	struct vm *vm = opaque;

	return guest_mem_ptr(&vm->mem, gpa, len);
}

/* Runs on whichever thread's operation raised it: any VM's vCPU. */
static void hmx_dev_signal(void *opaque, uint32_t bits)
{
	struct hmx_dev *dev = opaque;

	atomic_fetch_or(&dev->irq_status, bits);
	pci_msix_notify(dev->pci, 0);
}

static uint32_t hmx_dev_read(struct hmx_dev *dev, uint64_t offset)
{
	switch (offset) {
	case HMX_REG_IRQ_STATUS:
		return atomic_exchange(&dev->irq_status, 0);
	case HMX_REG_DOMID:
		return dev->vm->domid;
	case HMX_REG_ABI_VERSION:
		return HMX_ABI_VERSION;
	}
	return 0xffffffff;
}

static void hmx_dev_write(struct hmx_dev *dev, struct vcpu *vcpu,
			  uint64_t offset, uint32_t value)
{
	uint64_t gpa;

	switch (offset) {
	case HMX_REG_CALL_HI:
		vcpu->hmx_call_hi = value;
		break;
	case HMX_REG_CALL_LO:
		/* The latch is per vCPU: another vCPU's call cannot mix in. */
		gpa = (uint64_t)vcpu->hmx_call_hi << 32 | value;
		vcpu->hmx_call_hi = 0;
		/* Errors land in the block; a bad block is the guest's loss. */
		hmx_call(dev->hmx, dev->vm->domid, gpa);
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

struct hmx_dev *hmx_dev_add(struct vm *vm, struct pci_bus *bus,
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
		.domid = vm->domid,
		.translate = hmx_dev_translate,
		.translate_opaque = vm,
		.signal = hmx_dev_signal,
	};
	struct hmx_dev *dev = calloc(1, sizeof(*dev));

	if (!dev)
		return NULL;
	dev->vm = vm;
	dev->hmx = hmx;
	dev->pci = pci_device_add(bus, "hmx", &ids);
	if (!dev->pci ||
	    pci_device_add_bar(dev->pci, 0, PCI_BAR_IO, HMX_IO_BAR_SIZE,
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
	return dev;
}

void hmx_dev_destroy(struct hmx_dev *dev)
{
	if (!dev)
		return;
	if (dev->domain_added)
		hmx_domain_remove(dev->hmx, dev->vm->domid);
	free(dev);
}
