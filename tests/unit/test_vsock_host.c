// SPDX-License-Identifier: GPL-2.0-only
/*
 * vsock's host end (src/hv/vsock) against a guest played by this test: a
 * domain whose memory is an arena, speaking the vsock protocol through the
 * real HMX core, and host programs on the Firecracker unix sockets. No VM.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include <bulkhead/hmx.h>
#include <bulkhead/hmx_vsock.h>

#include "hmx/arena.h"
#include "hmx/core.h"
#include "hmx/endpoint.h"
#include "hv/event_loop.h"
#include "hv/host_hmx.h"
#include "hv/vsock/vsock_host.h"
#include "hv/vsock/vsock_internal.h" /* the drain budget */

#define GUEST 3
#define RING_LEN (64u << 10)

struct fixture {
	struct event_loop *loop;
	struct host_hmx hh;
	struct hv_vsock *vs;
	struct hmx_arena *garena;
	char dir[64];
	char path[128];
};

static void guest_signal(void *opaque, uint32_t bits)
{
	(void)opaque;
	(void)bits; /* the test polls the guest's rings */
}

static int setup(void **state)
{
	struct hmx_fw_rule all = { HMX_DOMID_ANY, HMX_DOMID_ANY, HMX_PORT_ANY,
				   HMX_PORT_ANY, HMX_FW_ACCEPT };
	struct fixture *f = calloc(1, sizeof(*f));
	struct hmx_domain_config cfg = { .domid = GUEST };
	char err[256];

	assert_non_null(f);
	f->loop = event_loop_create();
	assert_non_null(f->loop);
	assert_int_equal(host_hmx_init(&f->hh, f->loop), 0);
	assert_int_equal(hv_vsock_create(&f->hh, f->loop, &f->vs), 0);
	assert_int_equal(hmx_arena_create(16u << 20, &f->garena), 0);
	cfg.translate = hmx_arena_translate;
	cfg.translate_opaque = f->garena;
	cfg.signal = guest_signal;
	assert_int_equal(hmx_domain_add(f->hh.core, &cfg), 0);
	assert_int_equal(hmx_firewall_set(f->hh.core, &all, 1), 0);
	snprintf(f->dir, sizeof(f->dir), "/tmp/vsock-host-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/vm.vsock", f->dir);
	assert_int_equal(
		hv_vsock_attach(f->vs, GUEST, f->path, err, sizeof(err)), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	hv_vsock_destroy(f->vs);
	host_hmx_fini(&f->hh, f->loop);
	hmx_arena_destroy(f->garena);
	event_loop_destroy(f->loop);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static void spin(struct fixture *f, int ms)
{
	for (int i = 0; i < ms / 5; i++)
		event_loop_run_once(f->loop, 5);
}

static struct hmx_host_ring *guest_ring(struct fixture *f, uint32_t aport)
{
	struct hmx_host_ring *r;

	assert_int_equal(hmx_host_ring_open(f->hh.core, GUEST, f->garena, aport,
					    HMX_DOMID_HOST, RING_LEN, &r),
			 0);
	return r;
}

/* Domain domid (memory: arena) sends one vsock message to the host. */
static int dom_send(struct fixture *f, uint16_t domid, struct hmx_arena *arena,
		    uint32_t src, uint32_t dst, uint32_t op, uint32_t flags,
		    const void *data, uint32_t len)
{
	static uint8_t buf[HMX_VSOCK_MAX_DATA + sizeof(struct hmx_vsock_hdr)];
	struct hmx_vsock_hdr h = { .type = HMX_VSOCK_TYPE_STREAM,
				   .flags = flags,
				   .buf_alloc = 1u << 20 };
	struct hmx_addr to = { .aport = dst, .domid = HMX_DOMID_HOST };

	memcpy(buf, &h, sizeof(h));
	if (len) /* data may be NULL then */
		memcpy(buf + sizeof(h), data, len);
	return hmx_host_send(f->hh.core, domid, arena, src, to,
			     HMX_VSOCK_MSG(op), buf, (uint32_t)sizeof(h) + len);
}

static int guest_send(struct fixture *f, uint32_t src, uint32_t dst,
		      uint32_t op, uint32_t flags, const void *data,
		      uint32_t len)
{
	return dom_send(f, GUEST, f->garena, src, dst, op, flags, data, len);
}

/* Wait for the next message in domid's ring; returns its op. */
static uint32_t dom_recv(struct fixture *f, uint16_t domid,
			 struct hmx_host_ring *r, struct hmx_msg_header *mh,
			 void *data, uint32_t *len)
{
	static uint8_t buf[RING_LEN];
	int n = -EAGAIN;

	for (int i = 0; i < 400 && n == -EAGAIN; i++) {
		n = hmx_host_ring_recv(r, mh, buf, sizeof(buf));
		if (n == -EAGAIN)
			event_loop_run_once(f->loop, 5);
	}
	assert_true(n >= (int)sizeof(struct hmx_vsock_hdr));
	hmx_notify(f->hh.core, domid, 0);
	assert_int_equal(mh->message_type & HMX_VSOCK_TAG_MASK, HMX_VSOCK_TAG);
	*len = (uint32_t)n - sizeof(struct hmx_vsock_hdr);
	if (data)
		memcpy(data, buf + sizeof(struct hmx_vsock_hdr), *len);
	return HMX_VSOCK_MSG_OP(mh->message_type);
}

static uint32_t guest_recv(struct fixture *f, struct hmx_host_ring *r,
			   struct hmx_msg_header *mh, void *data, uint32_t *len)
{
	return dom_recv(f, GUEST, r, mh, data, len);
}

static int unix_socket(const char *path, bool listen_on)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (listen_on) {
		assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)),
				 0);
		assert_int_equal(listen(fd, 4), 0);
	} else {
		assert_int_equal(
			connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	}
	return fd;
}

/* Read what the host end wrote to a unix socket, running the loop. */
static ssize_t unix_read(struct fixture *f, int fd, char *buf, size_t cap)
{
	struct pollfd p = { fd, POLLIN, 0 };

	for (int i = 0; i < 400; i++) {
		if (poll(&p, 1, 0) == 1)
			return read(fd, buf, cap);
		event_loop_run_once(f->loop, 5);
	}
	return -ETIMEDOUT;
}

/* A guest connects to host port 5000 and reaches PATH_5000. */
static void test_guest_to_host(void **state)
{
	struct fixture *f = *state;
	struct hmx_host_ring *r;
	struct hmx_msg_header mh;
	char path[160], buf[64];
	uint32_t len;
	int lfd, fd;

	/* Nobody listens yet: no ring at host port 5000, refused by HMX. */
	r = guest_ring(f, 1234);
	assert_int_equal(guest_send(f, 1234, 5000, HMX_VSOCK_OP_REQUEST, 0,
				    NULL, 0),
			 -ECONNREFUSED);
	/* PATH_5000 appears: the host end registers its ring (inotify). */
	snprintf(path, sizeof(path), "%s_5000", f->path);
	lfd = unix_socket(path, true);
	spin(f, 50);
	assert_true(guest_send(f, 1234, 5000, HMX_VSOCK_OP_REQUEST, 0, NULL,
			       0) >= 0);
	assert_int_equal(guest_recv(f, r, &mh, NULL, &len),
			 HMX_VSOCK_OP_RESPONSE);
	assert_int_equal(mh.source.domid, HMX_DOMID_HOST);
	assert_int_equal(mh.source.aport, 5000);
	fd = accept(lfd, NULL, NULL);
	assert_true(fd >= 0);

	/* Bytes both ways. */
	assert_true(guest_send(f, 1234, 5000, HMX_VSOCK_OP_RW, 0, "hello", 5) >=
		    0);
	assert_int_equal(unix_read(f, fd, buf, sizeof(buf)), 5);
	assert_memory_equal(buf, "hello", 5);
	assert_int_equal(write(fd, "world!", 6), 6);
	assert_int_equal(guest_recv(f, r, &mh, buf, &len), HMX_VSOCK_OP_RW);
	assert_int_equal(len, 6);
	assert_memory_equal(buf, "world!", 6);

	/* A second connection from another guest port, same host port. */
	struct hmx_host_ring *r2 = guest_ring(f, 1235);
	int fd2;

	assert_true(guest_send(f, 1235, 5000, HMX_VSOCK_OP_REQUEST, 0, NULL,
			       0) >= 0);
	assert_int_equal(guest_recv(f, r2, &mh, NULL, &len),
			 HMX_VSOCK_OP_RESPONSE);
	fd2 = accept(lfd, NULL, NULL);
	assert_true(guest_send(f, 1235, 5000, HMX_VSOCK_OP_RW, 0, "two", 3) >=
		    0);
	assert_int_equal(unix_read(f, fd2, buf, sizeof(buf)), 3);

	/* The host program closes: the guest hears SHUTDOWN(SEND). */
	close(fd);
	assert_int_equal(guest_recv(f, r, &mh, NULL, &len),
			 HMX_VSOCK_OP_SHUTDOWN);
	/* The guest closes the other: the program reads EOF. */
	assert_true(guest_send(f, 1235, 5000, HMX_VSOCK_OP_SHUTDOWN,
			       HMX_VSOCK_SHUTDOWN_ALL, NULL, 0) >= 0);
	assert_int_equal(unix_read(f, fd2, buf, sizeof(buf)), 0);
	/* A message for a forgotten connection is answered with RST. */
	assert_true(guest_send(f, 1235, 5000, HMX_VSOCK_OP_RW, 0, "late", 4) >=
		    0);
	assert_int_equal(guest_recv(f, r2, &mh, NULL, &len), HMX_VSOCK_OP_RST);
	close(fd2);
	close(lfd);
	hmx_host_ring_close(r);
	hmx_host_ring_close(r2);
}

/* A host program writes CONNECT, the guest accepts, the program gets OK. */
static void test_host_to_guest(void **state)
{
	struct fixture *f = *state;
	struct hmx_host_ring *r = guest_ring(f, 6000);
	struct hmx_msg_header mh;
	char buf[64];
	uint32_t len, hport;
	int fd;

	fd = unix_socket(f->path, false);
	/* Data sent right after the line (before OK) must not be lost. */
	assert_int_equal(write(fd, "CONNECT 6000\nearly", 18), 18);
	assert_int_equal(guest_recv(f, r, &mh, NULL, &len),
			 HMX_VSOCK_OP_REQUEST);
	hport = mh.source.aport;
	assert_true(hport >= 0x40000000u);
	assert_true(guest_send(f, 6000, hport, HMX_VSOCK_OP_RESPONSE, 0, NULL,
			       0) >= 0);
	memset(buf, 0, sizeof(buf));
	assert_true(unix_read(f, fd, buf, sizeof(buf) - 1) > 0);
	assert_int_equal(strtoul(buf + 3, NULL, 10), hport);
	assert_memory_equal(buf, "OK ", 3);
	assert_int_equal(guest_recv(f, r, &mh, buf, &len), HMX_VSOCK_OP_RW);
	assert_int_equal(len, 5);
	assert_memory_equal(buf, "early", 5);

	/* The guest resets: the program's socket closes. */
	assert_true(guest_send(f, 6000, hport, HMX_VSOCK_OP_RST, 0, NULL, 0) >=
		    0);
	assert_true(unix_read(f, fd, buf, sizeof(buf)) <= 0);
	close(fd);
	hmx_host_ring_close(r);
}

/* Refusals close the program's socket without OK. */
static void test_connect_refused(void **state)
{
	struct fixture *f = *state;
	struct hmx_fw_rule deny = { GUEST, HMX_DOMID_HOST, HMX_PORT_ANY,
				    HMX_PORT_ANY, HMX_FW_ACCEPT };
	char buf[64];
	int fd;

	/* No guest ring at 6001: refused after a few retries. */
	fd = unix_socket(f->path, false);
	assert_int_equal(write(fd, "CONNECT 6001\n", 13), 13);
	assert_int_equal(unix_read(f, fd, buf, sizeof(buf)), 0);
	close(fd);

	/* Not a CONNECT line. */
	fd = unix_socket(f->path, false);
	assert_int_equal(write(fd, "HELLO 6001\n", 11), 11);
	assert_int_equal(unix_read(f, fd, buf, sizeof(buf)), 0);
	close(fd);
	fd = unix_socket(f->path, false);
	assert_int_equal(write(fd, "CONNECT 4294967295\n", 19), 19);
	assert_int_equal(unix_read(f, fd, buf, sizeof(buf)), 0);
	close(fd);

	/* The firewall lets the guest send to the host only: refused. */
	struct hmx_host_ring *r = guest_ring(f, 6002);

	assert_int_equal(hmx_firewall_set(f->hh.core, &deny, 1), 0);
	fd = unix_socket(f->path, false);
	assert_int_equal(write(fd, "CONNECT 6002\n", 13), 13);
	assert_int_equal(unix_read(f, fd, buf, sizeof(buf)), 0);
	close(fd);
	hmx_host_ring_close(r);
}

/* The guest domain goes away: its host connections close at once. */
static void test_guest_dies(void **state)
{
	struct fixture *f = *state;
	struct hmx_host_ring *r = guest_ring(f, 7000);
	struct hmx_msg_header mh;
	char buf[64];
	uint32_t len, hport;
	int fd;

	fd = unix_socket(f->path, false);
	assert_int_equal(write(fd, "CONNECT 7000\n", 13), 13);
	assert_int_equal(guest_recv(f, r, &mh, NULL, &len),
			 HMX_VSOCK_OP_REQUEST);
	hport = mh.source.aport;
	assert_true(guest_send(f, 7000, hport, HMX_VSOCK_OP_RESPONSE, 0, NULL,
			       0) >= 0);
	assert_true(unix_read(f, fd, buf, sizeof(buf)) > 0);
	hmx_host_ring_close(r);
	assert_int_equal(hmx_domain_remove(f->hh.core, GUEST), 0);
	assert_true(unix_read(f, fd, buf, sizeof(buf)) <= 0);
	close(fd);
}

/*
 * The drain budget. A guest connection to host port hport, opened through
 * PATH_hport (listener lfd): returns the host program's end.
 */
static int dom_connect(struct fixture *f, uint16_t domid,
		       struct hmx_arena *arena, struct hmx_host_ring *r,
		       uint32_t gport, uint32_t hport, int lfd)
{
	struct hmx_msg_header mh;
	uint32_t len;
	int fd;

	assert_true(dom_send(f, domid, arena, gport, hport,
			     HMX_VSOCK_OP_REQUEST, 0, NULL, 0) >= 0);
	assert_int_equal(dom_recv(f, domid, r, &mh, NULL, &len),
			 HMX_VSOCK_OP_RESPONSE);
	fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
	assert_true(fd >= 0);
	return fd;
}

/* Stream byte k of every flood: a pattern that shows loss and reorder. */
static uint8_t flood_byte(uint32_t k)
{
	return (uint8_t)(k % 251);
}

/* n RW messages of size bytes into the host's ring, the loop not run. */
static void flood(struct fixture *f, uint16_t domid, struct hmx_arena *arena,
		  uint32_t gport, uint32_t hport, uint32_t n, uint32_t size)
{
	static uint8_t data[HMX_VSOCK_MAX_DATA];

	for (uint32_t m = 0; m < n; m++) {
		for (uint32_t i = 0; i < size; i++)
			data[i] = flood_byte(m * size + i);
		assert_true(dom_send(f, domid, arena, gport, hport,
				     HMX_VSOCK_OP_RW, 0, data, size) >= 0);
	}
}

/* Reads what fd holds; checks it continues the pattern at *got. */
static void unix_take(int fd, uint32_t *got)
{
	uint8_t buf[8192];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		for (ssize_t i = 0; i < n; i++)
			assert_int_equal(buf[i], flood_byte((*got)++));
}

/* Bytes the host end took from its ring for (domid, host port). */
static uint64_t taken(struct fixture *f, uint16_t domid, uint32_t hport)
{
	json_object *st = hv_vsock_state(f->vs), *conns, *c, *v;
	uint64_t sum = 0;

	assert_true(json_object_object_get_ex(st, "connections", &conns));
	for (size_t i = 0; i < json_object_array_length(conns); i++) {
		c = json_object_array_get_idx(conns, i);
		json_object_object_get_ex(c, "domid", &v);
		if (json_object_get_uint64(v) != domid)
			continue;
		json_object_object_get_ex(c, "port", &v);
		if (json_object_get_uint64(v) != hport)
			continue;
		json_object_object_get_ex(c, "fwd_cnt", &v);
		sum += json_object_get_uint64(v);
		json_object_object_get_ex(c, "rx_used", &v);
		sum += json_object_get_uint64(v);
	}
	json_object_put(st);
	return sum;
}

static bool ring_backlog(struct fixture *f, uint16_t domid, uint32_t aport)
{
	json_object *st = hv_vsock_state(f->vs), *rings, *r, *v;
	bool backlog = false;

	assert_true(json_object_object_get_ex(st, "rings", &rings));
	for (size_t i = 0; i < json_object_array_length(rings); i++) {
		r = json_object_array_get_idx(rings, i);
		json_object_object_get_ex(r, "domid", &v);
		if (json_object_get_uint64(v) != domid)
			continue;
		json_object_object_get_ex(r, "aport", &v);
		if (json_object_get_uint64(v) != aport)
			continue;
		json_object_object_get_ex(r, "backlog", &v);
		backlog = json_object_get_boolean(v);
	}
	json_object_put(st);
	return backlog;
}

/*
 * One interrupt, many messages: a round takes VS_DRAIN_MSGS of them, and
 * the rest arrive with no further interrupt (the round kicks the next).
 */
static void test_drain_budget_msgs(void **state)
{
	struct fixture *f = *state;
	const uint32_t n = 3 * VS_DRAIN_MSGS + 7, size = 100;
	struct hmx_host_ring *r = guest_ring(f, 1234);
	char path[160];
	uint32_t got = 0;
	int lfd, fd, rounds;

	snprintf(path, sizeof(path), "%s_5000", f->path);
	lfd = unix_socket(path, true);
	spin(f, 50);
	fd = dom_connect(f, GUEST, f->garena, r, 1234, 5000, lfd);
	flood(f, GUEST, f->garena, 1234, 5000, n, size);

	/* The interrupt's round: the budget, and a round owed. */
	event_loop_run_once(f->loop, 0);
	assert_int_equal(taken(f, GUEST, 5000), VS_DRAIN_MSGS * size);
	assert_true(ring_backlog(f, GUEST, 5000));

	/* The guest sends nothing more: the kicks alone bring the rest. */
	for (rounds = 1; got < n * size && rounds < 100; rounds++) {
		unix_take(fd, &got);
		event_loop_run_once(f->loop, 0);
	}
	unix_take(fd, &got);
	assert_int_equal(got, n * size);
	assert_false(ring_backlog(f, GUEST, 5000));
	close(fd);
	close(lfd);
	hmx_host_ring_close(r);
}

/* The byte budget: the message that crosses it is the round's last. */
static void test_drain_budget_bytes(void **state)
{
	struct fixture *f = *state;
	const uint32_t size = 16u << 10, n = 12;
	struct hmx_host_ring *r = guest_ring(f, 1234);
	uint32_t got = 0, first = 0, msgs = 0;
	char path[160];
	int lfd, fd;

	/* Each message is size data bytes plus the vsock header. */
	while (first < VS_DRAIN_BYTES) {
		first += size + (uint32_t)sizeof(struct hmx_vsock_hdr);
		msgs++;
	}
	assert_true(msgs < n && msgs < VS_DRAIN_MSGS);
	snprintf(path, sizeof(path), "%s_5000", f->path);
	lfd = unix_socket(path, true);
	spin(f, 50);
	fd = dom_connect(f, GUEST, f->garena, r, 1234, 5000, lfd);
	flood(f, GUEST, f->garena, 1234, 5000, n, size);
	event_loop_run_once(f->loop, 0);
	assert_int_equal(taken(f, GUEST, 5000), msgs * size);
	for (int i = 0; got < n * size && i < 100; i++) {
		unix_take(fd, &got);
		event_loop_run_once(f->loop, 0);
	}
	unix_take(fd, &got);
	assert_int_equal(got, n * size);
	close(fd);
	close(lfd);
	hmx_host_ring_close(r);
}

/* A control request stands for the event loop's other work. */
struct other_work {
	struct fixture *f;
	int pipe[2];
	bool ran;
	uint64_t taken_then; /* both floods' bytes the host end had taken */
};

static void other_work_ready(struct event_source *src, uint32_t events)
{
	struct other_work *w = src->opaque;
	char c;

	(void)events;
	assert_int_equal(read(w->pipe[0], &c, 1), 1);
	w->ran = true;
	w->taken_then = taken(w->f, GUEST, 5000) + taken(w->f, GUEST + 1, 5000);
}

/*
 * Two VMs flood their host ends while other work waits in the event loop:
 * each round serves both VMs' rings, and the other work runs long before
 * the floods are through.
 */
static void test_drain_interleaves(void **state)
{
	struct fixture *f = *state;
	struct hmx_domain_config cfg = { .domid = GUEST + 1 };
	const uint32_t n = 4 * VS_DRAIN_MSGS, size = 100;
	struct other_work w = { .f = f };
	struct event_source src = { 0 };
	struct hmx_host_ring *r1, *r2;
	struct hmx_arena *arena2;
	char path[200], path2[128], err[256];
	uint32_t got1 = 0, got2 = 0;
	int lfd1, lfd2, fd1, fd2;

	/* The second VM, with its own socket. */
	assert_int_equal(hmx_arena_create(16u << 20, &arena2), 0);
	cfg.translate = hmx_arena_translate;
	cfg.translate_opaque = arena2;
	cfg.signal = guest_signal;
	assert_int_equal(hmx_domain_add(f->hh.core, &cfg), 0);
	snprintf(path2, sizeof(path2), "%s/vm2.vsock", f->dir);
	assert_int_equal(
		hv_vsock_attach(f->vs, GUEST + 1, path2, err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s_5000", f->path);
	lfd1 = unix_socket(path, true);
	snprintf(path, sizeof(path), "%s_5000", path2);
	lfd2 = unix_socket(path, true);
	spin(f, 50);
	r1 = guest_ring(f, 1234);
	assert_int_equal(hmx_host_ring_open(f->hh.core, GUEST + 1, arena2, 1234,
					    HMX_DOMID_HOST, RING_LEN, &r2),
			 0);
	fd1 = dom_connect(f, GUEST, f->garena, r1, 1234, 5000, lfd1);
	fd2 = dom_connect(f, GUEST + 1, arena2, r2, 1234, 5000, lfd2);

	flood(f, GUEST, f->garena, 1234, 5000, n, size);
	flood(f, GUEST + 1, arena2, 1234, 5000, n, size);
	assert_int_equal(pipe(w.pipe), 0);
	src = (struct event_source){ w.pipe[0], other_work_ready, &w };
	assert_int_equal(event_loop_add(f->loop, &src, EPOLLIN), 0);
	assert_int_equal(write(w.pipe[1], "x", 1), 1);

	/* One round: both VMs got their budget, neither more. */
	event_loop_run_once(f->loop, 0);
	assert_int_equal(taken(f, GUEST, 5000), VS_DRAIN_MSGS * size);
	assert_int_equal(taken(f, GUEST + 1, 5000), VS_DRAIN_MSGS * size);
	for (int i = 0; (got1 < n * size || got2 < n * size) && i < 100; i++) {
		unix_take(fd1, &got1);
		unix_take(fd2, &got2);
		event_loop_run_once(f->loop, 0);
	}
	unix_take(fd1, &got1);
	unix_take(fd2, &got2);
	assert_int_equal(got1, n * size);
	assert_int_equal(got2, n * size);
	/* The other work waited one round at most, not for the floods. */
	assert_true(w.ran);
	assert_true(w.taken_then <= 2 * VS_DRAIN_MSGS * size);

	event_loop_remove(f->loop, &src);
	close(w.pipe[0]);
	close(w.pipe[1]);
	close(fd1);
	close(fd2);
	close(lfd1);
	close(lfd2);
	hmx_host_ring_close(r1);
	hmx_host_ring_close(r2);
	hv_vsock_detach(f->vs, GUEST + 1);
	assert_int_equal(hmx_domain_remove(f->hh.core, GUEST + 1), 0);
	hmx_arena_destroy(arena2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_guest_to_host, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_host_to_guest, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_connect_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_guest_dies, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_drain_budget_msgs, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_drain_budget_bytes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_drain_interleaves, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
