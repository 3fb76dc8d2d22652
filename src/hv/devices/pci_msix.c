// SPDX-License-Identifier: GPL-2.0-only
#include "hv/devices/pci_msix.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "hv/devices/pci.h"
#include "hv/event_loop.h"
#include "util/bytes.h"
#include "util/log.h"

#define MSIX_CTRL_ENABLE 0x8000
#define MSIX_CTRL_MASKALL 0x4000
#define MSIX_ENTRY_SIZE 16
#define MSIX_ENTRY_MASKED 0x1
#define MSIX_BAR_SIZE 4096
#define MSIX_CAP_LEN 12
/* eventfds bound at once: a queue each, for the devices we have. */
#define MSIX_MAX_BINDINGS 64

struct pci_msix;

struct msix_binding {
	struct pci_msix *msix;
	int fd; /* -1: free slot */
	int vector; /* -1: routed nowhere */
	bool irqfd; /* a KVM irqfd on the vector's route now */
	bool watched; /* in the event loop instead */
	struct event_source src;
};

struct msix_route {
	int gsi; /* -1 until a binding needs one */
	uint64_t addr;
	uint32_t data;
};

struct pci_msix {
	pthread_mutex_t lock;
	struct pci_device *dev;
	const struct dev_platform *plat;
	unsigned int cap;
	unsigned int nvectors;
	unsigned int pba_offset;
	bool enabled;
	bool masked_all;
	uint8_t table[PCI_MSIX_MAX_VECTORS * MSIX_ENTRY_SIZE];
	uint64_t pending;
	struct msix_route route[PCI_MSIX_MAX_VECTORS];
	struct msix_binding bind[MSIX_MAX_BINDINGS];
	bool fallback_logged;
};

static const uint8_t *entry(const struct pci_msix *msix, unsigned int v)
{
	return msix->table + v * MSIX_ENTRY_SIZE;
}

static bool deliverable(const struct pci_msix *msix, unsigned int v)
{
	return msix->enabled && !msix->masked_all &&
	       !(get_le32(entry(msix, v) + 12) & MSIX_ENTRY_MASKED);
}

static void deliver(struct pci_msix *msix, unsigned int v)
{
	const uint8_t *e = entry(msix, v);

	msix->plat->ops->signal_msi(msix->plat->vm, get_le64(e),
				    get_le32(e + 8));
}

/* Delivers what became deliverable; lock held. */
static void flush_pending(struct pci_msix *msix)
{
	for (unsigned int v = 0; v < msix->nvectors; v++) {
		if ((msix->pending & (1ull << v)) && deliverable(msix, v)) {
			msix->pending &= ~(1ull << v);
			deliver(msix, v);
		}
	}
}

static void set_watched(struct msix_binding *b, bool on)
{
	const struct dev_platform *plat = b->msix->plat;

	if (b->watched == on)
		return;
	/* Never removed from a vCPU thread: toggled with a MOD instead. */
	if (event_loop_modify(plat->loop, &b->src, on ? EPOLLIN : 0) == 0)
		b->watched = on;
}

static void set_irqfd(struct msix_binding *b, int gsi, bool on)
{
	const struct dev_platform *plat = b->msix->plat;

	if (b->irqfd == on)
		return;
	if (plat->ops->irqfd(plat->vm, b->fd, gsi, on) == 0) {
		b->irqfd = on;
	} else if (on && !b->msix->fallback_logged) {
		b->msix->fallback_logged = true;
		bh_warn("vm %s: %s: KVM_IRQFD: %s; interrupts go through the hypervisor",
			plat->vm_name, b->msix->dev->name, strerror(errno));
	}
}

/*
 * Brings vector v's route and bindings in line with its table entry and
 * mask state: irqfds while it is deliverable, the hypervisor watching
 * (and holding it pending) while it is not. Lock held.
 */
static void vector_sync(struct pci_msix *msix, unsigned int v)
{
	const struct dev_platform *plat = msix->plat;
	struct msix_route *r = &msix->route[v];
	bool live = deliverable(msix, v), bound = false;
	const uint8_t *e = entry(msix, v);

	for (unsigned int i = 0; i < MSIX_MAX_BINDINGS; i++)
		bound |= msix->bind[i].fd >= 0 &&
			 msix->bind[i].vector == (int)v;
	if (live && bound &&
	    (r->gsi < 0 || r->addr != get_le64(e) ||
	     r->data != get_le32(e + 8))) {
		int gsi = plat->ops->msi_route(plat->vm, r->gsi, get_le64(e),
					       get_le32(e + 8));

		if (gsi >= 0) {
			r->gsi = gsi;
			r->addr = get_le64(e);
			r->data = get_le32(e + 8);
		}
	}
	for (unsigned int i = 0; i < MSIX_MAX_BINDINGS; i++) {
		struct msix_binding *b = &msix->bind[i];

		if (b->fd < 0 || b->vector != (int)v)
			continue;
		if (live && r->gsi >= 0) {
			set_irqfd(b, r->gsi, true);
			set_watched(b, !b->irqfd);
		} else {
			set_irqfd(b, r->gsi, false);
			set_watched(b, true);
		}
	}
	if (live && (msix->pending & (1ull << v))) {
		msix->pending &= ~(1ull << v);
		deliver(msix, v);
	}
}

static void sync_all(struct pci_msix *msix)
{
	for (unsigned int v = 0; v < msix->nvectors; v++)
		vector_sync(msix, v);
}

/* Main thread: a bound eventfd fired while KVM was not taking it. */
static void binding_fired(struct event_source *src, uint32_t events)
{
	struct msix_binding *b = src->opaque;
	struct pci_msix *msix = b->msix;
	uint64_t count;

	(void)events;
	pthread_mutex_lock(&msix->lock);
	if (read(b->fd, &count, sizeof(count)) == sizeof(count) &&
	    b->vector >= 0) {
		msix->pending |= 1ull << b->vector;
		flush_pending(msix);
	}
	pthread_mutex_unlock(&msix->lock);
}

void pci_msix_notify(struct pci_device *dev, unsigned int vector)
{
	struct pci_msix *msix = dev->msix;

	if (!msix || vector >= msix->nvectors)
		return;
	pthread_mutex_lock(&msix->lock);
	msix->pending |= 1ull << vector;
	flush_pending(msix);
	pthread_mutex_unlock(&msix->lock);
}

int pci_msix_bind_irqfd(struct pci_device *dev, int fd, int vector)
{
	struct pci_msix *msix = dev->msix;
	struct msix_binding *b = NULL, *spare = NULL;
	int old, ret = -1;

	if (!msix || fd < 0 || vector >= (int)msix->nvectors ||
	    !msix->plat->loop)
		return -1;
	pthread_mutex_lock(&msix->lock);
	for (unsigned int i = 0; i < MSIX_MAX_BINDINGS && !b; i++) {
		if (msix->bind[i].fd == fd)
			b = &msix->bind[i];
		else if (msix->bind[i].fd < 0 && !spare)
			spare = &msix->bind[i];
	}
	if (!b && vector < 0) {
		ret = 0;
		goto out;
	}
	if (!b) {
		if (!spare)
			goto out;
		b = spare;
		*b = (struct msix_binding){ .msix = msix,
					    .fd = fd,
					    .vector = -1 };
		b->src = (struct event_source){ fd, binding_fired, b };
		if (event_loop_add(msix->plat->loop, &b->src, 0) < 0) {
			b->fd = -1;
			goto out;
		}
	}
	old = b->vector;
	if (old >= 0 && old != vector) {
		set_irqfd(b, msix->route[old].gsi, false);
		set_watched(b, false);
	}
	b->vector = vector;
	if (vector >= 0)
		vector_sync(msix, (unsigned int)vector);
	ret = 0;
out:
	pthread_mutex_unlock(&msix->lock);
	return ret;
}

/* The MSI-X table and PBA, as an io_handler_fn. */
static void msix_bar_io(void *opaque, struct vcpu *vcpu, uint64_t offset,
			uint8_t *data, unsigned int size, bool is_write)
{
	struct pci_msix *msix = opaque;
	uint64_t table_len = (uint64_t)msix->nvectors * MSIX_ENTRY_SIZE;
	uint64_t touched = 0;
	unsigned int i;

	(void)vcpu;
	pthread_mutex_lock(&msix->lock);
	for (i = 0; i < size; i++) {
		uint64_t off = offset + i;

		if (off < table_len) {
			if (is_write) {
				msix->table[off] = data[i];
				touched |= 1ull << (off / MSIX_ENTRY_SIZE);
			} else {
				data[i] = msix->table[off];
			}
		} else if (!is_write && off >= msix->pba_offset &&
			   off < msix->pba_offset + 8) {
			data[i] = (uint8_t)(msix->pending >>
					    (8 * (off - msix->pba_offset)));
		} else if (!is_write) {
			data[i] = 0;
		}
	}
	for (unsigned int v = 0; touched && v < msix->nvectors; v++)
		if (touched & (1ull << v))
			vector_sync(msix, v);
	pthread_mutex_unlock(&msix->lock);
}

int pci_device_add_msix(struct pci_device *dev, unsigned int index,
			unsigned int nvectors, unsigned int pba_offset)
{
	struct pci_msix *msix;
	int cap;

	if (dev->msix || !nvectors || nvectors > PCI_MSIX_MAX_VECTORS ||
	    pba_offset < nvectors * MSIX_ENTRY_SIZE ||
	    pba_offset + 8 > MSIX_BAR_SIZE || pba_offset % 8)
		return -1;
	msix = calloc(1, sizeof(*msix));
	if (!msix)
		return -1;
	pthread_mutex_init(&msix->lock, NULL);
	msix->dev = dev;
	msix->plat = pci_bus_platform(dev->bus);
	msix->nvectors = nvectors;
	msix->pba_offset = pba_offset;
	for (unsigned int i = 0; i < MSIX_MAX_BINDINGS; i++)
		msix->bind[i].fd = -1;
	for (unsigned int v = 0; v < PCI_MSIX_MAX_VECTORS; v++)
		msix->route[v].gsi = -1;
	for (unsigned int v = 0; v < nvectors; v++)
		put_le32(msix->table + v * MSIX_ENTRY_SIZE + 12,
			 MSIX_ENTRY_MASKED);
	if (pci_device_add_bar(dev, index, PCI_BAR_MEM32, false, MSIX_BAR_SIZE,
			       msix_bar_io, msix) < 0)
		goto fail;
	cap = pci_cap_add(dev, PCI_CAP_ID_MSIX, MSIX_CAP_LEN);
	if (cap < 0)
		goto fail;
	msix->cap = (unsigned int)cap;
	put_le16(dev->cfg + cap + 2, (uint16_t)(nvectors - 1));
	put_le32(dev->cfg + cap + 4, index); /* table at offset 0 of the BAR */
	put_le32(dev->cfg + cap + 8, pba_offset | index);
	put_le16(dev->wmask + cap + 2, MSIX_CTRL_ENABLE | MSIX_CTRL_MASKALL);
	dev->msix = msix;
	return 0;
fail:
	pthread_mutex_destroy(&msix->lock);
	free(msix);
	return -1;
}

int pci_msix_control_offset(const struct pci_device *dev)
{
	return dev->msix ? (int)dev->msix->cap + 2 : -1;
}

void pci_msix_control_written(struct pci_device *dev)
{
	struct pci_msix *msix = dev->msix;
	uint16_t ctrl = get_le16(dev->cfg + msix->cap + 2);

	pthread_mutex_lock(&msix->lock);
	msix->enabled = ctrl & MSIX_CTRL_ENABLE;
	msix->masked_all = ctrl & MSIX_CTRL_MASKALL;
	sync_all(msix);
	flush_pending(msix);
	pthread_mutex_unlock(&msix->lock);
}

void pci_msix_reset(struct pci_device *dev)
{
	struct pci_msix *msix = dev->msix;

	put_le16(dev->cfg + msix->cap + 2,
		 get_le16(dev->cfg + msix->cap + 2) &
			 ~(MSIX_CTRL_ENABLE | MSIX_CTRL_MASKALL));
	pthread_mutex_lock(&msix->lock);
	msix->enabled = msix->masked_all = false;
	msix->pending = 0;
	memset(msix->table, 0, sizeof(msix->table));
	for (unsigned int v = 0; v < msix->nvectors; v++)
		put_le32(msix->table + v * MSIX_ENTRY_SIZE + 12,
			 MSIX_ENTRY_MASKED);
	sync_all(msix);
	pthread_mutex_unlock(&msix->lock);
}

void pci_msix_destroy(struct pci_device *dev)
{
	struct pci_msix *msix = dev->msix;
	const struct dev_platform *plat;

	if (!msix)
		return;
	plat = msix->plat;
	for (unsigned int i = 0; i < MSIX_MAX_BINDINGS; i++) {
		struct msix_binding *b = &msix->bind[i];

		if (b->fd < 0)
			continue;
		if (b->irqfd)
			plat->ops->irqfd(plat->vm, b->fd,
					 msix->route[b->vector].gsi, false);
		event_loop_remove(plat->loop, &b->src);
	}
	for (unsigned int v = 0; v < msix->nvectors; v++)
		if (msix->route[v].gsi >= 0)
			plat->ops->msi_route_free(plat->vm, msix->route[v].gsi);
	pthread_mutex_destroy(&msix->lock);
	free(msix);
	dev->msix = NULL;
}
