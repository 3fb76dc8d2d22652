// SPDX-License-Identifier: GPL-2.0-only
/* Control operations on HMX: the firewall, its audit log, host rings. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hmx/core.h"
#include "hmx/endpoint.h"
#include "hv/control/server.h"
#include "hv/host.h"
#include "util/hex.h"

#define RULES_INLINE_MAX 512
#define RULES_FD_MAX_BYTES (64u << 20)
#define STATS_MAX 4096
#define AUDIT_MAX 256
#define GRANTS_MAX 64
#define HOST_MSG_MAX 4096 /* payload carried in one control message */
#define RECV_MAX 16
/* A reply must fit one message: room for everything but the messages. */
#define RECV_REPLY_BUDGET (CONTROL_FRAME_MAX_BYTES - 1024)
#define RECV_ENTRY_OVERHEAD 128 /* one message's JSON besides its hex data */

static const char *const op_names[] = {
	[HMX_OP_REGISTER_RING] = "register_ring",
	[HMX_OP_UNREGISTER_RING] = "unregister_ring",
	[HMX_OP_SENDV] = "sendv",
	[HMX_OP_NOTIFY] = "notify",
	[HMX_OP_PEER_EVENTS] = "peer_events",
};

static const char *const audit_kinds[] = {
	[HMX_AUDIT_RULE] = "rule",
	[HMX_AUDIT_DEFAULT] = "default",
	[HMX_AUDIT_SOURCE] = "source",
};

static struct host_hmx *host_hmx_of(struct control_server *srv)
{
	return &srv->host->hmx;
}

static void fail_errno(struct request *req, const char *what, int err)
{
	request_fail(req, "%s: %s", what, strerror(err < 0 ? -err : err));
}

/* A domid field that may also be the string "any". */
static uint16_t rule_domid(struct request *req, json_object *o, const char *key)
{
	json_object *v;

	if (json_object_object_get_ex(o, key, &v) &&
	    json_object_is_type(v, json_type_string) &&
	    !strcmp(json_object_get_string(v), "any"))
		return HMX_DOMID_ANY;
	return (uint16_t)request_uint_in(req, o, key, true, 0, HMX_DOMID_ANY,
					 0);
}

static uint32_t rule_port(struct request *req, json_object *o, const char *key)
{
	json_object *v;

	if (json_object_object_get_ex(o, key, &v) &&
	    json_object_is_type(v, json_type_string) &&
	    !strcmp(json_object_get_string(v), "any"))
		return HMX_PORT_ANY;
	return (uint32_t)request_uint_in(req, o, key, true, 0, HMX_PORT_ANY, 0);
}

static void parse_rule(struct request *req, json_object *o, uint32_t index,
		       struct hmx_fw_rule *r)
{
	static const char *const keys[] = { "src_domid", "src_port",
					    "dst_domid", "dst_port",
					    "action",	 NULL };
	const char *action;

	request_only_keys_in(req, o, keys, "a rule");
	if (request_failed(req))
		return;
	r->src_domid = rule_domid(req, o, "src_domid");
	r->src_port = rule_port(req, o, "src_port");
	r->dst_domid = rule_domid(req, o, "dst_domid");
	r->dst_port = rule_port(req, o, "dst_port");
	action = request_string_in(req, o, "action", true, 16);
	if (action && !strcmp(action, "accept"))
		r->action = HMX_FW_ACCEPT;
	else if (action && !strcmp(action, "reject"))
		r->action = HMX_FW_REJECT;
	else if (action)
		request_fail(req, "rule %u: action must be accept or reject",
			     index);
	if (request_failed(req) && !strstr(req->error, "rule "))
		request_fail(req, "rule %u is malformed", index);
}

/* The rules array from a file descriptor (large sets) as JSON. */
static json_object *rules_from_fd(struct request *req, int fd)
{
	struct json_tokener *tok;
	json_object *arr = NULL;
	struct stat st;
	char *buf;
	ssize_t n;

	if (fstat(fd, &st) < 0 || st.st_size <= 0 ||
	    (uint64_t)st.st_size > RULES_FD_MAX_BYTES) {
		request_fail(req, "rules_fd must be a file of 1 to %u bytes",
			     RULES_FD_MAX_BYTES);
		return NULL;
	}
	buf = malloc((size_t)st.st_size);
	if (!buf) {
		request_fail(req, "out of memory");
		return NULL;
	}
	n = pread(fd, buf, (size_t)st.st_size, 0);
	tok = json_tokener_new_ex(4);
	if (n == st.st_size && tok)
		arr = json_tokener_parse_ex(tok, buf, (int)n);
	if (!arr || !json_object_is_type(arr, json_type_array) ||
	    tok->char_offset != (int)n) {
		request_fail(req, "rules_fd must hold one JSON array of rules");
		json_object_put(arr);
		arr = NULL;
	}
	if (tok)
		json_tokener_free(tok);
	free(buf);
	return arr;
}

static void op_firewall_set(struct control_server *srv, struct request *req,
			    json_object *reply)
{
	static const char *const keys[] = { "op", "id", "rules", "rules_fd",
					    NULL };
	json_object *arr, *owned = NULL;
	struct hmx_fw_rule *rules;
	struct hmx_fw_stats st;
	size_t n, i;
	int fd, ret;

	request_only_keys(req, keys);
	arr = request_array(req, "rules", false, RULES_INLINE_MAX);
	fd = request_fd(req, "rules_fd", false);
	if (request_failed(req))
		return;
	if (!arr == (fd < 0)) {
		request_fail(req, "give exactly one of rules and rules_fd");
		return;
	}
	if (!arr) {
		arr = owned = rules_from_fd(req, fd);
		if (!arr)
			return;
	}
	n = json_object_array_length(arr);
	rules = calloc(n ? n : 1, sizeof(*rules));
	if (!rules) {
		request_fail(req, "out of memory");
		goto out;
	}
	for (i = 0; i < n && !request_failed(req); i++)
		parse_rule(req, json_object_array_get_idx(arr, i), (uint32_t)i,
			   &rules[i]);
	if (!request_failed(req)) {
		ret = hmx_firewall_set(host_hmx_of(srv)->core, rules,
				       (uint32_t)n);
		if (ret < 0)
			fail_errno(req, "firewall", ret);
	}
	if (!request_failed(req)) {
		hmx_firewall_stats(host_hmx_of(srv)->core, &st, NULL, 0);
		json_object_object_add(
			reply, "generation",
			json_object_new_int64((int64_t)st.generation));
		json_object_object_add(reply, "nrules",
				       json_object_new_int64(st.nrules));
	}
	free(rules);
out:
	json_object_put(owned);
}

static json_object *port_json(uint32_t port)
{
	return port == HMX_PORT_ANY ? json_object_new_string("any") :
				      json_object_new_int64(port);
}

static json_object *domid_json(uint16_t domid)
{
	return domid == HMX_DOMID_ANY ? json_object_new_string("any") :
					json_object_new_int(domid);
}

static json_object *rule_json(const struct hmx_fw_rule *r)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "src_domid", domid_json(r->src_domid));
	json_object_object_add(o, "src_port", port_json(r->src_port));
	json_object_object_add(o, "dst_domid", domid_json(r->dst_domid));
	json_object_object_add(o, "dst_port", port_json(r->dst_port));
	json_object_object_add(
		o, "action",
		json_object_new_string(r->action == HMX_FW_ACCEPT ? "accept" :
								    "reject"));
	return o;
}

static void op_firewall_get(struct control_server *srv, struct request *req,
			    json_object *reply)
{
	static const char *const keys[] = { "op", "id", "first", "max", NULL };
	struct hmx_fw_rule *rules;
	uint64_t first, max, generation;
	json_object *arr;
	uint32_t n, i;

	request_only_keys(req, keys);
	first = request_uint(req, "first", false, 0, UINT32_MAX, 0);
	max = request_uint(req, "max", false, 1, RULES_INLINE_MAX,
			   RULES_INLINE_MAX);
	if (request_failed(req))
		return;
	rules = calloc(first + max, sizeof(*rules));
	if (!rules) {
		request_fail(req, "out of memory");
		return;
	}
	n = (uint32_t)hmx_firewall_get(host_hmx_of(srv)->core, rules,
				       (uint32_t)(first + max), &generation);
	arr = json_object_new_array();
	for (i = (uint32_t)first; i < n && i < first + max; i++)
		json_object_array_add(arr, rule_json(&rules[i]));
	free(rules);
	json_object_object_add(reply, "generation",
			       json_object_new_int64((int64_t)generation));
	json_object_object_add(reply, "nrules", json_object_new_int64(n));
	json_object_object_add(reply, "first",
			       json_object_new_int64((int64_t)first));
	json_object_object_add(reply, "rules", arr);
}

static void op_firewall_stats(struct control_server *srv, struct request *req,
			      json_object *reply)
{
	static const char *const keys[] = { "op", "id", "first", "max", NULL };
	uint64_t first, max, *hits;
	struct hmx_fw_stats st;
	json_object *arr;
	uint32_t n, i;

	request_only_keys(req, keys);
	first = request_uint(req, "first", false, 0, UINT32_MAX, 0);
	max = request_uint(req, "max", false, 1, STATS_MAX, 1024);
	if (request_failed(req))
		return;
	/* Snapshot every counter up to the window's end. */
	hits = calloc(first + max, sizeof(*hits));
	if (!hits) {
		request_fail(req, "out of memory");
		return;
	}
	n = (uint32_t)hmx_firewall_stats(host_hmx_of(srv)->core, &st, hits,
					 (uint32_t)(first + max));
	arr = json_object_new_array();
	for (i = (uint32_t)first; i < n && i < first + max; i++)
		json_object_array_add(arr,
				      json_object_new_int64((int64_t)hits[i]));
	free(hits);
	json_object_object_add(reply, "generation",
			       json_object_new_int64((int64_t)st.generation));
	json_object_object_add(reply, "nrules",
			       json_object_new_int64(st.nrules));
	json_object_object_add(
		reply, "default_denied",
		json_object_new_int64((int64_t)st.default_denied));
	json_object_object_add(reply, "first",
			       json_object_new_int64((int64_t)first));
	json_object_object_add(reply, "hits", arr);
}

static json_object *addr_json(const struct hmx_addr *a)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "domid", json_object_new_int(a->domid));
	json_object_object_add(o, "aport", json_object_new_int64(a->aport));
	return o;
}

static void op_audit_read(struct control_server *srv, struct request *req,
			  json_object *reply)
{
	static const char *const keys[] = { "op", "id", "max", NULL };
	struct hmx_audit_entry ent[AUDIT_MAX];
	json_object *arr;
	uint64_t dropped;
	uint32_t n, i;

	request_only_keys(req, keys);
	n = (uint32_t)request_uint(req, "max", false, 1, AUDIT_MAX, 64);
	if (request_failed(req))
		return;
	n = hmx_audit_read(host_hmx_of(srv)->core, ent, n, &dropped);
	arr = json_object_new_array();
	for (i = 0; i < n; i++) {
		json_object *o = json_object_new_object();
		const struct hmx_audit_entry *e = &ent[i];

		json_object_object_add(
			o, "time_ns",
			json_object_new_int64((int64_t)e->time_ns));
		json_object_object_add(
			o, "op",
			json_object_new_string(e->op < 6 && op_names[e->op] ?
						       op_names[e->op] :
						       "unknown"));
		json_object_object_add(
			o, "kind",
			json_object_new_string(
				e->reason < 4 && audit_kinds[e->reason] ?
					audit_kinds[e->reason] :
					"unknown"));
		json_object_object_add(
			o, "rule",
			e->rule < 0 ? NULL : json_object_new_int(e->rule));
		json_object_object_add(o, "src", addr_json(&e->src));
		json_object_object_add(o, "dst", addr_json(&e->dst));
		json_object_object_add(
			o, "generation",
			json_object_new_int64((int64_t)e->generation));
		if (e->repeats) {
			json_object_object_add(
				o, "repeats",
				json_object_new_int64(e->repeats));
			json_object_object_add(
				o, "last_ns",
				json_object_new_int64((int64_t)e->last_ns));
		}
		json_object_array_add(arr, o);
	}
	json_object_object_add(reply, "entries", arr);
	json_object_object_add(reply, "dropped",
			       json_object_new_int64((int64_t)dropped));
}

static void op_grants_set(struct control_server *srv, struct request *req,
			  json_object *reply)
{
	static const char *const keys[] = { "op", "id", "domid", "ranges",
					    NULL };
	static const char *const range_keys[] = { "first", "last", NULL };
	struct hmx_port_range r[GRANTS_MAX];
	json_object *arr;
	uint16_t domid;
	size_t n, i;
	int ret;

	(void)reply;
	request_only_keys(req, keys);
	domid = (uint16_t)request_uint(req, "domid", true, 0,
				       HMX_DOMID_LAST_GUEST, 0);
	arr = request_array(req, "ranges", true, GRANTS_MAX);
	if (request_failed(req))
		return;
	n = json_object_array_length(arr);
	for (i = 0; i < n && !request_failed(req); i++) {
		json_object *o = json_object_array_get_idx(arr, i);

		request_only_keys_in(req, o, range_keys, "a port range");
		r[i].first = (uint32_t)request_uint_in(req, o, "first", true, 0,
						       HMX_PORT_ANY - 1, 0);
		r[i].last = (uint32_t)request_uint_in(req, o, "last", true, 0,
						      HMX_PORT_ANY - 1, 0);
		if (!request_failed(req) && r[i].first > r[i].last)
			request_fail(req, "port range %zu: first > last", i);
	}
	if (request_failed(req))
		return;
	ret = hmx_domain_set_port_grants(host_hmx_of(srv)->core, domid, r,
					 (uint32_t)n);
	if (ret < 0)
		fail_errno(req, "grants", ret);
}

/* (aport, partner) naming a host ring; partner may be "any". */
static void host_ring_key(struct request *req, uint32_t *aport,
			  uint16_t *partner)
{
	*aport = (uint32_t)request_uint(req, "aport", true, 0, HMX_PORT_ANY - 1,
					0);
	*partner = rule_domid(req, req->obj, "partner");
}

static void op_host_ring_open(struct control_server *srv, struct request *req,
			      json_object *reply)
{
	static const char *const keys[] = { "op",      "id",  "aport",
					    "partner", "len", NULL };
	uint16_t partner;
	uint32_t aport, len;
	int ret;

	(void)reply;
	request_only_keys(req, keys);
	host_ring_key(req, &aport, &partner);
	len = (uint32_t)request_uint(req, "len", true, HMX_RING_MIN_LEN,
				     HMX_RING_MAX_LEN, 0);
	if (request_failed(req))
		return;
	ret = host_hmx_ring_open(host_hmx_of(srv), aport, partner, len);
	if (ret < 0)
		fail_errno(req, "register_ring", ret);
}

static void op_host_ring_close(struct control_server *srv, struct request *req,
			       json_object *reply)
{
	static const char *const keys[] = { "op", "id", "aport", "partner",
					    NULL };
	uint16_t partner;
	uint32_t aport;

	(void)reply;
	request_only_keys(req, keys);
	host_ring_key(req, &aport, &partner);
	if (!request_failed(req) &&
	    host_hmx_ring_close(host_hmx_of(srv), aport, partner) < 0)
		request_fail(req, "no host ring at that aport and partner");
}

static void op_host_send(struct control_server *srv, struct request *req,
			 json_object *reply)
{
	static const char *const keys[] = { "op",	 "id",
					    "src_aport", "dst_domid",
					    "dst_aport", "message_type",
					    "data",	 NULL };
	uint8_t buf[HOST_MSG_MAX];
	struct hmx_addr dst = { 0 };
	uint32_t src, type;
	const char *data;
	long len;
	int ret;

	request_only_keys(req, keys);
	src = (uint32_t)request_uint(req, "src_aport", true, 0,
				     HMX_PORT_ANY - 1, 0);
	dst.domid = (uint16_t)request_uint(req, "dst_domid", true, 0,
					   HMX_DOMID_LAST_GUEST, 0);
	dst.aport = (uint32_t)request_uint(req, "dst_aport", true, 0,
					   HMX_PORT_ANY - 1, 0);
	type = (uint32_t)request_uint(req, "message_type", false, 0, UINT32_MAX,
				      0);
	data = request_string(req, "data", true, 2 * HOST_MSG_MAX);
	if (request_failed(req))
		return;
	len = hex_decode(data, buf, sizeof(buf));
	if (len < 0) {
		request_fail(req, "data must be hex, at most %d bytes",
			     HOST_MSG_MAX);
		return;
	}
	ret = hmx_host_send(host_hmx_of(srv)->core, HMX_DOMID_HOST,
			    host_hmx_of(srv)->arena, src, dst, type, buf,
			    (uint32_t)len);
	if (ret < 0) {
		fail_errno(req, "sendv", ret);
		return;
	}
	json_object_object_add(reply, "sent", json_object_new_int(ret));
}

static void op_host_recv(struct control_server *srv, struct request *req,
			 json_object *reply)
{
	static const char *const keys[] = { "op",      "id",  "aport",
					    "partner", "max", NULL };
	uint8_t *buf = srv->ring_buf; /* HMX_RING_MAX_LEN bytes */
	char hex[2 * HOST_MSG_MAX + 1];
	struct hmx_host_ring *ring;
	struct hmx_msg_header mh;
	json_object *arr;
	uint16_t partner;
	uint32_t aport, max, i;
	size_t used = 0;
	int ret = 0;

	request_only_keys(req, keys);
	host_ring_key(req, &aport, &partner);
	max = (uint32_t)request_uint(req, "max", false, 1, RECV_MAX, RECV_MAX);
	if (request_failed(req))
		return;
	ring = host_hmx_ring_find(host_hmx_of(srv), aport, partner);
	if (!ring) {
		request_fail(req, "no host ring at that aport and partner");
		return;
	}
	arr = json_object_new_array();
	/* Stop while one more message of any size still fits the reply. */
	for (i = 0; i < max && used + 2 * HOST_MSG_MAX + RECV_ENTRY_OVERHEAD <=
				       RECV_REPLY_BUDGET;
	     i++) {
		json_object *o;
		uint32_t len;

		ret = hmx_host_ring_recv(ring, &mh, buf, HMX_RING_MAX_LEN);
		if (ret < 0)
			break;
		len = (uint32_t)ret;
		used += 2 * (len < HOST_MSG_MAX ? len : HOST_MSG_MAX) +
			RECV_ENTRY_OVERHEAD;
		o = json_object_new_object();
		json_object_object_add(o, "src", addr_json(&mh.source));
		json_object_object_add(o, "message_type",
				       json_object_new_int64(mh.message_type));
		json_object_object_add(o, "len", json_object_new_int64(len));
		/* Large payloads are reported by length; data is their head. */
		hex_encode(buf, len < HOST_MSG_MAX ? len : HOST_MSG_MAX, hex);
		json_object_object_add(o, "data", json_object_new_string(hex));
		json_object_array_add(arr, o);
	}
	/* Consumed: let senders waiting for space go on. */
	hmx_notify(host_hmx_of(srv)->core, HMX_DOMID_HOST, 0);
	json_object_object_add(reply, "messages", arr);
	if (ret < 0 && ret != -EAGAIN)
		json_object_object_add(reply, "ring_error",
				       json_object_new_string(strerror(-ret)));
}

/* clang-format off */
const struct control_op control_hmx_ops[] = {
	{ "hmx.firewall.set", op_firewall_set },
	{ "hmx.firewall.get", op_firewall_get },
	{ "hmx.firewall.stats", op_firewall_stats },
	{ "hmx.audit.read", op_audit_read },
	{ "hmx.grants.set", op_grants_set },
	{ "hmx.host.ring.open", op_host_ring_open },
	{ "hmx.host.ring.close", op_host_ring_close },
	{ "hmx.host.send", op_host_send },
	{ "hmx.host.recv", op_host_recv },
	{ NULL, NULL },
};
/* clang-format on */
