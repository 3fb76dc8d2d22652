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

#include "toolstack/vm.h"

struct json_object;
struct vmcfg;
struct disk_inst;
struct nic_inst;

#define VMREC_REASON_MAX 16
#define VMREC_DETAIL_MAX 160

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
	struct nic_inst *nics; /* an NDVM's NICs (nics.h) */
	size_t nnics;

	/* Why the last instance stopped; "" before the first stop. */
	char stop_reason[VMREC_REASON_MAX];
	char stop_detail[VMREC_DETAIL_MAX];
	uint64_t guest_reboots; /* restarts after guest-initiated reboots */
};

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
