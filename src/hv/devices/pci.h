/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * PCI bus 0 behind configuration mechanism #1 (ports 0xcf8-0xcff), with a
 * host bridge at 00.0. BARs are assigned here, as firmware would, from an
 * I/O window, a 32-bit memory window below the IOAPIC and a 64-bit memory
 * window above RAM, and follow the guest if it moves them. Each device has
 * a real capability list, optional config-space hooks, and signals with
 * MSI-X only (pci_msix.c).
 */
#ifndef BH_HV_DEVICES_PCI_H
#define BH_HV_DEVICES_PCI_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "hv/devices/device.h"
#include "hv/devices/iobus.h"

#define PCI_SLOTS 32
#define PCI_BARS 6
#define PCI_CFG_SIZE 256
#define PCI_CAP_FIRST 0x40

/* Capability IDs. */
#define PCI_CAP_ID_VNDR 0x09
#define PCI_CAP_ID_MSIX 0x11

struct pci_bus;
struct pci_msix;
struct pci_device;

enum pci_bar_kind {
	PCI_BAR_NONE,
	PCI_BAR_IO,
	PCI_BAR_MEM32,
	PCI_BAR_MEM64, /* takes the next BAR register for its high half */
};

struct pci_bar {
	enum pci_bar_kind kind;
	bool prefetchable;
	uint64_t size; /* a power of two */
	io_handler_fn fn;
	void *opaque;
	uint64_t assigned; /* where firmware (we) put it */
	uint64_t mapped_at;
	bool mapped;
};

/*
 * Per-device config-space hooks, all called with the bus lock held (lock
 * order: bus, then the device's own locks).
 */
struct pci_device_hooks {
	/* After the guest wrote size bytes at reg, already masked in. */
	void (*cfg_write)(void *opaque, struct pci_device *dev,
			  unsigned int reg, unsigned int size);
	/* After size bytes at reg were read into data; may replace them. */
	void (*cfg_read)(void *opaque, struct pci_device *dev, unsigned int reg,
			 uint8_t *data, unsigned int size);
	/* A BAR's decoded address changed; 0 means it is not decoded now. */
	void (*bar_moved)(void *opaque, struct pci_device *dev,
			  unsigned int bar, uint64_t old_addr,
			  uint64_t new_addr);
};

struct pci_device {
	struct pci_bus *bus;
	unsigned int slot;
	const char *name;
	uint8_t cfg[PCI_CFG_SIZE];
	uint8_t wmask[PCI_CFG_SIZE]; /* bits the guest may change */
	struct pci_bar bar[PCI_BARS];
	unsigned int cap_next; /* where the next capability goes */
	unsigned int cap_last; /* offset of the last one's next pointer */
	struct pci_msix *msix;
	const struct pci_device_hooks *hooks;
	void *hooks_opaque;
};

struct pci_ids {
	uint16_t vendor;
	uint16_t device;
	uint32_t class_code; /* base class, subclass, prog-if */
	uint8_t revision;
	uint16_t subsystem_vendor;
	uint16_t subsystem;
};

extern const struct device_ops pci_bus_ops;

/* The bus and its host bridge; the 64-bit window is above high_ram. */
struct pci_bus *pci_bus_create(const struct dev_platform *plat,
			       uint64_t high_ram);
struct device *pci_bus_device(struct pci_bus *bus);
const struct dev_platform *pci_bus_platform(const struct pci_bus *bus);

/* Adds a device at the next free slot; NULL if the bus is full. */
struct pci_device *pci_device_add(struct pci_bus *bus, const char *name,
				  const struct pci_ids *ids);

/* Takes a function off the bus (its BARs, MSI-X state and slot). */
void pci_device_remove(struct pci_device *dev);

void pci_device_set_hooks(struct pci_device *dev,
			  const struct pci_device_hooks *hooks, void *opaque);

/*
 * Gives the device a BAR of size bytes served by fn; a MEM64 BAR also
 * takes register index + 1. Returns 0 or -1.
 */
int pci_device_add_bar(struct pci_device *dev, unsigned int index,
		       enum pci_bar_kind kind, bool prefetchable, uint64_t size,
		       io_handler_fn fn, void *opaque);
/*
 * Appends a capability of len bytes (ID and next pointer included) to the
 * list; the caller fills in dev->cfg and dev->wmask past the first two
 * bytes before the guest runs. Returns its config-space offset, or -1 if
 * it does not fit.
 */
int pci_cap_add(struct pci_device *dev, uint8_t id, unsigned int len);

/*
 * Runs a BAR's handler as if the guest had accessed it (the virtio PCI
 * configuration access capability). Bus lock held.
 */
void pci_device_bar_access(struct pci_device *dev, unsigned int index,
			   uint64_t offset, uint8_t *data, unsigned int size,
			   bool is_write);

#endif
