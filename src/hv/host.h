/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Every VM of this host, by name and domid, with the main thread's event
 * loop. A VM that stops is torn down at once (its RAM and threads freed);
 * its entry stays, with the reason, until the toolstack removes it.
 */
#ifndef BH_HV_HOST_H
#define BH_HV_HOST_H

#include <stdbool.h>
#include <stdint.h>

#include "hv/event_loop.h"
#include "hv/host_hmx.h"
#include "hv/kvm.h"
#include "hv/vm.h"

struct hv_host;
struct hv_vsock;
struct console_client;

struct hv_vm {
	struct hv_host *host;
	char name[VM_NAME_MAX + 1];
	uint16_t domid;
	unsigned int vcpus;
	uint64_t memory;
	bool hmx; /* has the HMX controller */
	struct vm *vm; /* NULL once stopped and torn down */
	enum vm_stop_reason reason;
	char detail[256];
	struct timespec started;
	struct event_source stop_src;
	struct event_source console_src;
	struct console_client *clients;
	struct hv_vm *next;
};

typedef void (*hv_vm_stopped_fn)(struct hv_host *host, struct hv_vm *e);

struct hv_host {
	struct kvm_host kvm;
	struct event_loop *loop;
	struct host_hmx hmx;
	struct hv_vsock *vsock; /* vsock's host end (src/hv/vsock) */
	bool vsock_allowed; /* serve --vsock: the sandbox lets it work */
	/* serve --vsock DIR: every vsock_socket is DIR/NAME (in the jail). */
	const char *vsock_dir;
	struct hv_vm *vms;
	uint16_t next_domid;
	hv_vm_stopped_fn on_stopped;
	void *opaque;
};

int hv_host_init(struct hv_host *host, const char *kvm_path);
/* Destroys every VM. */
void hv_host_fini(struct hv_host *host);

struct hv_vm *hv_host_find(struct hv_host *host, const char *name);
struct hv_vm *hv_host_find_domid(struct hv_host *host, uint16_t domid);

/*
 * Creates (and, if start, starts) a VM; cfg->domid 0 means "allocate".
 * With hmx, the VM gets the HMX controller (cfg->hmx is set here).
 * On failure returns NULL with a reason in err. The fds in cfg stay the
 * caller's except console_fd and the vhost-user sockets, which the VM
 * owns from the call on.
 */
struct hv_vm *hv_host_create_vm(struct hv_host *host, struct vm_config *cfg,
				bool start, bool hmx, char *err, size_t errlen);
/* Stops a running VM; its entry reports VM_STOP_DESTROYED. */
void hv_host_stop_vm(struct hv_host *host, struct hv_vm *e);
/* Removes the entry of a stopped VM. */
void hv_host_remove_vm(struct hv_host *host, struct hv_vm *e);

const char *hv_vm_state_name(const struct hv_vm *e);

#endif
