// SPDX-License-Identifier: GPL-2.0-only
#include "hv/virtio/virtio_pci.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "hv/devices/pci.h"
#include "hv/devices/pci_msix.h"
#include "hv/event_loop.h"
#include "hv/memory.h"
#include "util/bytes.h"
#include "util/log.h"

#define VIRTIO_PCI_VENDOR 0x1af4
#define VIRTIO_PCI_DEVICE_BASE 0x1040

/* Capability types (virtio_pci_cap.cfg_type). */
#define CAP_COMMON 1
#define CAP_NOTIFY 2
#define CAP_ISR 3
#define CAP_DEVICE 4
#define CAP_PCI_CFG 5
#define CAP_LEN 16
#define CAP_NOTIFY_LEN 20
#define CAP_PCI_CFG_LEN 20

/* BAR 4 (64-bit, prefetchable): every region at a page of its own. */
#define MODERN_BAR 4
#define MODERN_BAR_SIZE 0x4000
#define COMMON_OFF 0x0000
#define COMMON_LEN 0x38
#define ISR_OFF 0x1000
#define DEVICE_OFF 0x2000
#define NOTIFY_OFF 0x3000
#define NOTIFY_MULTIPLIER 4
#define MSIX_BAR 1
#define MSIX_PBA_OFFSET 2048

/* Common configuration (struct virtio_pci_common_cfg). */
#define CC_DFSELECT 0x00
#define CC_DF 0x04
#define CC_GFSELECT 0x08
#define CC_GF 0x0c
#define CC_MSIX 0x10
#define CC_NUMQ 0x12
#define CC_STATUS 0x14
#define CC_CFGGEN 0x15
#define CC_Q_SELECT 0x16
#define CC_Q_SIZE 0x18
#define CC_Q_MSIX 0x1a
#define CC_Q_ENABLE 0x1c
#define CC_Q_NOFF 0x1e
#define CC_Q_DESCLO 0x20
#define CC_Q_DESCHI 0x24
#define CC_Q_AVAILLO 0x28
#define CC_Q_AVAILHI 0x2c
#define CC_Q_USEDLO 0x30
#define CC_Q_USEDHI 0x34

#define ISR_QUEUE 0x1
#define ISR_CONFIG 0x2

#define F_INDIRECT_DESC (1ull << 28)
#define F_EVENT_IDX (1ull << 29)
#define F_VERSION_1 (1ull << 32)
/* Device-type bits 0-23, and the ring layouts the backends implement. */
#define TRANSPORT_FEATURES \
	(((1ull << 24) - 1) | F_INDIRECT_DESC | F_EVENT_IDX | F_VERSION_1)

struct vq_state {
	uint16_t size;
	uint16_t vector;
	bool enabled;
	uint64_t desc, avail, used;
	int kick_fd, call_fd, err_fd;
	bool ioeventfd; /* kick_fd is a KVM ioeventfd now */
	uint64_t ioeventfd_addr;
	struct event_source err_src;
	struct virtio_pci *vp;
};

struct virtio_pci {
	struct device dev;
	char name[64];
	struct pci_device *pci;
	struct virtio_backend be;
	pthread_mutex_t lock; /* everything below but the atomics */
	uint32_t dfselect, gfselect;
	uint64_t driver_features;
	uint8_t status;
	uint8_t config_generation;
	uint16_t config_vector;
	uint16_t queue_select;
	bool started; /* the backend serves the queues */
	uint64_t notify_base; /* where BAR 4 is decoded, 0 if not */
	struct vq_state vq[VIRTIO_QUEUES_MAX];
	atomic_bool needs_reset; /* set by any thread, cleared by reset */
	atomic_uint isr;
	atomic_uint config_vector_now; /* config_vector, for needs_reset */
	unsigned int guest_errors; /* logged ones, rate-limited */
	unsigned int cfg_cap; /* the PCI configuration access capability */
};

uint64_t virtio_pci_transport_features(uint64_t offered)
{
	return offered & TRANSPORT_FEATURES;
}

static struct virtio_pci *vp_of(struct device *dev)
{
	return container_of(dev, struct virtio_pci, dev);
}

struct device *virtio_pci_device(struct virtio_pci *vp)
{
	return &vp->dev;
}

/* A guest mistake the device refuses: said, but not too often. */
static void guest_error(struct virtio_pci *vp, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void guest_error(struct virtio_pci *vp, const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	if (vp->guest_errors >= 32)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	bh_warn("vm %s: %s: %s%s", vp->dev.plat->vm_name, vp->name, msg,
		++vp->guest_errors == 32 ? " (no more such messages)" : "");
}

void virtio_pci_needs_reset(struct virtio_pci *vp, const char *why)
{
	unsigned int vector;

	if (atomic_exchange(&vp->needs_reset, true))
		return;
	bh_warn("vm %s: %s needs a reset: %s", vp->dev.plat->vm_name, vp->name,
		why);
	atomic_fetch_or(&vp->isr, ISR_CONFIG);
	vector = atomic_load(&vp->config_vector_now);
	if (vector != VIRTIO_NO_VECTOR)
		pci_msix_notify(vp->pci, vector);
}

/* Main thread: the backend signalled that a queue is broken. */
static void on_queue_error(struct event_source *src, uint32_t events)
{
	struct vq_state *q = src->opaque;
	char why[96];
	uint64_t n;

	(void)events;
	if (read(q->err_fd, &n, sizeof(n)) != sizeof(n))
		return;
	snprintf(why, sizeof(why),
		 "the device model found queue %td broken by the driver",
		 q - q->vp->vq);
	virtio_pci_needs_reset(q->vp, why);
}

static void drain(int fd)
{
	uint64_t n;

	while (read(fd, &n, sizeof(n)) == sizeof(n))
		;
}

/* Lock held. */
static void set_ioeventfd(struct virtio_pci *vp, struct vq_state *q, bool on)
{
	const struct dev_platform *plat = vp->dev.plat;
	uint64_t addr = vp->notify_base + NOTIFY_OFF +
			(uint64_t)(q - vp->vq) * NOTIFY_MULTIPLIER;

	if (q->ioeventfd && (!on || q->ioeventfd_addr != addr)) {
		plat->ops->ioeventfd(plat->vm, q->ioeventfd_addr, q->kick_fd,
				     false);
		q->ioeventfd = false;
	}
	if (on && !q->ioeventfd && vp->notify_base) {
		if (plat->ops->ioeventfd(plat->vm, addr, q->kick_fd, true) <
		    0) {
			bh_err("vm %s: %s: KVM_IOEVENTFD at 0x%llx: %s",
			       plat->vm_name, vp->name,
			       (unsigned long long)addr, strerror(errno));
			return;
		}
		q->ioeventfd = true;
		q->ioeventfd_addr = addr;
	}
}

/* A ring of size entries at gpa: RAM, aligned. */
static bool ring_ok(const struct virtio_pci *vp, uint64_t gpa, uint64_t len,
		    uint64_t align)
{
	return !(gpa & (align - 1)) &&
	       guest_mem_is_ram(vp->dev.plat->mem, gpa, len);
}

/* The rings of an enabled queue, checked; false says which is bad. */
static bool queue_rings_ok(struct virtio_pci *vp, unsigned int i, char *why,
			   size_t len)
{
	const struct vq_state *q = &vp->vq[i];
	uint64_t n = q->size;

	if (!ring_ok(vp, q->desc, 16 * n, 16))
		snprintf(why, len,
			 "queue %u: descriptor table 0x%llx is not RAM", i,
			 (unsigned long long)q->desc);
	else if (!ring_ok(vp, q->avail, 6 + 2 * n, 2))
		snprintf(why, len, "queue %u: driver area 0x%llx is not RAM", i,
			 (unsigned long long)q->avail);
	else if (!ring_ok(vp, q->used, 6 + 8 * n, 4))
		snprintf(why, len, "queue %u: device area 0x%llx is not RAM", i,
			 (unsigned long long)q->used);
	else
		return true;
	return false;
}

/* DRIVER_OK: hands the enabled queues to the backend. Lock held. */
static void vp_start(struct virtio_pci *vp)
{
	struct virtio_queue_setup setup[VIRTIO_QUEUES_MAX];
	unsigned int n = 0;
	char err[256];

	for (unsigned int i = 0; i < vp->be.num_queues; i++) {
		struct vq_state *q = &vp->vq[i];

		if (!q->enabled)
			continue;
		if (!queue_rings_ok(vp, i, err, sizeof(err))) {
			virtio_pci_needs_reset(vp, err);
			return;
		}
		setup[n++] = (struct virtio_queue_setup){
			.index = (uint16_t)i,
			.size = q->size,
			.desc = q->desc,
			.avail = q->avail,
			.used = q->used,
			.kick_fd = q->kick_fd,
			.call_fd = q->call_fd,
			.err_fd = q->err_fd,
		};
	}
	if (!n) {
		virtio_pci_needs_reset(vp, "DRIVER_OK with no queue enabled");
		return;
	}
	if (vp->be.ops->start(vp->be.opaque, vp->driver_features, setup, n, err,
			      sizeof(err)) < 0) {
		virtio_pci_needs_reset(vp, err);
		return;
	}
	vp->started = true;
	for (unsigned int i = 0; i < vp->be.num_queues; i++)
		if (vp->vq[i].enabled)
			set_ioeventfd(vp, &vp->vq[i], true);
}

/* Power-on state of the transport; the backend must be stopped. */
static void vp_power_on(struct virtio_pci *vp)
{
	vp->dfselect = vp->gfselect = 0;
	vp->driver_features = 0;
	vp->status = 0;
	vp->config_vector = VIRTIO_NO_VECTOR;
	atomic_store(&vp->config_vector_now, VIRTIO_NO_VECTOR);
	vp->queue_select = 0;
	for (unsigned int i = 0; i < vp->be.num_queues; i++) {
		struct vq_state *q = &vp->vq[i];

		q->size = vp->be.queue_size_max;
		q->vector = VIRTIO_NO_VECTOR;
		q->enabled = false;
		q->desc = q->avail = q->used = 0;
		pci_msix_bind_irqfd(vp->pci, q->call_fd, -1);
		drain(q->kick_fd);
		drain(q->call_fd);
		drain(q->err_fd);
	}
	atomic_store(&vp->isr, 0);
	atomic_store(&vp->needs_reset, false);
}

/* Lock held. */
static void vp_reset(struct virtio_pci *vp)
{
	for (unsigned int i = 0; i < vp->be.num_queues; i++)
		set_ioeventfd(vp, &vp->vq[i], false);
	if (vp->started) {
		vp->be.ops->stop(vp->be.opaque);
		vp->started = false;
	}
	vp_power_on(vp);
	vp->config_generation++;
}

static void write_status(struct virtio_pci *vp, uint8_t v)
{
	uint8_t old = vp->status;

	if (!v) {
		vp_reset(vp);
		return;
	}
	/* FEATURES_OK sticks only if the driver asked for what we offer. */
	if ((v & VIRTIO_STATUS_FEATURES_OK) &&
	    !(old & VIRTIO_STATUS_FEATURES_OK)) {
		uint64_t extra = vp->driver_features & ~vp->be.features;

		if (extra || !(vp->driver_features & F_VERSION_1)) {
			guest_error(vp, "driver features 0x%llx refused (%s)",
				    (unsigned long long)vp->driver_features,
				    extra ? "not offered" : "no VERSION_1");
			v &= ~VIRTIO_STATUS_FEATURES_OK;
		}
	}
	if ((v & VIRTIO_STATUS_DRIVER_OK) && !(v & VIRTIO_STATUS_FEATURES_OK)) {
		guest_error(vp, "DRIVER_OK without FEATURES_OK ignored");
		v &= ~VIRTIO_STATUS_DRIVER_OK;
	}
	vp->status = v;
	if ((v & VIRTIO_STATUS_DRIVER_OK) && !(old & VIRTIO_STATUS_DRIVER_OK))
		vp_start(vp);
}

static struct vq_state *selected(struct virtio_pci *vp)
{
	return vp->queue_select < vp->be.num_queues ?
		       &vp->vq[vp->queue_select] :
		       NULL;
}

static uint32_t common_read(struct virtio_pci *vp, uint64_t off,
			    unsigned int size)
{
	struct vq_state *q = selected(vp);
	uint32_t v = 0;

	switch (off) {
	case CC_DFSELECT:
		return vp->dfselect;
	case CC_DF:
		return vp->dfselect < 2 ? (uint32_t)(vp->be.features >>
						     (32 * vp->dfselect)) :
					  0;
	case CC_GFSELECT:
		return vp->gfselect;
	case CC_GF:
		return vp->gfselect < 2 ? (uint32_t)(vp->driver_features >>
						     (32 * vp->gfselect)) :
					  0;
	case CC_MSIX:
		return vp->config_vector;
	case CC_NUMQ:
		return vp->be.num_queues;
	case CC_STATUS:
		v = vp->status;
		if (atomic_load(&vp->needs_reset))
			v |= VIRTIO_STATUS_NEEDS_RESET;
		/* One byte, or the generation with it in a 16-bit read. */
		return size == 2 ? v | (uint32_t)vp->config_generation << 8 : v;
	case CC_CFGGEN:
		return vp->config_generation;
	case CC_Q_SELECT:
		return vp->queue_select;
	}
	if (!q)
		return 0; /* a queue that does not exist reads as size 0 */
	switch (off) {
	case CC_Q_SIZE:
		return q->size;
	case CC_Q_MSIX:
		return q->vector;
	case CC_Q_ENABLE:
		return q->enabled;
	case CC_Q_NOFF:
		return vp->queue_select;
	case CC_Q_DESCLO:
		return (uint32_t)q->desc;
	case CC_Q_DESCHI:
		return (uint32_t)(q->desc >> 32);
	case CC_Q_AVAILLO:
		return (uint32_t)q->avail;
	case CC_Q_AVAILHI:
		return (uint32_t)(q->avail >> 32);
	case CC_Q_USEDLO:
		return (uint32_t)q->used;
	case CC_Q_USEDHI:
		return (uint32_t)(q->used >> 32);
	}
	return 0;
}

static void set_half(uint64_t *field, bool high, uint32_t v)
{
	if (high)
		*field = (*field & 0xffffffffull) | (uint64_t)v << 32;
	else
		*field = (*field & ~0xffffffffull) | v;
}

static uint16_t checked_vector(struct virtio_pci *vp, uint32_t v)
{
	/* One vector per queue and one for configuration changes. */
	if (v != VIRTIO_NO_VECTOR && v > vp->be.num_queues) {
		guest_error(vp, "MSI-X vector %u does not exist", v);
		return VIRTIO_NO_VECTOR;
	}
	return (uint16_t)v;
}

static void queue_write(struct virtio_pci *vp, struct vq_state *q, uint64_t off,
			uint32_t v)
{
	/* Once enabled, a queue's setup is fixed until reset. */
	if (q->enabled && off != CC_Q_MSIX) {
		guest_error(vp, "queue %u changed while enabled: ignored",
			    vp->queue_select);
		return;
	}
	switch (off) {
	case CC_Q_SIZE:
		if (!v || v > vp->be.queue_size_max || (v & (v - 1))) {
			guest_error(
				vp,
				"queue %u: size %u refused (a power of two up to %u)",
				vp->queue_select, v, vp->be.queue_size_max);
			return;
		}
		q->size = (uint16_t)v;
		break;
	case CC_Q_MSIX:
		q->vector = checked_vector(vp, v);
		pci_msix_bind_irqfd(vp->pci, q->call_fd,
				    q->vector == VIRTIO_NO_VECTOR ? -1 :
								    q->vector);
		break;
	case CC_Q_ENABLE:
		if (v == 1)
			q->enabled = true;
		break;
	case CC_Q_DESCLO:
	case CC_Q_DESCHI:
		set_half(&q->desc, off == CC_Q_DESCHI, v);
		break;
	case CC_Q_AVAILLO:
	case CC_Q_AVAILHI:
		set_half(&q->avail, off == CC_Q_AVAILHI, v);
		break;
	case CC_Q_USEDLO:
	case CC_Q_USEDHI:
		set_half(&q->used, off == CC_Q_USEDHI, v);
		break;
	}
}

static void common_write(struct virtio_pci *vp, uint64_t off, uint32_t v)
{
	struct vq_state *q = selected(vp);

	switch (off) {
	case CC_DFSELECT:
		vp->dfselect = v;
		return;
	case CC_GFSELECT:
		vp->gfselect = v;
		return;
	case CC_GF:
		if (vp->status & VIRTIO_STATUS_FEATURES_OK) {
			guest_error(vp, "features changed after FEATURES_OK");
			return;
		}
		if (vp->gfselect < 2)
			set_half(&vp->driver_features, vp->gfselect == 1, v);
		return;
	case CC_MSIX:
		vp->config_vector = checked_vector(vp, v);
		atomic_store(&vp->config_vector_now, vp->config_vector);
		return;
	case CC_STATUS:
		write_status(vp, (uint8_t)v);
		return;
	case CC_Q_SELECT:
		vp->queue_select = (uint16_t)v;
		return;
	}
	if (!q) {
		guest_error(vp, "write to queue %u, which does not exist",
			    vp->queue_select);
		return;
	}
	queue_write(vp, q, off, v);
}

/* Field widths: an access must match a field (64-bit ones as halves). */
static unsigned int common_width(uint64_t off)
{
	switch (off) {
	case CC_MSIX:
	case CC_NUMQ:
	case CC_Q_SELECT:
	case CC_Q_SIZE:
	case CC_Q_MSIX:
	case CC_Q_ENABLE:
	case CC_Q_NOFF:
		return 2;
	case CC_STATUS:
	case CC_CFGGEN:
		return 1;
	}
	return off < COMMON_LEN && off % 4 == 0 ? 4 : 0;
}

static void common_io(struct virtio_pci *vp, uint64_t off, uint8_t *data,
		      unsigned int size, bool is_write)
{
	unsigned int width = common_width(off);
	uint32_t v;

	/* The status byte may also be read with the generation, 16 bits. */
	if (!width ||
	    (size != width && !(off == CC_STATUS && size == 2 && !is_write))) {
		if (!is_write)
			memset(data, 0, size);
		return;
	}
	if (is_write) {
		v = size == 1 ? data[0] :
		    size == 2 ? get_le16(data) :
				get_le32(data);
		common_write(vp, off, v);
		return;
	}
	v = common_read(vp, off, size);
	if (size == 1)
		data[0] = (uint8_t)v;
	else if (size == 2)
		put_le16(data, (uint16_t)v);
	else
		put_le32(data, v);
}

static void modern_bar_io(void *opaque, struct vcpu *vcpu, uint64_t offset,
			  uint8_t *data, unsigned int size, bool is_write)
{
	struct virtio_pci *vp = opaque;

	(void)vcpu;
	if (offset < COMMON_OFF + COMMON_LEN) {
		pthread_mutex_lock(&vp->lock);
		common_io(vp, offset - COMMON_OFF, data, size, is_write);
		pthread_mutex_unlock(&vp->lock);
		return;
	}
	if (!is_write)
		memset(data, 0, size);
	if (offset == ISR_OFF && !is_write) {
		data[0] = (uint8_t)atomic_exchange(&vp->isr, 0);
	} else if (offset >= DEVICE_OFF &&
		   offset - DEVICE_OFF < vp->be.config_len) {
		uint64_t at = offset - DEVICE_OFF;

		/* Read-only for now: no backend takes SET_CONFIG. */
		if (!is_write)
			for (unsigned int i = 0;
			     i < size && at + i < vp->be.config_len; i++)
				data[i] = vp->be.config[at + i];
	}
	/*
	 * A notify write here missed every ioeventfd: before DRIVER_OK, or
	 * for a queue that does not exist. Nothing to do either way.
	 */
}

/*
 * The PCI configuration access capability (VIRTIO_PCI_CAP_PCI_CFG): the
 * driver names a BAR, offset and length in it, then reads or writes its
 * data bytes to reach that BAR register through config space.
 */
static unsigned int pci_cfg_cap_offset(const struct virtio_pci *vp)
{
	return vp->cfg_cap;
}

static void hook_cfg_write(void *opaque, struct pci_device *dev,
			   unsigned int reg, unsigned int size)
{
	struct virtio_pci *vp = opaque;
	unsigned int cap = pci_cfg_cap_offset(vp), data = cap + 16;
	uint8_t bar = dev->cfg[cap + 4];
	uint32_t off = get_le32(dev->cfg + cap + 8);
	uint32_t len = get_le32(dev->cfg + cap + 12);

	if (reg + size <= data || reg >= data + 4)
		return;
	if (len == 1 || len == 2 || len == 4)
		pci_device_bar_access(dev, bar, off, dev->cfg + data, len,
				      true);
}

static void hook_cfg_read(void *opaque, struct pci_device *dev,
			  unsigned int reg, uint8_t *out, unsigned int size)
{
	struct virtio_pci *vp = opaque;
	unsigned int cap = pci_cfg_cap_offset(vp), data = cap + 16;
	uint8_t bar = dev->cfg[cap + 4], buf[4] = { 0 };
	uint32_t off = get_le32(dev->cfg + cap + 8);
	uint32_t len = get_le32(dev->cfg + cap + 12);

	if (reg + size <= data || reg >= data + 4)
		return;
	if (len == 1 || len == 2 || len == 4)
		pci_device_bar_access(dev, bar, off, buf, len, false);
	for (unsigned int i = 0; i < size; i++)
		if (reg + i >= data && reg + i < data + 4)
			out[i] = buf[reg + i - data];
}

static void hook_bar_moved(void *opaque, struct pci_device *dev,
			   unsigned int bar, uint64_t old_addr,
			   uint64_t new_addr)
{
	struct virtio_pci *vp = opaque;

	(void)dev;
	(void)old_addr;
	if (bar != MODERN_BAR)
		return;
	pthread_mutex_lock(&vp->lock);
	vp->notify_base = new_addr;
	if (vp->started)
		for (unsigned int i = 0; i < vp->be.num_queues; i++)
			if (vp->vq[i].enabled)
				set_ioeventfd(vp, &vp->vq[i], true);
	if (!new_addr)
		for (unsigned int i = 0; i < vp->be.num_queues; i++)
			set_ioeventfd(vp, &vp->vq[i], false);
	pthread_mutex_unlock(&vp->lock);
}

static const struct pci_device_hooks vp_hooks = {
	.cfg_write = hook_cfg_write,
	.cfg_read = hook_cfg_read,
	.bar_moved = hook_bar_moved,
};

/* A vendor capability pointing at a region of BAR 4. */
static int add_virtio_cap(struct pci_device *dev, uint8_t type,
			  unsigned int len, uint32_t offset, uint32_t length)
{
	int at = pci_cap_add(dev, PCI_CAP_ID_VNDR, len);

	if (at < 0)
		return -1;
	dev->cfg[at + 2] = (uint8_t)len;
	dev->cfg[at + 3] = type;
	dev->cfg[at + 4] = type == CAP_PCI_CFG ? 0 : MODERN_BAR;
	put_le32(dev->cfg + at + 8, offset);
	put_le32(dev->cfg + at + 12, length);
	if (type == CAP_NOTIFY)
		put_le32(dev->cfg + at + 16, NOTIFY_MULTIPLIER);
	return at;
}

static int add_capabilities(struct virtio_pci *vp)
{
	struct pci_device *dev = vp->pci;
	int at;

	if (add_virtio_cap(dev, CAP_COMMON, CAP_LEN, COMMON_OFF, COMMON_LEN) <
		    0 ||
	    add_virtio_cap(dev, CAP_ISR, CAP_LEN, ISR_OFF, 1) < 0 ||
	    add_virtio_cap(dev, CAP_DEVICE, CAP_LEN, DEVICE_OFF,
			   vp->be.config_len) < 0 ||
	    add_virtio_cap(dev, CAP_NOTIFY, CAP_NOTIFY_LEN, NOTIFY_OFF,
			   vp->be.num_queues * NOTIFY_MULTIPLIER) < 0)
		return -1;
	at = add_virtio_cap(dev, CAP_PCI_CFG, CAP_PCI_CFG_LEN, 0, 0);
	if (at < 0)
		return -1;
	vp->cfg_cap = (unsigned int)at;
	dev->wmask[at + 4] = 0xff; /* bar */
	memset(dev->wmask + at + 8, 0xff, 12); /* offset, length, data */
	return 0;
}

/* Everything but the backend; the PCI function leaves the bus. */
static void vp_free(struct virtio_pci *vp)
{
	const struct dev_platform *plat = vp->dev.plat;

	if (vp->pci) {
		pci_device_set_hooks(vp->pci, NULL, NULL);
		pci_device_remove(vp->pci); /* and its irqfd bindings */
	}
	for (unsigned int i = 0; i < vp->be.num_queues; i++) {
		struct vq_state *q = &vp->vq[i];

		if (q->err_src.fn)
			event_loop_remove(plat->loop, &q->err_src);
		if (q->kick_fd >= 0)
			close(q->kick_fd);
		if (q->call_fd >= 0)
			close(q->call_fd);
		if (q->err_fd >= 0)
			close(q->err_fd);
	}
	pthread_mutex_destroy(&vp->lock);
	free(vp);
}

static void vp_destroy(struct device *dev)
{
	struct virtio_pci *vp = vp_of(dev);
	struct virtio_backend be = vp->be;

	pthread_mutex_lock(&vp->lock);
	for (unsigned int i = 0; i < vp->be.num_queues; i++)
		set_ioeventfd(vp, &vp->vq[i], false);
	if (vp->started)
		vp->be.ops->stop(vp->be.opaque);
	vp->started = false;
	pthread_mutex_unlock(&vp->lock);
	vp_free(vp);
	be.ops->destroy(be.opaque);
}

static void vp_reset_op(struct device *dev)
{
	struct virtio_pci *vp = vp_of(dev);

	pthread_mutex_lock(&vp->lock);
	vp_reset(vp);
	pthread_mutex_unlock(&vp->lock);
}

const struct device_ops virtio_pci_ops = {
	.name = "virtio-pci",
	.reset = vp_reset_op,
	.destroy = vp_destroy,
};

static bool backend_ok(const struct virtio_backend *be, char *err,
		       size_t errlen)
{
	const char *why = NULL;

	if (!(be->features & F_VERSION_1))
		why = "it does not offer VIRTIO_F_VERSION_1 (virtio 1.x)";
	else if (!be->num_queues || be->num_queues > VIRTIO_QUEUES_MAX)
		why = "its number of queues is out of range";
	else if (!be->queue_size_max || be->queue_size_max > 32768 ||
		 (be->queue_size_max & (be->queue_size_max - 1)))
		why = "its queue size is not a power of two up to 32768";
	else if (!be->config_len || be->config_len > VIRTIO_CONFIG_MAX)
		why = "its configuration space is too large";
	if (why)
		snprintf(err, errlen, "backend refused: %s", why);
	return !why;
}

struct virtio_pci *virtio_pci_create(const struct dev_platform *plat,
				     const char *name,
				     const struct virtio_backend *be, char *err,
				     size_t errlen)
{
	const struct pci_ids ids = {
		.vendor = VIRTIO_PCI_VENDOR,
		.device = (uint16_t)(VIRTIO_PCI_DEVICE_BASE + be->device_id),
		.class_code = be->class_code,
		.revision = 1, /* modern only */
		.subsystem_vendor = VIRTIO_PCI_VENDOR,
		.subsystem = 0x40,
	};
	struct virtio_pci *vp;

	if (!backend_ok(be, err, errlen))
		return NULL;
	vp = calloc(1, sizeof(*vp));
	if (!vp) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	device_init(&vp->dev, &virtio_pci_ops, plat);
	snprintf(vp->name, sizeof(vp->name), "%s", name);
	vp->be = *be;
	vp->be.features = virtio_pci_transport_features(be->features);
	pthread_mutex_init(&vp->lock, NULL);
	for (unsigned int i = 0; i < VIRTIO_QUEUES_MAX; i++) {
		struct vq_state *q = &vp->vq[i];

		q->vp = vp;
		q->kick_fd = q->call_fd = q->err_fd = -1;
		if (i >= be->num_queues)
			continue;
		q->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		q->call_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		q->err_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (q->kick_fd < 0 || q->call_fd < 0 || q->err_fd < 0) {
			snprintf(err, errlen, "eventfd: %s", strerror(errno));
			goto fail;
		}
	}
	vp->pci = pci_device_add(plat->pci, vp->name, &ids);
	if (!vp->pci) {
		snprintf(err, errlen, "no free PCI slot");
		goto fail;
	}
	/* Before the BARs: the first bar_moved says where BAR 4 is. */
	pci_device_set_hooks(vp->pci, &vp_hooks, vp);
	if (pci_device_add_msix(vp->pci, MSIX_BAR, be->num_queues + 1u,
				MSIX_PBA_OFFSET) < 0 ||
	    pci_device_add_bar(vp->pci, MODERN_BAR, PCI_BAR_MEM64, true,
			       MODERN_BAR_SIZE, modern_bar_io, vp) < 0 ||
	    add_capabilities(vp) < 0) {
		snprintf(err, errlen, "PCI function setup failed");
		goto fail;
	}
	for (unsigned int i = 0; i < be->num_queues; i++) {
		struct vq_state *q = &vp->vq[i];

		if (!plat->loop) {
			snprintf(err, errlen, "no event loop");
			goto fail;
		}
		q->err_src =
			(struct event_source){ q->err_fd, on_queue_error, q };
		if (event_loop_add(plat->loop, &q->err_src, EPOLLIN) < 0) {
			q->err_src.fn = NULL;
			snprintf(err, errlen, "event loop: %s",
				 strerror(errno));
			goto fail;
		}
	}
	vp_power_on(vp);
	return vp;
fail:
	vp_free(vp);
	return NULL;
}
