// SPDX-License-Identifier: GPL-2.0-only
/*
 * The vhost-user back-end library (src/devmodel/vhost_backend.c) through
 * vhost_be_handle(), with a device of the test's own that counts what the
 * library asks of it: feature and protocol-feature negotiation, REPLY_ACK,
 * the memory table's checks, the vring life cycle (disabled until enabled
 * with the handshake, quiesced before it stops or memory changes), config
 * space bounds, and that every descriptor a message brings is kept or
 * closed, whether the message was good or not.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "devmodel/vhost_backend.h"
#include "util/log.h"

#define MEM_SIZE (1u << 20)
#define UADDR 0x7f0000000000ull
#define DEV_FEATURE (1ull << 5)

struct probe {
	unsigned int kicks, quiesces, resets;
	uint8_t config[16];
};

static int probe_get_config(void *opaque, uint32_t offset, uint8_t *buf,
			    uint32_t len)
{
	struct probe *p = opaque;

	if (offset > sizeof(p->config) || len > sizeof(p->config) - offset)
		return -1;
	memcpy(buf, p->config + offset, len);
	return 0;
}

static int probe_set_config(void *opaque, uint32_t offset, const uint8_t *buf,
			    uint32_t len)
{
	(void)opaque;
	(void)offset;
	(void)buf;
	(void)len;
	return -1;
}

static void probe_kick(void *opaque, struct vhost_be_queue *q)
{
	struct probe *p = opaque;

	assert_true(vhost_be_queue_ready(q));
	p->kicks++;
}

static void probe_quiesce(void *opaque)
{
	((struct probe *)opaque)->quiesces++;
}

static void probe_reset(void *opaque)
{
	((struct probe *)opaque)->resets++;
}

struct fixture {
	struct probe probe;
	struct vhost_be *be;
	int mem_fd;
	int baseline; /* open descriptors before the back end */
};

static int open_fds(void)
{
	int n = 0;

	for (int fd = 0; fd < 1024; fd++)
		n += fcntl(fd, F_GETFD) >= 0;
	return n;
}

static int setup(void **state)
{
	static struct fixture f;
	struct vhost_be_device dev = {
		.nqueues = 2,
		.features = DEV_FEATURE,
		.opaque = &f.probe,
		.get_config = probe_get_config,
		.set_config = probe_set_config,
		.queue_kick = probe_kick,
		.quiesce = probe_quiesce,
		.reset = probe_reset,
	};

	memset(&f, 0, sizeof(f));
	for (unsigned int i = 0; i < sizeof(f.probe.config); i++)
		f.probe.config[i] = (uint8_t)(0xa0 + i);
	f.mem_fd = memfd_create("guest", MFD_CLOEXEC);
	if (f.mem_fd < 0 || ftruncate(f.mem_fd, MEM_SIZE) < 0)
		return -1;
	f.baseline = open_fds();
	f.be = vhost_be_new(&dev, -1);
	*state = &f;
	return f.be ? 0 : -1;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	vhost_be_free(f->be);
	/* Everything the messages brought was closed or freed with it. */
	assert_int_equal(open_fds(), f->baseline);
	close(f->mem_fd);
	return 0;
}

static struct vhost_user_msg message(uint32_t request, uint32_t size,
				     bool need_reply)
{
	struct vhost_user_msg m;

	memset(&m, 0, sizeof(m));
	m.hdr.request = request;
	m.hdr.flags = VHOST_USER_VERSION |
		      (need_reply ? VHOST_USER_FLAG_NEED_REPLY : 0);
	m.hdr.size = size;
	return m;
}

/* Returns vhost_be_handle()'s result; *reply_len what it wants sent. */
static int send_msg(struct fixture *f, struct vhost_user_msg *m, int *fds,
		    unsigned int nfds, struct vhost_user_msg *reply,
		    size_t *reply_len)
{
	int r = vhost_be_handle(f->be, m, fds, nfds, reply, reply_len);

	if (*reply_len) {
		assert_int_equal(reply->hdr.flags,
				 VHOST_USER_VERSION | VHOST_USER_FLAG_REPLY);
		assert_int_equal(reply->hdr.request, m->hdr.request);
		assert_int_equal(*reply_len,
				 VHOST_USER_HDR_SIZE + reply->hdr.size);
	}
	return r;
}

static uint64_t get_u64(struct fixture *f, uint32_t request)
{
	struct vhost_user_msg m = message(request, 0, false), reply;
	size_t len;

	assert_int_equal(send_msg(f, &m, NULL, 0, &reply, &len), 0);
	assert_int_equal(len, VHOST_USER_HDR_SIZE + 8);
	return reply.p.u64;
}

static int set_u64(struct fixture *f, uint32_t request, uint64_t v, int *fds,
		   unsigned int nfds, bool ack, uint64_t *acked)
{
	struct vhost_user_msg m = message(request, 8, ack), reply;
	size_t len;
	int r;

	m.p.u64 = v;
	r = send_msg(f, &m, fds, nfds, &reply, &len);
	if (acked) {
		assert_int_equal(len, VHOST_USER_HDR_SIZE + 8);
		*acked = reply.p.u64;
	} else {
		assert_int_equal(len, ack ? VHOST_USER_HDR_SIZE + 8 : 0);
	}
	return r;
}

static int state_msg(struct fixture *f, uint32_t request, uint32_t index,
		     uint32_t num)
{
	struct vhost_user_msg m = message(request, 8, false), reply;
	size_t len;

	m.p.state.index = index;
	m.p.state.num = num;
	return send_msg(f, &m, NULL, 0, &reply, &len);
}

static int mem_table(struct fixture *f, const struct vhost_user_region *r,
		     unsigned int n, const int *fds)
{
	struct vhost_user_msg m = message(VHOST_USER_SET_MEM_TABLE, 8 + 32 * n,
					  false),
			      reply;
	int mine[VHOST_USER_MAX_REGIONS];
	size_t len;

	m.p.memory.nregions = n;
	memcpy(m.p.memory.regions, r, n * sizeof(*r));
	for (unsigned int i = 0; i < n; i++)
		mine[i] = dup(fds[i]);
	return send_msg(f, &m, mine, n, &reply, &len);
}

static void handshake(struct fixture *f, uint64_t protocol)
{
	uint64_t offered = get_u64(f, VHOST_USER_GET_FEATURES);

	assert_true(offered & 1ull << VIRTIO_F_VERSION_1);
	assert_true(offered & 1ull << VHOST_USER_F_PROTOCOL_FEATURES);
	assert_true(offered & DEV_FEATURE);
	assert_int_equal(set_u64(f, VHOST_USER_SET_PROTOCOL_FEATURES, protocol,
				 NULL, 0, false, NULL),
			 0);
}

static void test_features(void **state)
{
	struct fixture *f = *state;
	uint64_t offered = get_u64(f, VHOST_USER_GET_FEATURES);
	uint64_t protocol = get_u64(f, VHOST_USER_GET_PROTOCOL_FEATURES);

	assert_true(protocol & 1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK);
	assert_true(protocol & 1ull << VHOST_USER_PROTOCOL_F_CONFIG);
	assert_false(protocol & 1ull << VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD);
	assert_int_equal(get_u64(f, VHOST_USER_GET_QUEUE_NUM), 2);
	assert_int_equal(set_u64(f, VHOST_USER_SET_FEATURES, offered, NULL, 0,
				 false, NULL),
			 0);
	assert_int_equal(vhost_be_features(f->be), offered);
	/* What was not offered ends the connection. */
	assert_int_equal(set_u64(f, VHOST_USER_SET_FEATURES, 1ull << 63, NULL,
				 0, false, NULL),
			 -1);
	assert_int_equal(set_u64(f, VHOST_USER_SET_PROTOCOL_FEATURES,
				 1ull << VHOST_USER_PROTOCOL_F_LOG_SHMFD, NULL,
				 0, false, NULL),
			 -1);
}

static void test_reply_ack(void **state)
{
	struct fixture *f = *state;
	struct vhost_user_msg m, reply;
	uint64_t acked = 99;
	size_t len;

	/* Not negotiated yet: NEED_REPLY brings no reply. */
	m = message(VHOST_USER_SET_OWNER, 0, true);
	assert_int_equal(send_msg(f, &m, NULL, 0, &reply, &len), 0);
	assert_int_equal(len, 0);
	handshake(f, 1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK |
			     1ull << VHOST_USER_PROTOCOL_F_CONFIG);
	m = message(VHOST_USER_SET_OWNER, 0, true);
	assert_int_equal(send_msg(f, &m, NULL, 0, &reply, &len), 0);
	assert_int_equal(len, VHOST_USER_HDR_SIZE + 8);
	assert_int_equal(reply.p.u64, 0);
	/* The device refuses a config write: a negative ack, not the end. */
	m = message(VHOST_USER_SET_CONFIG, VHOST_USER_CONFIG_HDR_SIZE + 1,
		    true);
	m.p.config.size = 1;
	assert_int_equal(send_msg(f, &m, NULL, 0, &reply, &len), 0);
	assert_int_equal(reply.p.u64, 1);
	/* A GET_ with NEED_REPLY answers with its own reply only. */
	m = message(VHOST_USER_GET_QUEUE_NUM, 0, true);
	assert_int_equal(send_msg(f, &m, NULL, 0, &reply, &len), 0);
	assert_int_equal(reply.p.u64, 2);
	/* A fatal error still acks negatively first. */
	assert_int_equal(set_u64(f, VHOST_USER_SET_FEATURES, 1ull << 63, NULL,
				 0, true, &acked),
			 -1);
	assert_int_equal(acked, 1);
}

static void test_config(void **state)
{
	struct fixture *f = *state;
	struct vhost_user_msg m, reply;
	size_t len;

	m = message(VHOST_USER_GET_CONFIG, VHOST_USER_CONFIG_HDR_SIZE + 4,
		    false);
	m.p.config.size = 4;
	/* Without the CONFIG protocol feature: refused. */
	assert_int_equal(send_msg(f, &m, NULL, 0, &reply, &len), -1);
	handshake(f, 1ull << VHOST_USER_PROTOCOL_F_CONFIG);
	m.p.config.offset = 12;
	assert_int_equal(send_msg(f, &m, NULL, 0, &reply, &len), 0);
	assert_int_equal(reply.hdr.size, VHOST_USER_CONFIG_HDR_SIZE + 4);
	assert_int_equal(reply.p.config.offset, 12);
	assert_memory_equal(reply.p.config.payload, f->probe.config + 12, 4);
	/* Past the device's config: a reply of size 0 says so. */
	m.p.config.offset = 13;
	assert_int_equal(send_msg(f, &m, NULL, 0, &reply, &len), 0);
	assert_int_equal(reply.hdr.size, 0);
	assert_int_equal(len, VHOST_USER_HDR_SIZE);
	m.p.config.offset = UINT32_MAX - 1;
	assert_int_equal(send_msg(f, &m, NULL, 0, &reply, &len), 0);
	assert_int_equal(reply.hdr.size, 0);
}

static void test_memory_table_checks(void **state)
{
	struct fixture *f = *state;
	const struct vhost_user_region whole = { 0, MEM_SIZE, UADDR, 0 };
	const int fds[2] = { f->mem_fd, f->mem_fd };
	struct vhost_user_region two[2] = { whole, whole };
	int efd = eventfd(0, EFD_CLOEXEC);

	assert_int_equal(mem_table(f, &whole, 1, fds), 0);
	assert_true(vhost_be_has_memory(f->be));
	/* Overlapping guest addresses; overlapping front-end addresses. */
	two[1].userspace_addr = UADDR + MEM_SIZE;
	two[1].guest_phys_addr = MEM_SIZE / 2;
	assert_int_equal(mem_table(f, two, 2, fds), -1);
	two[1].guest_phys_addr = MEM_SIZE;
	two[1].userspace_addr = UADDR + MEM_SIZE / 2;
	assert_int_equal(mem_table(f, two, 2, fds), -1);
	two[1].userspace_addr = UADDR + MEM_SIZE;
	assert_int_equal(mem_table(f, two, 2, fds), 0);
	/* Past the file, wrapping, empty, unaligned offsets that fit. */
	two[0].memory_size = MEM_SIZE + 4096;
	assert_int_equal(mem_table(f, two, 1, fds), -1);
	two[0] = whole;
	two[0].mmap_offset = UINT64_MAX - 4095;
	assert_int_equal(mem_table(f, two, 1, fds), -1);
	two[0] = whole;
	two[0].guest_phys_addr = UINT64_MAX - 4095;
	assert_int_equal(mem_table(f, two, 1, fds), -1);
	two[0] = whole;
	two[0].memory_size = 0;
	assert_int_equal(mem_table(f, two, 1, fds), -1);
	two[0] = whole;
	two[0].mmap_offset = 100;
	two[0].memory_size = MEM_SIZE - 100;
	assert_int_equal(mem_table(f, two, 1, fds), 0);
	/* Not a memory file. */
	assert_int_equal(mem_table(f, &whole, 1, &efd), -1);
	close(efd);
}

/* A ring set up as QEMU does: NUM, BASE, ADDR, CALL, KICK (ENABLE). */
static void ring_setup(struct fixture *f, unsigned int index, int *kick)
{
	struct vhost_user_msg m = message(VHOST_USER_SET_VRING_ADDR, 40, false),
			      reply;
	uint64_t base = 0x10000 * (index + 1);
	int call = eventfd(0, EFD_CLOEXEC);
	size_t len;

	*kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	assert_int_equal(state_msg(f, VHOST_USER_SET_VRING_NUM, index, 64), 0);
	assert_int_equal(state_msg(f, VHOST_USER_SET_VRING_BASE, index, 5), 0);
	m.p.addr.index = index;
	m.p.addr.desc_user_addr = UADDR + base;
	m.p.addr.avail_user_addr = UADDR + base + 0x1000;
	m.p.addr.used_user_addr = UADDR + base + 0x2000;
	assert_int_equal(send_msg(f, &m, NULL, 0, &reply, &len), 0);
	assert_int_equal(set_u64(f, VHOST_USER_SET_VRING_CALL, index, &call, 1,
				 false, NULL),
			 0);
	{
		int theirs = dup(*kick);

		assert_int_equal(set_u64(f, VHOST_USER_SET_VRING_KICK, index,
					 &theirs, 1, false, NULL),
				 0);
	}
}

static void test_vring_life_cycle(void **state)
{
	struct fixture *f = *state;
	const struct vhost_user_region whole = { 0, MEM_SIZE, UADDR, 0 };
	struct vhost_user_msg m, reply;
	unsigned int q;
	size_t len;
	int kick;

	handshake(f, 0);
	assert_int_equal(set_u64(f, VHOST_USER_SET_FEATURES,
				 1ull << VIRTIO_F_VERSION_1 |
					 1ull << VHOST_USER_F_PROTOCOL_FEATURES,
				 NULL, 0, false, NULL),
			 0);
	/* A kick before the memory table is a protocol error. */
	{
		int k = eventfd(0, EFD_CLOEXEC);

		assert_int_equal(set_u64(f, VHOST_USER_SET_VRING_KICK, 0, &k, 1,
					 false, NULL),
				 -1);
	}
	assert_int_equal(mem_table(f, &whole, 1, &f->mem_fd), 0);
	ring_setup(f, 1, &kick);
	/* With the handshake, a started ring waits to be enabled. */
	assert_true(vhost_be_queue(f->be, 1)->started);
	assert_false(vhost_be_queue_ready(vhost_be_queue(f->be, 1)));
	assert_int_equal(f->probe.kicks, 0);
	assert_int_equal(state_msg(f, VHOST_USER_SET_VRING_ENABLE, 1, 1), 0);
	assert_int_equal(f->probe.kicks, 1);
	assert_int_equal(vhost_be_queue(f->be, 1)->vq.last_avail, 5);
	/* Running: its size and addresses cannot change under it. */
	assert_int_equal(state_msg(f, VHOST_USER_SET_VRING_NUM, 1, 32), -1);
	/* The memory table may; the ring goes on where it was. */
	q = f->probe.quiesces;
	assert_int_equal(mem_table(f, &whole, 1, &f->mem_fd), 0);
	assert_int_equal(f->probe.quiesces, q + 1);
	assert_true(vhost_be_queue_ready(vhost_be_queue(f->be, 1)));
	/* GET_VRING_BASE: quiesce, stop, the base. */
	m = message(VHOST_USER_GET_VRING_BASE, 8, false);
	m.p.state.index = 1;
	q = f->probe.quiesces;
	assert_int_equal(send_msg(f, &m, NULL, 0, &reply, &len), 0);
	assert_int_equal(f->probe.quiesces, q + 1);
	assert_int_equal(reply.p.state.index, 1);
	assert_int_equal(reply.p.state.num, 5);
	assert_false(vhost_be_queue(f->be, 1)->started);
	assert_int_equal(vhost_be_queue(f->be, 1)->kick_fd, -1);
	/* Started again, it waits to be enabled again. */
	{
		int k;
		unsigned int kicks = f->probe.kicks;

		ring_setup(f, 1, &k);
		assert_false(vhost_be_queue_ready(vhost_be_queue(f->be, 1)));
		assert_int_equal(f->probe.kicks, kicks);
		assert_int_equal(
			state_msg(f, VHOST_USER_SET_VRING_ENABLE, 1, 1), 0);
		assert_int_equal(f->probe.kicks, kicks + 1);
		m = message(VHOST_USER_GET_VRING_BASE, 8, false);
		m.p.state.index = 1;
		assert_int_equal(send_msg(f, &m, NULL, 0, &reply, &len), 0);
		close(k);
	}
	/* Rings outside the memory break the queue, not the connection. */
	{
		struct vhost_user_msg a =
			message(VHOST_USER_SET_VRING_ADDR, 40, false);
		int k2 = eventfd(0, EFD_CLOEXEC), err = eventfd(0, EFD_CLOEXEC);
		int theirs = dup(err);
		uint64_t n = 0;

		a.p.addr.index = 0;
		a.p.addr.desc_user_addr = UADDR + MEM_SIZE;
		a.p.addr.avail_user_addr = UADDR;
		a.p.addr.used_user_addr = UADDR + 0x1000;
		assert_int_equal(state_msg(f, VHOST_USER_SET_VRING_NUM, 0, 64),
				 0);
		assert_int_equal(send_msg(f, &a, NULL, 0, &reply, &len), 0);
		assert_int_equal(set_u64(f, VHOST_USER_SET_VRING_ERR, 0,
					 &theirs, 1, false, NULL),
				 0);
		assert_int_equal(set_u64(f, VHOST_USER_SET_VRING_KICK, 0, &k2,
					 1, false, NULL),
				 0);
		assert_true(vhost_be_queue(f->be, 0)->broken);
		assert_int_equal(read(err, &n, sizeof(n)), sizeof(n));
		assert_int_equal(n, 1);
		close(err);
	}
	/* A reset stops and forgets everything. */
	m = message(VHOST_USER_RESET_DEVICE, 0, false);
	assert_int_equal(send_msg(f, &m, NULL, 0, &reply, &len), 0);
	assert_int_equal(f->probe.resets, 1);
	assert_false(vhost_be_has_memory(f->be));
	assert_int_equal(vhost_be_features(f->be), 0);
	close(kick);
}

static void test_descriptors_never_leak(void **state)
{
	struct fixture *f = *state;
	struct vhost_user_msg m, reply;
	size_t len;
	int before = open_fds();

	for (unsigned int i = 0; i < 6; i++) {
		int fds[VHOST_USER_MAX_FDS], n = 0;

		for (; n < 3; n++)
			fds[n] = eventfd(0, EFD_CLOEXEC);
		switch (i) {
		case 0: /* descriptors on a message that takes none */
			m = message(VHOST_USER_GET_FEATURES, 0, false);
			break;
		case 1: /* three for one vring */
			m = message(VHOST_USER_SET_VRING_CALL, 8, false);
			break;
		case 2: /* a bad header */
			m = message(VHOST_USER_SET_VRING_CALL, 8, false);
			m.hdr.flags = 0;
			n = 1;
			close(fds[1]);
			close(fds[2]);
			break;
		case 3: /* an unknown request */
			m = message(77, 0, false);
			break;
		case 4: /* index out of range, otherwise fine */
			m = message(VHOST_USER_SET_VRING_CALL, 8, false);
			m.p.u64 = 9;
			n = 1;
			close(fds[1]);
			close(fds[2]);
			break;
		default: /* a memory table of eventfds */
			m = message(VHOST_USER_SET_MEM_TABLE, 8 + 3 * 32,
				    false);
			m.p.memory.nregions = 3;
			break;
		}
		assert_int_equal(send_msg(f, &m, fds, (unsigned int)n, &reply,
					  &len),
				 -1);
		assert_int_equal(open_fds(), before);
	}
	/* And kept ones are replaced, not piled up. */
	for (unsigned int i = 0; i < 3; i++) {
		int call = eventfd(0, EFD_CLOEXEC);

		assert_int_equal(set_u64(f, VHOST_USER_SET_VRING_CALL, 0, &call,
					 1, false, NULL),
				 0);
		assert_int_equal(open_fds(), before + 1);
	}
}

static void on_watched(void *arg)
{
	uint64_t v;

	(*(unsigned int *)arg)++;
	assert_int_equal(read(*((int *)arg + 1), &v, sizeof(v)), sizeof(v));
}

/* A paused watch is not called while its descriptor is readable. */
static void test_watch_pause(void **state)
{
	struct fixture *f = *state;
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	unsigned int calls[2] = { 0, (unsigned int)efd };
	uint64_t one = 1;

	assert_true(efd >= 0);
	assert_int_equal(vhost_be_watch(f->be, efd, on_watched, calls), 0);
	assert_int_equal(vhost_be_watch_enable(f->be, efd, false), 0);
	assert_int_equal(write(efd, &one, sizeof(one)), sizeof(one));
	assert_int_equal(vhost_be_poll(f->be, 50), 0);
	assert_int_equal(calls[0], 0);
	assert_int_equal(vhost_be_watch_enable(f->be, efd, true), 0);
	assert_int_equal(vhost_be_poll(f->be, 1000), 1);
	assert_int_equal(calls[0], 1);
	/* Not one of its watches. */
	assert_int_equal(vhost_be_watch_enable(f->be, f->mem_fd, true), -1);
	assert_int_equal(errno, ENOENT);
	vhost_be_free(f->be);
	f->be = NULL;
	close(efd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_features, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reply_ack, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_config, setup, teardown),
		cmocka_unit_test_setup_teardown(test_memory_table_checks, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_vring_life_cycle, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_descriptors_never_leak,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_watch_pause, setup,
						teardown),
	};

	bh_log_init("test_vhost_backend", BH_LOG_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
