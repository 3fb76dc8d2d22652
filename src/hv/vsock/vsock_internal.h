/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The host end's parts (see vsock_host.h), shared between its files:
 *
 * - vsock_host.c: create/destroy, attach/detach, the HMX interrupt;
 * - vsock_csm.c: the connection state machine (guest messages, control
 *   messages, credit, data both ways);
 * - vsock_unix.c: the unix sockets (listener, CONNECT line, epoll);
 * - vsock_ports.c: host rings per port, the socket directory's watcher;
 * - vsock_timers.c: the tick (retries, connect timeouts, -EBUSY);
 * - vsock_state.c: the JSON dump.
 *
 * Everything runs on the hypervisor's main thread.
 */
#ifndef BH_HV_VSOCK_INTERNAL_H
#define BH_HV_VSOCK_INTERNAL_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/un.h>
#include <time.h>

#include <bulkhead/hmx.h>
#include <bulkhead/hmx_vsock.h>

#include "hv/event_loop.h"
#include "hv/host_hmx.h"

/* Our receive buffer per connection: the credit the guest gets. */
#define VS_BUF (256u << 10)
#define VS_HDR ((uint32_t)sizeof(struct hmx_vsock_hdr))
/* Arena buffer per connection: an iov, the header, one message of data. */
#define VS_TX_BYTES (16u + VS_HDR + HMX_VSOCK_MAX_DATA)
/* Ports of host-initiated connections come from this range. */
#define VS_PORT_FIRST 0x40000000u
#define VS_PORT_LAST 0xfffffffeu
#define VS_CONNECT_TIMEOUT_S 10
#define VS_CONNECT_TRIES 4
#define VS_LINE_MAX 32
#define VS_FAST_TICK_MS 10
#define VS_SLOW_TICK_MS 1000
#define VS_PEER_EVENTS 64
/*
 * A drain round takes at most this much from each ring (whichever comes
 * first; the message that crosses the byte budget is taken whole), so that
 * a guest keeping its ring full delays the event loop's other work (the
 * control socket, other VMs) by one budget per round, not by a ring's
 * worth per message it can refill.
 */
#define VS_DRAIN_MSGS 64u
#define VS_DRAIN_BYTES (128u << 10)

#define BIT(op) (1u << (op))

/* The host's ring (0, aport, vm->domid), shared by connections, counted. */
struct vs_ring {
	struct vs_ring *next;
	uint32_t aport;
	unsigned int refs;
	bool watched; /* PATH_aport exists: the watcher holds a reference */
	bool backlog; /* the last round stopped on the budget: a kick is due */
	struct hmx_host_ring *ring;
};

enum vs_state {
	VS_LINE, /* host program connected to PATH; reading CONNECT */
	VS_CONNECTING, /* REQUEST sent (or to be retried), awaiting RESPONSE */
	VS_OPEN,
};

struct vs_vm;

struct vs_conn {
	struct vs_conn *next;
	struct vs_vm *vm;
	enum vs_state state;
	uint32_t port; /* ours: a host aport */
	uint32_t peer_port;
	struct vs_ring *ring;
	int fd;
	struct event_source src;
	uint32_t events; /* registered epoll mask, 0: not registered */
	char line[VS_LINE_MAX];
	size_t line_len;
	unsigned int tries; /* REQUESTs refused for lack of a ring */
	long long retry_at_ms, deadline_ms;

	/* Guest to unix: a byte ring of VS_BUF. */
	uint8_t *rx;
	uint32_t rx_head, rx_used;
	uint32_t fwd_cnt, last_fwd_cnt;
	/* Unix to guest. */
	uint32_t peer_buf_alloc, peer_fwd_cnt, tx_cnt;
	uint64_t tx_gpa;
	uint32_t tx_pending; /* data bytes held in the arena after -EAGAIN */
	bool tx_blocked;
	unsigned int ctl_pending; /* BIT(op) */
	uint32_t ctl_shutdown;
	bool unix_eof; /* we told the guest SHUTDOWN(SEND) */
	bool unix_wr_shut; /* we shut the unix socket's write side */
	uint32_t peer_shutdown; /* HMX_VSOCK_SHUTDOWN_* from the guest */
	bool dead;
};

struct vs_vm {
	struct vs_vm *next;
	struct hv_vsock *vs;
	uint16_t domid;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char base[NAME_MAX + 1];
	int lfd, ifd;
	struct event_source lsrc, isrc;
	struct vs_ring *rings;
	struct vs_conn *conns;
};

struct hv_vsock {
	struct host_hmx *hh;
	struct event_loop *loop;
	struct vs_vm *vms;
	uint32_t next_port;
	uint8_t *msg; /* one received payload */
	uint64_t events_gpa; /* PEER_EVENTS domids, in the arena */
	int tfd;
	struct event_source tsrc;
	bool fast_tick;
	/*
	 * Readable while a drain round is owed: a ring stopped on its budget
	 * may hold messages whose interrupt came already.
	 */
	int kick_fd;
	struct event_source ksrc;
	uint64_t drain_rounds, drain_kicks;
};

static inline long long vs_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ll + ts.tv_nsec / 1000000;
}

static inline struct hmx_host *vs_core(const struct vs_vm *vm)
{
	return vm->vs->hh->core;
}

/* vsock_csm.c */
void vs_send_rst(struct vs_vm *vm, uint32_t src, uint32_t dst);
int vs_ctl(struct vs_conn *c, uint32_t op, uint32_t flags);
bool vs_ctl_flush(struct vs_conn *c);
void vs_conn_close(struct vs_conn *c, uint32_t op);
int64_t vs_credit(const struct vs_conn *c);
void vs_pump_tx(struct vs_conn *c);
void vs_flush_rx(struct vs_conn *c);
void vs_dispatch(struct vs_vm *vm, uint32_t port,
		 const struct hmx_msg_header *mh, const uint8_t *payload,
		 uint32_t len);

/* vsock_unix.c */
int vs_listen_open(struct vs_vm *vm, char *err, size_t errlen);
void vs_listen_close(struct vs_vm *vm);
struct vs_conn *vs_conn_new(struct vs_vm *vm, int fd);
void vs_conn_free(struct vs_conn *c);
void vs_conn_reap(struct vs_vm *vm);
void vs_conn_events(struct vs_conn *c);
/* A connection's unix socket is ready (its event source's callback). */
void vs_on_conn(struct event_source *src, uint32_t events);

/* vsock_ports.c */
struct vs_ring *vs_ring_find(struct vs_vm *vm, uint32_t aport);
int vs_ring_get(struct vs_vm *vm, uint32_t aport, struct vs_ring **out);
void vs_ring_put(struct vs_vm *vm, struct vs_ring *r);
int vs_ports_watch(struct vs_vm *vm, const char *dir, char *err, size_t errlen);
void vs_ports_scan(struct vs_vm *vm, const char *dir);
void vs_ports_unwatch(struct vs_vm *vm);

/* vsock_timers.c */
int vs_timers_start(struct hv_vsock *vs);
void vs_timers_stop(struct hv_vsock *vs);
void vs_tick_fast(struct hv_vsock *vs);
void vs_try_request(struct vs_conn *c);

/* vsock_host.c */
void vs_retry(struct hv_vsock *vs);

#endif
