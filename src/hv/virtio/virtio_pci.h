/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The virtio 1.x PCI transport, modern only (virtio spec 4.1): common,
 * notify, ISR, device-config and PCI-config-access capabilities in a
 * 64-bit prefetchable BAR, MSI-X with one vector per queue plus one for
 * configuration changes. The queues themselves are served elsewhere, by a
 * backend (a vhost-user device model): the transport hands it the rings
 * the driver set up and per queue a kick eventfd (a KVM ioeventfd on the
 * queue's notify address), a call eventfd (a KVM irqfd on the queue's
 * vector) and an error eventfd, so no queue kick or interrupt passes
 * through the hypervisor. Everything the driver writes is checked here
 * before the backend sees it; the backend checks the rings again.
 */
#ifndef BH_HV_VIRTIO_VIRTIO_PCI_H
#define BH_HV_VIRTIO_VIRTIO_PCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv/devices/device.h"

#define VIRTIO_QUEUES_MAX 16
#define VIRTIO_CONFIG_MAX 256
#define VIRTIO_NO_VECTOR 0xffff

/* Device status bits. */
#define VIRTIO_STATUS_ACKNOWLEDGE 0x01
#define VIRTIO_STATUS_DRIVER 0x02
#define VIRTIO_STATUS_DRIVER_OK 0x04
#define VIRTIO_STATUS_FEATURES_OK 0x08
#define VIRTIO_STATUS_NEEDS_RESET 0x40
#define VIRTIO_STATUS_FAILED 0x80

struct virtio_queue_setup {
	uint16_t index;
	uint16_t size;
	uint64_t desc; /* guest-physical, checked to be RAM */
	uint64_t avail;
	uint64_t used;
	int kick_fd;
	int call_fd;
	int err_fd;
};

struct virtio_backend_ops {
	/*
	 * The driver set DRIVER_OK: serve these queues with the negotiated
	 * features. Returns 0, or -1 with a reason in err.
	 */
	int (*start)(void *opaque, uint64_t features,
		     const struct virtio_queue_setup *q, unsigned int nq,
		     char *err, size_t errlen);
	/* The driver reset the device: stop serving every queue. */
	void (*stop)(void *opaque);
	/* The device is going away (its VM's vCPUs have stopped). */
	void (*destroy)(void *opaque);
};

/* What the backend is, as the transport presents it to the driver. */
struct virtio_backend {
	const struct virtio_backend_ops *ops;
	void *opaque;
	uint16_t device_id; /* virtio device type: 2 block, 1 net, ... */
	uint32_t class_code; /* PCI class, subclass, prog-if */
	uint64_t features; /* offered, transport bits already filtered */
	uint16_t num_queues; /* 1..VIRTIO_QUEUES_MAX */
	uint16_t queue_size_max; /* a power of two, 1..32768 */
	uint32_t config_len; /* 1..VIRTIO_CONFIG_MAX */
	uint8_t config[VIRTIO_CONFIG_MAX];
};

struct virtio_pci;

extern const struct device_ops virtio_pci_ops;

/* The feature bits this transport passes between driver and backend. */
uint64_t virtio_pci_transport_features(uint64_t offered);

/*
 * A PCI function on the platform's bus presenting be (copied). From a
 * successful return on, the device owns be->opaque and destroys it last.
 * NULL with a reason in err (be->opaque is then still the caller's).
 */
struct virtio_pci *virtio_pci_create(const struct dev_platform *plat,
				     const char *name,
				     const struct virtio_backend *be, char *err,
				     size_t errlen);
struct device *virtio_pci_device(struct virtio_pci *vp);

/*
 * Tells the driver the device needs a reset (DEVICE_NEEDS_RESET and a
 * configuration interrupt), logging why. Any thread; never blocks on the
 * backend.
 */
void virtio_pci_needs_reset(struct virtio_pci *vp, const char *why);

#endif
