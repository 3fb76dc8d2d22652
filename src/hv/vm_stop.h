/* SPDX-License-Identifier: GPL-2.0-only */
/* Why a VM stopped, or must stop: the first reason set wins. */
#ifndef BH_HV_VM_STOP_H
#define BH_HV_VM_STOP_H

enum vm_stop_reason {
	VM_STOP_NONE = 0,
	VM_STOP_POWEROFF, /* the guest powered off (ACPI S5) */
	VM_STOP_REBOOT, /* the guest asked for a reset */
	VM_STOP_CRASH, /* triple fault, KVM error, a guest panic, a dead device */
	VM_STOP_DESTROYED, /* the host stopped it */
};

#endif
