/* SPDX-License-Identifier: GPL-2.0-only */
/* A 16550A UART: what Linux's 8250 driver needs for a console. */
#ifndef BH_HV_DEVICES_SERIAL_H
#define BH_HV_DEVICES_SERIAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vm;
struct serial;
struct vcpu;

/* The line signalling the interrupt; level is 1 while one is pending. */
typedef void (*serial_irq_fn)(void *opaque, int level);
/* Bytes the guest transmitted. */
typedef void (*serial_tx_fn)(void *opaque, const uint8_t *buf, size_t len);

struct serial *serial_create(serial_irq_fn irq, serial_tx_fn tx, void *opaque);
void serial_destroy(struct serial *s);

/* The port I/O handler for the 8 registers (an io_handler_fn). */
void serial_io(void *opaque, struct vcpu *vcpu, uint64_t offset, uint8_t *data,
	       unsigned int size, bool is_write);

/* Queues received bytes; returns how many fit (the rest must wait). */
size_t serial_receive(struct serial *s, const uint8_t *buf, size_t len);
/* Free space in the receive queue. */
size_t serial_rx_room(struct serial *s);

#endif
