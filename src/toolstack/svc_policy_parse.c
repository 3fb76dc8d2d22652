// SPDX-License-Identifier: GPL-2.0-only
/* Service policy files: lines of whitespace-separated words (svc_policy.h). */
#include "toolstack/svc_policy.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SVC_WORDS_MAX 8
#define SVC_FILE_BYTES_MAX (1u << 20)
#define SVC_SUFFIX ".svcpolicy"

static int fail(struct svc_error *err, const char *file, unsigned int line,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int fail(struct svc_error *err, const char *file, unsigned int line,
		const char *fmt, ...)
{
	va_list ap;

	snprintf(err->file, sizeof(err->file), "%s", file);
	err->line = line;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* 1..max bytes of [A-Za-z0-9_-], plus '.' when dots is set. */
static bool word_ok(const char *s, size_t max, bool dots)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!name_char(s[i]) && !(dots && s[i] == '.'))
			return false;
	return true;
}

static bool service_ok(const char *s)
{
	const char *dot = strchr(s, '.');
	char vendor[64];
	size_t vlen;

	if (!strcmp(s, "*"))
		return true;
	if (!dot || strchr(dot + 1, '.') || strlen(s) > SVC_NAME_MAX)
		return false;
	vlen = (size_t)(dot - s);
	if (vlen == 0 || vlen >= sizeof(vendor))
		return false;
	memcpy(vendor, s, vlen);
	vendor[vlen] = '\0';
	return word_ok(vendor, 63, false) && word_ok(dot + 1, 63, false);
}

static const char *parse_arg(const char *w, struct svc_rule *r)
{
	size_t n = strlen(w);

	if (!strcmp(w, "*")) {
		r->arg_match = SVC_ARG_ANY;
		return NULL;
	}
	if (w[0] != '+')
		return "the argument must be *, + or +ARG";
	if (n == 1) {
		r->arg_match = SVC_ARG_NONE;
		return NULL;
	}
	r->arg_match = SVC_ARG_EXACT;
	if (w[n - 1] == '*') {
		r->arg_match = SVC_ARG_PREFIX;
		n--;
	}
	if (n - 1 > SVC_ARG_MAX)
		return "the argument is longer than 63 bytes";
	memcpy(r->arg, w + 1, n - 1);
	r->arg[n - 1] = '\0';
	if (!word_ok(r->arg, SVC_ARG_MAX, true))
		return "the argument may hold only [A-Za-z0-9._-] (and a final *)";
	return NULL;
}

static const char *vm_name_check(const char *s)
{
	return vm_name_problem(s, strlen(s));
}

/* Parses a SOURCE or TARGET word. Returns NULL or what is wrong. */
static const char *parse_selector(const char *w, struct svc_selector *sel)
{
	memset(sel, 0, sizeof(*sel));
	if (!strcmp(w, "@anyvm")) {
		sel->kind = SVC_SEL_ANYVM;
	} else if (!strncmp(w, "@type:", 6)) {
		sel->kind = SVC_SEL_TYPE;
		if (!vm_role_from_name(w + 6, strlen(w + 6), &sel->role))
			return "@type: needs guest, ndvm or service";
	} else if (!strncmp(w, "@tag:", 5)) {
		sel->kind = SVC_SEL_TAG;
		if (!word_ok(w + 5, SVC_TAG_MAX, false))
			return "@tag: needs 1..31 bytes of [A-Za-z0-9_-]";
		strcpy(sel->name, w + 5);
	} else if (!strcmp(w, "@dispvm")) {
		sel->kind = SVC_SEL_DISPVM;
	} else if (!strncmp(w, "@dispvm:", 8)) {
		const char *p = vm_name_check(w + 8);

		if (p)
			return p;
		sel->kind = SVC_SEL_DISPVM_OF;
		strcpy(sel->name, w + 8);
	} else if (w[0] == '@') {
		return "unknown token (use @anyvm, @type:, @tag:, @dispvm)";
	} else {
		const char *p = vm_name_check(w);

		if (p)
			return p;
		sel->kind = SVC_SEL_NAME;
		strcpy(sel->name, w);
	}
	return NULL;
}

static const char *parse_option(const char *w, struct svc_rule *r)
{
	if (!strncmp(w, "target=", 7)) {
		const char *t = w + 7;
		const char *p;

		if (r->redirect[0])
			return "target= given twice";
		if (!strncmp(t, "@dispvm:", 8))
			p = vm_name_check(t + 8);
		else if (t[0] == '@')
			return "target= needs a VM name or @dispvm:TEMPLATE";
		else
			p = vm_name_check(t);
		if (p)
			return p;
		strcpy(r->redirect, t);
		return NULL;
	}
	if (!strncmp(w, "user=", 5)) {
		const char *u = w + 5;

		if (r->user[0])
			return "user= given twice";
		if (!word_ok(u, SVC_USER_MAX, false) || u[0] == '-')
			return "user= needs 1..31 bytes of [A-Za-z0-9_-], not "
			       "starting with -";
		strcpy(r->user, u);
		return NULL;
	}
	return "unknown option (use target= or user=)";
}

static bool action_from(const char *w, enum svc_action *a)
{
	if (!strcmp(w, "allow"))
		*a = SVC_ALLOW;
	else if (!strcmp(w, "deny"))
		*a = SVC_DENY;
	else if (!strcmp(w, "ask"))
		*a = SVC_ASK;
	else
		return false;
	return true;
}

/* Splits line (modified in place) into words; returns the count or -1. */
static int split(char *line, char **words)
{
	int n = 0;
	char *save = NULL;

	for (char *w = strtok_r(line, " \t", &save); w;
	     w = strtok_r(NULL, " \t", &save)) {
		if (n == SVC_WORDS_MAX)
			return -1;
		words[n++] = w;
	}
	return n;
}

static int parse_line(char *line, const char *file, unsigned int lineno,
		      struct svc_rule *r, struct svc_error *err)
{
	char *w[SVC_WORDS_MAX];
	const char *p;
	int n = split(line, w);

	if (n < 0)
		return fail(err, file, lineno, "too many words (at most %d)",
			    SVC_WORDS_MAX);
	if (n < 5)
		return fail(err, file, lineno,
			    "a rule is SERVICE ARG SOURCE TARGET ACTION "
			    "[OPTION...]");
	memset(r, 0, sizeof(*r));
	if (!service_ok(w[0]))
		return fail(err, file, lineno,
			    "service \"%.64s\" is not * or vendor.Service",
			    w[0]);
	strcpy(r->service, w[0]);
	if ((p = parse_arg(w[1], r)))
		return fail(err, file, lineno, "%s", p);
	if ((p = parse_selector(w[2], &r->source)))
		return fail(err, file, lineno, "source \"%.40s\": %s", w[2], p);
	if ((p = parse_selector(w[3], &r->target)))
		return fail(err, file, lineno, "target \"%.40s\": %s", w[3], p);
	if (!action_from(w[4], &r->action))
		return fail(err, file, lineno,
			    "action \"%.16s\" is not allow, deny or ask", w[4]);
	for (int i = 5; i < n; i++) {
		if (r->action == SVC_DENY)
			return fail(err, file, lineno,
				    "a deny rule takes no options");
		if ((p = parse_option(w[i], r)))
			return fail(err, file, lineno, "\"%.40s\": %s", w[i],
				    p);
	}
	r->line = lineno;
	return 0;
}

static int append(struct svc_policy *pol, struct svc_rule *r, const char *file)
{
	struct svc_rule *grown;

	if (pol->nrules == SVC_RULES_MAX)
		return -E2BIG;
	grown = realloc(pol->rules, (pol->nrules + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	pol->rules = grown;
	r->file = strdup(file);
	if (!r->file)
		return -ENOMEM;
	pol->rules[pol->nrules++] = *r;
	return 0;
}

int svc_policy_parse(struct svc_policy *pol, const char *file, const char *text,
		     size_t len, struct svc_error *err)
{
	size_t pos = 0;
	unsigned int lineno = 0;

	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) : len;
		size_t n = end - pos;
		char line[SVC_LINE_MAX + 1];
		struct svc_rule r;
		char *hash;
		int ret;

		lineno++;
		if (n > SVC_LINE_MAX)
			return fail(err, file, lineno,
				    "line longer than %d bytes", SVC_LINE_MAX);
		memcpy(line, text + pos, n);
		line[n] = '\0';
		pos = end + 1;
		if (memchr(line, '\0', n))
			return fail(err, file, lineno, "NUL byte in line");
		if (n && line[n - 1] == '\r')
			line[--n] = '\0';
		hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		if (strspn(line, " \t") == strlen(line))
			continue;
		ret = parse_line(line, file, lineno, &r, err);
		if (ret)
			return ret;
		ret = append(pol, &r, file);
		if (ret == -E2BIG) {
			fail(err, file, lineno, "more than %u rules",
			     SVC_RULES_MAX);
			return -E2BIG;
		}
		if (ret)
			return ret;
	}
	return 0;
}

void svc_policy_free(struct svc_policy *pol)
{
	if (!pol)
		return;
	for (size_t i = 0; i < pol->nrules; i++)
		free(pol->rules[i].file);
	free(pol->rules);
	free(pol);
}

static bool has_suffix(const char *s)
{
	size_t n = strlen(s), k = strlen(SVC_SUFFIX);

	return n > k && !strcmp(s + n - k, SVC_SUFFIX) && s[0] != '.';
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int read_file(int dfd, const char *name, char **text, size_t *len,
		     struct svc_error *err)
{
	int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	ssize_t got;

	if (fd < 0)
		return fail(err, name, 0, "cannot open: %s", strerror(errno));
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) ||
	    st.st_size > SVC_FILE_BYTES_MAX) {
		close(fd);
		return fail(err, name, 0,
			    "not a regular file of at most 1 MiB");
	}
	*text = malloc((size_t)st.st_size + 1);
	if (!*text) {
		close(fd);
		return -ENOMEM;
	}
	got = read(fd, *text, (size_t)st.st_size);
	close(fd);
	if (got != st.st_size) {
		free(*text);
		return fail(err, name, 0, "short read");
	}
	*len = (size_t)got;
	return 0;
}

static int load_names(int dfd, char **names, size_t n, struct svc_policy *pol,
		      struct svc_error *err)
{
	for (size_t i = 0; i < n; i++) {
		char *text = NULL;
		size_t len = 0;
		int ret = read_file(dfd, names[i], &text, &len, err);

		if (ret)
			return ret;
		ret = svc_policy_parse(pol, names[i], text, len, err);
		free(text);
		if (ret)
			return ret;
	}
	return 0;
}

int svc_policy_load_dir(const char *dir, struct svc_policy **out,
			struct svc_error *err)
{
	struct svc_policy *pol = calloc(1, sizeof(*pol));
	char **names = NULL;
	size_t n = 0;
	struct dirent *de;
	DIR *d;
	int ret = 0;

	if (!pol)
		return -ENOMEM;
	d = opendir(dir);
	if (!d) {
		if (errno == ENOENT) {
			*out = pol;
			return 0;
		}
		free(pol);
		return fail(err, dir, 0, "cannot open directory: %s",
			    strerror(errno));
	}
	while ((de = readdir(d))) {
		char **grown;

		if (!has_suffix(de->d_name))
			continue;
		grown = realloc(names, (n + 1) * sizeof(*names));
		if (!grown || !(grown[n] = strdup(de->d_name))) {
			names = grown ? grown : names;
			ret = -ENOMEM;
			break;
		}
		names = grown;
		n++;
	}
	if (!ret) {
		qsort(names, n, sizeof(*names), cmp_names);
		ret = load_names(dirfd(d), names, n, pol, err);
	}
	closedir(d);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (ret) {
		svc_policy_free(pol);
		return ret;
	}
	*out = pol;
	return 0;
}
