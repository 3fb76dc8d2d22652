// SPDX-License-Identifier: GPL-2.0-only
#include "toolstack/cs_log.h"

#include <libcryptsetup.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static __thread struct cs_log *collecting;

/* Words of libcryptsetup's debug lines that report a fault found. */
static const char *const finding_words[] = {
	"error",     "illegal",	    "invalid",	 "missing",	"unsupported",
	"overlap",   "mismatch",    "does not",	 "too small",	"too large",
	"must",	     "gap ",	    "empty",	 "no regular",	"wrong",
	"unknown",   "not allowed", "not match", "not aligned", "exceeds",
	"corrupted", "unexpected",  "overflow",
};

static bool is_finding(const char *msg)
{
	for (size_t i = 0; i < sizeof(finding_words) / sizeof(*finding_words);
	     i++)
		if (strcasestr(msg, finding_words[i]))
			return true;
	return false;
}

/* msg as one printable line, the path replaced, no final '.'. */
static void keep(char *out, const char *msg, const char *path)
{
	size_t plen = strlen(path), n = 0;

	for (const char *p = msg; *p && n + 1 < CS_LOG_MAX;) {
		if (plen && !strncmp(p, path, plen)) {
			const char *alias = "the image";

			/* "Device /proc/self/fd/7 is" reads "The image is". */
			if (n >= 7 && !strncmp(out + n - 7, "Device ", 7)) {
				n -= 7;
				alias = n ? "the image" : "The image";
			}
			for (; *alias && n + 1 < CS_LOG_MAX; alias++)
				out[n++] = *alias;
			p += plen;
			continue;
		}
		out[n++] = (*p >= 0x20 && *p < 0x7f) ? *p : ' ';
		p++;
	}
	while (n && (out[n - 1] == ' ' || out[n - 1] == '.'))
		n--;
	out[n] = '\0';
}

static void on_message(int level, const char *msg, void *usrptr)
{
	struct cs_log *log = collecting;

	(void)usrptr;
	if (!log || !msg)
		return;
	if (level == CRYPT_LOG_ERROR && !log->error[0])
		keep(log->error, msg, log->path);
	else if (level == CRYPT_LOG_DEBUG && !log->finding[0] &&
		 is_finding(msg))
		keep(log->finding, msg, log->path);
}

void cs_log_begin(struct cs_log *log, const char *path)
{
	memset(log, 0, sizeof(*log));
	snprintf(log->path, sizeof(log->path), "%s", path ? path : "");
	collecting = log;
	/* The default logger (for messages before a context exists) and
	 * debug level are process-wide; libcryptsetup has no getter. */
	crypt_set_log_callback(NULL, on_message, NULL);
	crypt_set_debug_level(CRYPT_DEBUG_ALL);
}

void cs_log_attach(struct crypt_device *cd)
{
	crypt_set_log_callback(cd, on_message, NULL);
}

void cs_log_end(void)
{
	crypt_set_debug_level(CRYPT_DEBUG_NONE);
	collecting = NULL;
}

const char *cs_log_reason(const struct cs_log *log)
{
	if (log->error[0])
		return log->error;
	if (log->finding[0])
		return log->finding;
	return NULL;
}
