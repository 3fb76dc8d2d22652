/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * bulkheadd: the toolstack daemon (docs/toolstack.md). One thread, one
 * epoll loop: the API socket and its clients, the hypervisor's control
 * connection, and deadlines of clients waiting for a VM to stop or start.
 */
#ifndef BH_DAEMON_DAEMON_H
#define BH_DAEMON_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "toolstack/daemon/hvconn.h"
#include "toolstack/daemon/vmrec.h"

struct json_object;
struct policy_set;
struct policy_vif;
struct vif_inst;
struct api_client;
struct waiter;
struct tpm;

/* Error classes the API reports; the CLI maps them to exit codes. */
enum bhd_err {
	BHD_OK,
	BHD_ERR_FAILED, /* "error": the operation failed */
	BHD_ERR_USAGE, /* "usage": the request is malformed */
	BHD_ERR_NO_VM, /* "no-such-vm" */
	BHD_ERR_TIMEOUT, /* "timeout" */
	BHD_ERR_STATE, /* "state": not possible in the VM's current state */
};

struct bhd {
	/* vifs_start_backends() calls under way: bounds a backend chain. */
	unsigned int backend_start_depth;
	/* Paths, all absolute. */
	char *state_dir;
	char *config_dir;
	char *hv_path;
	char *api_sock; /* <state>/bulkheadd.sock */
	char *hv_sock; /* <state>/hv.sock */
	char *hv_log; /* <state>/hv.log */
	char *state_file; /* <state>/state.json */
	char *logs_dir; /* <state>/logs */
	char *vsock_dir; /* <state>/vsock: VM NAME's vsock is vsock/NAME */
	bool vsock; /* not --no-vsock: the hypervisor runs with --vsock */
	uint32_t hv_uid; /* --hv-uid: its uid and gid when we are root */
	char *blk_path; /* bulkhead-blk, absolute */
	char *net_path; /* bulkhead-net, absolute */
	char *overlay_dir; /* temporary disks' overlays (unnamed files) */
	uint32_t devmodel_uid_base; /* device models run as base + k */
	/* --tpm: "auto" (NULL), "none" or a TCTI string (tpm_use.h). */
	char *tpm_spec;
	struct tpm *tpm; /* NULL: no TPM; the logs are the whole record */
	char tpm_none[512]; /* why there is none */
	size_t host_from; /* this start's first event in host.eventlog */
	int dm_epfd; /* device models' pidfds (disks.c) */

	struct hvconn hv;
	bool hv_fresh; /* we started this hypervisor: autostart applies */
	struct vmrec *vms; /* every defined VM */
	uint64_t next_seq;

	int epfd;
	int listen_fd;
	struct api_client *clients;
	struct waiter *waiters;

	/* The last policy handed to the hypervisor. */
	struct policy_set *policy;
	uint64_t policy_generation;
	char policy_error[256]; /* why the last compile or push failed */

	/* Refusals drained from the hypervisor's audit log (audit.c). */
	struct json_object **audit;
	size_t audit_start, audit_n;
	uint64_t audit_overwritten; /* pushed out of our ring */
	uint64_t audit_hv_dropped; /* lost in the hypervisor's log */

	bool quit;
};

/* store.c: the state file and the config directory. */
int store_load(struct bhd *d);
int store_save(struct bhd *d);
/* Adds definitions of new *.cfg files; report: log problems. */
void store_scan_config_dir(struct bhd *d, bool report);
struct vmrec *bhd_find(struct bhd *d, const char *name);
/* lifecycle.c: VM name's vsock socket path (0 or -ENAMETOOLONG). */
int bhd_vsock_path(const struct bhd *d, const char *name, char *buf,
		   size_t len);
void bhd_add_vm(struct bhd *d, struct vmrec *r);
/*
 * Reads a definition file: *text gets its bytes, *cfg the parse (relative
 * paths against its directory). Returns 0 or BHD_ERR_FAILED with the
 * parser's message in err.
 */
int store_read_def(const char *path, char **text, char **base_dir,
		   struct vmcfg **cfg, char *err, size_t errlen);

/* lifecycle.c */
/* Forgets r's instance, stopping its device models first. */
void bhd_forget_instance(struct bhd *d, struct vmrec *r);
/* Starts r from its file, or from snap (taken over) when not NULL. */
int vm_start(struct bhd *d, struct vmrec *r, struct vmrec_snapshot *snap,
	     char *err, size_t errlen);
/* The hypervisor has r's domain in state "created": policy, then run. */
int vm_finish_start(struct bhd *d, struct vmrec *r, char *err, size_t errlen);
int vm_parse_snapshot(struct vmrec *r, char *err, size_t errlen);
int vm_destroy(struct bhd *d, struct vmrec *r, char *err, size_t errlen);
void vm_handle_stop(struct bhd *d, struct vmrec *r, const char *reason,
		    const char *detail);
void vm_handle_event(struct bhd *d, struct json_object *ev);
void vm_process_events(struct bhd *d);
int bhd_reconcile(struct bhd *d, char *err, size_t errlen);
void bhd_autostart(struct bhd *d);
void bhd_hv_lost(struct bhd *d);

/* vifs.c */
/*
 * Chooses the backend of each of cfg's vifs among the defined VMs into
 * vifs[0..cfg->nvifs) (vif_plan_backends()). 0, or -1 with err saying
 * which vif and backend and why the start is refused.
 */
int vifs_connect(struct bhd *d, const struct vmcfg *cfg, struct vif_inst *vifs,
		 char *err, size_t errlen);
/*
 * Starts the stopped backends cfg's vifs need (and theirs, at most
 * VIFS_BACKEND_CHAIN_MAX deep), so service VMs run before the guests
 * that need them. 0, or -1 with err naming the backend that failed.
 */
#define VIFS_BACKEND_CHAIN_MAX 4u
int vifs_start_backends(struct bhd *d, const struct vmcfg *cfg, char *err,
			size_t errlen);
/* The domid r's start asks for: its last one if r may be a backend
 * (role ndvm or service) and no domain has it; else 0 (any). */
uint16_t vifs_domid_wish(struct bhd *d, const struct vmrec *r,
			 const struct vmcfg *cfg);
/* r's vifs as the policy compiler takes them, into out; their count. */
size_t vifs_policy(const struct vmrec *r, struct policy_vif *out);

/* policy_push.c */
int policy_push(struct bhd *d, char *err, size_t errlen);

/* audit.c */
void audit_drain(struct bhd *d);
/* {"entries": last max entries, oldest first, "dropped": N}. */
struct json_object *audit_tail(struct bhd *d, size_t max);
/* A refusal of the toolstack's own (e.g. a disk failing verify=). */
void audit_toolstack(struct bhd *d, const char *kind, const char *vm,
		     const char *what, const char *why);
void audit_free(struct bhd *d);

/* api.c */
int api_listen(struct bhd *d);
void api_on_listen(struct bhd *d);
void api_on_client(struct bhd *d, struct api_client *c);
void api_close_all(struct bhd *d);
void api_reap(struct bhd *d);
/* Sends a reply to request id of c (consumes reply, may be NULL = {}). */
void api_reply(struct bhd *d, struct api_client *c, int64_t id,
	       struct json_object *reply, const int *fds, size_t nfds);
void api_reply_err(struct bhd *d, struct api_client *c, int64_t id,
		   enum bhd_err code, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
const char *bhd_err_name(enum bhd_err e);

/* api_ops.c */
void api_dispatch(struct bhd *d, struct api_client *c, struct json_object *req,
		  int *fds, size_t nfds);

/* waiters.c: clients waiting for a VM to stop or to start again. */
enum waiter_kind {
	WAIT_STOPPED, /* no instance, or a newer one than seq */
	WAIT_STARTED, /* an instance newer than seq has started */
};
int waiter_add(struct bhd *d, struct api_client *c, int64_t id,
	       const char *name, enum waiter_kind kind, uint64_t seq,
	       int64_t timeout_ms);
void waiters_check(struct bhd *d);
/* Milliseconds until the next deadline, or -1. */
int waiters_next_timeout(struct bhd *d);
void waiters_drop_client(struct bhd *d, struct api_client *c);

int64_t bhd_now_ms(void);

#endif
