// SPDX-License-Identifier: GPL-2.0-only
#include "hv/irq_routing.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

void irq_routing_init(struct irq_routing *r, int vm_fd)
{
	memset(r, 0, sizeof(*r));
	pthread_mutex_init(&r->lock, NULL);
	r->vm_fd = vm_fd;
}

void irq_routing_fini(struct irq_routing *r)
{
	pthread_mutex_destroy(&r->lock);
}

static void irqchip(struct kvm_irq_routing_entry *e, unsigned int gsi,
		    unsigned int chip, unsigned int pin)
{
	memset(e, 0, sizeof(*e));
	e->gsi = gsi;
	e->type = KVM_IRQ_ROUTING_IRQCHIP;
	e->u.irqchip.irqchip = chip;
	e->u.irqchip.pin = pin;
}

size_t irq_routing_entries(const struct irq_routing *r,
			   struct kvm_irq_routing_entry *e, size_t max)
{
	size_t n = 0;

	for (unsigned int gsi = 0; gsi < IRQ_ROUTING_IOAPIC_PINS; gsi++) {
		if (n < max)
			irqchip(&e[n++], gsi, KVM_IRQCHIP_IOAPIC, gsi);
		if (gsi < 16 && n < max)
			irqchip(&e[n++], gsi,
				gsi < 8 ? KVM_IRQCHIP_PIC_MASTER :
					  KVM_IRQCHIP_PIC_SLAVE,
				gsi % 8);
	}
	for (unsigned int i = 0; i < IRQ_ROUTING_MSI_MAX && n < max; i++) {
		if (!r->msi[i].used)
			continue;
		memset(&e[n], 0, sizeof(e[n]));
		e[n].gsi = IRQ_ROUTING_MSI_GSI_BASE + i;
		e[n].type = KVM_IRQ_ROUTING_MSI;
		e[n].u.msi.address_lo = (uint32_t)r->msi[i].addr;
		e[n].u.msi.address_hi = (uint32_t)(r->msi[i].addr >> 32);
		e[n].u.msi.data = r->msi[i].data;
		n++;
	}
	return n;
}

/* Lock held. */
static int install(struct irq_routing *r)
{
	struct kvm_irq_routing *t;
	int ret;

	t = calloc(1, sizeof(*t) +
			      IRQ_ROUTING_ENTRIES_MAX * sizeof(t->entries[0]));
	if (!t)
		return -1;
	t->nr = (__u32)irq_routing_entries(r, t->entries,
					   IRQ_ROUTING_ENTRIES_MAX);
	ret = ioctl(r->vm_fd, KVM_SET_GSI_ROUTING, t);
	free(t);
	return ret < 0 ? -1 : 0;
}

int irq_routing_set_msi(struct irq_routing *r, int gsi, uint64_t addr,
			uint32_t data)
{
	int i = gsi - IRQ_ROUTING_MSI_GSI_BASE, ret = -1;
	struct irq_msi_route old;

	pthread_mutex_lock(&r->lock);
	if (gsi < 0) {
		for (i = 0; i < IRQ_ROUTING_MSI_MAX && r->msi[i].used; i++)
			;
	}
	if (i < 0 || i >= IRQ_ROUTING_MSI_MAX || (gsi >= 0 && !r->msi[i].used))
		goto out;
	old = r->msi[i];
	r->msi[i] = (struct irq_msi_route){ true, addr, data };
	if (install(r) < 0) {
		r->msi[i] = old;
		goto out;
	}
	ret = IRQ_ROUTING_MSI_GSI_BASE + i;
out:
	pthread_mutex_unlock(&r->lock);
	return ret;
}

void irq_routing_free_msi(struct irq_routing *r, int gsi)
{
	int i = gsi - IRQ_ROUTING_MSI_GSI_BASE;

	if (i < 0 || i >= IRQ_ROUTING_MSI_MAX)
		return;
	pthread_mutex_lock(&r->lock);
	if (r->msi[i].used) {
		r->msi[i].used = false;
		install(r);
	}
	pthread_mutex_unlock(&r->lock);
}
