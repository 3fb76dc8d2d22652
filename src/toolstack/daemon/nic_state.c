// SPDX-License-Identifier: GPL-2.0-only
/* A VM's NICs as JSON: for `bulkhead info` and for the state file. */
#include "toolstack/daemon/nics.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "toolstack/daemon/vmrec.h"
#include "toolstack/jget.h"

static void add_str(struct json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v));
}

static void add_common(struct json_object *o, const struct nic_inst *ni)
{
	char mac[18];

	nic_mac_format(ni->mac, mac);
	add_str(o, "name", ni->name);
	add_str(o, "netns", ni->netns);
	add_str(o, "tap", ni->tap);
	if (ni->bridge[0])
		add_str(o, "bridge", ni->bridge);
	add_str(o, "mac", mac);
}

struct json_object *nics_json(const struct vmrec *r)
{
	struct json_object *a = json_object_new_array();

	for (size_t i = 0; i < r->nnics; i++) {
		const struct nic_inst *ni = &r->nics[i];
		struct json_object *o = json_object_new_object();

		add_common(o, ni);
		if (ni->pid)
			json_object_object_add(o, "pid",
					       json_object_new_int(ni->pid));
		add_str(o, "state", ni->exited ? "exited" : "running");
		json_object_array_add(a, o);
	}
	return a;
}

struct json_object *nics_state_json(const struct vmrec *r)
{
	struct json_object *a = json_object_new_array();

	for (size_t i = 0; i < r->nnics; i++) {
		const struct nic_inst *ni = &r->nics[i];
		struct json_object *o = json_object_new_object();

		add_common(o, ni);
		json_object_object_add(o, "pid", json_object_new_int(ni->pid));
		json_object_object_add(
			o, "start_time",
			json_object_new_int64((int64_t)ni->start_time));
		json_object_object_add(o, "uid",
				       json_object_new_int64(ni->uid));
		json_object_object_add(o, "exited",
				       json_object_new_boolean(ni->exited));
		json_object_array_add(a, o);
	}
	return a;
}

static bool copy_name(char *dst, size_t max, const char *s,
		      const char *(*problem)(const char *, size_t))
{
	if (!s || problem(s, strlen(s)) || strlen(s) > max)
		return false;
	strcpy(dst, s);
	return true;
}

int nics_from_state(struct vmrec *r, struct json_object *arr)
{
	size_t n = arr ? json_object_array_length(arr) : 0;

	nics_free(r);
	if (!n)
		return 0;
	r->nics = calloc(n, sizeof(*r->nics));
	if (!r->nics)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct json_object *o = json_object_array_get_idx(arr, i);
		struct nic_inst *ni = &r->nics[i];
		const char *name = jget_str(o, "name"),
			   *mac = jget_str(o, "mac"),
			   *bridge = jget_str(o, "bridge");
		int64_t pid = jget_int(o, "pid", -1);
		int64_t uid = jget_int(o, "uid", -1);
		int64_t start = jget_int(o, "start_time", -1);
		struct json_object *ex;

		ni->pidfd = -1;
		ni->vm = r;
		r->nnics = i + 1;
		if (!name || strlen(name) > NIC_NAME_MAX || !mac ||
		    nic_mac_parse(mac, strlen(mac), ni->mac) ||
		    !copy_name(ni->netns, NIC_NETNS_MAX, jget_str(o, "netns"),
			       nic_netns_problem) ||
		    !copy_name(ni->tap, NIC_IFNAME_MAX, jget_str(o, "tap"),
			       nic_ifname_problem) ||
		    (bridge && !copy_name(ni->bridge, NIC_IFNAME_MAX, bridge,
					  nic_ifname_problem)) ||
		    pid < 0 || pid > 0x3fffffff || uid < 0 ||
		    uid > 0xfffffffe || start < 0 ||
		    !json_object_object_get_ex(o, "exited", &ex) ||
		    !json_object_is_type(ex, json_type_boolean))
			goto bad;
		strcpy(ni->name, name);
		ni->pid = (pid_t)pid;
		ni->uid = (uid_t)uid;
		ni->start_time = (uint64_t)start;
		ni->exited = json_object_get_boolean(ex);
	}
	return 0;
bad:
	nics_free(r);
	return -1;
}

void nics_free(struct vmrec *r)
{
	free(r->nics);
	r->nics = NULL;
	r->nnics = 0;
}
