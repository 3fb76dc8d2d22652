/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The vhost-user front end: bulkhead-hv's side of the connection to a
 * device model (bulkhead-blk, qemu-storage-daemon, ...). It shares the
 * VM's RAM (the memfd, as two regions around the MMIO hole) and per queue
 * the kick, call and error eventfds, and nothing else.
 *
 * A device model is less trusted than the hypervisor: every reply is
 * checked (request, flags, exact size, no descriptors), every value in it
 * bounded, and no exchange waits longer than VHU_REPLY_TIMEOUT_MS. A
 * backend that breaks the protocol, stops answering or goes away stops
 * its own VM, with a reason naming the device; nothing else is affected.
 */
#ifndef BH_HV_VIRTIO_VHOST_USER_FRONT_H
#define BH_HV_VIRTIO_VHOST_USER_FRONT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "virtio/vhost_user.h"

struct dev_platform;
struct virtio_backend;

#define VHU_REPLY_TIMEOUT_MS 5000
/* The largest queue this front end offers a driver. */
#define VHU_QUEUE_SIZE_MAX 256

/*
 * Negotiates with the back end on the connected stream socket sock (taken
 * over, closed on failure too) for a virtio device of type device_id, and
 * fills be for virtio_pci_create(). name labels log lines and stop
 * reasons ("xvda"). NULL with a reason in err.
 */
struct vhu_front *vhu_front_connect(const struct dev_platform *plat,
				    const char *name, int sock,
				    uint16_t device_id,
				    struct virtio_backend *be, char *err,
				    size_t errlen);
/* Frees a front end that never became a device's backend. */
void vhu_front_free(struct vhu_front *f);

/*
 * Checks a reply's header against the request it answers: version 1, the
 * REPLY flag and nothing unknown, the same request, and exactly the size
 * that request's reply has (want_size). Pure; fuzzed.
 */
int vhu_check_reply_header(const struct vhost_user_header *hdr,
			   uint32_t request, uint32_t want_size, char *err,
			   size_t errlen);

/* Size of the device configuration this front end asks for, per type. */
uint32_t vhu_config_size(uint16_t device_id);

#endif
