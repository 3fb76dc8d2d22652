/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A running VM's disks, as bulkheadd starts and tracks them: per disk
 * either a bulkhead-blk device model (the image opened and locked here,
 * the process confined, one end of a socketpair for the hypervisor) or a
 * connection to an external vhost-user back end. Device models outlive a
 * restart of bulkheadd, like the VMs: their pids are in the state file
 * and a restarted daemon watches them again.
 */
#ifndef BH_DAEMON_DISKS_H
#define BH_DAEMON_DISKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "toolstack/disk_spec.h"

struct bhd;
struct vmrec;
struct vmcfg;
struct json_object;

struct disk_inst {
	char vdev[DISK_VDEV_MAX + 1];
	char *target; /* resolved image path or back-end socket */
	enum disk_backend backend;
	enum disk_format format;
	bool readonly;
	bool encrypted; /* a LUKS image, unlocked for the device model */
	enum disk_snapshot snapshot; /* as it runs */
	bool verity;
	bool measured; /* sha256 is the image's at start */
	uint8_t sha256[DISK_SHA256_BYTES];
	pid_t pid; /* bulkhead-blk; 0 for an external back end */
	uint64_t start_time; /* the process's, to tell a reused pid */
	uid_t uid; /* the device model's own uid (0: none given) */
	int pidfd; /* watched while it runs; -1 otherwise */
	bool exited; /* the device model is gone */
	struct vmrec *vm; /* back pointer for the watch */
};

/*
 * Starts or connects every disk of cfg for r, in cfg's order, and puts the
 * hypervisor's socket of each in socks[]. On failure nothing is left
 * running or open, err says which disk and why, and BHD_ERR_FAILED is
 * returned.
 */
int disks_attach(struct bhd *d, struct vmrec *r, const struct vmcfg *cfg,
		 int *socks, char *err, size_t errlen);
/* Stops r's device models (the VM is gone) and forgets its disks. */
void disks_detach(struct bhd *d, struct vmrec *r);
/*
 * The devmodel epoll set is readable: note every device model that left
 * (a NIC's too: nics.c registers its pidfds there, tagged).
 */
void disks_on_exit(struct bhd *d);
/* After a daemon restart: watch r's device models again. */
void disks_recover(struct bhd *d, struct vmrec *r);

/*
 * Shared with the NICs' device models (nics.c): when a process started
 * (to tell a reused pid), and the lowest device-model uid no running
 * device model has (0 if none is free).
 */
uint64_t devmodel_proc_start_time(pid_t pid);
uid_t devmodel_pick_uid(struct bhd *d);

/* disk_state.c, pure: */
/* [{vdev, target, format, access, backend, pid, state}, ...] */
struct json_object *disks_json(const struct vmrec *r);
/* The state file's form, and back (pids and identities, not fds). */
struct json_object *disks_state_json(const struct vmrec *r);
/* 0, or -1 if arr is malformed; r's disks are then none. */
int disks_from_state(struct vmrec *r, struct json_object *arr);
void disks_free(struct vmrec *r);

#endif
