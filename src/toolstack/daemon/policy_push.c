// SPDX-License-Identifier: GPL-2.0-only
/*
 * Compiles the rules of every VM that has an instance, in start order, and
 * swaps the hypervisor's firewall to the result (docs/policy.md: the set
 * with a VM goes in before its vCPUs first run, the set without it after
 * its domain is gone; callers keep that order).
 */
#include "toolstack/daemon/daemon.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "toolstack/jget.h"
#include "toolstack/policy.h"
#include "toolstack/vmcfg.h"
#include "util/log.h"

/* The hypervisor takes at most this many rules inline (control-protocol.md). */
#define RULES_INLINE_MAX 512

static int cmp_seq(const void *a, const void *b)
{
	const struct vmrec *x = *(struct vmrec *const *)a;
	const struct vmrec *y = *(struct vmrec *const *)b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static struct json_object *rules_json(const struct policy_set *set)
{
	struct json_object *rules = json_object_new_array();

	for (size_t i = 0; rules && i < set->nentries; i++) {
		const struct policy_entry *e = &set->entries[i];
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "src_domid",
				       json_object_new_int(e->src_domid));
		json_object_object_add(o, "src_port",
				       json_object_new_int64(e->src_port));
		json_object_object_add(o, "dst_domid",
				       json_object_new_int(e->dst_domid));
		json_object_object_add(o, "dst_port",
				       json_object_new_int64(e->dst_port));
		json_object_object_add(
			o, "action",
			json_object_new_string(policy_action_name(e->action)));
		json_object_array_add(rules, o);
	}
	return rules;
}

/* A set too big for one message goes in a memfd (rules_fd). */
static int rules_memfd(struct json_object *rules)
{
	const char *text =
		json_object_to_json_string_ext(rules, JSON_C_TO_STRING_PLAIN);
	size_t len = text ? strlen(text) : 0;
	int fd, e;

	if (!text)
		return -ENOMEM;
	fd = memfd_create("bulkhead-rules", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, text, len) != (ssize_t)len) {
		e = errno ? errno : EIO;
		close(fd);
		return -e;
	}
	return fd;
}

int policy_push(struct bhd *d, char *err, size_t errlen)
{
	struct vmrec **run = NULL;
	struct policy_vm *pv = NULL;
	struct policy_vif *pvifs = NULL;
	struct policy_set *set = NULL;
	struct json_object *args, *reply, *rules;
	size_t n = 0, cap = 0;
	int r = -ENOMEM;

	if (errlen)
		err[0] = '\0';

	for (struct vmrec *v = d->vms; v; v = v->next) {
		if (!v->active || !v->cfg)
			continue;
		if (n == cap) {
			struct vmrec **m = realloc(
				run, (cap = cap ? 2 * cap : 8) * sizeof(*m));
			if (!m)
				goto out;
			run = m;
		}
		run[n++] = v;
	}
	if (n)
		qsort(run, n, sizeof(*run), cmp_seq);
	pv = calloc(n ? n : 1, sizeof(*pv));
	pvifs = calloc(n ? n * VIF_PER_VM_MAX : 1, sizeof(*pvifs));
	if (!pv || !pvifs)
		goto out;
	for (size_t i = 0; i < n; i++) {
		policy_vm_from_vmcfg(&pv[i], run[i]->cfg, run[i]->domid);
		pv[i].vifs = pvifs + i * VIF_PER_VM_MAX;
		pv[i].nvifs = vifs_policy(run[i], pvifs + i * VIF_PER_VM_MAX);
	}
	r = policy_compile(pv, n, &set, err, errlen);
	if (r < 0)
		goto out;
	if (d->hv.has_hmx) {
		int fd = -1;

		/* Refusals so far were decided by the set in force: label
		 * them with it before it goes. */
		audit_drain(d);
		args = json_object_new_object();
		rules = rules_json(set);
		if (set->nentries <= RULES_INLINE_MAX) {
			json_object_object_add(args, "rules", rules);
		} else {
			fd = rules_memfd(rules);
			json_object_put(rules);
			if (fd < 0) {
				json_object_put(args);
				snprintf(err, errlen,
					 "cannot pass %zu rules: %s",
					 set->nentries, strerror(-fd));
				r = fd;
				goto out;
			}
			json_object_object_add(args, "rules_fd",
					       json_object_new_int(0));
		}
		r = hvconn_call(&d->hv, "hmx.firewall.set", args,
				fd >= 0 ? &fd : NULL, fd >= 0 ? 1 : 0, &reply,
				err, errlen);
		if (fd >= 0)
			close(fd);
		if (r < 0)
			goto out;
		d->policy_generation =
			(uint64_t)jget_int(reply, "generation", 0);
		json_object_put(reply);
	}
	policy_set_free(d->policy);
	d->policy = set;
	set = NULL;
	d->policy_error[0] = '\0';
	bh_info("policy: %zu entries for %zu VMs%s", d->policy->nentries, n,
		d->hv.has_hmx ? " installed" :
				" compiled (this hypervisor has no HMX)");
	r = 0;
out:
	if (r < 0) {
		if (r == -ENOMEM && errlen && !err[0])
			snprintf(err, errlen, "out of memory");
		snprintf(d->policy_error, sizeof(d->policy_error), "%s", err);
		bh_err("policy: %s", err);
	}
	policy_set_free(set);
	free(pvifs);
	free(pv);
	free(run);
	return r;
}
