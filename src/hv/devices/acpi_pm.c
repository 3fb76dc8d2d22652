// SPDX-License-Identifier: GPL-2.0-only
#include "hv/devices/acpi_pm.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "hv/devices/iobus.h"
#include "hv/x86/acpi.h"
#include "hv/x86/layout.h"
#include "util/bytes.h"

#define OFF_STS 0
#define OFF_EN 2
#define OFF_CNT (PORT_ACPI_PM1_CNT - PORT_ACPI_PM1_EVT)
#define OFF_RESET (PORT_ACPI_RESET - PORT_ACPI_PM1_EVT)
#define ACPI_PM_IO_LEN (OFF_RESET + 1)

struct acpi_pm {
	struct device dev;
	pthread_mutex_t lock;
	uint8_t regs[ACPI_PM_IO_LEN]; /* status, enable, control, -, reset */
};

static void acpi_pm_write_byte(struct acpi_pm *pm, unsigned int off, uint8_t v)
{
	if (off < OFF_EN)
		pm->regs[off] &= ~v; /* status bits are write-1-to-clear */
	else if (off == OFF_CNT)
		pm->regs[off] = v | ACPI_PM1_CNT_SCI_EN;
	else if (off == OFF_RESET) {
		if (v == ACPI_RESET_VALUE)
			dev_request_stop(
				pm->dev.plat, VM_STOP_REBOOT,
				"reset through the ACPI reset register");
	} else if (off < OFF_RESET)
		pm->regs[off] = v;
}

static void acpi_pm_io(void *opaque, struct vcpu *vcpu, uint64_t offset,
		       uint8_t *data, unsigned int size, bool is_write)
{
	struct acpi_pm *pm = opaque;
	unsigned int i;
	uint16_t cnt;

	(void)vcpu;
	pthread_mutex_lock(&pm->lock);
	for (i = 0; i < size; i++) {
		if (offset + i >= ACPI_PM_IO_LEN) {
			if (!is_write)
				data[i] = 0xff;
			continue;
		}
		if (is_write)
			acpi_pm_write_byte(pm, (unsigned int)offset + i,
					   data[i]);
		else
			data[i] = pm->regs[offset + i];
	}
	cnt = get_le16(pm->regs + OFF_CNT);
	pthread_mutex_unlock(&pm->lock);

	if (is_write && (cnt & ACPI_PM1_CNT_SLP_EN) && offset <= OFF_CNT + 1 &&
	    offset + size > OFF_CNT) {
		unsigned int typ = (cnt & ACPI_PM1_CNT_SLP_TYP_MASK) >>
				   ACPI_PM1_CNT_SLP_TYP_SHIFT;

		pthread_mutex_lock(&pm->lock);
		pm->regs[OFF_CNT + 1] &= ~(ACPI_PM1_CNT_SLP_EN >> 8);
		pthread_mutex_unlock(&pm->lock);
		if (typ == ACPI_S5_SLP_TYP)
			dev_request_stop(pm->dev.plat, VM_STOP_POWEROFF,
					 "ACPI S5 (soft off)");
	}
}

static struct acpi_pm *acpi_pm_of(struct device *dev)
{
	return container_of(dev, struct acpi_pm, dev);
}

/* SMI_CMD is absent, so the platform is permanently in ACPI mode. */
static void acpi_pm_power_on(struct acpi_pm *pm)
{
	memset(pm->regs, 0, sizeof(pm->regs));
	put_le16(pm->regs + OFF_CNT, ACPI_PM1_CNT_SCI_EN);
}

static void acpi_pm_reset(struct device *dev)
{
	struct acpi_pm *pm = acpi_pm_of(dev);

	pthread_mutex_lock(&pm->lock);
	acpi_pm_power_on(pm);
	pthread_mutex_unlock(&pm->lock);
}

static void acpi_pm_destroy(struct device *dev)
{
	struct acpi_pm *pm = acpi_pm_of(dev);

	io_bus_unregister(dev->plat->pio, PORT_ACPI_PM1_EVT, pm);
	pthread_mutex_destroy(&pm->lock);
	free(pm);
}

const struct device_ops acpi_pm_ops = {
	.name = "acpi-pm",
	.reset = acpi_pm_reset,
	.destroy = acpi_pm_destroy,
};

struct acpi_pm *acpi_pm_create(const struct dev_platform *plat)
{
	struct acpi_pm *pm = calloc(1, sizeof(*pm));

	if (!pm)
		return NULL;
	device_init(&pm->dev, &acpi_pm_ops, plat);
	pthread_mutex_init(&pm->lock, NULL);
	acpi_pm_power_on(pm);
	if (io_bus_register(plat->pio, PORT_ACPI_PM1_EVT, ACPI_PM_IO_LEN,
			    acpi_pm_io, pm, "acpi-pm") < 0) {
		pthread_mutex_destroy(&pm->lock);
		free(pm);
		return NULL;
	}
	return pm;
}

struct device *acpi_pm_device(struct acpi_pm *pm)
{
	return &pm->dev;
}
