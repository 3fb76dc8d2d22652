/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Tables the bulkhead command prints, rendered from bulkheadd's JSON
 * replies. Pure functions, unit-tested (tests/unit/test_cli_render.c).
 */
#ifndef BH_CLI_RENDER_H
#define BH_CLI_RENDER_H

#include <stddef.h>
#include <stdint.h>

struct json_object;

/* "1h02m", "5m03s", "12s", "0s". */
void render_duration(uint64_t ms, char *buf, size_t len);

/* The `bulkhead list` table of a vm.list reply's "vms" array (malloc'd). */
char *render_vm_table(struct json_object *vms);
/* A VM's disks as `bulkhead block-list` prints them. */
char *render_disk_table(struct json_object *disks);
/* A VM's vifs (a vm.network reply's "vifs") as `bulkhead network-list`. */
char *render_vif_table(struct json_object *vifs);

/* The `bulkhead policy show` text of a policy.show reply (malloc'd). */
char *render_policy(struct json_object *reply);

#endif
