/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A VM's KVM GSI routing table. KVM_SET_GSI_ROUTING replaces the whole
 * table, so ours always starts with what KVM_CREATE_IRQCHIP installs (GSIs
 * 0-15 to both PICs and the IOAPIC, 16-23 to the IOAPIC) and adds one MSI
 * route per device vector that a KVM irqfd injects.
 */
#ifndef BH_HV_IRQ_ROUTING_H
#define BH_HV_IRQ_ROUTING_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/kvm.h>

#define IRQ_ROUTING_IOAPIC_PINS 24
#define IRQ_ROUTING_MSI_GSI_BASE IRQ_ROUTING_IOAPIC_PINS
#define IRQ_ROUTING_MSI_MAX 512
/* Entries in a full table: two per legacy GSI, one per other. */
#define IRQ_ROUTING_ENTRIES_MAX (16 * 2 + 8 + IRQ_ROUTING_MSI_MAX)

struct irq_msi_route {
	bool used;
	uint64_t addr;
	uint32_t data;
};

struct irq_routing {
	pthread_mutex_t lock;
	int vm_fd;
	struct irq_msi_route msi[IRQ_ROUTING_MSI_MAX];
};

void irq_routing_init(struct irq_routing *r, int vm_fd);
void irq_routing_fini(struct irq_routing *r);

/*
 * Allocates an MSI route (gsi < 0) or changes one, and installs the
 * table. Returns the route's GSI, or -1 (table full, KVM refused).
 */
int irq_routing_set_msi(struct irq_routing *r, int gsi, uint64_t addr,
			uint32_t data);
void irq_routing_free_msi(struct irq_routing *r, int gsi);

/* Writes the table's entries (up to max) to e; returns how many. Pure. */
size_t irq_routing_entries(const struct irq_routing *r,
			   struct kvm_irq_routing_entry *e, size_t max);

#endif
