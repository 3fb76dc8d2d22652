// SPDX-License-Identifier: GPL-2.0-only
/*
 * vsock's host end (src/hv/vsock) against a guest played by this test: a
 * domain whose memory is an arena, speaking the vsock protocol through the
 * real HMX core, and host programs on the Firecracker unix sockets. No VM.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include <bulkhead/hmx.h>
#include <bulkhead/hmx_vsock.h>

#include "hmx/arena.h"
#include "hmx/core.h"
#include "hmx/endpoint.h"
#include "hv/event_loop.h"
#include "hv/host_hmx.h"
#include "hv/vsock/vsock_host.h"

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

static int guest_send(struct fixture *f, uint32_t src, uint32_t dst,
		      uint32_t op, uint32_t flags, const void *data,
		      uint32_t len)
{
	uint8_t buf[HMX_VSOCK_MAX_DATA + sizeof(struct hmx_vsock_hdr)];
	struct hmx_vsock_hdr h = { .type = HMX_VSOCK_TYPE_STREAM,
				   .flags = flags,
				   .buf_alloc = 1u << 20 };
	struct hmx_addr to = { .aport = dst, .domid = HMX_DOMID_HOST };

	memcpy(buf, &h, sizeof(h));
	if (len) /* data may be NULL then */
		memcpy(buf + sizeof(h), data, len);
	return hmx_host_send(f->hh.core, GUEST, f->garena, src, to,
			     HMX_VSOCK_MSG(op), buf, (uint32_t)sizeof(h) + len);
}

/* Wait for the next message in the guest's ring; returns its op. */
static uint32_t guest_recv(struct fixture *f, struct hmx_host_ring *r,
			   struct hmx_msg_header *mh, void *data, uint32_t *len)
{
	static uint8_t buf[RING_LEN];
	int n = -EAGAIN;

	for (int i = 0; i < 400 && n == -EAGAIN; i++) {
		n = hmx_host_ring_recv(r, mh, buf, sizeof(buf));
		if (n == -EAGAIN)
			event_loop_run_once(f->loop, 5);
	}
	assert_true(n >= (int)sizeof(struct hmx_vsock_hdr));
	hmx_notify(f->hh.core, GUEST, 0);
	assert_int_equal(mh->message_type & HMX_VSOCK_TAG_MASK, HMX_VSOCK_TAG);
	*len = (uint32_t)n - sizeof(struct hmx_vsock_hdr);
	if (data)
		memcpy(data, buf + sizeof(struct hmx_vsock_hdr), *len);
	return HMX_VSOCK_MSG_OP(mh->message_type);
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
