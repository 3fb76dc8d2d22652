/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * After a restart, bulkheadd compares what it persisted with what the
 * hypervisor reports (vm.list) and decides, per VM, what to do. Pure
 * logic: the daemon carries the plan out.
 */
#ifndef BH_DAEMON_RECONCILE_H
#define BH_DAEMON_RECONCILE_H

#include <stddef.h>
#include <stdint.h>

#include "toolstack/vm.h"

enum rc_hv_state {
	RC_HV_CREATED, /* made with start:false, vCPUs never ran */
	RC_HV_RUNNING,
	RC_HV_PAUSED,
	RC_HV_STOPPED,
};

/* A VM as vm.list reports it. */
struct rc_hv_vm {
	const char *name;
	uint16_t domid;
	enum rc_hv_state state;
};

/* A VM the daemon persisted as having an instance. */
struct rc_known {
	const char *name;
	uint16_t domid; /* 0: the daemon died before vm.create answered */
	int started; /* vm.start was done */
};

enum rc_action {
	/* Known and alive as recorded: keep it. */
	RC_ADOPT,
	/* Created but not started: push policy with it, then vm.start. */
	RC_FINISH_START,
	/* Stopped while the daemon was away: handle the stop now. */
	RC_HANDLE_STOP,
	/* Known, but the hypervisor has no such instance (it restarted). */
	RC_LOST,
	/* The hypervisor has it, the state file does not: a VM created just
	 * before the state was saved, or after the file was lost. Adopt it
	 * if a definition of that name exists, else destroy it. */
	RC_ADOPT_UNRECORDED,
	/* Unrecorded and not worth adopting (stopped, or never started):
	 * destroy it in the hypervisor. */
	RC_DESTROY,
};

struct rc_step {
	enum rc_action action;
	ptrdiff_t known; /* index into known[], or -1 */
	ptrdiff_t hv; /* index into hv[], or -1 */
};

/*
 * Plans one step per known VM and per hypervisor VM not matched by a
 * known one, into steps (room for nknown + nhv). A known VM matches the
 * hypervisor VM of the same name and domid (or of the same name if its
 * domid is 0). Returns the number of steps.
 */
size_t reconcile_plan(const struct rc_known *known, size_t nknown,
		      const struct rc_hv_vm *hv, size_t nhv,
		      struct rc_step *steps);

const char *rc_action_name(enum rc_action a);

#endif
