/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One virtual machine. Everything a VM owns hangs off struct vm, so one
 * hypervisor process runs any number of them side by side.
 */
#ifndef BH_HV_VM_H
#define BH_HV_VM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "hv/devices/device.h"
#include "hv/devices/iobus.h"
#include "hv/irq_routing.h"
#include "hv/memory.h"
#include "hv/vm_stop.h"

#define VM_NAME_MAX 63
#define VM_MAX_VCPUS 64
#define VM_MIN_MEMORY (2ull << 20)
#define VM_MAX_MEMORY (1ull << 40)

struct kvm_host;
struct vcpu;
struct console;
struct event_loop;
struct hmx_host;

enum vm_state {
	VM_STATE_CREATED,
	VM_STATE_RUNNING,
	VM_STATE_PAUSED,
	VM_STATE_STOPPED,
};

/* A virtio device served by a vhost-user device model. */
struct vm_vhost_user {
	const char *name; /* for logs and stop reasons: "xvda" */
	uint16_t device_id; /* virtio type: 1 net, 2 block */
	int sock; /* connected to the device model; vm_create takes it */
};

#define VM_VHOST_USER_MAX 16

struct vm_config {
	const char *name;
	uint16_t domid;
	uint64_t memory; /* bytes, a multiple of 1 MiB */
	unsigned int vcpus;
	int kernel_fd; /* bzImage or ELF64; read, not kept */
	int initrd_fd; /* -1 for none */
	const char *cmdline;
	int console_fd; /* guest output is written here; -1 for none */
	struct hmx_host *hmx; /* NULL: no HMX controller */
	struct event_loop *loop; /* serves devices' host-side descriptors */
	const struct vm_vhost_user *vhost; /* in PCI slot order */
	unsigned int nvhost;
};

struct vm {
	const struct kvm_host *kvm;
	char name[VM_NAME_MAX + 1];
	uint16_t domid;
	int fd;
	struct guest_mem mem;
	unsigned int nvcpus;
	struct vcpu **vcpus;
	struct io_bus pio;
	struct io_bus mmio;

	struct console *console;
	struct irq_routing irq;
	struct dev_platform plat; /* what its devices see of it */
	struct device_list devices;

	pthread_mutex_t lock; /* protects state, parked, pause_req below */
	pthread_cond_t cond;
	enum vm_state state;
	unsigned int parked; /* vCPU threads waiting while paused */
	unsigned int threads; /* vCPU threads started and not yet finished */
	atomic_bool pause_req;
	atomic_int stop_reason; /* first enum vm_stop_reason set wins */
	char stop_detail[256];
	int stop_eventfd; /* readable once stop_reason is set */
	struct timespec started;
};

/*
 * Builds a VM from cfg: RAM, KVM objects, platform devices, the loaded
 * kernel and vCPUs, not yet running. On failure returns NULL and writes a
 * one-line reason to err.
 */
struct vm *vm_create(const struct kvm_host *kvm, const struct vm_config *cfg,
		     char *err, size_t errlen);
int vm_start(struct vm *vm);
int vm_pause(struct vm *vm);
int vm_unpause(struct vm *vm);
/* Stops the vCPUs (if running), frees everything. */
void vm_destroy(struct vm *vm);

/*
 * Asks the VM to stop for reason; the first reason wins. Safe from any
 * thread, including the VM's own vCPUs. detail may be NULL.
 */
void vm_request_stop(struct vm *vm, enum vm_stop_reason reason,
		     const char *detail);
/* Waits for all vCPU threads to finish after a stop was requested. */
void vm_wait_stopped(struct vm *vm);
enum vm_stop_reason vm_stop_reason(struct vm *vm);
const char *vm_stop_reason_name(enum vm_stop_reason reason);
enum vm_state vm_state(struct vm *vm);
const char *vm_state_name(enum vm_state state);

/* Interrupt delivery. */
void vm_irq_line(struct vm *vm, unsigned int irq, int level);
int vm_signal_msi(struct vm *vm, uint64_t addr, uint32_t data);

/* Console input for the serial port: bytes taken, and room left. */
size_t vm_console_receive(struct vm *vm, const uint8_t *buf, size_t len);
size_t vm_console_room(struct vm *vm);
/* Asks the guest to shut down cleanly: Ctrl-Alt-Del on its keyboard. */
void vm_send_ctrl_alt_del(struct vm *vm);

#endif
