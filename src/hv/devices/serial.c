// SPDX-License-Identifier: GPL-2.0-only
#include "hv/devices/serial.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "hv/devices/iobus.h"

/* Register offsets. */
#define UART_RBR_THR 0
#define UART_IER 1
#define UART_IIR_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_MSR 6
#define UART_SCR 7

#define IER_RDI 0x01 /* received data available */
#define IER_THRI 0x02 /* transmit holding register empty */
#define IER_MASK 0x0f
#define IIR_NO_INT 0x01
#define IIR_THRI 0x02
#define IIR_RDI 0x04
#define IIR_FIFO_ENABLED 0xc0
#define FCR_FIFO_ENABLE 0x01
#define FCR_CLEAR_RCVR 0x02
#define LCR_DLAB 0x80
#define MCR_DTR 0x01
#define MCR_RTS 0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10
#define MCR_MASK 0x1f
#define LSR_DR 0x01
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_RI 0x40
#define MSR_DCD 0x80

#define RX_QUEUE 4096 /* bigger than a real FIFO: the host never waits */

struct serial {
	struct device dev;
	uint16_t port;
	unsigned int irq;
	pthread_mutex_t lock;
	uint8_t ier, lcr, mcr, scr, fcr, dll, dlm;
	bool thri_pending; /* THR-empty interrupt not yet acknowledged */
	uint8_t rx[RX_QUEUE];
	size_t rx_head, rx_count;
	int irq_level;
	serial_tx_fn tx;
	void *opaque;
};

static void serial_io(void *opaque, struct vcpu *vcpu, uint64_t offset,
		      uint8_t *data, unsigned int size, bool is_write);

/* Power-on register state; the receive queue empties. Lock held. */
static void serial_power_on(struct serial *s)
{
	s->ier = s->lcr = s->mcr = s->scr = s->fcr = s->dlm = 0;
	s->dll = 12; /* 9600 baud, like firmware leaves it */
	s->thri_pending = false;
	s->rx_head = s->rx_count = 0;
}

static void serial_reset(struct device *dev)
{
	struct serial *s = serial_of(dev);

	pthread_mutex_lock(&s->lock);
	serial_power_on(s);
	if (s->irq_level) {
		s->irq_level = 0;
		dev_irq_line(s->dev.plat, s->irq, 0);
	}
	pthread_mutex_unlock(&s->lock);
}

static void serial_destroy(struct device *dev)
{
	struct serial *s = serial_of(dev);

	io_bus_unregister(dev->plat->pio, s->port, s);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

const struct device_ops serial_ops = {
	.name = "serial",
	.reset = serial_reset,
	.destroy = serial_destroy,
};

struct serial *serial_create(const struct dev_platform *plat, uint16_t port,
			     unsigned int irq, serial_tx_fn tx, void *opaque)
{
	struct serial *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	device_init(&s->dev, &serial_ops, plat);
	pthread_mutex_init(&s->lock, NULL);
	s->port = port;
	s->irq = irq;
	s->tx = tx;
	s->opaque = opaque;
	serial_power_on(s);
	if (io_bus_register(plat->pio, port, 8, serial_io, s, "serial") < 0) {
		pthread_mutex_destroy(&s->lock);
		free(s);
		return NULL;
	}
	return s;
}

struct device *serial_device(struct serial *s)
{
	return &s->dev;
}

struct serial *serial_of(struct device *dev)
{
	return container_of(dev, struct serial, dev);
}

/* The highest-priority pending interrupt, as IIR reports it. */
static uint8_t serial_iir(const struct serial *s)
{
	if ((s->ier & IER_RDI) && s->rx_count)
		return IIR_RDI;
	if ((s->ier & IER_THRI) && s->thri_pending)
		return IIR_THRI;
	return IIR_NO_INT;
}

/* Called with the lock held; the line follows the pending state. */
static void serial_update_irq(struct serial *s)
{
	int level = serial_iir(s) != IIR_NO_INT;

	/* OUT2 gates the interrupt on PC UARTs. */
	if (!(s->mcr & MCR_OUT2))
		level = 0;
	if (level != s->irq_level) {
		s->irq_level = level;
		dev_irq_line(s->dev.plat, s->irq, level);
	}
}

static void rx_push(struct serial *s, uint8_t byte)
{
	if (s->rx_count == RX_QUEUE)
		return;
	s->rx[(s->rx_head + s->rx_count) % RX_QUEUE] = byte;
	s->rx_count++;
}

static uint8_t rx_pop(struct serial *s)
{
	uint8_t byte;

	if (!s->rx_count)
		return 0;
	byte = s->rx[s->rx_head];
	s->rx_head = (s->rx_head + 1) % RX_QUEUE;
	s->rx_count--;
	return byte;
}

static uint8_t serial_msr(const struct serial *s)
{
	uint8_t msr;

	if (!(s->mcr & MCR_LOOP))
		return MSR_CTS | MSR_DSR | MSR_DCD;
	/* Loopback wires the modem outputs back to the inputs. */
	msr = 0;
	if (s->mcr & MCR_RTS)
		msr |= MSR_CTS;
	if (s->mcr & MCR_DTR)
		msr |= MSR_DSR;
	if (s->mcr & MCR_OUT1)
		msr |= MSR_RI;
	if (s->mcr & MCR_OUT2)
		msr |= MSR_DCD;
	return msr;
}

static uint8_t serial_read(struct serial *s, unsigned int reg)
{
	uint8_t v = 0xff;

	switch (reg) {
	case UART_RBR_THR:
		if (s->lcr & LCR_DLAB)
			return s->dll;
		return rx_pop(s);
	case UART_IER:
		if (s->lcr & LCR_DLAB)
			return s->dlm;
		return s->ier;
	case UART_IIR_FCR:
		v = serial_iir(s);
		if (v == IIR_THRI)
			s->thri_pending = false; /* reading IIR acknowledges */
		if (s->fcr & FCR_FIFO_ENABLE)
			v |= IIR_FIFO_ENABLED;
		return v;
	case UART_LCR:
		return s->lcr;
	case UART_MCR:
		return s->mcr;
	case UART_LSR:
		return LSR_THRE | LSR_TEMT | (s->rx_count ? LSR_DR : 0);
	case UART_MSR:
		return serial_msr(s);
	case UART_SCR:
		return s->scr;
	}
	return v;
}

/* Returns true if byte must be transmitted (outside the lock). */
static bool serial_write(struct serial *s, unsigned int reg, uint8_t v)
{
	switch (reg) {
	case UART_RBR_THR:
		if (s->lcr & LCR_DLAB) {
			s->dll = v;
			return false;
		}
		/* Transmission is instant: the THR is empty again at once. */
		s->thri_pending = true;
		if (s->mcr & MCR_LOOP) {
			rx_push(s, v);
			return false;
		}
		return true;
	case UART_IER:
		if (s->lcr & LCR_DLAB) {
			s->dlm = v;
		} else {
			/* Enabling THRI with an empty THR interrupts at once. */
			if (!(s->ier & IER_THRI) && (v & IER_THRI))
				s->thri_pending = true;
			s->ier = v & IER_MASK;
		}
		return false;
	case UART_IIR_FCR:
		s->fcr = v & FCR_FIFO_ENABLE;
		if (v & FCR_CLEAR_RCVR)
			s->rx_count = 0;
		return false;
	case UART_LCR:
		s->lcr = v;
		return false;
	case UART_MCR:
		s->mcr = v & MCR_MASK;
		return false;
	case UART_SCR:
		s->scr = v;
		return false;
	}
	return false; /* LSR and MSR are read-only */
}

static void serial_io(void *opaque, struct vcpu *vcpu, uint64_t offset,
		      uint8_t *data, unsigned int size, bool is_write)
{
	struct serial *s = opaque;
	bool transmit = false;
	uint8_t byte = data[0];
	unsigned int i;

	(void)vcpu;
	pthread_mutex_lock(&s->lock);
	if (is_write) {
		transmit = serial_write(s, (unsigned int)offset, data[0]);
	} else {
		data[0] = serial_read(s, (unsigned int)offset);
		for (i = 1; i < size; i++)
			data[i] = 0xff;
	}
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
	if (transmit)
		s->tx(s->opaque, &byte, 1);
}

size_t serial_receive(struct serial *s, const uint8_t *buf, size_t len)
{
	size_t n;

	pthread_mutex_lock(&s->lock);
	for (n = 0; n < len && s->rx_count < RX_QUEUE; n++)
		rx_push(s, buf[n]);
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
	return n;
}

size_t serial_rx_room(struct serial *s)
{
	size_t room;

	pthread_mutex_lock(&s->lock);
	room = RX_QUEUE - s->rx_count;
	pthread_mutex_unlock(&s->lock);
	return room;
}
