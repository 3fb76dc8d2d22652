// SPDX-License-Identifier: GPL-2.0-only
/* Service-call policy: grammar, errors, first match, tokens, redirects. */
#include "toolstack/svc_policy.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

static const char *const work_tags[] = { "work", "printing" };
static const struct svc_vm world_vms[] = {
	{ .name = "work", .role = VM_ROLE_GUEST, .tags = work_tags, .ntags = 2 },
	{ .name = "personal", .role = VM_ROLE_GUEST },
	{ .name = "vault", .role = VM_ROLE_SERVICE },
	{ .name = "net", .role = VM_ROLE_NDVM },
	{ .name = "disp7",
	  .role = VM_ROLE_GUEST,
	  .disposable = true,
	  .template_name = "fedora" },
};
static const struct svc_world world = { world_vms, 5 };

static struct svc_policy *parse_ok(const char *text)
{
	struct svc_policy *pol = calloc(1, sizeof(*pol));
	struct svc_error err;
	int ret;

	assert_non_null(pol);
	ret = svc_policy_parse(pol, "50-test.svcpolicy", text, strlen(text),
			       &err);
	if (ret)
		print_error("%s:%u: %s\n", err.file, err.line, err.msg);
	assert_int_equal(ret, 0);
	return pol;
}

static void parse_fails(const char *text, unsigned int line, const char *want)
{
	struct svc_policy *pol = calloc(1, sizeof(*pol));
	struct svc_error err;

	assert_non_null(pol);
	assert_int_equal(svc_policy_parse(pol, "f.svcpolicy", text,
					  strlen(text), &err),
			 -EINVAL);
	assert_string_equal(err.file, "f.svcpolicy");
	assert_int_equal(err.line, line);
	if (!strstr(err.msg, want))
		print_error("message \"%s\" lacks \"%s\"\n", err.msg, want);
	assert_non_null(strstr(err.msg, want));
	svc_policy_free(pol);
}

static struct svc_decision decide(const struct svc_policy *pol, const char *svc,
				  const char *arg, const char *src,
				  const char *dst)
{
	struct svc_call c = { svc, arg, src, dst };
	struct svc_decision d;
	char err[200];
	int ret = svc_policy_decide(pol, &world, &c, &d, err, sizeof(err));

	if (ret)
		print_error("%s\n", err);
	assert_int_equal(ret, 0);
	return d;
}

static void errors_name_file_and_line(void **state)
{
	(void)state;
	parse_fails("# c\n\nbad\n", 3, "a rule is SERVICE");
	parse_fails("a.B + work vault allow\nService + work vault allow\n", 2,
		    "vendor.Service");
	parse_fails("a.b.c + work vault allow\n", 1, "vendor.Service");
	parse_fails("a.B arg work vault allow\n", 1, "*, + or +ARG");
	parse_fails("a.B +a/b work vault allow\n", 1, "[A-Za-z0-9._-]");
	parse_fails("a.B +a*b work vault allow\n", 1, "[A-Za-z0-9._-]");
	parse_fails("a.B + @any vault allow\n", 1, "unknown token");
	parse_fails("a.B + @type:cloud vault allow\n", 1, "guest, ndvm");
	parse_fails("a.B + @tag: vault allow\n", 1, "@tag:");
	parse_fails("a.B + work host allow\n", 1, "target \"host\"");
	parse_fails("a.B + work vault permit\n", 1, "allow, deny or ask");
	parse_fails("a.B + work vault deny user=x\n", 1, "no options");
	parse_fails("a.B + work vault allow target=@anyvm\n", 1, "target=");
	parse_fails("a.B + work vault allow user=a user=b\n", 1, "twice");
	parse_fails("a.B + work vault allow user=-x\n", 1, "user=");
	parse_fails("a.B + work vault allow colour=red\n", 1, "unknown option");
	parse_fails("a.B + work vault allow a b c d\n", 1, "too many words");
	/* A NUL byte inside a line, which strlen() would hide. */
	{
		static const char nul[] = "a.B + work\0 vault allow\n";
		struct svc_policy pol = { 0 };
		struct svc_error err;

		assert_int_equal(svc_policy_parse(&pol, "f.svcpolicy", nul,
						  sizeof(nul) - 1, &err),
				 -EINVAL);
		assert_int_equal(err.line, 1);
		assert_non_null(strstr(err.msg, "NUL"));
	}
}

static void load_dir_reads_in_lexical_order(void **state)
{
	char dir[] = "/tmp/svcpolXXXXXX";
	char path[128];
	struct svc_policy *pol;
	struct svc_error err;
	const char *files[][2] = {
		{ "20-b.svcpolicy", "a.B + work vault deny\n" },
		{ "10-a.svcpolicy", "# first\na.B + work vault allow\n" },
		{ "30-ignored.txt", "garbage\n" },
	};

	(void)state;
	assert_non_null(mkdtemp(dir));
	for (size_t i = 0; i < 3; i++) {
		FILE *f;

		snprintf(path, sizeof(path), "%s/%s", dir, files[i][0]);
		f = fopen(path, "w");
		assert_non_null(f);
		fputs(files[i][1], f);
		fclose(f);
	}
	assert_int_equal(svc_policy_load_dir(dir, &pol, &err), 0);
	assert_int_equal(pol->nrules, 2);
	assert_string_equal(pol->rules[0].file, "10-a.svcpolicy");
	assert_int_equal(pol->rules[0].line, 2);
	assert_int_equal(decide(pol, "a.B", "", "work", "vault").action,
			 SVC_ALLOW);
	svc_policy_free(pol);
	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i][0]);
		unlink(path);
	}
	rmdir(dir);
	/* A missing directory is an empty policy: everything denied. */
	assert_int_equal(svc_policy_load_dir(dir, &pol, &err), 0);
	assert_int_equal(pol->nrules, 0);
	assert_null(decide(pol, "a.B", "", "work", "vault").rule);
	svc_policy_free(pol);
}

static void first_match_and_default_deny(void **state)
{
	struct svc_policy *pol = parse_ok("a.B * work vault deny\n"
					  "a.B * @anyvm vault allow\n"
					  "* * @anyvm @anyvm ask\n");
	struct svc_decision d;

	(void)state;
	d = decide(pol, "a.B", "", "work", "vault");
	assert_int_equal(d.action, SVC_DENY);
	assert_int_equal(d.rule->line, 1);
	d = decide(pol, "a.B", "", "personal", "vault");
	assert_int_equal(d.action, SVC_ALLOW);
	assert_string_equal(d.target, "vault");
	assert_int_equal(d.rule->line, 2);
	d = decide(pol, "c.D", "x", "personal", "work");
	assert_int_equal(d.action, SVC_ASK);
	assert_int_equal(d.rule->line, 3);
	/* @anyvm does not stand for a disposable VM not yet started. */
	d = decide(pol, "c.D", "", "personal", "@dispvm:fedora");
	assert_int_equal(d.action, SVC_DENY);
	assert_null(d.rule);
	svc_policy_free(pol);
}

static void every_token_kind(void **state)
{
	struct svc_policy *pol =
		parse_ok("t.Type + @type:ndvm vault allow\n"
			 "t.Tag + @tag:printing @type:service allow\n"
			 "t.TagDst + @anyvm @tag:work allow\n"
			 "t.Disp + @dispvm vault allow\n"
			 "t.DispOf + @dispvm:fedora vault allow\n"
			 "t.ToDisp + work @dispvm allow\n"
			 "t.ToDispOf + work @dispvm:fedora allow user=user\n"
			 "t.Name + personal vault allow\n");

	(void)state;
	assert_int_equal(decide(pol, "t.Type", "", "net", "vault").action,
			 SVC_ALLOW);
	assert_int_equal(decide(pol, "t.Type", "", "work", "vault").action,
			 SVC_DENY);
	assert_int_equal(decide(pol, "t.Tag", "", "work", "vault").action,
			 SVC_ALLOW);
	assert_int_equal(decide(pol, "t.Tag", "", "personal", "vault").action,
			 SVC_DENY);
	assert_int_equal(decide(pol, "t.TagDst", "", "net", "work").action,
			 SVC_ALLOW);
	assert_int_equal(decide(pol, "t.TagDst", "", "net", "vault").action,
			 SVC_DENY);
	assert_int_equal(decide(pol, "t.Disp", "", "disp7", "vault").action,
			 SVC_ALLOW);
	assert_int_equal(decide(pol, "t.Disp", "", "work", "vault").action,
			 SVC_DENY);
	assert_int_equal(decide(pol, "t.DispOf", "", "disp7", "vault").action,
			 SVC_ALLOW);
	assert_int_equal(decide(pol, "t.ToDisp", "", "work", "@dispvm").action,
			 SVC_ALLOW);
	assert_int_equal(
		decide(pol, "t.ToDisp", "", "work", "@dispvm:fedora").action,
		SVC_DENY);
	struct svc_decision d =
		decide(pol, "t.ToDispOf", "", "work", "@dispvm:fedora");
	assert_int_equal(d.action, SVC_ALLOW);
	assert_string_equal(d.user, "user");
	assert_int_equal(
		decide(pol, "t.ToDispOf", "", "work", "@dispvm:debian").action,
		SVC_DENY);
	assert_int_equal(decide(pol, "t.Name", "", "personal", "vault").action,
			 SVC_ALLOW);
	/* A target not running is matched by its name only. */
	assert_int_equal(decide(pol, "t.TagDst", "", "net", "ghost").action,
			 SVC_DENY);
	svc_policy_free(pol);
}

static void argument_matching(void **state)
{
	struct svc_policy *pol = parse_ok("a.None + work vault allow\n"
					  "a.Exact +file.txt work vault allow\n"
					  "a.Prefix +log- work vault allow\n"
					  "a.Prefix +log-* work vault ask\n"
					  "a.Any * work vault allow\n");

	(void)state;
	assert_int_equal(decide(pol, "a.None", "", "work", "vault").action,
			 SVC_ALLOW);
	assert_int_equal(decide(pol, "a.None", "x", "work", "vault").action,
			 SVC_DENY);
	assert_int_equal(
		decide(pol, "a.Exact", "file.txt", "work", "vault").action,
		SVC_ALLOW);
	assert_int_equal(
		decide(pol, "a.Exact", "file.txt2", "work", "vault").action,
		SVC_DENY);
	assert_int_equal(decide(pol, "a.Exact", "", "work", "vault").action,
			 SVC_DENY);
	assert_int_equal(
		decide(pol, "a.Prefix", "log-", "work", "vault").action,
		SVC_ALLOW);
	assert_int_equal(
		decide(pol, "a.Prefix", "log-2026", "work", "vault").action,
		SVC_ASK);
	assert_int_equal(decide(pol, "a.Prefix", "log", "work", "vault").action,
			 SVC_DENY);
	assert_int_equal(decide(pol, "a.Any", "", "work", "vault").action,
			 SVC_ALLOW);
	assert_int_equal(decide(pol, "a.Any", "q", "work", "vault").action,
			 SVC_ALLOW);
	svc_policy_free(pol);
}

/* qubes-issues #8227: a later redirect must not reach a denied target. */
static void redirect_never_bypasses_deny(void **state)
{
	struct svc_policy *pol =
		parse_ok("a.B * work vault deny\n"
			 "a.B * @tag:printing vault deny\n"
			 "a.B * work @anyvm allow target=vault user=u\n"
			 "a.C * work @anyvm ask target=vault\n"
			 "a.C * work vault deny\n"
			 "a.D * personal net allow target=@dispvm:fedora\n");
	struct svc_decision d;
	char buf[512];
	struct svc_call c = { "a.B", "x", "work", "personal" };

	(void)state;
	d = decide(pol, "a.B", "x", "work", "personal");
	assert_int_equal(d.action, SVC_DENY);
	assert_int_equal(d.rule->line, 1);
	assert_int_equal(d.redirect_by->line, 3);
	assert_string_equal(d.target, "");
	svc_policy_free(NULL);
	assert_true(svc_decision_format(&c, &d, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "svc-call source=work target=personal "
				 "service=a.B arg=x action=deny effective=- "
				 "user=- rule=50-test.svcpolicy:1 "
				 "redirect=50-test.svcpolicy:3");
	/* A deny below the redirecting rule does not count: it is not reached. */
	d = decide(pol, "a.C", "", "work", "personal");
	assert_int_equal(d.action, SVC_ASK);
	assert_string_equal(d.target, "vault");
	assert_null(d.redirect_by);
	d = decide(pol, "a.D", "", "personal", "net");
	assert_int_equal(d.action, SVC_ALLOW);
	assert_string_equal(d.target, "@dispvm:fedora");
	svc_policy_free(pol);
}

static void malformed_calls_are_refused(void **state)
{
	struct svc_policy *pol = parse_ok("* * @anyvm @anyvm allow\n");
	struct svc_decision d;
	char err[200];
	const struct svc_call bad[] = {
		{ "*", "", "work", "vault" },
		{ "noDot", "", "work", "vault" },
		{ "a.B", "x*", "work", "vault" },
		{ "a.B", "a/b", "work", "vault" },
		/* Words that would smuggle a whole rule into the check. */
		{ "a.B", "x @anyvm @anyvm deny #", "work", "vault" },
		{ "a.B * @anyvm @anyvm deny #", "", "work", "vault" },
		{ "a.B", "x\tb", "work", "vault" },
		{ "a.B", "", "ghost", "vault" },
		{ "a.B", "", "work", "@anyvm" },
		{ "a.B", "", "work", "host" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(svc_policy_decide(pol, &world, &bad[i], &d,
						   err, sizeof(err)),
				 -EINVAL);
		assert_int_equal(d.action, SVC_DENY);
		assert_true(err[0] != '\0');
	}
	svc_policy_free(pol);
}

static void audit_and_rule_text(void **state)
{
	struct svc_policy *pol =
		parse_ok("a.B +x* @tag:work @dispvm:fedora ask user=me # c\n");
	struct svc_call c = { "a.B", "", "personal", "vault" };
	struct svc_decision d;
	char buf[512];

	(void)state;
	svc_rule_format(&pol->rules[0], buf, sizeof(buf));
	assert_string_equal(buf,
			    "a.B +x* @tag:work @dispvm:fedora ask user=me");
	d = decide(pol, "a.B", "", "personal", "vault");
	svc_decision_format(&c, &d, buf, sizeof(buf));
	assert_string_equal(buf, "svc-call source=personal target=vault "
				 "service=a.B arg=- action=deny effective=- "
				 "user=- rule=default-deny");
	svc_policy_free(pol);
}

static void explain_names_rule_file_and_line(void **state)
{
	struct svc_policy *pol =
		parse_ok("a.B * work vault deny\n"
			 "a.B * work @anyvm allow target=vault user=u\n"
			 "a.C +x @anyvm vault ask user=me\n");
	struct svc_call redirected = { "a.B", "", "work", "personal" };
	struct svc_call asked = { "a.C", "x", "personal", "vault" };
	struct svc_call none = { "a.D", "", "personal", "vault" };
	struct svc_decision d;
	char *text;

	(void)state;
	d = decide(pol, "a.B", "", "work", "personal");
	assert_int_equal(svc_decision_explain(&redirected, &d, &text), 0);
	assert_string_equal(text,
			    "call work -> personal a.B: deny\n"
			    "  by 50-test.svcpolicy:1: a.B * work vault deny\n"
			    "  which refuses the redirect to vault of "
			    "50-test.svcpolicy:2: a.B * work @anyvm allow "
			    "target=vault user=u\n");
	free(text);
	d = decide(pol, "a.C", "x", "personal", "vault");
	assert_int_equal(svc_decision_explain(&asked, &d, &text), 0);
	assert_string_equal(text,
			    "call personal -> vault a.C+x: ask, to vault as "
			    "user me\n"
			    "  by 50-test.svcpolicy:3: a.C +x @anyvm vault ask "
			    "user=me\n");
	free(text);
	d = decide(pol, "a.D", "", "personal", "vault");
	assert_int_equal(svc_decision_explain(&none, &d, &text), 0);
	assert_string_equal(text, "call personal -> vault a.D: deny\n"
				  "  no rule matches: default deny\n");
	free(text);
	svc_policy_free(pol);
}

/* Only VMs that an allow or ask rule names get a flow to the router. */
static void router_flows_are_narrow(void **state)
{
	struct svc_policy *pol =
		parse_ok("a.B * @anyvm @anyvm deny\n"
			 "a.B * @tag:printing vault allow\n"
			 "a.C * net @dispvm:fedora ask target=personal\n");
	struct svc_router_need need[5];

	(void)state;
	svc_policy_router_needs(pol, &world, need);
	/* work (tag printing) calls; vault handles; net calls; personal
	 * handles only through the redirect; disp7 is named by no allow. */
	assert_int_equal(need[0].roles, SVC_ROUTER_CALLER);
	assert_int_equal(need[0].why->line, 2);
	assert_int_equal(need[1].roles, SVC_ROUTER_HANDLER);
	assert_int_equal(need[1].why->line, 3);
	assert_int_equal(need[2].roles, SVC_ROUTER_HANDLER);
	assert_int_equal(need[3].roles, SVC_ROUTER_CALLER);
	assert_int_equal(need[4].roles, 0);
	assert_null(need[4].why);
	svc_policy_free(pol);
	pol = parse_ok("* * @anyvm @anyvm deny\n");
	svc_policy_router_needs(pol, &world, need);
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(need[i].roles, 0);
	svc_policy_free(pol);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(errors_name_file_and_line),
		cmocka_unit_test(load_dir_reads_in_lexical_order),
		cmocka_unit_test(first_match_and_default_deny),
		cmocka_unit_test(every_token_kind),
		cmocka_unit_test(argument_matching),
		cmocka_unit_test(redirect_never_bypasses_deny),
		cmocka_unit_test(malformed_calls_are_refused),
		cmocka_unit_test(audit_and_rule_text),
		cmocka_unit_test(explain_names_rule_file_and_line),
		cmocka_unit_test(router_flows_are_narrow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
