/* SPDX-License-Identifier: GPL-2.0-only */
/* A 16550A UART: what Linux's 8250 driver needs for a console. */
#ifndef BH_HV_DEVICES_SERIAL_H
#define BH_HV_DEVICES_SERIAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv/devices/device.h"

struct serial;

/* Bytes the guest transmitted. */
typedef void (*serial_tx_fn)(void *opaque, const uint8_t *buf, size_t len);

extern const struct device_ops serial_ops;

/*
 * A UART decoding 8 ports at port and raising platform line irq; what the
 * guest sends goes to tx. NULL if out of memory or the ports are taken.
 */
struct serial *serial_create(const struct dev_platform *plat, uint16_t port,
			     unsigned int irq, serial_tx_fn tx, void *opaque);
struct device *serial_device(struct serial *s);
/* The serial behind a device with serial_ops. */
struct serial *serial_of(struct device *dev);

/* Queues received bytes; returns how many fit (the rest must wait). */
size_t serial_receive(struct serial *s, const uint8_t *buf, size_t len);
/* Free space in the receive queue. */
size_t serial_rx_room(struct serial *s);

#endif
