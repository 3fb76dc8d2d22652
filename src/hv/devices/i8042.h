/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * An i8042 keyboard controller with a keyboard and no mouse. It exists for
 * two documented guest-host signals: the guest resets the machine through
 * it (command 0xfe, Linux reboot=k), and the host asks for a clean
 * shutdown by typing Ctrl-Alt-Del, as Firecracker does.
 */
#ifndef BH_HV_DEVICES_I8042_H
#define BH_HV_DEVICES_I8042_H

#include <stdbool.h>
#include <stdint.h>

struct vm;
struct vcpu;
struct i8042;

struct i8042 *i8042_create(struct vm *vm);
void i8042_destroy(struct i8042 *kbc);
/* Port I/O handlers for the data (0x60) and command/status (0x64) ports. */
void i8042_data_io(void *opaque, struct vcpu *vcpu, uint64_t offset,
		   uint8_t *data, unsigned int size, bool is_write);
void i8042_cmd_io(void *opaque, struct vcpu *vcpu, uint64_t offset,
		  uint8_t *data, unsigned int size, bool is_write);
/* Queues the scancodes for Ctrl-Alt-Del. */
void i8042_send_ctrl_alt_del(struct i8042 *kbc);

#endif
