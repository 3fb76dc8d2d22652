/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * An address space of device regions (port I/O or MMIO) for one VM.
 * Regions never overlap. Devices live as long as their VM, so a handler may
 * run after its region moved (a PCI BAR rewrite); it sees the old offset.
 */
#ifndef BH_HV_DEVICES_IOBUS_H
#define BH_HV_DEVICES_IOBUS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct vcpu;

/* data holds size bytes (1, 2, 4 or 8), little-endian. */
typedef void (*io_handler_fn)(void *opaque, struct vcpu *vcpu, uint64_t offset,
			      uint8_t *data, unsigned int size, bool is_write);

struct io_region {
	uint64_t base;
	uint64_t len;
	io_handler_fn fn;
	void *opaque;
	const char *name;
};

struct io_bus {
	pthread_rwlock_t lock;
	struct io_region *region; /* sorted by base */
	unsigned int n;
	unsigned int cap;
	const char *name;
};

int io_bus_init(struct io_bus *bus, const char *name);
void io_bus_destroy(struct io_bus *bus);

/* Returns 0, or -1 if the region is empty, wraps or overlaps another. */
int io_bus_register(struct io_bus *bus, uint64_t base, uint64_t len,
		    io_handler_fn fn, void *opaque, const char *name);
/* Removes the region at base owned by opaque; returns 0 or -1. */
int io_bus_unregister(struct io_bus *bus, uint64_t base, void *opaque);

/* Runs the handler covering addr; false if nothing is there. */
bool io_bus_dispatch(struct io_bus *bus, struct vcpu *vcpu, uint64_t addr,
		     uint8_t *data, unsigned int size, bool is_write);

#endif
