/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * An i8042 keyboard controller with a keyboard and no mouse. It exists for
 * two documented guest-host signals: the guest resets the machine through
 * it (command 0xfe, Linux reboot=k), and the host asks for a clean
 * shutdown by typing Ctrl-Alt-Del, as Firecracker does.
 */
#ifndef BH_HV_DEVICES_I8042_H
#define BH_HV_DEVICES_I8042_H

#include "hv/devices/device.h"

struct i8042;

extern const struct device_ops i8042_ops;

/* Decodes ports 0x60 and 0x64 and raises IRQ 1. */
struct i8042 *i8042_create(const struct dev_platform *plat);
struct device *i8042_device(struct i8042 *kbc);
struct i8042 *i8042_of(struct device *dev);
/* Queues the scancodes for Ctrl-Alt-Del. */
void i8042_send_ctrl_alt_del(struct i8042 *kbc);

#endif
