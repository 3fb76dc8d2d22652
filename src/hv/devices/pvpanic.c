// SPDX-License-Identifier: GPL-2.0-only
#include "hv/devices/pvpanic.h"

#include <string.h>

#include "hv/devices/pci.h"
#include "hv/vcpu.h"
#include "hv/vm.h"

#define PVPANIC_PANICKED 0x01
#define PVPANIC_CRASH_LOADED 0x02

static void pvpanic_io(void *opaque, struct vcpu *vcpu, uint64_t offset,
		       uint8_t *data, unsigned int size, bool is_write)
{
	struct vm *vm = opaque;

	if (!is_write) {
		memset(data, 0, size);
		if (offset == 0)
			data[0] = PVPANIC_PANICKED | PVPANIC_CRASH_LOADED;
		return;
	}
	if (offset != 0)
		return;
	if (data[0] & PVPANIC_PANICKED) {
		vcpu_log_state(vcpu, "guest kernel panic (pvpanic)");
		vm_request_stop(vm, VM_STOP_CRASH, "guest kernel panic");
	} else if (data[0] & PVPANIC_CRASH_LOADED) {
		/* The guest is about to run its kdump kernel: let it. */
		vcpu_log_state(vcpu, "guest kernel panic, crash kernel loaded");
	}
}

int pvpanic_add(struct vm *vm, struct pci_bus *bus)
{
	static const struct pci_ids ids = {
		.vendor = 0x1b36,
		.device = 0x0011,
		.class_code = 0x088000,
		.revision = 1,
	};
	struct pci_device *dev = pci_device_add(bus, "pvpanic", &ids);

	if (!dev)
		return -1;
	return pci_device_add_bar(dev, 0, PCI_BAR_MEM32, 16, pvpanic_io, vm);
}
