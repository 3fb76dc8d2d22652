// SPDX-License-Identifier: GPL-2.0-only
/* Control operations on the host and its VMs. */
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hv/console_attach.h"
#include "hv/control/server.h"
#include "hv/host.h"
#include "hv/vsock/vsock_host.h"
#include "hv/x86/layout.h"
#include <bulkhead/hmx.h>

#include "util/log.h"

#define NAME_KEYS "op", "id", "name"

static json_object *vm_to_json(const struct hv_vm *e)
{
	json_object *o = json_object_new_object();
	struct timespec now;

	json_object_object_add(o, "name", json_object_new_string(e->name));
	json_object_object_add(o, "domid", json_object_new_int(e->domid));
	json_object_object_add(o, "state",
			       json_object_new_string(hv_vm_state_name(e)));
	json_object_object_add(o, "vcpus", json_object_new_int((int)e->vcpus));
	json_object_object_add(
		o, "memory_mib",
		json_object_new_int64((int64_t)(e->memory >> 20)));
	json_object_object_add(o, "hmx", json_object_new_boolean(e->hmx));
	if (e->vm) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		json_object_object_add(
			o, "uptime_ms",
			json_object_new_int64(
				(now.tv_sec - e->started.tv_sec) * 1000 +
				(now.tv_nsec - e->started.tv_nsec) / 1000000));
	} else {
		json_object_object_add(
			o, "stop_reason",
			json_object_new_string(vm_stop_reason_name(e->reason)));
		json_object_object_add(o, "stop_detail",
				       json_object_new_string(e->detail));
	}
	return o;
}

/* The VM the request's "name" names, or NULL with the request failed. */
static struct hv_vm *request_vm(struct control_server *srv, struct request *req,
				const char *const *keys)
{
	const char *name;
	struct hv_vm *e;

	request_only_keys(req, keys);
	name = request_string(req, "name", true, VM_NAME_MAX);
	if (request_failed(req))
		return NULL;
	e = hv_host_find(srv->host, name);
	if (!e)
		request_fail(req, "no VM named \"%s\"", name);
	return e;
}

static struct vm *request_running_vm(struct control_server *srv,
				     struct request *req,
				     const char *const *keys)
{
	struct hv_vm *e = request_vm(srv, req, keys);

	if (e && !e->vm) {
		request_fail(req, "VM \"%s\" is not running (it stopped: %s)",
			     e->name, vm_stop_reason_name(e->reason));
		return NULL;
	}
	return e ? e->vm : NULL;
}

static void op_host_info(struct control_server *srv, struct request *req,
			 json_object *reply)
{
	static const char *const keys[] = { "op", "id", NULL };
	const struct hv_vm *e;
	int n = 0;

	request_only_keys(req, keys);
	for (e = srv->host->vms; e; e = e->next)
		n++;
	json_object_object_add(reply, "version",
			       json_object_new_string(BULKHEAD_VERSION));
	json_object_object_add(reply, "pid", json_object_new_int(getpid()));
	json_object_object_add(reply, "vms", json_object_new_int(n));
}

static void op_subscribe(struct control_server *srv, struct request *req,
			 json_object *reply)
{
	static const char *const keys[] = { "op", "id", NULL };

	(void)srv;
	(void)reply;
	request_only_keys(req, keys); /* the server marks the client */
}

/*
 * "devices": [{"type": "virtio-blk", "name": "xvda", "fd": N}, ...]: a
 * connected vhost-user socket per device (virtio-blk or virtio-net), in
 * PCI slot order. Each fd may be named once, and by nothing else in the
 * request.
 */
static unsigned int request_devices(struct request *req,
				    struct vm_vhost_user *out, const int *used,
				    unsigned int nused)
{
	static const char *const keys[] = { "type", "name", "fd", NULL };
	json_object *arr =
		request_array(req, "devices", false, VM_VHOST_USER_MAX);
	unsigned int n = 0;

	for (size_t i = 0; arr && i < json_object_array_length(arr); i++) {
		json_object *d = json_object_array_get_idx(arr, i);
		const char *type;
		int fd;

		if (!json_object_is_type(d, json_type_object)) {
			request_fail(req, "devices[%zu] must be an object", i);
			return 0;
		}
		request_only_keys_in(req, d, keys, "a device");
		type = request_string_in(req, d, "type", true, 32);
		out[n].name = request_string_in(req, d, "name", true, 31);
		fd = request_fd_in(req, d, "fd", true);
		if (request_failed(req))
			return 0;
		if (!strcmp(type, "virtio-blk")) {
			out[n].device_id = 2;
		} else if (!strcmp(type, "virtio-net")) {
			out[n].device_id = 1;
		} else {
			request_fail(
				req,
				"devices[%zu]: type \"%s\" is not one of: virtio-blk, virtio-net",
				i, type);
			return 0;
		}
		for (unsigned int j = 0; j < nused + n; j++) {
			if ((j < nused ? used[j] : out[j - nused].sock) == fd) {
				request_fail(
					req,
					"devices[%zu]: fd is already used by another field",
					i);
				return 0;
			}
		}
		for (unsigned int j = 0; j < n; j++) {
			if (!strcmp(out[j].name, out[n].name)) {
				request_fail(
					req,
					"devices[%zu]: name \"%s\" is given twice",
					i, out[n].name);
				return 0;
			}
		}
		out[n].sock = fd;
		n++;
	}
	return n;
}

static void op_vm_create(struct control_server *srv, struct request *req,
			 json_object *reply)
{
	static const char *const keys[] = {
		"op",	 "id",	    "name",	    "domid",	 "memory_mib",
		"vcpus", "cmdline", "kernel_fd",    "initrd_fd", "console_fd",
		"start", "hmx",	    "vsock_socket", "devices",	 NULL,
	};
	struct vm_vhost_user devices[VM_VHOST_USER_MAX];
	struct vm_config cfg = { 0 };
	int used[3];
	const char *vsock_path;
	struct hv_vm *e;
	char err[512];
	bool start, hmx;

	request_only_keys(req, keys);
	cfg.name = request_string(req, "name", true, VM_NAME_MAX);
	cfg.domid = (uint16_t)request_uint(req, "domid", false,
					   HMX_DOMID_FIRST_GUEST,
					   HMX_DOMID_LAST_GUEST, 0);
	cfg.memory = request_uint(req, "memory_mib", true, VM_MIN_MEMORY >> 20,
				  VM_MAX_MEMORY >> 20, 0)
		     << 20;
	cfg.vcpus = (unsigned int)request_uint(req, "vcpus", false, 1,
					       VM_MAX_VCPUS, 1);
	cfg.cmdline =
		request_text(req, "cmdline", false, LAYOUT_CMDLINE_MAX - 1);
	cfg.kernel_fd = request_fd(req, "kernel_fd", true);
	cfg.initrd_fd = request_fd(req, "initrd_fd", false);
	cfg.console_fd = request_fd(req, "console_fd", false);
	start = request_bool(req, "start", true);
	hmx = request_bool(req, "hmx", true);
	vsock_path = request_string(req, "vsock_socket", false, 107);
	if (request_failed(req))
		return;
	used[0] = cfg.kernel_fd;
	used[1] = cfg.initrd_fd;
	used[2] = cfg.console_fd;
	cfg.vhost = devices;
	cfg.nvhost = request_devices(req, devices, used, 3);
	if (request_failed(req))
		return;
	if (vsock_path && !hmx) {
		request_fail(req, "vsock_socket: needs hmx");
		return;
	}
	if (vsock_path && !srv->host->vsock_allowed) {
		request_fail(req, "vsock_socket: the hypervisor was started "
				  "without --vsock");
		return;
	}
	if (vsock_path &&
	    !vsock_path_in_dir(vsock_path, srv->host->vsock_dir)) {
		request_fail(req,
			     "vsock_socket: must be a name directly in %s, "
			     "the hypervisor's vsock directory",
			     srv->host->vsock_dir);
		return;
	}
	if (!cfg.cmdline)
		cfg.cmdline = "";
	if (cfg.console_fd >= 0)
		request_take_fd(req, cfg.console_fd); /* the VM owns it now */
	for (unsigned int i = 0; i < cfg.nvhost; i++)
		request_take_fd(req, devices[i].sock); /* so do these */
	e = hv_host_create_vm(srv->host, &cfg, false, hmx, err, sizeof(err));
	if (!e) {
		request_fail(req, "%s", err);
		return;
	}
	/* Before its vCPUs run, so the guest never misses the host end. */
	if (vsock_path && hv_vsock_attach(srv->host->vsock, e->domid,
					  vsock_path, err, sizeof(err)) < 0) {
		hv_host_stop_vm(srv->host, e);
		hv_host_remove_vm(srv->host, e);
		request_fail(req, "%s", err);
		return;
	}
	if (start && vm_start(e->vm) < 0)
		bh_err("vm %s: cannot start its vCPUs", e->name);
	json_object_object_add(reply, "vm", vm_to_json(e));
}

static void op_vm_list(struct control_server *srv, struct request *req,
		       json_object *reply)
{
	static const char *const keys[] = { "op", "id", NULL };
	json_object *arr = json_object_new_array();
	const struct hv_vm *e;

	request_only_keys(req, keys);
	for (e = srv->host->vms; e; e = e->next)
		json_object_array_add(arr, vm_to_json(e));
	json_object_object_add(reply, "vms", arr);
}

/* vsock's host end, connection by connection (empty without --vsock). */
static void op_vsock_state(struct control_server *srv, struct request *req,
			   json_object *reply)
{
	static const char *const keys[] = { "op", "id", NULL };

	request_only_keys(req, keys);
	if (!request_failed(req) && srv->host->vsock)
		json_object_object_add(reply, "vsock",
				       hv_vsock_state(srv->host->vsock));
}

static void op_vm_info(struct control_server *srv, struct request *req,
		       json_object *reply)
{
	static const char *const keys[] = { NAME_KEYS, NULL };
	struct hv_vm *e = request_vm(srv, req, keys);

	if (e)
		json_object_object_add(reply, "vm", vm_to_json(e));
}

static void op_vm_start(struct control_server *srv, struct request *req,
			json_object *reply)
{
	static const char *const keys[] = { NAME_KEYS, NULL };
	struct vm *vm = request_running_vm(srv, req, keys);

	(void)reply;
	if (vm && vm_start(vm) < 0)
		request_fail(req, "VM \"%s\" is %s; only a created VM starts",
			     vm->name, vm_state_name(vm_state(vm)));
}

static void op_vm_pause(struct control_server *srv, struct request *req,
			json_object *reply)
{
	static const char *const keys[] = { NAME_KEYS, NULL };
	struct vm *vm = request_running_vm(srv, req, keys);

	(void)reply;
	if (vm && vm_pause(vm) < 0)
		request_fail(req, "VM \"%s\" is %s, not running", vm->name,
			     vm_state_name(vm_state(vm)));
}

static void op_vm_unpause(struct control_server *srv, struct request *req,
			  json_object *reply)
{
	static const char *const keys[] = { NAME_KEYS, NULL };
	struct vm *vm = request_running_vm(srv, req, keys);

	(void)reply;
	if (vm && vm_unpause(vm) < 0)
		request_fail(req, "VM \"%s\" is %s, not paused", vm->name,
			     vm_state_name(vm_state(vm)));
}

static void op_vm_shutdown(struct control_server *srv, struct request *req,
			   json_object *reply)
{
	static const char *const keys[] = { NAME_KEYS, NULL };
	struct vm *vm = request_running_vm(srv, req, keys);

	(void)reply;
	if (!vm)
		return;
	if (vm_state(vm) != VM_STATE_RUNNING) {
		request_fail(req, "VM \"%s\" is %s; unpause it first", vm->name,
			     vm_state_name(vm_state(vm)));
		return;
	}
	vm_send_ctrl_alt_del(vm);
}

static void op_vm_destroy(struct control_server *srv, struct request *req,
			  json_object *reply)
{
	static const char *const keys[] = { NAME_KEYS, NULL };
	struct hv_vm *e = request_vm(srv, req, keys);

	if (!e)
		return;
	hv_host_stop_vm(srv->host, e);
	json_object_object_add(reply, "vm", vm_to_json(e));
	hv_host_remove_vm(srv->host, e);
}

static void op_vm_console(struct control_server *srv, struct request *req,
			  json_object *reply)
{
	static const char *const keys[] = { NAME_KEYS, "fd", "history", NULL };
	struct hv_vm *e = request_vm(srv, req, keys);
	int fd = request_fd(req, "fd", true);
	bool history = request_bool(req, "history", true);

	(void)reply;
	if (!e || request_failed(req))
		return;
	if (!e->vm) {
		request_fail(req, "VM \"%s\" is not running", e->name);
		return;
	}
	if (console_attach(e, fd, history) < 0) {
		request_fail(req, "cannot attach: fd must be a stream socket");
		return;
	}
	request_take_fd(req, fd);
}

static void op_hv_quit(struct control_server *srv, struct request *req,
		       json_object *reply)
{
	static const char *const keys[] = { "op", "id", NULL };

	(void)reply;
	request_only_keys(req, keys);
	if (!request_failed(req))
		srv->quit = true;
}

/* clang-format off */
const struct control_op control_vm_ops[] = {
	{ "host.info", op_host_info },
	{ "subscribe", op_subscribe },
	{ "vm.create", op_vm_create },
	{ "vm.list", op_vm_list },
	{ "vm.info", op_vm_info },
	{ "vm.start", op_vm_start },
	{ "vm.pause", op_vm_pause },
	{ "vm.unpause", op_vm_unpause },
	{ "vm.shutdown", op_vm_shutdown },
	{ "vm.destroy", op_vm_destroy },
	{ "vm.console", op_vm_console },
	{ "vsock.state", op_vsock_state },
	{ "hv.quit", op_hv_quit },
	{ NULL, NULL },
};
/* clang-format on */
