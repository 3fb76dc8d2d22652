// SPDX-License-Identifier: GPL-2.0-only
/* The host end's state as JSON, for the control protocol's vsock.state. */
#include <json-c/json.h>

#include "hv/vsock/vsock_host.h"
#include "hv/vsock/vsock_internal.h"

static const char *const vs_state_names[] = {
	[VS_LINE] = "line",
	[VS_CONNECTING] = "connecting",
	[VS_OPEN] = "open",
};

static void vs_add_u64(json_object *o, const char *key, uint64_t v)
{
	json_object_object_add(o, key, json_object_new_uint64(v));
}

/* One connection's protocol state, for a stuck transfer's post-mortem. */
static json_object *vs_conn_state(const struct vs_conn *c)
{
	json_object *o = json_object_new_object();

	vs_add_u64(o, "domid", c->vm->domid);
	json_object_object_add(
		o, "state", json_object_new_string(vs_state_names[c->state]));
	vs_add_u64(o, "port", c->port);
	vs_add_u64(o, "peer_port", c->peer_port);
	vs_add_u64(o, "rx_used", c->rx_used);
	vs_add_u64(o, "fwd_cnt", c->fwd_cnt);
	vs_add_u64(o, "last_fwd_cnt", c->last_fwd_cnt);
	vs_add_u64(o, "peer_buf_alloc", c->peer_buf_alloc);
	vs_add_u64(o, "peer_fwd_cnt", c->peer_fwd_cnt);
	vs_add_u64(o, "tx_cnt", c->tx_cnt);
	vs_add_u64(o, "tx_pending", c->tx_pending);
	vs_add_u64(o, "credit", (uint64_t)vs_credit(c));
	json_object_object_add(o, "tx_blocked",
			       json_object_new_boolean(c->tx_blocked));
	vs_add_u64(o, "ctl_pending", c->ctl_pending);
	json_object_object_add(o, "unix_eof",
			       json_object_new_boolean(c->unix_eof));
	json_object_object_add(o, "unix_wr_shut",
			       json_object_new_boolean(c->unix_wr_shut));
	vs_add_u64(o, "peer_shutdown", c->peer_shutdown);
	vs_add_u64(o, "epoll_events", c->events);
	json_object_object_add(o, "dead", json_object_new_boolean(c->dead));
	return o;
}

json_object *hv_vsock_state(const struct hv_vsock *vs)
{
	json_object *conns = json_object_new_array(), *out;
	const struct vs_vm *vm;
	const struct vs_conn *c;
	const struct vs_ring *r;
	json_object *rings = json_object_new_array();

	for (vm = vs->vms; vm; vm = vm->next) {
		for (c = vm->conns; c; c = c->next)
			json_object_array_add(conns, vs_conn_state(c));
		for (r = vm->rings; r; r = r->next) {
			json_object *o = json_object_new_object();

			vs_add_u64(o, "domid", vm->domid);
			vs_add_u64(o, "aport", r->aport);
			vs_add_u64(o, "refs", r->refs);
			json_object_object_add(
				o, "watched",
				json_object_new_boolean(r->watched));
			json_object_object_add(
				o, "backlog",
				json_object_new_boolean(r->backlog));
			json_object_array_add(rings, o);
		}
	}
	out = json_object_new_object();
	json_object_object_add(out, "connections", conns);
	json_object_object_add(out, "rings", rings);
	json_object_object_add(out, "fast_tick",
			       json_object_new_boolean(vs->fast_tick));
	vs_add_u64(out, "drain_rounds", vs->drain_rounds);
	vs_add_u64(out, "drain_kicks", vs->drain_kicks);
	return out;
}
