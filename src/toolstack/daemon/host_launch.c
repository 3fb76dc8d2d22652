// SPDX-License-Identifier: GPL-2.0-only
#include "toolstack/daemon/host_launch.h"

#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "toolstack/canon_json.h"
#include "toolstack/daemon/daemon.h"
#include "toolstack/daemon/measure_launch.h"
#include "toolstack/daemon/tpm_use.h"
#include "toolstack/host_measure.h"
#include "toolstack/jget.h"
#include "toolstack/msg.h"
#include "tpm/tpm.h"
#include "util/hex.h"
#include "util/log.h"

#define HEX_LEN (2 * MEASURE_SHA256_BYTES + 1)
#define CONFIG_FORM "bulkhead-daemon-config/1"

static void host_log_path(const struct bhd *d, char *buf, size_t len)
{
	snprintf(buf, len, "%s/host.eventlog", d->state_dir);
}

int host_config_canonical(const struct bhd *d, char **text, size_t *len)
{
	struct json_object *o = json_object_new_object();
	int r;

	if (!o)
		return -ENOMEM;
	/* What decides what runs and where; not the TPM's address. */
	json_object_object_add(o, "form", json_object_new_string(CONFIG_FORM));
	json_object_object_add(o, "state_dir",
			       json_object_new_string(d->state_dir));
	json_object_object_add(o, "config_dir",
			       json_object_new_string(d->config_dir));
	json_object_object_add(o, "hv", json_object_new_string(d->hv_path));
	json_object_object_add(o, "blk", json_object_new_string(d->blk_path));
	json_object_object_add(o, "net", json_object_new_string(d->net_path));
	json_object_object_add(o, "overlay_dir",
			       json_object_new_string(d->overlay_dir));
	json_object_object_add(o, "vsock", json_object_new_boolean(d->vsock));
	json_object_object_add(o, "devmodel_uid_base",
			       json_object_new_int64(d->devmodel_uid_base));
	json_object_object_add(o, "hv_uid", json_object_new_int64(d->hv_uid));
	r = canon_json(o, text, len);
	json_object_put(o);
	return r;
}

/* Whether log's last n events are current's n events. */
static int ends_with(const struct measure_log *log,
		     const struct measure_log *current)
{
	char ignore[8];
	struct measure_log tail;

	if (log->nevents < current->nevents)
		return 0;
	tail.events = log->events + (log->nevents - current->nevents);
	tail.nevents = current->nevents;
	return !host_measure_compare(&tail, current, ignore, sizeof(ignore));
}

/* log = log + current's events. 0, or -1 (full, or out of memory). */
static int append(struct measure_log *log, const struct measure_log *current)
{
	if (log->nevents + current->nevents > MEASURE_LOG_EVENTS_MAX)
		return -1;
	for (size_t i = 0; i < current->nevents; i++) {
		const struct measure_event *ev = &current->events[i];

		if (measure_log_add(log, ev->what, ev->sha256, ev->detail))
			return -1;
	}
	return 0;
}

/*
 * With a TPM: what to extend. The previous log (this boot's, if the PCR
 * is its replay) is kept, and current appended unless it already ends
 * it. *from gets where current starts in *log, *extend whether to extend.
 */
static int plan(struct bhd *d, const char *path, struct measure_log *current,
		struct measure_log *log, size_t *from, int *extend)
{
	uint8_t pcr[MEASURE_SHA256_BYTES], replay[MEASURE_SHA256_BYTES];
	struct measure_log prev = { 0 };
	char err[PATH_MAX + 256], hex[HEX_LEN];
	struct tpm_err e;

	if (tpm_pcr_read(d->tpm, MEASURE_HOST_PCR, pcr, &e)) {
		bh_err("host measurement: %s", e.msg);
		return -1;
	}
	if (access(path, F_OK) == 0 &&
	    measure_file_read(path, &prev, NULL, err, sizeof(err)))
		bh_warn("host measurement: %s; starting a new log", err);
	if (measure_log_replay(&prev, replay))
		goto nomem;
	if (memcmp(pcr, replay, sizeof(pcr))) {
		measure_log_release(&prev);
		hex_encode(pcr, sizeof(pcr), hex);
		if (memcmp(pcr, (uint8_t[MEASURE_SHA256_BYTES]){ 0 },
			   sizeof(pcr)))
			bh_warn("host measurement: PCR %u is sha256:%s, which %s does not replay to: something else extends PCR %u, or the log was lost; what is sealed to it will not unseal",
				MEASURE_HOST_PCR, hex, path, MEASURE_HOST_PCR);
	} else if (prev.nevents && ends_with(&prev, current)) {
		/* Measured so already, since the TPM's reset. */
		*from = prev.nevents - current->nevents;
		*log = prev;
		*extend = 0;
		return 0;
	}
	*from = prev.nevents;
	*extend = 1;
	if (append(&prev, current)) {
		measure_log_release(&prev);
		bh_err("host measurement: %s cannot hold another %zu events; restart the host to measure afresh",
		       path, current->nevents);
		return -1;
	}
	*log = prev;
	return 0;
nomem:
	measure_log_release(&prev);
	bh_err("host measurement: out of memory");
	return -1;
}

int host_launch_measure(struct bhd *d)
{
	struct measure_log current = { 0 }, log = { 0 };
	struct host_measure_input in = {
		.daemon = "/proc/self/exe",
		.hv = d->hv_path,
		.blk = d->blk_path,
		.net = d->net_path,
		.config_name = "bulkheadd settings",
		.policy_dir = d->config_dir,
	};
	uint8_t pcr[MEASURE_SHA256_BYTES];
	char path[PATH_MAX], err[PATH_MAX + 256], hex[HEX_LEN], *text = NULL;
	size_t len = 0, from = 0;
	int extend = 0, ret = -1;

	host_log_path(d, path, sizeof(path));
	if (host_config_canonical(d, &text, &len)) {
		bh_err("host measurement: out of memory");
		return -1;
	}
	in.config = text;
	in.config_len = len;
	if (host_measure_collect(&in, &current, err, sizeof(err))) {
		bh_err("%s", err);
		goto out;
	}
	if (!d->tpm) {
		log = current;
		current = (struct measure_log){ 0 };
	} else if (plan(d, path, &current, &log, &from, &extend)) {
		goto out;
	}
	/* The log first: an event is never in the PCR and not in it. */
	if ((extend || !d->tpm) &&
	    measure_file_write(path, &log, err, sizeof(err))) {
		bh_err("host measurement: %s", err);
		goto out;
	}
	if (extend &&
	    bhd_tpm_extend(d, &log, from, log.nevents, err, sizeof(err))) {
		bh_err("host measurement: %s", err);
		goto out;
	}
	d->host_from = from;
	if (measure_log_replay(&log, pcr) == 0) {
		hex_encode(pcr, sizeof(pcr), hex);
		bh_info("host measured: %zu events%s, PCR %u sha256:%s",
			log.nevents - from,
			d->tpm ?
				(extend ? ", extended" : ", extended already") :
				" (no TPM)",
			MEASURE_HOST_PCR, hex);
	}
	ret = 0;
out:
	free(text);
	measure_log_release(&current);
	measure_log_release(&log);
	return ret;
}

/* The recorded log in fd against this start's events of log: "differs". */
static int compare_json(struct bhd *d, const struct measure_log *log, int fd,
			struct json_object *o, char *err, size_t errlen)
{
	struct measure_log recorded = { 0 }, current;
	char msg[1024];

	if (measure_fd_read(fd, "the recorded log", &recorded, err, errlen))
		return -1;
	current.events = log->events + d->host_from;
	current.nevents =
		log->nevents > d->host_from ? log->nevents - d->host_from : 0;
	json_object_object_add(o, "differs",
			       host_measure_compare(&recorded, &current, msg,
						    sizeof(msg)) ?
				       json_object_new_string(msg) :
				       NULL);
	measure_log_release(&recorded);
	return 0;
}

void api_host_measure(struct bhd *d, struct api_client *c, int64_t id,
		      struct json_object *req, const int *fds, size_t nfds)
{
	bool want_fd = jget_bool(req, "eventlog", false),
	     compare = jget_bool(req, "compare", false);
	struct measure_log log = { 0 };
	uint8_t pcr[MEASURE_SHA256_BYTES], now[MEASURE_SHA256_BYTES];
	char path[PATH_MAX], err[PATH_MAX + 256], hex[HEX_LEN];
	struct json_object *o, *tpm = NULL;
	struct tpm_err e;
	int fd = -1;

	host_log_path(d, path, sizeof(path));
	if (measure_file_read(path, &log, want_fd ? &fd : NULL, err,
			      sizeof(err)) ||
	    measure_log_replay(&log, pcr)) {
		api_reply_err(d, c, id, BHD_ERR_FAILED, "host: %s", err);
		measure_log_release(&log);
		if (fd >= 0)
			close(fd);
		return;
	}
	if (compare && (nfds != 1 || want_fd)) {
		api_reply_err(
			d, c, id, BHD_ERR_USAGE,
			"compare: send the recorded log as one descriptor, without eventlog");
		measure_log_release(&log);
		return;
	}
	o = json_object_new_object();
	if (compare && compare_json(d, &log, fds[0], o, err, sizeof(err))) {
		api_reply_err(d, c, id, BHD_ERR_FAILED, "%s", err);
		json_object_put(o);
		measure_log_release(&log);
		return;
	}
	json_object_object_add(o, "log", json_object_new_string(path));
	json_object_object_add(o, "pcr", json_object_new_int(MEASURE_HOST_PCR));
	hex_encode(pcr, sizeof(pcr), hex);
	json_object_object_add(o, "pcr_sha256", json_object_new_string(hex));
	/* Where this bulkheadd's measurements start: earlier events are
	 * an earlier start's, since the TPM's reset. */
	json_object_object_add(
		o, "current_from",
		json_object_new_int64((int64_t)d->host_from + 1));
	if (d->tpm) {
		tpm = json_object_new_object();
		json_object_object_add(
			tpm, "tcti", json_object_new_string(tpm_tcti(d->tpm)));
		if (tpm_pcr_read(d->tpm, MEASURE_HOST_PCR, now, &e)) {
			json_object_object_add(tpm, "error",
					       json_object_new_string(e.msg));
		} else {
			hex_encode(now, sizeof(now), hex);
			json_object_object_add(tpm, "pcr_sha256",
					       json_object_new_string(hex));
			json_object_object_add(tpm, "matches",
					       json_object_new_boolean(!memcmp(
						       now, pcr, sizeof(now))));
		}
	}
	json_object_object_add(o, "tpm", tpm);
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
			"the host's measurement log does not fit one reply: read it with bulkhead measure --host --eventlog");
	if (fd >= 0)
		close(fd);
	measure_log_release(&log);
}
