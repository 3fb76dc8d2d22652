// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzzes the service policy parser: the input is one policy file, any
 * bytes. Aborts when a parse returns anything but 0, -EINVAL or -E2BIG, a
 * failed parse has an empty message or a line past the input's lines, or
 * a parsed rule does not survive its canonical text: each rule is written
 * back, parsed again and must format the same. Every parsed policy is then
 * asked one fixed call, which must decide without error.
 */
#include "fuzz_input.h"
#include "toolstack/svc_policy.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_roundtrip(const struct svc_rule *r)
{
	char text[SVC_LINE_MAX], again[SVC_LINE_MAX];
	struct svc_policy one = { 0 };
	struct svc_error err;
	int n = svc_rule_format(r, text, sizeof(text));

	check(n > 0 && (size_t)n < sizeof(text));
	check(!svc_policy_parse(&one, "rt", text, (size_t)n, &err));
	check(one.nrules == 1 && one.rules[0].line == 1);
	svc_rule_format(&one.rules[0], again, sizeof(again));
	check(!strcmp(text, again));
	free(one.rules[0].file);
	free(one.rules);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const tags[] = { "work" };
	static const struct svc_vm vms[] = {
		{ .name = "a", .role = VM_ROLE_GUEST, .tags = tags, .ntags = 1 },
		{ .name = "b", .role = VM_ROLE_NDVM },
	};
	static const struct svc_world world = { vms, 2 };
	const struct svc_call call = { "x.Y", "z", "a", "b" };
	struct svc_policy pol = { 0 };
	struct svc_decision d;
	struct svc_error err;
	unsigned int lines = 1;
	char msg[200];
	int ret;

	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	memset(&err, 0, sizeof(err));
	ret = svc_policy_parse(&pol, "f", (const char *)data, size, &err);
	check(ret == 0 || ret == -EINVAL || ret == -E2BIG);
	if (ret) {
		check(err.msg[0] != '\0');
		check(err.line >= 1 && err.line <= lines);
	}
	for (size_t i = 0; i < pol.nrules; i++)
		check_roundtrip(&pol.rules[i]);
	if (!ret) {
		check(!svc_policy_decide(&pol, &world, &call, &d, msg,
					 sizeof(msg)));
		check(!d.rule || d.rule->action == d.action);
	}
	for (size_t i = 0; i < pol.nrules; i++)
		free(pol.rules[i].file);
	free(pol.rules);
	return 0;
}
