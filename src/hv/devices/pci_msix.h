/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * MSI-X for PCI devices: the capability, the table and PBA in a memory BAR
 * of their own, and two ways to raise a vector. pci_msix_notify() is for
 * interrupts the hypervisor raises itself. An irqfd bound to a vector lets
 * a device model raise it through KVM without the hypervisor: while the
 * vector is deliverable the eventfd is a KVM irqfd on an MSI route that
 * follows the table entry; while it is masked (or MSI-X is off) the
 * hypervisor watches the eventfd and holds the vector pending, and
 * delivers it when it is unmasked, as the PCI spec requires.
 */
#ifndef BH_HV_DEVICES_PCI_MSIX_H
#define BH_HV_DEVICES_PCI_MSIX_H

#include <stdbool.h>

struct pci_device;

#define PCI_MSIX_MAX_VECTORS 64

/*
 * Adds the capability with nvectors entries; table and PBA fill memory
 * BAR index (4 KiB, PBA at pba_offset). Returns 0 or -1.
 */
int pci_device_add_msix(struct pci_device *dev, unsigned int index,
			unsigned int nvectors, unsigned int pba_offset);

/* Raises vector; held pending while masked or disabled. Any thread. */
void pci_msix_notify(struct pci_device *dev, unsigned int vector);

/*
 * Binds eventfd fd to vector (replacing an earlier binding of fd) or,
 * with vector < 0, unbinds it; the caller keeps owning fd and must unbind
 * before closing it. Returns 0 or -1.
 */
int pci_msix_bind_irqfd(struct pci_device *dev, int fd, int vector);

/* pci.c: where the control word is in config space (the bus lock held). */
int pci_msix_control_offset(const struct pci_device *dev);
/* pci.c: the guest wrote the capability's control word. Bus lock held. */
void pci_msix_control_written(struct pci_device *dev);
void pci_msix_destroy(struct pci_device *dev);
/* Back to the power-on state: disabled, all entries masked, none pending. */
void pci_msix_reset(struct pci_device *dev);

#endif
