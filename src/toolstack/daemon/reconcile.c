// SPDX-License-Identifier: GPL-2.0-only
#include "toolstack/daemon/reconcile.h"

#include <stdbool.h>
#include <string.h>

static ptrdiff_t find_hv(const struct rc_known *k, const struct rc_hv_vm *hv,
			 size_t nhv)
{
	for (size_t i = 0; i < nhv; i++) {
		if (strcmp(hv[i].name, k->name))
			continue;
		if (k->domid && hv[i].domid != k->domid)
			continue;
		return (ptrdiff_t)i;
	}
	return -1;
}

static enum rc_action known_action(const struct rc_hv_vm *h)
{
	if (!h)
		return RC_LOST;
	switch (h->state) {
	case RC_HV_CREATED:
		/* Never started: whatever the record says, its vCPUs have not
		 * run, so policy can still be installed first. */
		return RC_FINISH_START;
	case RC_HV_RUNNING:
	case RC_HV_PAUSED:
		return RC_ADOPT;
	case RC_HV_STOPPED:
		break;
	}
	return RC_HANDLE_STOP;
}

size_t reconcile_plan(const struct rc_known *known, size_t nknown,
		      const struct rc_hv_vm *hv, size_t nhv,
		      struct rc_step *steps)
{
	size_t n = 0;

	for (size_t i = 0; i < nknown; i++) {
		ptrdiff_t h = find_hv(&known[i], hv, nhv);

		steps[n++] = (struct rc_step){
			.action = known_action(h < 0 ? NULL : &hv[h]),
			.known = (ptrdiff_t)i,
			.hv = h,
		};
	}
	for (size_t j = 0; j < nhv; j++) {
		bool matched = false;

		for (size_t i = 0; i < nknown && !matched; i++)
			matched = find_hv(&known[i], hv, nhv) == (ptrdiff_t)j;
		if (matched)
			continue;
		steps[n++] = (struct rc_step){
			.action = hv[j].state == RC_HV_RUNNING ||
						  hv[j].state == RC_HV_PAUSED ?
					  RC_ADOPT_UNRECORDED :
					  RC_DESTROY,
			.known = -1,
			.hv = (ptrdiff_t)j,
		};
	}
	return n;
}

const char *rc_action_name(enum rc_action a)
{
	static const char *const names[] = {
		[RC_ADOPT] = "adopt",
		[RC_FINISH_START] = "finish-start",
		[RC_HANDLE_STOP] = "handle-stop",
		[RC_LOST] = "lost",
		[RC_ADOPT_UNRECORDED] = "adopt-unrecorded",
		[RC_DESTROY] = "destroy",
	};

	return a < sizeof(names) / sizeof(names[0]) ? names[a] : "?";
}
