// SPDX-License-Identifier: GPL-2.0-only
#include "hv/devices/iobus.h"

#include <stdlib.h>
#include <string.h>

int io_bus_init(struct io_bus *bus, const char *name)
{
	memset(bus, 0, sizeof(*bus));
	bus->name = name;
	return pthread_rwlock_init(&bus->lock, NULL) ? -1 : 0;
}

void io_bus_destroy(struct io_bus *bus)
{
	free(bus->region);
	bus->region = NULL;
	bus->n = bus->cap = 0;
	pthread_rwlock_destroy(&bus->lock);
}

/* Index of the first region whose end lies above addr. */
static unsigned int io_bus_search(const struct io_bus *bus, uint64_t addr)
{
	unsigned int lo = 0, hi = bus->n;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;
		const struct io_region *r = &bus->region[mid];

		if (r->base + r->len <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int io_bus_register(struct io_bus *bus, uint64_t base, uint64_t len,
		    io_handler_fn fn, void *opaque, const char *name)
{
	unsigned int i;
	int ret = -1;

	if (!len || base + len < base)
		return -1;
	pthread_rwlock_wrlock(&bus->lock);
	i = io_bus_search(bus, base);
	if (i < bus->n && bus->region[i].base < base + len)
		goto out; /* overlap */
	if (bus->n == bus->cap) {
		unsigned int cap = bus->cap ? bus->cap * 2 : 16;
		struct io_region *r =
			realloc(bus->region, cap * sizeof(*bus->region));

		if (!r)
			goto out;
		bus->region = r;
		bus->cap = cap;
	}
	memmove(&bus->region[i + 1], &bus->region[i],
		(bus->n - i) * sizeof(*bus->region));
	bus->region[i] = (struct io_region){ base, len, fn, opaque, name };
	bus->n++;
	ret = 0;
out:
	pthread_rwlock_unlock(&bus->lock);
	return ret;
}

int io_bus_unregister(struct io_bus *bus, uint64_t base, void *opaque)
{
	unsigned int i;
	int ret = -1;

	pthread_rwlock_wrlock(&bus->lock);
	i = io_bus_search(bus, base);
	if (i < bus->n && bus->region[i].base == base &&
	    bus->region[i].opaque == opaque) {
		memmove(&bus->region[i], &bus->region[i + 1],
			(bus->n - i - 1) * sizeof(*bus->region));
		bus->n--;
		ret = 0;
	}
	pthread_rwlock_unlock(&bus->lock);
	return ret;
}

bool io_bus_dispatch(struct io_bus *bus, struct vcpu *vcpu, uint64_t addr,
		     uint8_t *data, unsigned int size, bool is_write)
{
	struct io_region r;
	unsigned int i;
	bool found = false;

	pthread_rwlock_rdlock(&bus->lock);
	i = io_bus_search(bus, addr);
	if (i < bus->n && bus->region[i].base <= addr &&
	    addr + size <= bus->region[i].base + bus->region[i].len) {
		r = bus->region[i];
		found = true;
	}
	pthread_rwlock_unlock(&bus->lock);
	/*
	 * Called unlocked so that a handler (PCI config space) may itself move
	 * regions on this bus.
	 */
	if (found)
		r.fn(r.opaque, vcpu, addr - r.base, data, size, is_write);
	return found;
}
