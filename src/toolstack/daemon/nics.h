/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A running NDVM's NICs, as bulkheadd starts and tracks them: per NIC a
 * tap made inside the named network namespace (nic_tap.h) and a
 * bulkhead-net device model holding it (the tap's only descriptor, so the
 * tap goes when the process does), confined, one end of a socketpair for
 * the hypervisor. Like disks' device models they outlive a restart of
 * bulkheadd: their pids are in the state file and a restarted daemon
 * watches them again.
 */
#ifndef BH_DAEMON_NICS_H
#define BH_DAEMON_NICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "toolstack/nic_spec.h"

struct bhd;
struct vmrec;
struct vmcfg;
struct json_object;

#define NIC_NAME_MAX 7u /* "nic0".."nic3" */

struct nic_inst {
	char name[NIC_NAME_MAX + 1]; /* nicI: the device's name everywhere */
	char netns[NIC_NETNS_MAX + 1];
	char tap[NIC_IFNAME_MAX + 1];
	char bridge[NIC_IFNAME_MAX + 1]; /* "": none */
	uint8_t mac[NIC_MAC_LEN];
	pid_t pid; /* bulkhead-net */
	uint64_t start_time; /* the process's, to tell a reused pid */
	uid_t uid; /* the device model's own uid (0: none given) */
	int pidfd; /* watched while it runs; -1 otherwise */
	bool exited;
	struct vmrec *vm; /* back pointer for the watch */
};

/*
 * Makes every NIC of cfg for r, in order, and puts the hypervisor's
 * socket of each in socks[]. On failure nothing is left running or open,
 * err says which NIC and why (a missing namespace: how to make it), and
 * -1 is returned.
 */
int nics_attach(struct bhd *d, struct vmrec *r, const struct vmcfg *cfg,
		int *socks, char *err, size_t errlen);
/* Stops r's device models (the VM is gone; their taps go with them). */
void nics_detach(struct bhd *d, struct vmrec *r);
/* The device model of ni exited (its pidfd was readable). */
void nics_exited(struct bhd *d, struct nic_inst *ni);
/* After a daemon restart: watch r's device models again. */
void nics_recover(struct bhd *d, struct vmrec *r);
/* Whether a running NIC device model has uid (device-model uids). */
bool nics_uid_taken(const struct bhd *d, uid_t uid);

/* nic_state.c, pure: */
/* [{name, netns, tap, [bridge,] mac, pid, state}, ...] */
struct json_object *nics_json(const struct vmrec *r);
/* The state file's form, and back. */
struct json_object *nics_state_json(const struct vmrec *r);
/* 0, or -1 if arr is malformed; r's NICs are then none. */
int nics_from_state(struct vmrec *r, struct json_object *arr);
void nics_free(struct vmrec *r);

#endif
