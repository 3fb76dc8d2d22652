// SPDX-License-Identifier: GPL-2.0-only
#include "toolstack/host_measure.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/file_hash.h"
#include "util/hex.h"

#define POLICY_SUFFIX ".svcpolicy"
#define HEX_LEN (2 * MEASURE_SHA256_BYTES + 1)

static int add(struct measure_log *log, enum measure_what what,
	       const uint8_t d[MEASURE_SHA256_BYTES], const char *detail,
	       char *err, size_t errlen)
{
	int r = measure_log_add(log, what, d, detail);

	if (r)
		snprintf(
			err, errlen,
			"host measurement: cannot record %s %s: %s",
			measure_what_name(what), detail,
			r == -ENOMEM ?
				"out of memory" :
				"its path has control characters or is too long");
	return r ? -1 : 0;
}

/* A file's bytes, as measure_copy_sealed() hashes a kernel. */
static int hash_file(const char *path, uint8_t d[MEASURE_SHA256_BYTES],
		     bool *missing, char *err, size_t errlen)
{
	struct stat st;
	int fd, r;

	*missing = false;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 && errno == ENOENT) {
		*missing = true;
		return measure_sha256("", 0, d) ? -1 : 0;
	}
	if (fd < 0) {
		snprintf(err, errlen, "host measurement: cannot open %s: %s",
			 path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen,
			 "host measurement: %s is not a regular file", path);
		close(fd);
		return -1;
	}
	r = file_sha256(fd, d, NULL, NULL);
	close(fd);
	if (r) {
		snprintf(err, errlen, "host measurement: cannot read %s: %s",
			 path, strerror(-r));
		return -1;
	}
	return 0;
}

static int add_program(struct measure_log *log, enum measure_what what,
		       const char *path, char *err, size_t errlen)
{
	uint8_t d[MEASURE_SHA256_BYTES];
	char detail[4200];
	bool missing;

	if (hash_file(path, d, &missing, err, errlen))
		return -1;
	snprintf(detail, sizeof(detail), "%s%s", path,
		 missing ? " (missing)" : "");
	return add(log, what, d, detail, err, errlen);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The *.svcpolicy names of dir, sorted, in *names (free each and it). */
static int policy_names(const char *dir, char ***names, size_t *n, char *err,
			size_t errlen)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t cap = 0;

	*names = NULL;
	*n = 0;
	if (!d && errno == ENOENT)
		return 0;
	if (!d) {
		snprintf(err, errlen, "host measurement: cannot read %s: %s",
			 dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name), sl = strlen(POLICY_SUFFIX);

		if (de->d_name[0] == '.' || len <= sl ||
		    strcmp(de->d_name + len - sl, POLICY_SUFFIX))
			continue;
		if (*n == HOST_POLICY_FILES_MAX) {
			snprintf(
				err, errlen,
				"host measurement: more than %u *%s files in %s",
				HOST_POLICY_FILES_MAX, POLICY_SUFFIX, dir);
			goto fail;
		}
		if (*n == cap) {
			char **more =
				realloc(*names, (cap = cap ? 2 * cap : 8) *
							sizeof(*more));

			if (!more)
				goto nomem;
			*names = more;
		}
		(*names)[*n] = strdup(de->d_name);
		if (!(*names)[*n])
			goto nomem;
		(*n)++;
	}
	closedir(d);
	if (*n)
		qsort(*names, *n, sizeof(**names), by_name);
	return 0;
nomem:
	snprintf(err, errlen, "host measurement: out of memory");
fail:
	closedir(d);
	for (size_t i = 0; i < *n; i++)
		free((*names)[i]);
	free(*names);
	*names = NULL;
	*n = 0;
	return -1;
}

int host_measure_collect(const struct host_measure_input *in,
			 struct measure_log *log, char *err, size_t errlen)
{
	uint8_t d[MEASURE_SHA256_BYTES];
	char **names, path[4200];
	size_t n;
	int r = 0;

	if (add_program(log, MEASURE_HOST_DAEMON, in->daemon, err, errlen) ||
	    add_program(log, MEASURE_HOST_HV, in->hv, err, errlen) ||
	    add_program(log, MEASURE_HOST_BLK, in->blk, err, errlen) ||
	    add_program(log, MEASURE_HOST_NET, in->net, err, errlen))
		return -1;
	if (measure_sha256(in->config, in->config_len, d)) {
		snprintf(err, errlen, "host measurement: out of memory");
		return -1;
	}
	if (add(log, MEASURE_HOST_CONFIG, d, in->config_name, err, errlen) ||
	    policy_names(in->policy_dir, &names, &n, err, errlen))
		return -1;
	for (size_t i = 0; i < n; i++) {
		bool missing = false;

		snprintf(path, sizeof(path), "%s/%s", in->policy_dir, names[i]);
		if (!r)
			r = hash_file(path, d, &missing, err, errlen);
		/* Gone between the listing and the open: it was not there. */
		if (!r && !missing)
			r = add(log, MEASURE_HOST_POLICY, d, path, err, errlen);
		free(names[i]);
	}
	free(names);
	return r;
}

static bool same_component(const struct measure_event *a,
			   const struct measure_event *b)
{
	return a->what == b->what && !strcmp(a->detail, b->detail);
}

static void describe(const struct measure_event *ev, char *buf, size_t len)
{
	snprintf(buf, len, "%s %s", measure_what_name(ev->what), ev->detail);
}

int host_measure_compare(const struct measure_log *recorded,
			 const struct measure_log *current, char *msg,
			 size_t msglen)
{
	size_t i;
	char name[512];

	for (i = 0; i < recorded->nevents && i < current->nevents; i++) {
		const struct measure_event *r = &recorded->events[i],
					   *c = &current->events[i];
		char was[HEX_LEN], now[HEX_LEN];

		if (same_component(r, c)) {
			if (!memcmp(r->sha256, c->sha256, MEASURE_SHA256_BYTES))
				continue;
			describe(c, name, sizeof(name));
			hex_encode(r->sha256, MEASURE_SHA256_BYTES, was);
			hex_encode(c->sha256, MEASURE_SHA256_BYTES, now);
			snprintf(
				msg, msglen,
				"%s changed: recorded sha256:%s, now sha256:%s",
				name, was, now);
			return 1;
		}
		/* The recorded one further on: this one is new. */
		for (size_t k = i + 1; k < current->nevents; k++)
			if (same_component(r, &current->events[k])) {
				describe(c, name, sizeof(name));
				snprintf(msg, msglen, "%s is new", name);
				return 1;
			}
		describe(r, name, sizeof(name));
		snprintf(msg, msglen, "%s is gone", name);
		return 1;
	}
	if (i < current->nevents) {
		describe(&current->events[i], name, sizeof(name));
		snprintf(msg, msglen, "%s is new", name);
		return 1;
	}
	if (i < recorded->nevents) {
		describe(&recorded->events[i], name, sizeof(name));
		snprintf(msg, msglen, "%s is gone", name);
		return 1;
	}
	return 0;
}
