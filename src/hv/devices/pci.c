// SPDX-License-Identifier: GPL-2.0-only
#include "hv/devices/pci.h"

#include <stdlib.h>
#include <string.h>

#include "hv/vm.h"
#include "hv/x86/layout.h"
#include "util/bytes.h"
#include "util/log.h"

#define PORT_PCI_CONFIG_ADDRESS 0xcf8
#define PCI_CONFIG_ENABLE 0x80000000u

#define CFG_VENDOR 0x00
#define CFG_DEVICE 0x02
#define CFG_COMMAND 0x04
#define CFG_STATUS 0x06
#define CFG_REVISION 0x08
#define CFG_CLASS 0x09
#define CFG_HEADER_TYPE 0x0e
#define CFG_BAR0 0x10
#define CFG_SUBSYSTEM_VENDOR 0x2c
#define CFG_SUBSYSTEM 0x2e
#define CFG_CAPABILITIES 0x34
#define CFG_INTERRUPT_LINE 0x3c

#define CMD_IO 0x0001
#define CMD_MEMORY 0x0002
#define CMD_MASTER 0x0004
#define CMD_INTX_DISABLE 0x0400
#define STATUS_CAP_LIST 0x0010

#define BAR_IO_FLAG 0x1

#define CAP_ID_MSIX 0x11
#define MSIX_CAP_OFFSET 0x40
#define MSIX_CTRL_ENABLE 0x8000
#define MSIX_CTRL_MASKALL 0x4000
#define MSIX_ENTRY_SIZE 16
#define MSIX_ENTRY_MASKED 0x1
#define MSIX_MAX_VECTORS 64

struct pci_msix {
	pthread_mutex_t lock;
	unsigned int nvectors;
	uint32_t pba_offset;
	bool enabled;
	bool masked_all;
	uint8_t table[MSIX_MAX_VECTORS * MSIX_ENTRY_SIZE];
	uint64_t pending;
	struct pci_device *dev;
};

struct pci_bus {
	struct vm *vm;
	pthread_mutex_t lock; /* config space of every device, BAR moves */
	uint32_t config_address;
	struct pci_device *dev[PCI_SLOTS];
	uint32_t next_io;
	uint32_t next_mmio;
};

static void pci_config_io(void *opaque, struct vcpu *vcpu, uint64_t offset,
			  uint8_t *data, unsigned int size, bool is_write);

struct pci_bus *pci_bus_create(struct vm *vm)
{
	static const struct pci_ids host_bridge = {
		.vendor = 0x1b36, /* Red Hat: "generic PCIe host bridge" */
		.device = 0x0008,
		.class_code = 0x060000,
	};
	struct pci_bus *bus = calloc(1, sizeof(*bus));

	if (!bus)
		return NULL;
	bus->vm = vm;
	pthread_mutex_init(&bus->lock, NULL);
	bus->next_io = PORT_PCI_IO;
	bus->next_mmio = LAYOUT_PCI_MMIO;
	if (io_bus_register(&vm->pio, PORT_PCI_CONFIG_ADDRESS, 8, pci_config_io,
			    bus, "pci-config") < 0 ||
	    !pci_device_add(bus, "host-bridge", &host_bridge)) {
		pci_bus_destroy(bus);
		return NULL;
	}
	return bus;
}

static void msix_destroy(struct pci_msix *msix)
{
	if (!msix)
		return;
	pthread_mutex_destroy(&msix->lock);
	free(msix);
}

void pci_bus_destroy(struct pci_bus *bus)
{
	unsigned int i;

	if (!bus)
		return;
	for (i = 0; i < PCI_SLOTS; i++) {
		if (bus->dev[i])
			msix_destroy(bus->dev[i]->msix);
		free(bus->dev[i]);
	}
	pthread_mutex_destroy(&bus->lock);
	free(bus);
}

struct pci_device *pci_device_add(struct pci_bus *bus, const char *name,
				  const struct pci_ids *ids)
{
	struct pci_device *dev;
	unsigned int slot;

	for (slot = 0; slot < PCI_SLOTS && bus->dev[slot]; slot++)
		;
	if (slot == PCI_SLOTS)
		return NULL;
	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return NULL;
	dev->bus = bus;
	dev->slot = slot;
	dev->name = name;
	put_le16(dev->cfg + CFG_VENDOR, ids->vendor);
	put_le16(dev->cfg + CFG_DEVICE, ids->device);
	dev->cfg[CFG_REVISION] = ids->revision;
	dev->cfg[CFG_CLASS] = ids->class_code & 0xff;
	put_le16(dev->cfg + CFG_CLASS + 1, (uint16_t)(ids->class_code >> 8));
	put_le16(dev->cfg + CFG_SUBSYSTEM_VENDOR, ids->subsystem_vendor);
	put_le16(dev->cfg + CFG_SUBSYSTEM, ids->subsystem);
	dev->cfg[CFG_HEADER_TYPE] = 0; /* single function, type 0 */
	dev->cfg[CFG_INTERRUPT_LINE] = 0xff; /* no INTx: pin stays 0 */
	/* Firmware would leave decoding enabled; so do we. */
	put_le16(dev->cfg + CFG_COMMAND, CMD_IO | CMD_MEMORY);
	put_le16(dev->wmask + CFG_COMMAND,
		 CMD_IO | CMD_MEMORY | CMD_MASTER | CMD_INTX_DISABLE);
	dev->wmask[CFG_INTERRUPT_LINE] = 0xff;
	bus->dev[slot] = dev;
	return dev;
}

/* The address a BAR's register holds now, 0 if it cannot be decoded. */
static uint64_t bar_decoded_address(const struct pci_device *dev,
				    unsigned int i)
{
	const struct pci_bar *bar = &dev->bar[i];
	uint16_t cmd = get_le16(dev->cfg + CFG_COMMAND);
	uint32_t reg = get_le32(dev->cfg + CFG_BAR0 + 4 * i);
	uint64_t addr;

	if (bar->kind == PCI_BAR_IO) {
		addr = reg & ~(uint32_t)0x3;
		if (!(cmd & CMD_IO) || addr < 0x1000 ||
		    addr + bar->size > PORT_PCI_IO_END)
			return 0;
	} else {
		addr = reg & ~(uint32_t)0xf;
		if (!(cmd & CMD_MEMORY) || addr < LAYOUT_PCI_MMIO ||
		    addr + bar->size > LAYOUT_PCI_MMIO_END)
			return 0;
	}
	return addr;
}

/* Makes each BAR's bus registration match its register; bus lock held. */
static void pci_device_sync_bars(struct pci_device *dev)
{
	struct vm *vm = dev->bus->vm;
	unsigned int i;

	for (i = 0; i < PCI_BARS; i++) {
		struct pci_bar *bar = &dev->bar[i];
		struct io_bus *iob = bar->kind == PCI_BAR_IO ? &vm->pio :
							       &vm->mmio;
		uint64_t want;

		if (bar->kind == PCI_BAR_NONE)
			continue;
		want = bar_decoded_address(dev, i);
		if (bar->mapped && bar->mapped_at == want)
			continue;
		if (bar->mapped) {
			io_bus_unregister(iob, bar->mapped_at, bar->opaque);
			bar->mapped = false;
		}
		if (!want)
			continue;
		if (io_bus_register(iob, want, bar->size, bar->fn, bar->opaque,
				    dev->name) < 0) {
			bh_debug(
				"vm %s: %s BAR%u at 0x%llx overlaps another region; not decoded",
				vm->name, dev->name, i,
				(unsigned long long)want);
			continue;
		}
		bar->mapped = true;
		bar->mapped_at = want;
	}
}

int pci_device_add_bar(struct pci_device *dev, unsigned int index,
		       enum pci_bar_kind kind, uint32_t size, io_handler_fn fn,
		       void *opaque)
{
	struct pci_bus *bus = dev->bus;
	struct pci_bar *bar;
	uint32_t *next, addr, mask;
	int ret = 0;

	if (index >= PCI_BARS || kind == PCI_BAR_NONE || !size ||
	    (size & (size - 1)) || (kind == PCI_BAR_IO && size < 4) ||
	    (kind == PCI_BAR_MEM32 && size < 16))
		return -1;
	pthread_mutex_lock(&bus->lock);
	bar = &dev->bar[index];
	next = kind == PCI_BAR_IO ? &bus->next_io : &bus->next_mmio;
	addr = (*next + size - 1) & ~(size - 1);
	if (bar->kind != PCI_BAR_NONE ||
	    (kind == PCI_BAR_IO ?
		     addr + size > PORT_PCI_IO_END :
		     addr + (uint64_t)size > LAYOUT_PCI_MMIO_END)) {
		ret = -1;
		goto out;
	}
	*next = addr + size;
	*bar = (struct pci_bar){
		.kind = kind, .size = size, .fn = fn, .opaque = opaque
	};
	mask = ~(size - 1);
	put_le32(dev->cfg + CFG_BAR0 + 4 * index,
		 addr | (kind == PCI_BAR_IO ? BAR_IO_FLAG : 0));
	put_le32(dev->wmask + CFG_BAR0 + 4 * index, mask);
	pci_device_sync_bars(dev);
out:
	pthread_mutex_unlock(&bus->lock);
	return ret;
}

static void msix_deliver(struct pci_msix *msix, unsigned int v)
{
	const uint8_t *e = msix->table + v * MSIX_ENTRY_SIZE;
	uint64_t addr = get_le64(e);
	uint32_t data = get_le32(e + 8);

	vm_signal_msi(msix->dev->bus->vm, addr, data);
}

/* Delivers what became deliverable; msix lock held. */
static void msix_flush_pending(struct pci_msix *msix)
{
	unsigned int v;

	if (!msix->enabled || msix->masked_all)
		return;
	for (v = 0; v < msix->nvectors; v++) {
		const uint8_t *e = msix->table + v * MSIX_ENTRY_SIZE;

		if ((msix->pending & (1ull << v)) &&
		    !(get_le32(e + 12) & MSIX_ENTRY_MASKED)) {
			msix->pending &= ~(1ull << v);
			msix_deliver(msix, v);
		}
	}
}

void pci_msix_notify(struct pci_device *dev, unsigned int vector)
{
	struct pci_msix *msix = dev->msix;

	if (!msix || vector >= msix->nvectors)
		return;
	pthread_mutex_lock(&msix->lock);
	msix->pending |= 1ull << vector;
	msix_flush_pending(msix);
	pthread_mutex_unlock(&msix->lock);
}

/* The MSI-X table and PBA, as an io_handler_fn. */
static void msix_bar_io(void *opaque, struct vcpu *vcpu, uint64_t offset,
			uint8_t *data, unsigned int size, bool is_write)
{
	struct pci_msix *msix = opaque;
	uint64_t table_len = (uint64_t)msix->nvectors * MSIX_ENTRY_SIZE;
	unsigned int i;

	(void)vcpu;
	pthread_mutex_lock(&msix->lock);
	for (i = 0; i < size; i++) {
		uint64_t off = offset + i;

		if (off < table_len) {
			if (is_write)
				msix->table[off] = data[i];
			else
				data[i] = msix->table[off];
		} else if (!is_write && off >= msix->pba_offset &&
			   off < msix->pba_offset + 8) {
			data[i] = (uint8_t)(msix->pending >>
					    (8 * (off - msix->pba_offset)));
		} else if (!is_write) {
			data[i] = 0;
		}
	}
	if (is_write)
		msix_flush_pending(msix);
	pthread_mutex_unlock(&msix->lock);
}

int pci_device_add_msix(struct pci_device *dev, unsigned int index,
			unsigned int nvectors, uint32_t pba_offset)
{
	struct pci_msix *msix;
	uint8_t *cap = dev->cfg + MSIX_CAP_OFFSET;
	unsigned int v;
	uint32_t size = 4096;

	if (dev->msix || !nvectors || nvectors > MSIX_MAX_VECTORS ||
	    pba_offset < nvectors * MSIX_ENTRY_SIZE || pba_offset + 8 > size)
		return -1;
	msix = calloc(1, sizeof(*msix));
	if (!msix)
		return -1;
	pthread_mutex_init(&msix->lock, NULL);
	msix->nvectors = nvectors;
	msix->pba_offset = pba_offset;
	msix->dev = dev;
	for (v = 0; v < nvectors; v++)
		put_le32(msix->table + v * MSIX_ENTRY_SIZE + 12,
			 MSIX_ENTRY_MASKED);
	if (pci_device_add_bar(dev, index, PCI_BAR_MEM32, size, msix_bar_io,
			       msix) < 0) {
		msix_destroy(msix);
		return -1;
	}
	pthread_mutex_lock(&dev->bus->lock);
	dev->msix = msix;
	cap[0] = CAP_ID_MSIX;
	cap[1] = 0; /* end of the capability list */
	put_le16(cap + 2, (uint16_t)(nvectors - 1));
	put_le32(cap + 4, index); /* table at offset 0 of the BAR */
	put_le32(cap + 8, pba_offset | index);
	put_le16(dev->wmask + MSIX_CAP_OFFSET + 2,
		 MSIX_CTRL_ENABLE | MSIX_CTRL_MASKALL);
	dev->cfg[CFG_CAPABILITIES] = MSIX_CAP_OFFSET;
	put_le16(dev->cfg + CFG_STATUS, STATUS_CAP_LIST);
	pthread_mutex_unlock(&dev->bus->lock);
	return 0;
}

static void pci_cfg_write(struct pci_device *dev, unsigned int reg,
			  const uint8_t *data, unsigned int size)
{
	bool bars_changed = false, msix_changed = false;
	unsigned int i;

	for (i = 0; i < size && reg + i < PCI_CFG_SIZE; i++) {
		unsigned int off = reg + i;
		uint8_t m = dev->wmask[off];

		dev->cfg[off] = (dev->cfg[off] & ~m) | (data[i] & m);
		if (off == CFG_COMMAND ||
		    (off >= CFG_BAR0 && off < CFG_BAR0 + 24))
			bars_changed = true;
		if (dev->msix && off >= MSIX_CAP_OFFSET + 2 &&
		    off < MSIX_CAP_OFFSET + 4)
			msix_changed = true;
	}
	if (bars_changed)
		pci_device_sync_bars(dev);
	if (msix_changed) {
		uint16_t ctrl = get_le16(dev->cfg + MSIX_CAP_OFFSET + 2);

		pthread_mutex_lock(&dev->msix->lock);
		dev->msix->enabled = ctrl & MSIX_CTRL_ENABLE;
		dev->msix->masked_all = ctrl & MSIX_CTRL_MASKALL;
		msix_flush_pending(dev->msix);
		pthread_mutex_unlock(&dev->msix->lock);
	}
}

static void pci_config_io(void *opaque, struct vcpu *vcpu, uint64_t offset,
			  uint8_t *data, unsigned int size, bool is_write)
{
	struct pci_bus *bus = opaque;
	struct pci_device *dev = NULL;
	unsigned int reg, devfn;
	uint32_t addr;

	(void)vcpu;
	pthread_mutex_lock(&bus->lock);
	if (offset < 4) {
		/* Only whole-dword accesses reach the address register. */
		if (offset == 0 && size == 4) {
			if (is_write)
				bus->config_address = get_le32(data);
			else
				put_le32(data, bus->config_address);
		} else if (!is_write) {
			memset(data, 0xff, size);
		}
		goto out;
	}
	addr = bus->config_address;
	reg = (addr & 0xfc) + (unsigned int)(offset - 4);
	devfn = (addr >> 8) & 0xff;
	if ((addr & PCI_CONFIG_ENABLE) && !((addr >> 16) & 0xff) &&
	    !(devfn & 7))
		dev = bus->dev[devfn >> 3];
	if (!dev) {
		if (!is_write)
			memset(data, 0xff, size);
		goto out;
	}
	if (is_write) {
		pci_cfg_write(dev, reg, data, size);
	} else {
		unsigned int i;

		for (i = 0; i < size; i++)
			data[i] = reg + i < PCI_CFG_SIZE ? dev->cfg[reg + i] :
							   0xff;
	}
out:
	pthread_mutex_unlock(&bus->lock);
}
