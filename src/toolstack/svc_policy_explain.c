// SPDX-License-Identifier: GPL-2.0-only
/* Service-call decisions in words, naming the rule that decides. */
#include "toolstack/svc_policy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#define EXPLAIN_MAX 2048

int svc_decision_explain(const struct svc_call *c, const struct svc_decision *d,
			 char **out)
{
	char rule[SVC_LINE_MAX], redir[SVC_LINE_MAX];
	char *text = malloc(EXPLAIN_MAX);
	int n;

	if (!text)
		return -ENOMEM;
	n = snprintf(text, EXPLAIN_MAX, "call %s -> %s %s%s%s: %s", c->source,
		     c->target, c->service, c->arg[0] ? "+" : "", c->arg,
		     svc_action_name(d->action));
	if (d->action != SVC_DENY)
		n += snprintf(text + n, EXPLAIN_MAX - (size_t)n, ", to %s%s%s",
			      d->target, d->user[0] ? " as user " : "",
			      d->user);
	if (!d->rule) {
		snprintf(text + n, EXPLAIN_MAX - (size_t)n,
			 "\n  no rule matches: default deny\n");
		*out = text;
		return 0;
	}
	svc_rule_format(d->rule, rule, sizeof(rule));
	n += snprintf(text + n, EXPLAIN_MAX - (size_t)n, "\n  by %s:%u: %s\n",
		      d->rule->file, d->rule->line, rule);
	if (d->redirect_by) {
		svc_rule_format(d->redirect_by, redir, sizeof(redir));
		snprintf(text + n, EXPLAIN_MAX - (size_t)n,
			 "  which refuses the redirect to %s of %s:%u: %s\n",
			 d->redirect_by->redirect, d->redirect_by->file,
			 d->redirect_by->line, redir);
	}
	*out = text;
	return 0;
}
