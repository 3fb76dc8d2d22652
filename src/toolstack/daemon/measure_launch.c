// SPDX-License-Identifier: GPL-2.0-only
#include "toolstack/daemon/measure_launch.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "toolstack/daemon/daemon.h"
#include "toolstack/daemon/disks.h"
#include "toolstack/daemon/tpm_use.h"
#include "toolstack/jget.h"
#include "toolstack/measure_canon.h"
#include "toolstack/msg.h"
#include "toolstack/policy.h"
#include "toolstack/vmcfg.h"
#include "tpm/tpm.h"
#include "util/fd_write.h"
#include "util/hex.h"
#include "util/log.h"

#define COPY_CHUNK (1u << 20)
/* 64 events of at most 4 KiB data each fit with room to spare. */
#define LOG_FILE_MAX (1u << 20)
#define HEX_LEN (2 * MEASURE_SHA256_BYTES + 1)

int measure_log_path(const struct bhd *d, const char *name, char *buf,
		     size_t len)
{
	int n = snprintf(buf, len, "%s/measure/%s.eventlog", d->state_dir,
			 name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int measure_copy_sealed(const char *what, const char *path, uint64_t max,
			uint8_t sha256[MEASURE_SHA256_BYTES], char *err,
			size_t errlen)
{
	EVP_MD_CTX *ctx = NULL;
	uint8_t *buf = NULL;
	unsigned int dlen = 0;
	uint64_t done = 0, size;
	char name[32];
	struct stat st;
	int fd, mfd = -1, e;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		snprintf(err, errlen, "%s: cannot open %s: %s", what, path,
			 strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size <= 0) {
		snprintf(err, errlen, "%s: %s is not a non-empty regular file",
			 what, path);
		goto fail;
	}
	size = (uint64_t)st.st_size;
	if (size > max) {
		snprintf(
			err, errlen,
			"%s: %s has %llu bytes, more than the VM's memory (%llu MiB)",
			what, path, (unsigned long long)size,
			(unsigned long long)(max >> 20));
		goto fail;
	}
	snprintf(name, sizeof(name), "bulkhead-%s", what);
	mfd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	ctx = EVP_MD_CTX_new();
	buf = malloc(COPY_CHUNK);
	if (mfd < 0 || !ctx || !buf ||
	    !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
		snprintf(err, errlen, "%s: cannot copy %s: %s", what, path,
			 mfd < 0 ? strerror(errno) : "out of memory");
		goto fail;
	}
	while (done < size) {
		size_t want = size - done < COPY_CHUNK ? size - done :
							 COPY_CHUNK;
		ssize_t n = pread(fd, buf, want, (off_t)done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "%s: cannot read %s: %s", what,
				 path, n < 0 ? strerror(errno) : "it shrank");
			goto fail;
		}
		e = fd_write_all(mfd, buf, (size_t)n);
		if (e || !EVP_DigestUpdate(ctx, buf, (size_t)n)) {
			snprintf(err, errlen, "%s: cannot copy %s: %s", what,
				 path, e ? strerror(-e) : "out of memory");
			goto fail;
		}
		done += (uint64_t)n;
	}
	if (!EVP_DigestFinal_ex(ctx, sha256, &dlen) ||
	    dlen != MEASURE_SHA256_BYTES) {
		snprintf(err, errlen, "%s: cannot hash %s", what, path);
		goto fail;
	}
	/* From here on nobody can change what was measured. */
	if (fcntl(mfd, F_ADD_SEALS,
		  F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) <
		    0 ||
	    lseek(mfd, 0, SEEK_SET) < 0) {
		snprintf(err, errlen, "%s: cannot seal the copy of %s: %s",
			 what, path, strerror(errno));
		goto fail;
	}
	EVP_MD_CTX_free(ctx);
	free(buf);
	close(fd);
	return mfd;
fail:
	EVP_MD_CTX_free(ctx);
	free(buf);
	if (mfd >= 0)
		close(mfd);
	close(fd);
	return -1;
}

static const struct measure_event *last_of(const struct measure_log *log,
					   enum measure_what what)
{
	for (size_t i = log->nevents; i-- > 0;)
		if (log->events[i].what == what)
			return &log->events[i];
	return NULL;
}

/*
 * Checks the pins on the kinds in [from, to) against their last events
 * in log. The first mismatch goes into err whole, the others by name;
 * each is audited.
 */
static int check_pins(struct bhd *d, const struct vmcfg *cfg,
		      const struct measure_log *log, enum measure_what from,
		      enum measure_what to, char *err, size_t errlen)
{
	size_t len = 0, bad = 0;

	for (unsigned int w = from; w < to; w++) {
		const struct measure_event *ev =
			last_of(log, (enum measure_what)w);
		const char *name = measure_what_name((enum measure_what)w);
		char want[HEX_LEN], got[HEX_LEN], why[512];

		if (!cfg->expect.set[w] || !ev ||
		    !memcmp(ev->sha256, cfg->expect.sha256[w],
			    MEASURE_SHA256_BYTES))
			continue;
		hex_encode(cfg->expect.sha256[w], MEASURE_SHA256_BYTES, want);
		hex_encode(ev->sha256, MEASURE_SHA256_BYTES, got);
		snprintf(
			why, sizeof(why),
			"measure_expect: %s%s%.200s: expected sha256:%s, measured sha256:%s",
			name, ev->detail[0] ? " " : "", ev->detail, want, got);
		audit_toolstack(d, "measure.expect", cfg->name, name, why);
		if (!bad++)
			len = (size_t)snprintf(err, errlen, "%s", why);
		else if (len < errlen)
			len += (size_t)snprintf(err + len, errlen - len, "%s%s",
						bad == 2 ? "; also " : ", ",
						name);
	}
	if (!bad)
		return 0;
	if (len < errlen)
		snprintf(err + len, errlen - len, "%s; not starting",
			 bad > 1 ? " differ" : "");
	return -1;
}

static int add_event(struct measure_log *log, enum measure_what what,
		     const uint8_t sha256[MEASURE_SHA256_BYTES],
		     const char *detail, char *err, size_t errlen)
{
	int r = measure_log_add(log, what, sha256, detail);

	if (r)
		snprintf(
			err, errlen,
			"measurement log: cannot record the %s: %s",
			measure_what_name(what),
			r == -ENOMEM ?
				"out of memory" :
				"its name has control characters or is too long");
	return r ? -1 : 0;
}

int measure_launch_begin(struct bhd *d, const struct vmcfg *cfg,
			 const char *cmdline,
			 const uint8_t kernel[MEASURE_SHA256_BYTES],
			 const uint8_t *initrd, struct measure_log *log,
			 char *err, size_t errlen)
{
	uint8_t digest[MEASURE_SHA256_BYTES];
	char *text;
	size_t len;
	int r;

	if (add_event(log, MEASURE_KERNEL, kernel, cfg->kernel, err, errlen))
		return -1;
	if (initrd &&
	    add_event(log, MEASURE_INITRD, initrd, cfg->ramdisk, err, errlen))
		return -1;
	/* The bytes the guest sees at its command line's address. */
	if (measure_sha256(cmdline, strlen(cmdline), digest))
		goto nomem;
	if (add_event(log, MEASURE_CMDLINE, digest, cmdline, err, errlen))
		return -1;
	r = measure_config_canonical(cfg, &text, &len);
	if (r) {
		snprintf(err, errlen,
			 "measurement: the definition's canonical form: %s",
			 strerror(-r));
		return -1;
	}
	r = measure_sha256(text, len, digest);
	free(text);
	if (r)
		goto nomem;
	if (add_event(log, MEASURE_CONFIG, digest, cfg->name, err, errlen))
		return -1;
	return check_pins(d, cfg, log, MEASURE_KERNEL, MEASURE_RULES, err,
			  errlen);
nomem:
	snprintf(err, errlen, "measurement: out of memory");
	return -1;
}

int measure_file_write(const char *path, const struct measure_log *log,
		       char *err, size_t errlen)
{
	char tmp[PATH_MAX + 8];
	uint8_t *bytes;
	size_t len;
	int fd, r;

	if (strlen(path) + 5 > sizeof(tmp)) {
		snprintf(err, errlen, "measurement log: path too long");
		return -1;
	}
	if (measure_log_encode(log, &bytes, &len)) {
		snprintf(err, errlen, "measurement log: out of memory");
		return -1;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
		  0600);
	r = fd < 0 ? -errno : fd_write_all(fd, bytes, len);
	if (!r && fsync(fd) < 0)
		r = -errno;
	if (fd >= 0)
		close(fd);
	if (!r && rename(tmp, path) < 0)
		r = -errno;
	free(bytes);
	if (r) {
		unlink(tmp);
		snprintf(err, errlen, "measurement log: cannot write %s: %s",
			 path, strerror(-r));
		return -1;
	}
	return 0;
}

/* <state>/measure, 0700. 0, or -1 with err set. */
static int measure_dir(struct bhd *d, char *err, size_t errlen)
{
	char dir[PATH_MAX];

	snprintf(dir, sizeof(dir), "%s/measure", d->state_dir);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "measurement log: cannot create %s: %s",
			 dir, strerror(errno));
		return -1;
	}
	return 0;
}

/* Replaces the instance's log with log's bytes (temporary file, fsync,
 * rename): a reader sees the old log or the new one. */
static int write_log(struct bhd *d, const char *name,
		     const struct measure_log *log, char *err, size_t errlen)
{
	char path[PATH_MAX];

	if (measure_log_path(d, name, path, sizeof(path))) {
		snprintf(err, errlen, "measurement log: path too long");
		return -1;
	}
	if (measure_dir(d, err, errlen))
		return -1;
	return measure_file_write(path, log, err, errlen);
}

int measure_fd_read(int fd, const char *name, struct measure_log *log,
		    char *err, size_t errlen)
{
	char why[200];
	uint8_t *buf = NULL;
	size_t got = 0;
	struct stat st;

	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size > LOG_FILE_MAX) {
		snprintf(err, errlen,
			 "%s is not a regular file of at most %u bytes", name,
			 LOG_FILE_MAX);
		return -1;
	}
	buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!buf) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = pread(fd, buf + got, (size_t)st.st_size - got,
				  (off_t)got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "cannot read %s: %s", name,
				 n < 0 ? strerror(errno) : "it shrank");
			free(buf);
			return -1;
		}
		got += (size_t)n;
	}
	if (measure_log_decode(buf, got, log, why, sizeof(why))) {
		snprintf(err, errlen, "%s: %s", name, why);
		free(buf);
		return -1;
	}
	free(buf);
	return 0;
}

int measure_file_read(const char *path, struct measure_log *log, int *fdp,
		      char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);

	if (fd < 0) {
		snprintf(err, errlen, "no measurement log %s: %s", path,
			 strerror(errno));
		return -1;
	}
	if (measure_fd_read(fd, path, log, err, errlen)) {
		close(fd);
		return -1;
	}
	if (fdp)
		*fdp = fd;
	else
		close(fd);
	return 0;
}

/* measure_file_read() of the instance's log. */
static int read_log(struct bhd *d, const char *name, struct measure_log *log,
		    int *fdp, char *err, size_t errlen)
{
	char path[PATH_MAX];

	if (measure_log_path(d, name, path, sizeof(path))) {
		snprintf(err, errlen, "measurement log: path too long");
		return -1;
	}
	return measure_file_read(path, log, fdp, err, errlen);
}

int measure_launch_write(struct bhd *d, const struct vmrec *r,
			 struct measure_log *log, char *err, size_t errlen)
{
	for (size_t i = 0; i < r->ndisks; i++) {
		const struct disk_inst *di = &r->disks[i];
		char detail[DISK_VDEV_MAX + 2 + PATH_MAX];

		if (!di->measured)
			continue;
		/* Hashed once, by disks_attach (disk_layers.c). */
		snprintf(detail, sizeof(detail), "%s %s", di->vdev, di->target);
		if (add_event(log, MEASURE_DISK, di->sha256, detail, err,
			      errlen))
			return -1;
	}
	return write_log(d, r->name, log, err, errlen);
}

/* <state>/measure/NAME.tpm: "extended N", how many of the log's events
 * are in the TPM, so a daemon restarted before vm.start extends no event
 * twice. */
static void tpm_mark_path(const struct bhd *d, const char *name, char *buf,
			  size_t len)
{
	snprintf(buf, len, "%s/measure/%s.tpm", d->state_dir, name);
}

static size_t tpm_extended(const struct bhd *d, const char *name)
{
	char path[PATH_MAX];
	size_t n = 0;
	FILE *f;

	tpm_mark_path(d, name, path, sizeof(path));
	f = fopen(path, "re");
	if (f) {
		if (fscanf(f, "extended %zu", &n) != 1)
			n = 0;
		fclose(f);
	}
	return n;
}

static void tpm_mark(const struct bhd *d, const char *name, size_t n)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8];
	FILE *f;

	tpm_mark_path(d, name, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "we");
	if (!f || fprintf(f, "extended %zu\n", n) < 0 || fflush(f) ||
	    fsync(fileno(f)) || fclose(f) || rename(tmp, path)) {
		bh_warn("vm %s: cannot record in %s that %zu events are in the TPM: %s",
			name, path, n, strerror(errno));
		if (f)
			fclose(f);
		unlink(tmp);
	}
}

/*
 * The log is final (the VM runs next): the one place its events are
 * committed. With a TPM, the events not yet extended go into PCR
 * MEASURE_LOG_PCR here, after the file is durable and before vm.start;
 * a failure refuses the start. Without one the file is the whole record.
 */
static int commit_log(struct bhd *d, const char *name,
		      const struct measure_log *log, size_t from, char *err,
		      size_t errlen)
{
	uint8_t pcr[MEASURE_SHA256_BYTES];
	char hex[HEX_LEN];
	size_t done;

	if (from < log->nevents && write_log(d, name, log, err, errlen))
		return -1;
	if (d->tpm) {
		done = tpm_extended(d, name);
		if (done > log->nevents)
			done = 0;
		if (bhd_tpm_extend(d, log, done, log->nevents, err, errlen))
			return -1;
		tpm_mark(d, name, log->nevents);
	}
	if (measure_log_replay(log, pcr)) {
		snprintf(err, errlen, "measurement log: out of memory");
		return -1;
	}
	hex_encode(pcr, MEASURE_SHA256_BYTES, hex);
	bh_info("vm %s: measured launch: %zu events, PCR %u sha256:%s%s", name,
		log->nevents, MEASURE_LOG_PCR, hex,
		d->tpm ? " (extended into the TPM)" : "");
	return 0;
}

int measure_launch_commit(struct bhd *d, struct vmrec *r, char *err,
			  size_t errlen)
{
	struct measure_log log = { 0 };
	const struct measure_event *last;
	uint8_t digest[MEASURE_SHA256_BYTES];
	char why[400], detail[VM_NAME_MAX + 32], *text;
	size_t len, n, from;
	int ret = -1;

	if (!r->cfg || !d->policy) {
		snprintf(err, errlen,
			 "measurement: no %s to measure the rules of VM %s by",
			 r->cfg ? "compiled policy" : "definition", r->name);
		return -1;
	}
	if (read_log(d, r->name, &log, NULL, why, sizeof(why))) {
		snprintf(err, errlen, "%s; not starting VM %s unmeasured", why,
			 r->name);
		return -1;
	}
	if (measure_rules_canonical(d->policy, r->name, &text, &len, &n)) {
		snprintf(err, errlen, "measurement: out of memory");
		goto out;
	}
	ret = measure_sha256(text, len, digest);
	free(text);
	if (ret) {
		snprintf(err, errlen, "measurement: out of memory");
		ret = -1;
		goto out;
	}
	ret = -1;
	from = log.nevents;
	/*
	 * After a daemon restart between vm.create and vm.start the rules
	 * may already be there; if the set changed meanwhile, the one in
	 * force at the first instruction follows.
	 */
	last = log.nevents ? &log.events[log.nevents - 1] : NULL;
	if (!last || last->what != MEASURE_RULES ||
	    memcmp(last->sha256, digest, MEASURE_SHA256_BYTES)) {
		snprintf(detail, sizeof(detail), "%s (%zu entr%s)", r->name, n,
			 n == 1 ? "y" : "ies");
		if (add_event(&log, MEASURE_RULES, digest, detail, err, errlen))
			goto out;
	}
	if (check_pins(d, r->cfg, &log, MEASURE_RULES, MEASURE_RULES + 1, err,
		       errlen))
		goto out;
	ret = commit_log(d, r->name, &log, from, err, errlen);
out:
	measure_log_release(&log);
	return ret;
}

void measure_launch_forget(struct bhd *d, const char *name)
{
	char path[PATH_MAX];

	if (!measure_log_path(d, name, path, sizeof(path)) && unlink(path) &&
	    errno != ENOENT)
		bh_warn("vm %s: cannot remove %s: %s", name, path,
			strerror(errno));
	tpm_mark_path(d, name, path, sizeof(path));
	if (unlink(path) && errno != ENOENT)
		bh_warn("vm %s: cannot remove %s: %s", name, path,
			strerror(errno));
}

struct json_object *measure_events_json(const struct measure_log *log)
{
	struct json_object *a = json_object_new_array();

	for (size_t i = 0; i < log->nevents; i++) {
		const struct measure_event *ev = &log->events[i];
		struct json_object *o = json_object_new_object();
		char hex[HEX_LEN];

		hex_encode(ev->sha256, MEASURE_SHA256_BYTES, hex);
		/* tpm2_eventlog numbers the header 0: so do we. */
		json_object_object_add(o, "index",
				       json_object_new_int64((int64_t)i + 1));
		json_object_object_add(
			o, "pcr",
			json_object_new_int((int)measure_what_pcr(ev->what)));
		json_object_object_add(o, "type",
				       json_object_new_string("EV_EVENT_TAG"));
		json_object_object_add(
			o, "tag",
			json_object_new_int64(MEASURE_TAG_BASE + ev->what + 1));
		json_object_object_add(
			o, "what",
			json_object_new_string(measure_what_name(ev->what)));
		json_object_object_add(o, "detail",
				       json_object_new_string(ev->detail));
		json_object_object_add(o, "sha256",
				       json_object_new_string(hex));
		json_object_array_add(a, o);
	}
	return a;
}

/* With a TPM: the PCR's value now (every launch since the TPM's reset
 * went into it) and how many of this log's events are there. */
static struct json_object *tpm_json(struct bhd *d, const char *name)
{
	uint8_t v[MEASURE_SHA256_BYTES];
	struct json_object *o;
	char hex[HEX_LEN];
	struct tpm_err e;

	if (!d->tpm)
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "tcti",
			       json_object_new_string(tpm_tcti(d->tpm)));
	json_object_object_add(
		o, "extended",
		json_object_new_int64((int64_t)tpm_extended(d, name)));
	if (tpm_pcr_read(d->tpm, MEASURE_LOG_PCR, v, &e)) {
		json_object_object_add(o, "error",
				       json_object_new_string(e.msg));
	} else {
		hex_encode(v, sizeof(v), hex);
		json_object_object_add(o, "pcr_sha256",
				       json_object_new_string(hex));
	}
	return o;
}

void api_vm_measure(struct bhd *d, struct api_client *c, int64_t id,
		    struct json_object *req)
{
	const char *name = jget_str(req, "name");
	bool want_fd = jget_bool(req, "eventlog", false);
	struct measure_log log = { 0 };
	uint8_t pcr[MEASURE_SHA256_BYTES];
	char path[PATH_MAX], err[PATH_MAX + 256], hex[HEX_LEN];
	struct json_object *o;
	struct vmrec *r;
	int fd = -1;

	if (!name) {
		api_reply_err(d, c, id, BHD_ERR_USAGE, "missing \"name\"");
		return;
	}
	r = bhd_find(d, name);
	if (!r) {
		api_reply_err(d, c, id, BHD_ERR_NO_VM, "no VM named \"%s\"",
			      name);
		return;
	}
	if (!r->active) {
		api_reply_err(
			d, c, id, BHD_ERR_STATE,
			"VM %s is not running: only a running instance has a measurement log",
			r->name);
		return;
	}
	if (read_log(d, r->name, &log, want_fd ? &fd : NULL, err,
		     sizeof(err)) ||
	    measure_log_replay(&log, pcr)) {
		api_reply_err(d, c, id, BHD_ERR_FAILED, "VM %s: %s", r->name,
			      err);
		measure_log_release(&log);
		if (fd >= 0)
			close(fd);
		return;
	}
	measure_log_path(d, r->name, path, sizeof(path));
	hex_encode(pcr, MEASURE_SHA256_BYTES, hex);
	o = json_object_new_object();
	json_object_object_add(o, "name", json_object_new_string(r->name));
	json_object_object_add(o, "domid", json_object_new_int(r->domid));
	json_object_object_add(o, "log", json_object_new_string(path));
	json_object_object_add(o, "pcr", json_object_new_int(MEASURE_LOG_PCR));
	json_object_object_add(o, "pcr_sha256", json_object_new_string(hex));
	json_object_object_add(o, "tpm", tpm_json(d, r->name));
	/* The rules come last, right before the first instruction. */
	json_object_object_add(
		o, "complete",
		json_object_new_boolean(log.nevents &&
					log.events[log.nevents - 1].what ==
						MEASURE_RULES));
	/* The file carries the events for eventlog; else they are here,
	 * unless sixteen long disk paths make them more than a reply holds. */
	if (fd >= 0) {
		json_object_object_add(o, "eventlog_fd",
				       json_object_new_int(0));
	} else {
		json_object_object_add(o, "events", measure_events_json(&log));
		if (strlen(json_object_to_json_string_ext(
			    o, JSON_C_TO_STRING_PLAIN)) >
		    CONTROL_FRAME_MAX_BYTES - 256) {
			json_object_put(o);
			o = NULL;
		}
	}
	if (o)
		api_reply(d, c, id, o, fd >= 0 ? &fd : NULL, fd >= 0 ? 1 : 0);
	else
		api_reply_err(
			d, c, id, BHD_ERR_FAILED,
			"VM %s: its measurement log does not fit one reply: read it with bulkhead measure --eventlog (tpm2_eventlog)",
			r->name);
	if (fd >= 0)
		close(fd);
	measure_log_release(&log);
}
