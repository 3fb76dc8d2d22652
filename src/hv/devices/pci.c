// SPDX-License-Identifier: GPL-2.0-only
#include "hv/devices/pci.h"

#include <stdlib.h>
#include <string.h>

#include "hv/devices/pci_msix.h"
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
#define BAR_MEM64_FLAG 0x4
#define BAR_PREFETCH_FLAG 0x8

struct pci_bus {
	struct device dev;
	pthread_mutex_t lock; /* config space of every device, BAR moves */
	uint32_t config_address;
	struct pci_device *slot[PCI_SLOTS];
	uint64_t next_io;
	uint64_t next_mmio;
	uint64_t mmio64_base;
	uint64_t next_mmio64;
};

static void pci_config_io(void *opaque, struct vcpu *vcpu, uint64_t offset,
			  uint8_t *data, unsigned int size, bool is_write);

static struct pci_bus *pci_bus_of(struct device *dev)
{
	return container_of(dev, struct pci_bus, dev);
}

const struct dev_platform *pci_bus_platform(const struct pci_bus *bus)
{
	return bus->dev.plat;
}

/* The address a BAR's registers hold now, 0 if it cannot be decoded. */
static uint64_t bar_decoded_address(const struct pci_device *dev,
				    unsigned int i)
{
	const struct pci_bar *bar = &dev->bar[i];
	const struct pci_bus *bus = dev->bus;
	uint16_t cmd = get_le16(dev->cfg + CFG_COMMAND);
	uint64_t reg = get_le32(dev->cfg + CFG_BAR0 + 4 * i), addr;

	if (bar->kind == PCI_BAR_IO) {
		addr = reg & ~(uint64_t)0x3;
		if (!(cmd & CMD_IO) || addr < 0x1000 ||
		    addr + bar->size > PORT_PCI_IO_END)
			return 0;
		return addr;
	}
	if (bar->kind == PCI_BAR_MEM64)
		reg |= (uint64_t)get_le32(dev->cfg + CFG_BAR0 + 4 * (i + 1))
		       << 32;
	addr = reg & ~(uint64_t)0xf;
	if (!(cmd & CMD_MEMORY))
		return 0;
	/* Only inside a window the host bridge forwards to us. */
	if (addr >= LAYOUT_PCI_MMIO && addr + bar->size <= LAYOUT_PCI_MMIO_END)
		return addr;
	if (bar->kind == PCI_BAR_MEM64 && addr >= bus->mmio64_base &&
	    addr + bar->size <= bus->mmio64_base + LAYOUT_PCI_MMIO64_SIZE)
		return addr;
	return 0;
}

/* Makes each BAR's bus registration match its registers; bus lock held. */
static void pci_device_sync_bars(struct pci_device *dev)
{
	const struct dev_platform *plat = dev->bus->dev.plat;
	unsigned int i;

	for (i = 0; i < PCI_BARS; i++) {
		struct pci_bar *bar = &dev->bar[i];
		struct io_bus *iob = bar->kind == PCI_BAR_IO ? plat->pio :
							       plat->mmio;
		uint64_t want, old;

		if (bar->kind == PCI_BAR_NONE)
			continue;
		want = bar_decoded_address(dev, i);
		old = bar->mapped ? bar->mapped_at : 0;
		if (old == want)
			continue;
		if (bar->mapped) {
			io_bus_unregister(iob, bar->mapped_at, bar->opaque);
			bar->mapped = false;
		}
		if (want && io_bus_register(iob, want, bar->size, bar->fn,
					    bar->opaque, dev->name) < 0) {
			bh_debug(
				"vm %s: %s BAR%u at 0x%llx overlaps another region; not decoded",
				plat->vm_name, dev->name, i,
				(unsigned long long)want);
			want = 0;
		}
		if (want) {
			bar->mapped = true;
			bar->mapped_at = want;
		}
		if (old != want && dev->hooks && dev->hooks->bar_moved)
			dev->hooks->bar_moved(dev->hooks_opaque, dev, i, old,
					      want);
	}
}

/* Writes a BAR's assigned address and its write mask; bus lock held. */
static void bar_program(struct pci_device *dev, unsigned int i)
{
	const struct pci_bar *bar = &dev->bar[i];
	uint8_t *reg = dev->cfg + CFG_BAR0 + 4 * i;
	uint64_t mask = ~(bar->size - 1);
	uint32_t flags = 0;

	if (bar->kind == PCI_BAR_IO)
		flags = BAR_IO_FLAG;
	if (bar->kind == PCI_BAR_MEM64)
		flags = BAR_MEM64_FLAG;
	if (bar->prefetchable)
		flags |= BAR_PREFETCH_FLAG;
	put_le32(reg, (uint32_t)bar->assigned | flags);
	put_le32(dev->wmask + CFG_BAR0 + 4 * i,
		 (uint32_t)mask & (bar->kind == PCI_BAR_IO ? ~0x3u : ~0xfu));
	if (bar->kind == PCI_BAR_MEM64) {
		put_le32(reg + 4, (uint32_t)(bar->assigned >> 32));
		put_le32(dev->wmask + CFG_BAR0 + 4 * (i + 1),
			 (uint32_t)(mask >> 32));
	}
}

/* Firmware state: decoding on, BARs where we put them. Bus lock held. */
static void pci_device_power_on(struct pci_device *dev)
{
	put_le16(dev->cfg + CFG_COMMAND, CMD_IO | CMD_MEMORY);
	dev->cfg[CFG_INTERRUPT_LINE] = 0xff; /* no INTx: pin stays 0 */
	for (unsigned int i = 0; i < PCI_BARS; i++)
		if (dev->bar[i].kind != PCI_BAR_NONE)
			bar_program(dev, i);
	pci_device_sync_bars(dev);
	if (dev->msix)
		pci_msix_reset(dev);
}

static void pci_bus_reset(struct device *d)
{
	struct pci_bus *bus = pci_bus_of(d);

	pthread_mutex_lock(&bus->lock);
	bus->config_address = 0;
	for (unsigned int i = 0; i < PCI_SLOTS; i++)
		if (bus->slot[i])
			pci_device_power_on(bus->slot[i]);
	pthread_mutex_unlock(&bus->lock);
}

/* Unmaps, frees and forgets a function; bus lock held. */
static void pci_device_free(struct pci_device *dev)
{
	const struct dev_platform *plat = dev->bus->dev.plat;

	for (unsigned int b = 0; b < PCI_BARS; b++) {
		const struct pci_bar *bar = &dev->bar[b];

		if (bar->mapped)
			io_bus_unregister(bar->kind == PCI_BAR_IO ? plat->pio :
								    plat->mmio,
					  bar->mapped_at, bar->opaque);
	}
	pci_msix_destroy(dev);
	dev->bus->slot[dev->slot] = NULL;
	free(dev);
}

void pci_device_remove(struct pci_device *dev)
{
	struct pci_bus *bus = dev->bus;

	pthread_mutex_lock(&bus->lock);
	pci_device_free(dev);
	pthread_mutex_unlock(&bus->lock);
}

static void pci_bus_destroy(struct device *d)
{
	struct pci_bus *bus = pci_bus_of(d);

	io_bus_unregister(d->plat->pio, PORT_PCI_CONFIG_ADDRESS, bus);
	for (unsigned int i = 0; i < PCI_SLOTS; i++)
		if (bus->slot[i])
			pci_device_free(bus->slot[i]);
	pthread_mutex_destroy(&bus->lock);
	free(bus);
}

const struct device_ops pci_bus_ops = {
	.name = "pci-bus",
	.reset = pci_bus_reset,
	.destroy = pci_bus_destroy,
};

struct pci_bus *pci_bus_create(const struct dev_platform *plat,
			       uint64_t high_ram)
{
	static const struct pci_ids host_bridge = {
		.vendor = 0x1b36, /* Red Hat: "generic PCIe host bridge" */
		.device = 0x0008,
		.class_code = 0x060000,
	};
	struct pci_bus *bus = calloc(1, sizeof(*bus));

	if (!bus)
		return NULL;
	device_init(&bus->dev, &pci_bus_ops, plat);
	pthread_mutex_init(&bus->lock, NULL);
	bus->next_io = PORT_PCI_IO;
	bus->next_mmio = LAYOUT_PCI_MMIO;
	bus->mmio64_base = LAYOUT_PCI_MMIO64(high_ram);
	bus->next_mmio64 = bus->mmio64_base;
	if (io_bus_register(plat->pio, PORT_PCI_CONFIG_ADDRESS, 8,
			    pci_config_io, bus, "pci-config") < 0) {
		pthread_mutex_destroy(&bus->lock);
		free(bus);
		return NULL;
	}
	if (!pci_device_add(bus, "host-bridge", &host_bridge)) {
		pci_bus_destroy(&bus->dev);
		return NULL;
	}
	return bus;
}

struct device *pci_bus_device(struct pci_bus *bus)
{
	return &bus->dev;
}

struct pci_device *pci_device_add(struct pci_bus *bus, const char *name,
				  const struct pci_ids *ids)
{
	struct pci_device *dev;
	unsigned int slot;

	pthread_mutex_lock(&bus->lock);
	for (slot = 0; slot < PCI_SLOTS && bus->slot[slot]; slot++)
		;
	dev = slot < PCI_SLOTS ? calloc(1, sizeof(*dev)) : NULL;
	if (!dev)
		goto out;
	dev->bus = bus;
	dev->slot = slot;
	dev->name = name;
	dev->cap_next = PCI_CAP_FIRST;
	dev->cap_last = CFG_CAPABILITIES;
	put_le16(dev->cfg + CFG_VENDOR, ids->vendor);
	put_le16(dev->cfg + CFG_DEVICE, ids->device);
	dev->cfg[CFG_REVISION] = ids->revision;
	dev->cfg[CFG_CLASS] = ids->class_code & 0xff;
	put_le16(dev->cfg + CFG_CLASS + 1, (uint16_t)(ids->class_code >> 8));
	put_le16(dev->cfg + CFG_SUBSYSTEM_VENDOR, ids->subsystem_vendor);
	put_le16(dev->cfg + CFG_SUBSYSTEM, ids->subsystem);
	dev->cfg[CFG_HEADER_TYPE] = 0; /* single function, type 0 */
	put_le16(dev->wmask + CFG_COMMAND,
		 CMD_IO | CMD_MEMORY | CMD_MASTER | CMD_INTX_DISABLE);
	dev->wmask[CFG_INTERRUPT_LINE] = 0xff;
	/* Firmware would leave decoding enabled; so do we. */
	pci_device_power_on(dev);
	bus->slot[slot] = dev;
out:
	pthread_mutex_unlock(&bus->lock);
	return dev;
}

void pci_device_set_hooks(struct pci_device *dev,
			  const struct pci_device_hooks *hooks, void *opaque)
{
	pthread_mutex_lock(&dev->bus->lock);
	dev->hooks = hooks;
	dev->hooks_opaque = opaque;
	pthread_mutex_unlock(&dev->bus->lock);
}

/* Next aligned address in a window, or 0 if size does not fit. */
static uint64_t window_take(uint64_t *next, uint64_t end, uint64_t size)
{
	uint64_t addr = (*next + size - 1) & ~(size - 1);

	if (addr < *next || addr + size > end || addr + size < addr)
		return 0;
	*next = addr + size;
	return addr;
}

static bool bar_args_ok(const struct pci_device *dev, unsigned int index,
			enum pci_bar_kind kind, bool prefetchable,
			uint64_t size)
{
	unsigned int regs = kind == PCI_BAR_MEM64 ? 2 : 1;

	if (index + regs > PCI_BARS || !size || (size & (size - 1)))
		return false;
	for (unsigned int i = index; i < index + regs; i++)
		if (dev->bar[i].kind != PCI_BAR_NONE)
			return false;
	if (index && dev->bar[index - 1].kind == PCI_BAR_MEM64)
		return false; /* the previous BAR's high half */
	switch (kind) {
	case PCI_BAR_IO:
		return !prefetchable && size >= 4 && size <= 256;
	case PCI_BAR_MEM32:
		return size >= 16 && size <= (1ull << 30);
	case PCI_BAR_MEM64:
		return size >= 16 && size <= LAYOUT_PCI_MMIO64_SIZE / 4;
	case PCI_BAR_NONE:
		break;
	}
	return false;
}

int pci_device_add_bar(struct pci_device *dev, unsigned int index,
		       enum pci_bar_kind kind, bool prefetchable, uint64_t size,
		       io_handler_fn fn, void *opaque)
{
	struct pci_bus *bus = dev->bus;
	struct pci_bar *bar;
	uint64_t addr;
	int ret = -1;

	pthread_mutex_lock(&bus->lock);
	if (!bar_args_ok(dev, index, kind, prefetchable, size))
		goto out;
	if (kind == PCI_BAR_IO)
		addr = window_take(&bus->next_io, PORT_PCI_IO_END, size);
	else if (kind == PCI_BAR_MEM32)
		addr = window_take(&bus->next_mmio, LAYOUT_PCI_MMIO_END, size);
	else
		addr = window_take(&bus->next_mmio64,
				   bus->mmio64_base + LAYOUT_PCI_MMIO64_SIZE,
				   size);
	if (!addr)
		goto out;
	bar = &dev->bar[index];
	*bar = (struct pci_bar){ .kind = kind,
				 .prefetchable = prefetchable,
				 .size = size,
				 .fn = fn,
				 .opaque = opaque,
				 .assigned = addr };
	bar_program(dev, index);
	pci_device_sync_bars(dev);
	ret = 0;
out:
	pthread_mutex_unlock(&bus->lock);
	return ret;
}

int pci_cap_add(struct pci_device *dev, uint8_t id, unsigned int len)
{
	unsigned int at;
	int ret = -1;

	pthread_mutex_lock(&dev->bus->lock);
	at = dev->cap_next;
	if (len < 2 || at + len > PCI_CFG_SIZE)
		goto out;
	dev->cfg[at] = id;
	dev->cfg[at + 1] = 0; /* end of the list, for now */
	dev->cfg[dev->cap_last] = (uint8_t)at;
	dev->cap_last = at + 1;
	dev->cap_next = (at + len + 3) & ~3u;
	put_le16(dev->cfg + CFG_STATUS,
		 get_le16(dev->cfg + CFG_STATUS) | STATUS_CAP_LIST);
	ret = (int)at;
out:
	pthread_mutex_unlock(&dev->bus->lock);
	return ret;
}

void pci_device_bar_access(struct pci_device *dev, unsigned int index,
			   uint64_t offset, uint8_t *data, unsigned int size,
			   bool is_write)
{
	const struct pci_bar *bar;

	if (index >= PCI_BARS || dev->bar[index].kind == PCI_BAR_NONE ||
	    offset >= dev->bar[index].size ||
	    size > dev->bar[index].size - offset) {
		if (!is_write)
			memset(data, 0xff, size);
		return;
	}
	bar = &dev->bar[index];
	bar->fn(bar->opaque, NULL, offset, data, size, is_write);
}

static void pci_cfg_write(struct pci_device *dev, unsigned int reg,
			  const uint8_t *data, unsigned int size)
{
	bool bars_changed = false, msix_changed = false;
	int msix_ctrl = -1;
	unsigned int i;

	if (dev->msix)
		msix_ctrl = pci_msix_control_offset(dev);
	for (i = 0; i < size && reg + i < PCI_CFG_SIZE; i++) {
		unsigned int off = reg + i;
		uint8_t m = dev->wmask[off];

		dev->cfg[off] = (dev->cfg[off] & ~m) | (data[i] & m);
		if (off == CFG_COMMAND ||
		    (off >= CFG_BAR0 && off < CFG_BAR0 + 4 * PCI_BARS))
			bars_changed = true;
		if (msix_ctrl >= 0 && off >= (unsigned int)msix_ctrl &&
		    off < (unsigned int)msix_ctrl + 2)
			msix_changed = true;
	}
	if (bars_changed)
		pci_device_sync_bars(dev);
	if (msix_changed)
		pci_msix_control_written(dev);
	if (dev->hooks && dev->hooks->cfg_write)
		dev->hooks->cfg_write(dev->hooks_opaque, dev, reg, size);
}

static void pci_cfg_read(struct pci_device *dev, unsigned int reg,
			 uint8_t *data, unsigned int size)
{
	for (unsigned int i = 0; i < size; i++)
		data[i] = reg + i < PCI_CFG_SIZE ? dev->cfg[reg + i] : 0xff;
	if (dev->hooks && dev->hooks->cfg_read)
		dev->hooks->cfg_read(dev->hooks_opaque, dev, reg, data, size);
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
		dev = bus->slot[devfn >> 3];
	if (!dev) {
		if (!is_write)
			memset(data, 0xff, size);
		goto out;
	}
	if (is_write)
		pci_cfg_write(dev, reg, data, size);
	else
		pci_cfg_read(dev, reg, data, size);
out:
	pthread_mutex_unlock(&bus->lock);
}
