// SPDX-License-Identifier: GPL-2.0-only
/*
 * The hypervisor's devices on a fake platform: real I/O buses and event
 * loop, and platform ops that record what a device asked of its VM
 * (interrupt lines, MSIs, stops, KVM irqfds and routes) instead of
 * reaching KVM. The guest is played by accesses through the buses.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <bulkhead/hmx.h>

#include "hmx/core.h"
#include "hv/devices/acpi_pm.h"
#include "hv/devices/device.h"
#include "hv/devices/hmx_dev.h"
#include "hv/devices/i8042.h"
#include "hv/devices/iobus.h"
#include "hv/devices/pci.h"
#include "hv/devices/pci_msix.h"
#include "hv/devices/pvpanic.h"
#include "hv/devices/serial.h"
#include "hv/event_loop.h"
#include "hv/irq_routing.h"
#include "hv/memory.h"
#include "hv/vcpu.h"
#include "hv/x86/layout.h"
#include "util/bytes.h"

#define MAX_MSIS 32

struct fake {
	struct dev_platform plat;
	struct io_bus pio, mmio;
	struct event_loop *loop;
	struct device_list devices;
	int irq_level[24];
	unsigned int irq_changes;
	struct {
		uint64_t addr;
		uint32_t data;
	} msi[MAX_MSIS];
	unsigned int nmsi;
	enum vm_stop_reason stop;
	char stop_detail[128];
	unsigned int logged;
	int irqfd_gsi[64]; /* by fd: the gsi assigned, or -1 */
	struct {
		bool used;
		uint64_t addr;
		uint32_t data;
	} route[16];
	uint8_t tx[256];
	size_t ntx;
};

static void f_irq_line(void *vm, unsigned int irq, int level)
{
	struct fake *f = vm;

	assert_true(irq < 24);
	f->irq_level[irq] = level;
	f->irq_changes++;
}

static int f_signal_msi(void *vm, uint64_t addr, uint32_t data)
{
	struct fake *f = vm;

	assert_true(f->nmsi < MAX_MSIS);
	f->msi[f->nmsi].addr = addr;
	f->msi[f->nmsi].data = data;
	f->nmsi++;
	return 0;
}

static void f_request_stop(void *vm, enum vm_stop_reason reason,
			   const char *detail)
{
	struct fake *f = vm;

	if (f->stop == VM_STOP_NONE) {
		f->stop = reason;
		snprintf(f->stop_detail, sizeof(f->stop_detail), "%s", detail);
	}
}

static bool f_stopping(void *vm)
{
	return ((struct fake *)vm)->stop != VM_STOP_NONE;
}

static void f_log_vcpu(void *vm, struct vcpu *vcpu, const char *why)
{
	struct fake *f = vm;

	(void)vcpu;
	(void)why;
	f->logged++;
}

static int f_ioeventfd(void *vm, uint64_t addr, int fd, bool assign)
{
	(void)vm;
	(void)addr;
	(void)fd;
	(void)assign;
	return 0;
}

static int f_msi_route(void *vm, int gsi, uint64_t addr, uint32_t data)
{
	struct fake *f = vm;
	int i = gsi < 0 ? 0 : gsi - 100;

	if (gsi < 0)
		while (i < 16 && f->route[i].used)
			i++;
	assert_true(i >= 0 && i < 16);
	f->route[i].used = true;
	f->route[i].addr = addr;
	f->route[i].data = data;
	return 100 + i;
}

static void f_msi_route_free(void *vm, int gsi)
{
	struct fake *f = vm;

	f->route[gsi - 100].used = false;
}

static int f_irqfd(void *vm, int fd, int gsi, bool assign)
{
	struct fake *f = vm;

	assert_true(fd >= 0 && fd < 64);
	if (assign) {
		assert_int_equal(f->irqfd_gsi[fd], -1);
		assert_true(f->route[gsi - 100].used);
		f->irqfd_gsi[fd] = gsi;
	} else {
		assert_int_equal(f->irqfd_gsi[fd], gsi);
		f->irqfd_gsi[fd] = -1;
	}
	return 0;
}

static const struct dev_platform_ops fake_ops = {
	.irq_line = f_irq_line,
	.signal_msi = f_signal_msi,
	.request_stop = f_request_stop,
	.stopping = f_stopping,
	.log_vcpu = f_log_vcpu,
	.ioeventfd = f_ioeventfd,
	.msi_route = f_msi_route,
	.msi_route_free = f_msi_route_free,
	.irqfd = f_irqfd,
};

static int setup(void **state)
{
	struct fake *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	io_bus_init(&f->pio, "pio");
	io_bus_init(&f->mmio, "mmio");
	f->loop = event_loop_create();
	assert_non_null(f->loop);
	for (int i = 0; i < 64; i++)
		f->irqfd_gsi[i] = -1;
	f->plat = (struct dev_platform){
		.ops = &fake_ops,
		.vm = f,
		.vm_name = "test",
		.domid = 5,
		.nvcpus = 2,
		.pio = &f->pio,
		.mmio = &f->mmio,
		.loop = f->loop,
	};
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fake *f = *state;

	device_list_destroy(&f->devices);
	/* Every device gave its regions back. */
	assert_int_equal(f->pio.n, 0);
	assert_int_equal(f->mmio.n, 0);
	io_bus_destroy(&f->pio);
	io_bus_destroy(&f->mmio);
	event_loop_destroy(f->loop);
	free(f);
	return 0;
}

static void outb(struct fake *f, uint16_t port, uint8_t v)
{
	assert_true(io_bus_dispatch(&f->pio, NULL, port, &v, 1, true));
}

static uint8_t inb(struct fake *f, uint16_t port)
{
	uint8_t v = 0;

	assert_true(io_bus_dispatch(&f->pio, NULL, port, &v, 1, false));
	return v;
}

static void outl(struct fake *f, uint16_t port, uint32_t v)
{
	uint8_t b[4];

	put_le32(b, v);
	assert_true(io_bus_dispatch(&f->pio, NULL, port, b, 4, true));
}

static uint32_t inl(struct fake *f, uint16_t port)
{
	uint8_t b[4];

	assert_true(io_bus_dispatch(&f->pio, NULL, port, b, 4, false));
	return get_le32(b);
}

static void mmio_write32(struct fake *f, uint64_t addr, uint32_t v)
{
	uint8_t b[4];

	put_le32(b, v);
	assert_true(io_bus_dispatch(&f->mmio, NULL, addr, b, 4, true));
}

static uint32_t mmio_read32(struct fake *f, uint64_t addr)
{
	uint8_t b[4];

	assert_true(io_bus_dispatch(&f->mmio, NULL, addr, b, 4, false));
	return get_le32(b);
}

/* ---- device list ---- */

static unsigned int destroyed_order[4], ndestroyed;

static void order_destroy(struct device *dev)
{
	destroyed_order[ndestroyed++] = (unsigned int)(uintptr_t)dev->plat;
	free(dev);
}

static const struct device_ops order_ops = { .name = "order",
					     .destroy = order_destroy };
static const struct device_ops other_ops = { .name = "other",
					     .destroy = order_destroy };

static void test_device_list_order(void **state)
{
	struct device_list list = { 0 };

	(void)state;
	ndestroyed = 0;
	for (uintptr_t i = 1; i <= 3; i++) {
		struct device *d = calloc(1, sizeof(*d));

		device_init(d, i == 2 ? &other_ops : &order_ops,
			    (const struct dev_platform *)i);
		device_list_add(&list, d);
	}
	assert_ptr_equal(device_list_find(&list, &order_ops)->plat,
			 (const void *)3);
	assert_ptr_equal(device_list_find(&list, &other_ops)->plat,
			 (const void *)2);
	device_list_destroy(&list);
	assert_null(list.head);
	/* Newest first: later devices may depend on earlier ones. */
	assert_int_equal(ndestroyed, 3);
	assert_int_equal(destroyed_order[0], 3);
	assert_int_equal(destroyed_order[1], 2);
	assert_int_equal(destroyed_order[2], 1);
}

/* ---- serial ---- */

static void serial_tx(void *opaque, const uint8_t *buf, size_t len)
{
	struct fake *f = opaque;

	memcpy(f->tx + f->ntx, buf, len);
	f->ntx += len;
}

static struct serial *add_serial(struct fake *f)
{
	struct serial *s =
		serial_create(&f->plat, PORT_SERIAL_COM1, 4, serial_tx, f);

	assert_non_null(s);
	device_list_add(&f->devices, serial_device(s));
	return s;
}

static void test_serial_tx_and_thri(void **state)
{
	struct fake *f = *state;

	add_serial(f);
	outb(f, 0x3f8 + 4, 0x08); /* MCR: OUT2 gates the interrupt */
	outb(f, 0x3f8, 'h');
	outb(f, 0x3f8, 'i');
	assert_int_equal(f->ntx, 2);
	assert_memory_equal(f->tx, "hi", 2);
	assert_int_equal(inb(f, 0x3f8 + 5) & 0x60, 0x60); /* THRE, TEMT */
	/* Enabling THRI with an empty THR interrupts at once. */
	outb(f, 0x3f8 + 1, 0x02);
	assert_int_equal(f->irq_level[4], 1);
	assert_int_equal(inb(f, 0x3f8 + 2) & 0x0f, 0x02); /* IIR: THRI */
	assert_int_equal(f->irq_level[4], 0); /* reading IIR acknowledged */
	/* A second serial cannot take the same ports. */
	assert_null(serial_create(&f->plat, PORT_SERIAL_COM1, 4, serial_tx, f));
}

static void test_serial_receive_and_reset(void **state)
{
	struct fake *f = *state;
	struct serial *s = add_serial(f);
	const uint8_t in[] = "ok";
	size_t room = serial_rx_room(s);

	outb(f, 0x3f8 + 4, 0x08);
	outb(f, 0x3f8 + 1, 0x01); /* RDI */
	assert_int_equal(serial_receive(s, in, 2), 2);
	assert_int_equal(serial_rx_room(s), room - 2);
	assert_int_equal(f->irq_level[4], 1);
	assert_int_equal(inb(f, 0x3f8 + 5) & 0x01, 0x01); /* DR */
	assert_int_equal(inb(f, 0x3f8), 'o');
	assert_int_equal(inb(f, 0x3f8), 'k');
	assert_int_equal(f->irq_level[4], 0);
	assert_int_equal(serial_receive(s, in, 1), 1);
	assert_int_equal(f->irq_level[4], 1);
	/* Reset: line down, queue empty, registers at power-on values. */
	device_list_reset(&f->devices);
	assert_int_equal(f->irq_level[4], 0);
	assert_int_equal(serial_rx_room(s), room);
	assert_int_equal(inb(f, 0x3f8 + 1), 0);
	assert_int_equal(inb(f, 0x3f8 + 4), 0);
	outb(f, 0x3f8 + 3, 0x80); /* DLAB */
	assert_int_equal(inb(f, 0x3f8), 12);
}

static void test_serial_loopback(void **state)
{
	struct fake *f = *state;

	add_serial(f);
	outb(f, 0x3f8 + 4, 0x10 | 0x02); /* LOOP, RTS */
	outb(f, 0x3f8, 'x');
	assert_int_equal(f->ntx, 0);
	assert_int_equal(inb(f, 0x3f8), 'x');
	assert_int_equal(inb(f, 0x3f8 + 6) & 0x10, 0x10); /* CTS from RTS */
}

/* ---- i8042 ---- */

static struct i8042 *add_i8042(struct fake *f)
{
	struct i8042 *kbc = i8042_create(&f->plat);

	assert_non_null(kbc);
	device_list_add(&f->devices, i8042_device(kbc));
	return kbc;
}

static void test_i8042_self_test_and_ctr(void **state)
{
	struct fake *f = *state;

	add_i8042(f);
	outb(f, 0x64, 0xaa);
	assert_int_equal(inb(f, 0x64) & 0x01, 0x01); /* OBF */
	assert_int_equal(inb(f, 0x60), 0x55);
	outb(f, 0x64, 0x20); /* read CTR */
	assert_int_equal(inb(f, 0x60), 0x01 | 0x04 | 0x20 | 0x40);
	outb(f, 0x64, 0x60); /* write CTR */
	outb(f, 0x60, 0x00);
	outb(f, 0x64, 0x20);
	assert_int_equal(inb(f, 0x60), 0x00);
	device_list_reset(&f->devices);
	outb(f, 0x64, 0x20);
	assert_int_equal(inb(f, 0x60), 0x01 | 0x04 | 0x20 | 0x40);
	assert_int_equal(f->stop, VM_STOP_NONE);
}

static void test_i8042_reset_line_reboots(void **state)
{
	struct fake *f = *state;

	add_i8042(f);
	outb(f, 0x64, 0xfe);
	assert_int_equal(f->stop, VM_STOP_REBOOT);
}

static void test_i8042_ctrl_alt_del(void **state)
{
	struct fake *f = *state;
	struct i8042 *kbc = add_i8042(f);
	const uint8_t want[] = {
		0x1d, 0x38, 0xe0, 0x53, 0xe0, 0xd3, 0xb8, 0x9d
	};

	i8042_send_ctrl_alt_del(kbc);
	assert_int_equal(f->irq_level[1], 1);
	for (size_t i = 0; i < sizeof(want); i++)
		assert_int_equal(inb(f, 0x60), want[i]);
	assert_int_equal(inb(f, 0x64) & 0x01, 0);
}

/* ---- ACPI PM ---- */

static void test_acpi_pm_poweroff_and_reset(void **state)
{
	struct fake *f = *state;
	struct acpi_pm *pm = acpi_pm_create(&f->plat);
	uint8_t cnt[2];

	assert_non_null(pm);
	device_list_add(&f->devices, acpi_pm_device(pm));
	assert_int_equal(inb(f, PORT_ACPI_PM1_CNT) & 1, 1); /* SCI_EN */
	/* SLP_TYP 4 is not \_S5: nothing happens. */
	put_le16(cnt, 0x2000 | 4 << 10);
	assert_true(io_bus_dispatch(&f->pio, NULL, PORT_ACPI_PM1_CNT, cnt, 2,
				    true));
	assert_int_equal(f->stop, VM_STOP_NONE);
	put_le16(cnt, 0x2000 | ACPI_S5_SLP_TYP << 10);
	assert_true(io_bus_dispatch(&f->pio, NULL, PORT_ACPI_PM1_CNT, cnt, 2,
				    true));
	assert_int_equal(f->stop, VM_STOP_POWEROFF);
	f->stop = VM_STOP_NONE;
	outb(f, PORT_ACPI_RESET, 0x01);
	assert_int_equal(f->stop, VM_STOP_NONE);
	outb(f, PORT_ACPI_RESET, ACPI_RESET_VALUE);
	assert_int_equal(f->stop, VM_STOP_REBOOT);
}

/* ---- PCI ---- */

static uint32_t cfg_read(struct fake *f, unsigned int slot, unsigned int reg)
{
	outl(f, 0xcf8, 0x80000000u | slot << 11 | reg);
	return inl(f, 0xcfc);
}

static void cfg_write(struct fake *f, unsigned int slot, unsigned int reg,
		      uint32_t v)
{
	outl(f, 0xcf8, 0x80000000u | slot << 11 | reg);
	outl(f, 0xcfc, v);
}

static struct pci_bus *add_bus(struct fake *f)
{
	struct pci_bus *bus = pci_bus_create(&f->plat, 0);

	assert_non_null(bus);
	device_list_add(&f->devices, pci_bus_device(bus));
	f->plat.pci = bus;
	return bus;
}

struct bar_log {
	unsigned int calls, bar;
	uint64_t old_addr, new_addr;
	unsigned int writes, last_reg;
};

static void hook_bar_moved(void *opaque, struct pci_device *dev,
			   unsigned int bar, uint64_t old_addr,
			   uint64_t new_addr)
{
	struct bar_log *log = opaque;

	(void)dev;
	log->calls++;
	log->bar = bar;
	log->old_addr = old_addr;
	log->new_addr = new_addr;
}

static void hook_cfg_write(void *opaque, struct pci_device *dev,
			   unsigned int reg, unsigned int size)
{
	struct bar_log *log = opaque;

	(void)dev;
	(void)size;
	log->writes++;
	log->last_reg = reg;
}

static void hook_cfg_read(void *opaque, struct pci_device *dev,
			  unsigned int reg, uint8_t *data, unsigned int size)
{
	(void)opaque;
	(void)dev;
	if (reg == 0x80 && size == 4)
		put_le32(data, 0xfeedf00d);
}

static const struct pci_device_hooks test_hooks = {
	.cfg_write = hook_cfg_write,
	.cfg_read = hook_cfg_read,
	.bar_moved = hook_bar_moved,
};

static uint64_t bar_hits;

static void bar_fn(void *opaque, struct vcpu *vcpu, uint64_t offset,
		   uint8_t *data, unsigned int size, bool is_write)
{
	(void)opaque;
	(void)vcpu;
	(void)offset;
	if (is_write)
		bar_hits++;
	else
		memset(data, 0xab, size);
}

static void test_pci_ids_and_absent_slots(void **state)
{
	struct fake *f = *state;
	const struct pci_ids ids = { .vendor = 0x1af4,
				     .device = 0x1042,
				     .class_code = 0x010000,
				     .revision = 1,
				     .subsystem_vendor = 0x1af4,
				     .subsystem = 0x0002 };

	add_bus(f);
	assert_int_equal(cfg_read(f, 0, 0), 0x00081b36); /* host bridge */
	assert_non_null(pci_device_add(f->plat.pci, "blk", &ids));
	assert_int_equal(cfg_read(f, 1, 0), 0x10421af4);
	assert_int_equal(cfg_read(f, 1, 8), 0x01000001);
	assert_int_equal(cfg_read(f, 1, 0x2c), 0x00021af4);
	assert_int_equal(cfg_read(f, 2, 0), 0xffffffff);
	/* Functions other than 0 and buses other than 0 are absent. */
	outl(f, 0xcf8, 0x80000000u | 1 << 11 | 1 << 8);
	assert_int_equal(inl(f, 0xcfc), 0xffffffff);
	outl(f, 0xcf8, 0x80000000u | 1 << 16 | 1 << 11);
	assert_int_equal(inl(f, 0xcfc), 0xffffffff);
}

static void test_pci_capability_list(void **state)
{
	struct fake *f = *state;
	const struct pci_ids ids = { .vendor = 0x1af4, .device = 0x1042 };
	struct pci_device *dev;
	unsigned int at, seen = 0;
	int vndr;

	add_bus(f);
	dev = pci_device_add(f->plat.pci, "caps", &ids);
	assert_non_null(dev);
	assert_int_equal(cfg_read(f, 1, 4) >> 16 & 0x10, 0); /* no list yet */
	vndr = pci_cap_add(dev, PCI_CAP_ID_VNDR, 16);
	assert_int_equal(vndr, PCI_CAP_FIRST);
	assert_int_equal(pci_device_add_msix(dev, 0, 4, 2048), 0);
	assert_int_equal(pci_cap_add(dev, PCI_CAP_ID_VNDR, 20), 0x5c);
	assert_int_equal(pci_cap_add(dev, PCI_CAP_ID_VNDR, 200), -1);
	assert_int_equal(cfg_read(f, 1, 4) >> 16 & 0x10, 0x10);
	/* Walk it as a driver does. */
	at = cfg_read(f, 1, 0x34) & 0xff;
	while (at) {
		uint32_t hdr = cfg_read(f, 1, at);

		assert_true(at >= 0x40 && at % 4 == 0);
		if (seen == 1) {
			assert_int_equal(hdr & 0xff, PCI_CAP_ID_MSIX);
			assert_int_equal(hdr >> 16 & 0x7ff, 3); /* 4 vectors */
		} else {
			assert_int_equal(hdr & 0xff, PCI_CAP_ID_VNDR);
		}
		seen++;
		at = hdr >> 8 & 0xff;
	}
	assert_int_equal(seen, 3);
}

static void test_pci_bar_sizing_and_moves(void **state)
{
	struct fake *f = *state;
	const struct pci_ids ids = { .vendor = 0x1af4, .device = 0x1042 };
	struct bar_log log = { 0 };
	struct pci_device *dev;
	uint32_t lo, hi;
	uint64_t at64;

	add_bus(f);
	dev = pci_device_add(f->plat.pci, "bars", &ids);
	pci_device_set_hooks(dev, &test_hooks, &log);
	assert_int_equal(pci_device_add_bar(dev, 0, PCI_BAR_IO, false, 64,
					    bar_fn, NULL),
			 0);
	assert_int_equal(pci_device_add_bar(dev, 1, PCI_BAR_MEM32, false, 4096,
					    bar_fn, NULL),
			 0);
	assert_int_equal(pci_device_add_bar(dev, 2, PCI_BAR_MEM64, true, 16384,
					    bar_fn, NULL),
			 0);
	/* BAR3 is BAR2's high half; bad sizes and kinds are refused. */
	assert_int_equal(pci_device_add_bar(dev, 3, PCI_BAR_MEM32, false, 4096,
					    bar_fn, NULL),
			 -1);
	assert_int_equal(pci_device_add_bar(dev, 4, PCI_BAR_MEM32, false, 3000,
					    bar_fn, NULL),
			 -1);
	assert_int_equal(pci_device_add_bar(dev, 5, PCI_BAR_MEM64, false, 4096,
					    bar_fn, NULL),
			 -1);
	assert_int_equal(log.calls, 3);

	lo = cfg_read(f, 1, 0x10);
	assert_int_equal(lo & 1, 1);
	assert_true((lo & ~3u) >= PORT_PCI_IO);
	lo = cfg_read(f, 1, 0x18);
	hi = cfg_read(f, 1, 0x1c);
	assert_int_equal(lo & 0xf, 0x4 | 0x8); /* 64-bit, prefetchable */
	at64 = (uint64_t)hi << 32 | (lo & ~0xfu);
	assert_int_equal(at64, LAYOUT_PCI_MMIO64(0));
	assert_int_equal(mmio_read32(f, at64 + 8), 0xabababab);

	/* Sizing: all ones reads back the size mask, flags kept. */
	cfg_write(f, 1, 0x18, 0xffffffff);
	cfg_write(f, 1, 0x1c, 0xffffffff);
	assert_int_equal(cfg_read(f, 1, 0x18), ~(16384u - 1) | 0xc);
	assert_int_equal(cfg_read(f, 1, 0x1c), 0xffffffff);
	/* Outside every window: not decoded, and the hook was told. */
	assert_int_equal(log.new_addr, 0);
	assert_false(io_bus_dispatch(&f->mmio, NULL, at64, (uint8_t[4]){ 0 }, 4,
				     false));
	/* Moved below 4 GiB, inside the 32-bit window: decoded there. */
	cfg_write(f, 1, 0x18, 0xd0000000);
	cfg_write(f, 1, 0x1c, 0);
	assert_int_equal(log.bar, 2);
	assert_int_equal(log.new_addr, 0xd0000000);
	mmio_write32(f, 0xd0000010, 1);
	assert_int_equal(bar_hits, 1);
	/* Memory decoding off unmaps every memory BAR. */
	cfg_write(f, 1, 0x04, 0x1);
	assert_false(io_bus_dispatch(&f->mmio, NULL, 0xd0000010,
				     (uint8_t[4]){ 0 }, 4, false));
	assert_int_equal(log.new_addr, 0);
	assert_true(log.writes > 0);
	assert_int_equal(log.last_reg, 0x04);
	/* A read hook sees and may replace what the guest reads. */
	assert_int_equal(cfg_read(f, 1, 0x80), 0xfeedf00d);
	/* Reset puts firmware's assignment back. */
	device_list_reset(&f->devices);
	assert_int_equal(cfg_read(f, 1, 0x1c), at64 >> 32);
	assert_int_equal(mmio_read32(f, at64), 0xabababab);
}

/* ---- MSI-X ---- */

static struct pci_device *msix_device(struct fake *f, uint64_t *table)
{
	const struct pci_ids ids = { .vendor = 0x1af4, .device = 0x1042 };
	struct pci_device *dev;

	add_bus(f);
	dev = pci_device_add(f->plat.pci, "msix", &ids);
	assert_int_equal(pci_device_add_msix(dev, 1, 4, 2048), 0);
	*table = cfg_read(f, 1, 0x14) & ~0xfu;
	return dev;
}

static void msix_enable(struct fake *f, bool maskall)
{
	int cap = PCI_CAP_FIRST;

	cfg_write(f, 1, (unsigned int)cap,
		  (0x8000u | (maskall ? 0x4000u : 0)) << 16);
}

static void msix_entry(struct fake *f, uint64_t table, unsigned int v,
		       uint32_t addr, uint32_t data, bool masked)
{
	mmio_write32(f, table + v * 16, addr);
	mmio_write32(f, table + v * 16 + 4, 0);
	mmio_write32(f, table + v * 16 + 8, data);
	mmio_write32(f, table + v * 16 + 12, masked);
}

static void test_msix_pending_and_delivery(void **state)
{
	struct fake *f = *state;
	uint64_t table;
	struct pci_device *dev = msix_device(f, &table);

	/* Disabled: held pending, visible in the PBA. */
	pci_msix_notify(dev, 2);
	assert_int_equal(f->nmsi, 0);
	assert_int_equal(mmio_read32(f, table + 2048), 1u << 2);
	msix_entry(f, table, 2, 0xfee00000, 0x4041, false);
	assert_int_equal(f->nmsi, 0);
	msix_enable(f, true);
	assert_int_equal(f->nmsi, 0); /* function masked */
	msix_enable(f, false);
	assert_int_equal(f->nmsi, 1);
	assert_int_equal(f->msi[0].addr, 0xfee00000);
	assert_int_equal(f->msi[0].data, 0x4041);
	assert_int_equal(mmio_read32(f, table + 2048), 0);
	/* A masked entry holds its vector until unmasked. */
	msix_entry(f, table, 1, 0xfee01000, 0x4042, true);
	pci_msix_notify(dev, 1);
	assert_int_equal(f->nmsi, 1);
	mmio_write32(f, table + 16 + 12, 0);
	assert_int_equal(f->nmsi, 2);
	assert_int_equal(f->msi[1].data, 0x4042);
	/* Out-of-range vectors are ignored. */
	pci_msix_notify(dev, 4);
	assert_int_equal(f->nmsi, 2);
}

static void test_msix_irqfd_follows_mask(void **state)
{
	struct fake *f = *state;
	uint64_t table, one = 1;
	struct pci_device *dev = msix_device(f, &table);
	int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

	assert_true(efd >= 0 && efd < 64);
	msix_entry(f, table, 0, 0xfee00000, 0x4051, false);
	msix_enable(f, false);
	assert_int_equal(pci_msix_bind_irqfd(dev, efd, 0), 0);
	/* Deliverable: a KVM irqfd on a route that matches the entry. */
	assert_true(f->irqfd_gsi[efd] >= 100);
	assert_int_equal(f->route[f->irqfd_gsi[efd] - 100].data, 0x4051);
	/* The guest retargets the vector: the route follows. */
	mmio_write32(f, table + 8, 0x4052);
	assert_int_equal(f->route[f->irqfd_gsi[efd] - 100].data, 0x4052);
	/* Masked: no irqfd; the hypervisor watches and holds it pending. */
	mmio_write32(f, table + 12, 1);
	assert_int_equal(f->irqfd_gsi[efd], -1);
	assert_int_equal(write(efd, &one, sizeof(one)), sizeof(one));
	assert_true(event_loop_run_once(f->loop, 1000) >= 1);
	assert_int_equal(f->nmsi, 0);
	assert_int_equal(mmio_read32(f, table + 2048), 1);
	/* Unmasked: the pending vector is delivered, the irqfd is back. */
	mmio_write32(f, table + 12, 0);
	assert_int_equal(f->nmsi, 1);
	assert_int_equal(f->msi[0].data, 0x4052);
	assert_true(f->irqfd_gsi[efd] >= 100);
	/* Rebinding to "no vector" takes the irqfd away. */
	assert_int_equal(pci_msix_bind_irqfd(dev, efd, -1), 0);
	assert_int_equal(f->irqfd_gsi[efd], -1);
	assert_int_equal(pci_msix_bind_irqfd(dev, efd, 7), -1);
	/* MSI-X off: the binding is watched again, not an irqfd. */
	assert_int_equal(pci_msix_bind_irqfd(dev, efd, 0), 0);
	assert_true(f->irqfd_gsi[efd] >= 0);
	cfg_write(f, 1, PCI_CAP_FIRST, 0);
	assert_int_equal(f->irqfd_gsi[efd], -1);
	device_list_destroy(&f->devices);
	/* Destroying the device freed its routes. */
	for (int i = 0; i < 16; i++)
		assert_false(f->route[i].used);
	close(efd);
}

/* ---- pvpanic ---- */

static void test_pvpanic_reports_a_crash(void **state)
{
	struct fake *f = *state;
	uint8_t b = 0x02;
	uint32_t bar;

	add_bus(f);
	device_list_add(&f->devices, pvpanic_create(&f->plat));
	assert_int_equal(cfg_read(f, 1, 0), 0x00111b36);
	bar = cfg_read(f, 1, 0x10) & ~0xfu;
	assert_true(io_bus_dispatch(&f->mmio, NULL, bar, &b, 1, false));
	assert_int_equal(b, 0x03);
	b = 0x02; /* crash kernel loaded: logged, not stopped */
	assert_true(io_bus_dispatch(&f->mmio, NULL, bar, &b, 1, true));
	assert_int_equal(f->stop, VM_STOP_NONE);
	assert_int_equal(f->logged, 1);
	b = 0x01;
	assert_true(io_bus_dispatch(&f->mmio, NULL, bar, &b, 1, true));
	assert_int_equal(f->stop, VM_STOP_CRASH);
	assert_string_equal(f->stop_detail, "guest kernel panic");
}

/* ---- HMX controller ---- */

static void hmx_write(struct fake *f, uint16_t port, struct vcpu *v,
		      uint32_t val)
{
	uint8_t b[4];

	put_le32(b, val);
	assert_true(io_bus_dispatch(&f->pio, v, port, b, 4, true));
}

static void test_hmx_dev_latch_is_per_vcpu(void **state)
{
	struct fake *f = *state;
	struct hmx_host *hmx;
	struct guest_mem mem = { .memfd = -1 };
	struct vcpu v0 = { .index = 0 }, v1 = { .index = 1 };
	struct hmx_call *call;
	uint16_t io;
	uint8_t *ram;

	ram = aligned_alloc(4096, 1 << 20);
	assert_non_null(ram);
	memset(ram, 0, 1 << 20);
	mem.host = ram;
	mem.size = 1 << 20;
	mem.layout = ram_layout_of(mem.size);
	f->plat.mem = &mem;
	assert_int_equal(hmx_host_create(NULL, &hmx), 0);
	add_bus(f);
	device_list_add(&f->devices, hmx_dev_create(&f->plat, hmx));
	assert_non_null(f->devices.head);
	/* A second controller for the same domain is refused. */
	assert_null(hmx_dev_create(&f->plat, hmx));
	io = (uint16_t)(cfg_read(f, 1, 0x10) & ~3u);
	assert_int_equal(inl(f, io + HMX_REG_DOMID), 5);
	assert_int_equal(inl(f, io + HMX_REG_ABI_VERSION), HMX_ABI_VERSION);

	/* An unknown op at 0x1000: the core answers -EINVAL in the block. */
	call = (struct hmx_call *)(ram + 0x1000);
	call->op = 99;
	call->result = 12345;
	/* vCPU 1 latches a bogus high half; vCPU 0's call must not see it. */
	hmx_write(f, io + HMX_REG_CALL_HI, &v1, 0xdead);
	hmx_write(f, io + HMX_REG_CALL_HI, &v0, 0);
	hmx_write(f, io + HMX_REG_CALL_LO, &v0, 0x1000);
	assert_int_not_equal(call->result, 12345);
	assert_true(call->result < 0);
	/* vCPU 1's latch still holds 0xdead: its call goes nowhere. */
	call->result = 12345;
	hmx_write(f, io + HMX_REG_CALL_LO, &v1, 0x1000);
	assert_int_equal(call->result, 12345);
	/* ...and the latch cleared, so the next call is in RAM again. */
	hmx_write(f, io + HMX_REG_CALL_LO, &v1, 0x1000);
	assert_true(call->result < 0);
	device_list_destroy(&f->devices);
	hmx_host_destroy(hmx);
	free(ram);
}

/* ---- KVM routing table ---- */

static void test_irq_routing_defaults_and_msi(void **state)
{
	struct irq_routing r;
	struct kvm_irq_routing_entry e[IRQ_ROUTING_ENTRIES_MAX];
	size_t n;

	(void)state;
	irq_routing_init(&r, -1);
	n = irq_routing_entries(&r, e, IRQ_ROUTING_ENTRIES_MAX);
	/* What KVM_CREATE_IRQCHIP installs: 16 GSIs twice, 8 once. */
	assert_int_equal(n, 40);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(e[i].type, KVM_IRQ_ROUTING_IRQCHIP);
		if (e[i].u.irqchip.irqchip == KVM_IRQCHIP_IOAPIC)
			assert_int_equal(e[i].u.irqchip.pin, e[i].gsi);
		else
			assert_int_equal(e[i].u.irqchip.pin, e[i].gsi % 8);
	}
	/* The table cannot be installed on a bad fd: nothing is kept. */
	assert_int_equal(irq_routing_set_msi(&r, -1, 0xfee00000, 0x41), -1);
	assert_int_equal(irq_routing_entries(&r, e, IRQ_ROUTING_ENTRIES_MAX),
			 40);
	r.msi[3] = (struct irq_msi_route){ true, 0x1fee00000ull, 0x42 };
	n = irq_routing_entries(&r, e, IRQ_ROUTING_ENTRIES_MAX);
	assert_int_equal(n, 41);
	assert_int_equal(e[40].type, KVM_IRQ_ROUTING_MSI);
	assert_int_equal(e[40].gsi, IRQ_ROUTING_MSI_GSI_BASE + 3);
	assert_int_equal(e[40].u.msi.address_lo, 0xfee00000);
	assert_int_equal(e[40].u.msi.address_hi, 1);
	assert_int_equal(e[40].u.msi.data, 0x42);
	/* A short buffer is never overrun. */
	assert_int_equal(irq_routing_entries(&r, e, 5), 5);
	irq_routing_fini(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_device_list_order),
		cmocka_unit_test_setup_teardown(test_serial_tx_and_thri, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_serial_receive_and_reset,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_serial_loopback, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_i8042_self_test_and_ctr,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_i8042_reset_line_reboots,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_i8042_ctrl_alt_del, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_acpi_pm_poweroff_and_reset,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_pci_ids_and_absent_slots,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_pci_capability_list, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_pci_bar_sizing_and_moves,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_msix_pending_and_delivery,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_msix_irqfd_follows_mask,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_pvpanic_reports_a_crash,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_hmx_dev_latch_is_per_vcpu,
						setup, teardown),
		cmocka_unit_test(test_irq_routing_defaults_and_msi),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
