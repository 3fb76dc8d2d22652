/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The one device interface of a VM. A device is built from a platform
 * context, the only view of its VM it gets: the buses it decodes on, its
 * interrupt lines and MSIs, KVM's eventfd fast paths, a way to stop the
 * VM, the event loop that serves host-side descriptors, and the VM's
 * name. It sits on the VM's device list with an ops table (name, reset,
 * destroy); the VM holds no pointer to any particular device. Unit tests
 * build devices on a fake platform.
 */
#ifndef BH_HV_DEVICES_DEVICE_H
#define BH_HV_DEVICES_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv/vm_stop.h"

struct vcpu;
struct io_bus;
struct pci_bus;
struct event_loop;
struct guest_mem;

struct dev_platform_ops {
	/* Sets a platform interrupt line (IOAPIC pin / PIC IRQ). */
	void (*irq_line)(void *vm, unsigned int irq, int level);
	/* Injects one MSI now. */
	int (*signal_msi)(void *vm, uint64_t addr, uint32_t data);
	void (*request_stop)(void *vm, enum vm_stop_reason reason,
			     const char *detail);
	/* True once a stop was requested: long waits give up then. */
	bool (*stopping)(void *vm);
	/* Logs why and vcpu's registers (vcpu is the accessing one). */
	void (*log_vcpu)(void *vm, struct vcpu *vcpu, const char *why);
	/*
	 * KVM fast paths, so that a device model's data path never exits to
	 * the hypervisor: guest writes of any size to MMIO address addr
	 * signal fd; signals on fd inject MSI route gsi.
	 */
	int (*ioeventfd)(void *vm, uint64_t addr, int fd, bool assign);
	/* Allocates (gsi < 0) or updates an MSI route; returns its gsi or -1. */
	int (*msi_route)(void *vm, int gsi, uint64_t addr, uint32_t data);
	void (*msi_route_free)(void *vm, int gsi);
	int (*irqfd)(void *vm, int fd, int gsi, bool assign);
};

struct dev_platform {
	const struct dev_platform_ops *ops;
	void *vm; /* the ops' first argument; opaque to devices */
	const char *vm_name;
	uint16_t domid;
	unsigned int nvcpus;
	struct io_bus *pio;
	struct io_bus *mmio;
	struct pci_bus *pci; /* NULL until the bus exists */
	struct event_loop *loop; /* NULL: no host-side descriptors served */
	struct guest_mem *mem; /* for devices that DMA: translate, check */
};

struct device;

struct device_ops {
	const char *name;
	/* Puts the device back in its power-on state; NULL if it has none. */
	void (*reset)(struct device *dev);
	/* Frees the device; its VM's vCPUs have stopped, RAM is still there. */
	void (*destroy)(struct device *dev);
};

/* Embedded in each device's own structure. */
struct device {
	const struct device_ops *ops;
	const struct dev_platform *plat;
	struct device *next;
};

/* The VM's devices, newest first: destroyed newest first. */
struct device_list {
	struct device *head;
};

void device_init(struct device *dev, const struct device_ops *ops,
		 const struct dev_platform *plat);
void device_list_add(struct device_list *list, struct device *dev);
/* The most recently added device with these ops, or NULL. */
struct device *device_list_find(const struct device_list *list,
				const struct device_ops *ops);
void device_list_reset(struct device_list *list);
/* Destroys every device, newest first; the list is empty afterwards. */
void device_list_destroy(struct device_list *list);

static inline void dev_irq_line(const struct dev_platform *p, unsigned int irq,
				int level)
{
	p->ops->irq_line(p->vm, irq, level);
}

static inline void dev_request_stop(const struct dev_platform *p,
				    enum vm_stop_reason reason,
				    const char *detail)
{
	p->ops->request_stop(p->vm, reason, detail);
}

#define container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr)-offsetof(type, member)))

#endif
