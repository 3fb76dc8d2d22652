/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A VM's measured launch in bulkheadd (docs/measured-launch.md): what
 * the start of an instance hashes, the definition's measure_expect pins
 * checked against it, and the instance's event log,
 * <state>/measure/NAME.eventlog, in the TCG format (measure_log.h).
 *
 * A start measures in three steps, all before the VM's first instruction:
 *
 *   1. measure_copy_sealed(): the kernel and the initrd, copied into
 *      sealed memfds as they are hashed, which go to the hypervisor in
 *      their place, so what is loaded is what was measured;
 *      measure_launch_begin(): with the command line and the definition,
 *      checked against the pins before any device model starts;
 *   2. measure_launch_write(): the disks' digests (measure=on, verify=),
 *      taken by disks_attach(), added, and the log written, before
 *      vm.create;
 *   3. measure_launch_commit(): once the policy with the VM is compiled
 *      and installed, the VM's compiled rules are measured, checked and
 *      appended, right before vm.start.
 *
 * A refusal says what differed (expected and measured digests), is
 * audited (audit_toolstack(), kind "measure.expect") and leaves nothing
 * running.
 */
#ifndef BH_DAEMON_MEASURE_LAUNCH_H
#define BH_DAEMON_MEASURE_LAUNCH_H

#include <stddef.h>
#include <stdint.h>

#include "toolstack/measure_log.h"

struct bhd;
struct vmrec;
struct vmcfg;
struct json_object;
struct api_client;

/*
 * A log file: written atomically (temporary file, fsync, rename; mode
 * 0600), or read and decoded (the descriptor, at offset 0, in *fdp if
 * fdp is not NULL, else closed). 0, or -1 with err set.
 */
int measure_file_write(const char *path, const struct measure_log *log,
		       char *err, size_t errlen);
int measure_file_read(const char *path, struct measure_log *log, int *fdp,
		      char *err, size_t errlen);
/* The same from a regular file's descriptor; name is for messages. */
int measure_fd_read(int fd, const char *name, struct measure_log *log,
		    char *err, size_t errlen);

/* <state>/measure/NAME.eventlog; 0 or -ENAMETOOLONG. */
int measure_log_path(const struct bhd *d, const char *name, char *buf,
		     size_t len);

/*
 * Copies the regular file at path (at most max bytes) into a memfd sealed
 * against any change, computing its SHA-256 on the way. Returns the memfd,
 * or -1 with err naming what ("kernel", "ramdisk") and why.
 */
int measure_copy_sealed(const char *what, const char *path, uint64_t max,
			uint8_t sha256[MEASURE_SHA256_BYTES], char *err,
			size_t errlen);

/*
 * Step 1: starts log (empty on entry) with the kernel, the initrd
 * (initrd NULL: none), the command line the guest boots with (cfg's with
 * the vifs' hmxnet parameters, vif_plan_cmdline()) and the definition,
 * and checks cfg's pins on them. 0, or -1 with err set (a mismatch
 * audited).
 */
int measure_launch_begin(struct bhd *d, const struct vmcfg *cfg,
			 const char *cmdline,
			 const uint8_t kernel[MEASURE_SHA256_BYTES],
			 const uint8_t *initrd, struct measure_log *log,
			 char *err, size_t errlen);

/* Step 2: adds r's measured disks to log and writes it. 0 or -1. */
int measure_launch_write(struct bhd *d, const struct vmrec *r,
			 struct measure_log *log, char *err, size_t errlen);

/*
 * Step 3: measures r's compiled rules in d->policy, checks the pin,
 * appends them to r's log. 0, or -1 with err set (a mismatch audited);
 * the caller then abandons the start.
 */
int measure_launch_commit(struct bhd *d, struct vmrec *r, char *err,
			  size_t errlen);

/* The instance is gone: its log goes too. */
void measure_launch_forget(struct bhd *d, const char *name);

struct measure_log;
struct json_object;
/* A log's events as the API shows them (vm.measure, host.measure). */
struct json_object *measure_events_json(const struct measure_log *log);

/* vm.measure {name, eventlog}: the log decoded, the PCR replayed. */
void api_vm_measure(struct bhd *d, struct api_client *c, int64_t id,
		    struct json_object *req);

#endif
