// SPDX-License-Identifier: GPL-2.0-only
#include "hv/devices/acpi_pm.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "hv/vm.h"
#include "hv/x86/acpi.h"
#include "hv/x86/layout.h"
#include "util/bytes.h"

#define OFF_STS 0
#define OFF_EN 2
#define OFF_CNT (PORT_ACPI_PM1_CNT - PORT_ACPI_PM1_EVT)
#define OFF_RESET (PORT_ACPI_RESET - PORT_ACPI_PM1_EVT)

struct acpi_pm {
	struct vm *vm;
	pthread_mutex_t lock;
	uint8_t regs[ACPI_PM_IO_LEN]; /* status, enable, control, -, reset */
};

struct acpi_pm *acpi_pm_create(struct vm *vm)
{
	struct acpi_pm *pm = calloc(1, sizeof(*pm));

	if (!pm)
		return NULL;
	pm->vm = vm;
	pthread_mutex_init(&pm->lock, NULL);
	/* SMI_CMD is absent, so the platform is permanently in ACPI mode. */
	put_le16(pm->regs + OFF_CNT, ACPI_PM1_CNT_SCI_EN);
	return pm;
}

void acpi_pm_destroy(struct acpi_pm *pm)
{
	if (!pm)
		return;
	pthread_mutex_destroy(&pm->lock);
	free(pm);
}

static void acpi_pm_write_byte(struct acpi_pm *pm, unsigned int off, uint8_t v)
{
	if (off < OFF_EN)
		pm->regs[off] &= ~v; /* status bits are write-1-to-clear */
	else if (off == OFF_CNT)
		pm->regs[off] = v | ACPI_PM1_CNT_SCI_EN;
	else if (off == OFF_RESET) {
		if (v == ACPI_RESET_VALUE)
			vm_request_stop(
				pm->vm, VM_STOP_REBOOT,
				"reset through the ACPI reset register");
	} else if (off < OFF_RESET)
		pm->regs[off] = v;
}

void acpi_pm_io(void *opaque, struct vcpu *vcpu, uint64_t offset, uint8_t *data,
		unsigned int size, bool is_write)
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
			vm_request_stop(pm->vm, VM_STOP_POWEROFF,
					"ACPI S5 (soft off)");
	}
}
