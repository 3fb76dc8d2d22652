/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The HMX controller: the PCI device through which a VM reaches the HMX
 * mediation core (include/bulkhead/hmx.h, docs/hmx-abi.md). BAR0 holds the
 * doorbell and status registers; BAR1 the MSI-X table. The VM is HMX
 * domain vm->domid from hmx_dev_add() until hmx_dev_destroy().
 */
#ifndef BH_HV_DEVICES_HMX_DEV_H
#define BH_HV_DEVICES_HMX_DEV_H

struct vm;
struct pci_bus;
struct hmx_host;
struct hmx_dev;

/* Adds the device to bus and the VM to the HMX core as its domain. */
struct hmx_dev *hmx_dev_add(struct vm *vm, struct pci_bus *bus,
			    struct hmx_host *hmx);
/*
 * Removes the domain (peers are told) and frees the device. Call after the
 * VM's vCPUs have stopped and before its RAM is unmapped.
 */
void hmx_dev_destroy(struct hmx_dev *dev);

#endif
