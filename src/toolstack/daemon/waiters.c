// SPDX-License-Identifier: GPL-2.0-only
/*
 * Clients waiting for a VM to stop (bulkhead shutdown) or to start again
 * (bulkhead reboot). Answered when the condition holds or at the deadline,
 * so the single-threaded daemon never blocks on a guest.
 */
#include "toolstack/daemon/daemon.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

struct waiter {
	struct waiter *next;
	struct api_client *client;
	int64_t id;
	char name[VM_NAME_MAX + 1];
	enum waiter_kind kind;
	uint64_t seq; /* the instance being waited out */
	int64_t deadline_ms;
};

/* 1: satisfied, 0: keep waiting. */
static int satisfied(struct bhd *d, const struct waiter *w)
{
	struct vmrec *r = bhd_find(d, w->name);

	if (!r)
		return 1; /* the caller reports what it finds */
	switch (w->kind) {
	case WAIT_STOPPED:
		return !r->active || r->seq != w->seq;
	case WAIT_STARTED:
		/* A newer instance running, or nothing left to wait for. */
		if (r->active)
			return r->seq != w->seq && r->started;
		return !r->restart_pending;
	}
	return 1;
}

static void answer(struct bhd *d, struct waiter *w, bool timed_out)
{
	struct vmrec *r = bhd_find(d, w->name);
	struct json_object *o;

	if (!r) {
		api_reply_err(d, w->client, w->id, BHD_ERR_NO_VM,
			      "VM %s is no longer defined", w->name);
		return;
	}
	if (timed_out) {
		api_reply_err(d, w->client, w->id, BHD_ERR_TIMEOUT,
			      "VM %s did not %s in time", w->name,
			      w->kind == WAIT_STOPPED ? "stop" : "start again");
		return;
	}
	if (w->kind == WAIT_STARTED && !r->active) {
		api_reply_err(d, w->client, w->id, BHD_ERR_FAILED,
			      "VM %s stopped and was not started again: %s%s%s",
			      w->name, r->stop_reason,
			      r->stop_detail[0] ? ": " : "", r->stop_detail);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "active", json_object_new_boolean(r->active));
	if (r->active)
		json_object_object_add(o, "domid",
				       json_object_new_int(r->domid));
	json_object_object_add(o, "stop_reason",
			       json_object_new_string(r->stop_reason));
	json_object_object_add(o, "stop_detail",
			       json_object_new_string(r->stop_detail));
	api_reply(d, w->client, w->id, o, NULL, 0);
}

int waiter_add(struct bhd *d, struct api_client *c, int64_t id,
	       const char *name, enum waiter_kind kind, uint64_t seq,
	       int64_t timeout_ms)
{
	struct waiter *w = calloc(1, sizeof(*w));

	if (!w)
		return -1;
	w->client = c;
	w->id = id;
	strncpy(w->name, name, VM_NAME_MAX);
	w->kind = kind;
	w->seq = seq;
	w->deadline_ms = bhd_now_ms() + timeout_ms;
	w->next = d->waiters;
	d->waiters = w;
	waiters_check(d);
	return 0;
}

void waiters_check(struct bhd *d)
{
	int64_t now = bhd_now_ms();
	struct waiter **p = &d->waiters;

	while (*p) {
		struct waiter *w = *p;
		int ok = satisfied(d, w);

		if (!ok && now < w->deadline_ms) {
			p = &w->next;
			continue;
		}
		*p = w->next;
		answer(d, w, !ok);
		free(w);
	}
}

int waiters_next_timeout(struct bhd *d)
{
	int64_t now = bhd_now_ms(), best = -1;

	for (struct waiter *w = d->waiters; w; w = w->next) {
		int64_t left = w->deadline_ms > now ? w->deadline_ms - now : 0;

		if (best < 0 || left < best)
			best = left;
	}
	return best > 1000000 ? 1000000 : (int)best;
}

void waiters_drop_client(struct bhd *d, struct api_client *c)
{
	struct waiter **p = &d->waiters;

	while (*p) {
		struct waiter *w = *p;

		if (w->client != c) {
			p = &w->next;
			continue;
		}
		*p = w->next;
		free(w);
	}
}
