// SPDX-License-Identifier: GPL-2.0-only
/* Deciding a service call against the rules (svc_policy.h). */
#include "toolstack/svc_policy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct svc_vm *find_vm(const struct svc_world *w, const char *name)
{
	for (size_t i = 0; i < w->nvms; i++)
		if (!strcmp(w->vms[i].name, name))
			return &w->vms[i];
	return NULL;
}

static bool has_tag(const struct svc_vm *vm, const char *tag)
{
	for (size_t i = 0; i < vm->ntags; i++)
		if (!strcmp(vm->tags[i], tag))
			return true;
	return false;
}

bool svc_selector_matches_vm(const struct svc_selector *s,
			     const struct svc_vm *vm)
{
	switch (s->kind) {
	case SVC_SEL_ANYVM:
		return true;
	case SVC_SEL_TYPE:
		return vm->role == s->role;
	case SVC_SEL_TAG:
		return has_tag(vm, s->name);
	case SVC_SEL_DISPVM:
		return vm->disposable;
	case SVC_SEL_DISPVM_OF:
		return vm->disposable && vm->template_name &&
		       !strcmp(vm->template_name, s->name);
	case SVC_SEL_NAME:
		return !strcmp(vm->name, s->name);
	}
	return false;
}

/*
 * Matches a requested target: "@dispvm" and "@dispvm:T" requests match only
 * the same token (@anyvm never stands for a VM not yet started); names
 * match through the VM they name, or only by name when it is not known.
 */
static bool sel_matches_target(const struct svc_selector *s,
			       const struct svc_world *w, const char *target)
{
	const struct svc_vm *vm;

	if (!strcmp(target, "@dispvm"))
		return s->kind == SVC_SEL_DISPVM;
	if (!strncmp(target, "@dispvm:", 8))
		return s->kind == SVC_SEL_DISPVM_OF &&
		       !strcmp(s->name, target + 8);
	vm = find_vm(w, target);
	if (vm)
		return svc_selector_matches_vm(s, vm);
	return s->kind == SVC_SEL_NAME && !strcmp(s->name, target);
}

static bool arg_matches(const struct svc_rule *r, const char *arg)
{
	switch (r->arg_match) {
	case SVC_ARG_ANY:
		return true;
	case SVC_ARG_NONE:
		return arg[0] == '\0';
	case SVC_ARG_EXACT:
		return !strcmp(r->arg, arg);
	case SVC_ARG_PREFIX:
		return !strncmp(r->arg, arg, strlen(r->arg));
	}
	return false;
}

static bool rule_matches(const struct svc_rule *r, const struct svc_world *w,
			 const struct svc_vm *src, const struct svc_call *c,
			 const char *target)
{
	return (!strcmp(r->service, "*") || !strcmp(r->service, c->service)) &&
	       arg_matches(r, c->arg) &&
	       svc_selector_matches_vm(&r->source, src) &&
	       sel_matches_target(&r->target, w, target);
}

static bool target_ok(const char *t)
{
	if (!strcmp(t, "@dispvm"))
		return true;
	if (!strncmp(t, "@dispvm:", 8))
		t += 8;
	return !vm_name_problem(t, strlen(t));
}

/* Only the bytes the rule grammar allows in a call's words. */
static bool word_chars_ok(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n > max)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-' ||
		      c == '.'))
			return false;
	}
	return true;
}

static bool call_ok(const struct svc_call *c, char *err, size_t errlen)
{
	struct svc_policy one = { 0 };
	struct svc_error e;
	char line[SVC_LINE_MAX];
	bool ok;

	if (!c->service || !c->arg || !c->source || !c->target) {
		snprintf(err, errlen, "malformed call");
		return false;
	}
	/* Checked byte by byte first: the words must not carry spaces or
	 * comments into the line parsed below. */
	if (!word_chars_ok(c->service, SVC_NAME_MAX) ||
	    !word_chars_ok(c->arg, SVC_ARG_MAX)) {
		snprintf(err, errlen,
			 "service and argument may hold only [A-Za-z0-9._-]");
		return false;
	}
	/* The call's service obeys the rule grammar exactly. */
	snprintf(line, sizeof(line), "%s +%s @anyvm @anyvm deny", c->service,
		 c->arg);
	ok = !svc_policy_parse(&one, "call", line, strlen(line), &e);
	if (one.nrules)
		free(one.rules[0].file);
	free(one.rules);
	if (!ok) {
		snprintf(err, errlen, "%s", e.msg);
		return false;
	}
	if (!target_ok(c->target)) {
		snprintf(err, errlen,
			 "target \"%.40s\" is not a VM name, "
			 "@dispvm or @dispvm:TEMPLATE",
			 c->target);
		return false;
	}
	return true;
}

int svc_policy_decide(const struct svc_policy *pol,
		      const struct svc_world *world,
		      const struct svc_call *call, struct svc_decision *out,
		      char *err, size_t errlen)
{
	const struct svc_vm *src;

	memset(out, 0, sizeof(*out));
	out->action = SVC_DENY;
	if (errlen)
		err[0] = '\0';
	if (!call_ok(call, err, errlen))
		return -EINVAL;
	src = find_vm(world, call->source);
	if (!src) {
		snprintf(err, errlen, "unknown source VM \"%.40s\"",
			 call->source);
		return -EINVAL;
	}
	for (size_t i = 0; i < pol->nrules; i++) {
		const struct svc_rule *r = &pol->rules[i];

		if (!rule_matches(r, world, src, call, call->target))
			continue;
		out->rule = r;
		out->action = r->action;
		if (r->action == SVC_DENY)
			return 0;
		snprintf(out->target, sizeof(out->target), "%s",
			 r->redirect[0] ? r->redirect : call->target);
		snprintf(out->user, sizeof(out->user), "%s", r->user);
		if (!r->redirect[0])
			return 0;
		/* An earlier deny of the redirected call wins. */
		for (size_t j = 0; j < i; j++) {
			const struct svc_rule *d = &pol->rules[j];

			if (d->action == SVC_DENY &&
			    rule_matches(d, world, src, call, r->redirect)) {
				out->action = SVC_DENY;
				out->rule = d;
				out->redirect_by = r;
				out->target[0] = '\0';
				out->user[0] = '\0';
				return 0;
			}
		}
		return 0;
	}
	return 0;
}

const char *svc_action_name(enum svc_action a)
{
	switch (a) {
	case SVC_ALLOW:
		return "allow";
	case SVC_ASK:
		return "ask";
	case SVC_DENY:
		break;
	}
	return "deny";
}

static int sel_format(const struct svc_selector *s, char *buf, size_t len)
{
	switch (s->kind) {
	case SVC_SEL_ANYVM:
		return snprintf(buf, len, "@anyvm");
	case SVC_SEL_TYPE:
		return snprintf(buf, len, "@type:%s", vm_role_name(s->role));
	case SVC_SEL_TAG:
		return snprintf(buf, len, "@tag:%s", s->name);
	case SVC_SEL_DISPVM:
		return snprintf(buf, len, "@dispvm");
	case SVC_SEL_DISPVM_OF:
		return snprintf(buf, len, "@dispvm:%s", s->name);
	case SVC_SEL_NAME:
		break;
	}
	return snprintf(buf, len, "%s", s->name);
}

int svc_rule_format(const struct svc_rule *r, char *buf, size_t len)
{
	char arg[SVC_ARG_MAX + 3], src[SVC_TARGET_MAX + 8],
		dst[SVC_TARGET_MAX + 8];

	switch (r->arg_match) {
	case SVC_ARG_ANY:
		snprintf(arg, sizeof(arg), "*");
		break;
	case SVC_ARG_NONE:
		snprintf(arg, sizeof(arg), "+");
		break;
	case SVC_ARG_EXACT:
		snprintf(arg, sizeof(arg), "+%s", r->arg);
		break;
	case SVC_ARG_PREFIX:
		snprintf(arg, sizeof(arg), "+%s*", r->arg);
		break;
	}
	sel_format(&r->source, src, sizeof(src));
	sel_format(&r->target, dst, sizeof(dst));
	return snprintf(buf, len, "%s %s %s %s %s%s%s%s%s", r->service, arg,
			src, dst, svc_action_name(r->action),
			r->redirect[0] ? " target=" : "", r->redirect,
			r->user[0] ? " user=" : "", r->user);
}

int svc_decision_format(const struct svc_call *c, const struct svc_decision *d,
			char *buf, size_t len)
{
	char rule[320];

	if (d->rule && d->redirect_by)
		snprintf(rule, sizeof(rule), "%s:%u redirect=%s:%u",
			 d->rule->file, d->rule->line, d->redirect_by->file,
			 d->redirect_by->line);
	else if (d->rule)
		snprintf(rule, sizeof(rule), "%s:%u", d->rule->file,
			 d->rule->line);
	else
		snprintf(rule, sizeof(rule), "default-deny");
	return snprintf(buf, len,
			"svc-call source=%s target=%s service=%s arg=%s "
			"action=%s effective=%s user=%s rule=%s",
			c->source, c->target, c->service,
			c->arg[0] ? c->arg : "-", svc_action_name(d->action),
			d->target[0] ? d->target : "-",
			d->user[0] ? d->user : "-", rule);
}
