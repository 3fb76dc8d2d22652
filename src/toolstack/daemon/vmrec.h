/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What bulkheadd knows about one defined VM: where its definition lives
 * and, while an instance of it exists in the hypervisor, the definition
 * that instance was started from (the snapshot), its domid and its place
 * in the start order. Pure data, with its JSON form for the state file.
 */
#ifndef BH_DAEMON_VMREC_H
#define BH_DAEMON_VMREC_H

#include <stdbool.h>
#include <stdint.h>

#include "toolstack/daemon/vif_plan.h"
#include "toolstack/vm.h"

struct json_object;
struct vmcfg;
struct disk_inst;
struct nic_inst;

#define VMREC_REASON_MAX 16
#define VMREC_DETAIL_MAX 160
/* A VM that crashes this often this fast is left stopped (crash loop). */
#define VMREC_CRASH_BURST 5
#define VMREC_CRASH_WINDOW_NS (300ull * 1000000000ull)

/* The definition an instance runs, kept so it can be re-parsed verbatim. */
struct vmrec_snapshot {
	char *text; /* the file's bytes (valid UTF-8: the parser checked) */
	char *source; /* the file's absolute name, for messages */
	char *base_dir; /* its directory, for relative paths */
};

struct vmrec {
	struct vmrec *next;
	char name[VM_NAME_MAX + 1];
	char *def_path; /* absolute path of the definition file */
	bool registered; /* by `bulkhead create` (persisted); else config dir */

	/* The instance, while the hypervisor has one. */
	bool active;
	uint16_t domid; /* 0 until vm.create answered */
	uint64_t seq; /* start order among active VMs */
	bool started; /* vm.start done: its vCPUs may run */
	bool shutdown_requested; /* a stop means stay stopped */
	bool restart_pending; /* `bulkhead reboot`: start again once stopped */
	struct vmrec_snapshot snap;
	struct vmcfg *cfg; /* snap parsed; NULL when not active */
	struct disk_inst *disks; /* the instance's disks (disks.h) */
	size_t ndisks;
	/* Where the instance's vifs were connected at its start (vifs.c). */
	struct vif_inst vifs[VIF_PER_VM_MAX];
	size_t nvifs;

	/* The domid of the last instance, 0 before the first: a backend
	 * asks for it again so its guests' hmxnet.front= stays right. */
	uint16_t last_domid;
	struct nic_inst *nics; /* an NDVM's NICs (nics.h) */
	size_t nnics;

	/* Why the last instance stopped; "" before the first stop. */
	char stop_reason[VMREC_REASON_MAX];
	char stop_detail[VMREC_DETAIL_MAX];
	uint64_t guest_reboots; /* restarts after guest-initiated reboots */
	uint64_t crash_restarts; /* restarts after crashes (on_crash) */
	/* When the last VMREC_CRASH_BURST crash restarts began (monotonic
	 * ns), oldest first: more within VMREC_CRASH_WINDOW_NS and it stays
	 * stopped. Not kept across a daemon restart. */
	uint64_t crash_times[VMREC_CRASH_BURST];
	size_t ncrash_times;
};

/*
 * Whether a crash at now_ns may be restarted: fewer than
 * VMREC_CRASH_BURST restarts in the VMREC_CRASH_WINDOW_NS before it.
 * Records the restart if so. Pure but for r.
 */
bool vmrec_crash_restart_allowed(struct vmrec *r, uint64_t now_ns);

struct vmrec *vmrec_new(const char *name);
void vmrec_free(struct vmrec *r);
/* Forgets the instance: snapshot, parsed definition, domid, flags. */
void vmrec_clear_instance(struct vmrec *r);
void vmrec_set_stop(struct vmrec *r, const char *reason, const char *detail);
void vmrec_snapshot_free(struct vmrec_snapshot *s);

/* The record for the state file. NULL on ENOMEM. */
struct json_object *vmrec_to_json(const struct vmrec *r);
/*
 * Reads a record written by vmrec_to_json; the snapshot is kept as text
 * (the caller re-parses it). NULL with a message in err if malformed.
 */
struct vmrec *vmrec_from_json(struct json_object *o, char *err, size_t errlen);

#endif
