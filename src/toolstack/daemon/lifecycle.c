// SPDX-License-Identifier: GPL-2.0-only
/*
 * VM lifecycle: start (create paused, install policy, run), stop handling
 * (forget the domain, remove it from policy, restart after a guest
 * reboot), destroy, and finding VMs again after a restart.
 */
#include "toolstack/daemon/daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "toolstack/daemon/disks.h"
#include "toolstack/daemon/nics.h"
#include "toolstack/daemon/measure_launch.h"
#include "toolstack/daemon/reconcile.h"
#include "toolstack/jget.h"
#include "toolstack/policy.h"
#include "toolstack/vmcfg.h"
#include "util/log.h"

int64_t bhd_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Where the console goes: a log in the state dir, the file, or nowhere. */
static int open_console(struct bhd *d, const struct vmcfg *cfg, char *err,
			size_t errlen)
{
	char path[4200];
	const char *p = path;
	int fd;

	switch (cfg->serial) {
	case VMCFG_SERIAL_NONE:
		return -2;
	case VMCFG_SERIAL_FILE:
		p = cfg->serial_path;
		break;
	case VMCFG_SERIAL_PTY:
		snprintf(path, sizeof(path), "%s/%s.log", d->logs_dir,
			 cfg->name);
		break;
	case VMCFG_SERIAL_STDIO:
		snprintf(
			err, errlen,
			"serial = \"stdio\" needs a terminal; bulkheadd has none (use \"pty\" and bulkhead console)");
		return -1;
	}
	fd = open(p, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY,
		  0600);
	if (fd < 0)
		snprintf(err, errlen, "console log: cannot open %s: %s", p,
			 strerror(errno));
	return fd;
}

/* Forgets a stopped VM of this name the hypervisor still holds. */
static void clear_stale(struct bhd *d, const char *name)
{
	struct json_object *args = json_object_new_object(), *reply;
	char err[256];

	json_object_object_add(args, "name", json_object_new_string(name));
	if (hvconn_call(&d->hv, "vm.info", args, NULL, 0, &reply, err,
			sizeof(err)) < 0)
		return;
	if (!strcmp(jget_str(jget(reply, "vm", json_type_object), "state") ?:
									     "",
		    "stopped")) {
		args = json_object_new_object();
		json_object_object_add(args, "name",
				       json_object_new_string(name));
		hvconn_call(&d->hv, "vm.destroy", args, NULL, 0, NULL, err,
			    sizeof(err));
	}
	json_object_put(reply);
}

static int hv_name_op(struct bhd *d, const char *op, const char *name,
		      struct json_object **reply, char *err, size_t errlen)
{
	struct json_object *args = json_object_new_object();

	json_object_object_add(args, "name", json_object_new_string(name));
	return hvconn_call(&d->hv, op, args, NULL, 0, reply, err, errlen);
}

/*
 * VM NAME's vsock socket, <state>/vsock/NAME (Firecracker's convention:
 * PATH, and PATH_P for host port P). -ENAMETOOLONG if PATH_4294967295
 * would not fit in a unix socket address.
 */
int bhd_vsock_path(const struct bhd *d, const char *name, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s", d->vsock_dir, name);

	return n < 0 || (size_t)n >= len || n + 11 > 107 ? -ENAMETOOLONG : 0;
}

/* Removes a stopped VM's vsock socket: the hypervisor may not. */
static void vsock_cleanup(struct bhd *d, const char *name)
{
	char path[PATH_MAX];

	if (d->vsock && !bhd_vsock_path(d, name, path, sizeof(path)))
		unlink(path);
}

static void add_device(struct json_object *a, const char *type,
		       const char *name, int fd)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "type", json_object_new_string(type));
	json_object_object_add(o, "name", json_object_new_string(name));
	json_object_object_add(o, "fd", json_object_new_int(fd));
	json_object_array_add(a, o);
}

/*
 * vm.create's "devices": the disks' sockets from fds[first] on, then the
 * NICs' (nicI, as nics.c names them).
 */
static struct json_object *devices_json(const struct vmcfg *cfg, int first)
{
	struct json_object *a = json_object_new_array();
	char name[24];

	for (size_t i = 0; i < cfg->ndisks; i++)
		add_device(a, "virtio-blk", cfg->disks[i].vdev, first + (int)i);
	for (size_t i = 0; i < cfg->nnics; i++) {
		snprintf(name, sizeof(name), "nic%zu", i);
		add_device(a, "virtio-net", name,
			   first + (int)(cfg->ndisks + i));
	}
	return a;
}

/*
 * Creates r's domain paused, its disks' back ends first, its vifs
 * connected as vifs says. Returns its domid or a negative errno; on
 * failure no device model is left.
 */
static int hv_create(struct bhd *d, struct vmrec *r, const struct vmcfg *cfg,
		     const struct vif_inst *vifs, char *err, size_t errlen)
{
	struct json_object *args, *reply;
	int fds[3 + VMCFG_DISKS_MAX + VMCFG_NICS_MAX];
	int nfds = 0, kfd, ifd = -1, cfd, ret;
	size_t ndev = cfg->ndisks + cfg->nnics;
	uint16_t domid;
	char *cmdline;
	uint8_t kernel_sha[MEASURE_SHA256_BYTES],
		initrd_sha[MEASURE_SHA256_BYTES];
	uint64_t max = (uint64_t)cfg->memory_mib << 20;
	struct measure_log mlog = { 0 };

	for (size_t i = 0; i < cfg->nwarnings; i++) {
		char text[CFG_ERROR_FILE_MAX + CFG_ERROR_MSG_MAX + 32];

		cfg_error_format(&cfg->warnings[i], text, sizeof(text));
		bh_warn("vm %s: %s", cfg->name, text);
	}
	/* What the guest boots with, measured: the vifs' parameters too. */
	cmdline = vif_plan_cmdline(cfg, vifs, err, errlen);
	if (!cmdline)
		return -EINVAL;
	/* Sealed copies: what the hypervisor loads is what was measured. */
	kfd = measure_copy_sealed("kernel", cfg->kernel, max, kernel_sha, err,
				  errlen);
	if (kfd < 0) {
		free(cmdline);
		return -ENOENT;
	}
	fds[nfds++] = kfd;
	if (cfg->ramdisk) {
		ifd = measure_copy_sealed("ramdisk", cfg->ramdisk, max,
					  initrd_sha, err, errlen);
		if (ifd < 0) {
			ret = -ENOENT;
			goto out;
		}
		fds[nfds++] = ifd;
	}
	if (measure_launch_begin(d, cfg, cmdline, kernel_sha,
				 cfg->ramdisk ? initrd_sha : NULL, &mlog, err,
				 errlen)) {
		ret = -EPERM;
		goto out;
	}
	cfd = open_console(d, cfg, err, errlen);
	if (cfd == -1) {
		ret = -EINVAL;
		goto out;
	}
	args = json_object_new_object();
	json_object_object_add(args, "name", json_object_new_string(cfg->name));
	json_object_object_add(args, "memory_mib",
			       json_object_new_int64(cfg->memory_mib));
	json_object_object_add(args, "vcpus",
			       json_object_new_int64(cfg->vcpus));
	if (cmdline[0])
		json_object_object_add(args, "cmdline",
				       json_object_new_string(cmdline));
	json_object_object_add(args, "kernel_fd", json_object_new_int(0));
	if (ifd >= 0)
		json_object_object_add(args, "initrd_fd",
				       json_object_new_int(1));
	if (cfd >= 0) {
		json_object_object_add(args, "console_fd",
				       json_object_new_int(nfds));
		fds[nfds++] = cfd;
	}
	json_object_object_add(args, "start", json_object_new_boolean(false));
	if (cfg->vsock) {
		char path[PATH_MAX];

		if (!d->vsock) {
			snprintf(err, errlen,
				 "vsock = on, but bulkheadd runs with "
				 "--no-vsock");
			ret = -EPERM;
			goto out_args;
		}
		if (bhd_vsock_path(d, cfg->name, path, sizeof(path))) {
			snprintf(err, errlen,
				 "vsock: %s/%s is too long for a unix socket; "
				 "use a shorter state directory",
				 d->vsock_dir, cfg->name);
			ret = -ENAMETOOLONG;
			goto out_args;
		}
		unlink(path); /* an earlier instance's */
		json_object_object_add(args, "vsock_socket",
				       json_object_new_string(path));
	}
	if (d->hv.has_hmx)
		json_object_object_add(args, "hmx",
				       json_object_new_boolean(cfg->hmx));
	clear_stale(d, cfg->name);
	/* After clear_stale: a stopped domain of this VM may hold it. */
	domid = vifs_domid_wish(d, r, cfg);
	if (domid)
		json_object_object_add(args, "domid",
				       json_object_new_int(domid));
	/* Last: nothing before can fail with a device model running. */
	if (disks_attach(d, r, cfg, fds + nfds, err, errlen)) {
		ret = -EIO;
		goto out_args;
	}
	if (nics_attach(d, r, cfg, fds + nfds + cfg->ndisks, err, errlen)) {
		for (size_t i = 0; i < cfg->ndisks; i++)
			close(fds[nfds + i]);
		disks_detach(d, r);
		ret = -EIO;
		goto out_args;
	}
	if (measure_launch_write(d, r, &mlog, err, errlen)) {
		for (size_t i = 0; i < ndev; i++)
			close(fds[nfds + i]);
		disks_detach(d, r);
		nics_detach(d, r);
		ret = -EIO;
		goto out_args;
	}
	if (ndev)
		json_object_object_add(args, "devices",
				       devices_json(cfg, nfds));
	nfds += (int)ndev;
	ret = hvconn_call(&d->hv, "vm.create", args, fds, (size_t)nfds, &reply,
			  err, errlen);
	if (ret == 0) {
		ret = (int)jget_int(jget(reply, "vm", json_type_object),
				    "domid", -1);
		json_object_put(reply);
		if (ret <= 0) {
			snprintf(err, errlen, "vm.create: reply without domid");
			ret = -EPROTO;
		}
	}
	if (ret < 0)
		measure_launch_forget(d, cfg->name);
	if (ret < 0 && ndev) {
		const char *dm = strstr(err, ": device model: ");
		size_t n = strlen(err);

		disks_detach(d, r);
		nics_detach(d, r);
		/* "xvda: device model: ...": say where that one logged. */
		if (dm && dm - err <= DISK_VDEV_MAX && n + 1 < errlen) {
			char vdev[DISK_VDEV_MAX + 1];

			snprintf(vdev, sizeof(vdev), "%.*s", (int)(dm - err),
				 err);
			snprintf(err + n, errlen - n,
				 " (its log: %s/%s.%s.log)", d->logs_dir,
				 cfg->name, vdev);
		}
	}
	goto out;
out_args:
	json_object_put(args);
out:
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
	measure_log_release(&mlog);
	free(cmdline);
	return ret;
}

void bhd_forget_instance(struct bhd *d, struct vmrec *r)
{
	disks_detach(d, r);
	nics_detach(d, r);
	measure_launch_forget(d, r->name);
	vmrec_clear_instance(r);
}

/* Stops what vm_start had begun when a later step fails. */
static void abandon_start(struct bhd *d, struct vmrec *r, const char *why)
{
	char err[256];

	hv_name_op(d, "vm.destroy", r->name, NULL, err, sizeof(err));
	bhd_forget_instance(d, r);
	vmrec_set_stop(r, "failed", why);
	if (policy_push(d, err, sizeof(err)) < 0)
		bh_err("policy after a failed start of %s: %s", r->name, err);
	store_save(d);
}

int vm_finish_start(struct bhd *d, struct vmrec *r, char *err, size_t errlen)
{
	if (policy_push(d, err, errlen) < 0) {
		char why[300];

		snprintf(why, sizeof(why), "policy: %s", err);
		snprintf(err, errlen, "%s", why);
		abandon_start(d, r, why);
		return BHD_ERR_FAILED;
	}
	/* The rules in force from the first instruction, measured last. */
	if (measure_launch_commit(d, r, err, errlen) < 0) {
		abandon_start(d, r, err);
		return BHD_ERR_FAILED;
	}
	if (hv_name_op(d, "vm.start", r->name, NULL, err, errlen) < 0) {
		abandon_start(d, r, err);
		return BHD_ERR_FAILED;
	}
	r->started = true;
	store_save(d);
	bh_info("vm %s: started as domid %u", r->name, r->domid);
	return 0;
}

static int snapshot_parse(struct vmrec_snapshot *s, struct vmcfg **cfg,
			  char *err, size_t errlen)
{
	struct cfg_error cerr;

	if (vmcfg_parse_buffer(s->text, strlen(s->text), s->source, s->base_dir,
			       cfg, &cerr) < 0) {
		cfg_error_format(&cerr, err, errlen);
		return BHD_ERR_FAILED;
	}
	return 0;
}

int vm_parse_snapshot(struct vmrec *r, char *err, size_t errlen)
{
	vmcfg_free(r->cfg);
	r->cfg = NULL;
	return snapshot_parse(&r->snap, &r->cfg, err, errlen);
}

int vm_start(struct bhd *d, struct vmrec *r, struct vmrec_snapshot *snap,
	     char *err, size_t errlen)
{
	struct vif_inst vifs[VIF_PER_VM_MAX] = { 0 };
	struct vmrec_snapshot s = { 0 };
	struct vmcfg *cfg = NULL;
	int domid;

	if (r->active) {
		snprintf(err, errlen, "VM %s is already running (domid %u)",
			 r->name, r->domid);
		if (snap)
			vmrec_snapshot_free(snap);
		return BHD_ERR_STATE;
	}
	if (snap) {
		s = *snap;
		memset(snap, 0, sizeof(*snap));
		if (snapshot_parse(&s, &cfg, err, errlen))
			goto fail;
	} else {
		if (store_read_def(r->def_path, &s.text, &s.base_dir, &cfg, err,
				   errlen))
			goto fail;
		s.source = strdup(r->def_path);
		if (!s.source) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
	}
	if (strcmp(cfg->name, r->name)) {
		snprintf(err, errlen, "%s now defines VM \"%s\", not \"%s\"",
			 r->def_path, cfg->name, r->name);
		goto fail;
	}
	/* Backends first; refused before anything runs if one is missing. */
	if (vifs_start_backends(d, cfg, err, errlen) ||
	    vifs_connect(d, cfg, vifs, err, errlen))
		goto fail;
	domid = hv_create(d, r, cfg, vifs, err, errlen);
	if (domid < 0)
		goto fail;
	r->active = true;
	r->started = false;
	r->domid = (uint16_t)domid;
	r->last_domid = r->domid;
	memcpy(r->vifs, vifs, sizeof(r->vifs));
	r->nvifs = cfg->nvifs;
	r->seq = d->next_seq++;
	r->snap = s;
	r->cfg = cfg;
	r->shutdown_requested = false;
	r->restart_pending = false;
	vmrec_set_stop(r, "", "");
	store_save(d);
	return vm_finish_start(d, r, err, errlen);
fail:
	vmrec_snapshot_free(&s);
	vmcfg_free(cfg);
	return BHD_ERR_FAILED;
}

/*
 * xl's on_crash = "restart" (the default of service VMs): whether this
 * stop is a crash to start again from. Counted and audited either way;
 * a crash loop is left stopped.
 */
static bool crash_restarts(struct bhd *d, struct vmrec *r, const char *reason,
			   const char *detail)
{
	struct timespec now;
	char why[VMREC_DETAIL_MAX + 96];

	if (strcmp(reason, "crash") || r->shutdown_requested || !r->cfg ||
	    r->cfg->on_crash != VMCFG_ON_CRASH_RESTART)
		return false;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (!vmrec_crash_restart_allowed(r,
					 (uint64_t)now.tv_sec * 1000000000ull +
						 (uint64_t)now.tv_nsec)) {
		snprintf(why, sizeof(why),
			 "crashed (%s) %d times within %llu s: left stopped",
			 detail, VMREC_CRASH_BURST + 1,
			 VMREC_CRASH_WINDOW_NS / 1000000000ull);
		audit_toolstack(d, "vm.crash-loop", r->name, "on_crash", why);
		return false;
	}
	r->crash_restarts++;
	snprintf(why, sizeof(why), "crashed (%s): restart %llu", detail,
		 (unsigned long long)r->crash_restarts);
	audit_toolstack(d, "vm.crash-restart", r->name, "on_crash", why);
	return true;
}

/*
 * The instance is gone (or going): forget it in the hypervisor unless
 * that is done, take it out of policy, and restart it if it rebooted.
 */
static void finish_stop(struct bhd *d, struct vmrec *r, const char *reason,
			const char *detail, bool destroyed)
{
	bool reboot = !strcmp(reason, "reboot");
	bool restart = !r->shutdown_requested &&
		       (reboot ||
			(r->restart_pending && strcmp(reason, "crash") != 0));
	bool crash_restart = crash_restarts(d, r, reason, detail);
	struct vmrec_snapshot snap = { 0 };
	char err[512];

	if (!destroyed &&
	    hv_name_op(d, "vm.destroy", r->name, NULL, err, sizeof(err)) < 0)
		bh_warn("vm %s: vm.destroy after its stop: %s", r->name, err);
	bh_info("vm %s (domid %u): stopped: %s%s%s", r->name, r->domid, reason,
		detail && detail[0] ? ": " : "", detail ? detail : "");
	vsock_cleanup(d, r->name);
	if (restart && reboot && !r->restart_pending)
		r->guest_reboots++;
	restart |= crash_restart;
	if (restart) {
		snap = r->snap;
		memset(&r->snap, 0, sizeof(r->snap));
	}
	bhd_forget_instance(d, r);
	vmrec_set_stop(r, reason, detail);
	if (policy_push(d, err, sizeof(err)) < 0)
		bh_err("policy after %s stopped: %s", r->name, err);
	store_save(d);
	if (restart) {
		/* xl's on_reboot=restart (and on_crash=restart): the same
		 * definition again. */
		if (vm_start(d, r, &snap, err, sizeof(err)))
			bh_err("vm %s: restart failed: %s", r->name, err);
	}
	waiters_check(d);
}

void vm_handle_stop(struct bhd *d, struct vmrec *r, const char *reason,
		    const char *detail)
{
	finish_stop(d, r, reason, detail, false);
}

int vm_destroy(struct bhd *d, struct vmrec *r, char *err, size_t errlen)
{
	struct json_object *reply, *vm;
	const char *reason = "destroyed", *detail = "by the toolstack";

	if (!r->active) {
		snprintf(err, errlen, "VM %s is not running", r->name);
		return BHD_ERR_STATE;
	}
	r->shutdown_requested = true;
	r->restart_pending = false;
	if (hv_name_op(d, "vm.destroy", r->name, &reply, err, errlen) < 0) {
		/* Gone already? Then only our records need the news. */
		if (d->hv.fd < 0)
			return BHD_ERR_FAILED;
		bh_warn("vm %s: vm.destroy: %s", r->name, err);
		reply = NULL;
	}
	vm = jget(reply, "vm", json_type_object);
	/* It may have stopped on its own just before: keep the real reason. */
	if (jget_str(vm, "stop_reason") &&
	    strcmp(jget_str(vm, "stop_reason"), "destroyed")) {
		reason = jget_str(vm, "stop_reason");
		detail = jget_str(vm, "stop_detail") ?: "";
	}
	finish_stop(d, r, reason, detail, true);
	json_object_put(reply);
	return 0;
}

void vm_handle_event(struct bhd *d, struct json_object *ev)
{
	const char *type = jget_str(ev, "event"), *name = jget_str(ev, "name");
	const char *reason = jget_str(ev, "reason");
	struct vmrec *r;

	if (!type || strcmp(type, "vm-stopped") || !name || !reason)
		return;
	r = bhd_find(d, name);
	/* Stops of instances we already let go of are old news. */
	if (!r || !r->active || r->domid != jget_int(ev, "domid", -1))
		return;
	vm_handle_stop(d, r, reason, jget_str(ev, "detail") ?: "");
}

void vm_process_events(struct bhd *d)
{
	struct json_object *ev;

	while ((ev = hvconn_take_event(&d->hv))) {
		vm_handle_event(d, ev);
		json_object_put(ev);
	}
}

void bhd_hv_lost(struct bhd *d)
{
	for (struct vmrec *r = d->vms; r; r = r->next) {
		if (!r->active)
			continue;
		bh_err("vm %s (domid %u): lost with the hypervisor", r->name,
		       r->domid);
		bhd_forget_instance(d, r);
		vmrec_set_stop(r, "lost", "the hypervisor process exited");
	}
	hvconn_close(&d->hv);
	policy_set_free(d->policy);
	d->policy = NULL;
	d->policy_generation = 0;
	store_save(d);
	waiters_check(d);
}

void bhd_autostart(struct bhd *d)
{
	for (struct vmrec *r = d->vms; r; r = r->next) {
		char *text, *base, err[512];
		struct vmcfg *cfg;
		bool autostart;

		if (r->active)
			continue;
		if (store_read_def(r->def_path, &text, &base, &cfg, err,
				   sizeof(err))) {
			bh_err("autostart: %s", err);
			continue;
		}
		autostart = cfg->autostart;
		free(text);
		free(base);
		vmcfg_free(cfg);
		/* Already running as an earlier VM's backend. */
		if (!autostart || r->active)
			continue;
		bh_info("vm %s: autostart", r->name);
		if (vm_start(d, r, NULL, err, sizeof(err)))
			bh_err("vm %s: autostart failed: %s", r->name, err);
	}
}
