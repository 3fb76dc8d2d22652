// SPDX-License-Identifier: GPL-2.0-only
/* The pure half of disks.h: the JSON forms of a VM's disks. */
#include "toolstack/daemon/disks.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "toolstack/daemon/vmrec.h"
#include "toolstack/jget.h"
#include "util/hex.h"

static void add_str(struct json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v ? v : ""));
}

/* The layers and the measurement, the same in both forms. */
static void add_layers(struct json_object *o, const struct disk_inst *di)
{
	char hex[2 * DISK_SHA256_BYTES + 1];

	json_object_object_add(o, "encrypted",
			       json_object_new_boolean(di->encrypted));
	add_str(o, "snapshot", disk_snapshot_name(di->snapshot));
	json_object_object_add(o, "verity",
			       json_object_new_boolean(di->verity));
	if (di->measured) {
		hex_encode(di->sha256, DISK_SHA256_BYTES, hex);
		add_str(o, "sha256", hex);
	}
}

static const char *snapshot_name(int i)
{
	return disk_snapshot_name((enum disk_snapshot)i);
}

static bool name_is(const char *s, const char *(*name)(int), int n, int *out);

/* 0, or -1 if o's layer fields are malformed. */
static int layers_from(struct json_object *o, struct disk_inst *di)
{
	const char *sha = jget_str(o, "sha256");
	int snap = 0;

	if (jget_str(o, "snapshot") &&
	    !name_is(jget_str(o, "snapshot"), snapshot_name, 3, &snap))
		return -1;
	di->snapshot = (enum disk_snapshot)snap;
	di->encrypted = jget_bool(o, "encrypted", false);
	di->verity = jget_bool(o, "verity", false);
	if (!sha)
		return 0;
	if (strlen(sha) != 2 * DISK_SHA256_BYTES ||
	    hex_decode(sha, di->sha256, DISK_SHA256_BYTES) != DISK_SHA256_BYTES)
		return -1;
	di->measured = true;
	return 0;
}

struct json_object *disks_json(const struct vmrec *r)
{
	struct json_object *a = json_object_new_array();

	for (size_t i = 0; i < r->ndisks; i++) {
		const struct disk_inst *di = &r->disks[i];
		struct json_object *o = json_object_new_object();

		add_str(o, "vdev", di->vdev);
		add_str(o, "target", di->target);
		add_str(o, "format", disk_format_name(di->format));
		add_str(o, "access", di->readonly ? "ro" : "rw");
		add_str(o, "backend", disk_backend_name(di->backend));
		add_layers(o, di);
		if (di->pid)
			json_object_object_add(o, "pid",
					       json_object_new_int(di->pid));
		add_str(o, "state",
			di->backend == DISK_BACKEND_VHOST_USER ? "connected" :
			di->exited			       ? "exited" :
								 "running");
		json_object_array_add(a, o);
	}
	return a;
}

struct json_object *disks_state_json(const struct vmrec *r)
{
	struct json_object *a = json_object_new_array();

	for (size_t i = 0; i < r->ndisks; i++) {
		const struct disk_inst *di = &r->disks[i];
		struct json_object *o = json_object_new_object();

		add_str(o, "vdev", di->vdev);
		add_str(o, "target", di->target);
		add_str(o, "format", disk_format_name(di->format));
		add_str(o, "backend", disk_backend_name(di->backend));
		json_object_object_add(o, "readonly",
				       json_object_new_boolean(di->readonly));
		json_object_object_add(o, "pid", json_object_new_int(di->pid));
		json_object_object_add(
			o, "start_time",
			json_object_new_int64((int64_t)di->start_time));
		json_object_object_add(o, "uid",
				       json_object_new_int64(di->uid));
		json_object_object_add(o, "exited",
				       json_object_new_boolean(di->exited));
		add_layers(o, di);
		json_object_array_add(a, o);
	}
	return a;
}

static bool name_is(const char *s, const char *(*name)(int), int n, int *out)
{
	for (int i = 0; s && i < n; i++) {
		if (!strcmp(s, name(i))) {
			*out = i;
			return true;
		}
	}
	return false;
}

static const char *format_name(int i)
{
	return disk_format_name((enum disk_format)i);
}

static const char *backend_name(int i)
{
	return disk_backend_name((enum disk_backend)i);
}

int disks_from_state(struct vmrec *r, struct json_object *arr)
{
	size_t n = arr ? json_object_array_length(arr) : 0;

	disks_free(r);
	if (!n)
		return 0;
	r->disks = calloc(n, sizeof(*r->disks));
	if (!r->disks)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct json_object *o = json_object_array_get_idx(arr, i);
		struct disk_inst *di = &r->disks[i];
		const char *vdev = jget_str(o, "vdev"),
			   *t = jget_str(o, "target");
		int64_t pid = jget_int(o, "pid", -1);
		int fmt, be;

		di->pidfd = -1;
		di->vm = r;
		r->ndisks = i + 1;
		if (!vdev || strlen(vdev) > DISK_VDEV_MAX || !t ||
		    t[0] != '/' ||
		    !name_is(jget_str(o, "format"), format_name, 2, &fmt) ||
		    !name_is(jget_str(o, "backend"), backend_name, 2, &be) ||
		    pid < 0 || pid > 0x3fffffff)
			goto bad;
		strcpy(di->vdev, vdev);
		di->target = strdup(t);
		if (!di->target)
			goto bad;
		di->format = (enum disk_format)fmt;
		di->backend = (enum disk_backend)be;
		di->readonly = jget_bool(o, "readonly", false);
		di->pid = (pid_t)pid;
		di->start_time = (uint64_t)jget_int(o, "start_time", 0);
		di->uid = (uid_t)jget_int(o, "uid", 0);
		di->exited = jget_bool(o, "exited", false);
		if (layers_from(o, di) < 0)
			goto bad;
	}
	return 0;
bad:
	disks_free(r);
	return -1;
}

void disks_free(struct vmrec *r)
{
	for (size_t i = 0; i < r->ndisks; i++)
		free(r->disks[i].target);
	free(r->disks);
	r->disks = NULL;
	r->ndisks = 0;
}
