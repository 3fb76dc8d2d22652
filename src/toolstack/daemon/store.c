// SPDX-License-Identifier: GPL-2.0-only
/*
 * Persistence: state.json in the state directory holds every VM record,
 * rewritten atomically (temporary file, fsync, rename) after each change,
 * so a bulkheadd killed at any instant restarts from a consistent file.
 */
#include "toolstack/daemon/daemon.h"
#include "toolstack/daemon/disks.h"
#include "toolstack/daemon/nics.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "toolstack/vmcfg.h"
#include "util/log.h"

#define STATE_VERSION 1

struct vmrec *bhd_find(struct bhd *d, const char *name)
{
	for (struct vmrec *r = d->vms; r; r = r->next)
		if (!strcmp(r->name, name))
			return r;
	return NULL;
}

static void append(struct bhd *d, struct vmrec *r)
{
	struct vmrec **p = &d->vms;

	while (*p)
		p = &(*p)->next;
	r->next = NULL;
	*p = r;
}

int store_save(struct bhd *d)
{
	struct json_object *root = json_object_new_object();
	struct json_object *vms = json_object_new_array();
	char tmp[4200];
	const char *text;
	int fd, r = 0;
	size_t len;

	if (!root || !vms) {
		json_object_put(root);
		json_object_put(vms);
		return -ENOMEM;
	}
	json_object_object_add(root, "version",
			       json_object_new_int(STATE_VERSION));
	json_object_object_add(root, "next_seq",
			       json_object_new_int64((int64_t)d->next_seq));
	for (struct vmrec *v = d->vms; v; v = v->next)
		json_object_array_add(vms, vmrec_to_json(v));
	json_object_object_add(root, "vms", vms);
	text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY);
	snprintf(tmp, sizeof(tmp), "%s.tmp", d->state_file);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	len = strlen(text);
	if (write(fd, text, len) != (ssize_t)len || write(fd, "\n", 1) != 1 ||
	    fsync(fd) < 0)
		r = errno ? -errno : -EIO;
	close(fd);
	if (!r && rename(tmp, d->state_file) < 0)
		r = -errno;
out:
	if (r < 0)
		bh_err("cannot save %s: %s", d->state_file, strerror(-r));
	json_object_put(root);
	return r;
}

int store_load(struct bhd *d)
{
	struct json_object *root, *v, *vms;
	char err[200];

	root = json_object_from_file(d->state_file);
	if (!root) {
		if (access(d->state_file, F_OK) == 0) {
			bh_err("%s is unreadable or not JSON: %s",
			       d->state_file, json_util_get_last_err());
			return -EINVAL;
		}
		return 0; /* first start */
	}
	if (!json_object_object_get_ex(root, "version", &v) ||
	    json_object_get_int(v) != STATE_VERSION ||
	    !json_object_object_get_ex(root, "vms", &vms) ||
	    !json_object_is_type(vms, json_type_array)) {
		bh_err("%s: not a version %d state file", d->state_file,
		       STATE_VERSION);
		json_object_put(root);
		return -EINVAL;
	}
	if (json_object_object_get_ex(root, "next_seq", &v))
		d->next_seq = (uint64_t)json_object_get_int64(v);
	for (size_t i = 0; i < json_object_array_length(vms); i++) {
		struct vmrec *r = vmrec_from_json(
			json_object_array_get_idx(vms, i), err, sizeof(err));

		if (!r) {
			bh_err("%s: %s; record skipped", d->state_file, err);
			continue;
		}
		if (bhd_find(d, r->name)) {
			bh_err("%s: VM \"%s\" recorded twice; second skipped",
			       d->state_file, r->name);
			vmrec_free(r);
			continue;
		}
		if (r->seq >= d->next_seq)
			d->next_seq = r->seq + 1;
		append(d, r);
		if (r->active) {
			disks_recover(d, r);
			nics_recover(d, r);
		}
	}
	json_object_put(root);
	return 0;
}

int store_read_def(const char *path, char **text, char **base_dir,
		   struct vmcfg **cfg, char *err, size_t errlen)
{
	struct cfg_error cerr;
	char *buf = NULL, *dirc = NULL;
	struct stat st;
	ssize_t n;
	int fd, r;

	*text = NULL;
	*base_dir = NULL;
	*cfg = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return BHD_ERR_FAILED;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		goto fail;
	}
	if (st.st_size > VMCFG_FILE_MAX) {
		snprintf(err, errlen, "%s: larger than %u bytes", path,
			 VMCFG_FILE_MAX);
		goto fail;
	}
	/* One read of the bytes that are both parsed and kept. */
	buf = malloc((size_t)st.st_size + 1);
	dirc = strdup(path);
	if (!buf || !dirc) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	n = read(fd, buf, (size_t)st.st_size + 1);
	if (n < 0 || n > st.st_size) {
		snprintf(err, errlen, "%s: %s", path,
			 n < 0 ? strerror(errno) : "changed while read");
		goto fail;
	}
	buf[n] = '\0';
	if (strlen(buf) != (size_t)n) {
		snprintf(err, errlen, "%s: contains a NUL byte", path);
		goto fail;
	}
	*base_dir = strdup(dirname(dirc));
	r = vmcfg_parse_buffer(buf, (size_t)n, path, *base_dir, cfg, &cerr);
	if (r < 0) {
		cfg_error_format(&cerr, err, errlen);
		goto fail;
	}
	free(dirc);
	close(fd);
	*text = buf;
	return 0;
fail:
	free(buf);
	free(dirc);
	free(*base_dir);
	*base_dir = NULL;
	close(fd);
	return BHD_ERR_FAILED;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Forgets config-dir definitions whose file is gone, unless running. */
static void prune_vanished(struct bhd *d)
{
	struct vmrec **p = &d->vms;

	while (*p) {
		struct vmrec *r = *p;

		if (r->active || r->registered ||
		    access(r->def_path, F_OK) == 0) {
			p = &r->next;
			continue;
		}
		bh_info("vm %s: %s is gone; forgetting the VM", r->name,
			r->def_path);
		*p = r->next;
		vmrec_free(r);
	}
}

void store_scan_config_dir(struct bhd *d, bool report)
{
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0;
	DIR *dir = opendir(d->config_dir);

	if (!dir) {
		if (errno != ENOENT && report)
			bh_warn("config directory %s: %s", d->config_dir,
				strerror(errno));
		return;
	}
	while ((e = readdir(dir))) {
		size_t len = strlen(e->d_name);

		if (e->d_name[0] == '.' || len < 5 ||
		    strcmp(e->d_name + len - 4, ".cfg"))
			continue;
		if (n == cap) {
			char **m = realloc(names, (cap = cap ? cap * 2 : 16) *
							  sizeof(*m));
			if (!m)
				break;
			names = m;
		}
		if (!(names[n] = strdup(e->d_name)))
			break;
		n++;
	}
	closedir(dir);
	prune_vanished(d);
	if (n)
		qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n; i++) {
		char path[4200], err[512], *text, *base;
		struct vmcfg *cfg;
		struct vmrec *r;

		snprintf(path, sizeof(path), "%s/%s", d->config_dir, names[i]);
		free(names[i]);
		if (store_read_def(path, &text, &base, &cfg, err,
				   sizeof(err))) {
			bh_err("%s; definition skipped", err);
			continue;
		}
		r = bhd_find(d, cfg->name);
		if (r && strcmp(r->def_path, path) && report)
			bh_warn("%s: VM \"%s\" is already defined by %s; this file is ignored",
				path, cfg->name, r->def_path);
		if (!r && (r = vmrec_new(cfg->name))) {
			r->def_path = strdup(path);
			append(d, r);
		}
		free(text);
		free(base);
		vmcfg_free(cfg);
	}
	free(names);
}

void bhd_add_vm(struct bhd *d, struct vmrec *r)
{
	append(d, r);
}
