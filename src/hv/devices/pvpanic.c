// SPDX-License-Identifier: GPL-2.0-only
#include "hv/devices/pvpanic.h"

#include <stdlib.h>
#include <string.h>

#include "hv/devices/pci.h"

#define PVPANIC_PANICKED 0x01
#define PVPANIC_CRASH_LOADED 0x02

struct pvpanic {
	struct device dev;
};

static void pvpanic_io(void *opaque, struct vcpu *vcpu, uint64_t offset,
		       uint8_t *data, unsigned int size, bool is_write)
{
	struct pvpanic *pp = opaque;
	const struct dev_platform *plat = pp->dev.plat;

	if (!is_write) {
		memset(data, 0, size);
		if (offset == 0)
			data[0] = PVPANIC_PANICKED | PVPANIC_CRASH_LOADED;
		return;
	}
	if (offset != 0)
		return;
	if (data[0] & PVPANIC_PANICKED) {
		plat->ops->log_vcpu(plat->vm, vcpu,
				    "guest kernel panic (pvpanic)");
		dev_request_stop(plat, VM_STOP_CRASH, "guest kernel panic");
	} else if (data[0] & PVPANIC_CRASH_LOADED) {
		/* The guest is about to run its kdump kernel: let it. */
		plat->ops->log_vcpu(plat->vm, vcpu,
				    "guest kernel panic, crash kernel loaded");
	}
}

static void pvpanic_destroy(struct device *dev)
{
	/* Its PCI function and BAR go with the bus. */
	free(container_of(dev, struct pvpanic, dev));
}

const struct device_ops pvpanic_ops = {
	.name = "pvpanic",
	.destroy = pvpanic_destroy,
};

struct device *pvpanic_create(const struct dev_platform *plat)
{
	static const struct pci_ids ids = {
		.vendor = 0x1b36,
		.device = 0x0011,
		.class_code = 0x088000,
		.revision = 1,
	};
	struct pvpanic *pp = calloc(1, sizeof(*pp));
	struct pci_device *pci;

	if (!pp)
		return NULL;
	device_init(&pp->dev, &pvpanic_ops, plat);
	pci = pci_device_add(plat->pci, "pvpanic", &ids);
	if (!pci || pci_device_add_bar(pci, 0, PCI_BAR_MEM32, false, 16,
				       pvpanic_io, pp) < 0) {
		free(pp);
		return NULL;
	}
	return &pp->dev;
}
