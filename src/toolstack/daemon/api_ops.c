// SPDX-License-Identifier: GPL-2.0-only
/* The operations of bulkheadd's API (docs/toolstack.md lists them). */
#include "toolstack/daemon/daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "toolstack/daemon/api_client.h"
#include "toolstack/daemon/disks.h"
#include "toolstack/daemon/nics.h"
#include "toolstack/daemon/measure_launch.h"
#include "toolstack/daemon/host_launch.h"
#include "toolstack/daemon/tpm_use.h"
#include "toolstack/jget.h"
#include "toolstack/vmcfg.h"
#include "util/log.h"

/* A request in flight: what every handler needs. */
struct req {
	struct bhd *d;
	struct api_client *c;
	struct json_object *o;
	int64_t id;
	int *fds;
	size_t nfds;
};

#define FAIL(rq, code, ...) \
	api_reply_err((rq)->d, (rq)->c, (rq)->id, code, __VA_ARGS__)
#define FAIL_RET(rq, ...)              \
	do {                           \
		FAIL(rq, __VA_ARGS__); \
		return;                \
	} while (0)

static void jadd_str(struct json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v ? v : ""));
}

static void jadd_int(struct json_object *o, const char *k, int64_t v)
{
	json_object_object_add(o, k, json_object_new_int64(v));
}

/* The VM named by the request, or NULL after replying no-such-vm. */
static struct vmrec *req_vm(struct req *rq)
{
	const char *name = jget_str(rq->o, "name");
	struct vmrec *r;

	if (!name) {
		FAIL(rq, BHD_ERR_USAGE, "missing \"name\"");
		return NULL;
	}
	r = bhd_find(rq->d, name);
	if (!r)
		FAIL(rq, BHD_ERR_NO_VM, "no VM named \"%s\"", name);
	return r;
}

static struct vmrec *req_active_vm(struct req *rq)
{
	struct vmrec *r = req_vm(rq);

	if (r && !r->active) {
		FAIL(rq, BHD_ERR_STATE, "VM %s is not running", r->name);
		return NULL;
	}
	return r;
}

/* The hypervisor's view of one VM from a vm.list reply, or NULL. */
static struct json_object *hv_entry(struct json_object *list, const char *name)
{
	for (size_t i = 0; list && i < json_object_array_length(list); i++) {
		struct json_object *v = json_object_array_get_idx(list, i);

		if (!strcmp(jget_str(v, "name") ?: "", name))
			return v;
	}
	return NULL;
}

/* The definition's warnings, each "file:line:column: message". */
static struct json_object *warnings_json(const struct vmcfg *cfg)
{
	struct json_object *a = json_object_new_array();

	for (size_t i = 0; i < cfg->nwarnings; i++) {
		char text[CFG_ERROR_FILE_MAX + CFG_ERROR_MSG_MAX + 32];

		cfg_error_format(&cfg->warnings[i], text, sizeof(text));
		json_object_array_add(a, json_object_new_string(text));
	}
	return a;
}

/* A stopped VM's disks, as its definition has them. */
static struct json_object *defined_disks_json(const struct vmcfg *cfg)
{
	struct json_object *a = json_object_new_array();

	for (size_t i = 0; i < cfg->ndisks; i++) {
		const struct disk_spec *ds = &cfg->disks[i];
		struct json_object *o = json_object_new_object();

		jadd_str(o, "vdev", ds->vdev);
		jadd_str(o, "target", ds->target);
		jadd_str(o, "format", disk_format_name(ds->format));
		jadd_str(o, "access", ds->readonly ? "ro" : "rw");
		jadd_str(o, "backend", disk_backend_name(ds->backend));
		jadd_str(o, "state", "off");
		json_object_array_add(a, o);
	}
	return a;
}

static struct json_object *vm_json(struct bhd *d, struct vmrec *r,
				   struct json_object *hvlist)
{
	struct json_object *o = json_object_new_object();
	struct vmcfg *cfg = r->cfg, *parsed = NULL;
	struct json_object *h = r->active ? hv_entry(hvlist, r->name) : NULL;
	char *text, *base, err[512];

	if (!cfg && !store_read_def(r->def_path, &text, &base, &parsed, err,
				    sizeof(err))) {
		free(text);
		free(base);
		cfg = parsed;
	}
	jadd_str(o, "name", r->name);
	jadd_str(o, "definition", r->def_path);
	json_object_object_add(o, "registered",
			       json_object_new_boolean(r->registered));
	if (cfg) {
		jadd_str(o, "role", vm_role_name(cfg->role));
		jadd_int(o, "memory_mib", cfg->memory_mib);
		jadd_int(o, "vcpus", cfg->vcpus);
		json_object_object_add(o, "hmx",
				       json_object_new_boolean(cfg->hmx));
		json_object_object_add(o, "autostart",
				       json_object_new_boolean(cfg->autostart));
		if (cfg->vsock) {
			char path[PATH_MAX];

			if (!bhd_vsock_path(d, r->name, path, sizeof(path)))
				jadd_str(o, "vsock", path);
		}
		jadd_str(o, "serial", vmcfg_serial_name(cfg->serial));
		if (cfg->nwarnings)
			json_object_object_add(o, "warnings",
					       warnings_json(cfg));
	} else {
		jadd_str(o, "definition_error", err);
	}
	if (r->active) {
		const char *st = h ? jget_str(h, "state") : NULL;

		if (!st)
			st = "unknown";
		else if (!strcmp(st, "running") && r->shutdown_requested)
			st = "shutting-down";
		else if (!strcmp(st, "created"))
			st = "starting";
		jadd_str(o, "state", st);
		jadd_int(o, "domid", r->domid);
		jadd_int(o, "seq", (int64_t)r->seq);
		if (h && jget(h, "uptime_ms", json_type_int))
			jadd_int(o, "uptime_ms", jget_int(h, "uptime_ms", 0));
		/* Stopped a moment ago, its event not yet handled. */
		if (jget_str(h, "stop_reason")) {
			jadd_str(o, "stop_reason", jget_str(h, "stop_reason"));
			jadd_str(o, "stop_detail",
				 jget_str(h, "stop_detail") ?: "");
		}
	} else {
		jadd_str(o, "state", r->stop_reason[0] ? "stopped" : "off");
	}
	if (!r->active && r->stop_reason[0]) {
		jadd_str(o, "stop_reason", r->stop_reason);
		jadd_str(o, "stop_detail", r->stop_detail);
	}
	jadd_int(o, "guest_reboots", (int64_t)r->guest_reboots);
	jadd_int(o, "crash_restarts", (int64_t)r->crash_restarts);
	if (r->active)
		json_object_object_add(o, "disks", disks_json(r));
	else if (cfg)
		json_object_object_add(o, "disks", defined_disks_json(cfg));
	/* An NDVM's NICs while it runs: namespace, tap, MAC, device model. */
	if (r->active && r->nnics)
		json_object_object_add(o, "nics", nics_json(r));
	vmcfg_free(parsed);
	return o;
}

static struct json_object *hv_list(struct bhd *d)
{
	struct json_object *reply = NULL, *l;
	char err[256];

	if (hvconn_call(&d->hv, "vm.list", NULL, NULL, 0, &reply, err,
			sizeof(err)) < 0)
		return NULL;
	l = jget(reply, "vms", json_type_array);
	json_object_get(l);
	json_object_put(reply);
	return l;
}

static void reply_vm(struct req *rq, struct vmrec *r)
{
	struct json_object *l = r->active ? hv_list(rq->d) : NULL;
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "vm", vm_json(rq->d, r, l));
	json_object_put(l);
	api_reply(rq->d, rq->c, rq->id, o, NULL, 0);
}

static void op_create(struct req *rq)
{
	const char *path = jget_str(rq->o, "path");
	bool start = jget_bool(rq->o, "start", true);
	char *text, *base, err[1024];
	struct vmcfg *cfg;
	struct vmrec *r;
	int e;

	if (!path || path[0] != '/')
		FAIL_RET(rq, BHD_ERR_USAGE, "\"path\" must be absolute");
	if (store_read_def(path, &text, &base, &cfg, err, sizeof(err)))
		FAIL_RET(rq, BHD_ERR_FAILED, "%s", err);
	free(text);
	free(base);
	r = bhd_find(rq->d, cfg->name);
	if (r && strcmp(r->def_path, path)) {
		if (!r->registered) {
			FAIL(rq, BHD_ERR_STATE,
			     "VM %s is defined by %s in the config directory; change that file instead",
			     cfg->name, r->def_path);
			goto out;
		}
		if (r->active) {
			FAIL(rq, BHD_ERR_STATE,
			     "VM %s is running, defined by %s; stop it before defining it anew",
			     cfg->name, r->def_path);
			goto out;
		}
		bh_info("vm %s: now defined by %s (was %s)", cfg->name, path,
			r->def_path);
		free(r->def_path);
		r->def_path = strdup(path);
	} else if (!r) {
		r = vmrec_new(cfg->name);
		if (!r || !(r->def_path = strdup(path))) {
			vmrec_free(r);
			FAIL(rq, BHD_ERR_FAILED, "out of memory");
			goto out;
		}
		r->registered = true;
		bhd_add_vm(rq->d, r);
		bh_info("vm %s: defined by %s", r->name, path);
	}
	store_save(rq->d);
	if (start) {
		if (r->active) {
			FAIL(rq, BHD_ERR_STATE, "VM %s is already running",
			     r->name);
			goto out;
		}
		e = vm_start(rq->d, r, NULL, err, sizeof(err));
		if (e) {
			FAIL(rq, (enum bhd_err)e, "%s", err);
			goto out;
		}
	}
	reply_vm(rq, r);
out:
	vmcfg_free(cfg);
}

static void op_start(struct req *rq)
{
	struct vmrec *r = req_vm(rq);
	char err[1024];
	int e;

	if (!r)
		return;
	e = vm_start(rq->d, r, NULL, err, sizeof(err));
	if (e)
		FAIL_RET(rq, (enum bhd_err)e, "%s", err);
	reply_vm(rq, r);
}

static void op_list(struct req *rq)
{
	struct json_object *l = hv_list(rq->d);
	struct json_object *o = json_object_new_object();
	struct json_object *vms = json_object_new_array();

	for (struct vmrec *r = rq->d->vms; r; r = r->next)
		json_object_array_add(vms, vm_json(rq->d, r, l));
	json_object_object_add(o, "vms", vms);
	json_object_put(l);
	api_reply(rq->d, rq->c, rq->id, o, NULL, 0);
}

static void op_info(struct req *rq)
{
	struct vmrec *r = req_vm(rq);

	if (r)
		reply_vm(rq, r);
}

/* pause, unpause: straight to the hypervisor. */
static void op_passthrough(struct req *rq, const char *hvop)
{
	struct vmrec *r = req_active_vm(rq);
	struct json_object *args;
	char err[512];

	if (!r)
		return;
	args = json_object_new_object();
	json_object_object_add(args, "name", json_object_new_string(r->name));
	if (hvconn_call(&rq->d->hv, hvop, args, NULL, 0, NULL, err,
			sizeof(err)) < 0)
		FAIL_RET(rq, BHD_ERR_STATE, "%s", err);
	reply_vm(rq, r);
}

static void reply_seq(struct req *rq, struct vmrec *r)
{
	struct json_object *o = json_object_new_object();

	jadd_int(o, "seq", (int64_t)r->seq);
	jadd_int(o, "domid", r->domid);
	api_reply(rq->d, rq->c, rq->id, o, NULL, 0);
}

static int ask_shutdown(struct req *rq, struct vmrec *r)
{
	struct json_object *args = json_object_new_object();
	char err[512];

	json_object_object_add(args, "name", json_object_new_string(r->name));
	if (hvconn_call(&rq->d->hv, "vm.shutdown", args, NULL, 0, NULL, err,
			sizeof(err)) < 0) {
		FAIL(rq, BHD_ERR_STATE, "%s", err);
		return -1;
	}
	return 0;
}

static void op_shutdown(struct req *rq)
{
	struct vmrec *r = req_active_vm(rq);

	if (!r)
		return;
	/* Flags only once the guest was asked: its stop event is handled
	 * after this request, so it cannot be missed. */
	if (ask_shutdown(rq, r) < 0)
		return;
	r->shutdown_requested = true;
	r->restart_pending = false;
	store_save(rq->d);
	reply_seq(rq, r);
}

static void op_reboot(struct req *rq)
{
	struct vmrec *r = req_active_vm(rq);
	struct vmrec_snapshot snap = { 0 };
	char err[1024];
	uint64_t seq;
	int e;

	if (!r)
		return;
	seq = r->seq;
	if (!jget_bool(rq->o, "force", false)) {
		if (ask_shutdown(rq, r) < 0)
			return;
		r->shutdown_requested = false;
		r->restart_pending = true;
		store_save(rq->d);
		reply_seq(rq, r);
		return;
	}
	/* Destroy, then start the same definition again. */
	snap = r->snap;
	memset(&r->snap, 0, sizeof(r->snap));
	e = vm_destroy(rq->d, r, err, sizeof(err));
	if (e) {
		vmrec_snapshot_free(&snap);
		FAIL_RET(rq, (enum bhd_err)e, "%s", err);
	}
	e = vm_start(rq->d, r, &snap, err, sizeof(err));
	if (e)
		FAIL_RET(rq, (enum bhd_err)e, "%s", err);
	(void)seq;
	reply_seq(rq, r);
}

static void op_wait(struct req *rq)
{
	struct vmrec *r = req_vm(rq);
	const char *what = jget_str(rq->o, "for");
	int64_t timeout = jget_int(rq->o, "timeout_ms", -1);
	int64_t seq = jget_int(rq->o, "seq", -1);
	enum waiter_kind kind;

	if (!r)
		return;
	if (!what || (strcmp(what, "stopped") && strcmp(what, "started")) ||
	    timeout < 0 || seq < 0)
		FAIL_RET(
			rq, BHD_ERR_USAGE,
			"vm.wait needs for (stopped|started), seq and timeout_ms");
	kind = what[1] == 't' && what[2] == 'o' ? WAIT_STOPPED : WAIT_STARTED;
	if (waiter_add(rq->d, rq->c, rq->id, r->name, kind, (uint64_t)seq,
		       timeout) < 0)
		FAIL(rq, BHD_ERR_FAILED, "out of memory");
}

static void op_destroy(struct req *rq)
{
	struct vmrec *r = req_active_vm(rq);
	char err[512];
	int e;

	if (!r)
		return;
	e = vm_destroy(rq->d, r, err, sizeof(err));
	if (e)
		FAIL_RET(rq, (enum bhd_err)e, "%s", err);
	reply_vm(rq, r);
}

static void op_console(struct req *rq)
{
	struct vmrec *r = req_active_vm(rq);
	struct json_object *args;
	char err[512];
	int fd;

	if (!r)
		return;
	if (rq->nfds != 1)
		FAIL_RET(rq, BHD_ERR_USAGE,
			 "vm.console needs one stream socket");
	if (r->cfg && r->cfg->serial != VMCFG_SERIAL_PTY)
		FAIL_RET(
			rq, BHD_ERR_STATE,
			"VM %s has serial = \"%s\": no interactive console (read it with bulkhead logs)",
			r->name, vmcfg_serial_name(r->cfg->serial));
	fd = rq->fds[0];
	args = json_object_new_object();
	json_object_object_add(args, "name", json_object_new_string(r->name));
	json_object_object_add(args, "fd", json_object_new_int(0));
	json_object_object_add(
		args, "history",
		json_object_new_boolean(jget_bool(rq->o, "history", true)));
	if (hvconn_call(&rq->d->hv, "vm.console", args, &fd, 1, NULL, err,
			sizeof(err)) < 0)
		FAIL_RET(rq, BHD_ERR_FAILED, "%s: %s", r->name, err);
	api_reply(rq->d, rq->c, rq->id, NULL, NULL, 0);
}

static void op_logs(struct req *rq)
{
	struct vmrec *r = req_vm(rq);
	struct vmcfg *cfg, *parsed = NULL;
	char path[4200], *text, *base, err[512];
	const char *console = NULL;
	struct json_object *o;
	int fds[2], nfds = 0;

	if (!r)
		return;
	cfg = r->cfg;
	if (!cfg && !store_read_def(r->def_path, &text, &base, &parsed, err,
				    sizeof(err))) {
		free(text);
		free(base);
		cfg = parsed;
	}
	if (!cfg || cfg->serial == VMCFG_SERIAL_PTY) {
		snprintf(path, sizeof(path), "%s/%s.log", rq->d->logs_dir,
			 r->name);
		console = path;
	} else if (cfg->serial == VMCFG_SERIAL_FILE) {
		console = cfg->serial_path;
	}
	o = json_object_new_object();
	if (console) {
		int fd = open(console, O_RDONLY | O_CLOEXEC | O_NOCTTY);

		if (fd >= 0) {
			jadd_int(o, "console_fd", nfds);
			fds[nfds++] = fd;
		}
		jadd_str(o, "console_path", console);
	}
	fds[nfds] = open(rq->d->hv_log, O_RDONLY | O_CLOEXEC);
	if (fds[nfds] >= 0) {
		jadd_int(o, "hv_log_fd", nfds);
		nfds++;
	}
	jadd_str(o, "hv_log_path", rq->d->hv_log);
	api_reply(rq->d, rq->c, rq->id, o, fds, (size_t)nfds);
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
	vmcfg_free(parsed);
}

static void op_daemon_info(struct req *rq)
{
	struct json_object *o = json_object_new_object();

	jadd_int(o, "pid", getpid());
	jadd_str(o, "state_dir", rq->d->state_dir);
	jadd_str(o, "config_dir", rq->d->config_dir);
	jadd_str(o, "hv_socket", rq->d->hv_sock);
	jadd_str(o, "hv_server", rq->d->hv.server);
	json_object_object_add(o, "hmx",
			       json_object_new_boolean(rq->d->hv.has_hmx));
	api_reply(rq->d, rq->c, rq->id, o, NULL, 0);
}

static void op_quit(struct req *rq)
{
	struct bhd *d = rq->d;
	char err[256];

	if (jget_bool(rq->o, "stop_vms", false)) {
		for (struct vmrec *r = d->vms; r; r = r->next)
			if (r->active)
				r->shutdown_requested = true;
		if (hvconn_call(&d->hv, "hv.quit", NULL, NULL, 0, NULL, err,
				sizeof(err)) < 0)
			bh_warn("hv.quit: %s", err);
		vm_process_events(d);
		/* Whatever did not report its stop went with the process. */
		for (struct vmrec *r = d->vms; r; r = r->next) {
			if (!r->active)
				continue;
			bhd_forget_instance(d, r);
			vmrec_set_stop(r, "destroyed", "the hypervisor quit");
		}
		hvconn_close(&d->hv);
		store_save(d);
	}
	d->quit = true;
	api_reply(d, rq->c, rq->id, NULL, NULL, 0);
}

void api_policy_show(struct bhd *d, struct api_client *c, int64_t id,
		     struct json_object *req);
void api_vm_network(struct bhd *d, struct api_client *c, int64_t id,
		    struct json_object *req);
void api_policy_call(struct bhd *d, struct api_client *c, int64_t id,
		     struct json_object *req);
void api_policy_check(struct bhd *d, struct api_client *c, int64_t id,
		      struct json_object *req);

void api_dispatch(struct bhd *d, struct api_client *c, struct json_object *o,
		  int *fds, size_t nfds)
{
	struct req rq = { d, c, o, jget_int(o, "id", 0), fds, nfds };
	const char *op = jget_str(o, "op");

	/* Definitions dropped into the config directory count from the
	 * next request on, as xl reads its files when asked. */
	if (op && strcmp(op, "vm.wait") && strncmp(op, "daemon.", 7))
		store_scan_config_dir(d, false);
	if (!op)
		FAIL(&rq, BHD_ERR_USAGE, "missing \"op\"");
	else if (!strcmp(op, "vm.create"))
		op_create(&rq);
	else if (!strcmp(op, "vm.start"))
		op_start(&rq);
	else if (!strcmp(op, "vm.list"))
		op_list(&rq);
	else if (!strcmp(op, "vm.info"))
		op_info(&rq);
	else if (!strcmp(op, "vm.pause"))
		op_passthrough(&rq, "vm.pause");
	else if (!strcmp(op, "vm.unpause"))
		op_passthrough(&rq, "vm.unpause");
	else if (!strcmp(op, "vm.shutdown"))
		op_shutdown(&rq);
	else if (!strcmp(op, "vm.reboot"))
		op_reboot(&rq);
	else if (!strcmp(op, "vm.wait"))
		op_wait(&rq);
	else if (!strcmp(op, "vm.destroy"))
		op_destroy(&rq);
	else if (!strcmp(op, "vm.console"))
		op_console(&rq);
	else if (!strcmp(op, "vm.logs"))
		op_logs(&rq);
	else if (!strcmp(op, "vm.measure"))
		api_vm_measure(d, c, rq.id, o);
	else if (!strcmp(op, "host.measure"))
		api_host_measure(d, c, rq.id, o, fds, nfds);
	else if (!strcmp(op, "tpm.status"))
		api_tpm_status(d, c, rq.id, o);
	else if (!strcmp(op, "vm.network"))
		api_vm_network(d, c, rq.id, o);
	else if (!strcmp(op, "policy.show"))
		api_policy_show(d, c, rq.id, o);
	else if (!strcmp(op, "policy.check"))
		api_policy_check(d, c, rq.id, o);
	else if (!strcmp(op, "policy.call"))
		api_policy_call(d, c, rq.id, o);
	else if (!strcmp(op, "daemon.info"))
		op_daemon_info(&rq);
	else if (!strcmp(op, "daemon.quit"))
		op_quit(&rq);
	else
		FAIL(&rq, BHD_ERR_USAGE, "unknown operation \"%s\"", op);
	for (size_t i = 0; i < nfds; i++)
		close(fds[i]);
	vm_process_events(d);
}
