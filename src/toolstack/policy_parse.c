// SPDX-License-Identifier: GPL-2.0-only
#include "toolstack/policy_rule.h"

#include <bulkhead/hmx.h>

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

struct scan {
	const char *s;
	size_t len;
	size_t pos;
	struct policy_rule_error *err;
};

static int fail(struct scan *sc, size_t offset, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct scan *sc, size_t offset, const char *fmt, ...)
{
	va_list ap;

	sc->err->offset = offset;
	va_start(ap, fmt);
	vsnprintf(sc->err->msg, sizeof(sc->err->msg), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

static void skip_space(struct scan *sc)
{
	while (sc->pos < sc->len && is_space(sc->s[sc->pos]))
		sc->pos++;
}

static bool at_arrow(const struct scan *sc, size_t pos)
{
	return pos + 1 < sc->len && sc->s[pos] == '-' && sc->s[pos + 1] == '>';
}

/* A selector or port runs until whitespace, ':' (selectors) or "->". */
static size_t run_end(const struct scan *sc, size_t pos, bool stop_at_colon)
{
	while (pos < sc->len && !is_space(sc->s[pos]) && !at_arrow(sc, pos) &&
	       !(stop_at_colon && sc->s[pos] == ':'))
		pos++;
	return pos;
}

static bool word_is(const char *s, size_t len, const char *word)
{
	return strlen(word) == len && !memcmp(s, word, len);
}

/* Shows the offending text in a message: printable ASCII, at most 32 bytes. */
static void excerpt(const char *s, size_t len, char *buf, size_t buf_len)
{
	size_t o = 0;

	for (size_t i = 0; i < len && o + 5 < buf_len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (i == 32) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		buf[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	buf[o] = '\0';
}

static int parse_selector(struct scan *sc, const char *side,
			  struct policy_endpoint *ep)
{
	size_t start = sc->pos, end = run_end(sc, sc->pos, true);
	const char *w = sc->s + start, *problem;
	size_t wlen = end - start;
	char shown[40];

	if (wlen == 0) {
		if (sc->pos >= sc->len)
			return fail(
				sc, start,
				"expected a %s endpoint at the end of the rule",
				side);
		return fail(
			sc, start,
			"expected a %s endpoint (myself, host, any, *, name=NAME or type=TYPE)",
			side);
	}
	sc->pos = end;
	if (word_is(w, wlen, "myself")) {
		ep->sel = POLICY_SEL_MYSELF;
	} else if (word_is(w, wlen, "host")) {
		ep->sel = POLICY_SEL_HOST;
	} else if (word_is(w, wlen, "any") || word_is(w, wlen, "*")) {
		ep->sel = POLICY_SEL_ANY;
	} else if (wlen >= 5 && !memcmp(w, "name=", 5)) {
		problem = vm_name_problem(w + 5, wlen - 5);
		if (problem)
			return fail(sc, start + 5, "name=: %s", problem);
		ep->sel = POLICY_SEL_NAME;
		memcpy(ep->name, w + 5, wlen - 5);
		ep->name[wlen - 5] = '\0';
	} else if (wlen >= 5 && !memcmp(w, "type=", 5)) {
		if (!vm_role_from_name(w + 5, wlen - 5, &ep->type)) {
			excerpt(w + 5, wlen - 5, shown, sizeof(shown));
			return fail(
				sc, start + 5,
				"unknown VM type \"%s\": expected guest, ndvm or service",
				shown);
		}
		ep->sel = POLICY_SEL_TYPE;
	} else {
		excerpt(w, wlen, shown, sizeof(shown));
		return fail(
			sc, start,
			"unknown %s selector \"%s\": expected myself, host, any, *, name=NAME or type=TYPE",
			side, shown);
	}
	return 0;
}

static int parse_port(struct scan *sc, struct policy_endpoint *ep)
{
	size_t start = sc->pos, end = run_end(sc, sc->pos, false);
	const char *w = sc->s + start;
	size_t wlen = end - start;
	uint64_t v = 0;
	char shown[40];

	sc->pos = end;
	if (word_is(w, wlen, "*")) {
		ep->port = HMX_PORT_ANY;
		return 0;
	}
	for (size_t i = 0; i < wlen; i++) {
		if (w[i] < '0' || w[i] > '9' || i == 10)
			goto bad;
		v = v * 10 + (uint64_t)(w[i] - '0');
	}
	if (wlen == 0 || v >= HMX_PORT_ANY)
		goto bad;
	ep->port = (uint32_t)v;
	return 0;
bad:
	excerpt(w, wlen, shown, sizeof(shown));
	return fail(
		sc, start,
		"bad port \"%s\": expected a decimal number from 0 to 4294967294, or *",
		shown);
}

static int parse_endpoint(struct scan *sc, const char *side,
			  struct policy_endpoint *ep)
{
	int ret;

	memset(ep, 0, sizeof(*ep));
	ep->port = HMX_PORT_ANY;
	ret = parse_selector(sc, side, ep);
	if (ret || sc->pos >= sc->len || sc->s[sc->pos] != ':')
		return ret;
	sc->pos++;
	return parse_port(sc, ep);
}

int policy_rule_parse(const char *text, size_t len, struct policy_rule *out,
		      struct policy_rule_error *err)
{
	struct scan sc = { .s = text, .len = len, .err = err };
	size_t word_end;
	int ret;

	memset(out, 0, sizeof(*out));
	if (len > POLICY_RULE_TEXT_MAX)
		return fail(&sc, POLICY_RULE_TEXT_MAX,
			    "a rule is at most %d bytes long",
			    POLICY_RULE_TEXT_MAX);
	if (memchr(text, '\0', len))
		return fail(
			&sc,
			(size_t)((const char *)memchr(text, '\0', len) - text),
			"a rule must not contain a NUL byte");
	skip_space(&sc);
	if (sc.pos == len)
		return fail(&sc, 0, "empty rule");
	out->action = POLICY_ACCEPT;
	word_end = sc.pos;
	while (word_end < len && !is_space(text[word_end]))
		word_end++;
	if (word_end < len) {
		if (word_is(text + sc.pos, word_end - sc.pos, "reject")) {
			out->action = POLICY_REJECT;
			sc.pos = word_end;
		} else if (word_is(text + sc.pos, word_end - sc.pos,
				   "accept")) {
			sc.pos = word_end;
		}
		skip_space(&sc);
	}
	ret = parse_endpoint(&sc, "source", &out->src);
	if (ret)
		return ret;
	skip_space(&sc);
	if (!at_arrow(&sc, sc.pos))
		return fail(
			&sc, sc.pos,
			sc.pos < len ?
				"expected '->' after the source" :
				"expected '->' and a destination after the source");
	sc.pos += 2;
	skip_space(&sc);
	ret = parse_endpoint(&sc, "destination", &out->dst);
	if (ret)
		return ret;
	skip_space(&sc);
	if (sc.pos != len)
		return fail(&sc, sc.pos,
			    "unexpected text after the destination");
	if (out->src.sel != POLICY_SEL_MYSELF &&
	    out->dst.sel != POLICY_SEL_MYSELF)
		return fail(
			&sc, 0,
			"a rule must have myself as its source or destination: a VM's file governs only that VM's flows");
	return 0;
}

const char *policy_action_name(enum policy_action action)
{
	return action == POLICY_REJECT ? "reject" : "accept";
}

static int format_endpoint(const struct policy_endpoint *ep, char *buf,
			   size_t len)
{
	char port[16] = "";
	int n;

	if (ep->port != HMX_PORT_ANY)
		snprintf(port, sizeof(port), ":%u", ep->port);
	switch (ep->sel) {
	case POLICY_SEL_MYSELF:
		n = snprintf(buf, len, "myself%s", port);
		break;
	case POLICY_SEL_HOST:
		n = snprintf(buf, len, "host%s", port);
		break;
	case POLICY_SEL_NAME:
		n = snprintf(buf, len, "name=%s%s", ep->name, port);
		break;
	case POLICY_SEL_TYPE:
		n = snprintf(buf, len, "type=%s%s", vm_role_name(ep->type),
			     port);
		break;
	case POLICY_SEL_ANY:
	default:
		n = snprintf(buf, len, "any%s", port);
		break;
	}
	return n;
}

int policy_rule_format(const struct policy_rule *rule, char *buf, size_t len)
{
	char src[VM_NAME_MAX + 24], dst[VM_NAME_MAX + 24];

	format_endpoint(&rule->src, src, sizeof(src));
	format_endpoint(&rule->dst, dst, sizeof(dst));
	return snprintf(buf, len, "%s %s -> %s",
			policy_action_name(rule->action), src, dst);
}
