// SPDX-License-Identifier: GPL-2.0-only
#include "hv/host.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "hv/console.h"
#include "hv/console_attach.h"
#include "hv/vcpu.h"
#include "hv/vsock/vsock_host.h"
#include <bulkhead/hmx.h>
#include "util/log.h"

int hv_host_init(struct hv_host *host, const char *kvm_path)
{
	memset(host, 0, sizeof(*host));
	host->next_domid = HMX_DOMID_FIRST_GUEST;
	if (vcpu_signals_init() < 0) {
		bh_err("cannot install the vCPU kick signal: %s",
		       strerror(errno));
		return -1;
	}
	if (kvm_host_open(&host->kvm, kvm_path) < 0)
		return -1;
	host->loop = event_loop_create();
	if (!host->loop || host_hmx_init(&host->hmx, host->loop) < 0) {
		event_loop_destroy(host->loop);
		kvm_host_close(&host->kvm);
		return -1;
	}
	if (hv_vsock_create(&host->hmx, host->loop, &host->vsock) < 0) {
		bh_err("cannot set up vsock's host end");
		host_hmx_fini(&host->hmx, host->loop);
		event_loop_destroy(host->loop);
		kvm_host_close(&host->kvm);
		return -1;
	}
	return 0;
}

static void hv_vm_teardown(struct hv_host *host, struct hv_vm *e)
{
	if (!e->vm)
		return;
	hv_vsock_detach(host->vsock, e->domid);
	event_loop_remove(host->loop, &e->stop_src);
	event_loop_remove(host->loop, &e->console_src);
	console_attach_flush_all(e);
	vm_destroy(e->vm);
	e->vm = NULL;
	console_attach_close_all(e);
}

void hv_host_fini(struct hv_host *host)
{
	while (host->vms) {
		struct hv_vm *e = host->vms;

		if (e->vm)
			hv_host_stop_vm(host, e);
		hv_host_remove_vm(host, e);
	}
	/* Every VM's domain is gone; the host's own goes with the core. */
	hv_vsock_destroy(host->vsock);
	host_hmx_fini(&host->hmx, host->loop);
	event_loop_destroy(host->loop);
	kvm_host_close(&host->kvm);
}

struct hv_vm *hv_host_find(struct hv_host *host, const char *name)
{
	struct hv_vm *e;

	for (e = host->vms; e; e = e->next)
		if (!strcmp(e->name, name))
			return e;
	return NULL;
}

struct hv_vm *hv_host_find_domid(struct hv_host *host, uint16_t domid)
{
	struct hv_vm *e;

	for (e = host->vms; e; e = e->next)
		if (e->domid == domid)
			return e;
	return NULL;
}

/* Domids are not reused until they wrap, so a late message is not misread. */
static uint16_t hv_host_alloc_domid(struct hv_host *host)
{
	unsigned int tries;

	for (tries = 0; tries <= HMX_DOMID_LAST_GUEST; tries++) {
		uint16_t d = host->next_domid++;

		if (host->next_domid > HMX_DOMID_LAST_GUEST)
			host->next_domid = HMX_DOMID_FIRST_GUEST;
		if (!hv_host_find_domid(host, d))
			return d;
	}
	return 0;
}

static void on_vm_stop(struct event_source *src, uint32_t events)
{
	struct hv_vm *e = src->opaque;
	struct hv_host *host = e->host;

	(void)events;
	vm_wait_stopped(e->vm);
	e->reason = vm_stop_reason(e->vm);
	snprintf(e->detail, sizeof(e->detail), "%s", e->vm->stop_detail);
	if (e->reason == VM_STOP_CRASH)
		bh_err("vm %s (domid %u): crashed: %s", e->name, e->domid,
		       e->detail);
	else
		bh_info("vm %s (domid %u): %s%s%s", e->name, e->domid,
			vm_stop_reason_name(e->reason), *e->detail ? ": " : "",
			e->detail);
	hv_vm_teardown(host, e);
	if (host->on_stopped)
		host->on_stopped(host, e);
}

struct hv_vm *hv_host_create_vm(struct hv_host *host, struct vm_config *cfg,
				bool start, bool hmx, char *err, size_t errlen)
{
	struct hv_vm *e;

	if (hv_host_find(host, cfg->name)) {
		snprintf(err, errlen, "a VM named \"%s\" exists", cfg->name);
		goto fail;
	}
	if (!cfg->domid)
		cfg->domid = hv_host_alloc_domid(host);
	if (!cfg->domid || cfg->domid < HMX_DOMID_FIRST_GUEST ||
	    cfg->domid > HMX_DOMID_LAST_GUEST ||
	    hv_host_find_domid(host, cfg->domid)) {
		snprintf(err, errlen, "no free domid");
		goto fail;
	}
	e = calloc(1, sizeof(*e));
	if (!e) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	cfg->hmx = hmx ? host->hmx.core : NULL;
	cfg->loop = host->loop;
	e->vm = vm_create(&host->kvm, cfg, err, errlen);
	cfg->console_fd = -1; /* consumed by vm_create */
	if (!e->vm) {
		free(e);
		return NULL;
	}
	e->host = host;
	snprintf(e->name, sizeof(e->name), "%s", cfg->name);
	e->domid = cfg->domid;
	e->vcpus = cfg->vcpus;
	e->memory = cfg->memory;
	e->hmx = hmx;
	e->stop_src =
		(struct event_source){ e->vm->stop_eventfd, on_vm_stop, e };
	e->console_src = (struct event_source){ e->vm->console->event_fd,
						console_attach_on_output, e };
	if (event_loop_add(host->loop, &e->stop_src, EPOLLIN) < 0 ||
	    event_loop_add(host->loop, &e->console_src, EPOLLIN) < 0) {
		snprintf(err, errlen, "event loop: %s", strerror(errno));
		event_loop_remove(host->loop, &e->stop_src);
		vm_destroy(e->vm);
		free(e);
		return NULL;
	}
	e->next = host->vms;
	host->vms = e;
	clock_gettime(CLOCK_MONOTONIC, &e->started);
	if (start && vm_start(e->vm) < 0)
		bh_err("vm %s: cannot start its vCPUs", e->name);
	return e;
fail:
	if (cfg->console_fd >= 0)
		close(cfg->console_fd);
	cfg->console_fd = -1;
	for (unsigned int i = 0; i < cfg->nvhost; i++)
		close(cfg->vhost[i].sock);
	return NULL;
}

void hv_host_stop_vm(struct hv_host *host, struct hv_vm *e)
{
	if (!e->vm)
		return;
	vm_request_stop(e->vm, VM_STOP_DESTROYED, "destroyed by the host");
	on_vm_stop(&e->stop_src, EPOLLIN);
	(void)host;
}

void hv_host_remove_vm(struct hv_host *host, struct hv_vm *e)
{
	struct hv_vm **p;

	hv_vm_teardown(host, e);
	for (p = &host->vms; *p; p = &(*p)->next) {
		if (*p == e) {
			*p = e->next;
			break;
		}
	}
	free(e);
}

const char *hv_vm_state_name(const struct hv_vm *e)
{
	if (!e->vm)
		return "stopped";
	return vm_state_name(vm_state(e->vm));
}
