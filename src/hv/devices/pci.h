/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * PCI bus 0 behind configuration mechanism #1 (ports 0xcf8-0xcff), with a
 * host bridge at 00.0. BARs are assigned here, as firmware would, and
 * follow the guest if it moves them. Devices signal with MSI-X only.
 */
#ifndef BH_HV_DEVICES_PCI_H
#define BH_HV_DEVICES_PCI_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "hv/devices/iobus.h"

#define PCI_SLOTS 32
#define PCI_BARS 6
#define PCI_CFG_SIZE 256

struct vm;
struct pci_bus;

enum pci_bar_kind {
	PCI_BAR_NONE,
	PCI_BAR_IO,
	PCI_BAR_MEM32,
};

struct pci_bar {
	enum pci_bar_kind kind;
	uint32_t size; /* a power of two */
	io_handler_fn fn;
	void *opaque;
	uint64_t mapped_at;
	bool mapped;
};

struct pci_msix;

struct pci_device {
	struct pci_bus *bus;
	unsigned int slot;
	const char *name;
	uint8_t cfg[PCI_CFG_SIZE];
	uint8_t wmask[PCI_CFG_SIZE]; /* bits the guest may change */
	struct pci_bar bar[PCI_BARS];
	struct pci_msix *msix;
};

struct pci_ids {
	uint16_t vendor;
	uint16_t device;
	uint32_t class_code; /* base class, subclass, prog-if */
	uint8_t revision;
	uint16_t subsystem_vendor;
	uint16_t subsystem;
};

struct pci_bus *pci_bus_create(struct vm *vm);
void pci_bus_destroy(struct pci_bus *bus);

/* Adds a device at the next free slot; NULL if the bus is full. */
struct pci_device *pci_device_add(struct pci_bus *bus, const char *name,
				  const struct pci_ids *ids);

/* Gives the device a BAR of size bytes served by fn; returns 0 or -1. */
int pci_device_add_bar(struct pci_device *dev, unsigned int index,
		       enum pci_bar_kind kind, uint32_t size, io_handler_fn fn,
		       void *opaque);

/* Adds an MSI-X capability whose table and PBA fill memory BAR index. */
int pci_device_add_msix(struct pci_device *dev, unsigned int index,
			unsigned int nvectors, uint32_t pba_offset);

/* Raises MSI-X vector; held pending while masked or disabled. */
void pci_msix_notify(struct pci_device *dev, unsigned int vector);

#endif
