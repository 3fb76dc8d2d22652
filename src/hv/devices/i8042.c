// SPDX-License-Identifier: GPL-2.0-only
#include "hv/devices/i8042.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "hv/devices/iobus.h"
#include "hv/x86/layout.h"

#define STATUS_OBF 0x01
#define STATUS_SYS 0x04
#define STATUS_CMD 0x08
#define STATUS_UNLOCKED 0x10 /* keyboard not inhibited by a keylock */
#define STATUS_AUXDATA 0x20

#define CTR_KBDINT 0x01
#define CTR_SYS 0x04
#define CTR_KBDDIS 0x10
#define CTR_AUXDIS 0x20
#define CTR_XLATE 0x40

#define CMD_READ_CTR 0x20
#define CMD_WRITE_CTR 0x60
#define CMD_AUX_DISABLE 0xa7
#define CMD_AUX_ENABLE 0xa8
#define CMD_AUX_TEST 0xa9
#define CMD_SELF_TEST 0xaa
#define CMD_KBD_TEST 0xab
#define CMD_KBD_DISABLE 0xad
#define CMD_KBD_ENABLE 0xae
#define CMD_READ_OUTPUT 0xd0
#define CMD_WRITE_OUTPUT 0xd1
#define CMD_WRITE_KBD_OBUF 0xd2
#define CMD_WRITE_AUX_OBUF 0xd3
#define CMD_WRITE_AUX 0xd4
#define CMD_PULSE_FIRST 0xf0 /* 0xf0..0xff pulse output lines; bit 0 resets */

#define OUTPUT_RESET_HIGH 0x01 /* output port bit 0 low resets the CPU */
#define KBD_ACK 0xfa
#define KBD_SELF_TEST_OK 0xaa
#define AUX_TEST_CLOCK_STUCK 0x01

#define OBUF_SIZE 32

struct i8042 {
	struct device dev;
	pthread_mutex_t lock;
	uint8_t ctr;
	uint8_t status_cmd; /* STATUS_CMD: last write went to the command port */
	uint8_t pending_cmd; /* controller command awaiting its data byte */
	uint8_t pending_kbd; /* keyboard command awaiting its argument */
	uint8_t obuf[OBUF_SIZE];
	uint8_t obuf_aux[OBUF_SIZE];
	unsigned int ohead, ocount;
	int irq_level;
};

static void kbc_update_irq(struct i8042 *kbc)
{
	int level = kbc->ocount && !kbc->obuf_aux[kbc->ohead] &&
		    (kbc->ctr & CTR_KBDINT);

	if (level != kbc->irq_level) {
		kbc->irq_level = level;
		dev_irq_line(kbc->dev.plat, IRQ_I8042_KBD, level);
	}
}

static void kbc_push(struct i8042 *kbc, uint8_t byte, bool aux)
{
	unsigned int at;

	if (kbc->ocount == OBUF_SIZE)
		return;
	at = (kbc->ohead + kbc->ocount) % OBUF_SIZE;
	kbc->obuf[at] = byte;
	kbc->obuf_aux[at] = aux;
	kbc->ocount++;
}

static uint8_t kbc_status(const struct i8042 *kbc)
{
	uint8_t st = STATUS_SYS | STATUS_UNLOCKED | kbc->status_cmd;

	if (kbc->ocount) {
		st |= STATUS_OBF;
		if (kbc->obuf_aux[kbc->ohead])
			st |= STATUS_AUXDATA;
	}
	return st;
}

static uint8_t kbc_read_data(struct i8042 *kbc)
{
	uint8_t byte;

	if (!kbc->ocount)
		return 0;
	byte = kbc->obuf[kbc->ohead];
	kbc->ohead = (kbc->ohead + 1) % OBUF_SIZE;
	kbc->ocount--;
	return byte;
}

/* A byte for the keyboard itself: answer as a PS/2 MF2 keyboard does. */
static void kbd_command(struct i8042 *kbc, uint8_t byte)
{
	if (kbc->pending_kbd) {
		kbc->pending_kbd = 0;
		kbc_push(kbc, KBD_ACK, false);
		return;
	}
	switch (byte) {
	case 0xff: /* reset */
		kbc_push(kbc, KBD_ACK, false);
		kbc_push(kbc, KBD_SELF_TEST_OK, false);
		break;
	case 0xf2: /* identify: MF2 keyboard */
		kbc_push(kbc, KBD_ACK, false);
		kbc_push(kbc, 0xab, false);
		kbc_push(kbc, 0x83, false);
		break;
	case 0xee: /* echo */
		kbc_push(kbc, 0xee, false);
		break;
	case 0xed: /* LEDs */
	case 0xf3: /* typematic rate */
	case 0xf0: /* scancode set */
		kbc->pending_kbd = byte;
		kbc_push(kbc, KBD_ACK, false);
		break;
	default:
		kbc_push(kbc, KBD_ACK, false);
		break;
	}
}

static void kbc_reset_machine(struct i8042 *kbc)
{
	dev_request_stop(kbc->dev.plat, VM_STOP_REBOOT,
			 "reset through the i8042");
}

static void kbc_write_data(struct i8042 *kbc, uint8_t byte)
{
	uint8_t cmd = kbc->pending_cmd;

	kbc->pending_cmd = 0;
	switch (cmd) {
	case CMD_WRITE_CTR:
		kbc->ctr = byte;
		break;
	case CMD_WRITE_OUTPUT:
		if (!(byte & OUTPUT_RESET_HIGH))
			kbc_reset_machine(kbc);
		break;
	case CMD_WRITE_KBD_OBUF:
		kbc_push(kbc, byte, false);
		break;
	case CMD_WRITE_AUX_OBUF:
		/* No mouse: the loop comes back without the AUX bit. */
		kbc_push(kbc, (uint8_t)~byte, false);
		break;
	case CMD_WRITE_AUX:
		break; /* nothing is attached to the AUX port */
	default:
		kbd_command(kbc, byte);
		break;
	}
}

static void kbc_write_command(struct i8042 *kbc, uint8_t cmd)
{
	switch (cmd) {
	case CMD_READ_CTR:
		kbc_push(kbc, kbc->ctr, false);
		break;
	case CMD_WRITE_CTR:
	case CMD_WRITE_OUTPUT:
	case CMD_WRITE_KBD_OBUF:
	case CMD_WRITE_AUX_OBUF:
	case CMD_WRITE_AUX:
		kbc->pending_cmd = cmd;
		break;
	case CMD_AUX_DISABLE:
		kbc->ctr |= CTR_AUXDIS;
		break;
	case CMD_AUX_ENABLE:
		kbc->ctr &= ~CTR_AUXDIS;
		break;
	case CMD_AUX_TEST:
		kbc_push(kbc, AUX_TEST_CLOCK_STUCK, false);
		break;
	case CMD_SELF_TEST:
		kbc_push(kbc, 0x55, false);
		break;
	case CMD_KBD_TEST:
		kbc_push(kbc, 0x00, false);
		break;
	case CMD_KBD_DISABLE:
		kbc->ctr |= CTR_KBDDIS;
		break;
	case CMD_KBD_ENABLE:
		kbc->ctr &= ~CTR_KBDDIS;
		break;
	case CMD_READ_OUTPUT:
		kbc_push(kbc, OUTPUT_RESET_HIGH, false);
		break;
	default:
		if (cmd >= CMD_PULSE_FIRST && !(cmd & 0x01))
			kbc_reset_machine(kbc);
		break;
	}
}

static void i8042_io(struct i8042 *kbc, unsigned int port, uint8_t *data,
		     unsigned int size, bool is_write)
{
	pthread_mutex_lock(&kbc->lock);
	if (!is_write) {
		memset(data, 0xff, size);
		if (port == PORT_I8042_CMD) {
			data[0] = kbc_status(kbc);
		} else {
			data[0] = kbc_read_data(kbc);
			/* Linux reads one byte per interrupt: edge again. */
			if (kbc->irq_level) {
				kbc->irq_level = 0;
				dev_irq_line(kbc->dev.plat, IRQ_I8042_KBD, 0);
			}
		}
	} else if (port == PORT_I8042_CMD) {
		kbc->status_cmd = STATUS_CMD;
		kbc_write_command(kbc, data[0]);
	} else if (port == PORT_I8042_DATA) {
		kbc->status_cmd = 0;
		kbc_write_data(kbc, data[0]);
	}
	kbc_update_irq(kbc);
	pthread_mutex_unlock(&kbc->lock);
}

static void i8042_data_io(void *opaque, struct vcpu *vcpu, uint64_t offset,
			  uint8_t *data, unsigned int size, bool is_write)
{
	(void)vcpu;
	(void)offset;
	i8042_io(opaque, PORT_I8042_DATA, data, size, is_write);
}

static void i8042_cmd_io(void *opaque, struct vcpu *vcpu, uint64_t offset,
			 uint8_t *data, unsigned int size, bool is_write)
{
	(void)vcpu;
	(void)offset;
	i8042_io(opaque, PORT_I8042_CMD, data, size, is_write);
}

/* Power-on state: translation on, AUX off, nothing buffered. Lock held. */
static void kbc_power_on(struct i8042 *kbc)
{
	kbc->ctr = CTR_KBDINT | CTR_SYS | CTR_AUXDIS | CTR_XLATE;
	kbc->status_cmd = kbc->pending_cmd = kbc->pending_kbd = 0;
	kbc->ohead = kbc->ocount = 0;
}

static void i8042_reset(struct device *dev)
{
	struct i8042 *kbc = i8042_of(dev);

	pthread_mutex_lock(&kbc->lock);
	kbc_power_on(kbc);
	kbc_update_irq(kbc);
	pthread_mutex_unlock(&kbc->lock);
}

static void i8042_destroy(struct device *dev)
{
	struct i8042 *kbc = i8042_of(dev);

	io_bus_unregister(dev->plat->pio, PORT_I8042_DATA, kbc);
	io_bus_unregister(dev->plat->pio, PORT_I8042_CMD, kbc);
	pthread_mutex_destroy(&kbc->lock);
	free(kbc);
}

const struct device_ops i8042_ops = {
	.name = "i8042",
	.reset = i8042_reset,
	.destroy = i8042_destroy,
};

struct i8042 *i8042_create(const struct dev_platform *plat)
{
	struct i8042 *kbc = calloc(1, sizeof(*kbc));

	if (!kbc)
		return NULL;
	device_init(&kbc->dev, &i8042_ops, plat);
	pthread_mutex_init(&kbc->lock, NULL);
	kbc_power_on(kbc);
	if (io_bus_register(plat->pio, PORT_I8042_DATA, 1, i8042_data_io, kbc,
			    "i8042") < 0 ||
	    io_bus_register(plat->pio, PORT_I8042_CMD, 1, i8042_cmd_io, kbc,
			    "i8042") < 0) {
		i8042_destroy(&kbc->dev);
		return NULL;
	}
	return kbc;
}

struct device *i8042_device(struct i8042 *kbc)
{
	return &kbc->dev;
}

struct i8042 *i8042_of(struct device *dev)
{
	return container_of(dev, struct i8042, dev);
}

void i8042_send_ctrl_alt_del(struct i8042 *kbc)
{
	/* Scancode set 1 (the controller translates) and set 2. */
	static const uint8_t set1[] = { 0x1d, 0x38, 0xe0, 0x53,
					0xe0, 0xd3, 0xb8, 0x9d };
	static const uint8_t set2[] = { 0x14, 0x11, 0xe0, 0x71, 0xe0, 0xf0,
					0x71, 0xf0, 0x11, 0xf0, 0x14 };
	const uint8_t *seq;
	size_t i, n;

	pthread_mutex_lock(&kbc->lock);
	if (kbc->ctr & CTR_XLATE) {
		seq = set1;
		n = sizeof(set1);
	} else {
		seq = set2;
		n = sizeof(set2);
	}
	for (i = 0; i < n; i++)
		kbc_push(kbc, seq[i], false);
	kbc_update_irq(kbc);
	pthread_mutex_unlock(&kbc->lock);
}
