/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * QEMU's pvpanic-pci device (1b36:0011): Linux's pvpanic_pci driver writes
 * to it when the kernel panics, so a panic is reported as a crash instead
 * of a hung guest.
 */
#ifndef BH_HV_DEVICES_PVPANIC_H
#define BH_HV_DEVICES_PVPANIC_H

struct vm;
struct pci_bus;

int pvpanic_add(struct vm *vm, struct pci_bus *bus);

#endif
