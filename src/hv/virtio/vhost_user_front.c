// SPDX-License-Identifier: GPL-2.0-only
#include "hv/virtio/vhost_user_front.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "hv/devices/device.h"
#include "hv/event_loop.h"
#include "hv/memory.h"
#include "hv/virtio/virtio_pci.h"
#include "hv/x86/layout.h"
#include "util/log.h"

#define F_PROTOCOL_FEATURES (1ull << VHOST_USER_F_PROTOCOL_FEATURES)
#define F_VERSION_1 (1ull << 32)
#define PF(bit) (1ull << VHOST_USER_PROTOCOL_F_##bit)
/* What this front end speaks; anything else offered is declined. */
#define PROTOCOL_WANTED (PF(MQ) | PF(REPLY_ACK) | PF(CONFIG))

#define VIRTIO_ID_NET 1
#define VIRTIO_ID_BLOCK 2
/*
 * The "front-end addresses" vhost-user wants in the memory table and the
 * vring addresses: only keys the back end translates through the table,
 * so they are guest-physical plus this constant, never the hypervisor's
 * own addresses (a device model learns nothing of its address space).
 */
#define UADDR_BASE (1ull << 46)
#define VIRTIO_BLK_CONFIG_SIZE 60
/* mac, status, max_virtqueue_pairs, mtu: what bulkhead-net offers. */
#define VIRTIO_NET_CONFIG_SIZE 12

struct vhu_front {
	const struct dev_platform *plat;
	char name[64];
	int sock;
	uint64_t features; /* the back end's */
	uint64_t protocol; /* negotiated protocol features */
	bool failed; /* the connection is unusable; the VM is stopping */
	bool connecting; /* no VM to stop yet: vm_create fails instead */
	char why[200]; /* what broke the connection */
	unsigned int nstarted;
	uint16_t started[VIRTIO_QUEUES_MAX];
	struct event_source hup_src;
	bool hup_watched;
};

uint32_t vhu_config_size(uint16_t device_id)
{
	switch (device_id) {
	case VIRTIO_ID_NET:
		return VIRTIO_NET_CONFIG_SIZE;
	case VIRTIO_ID_BLOCK:
		return VIRTIO_BLK_CONFIG_SIZE;
	}
	return 0;
}

int vhu_check_reply_header(const struct vhost_user_header *hdr,
			   uint32_t request, uint32_t want_size, char *err,
			   size_t errlen)
{
	const uint32_t known = VHOST_USER_VERSION_MASK | VHOST_USER_FLAG_REPLY;

	if ((hdr->flags & VHOST_USER_VERSION_MASK) != VHOST_USER_VERSION)
		snprintf(err, errlen, "reply of version %u, not 1",
			 hdr->flags & VHOST_USER_VERSION_MASK);
	else if (!(hdr->flags & VHOST_USER_FLAG_REPLY) || hdr->flags & ~known)
		snprintf(err, errlen, "reply with flags 0x%x", hdr->flags);
	else if (hdr->request != request)
		snprintf(err, errlen, "reply to request %u when %u was asked",
			 hdr->request, request);
	else if (hdr->size != want_size)
		snprintf(err, errlen, "reply to request %u of %u bytes, not %u",
			 request, hdr->size, want_size);
	else
		return 0;
	return -1;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The connection failed: the VM stops, once, saying why. */
static int transport_failed(struct vhu_front *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int transport_failed(struct vhu_front *f, const char *fmt, ...)
{
	char detail[300];
	va_list ap;

	if (f->failed)
		return -1;
	f->failed = true;
	va_start(ap, fmt);
	vsnprintf(f->why, sizeof(f->why), fmt, ap);
	va_end(ap);
	if (f->connecting)
		return -1;
	snprintf(detail, sizeof(detail), "%s: device model: %s", f->name,
		 f->why);
	bh_err("vm %s: %s", f->plat->vm_name, detail);
	dev_request_stop(f->plat, VM_STOP_CRASH, detail);
	return -1;
}

/* Waits for events on the socket until deadline; 0, or -1 with errno. */
static int wait_sock(struct vhu_front *f, short events, int64_t deadline)
{
	for (;;) {
		struct pollfd p = { .fd = f->sock, .events = events };
		int64_t left = deadline - now_ms();
		struct timespec ts;
		int r;

		if (left <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		ts.tv_sec = left / 1000;
		ts.tv_nsec = (left % 1000) * 1000000;
		r = ppoll(&p, 1, &ts, NULL);
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return -1;
		/* A vCPU kick: give up if the VM is being stopped. */
		if (r < 0 && f->plat->ops->stopping(f->plat->vm)) {
			errno = ECANCELED;
			return -1;
		}
	}
}

static const char *io_error(int e)
{
	switch (e) {
	case ETIMEDOUT:
		return "no answer within 5 s";
	case ECANCELED:
		return "the VM is stopping";
	case EPIPE:
	case ECONNRESET:
		return "it went away";
	}
	return strerror(e);
}

static int send_msg(struct vhu_front *f, uint32_t request, uint32_t flags,
		    const void *payload, uint32_t size, const int *fds,
		    unsigned int nfds)
{
	struct vhost_user_msg msg = { 0 };
	size_t len = VHOST_USER_HDR_SIZE + size, done = 0;
	int64_t deadline = now_ms() + VHU_REPLY_TIMEOUT_MS;
	union {
		char buf[CMSG_SPACE(VHOST_USER_MAX_FDS * sizeof(int))];
		struct cmsghdr align;
	} u;

	if (f->failed)
		return -1;
	msg.hdr.request = request;
	msg.hdr.flags = VHOST_USER_VERSION | flags;
	msg.hdr.size = size;
	if (size)
		memcpy(&msg.p, payload, size);
	while (done < len) {
		struct iovec iov = { (uint8_t *)&msg + done, len - done };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
		ssize_t n;

		/* Descriptors ride on the first byte, once. */
		if (!done && nfds) {
			struct cmsghdr *c;

			memset(&u, 0, sizeof(u));
			mh.msg_control = u.buf;
			mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
			c = CMSG_FIRSTHDR(&mh);
			c->cmsg_level = SOL_SOCKET;
			c->cmsg_type = SCM_RIGHTS;
			c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
			memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
		}
		n = sendmsg(f->sock, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return transport_failed(f, "sending request %u: %s",
						request, io_error(errno));
		if (wait_sock(f, POLLOUT, deadline) < 0)
			return transport_failed(f, "sending request %u: %s",
						request, io_error(errno));
	}
	return 0;
}

/* Reads exactly len bytes; a back end never sends us descriptors. */
static int recv_exact(struct vhu_front *f, void *buf, size_t len,
		      uint32_t request, int64_t deadline)
{
	size_t done = 0;

	while (done < len) {
		union {
			char buf[CMSG_SPACE(VHOST_USER_MAX_FDS * sizeof(int))];
			struct cmsghdr align;
		} u;
		struct iovec iov = { (uint8_t *)buf + done, len - done };
		struct msghdr mh = { .msg_iov = &iov,
				     .msg_iovlen = 1,
				     .msg_control = u.buf,
				     .msg_controllen = sizeof(u.buf) };
		bool had_fds = false;
		ssize_t n;

		n = recvmsg(f->sock, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		for (struct cmsghdr *c = n >= 0 ? CMSG_FIRSTHDR(&mh) : NULL; c;
		     c = CMSG_NXTHDR(&mh, c)) {
			if (c->cmsg_level != SOL_SOCKET ||
			    c->cmsg_type != SCM_RIGHTS)
				continue;
			for (size_t i = 0;
			     i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			     i++) {
				int fd;

				memcpy(&fd, CMSG_DATA(c) + i * sizeof(int),
				       sizeof(int));
				close(fd);
			}
			had_fds = true;
		}
		if (had_fds || (n >= 0 && (mh.msg_flags & MSG_CTRUNC)))
			return transport_failed(
				f, "reply to request %u carried descriptors",
				request);
		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		if (n == 0)
			return transport_failed(f, "it went away");
		if (errno != EAGAIN && errno != EINTR)
			return transport_failed(f,
						"reading the reply to %u: %s",
						request, io_error(errno));
		if (wait_sock(f, POLLIN, deadline) < 0)
			return transport_failed(f,
						"reading the reply to %u: %s",
						request, io_error(errno));
	}
	return 0;
}

static int recv_reply(struct vhu_front *f, uint32_t request, void *payload,
		      uint32_t size)
{
	int64_t deadline = now_ms() + VHU_REPLY_TIMEOUT_MS;
	struct vhost_user_header hdr;
	char why[120];

	if (recv_exact(f, &hdr, sizeof(hdr), request, deadline) < 0)
		return -1;
	if (vhu_check_reply_header(&hdr, request, size, why, sizeof(why)) < 0)
		return transport_failed(f, "%s", why);
	return recv_exact(f, payload, size, request, deadline);
}

/* A request with a reply of size bytes into out. */
static int get(struct vhu_front *f, uint32_t request, const void *payload,
	       uint32_t size, void *out, uint32_t out_size)
{
	if (send_msg(f, request, 0, payload, size, NULL, 0) < 0)
		return -1;
	return recv_reply(f, request, out, out_size);
}

/*
 * A request without a reply; with REPLY_ACK the back end confirms it.
 * -1 with f->failed for a broken connection, -1 alone for a refusal.
 */
static int set(struct vhu_front *f, uint32_t request, const void *payload,
	       uint32_t size, const int *fds, unsigned int nfds)
{
	bool ack = f->protocol & PF(REPLY_ACK);
	uint64_t status;

	if (send_msg(f, request, ack ? VHOST_USER_FLAG_NEED_REPLY : 0, payload,
		     size, fds, nfds) < 0)
		return -1;
	if (!ack)
		return 0;
	if (recv_reply(f, request, &status, sizeof(status)) < 0)
		return -1;
	if (status) {
		bh_warn("vm %s: %s: the device model refused request %u (%llu)",
			f->plat->vm_name, f->name, request,
			(unsigned long long)status);
		return -1;
	}
	return 0;
}

static int set_u64(struct vhu_front *f, uint32_t request, uint64_t v, int fd)
{
	return set(f, request, &v, sizeof(v), fd >= 0 ? &fd : NULL,
		   fd >= 0 ? 1 : 0);
}

static int set_state(struct vhu_front *f, uint32_t request, uint16_t index,
		     uint32_t num)
{
	struct vhost_user_vring_state st = { index, num };

	return set(f, request, &st, sizeof(st), NULL, 0);
}

/* The VM's RAM as the back end maps it: around the MMIO hole. */
static int send_mem_table(struct vhu_front *f)
{
	const struct guest_mem *mem = f->plat->mem;
	struct vhost_user_memory t = { 0 };
	int fds[2] = { mem->memfd, mem->memfd };

	t.regions[0] = (struct vhost_user_region){
		.guest_phys_addr = 0,
		.memory_size = mem->layout.low_size,
		.userspace_addr = UADDR_BASE,
		.mmap_offset = 0,
	};
	t.nregions = 1;
	if (mem->layout.high_size) {
		t.regions[1] = (struct vhost_user_region){
			.guest_phys_addr = LAYOUT_HIGH_RAM,
			.memory_size = mem->layout.high_size,
			.userspace_addr = UADDR_BASE + LAYOUT_HIGH_RAM,
			.mmap_offset = mem->layout.low_size,
		};
		t.nregions = 2;
	}
	return set(f, VHOST_USER_SET_MEM_TABLE, &t,
		   8 + t.nregions * sizeof(t.regions[0]), fds, t.nregions);
}

/* A ring's key for the back end; 0 if [gpa, gpa + len) is not all RAM. */
static uint64_t user_addr(struct vhu_front *f, uint64_t gpa, uint64_t len)
{
	if (!guest_mem_ptr(f->plat->mem, gpa, len))
		return 0;
	return UADDR_BASE + gpa;
}

static int start_queue(struct vhu_front *f, const struct virtio_queue_setup *q)
{
	struct vhost_user_vring_addr a = {
		.index = q->index,
		.desc_user_addr = user_addr(f, q->desc, 16ull * q->size),
		.avail_user_addr = user_addr(f, q->avail, 6 + 2ull * q->size),
		.used_user_addr = user_addr(f, q->used, 6 + 8ull * q->size),
	};

	/* The transport checked the rings are RAM; say so if not. */
	if (!a.desc_user_addr || !a.avail_user_addr || !a.used_user_addr)
		return -1;
	if (set_state(f, VHOST_USER_SET_VRING_NUM, q->index, q->size) < 0 ||
	    set_state(f, VHOST_USER_SET_VRING_BASE, q->index, 0) < 0 ||
	    set(f, VHOST_USER_SET_VRING_ADDR, &a, sizeof(a), NULL, 0) < 0 ||
	    set_u64(f, VHOST_USER_SET_VRING_KICK, q->index, q->kick_fd) < 0 ||
	    set_u64(f, VHOST_USER_SET_VRING_CALL, q->index, q->call_fd) < 0 ||
	    set_u64(f, VHOST_USER_SET_VRING_ERR, q->index, q->err_fd) < 0)
		return -1;
	f->started[f->nstarted++] = q->index;
	if ((f->features & F_PROTOCOL_FEATURES) &&
	    set_state(f, VHOST_USER_SET_VRING_ENABLE, q->index, 1) < 0)
		return -1;
	return 0;
}

static void front_stop(void *opaque)
{
	struct vhu_front *f = opaque;

	if (f->features & F_PROTOCOL_FEATURES)
		for (unsigned int i = 0; i < f->nstarted && !f->failed; i++)
			set_state(f, VHOST_USER_SET_VRING_ENABLE, f->started[i],
				  0);
	/* GET_VRING_BASE stops a ring: after it, the queue is not touched. */
	for (unsigned int i = 0; i < f->nstarted && !f->failed; i++) {
		struct vhost_user_vring_state st = { f->started[i], 0 }, got;

		if (get(f, VHOST_USER_GET_VRING_BASE, &st, sizeof(st), &got,
			sizeof(got)) < 0)
			break;
		if (got.index != st.index)
			transport_failed(
				f,
				"GET_VRING_BASE answered for queue %u, not %u",
				got.index, st.index);
	}
	f->nstarted = 0;
}

static int front_start(void *opaque, uint64_t features,
		       const struct virtio_queue_setup *q, unsigned int nq,
		       char *err, size_t errlen)
{
	struct vhu_front *f = opaque;
	uint64_t acked = features;

	if (f->failed) {
		snprintf(err, errlen, "its device model has failed");
		return -1;
	}
	if (f->features & F_PROTOCOL_FEATURES)
		acked |= F_PROTOCOL_FEATURES;
	if (set_u64(f, VHOST_USER_SET_FEATURES, acked, -1) < 0 ||
	    send_mem_table(f) < 0)
		goto fail;
	for (unsigned int i = 0; i < nq; i++)
		if (start_queue(f, &q[i]) < 0)
			goto fail;
	return 0;
fail:
	snprintf(err, errlen, "the device model %s the queues",
		 f->failed ? "failed while starting" : "refused");
	front_stop(f);
	return -1;
}

/* Main thread: the device model closed its end. */
static void on_hangup(struct event_source *src, uint32_t events)
{
	struct vhu_front *f = src->opaque;

	(void)events;
	event_loop_remove(f->plat->loop, &f->hup_src);
	f->hup_watched = false;
	transport_failed(
		f,
		"it went away (its process exited or closed the connection)");
}

void vhu_front_free(struct vhu_front *f)
{
	if (!f)
		return;
	if (f->hup_watched)
		event_loop_remove(f->plat->loop, &f->hup_src);
	if (f->sock >= 0)
		close(f->sock);
	free(f);
}

static void front_destroy(void *opaque)
{
	vhu_front_free(opaque);
}

static const struct virtio_backend_ops front_ops = {
	.start = front_start,
	.stop = front_stop,
	.destroy = front_destroy,
};

/* The handshake; a failure says what the back end lacks. */
static int negotiate(struct vhu_front *f, uint16_t device_id,
		     struct virtio_backend *be, char *err, size_t errlen)
{
	uint32_t cfg_size = vhu_config_size(device_id);
	struct vhost_user_config cfg = { .size = cfg_size }, got;
	uint64_t pf = 0, nq = 1;

	if (get(f, VHOST_USER_GET_FEATURES, NULL, 0, &f->features, 8) < 0)
		goto io;
	if (!(f->features & F_VERSION_1)) {
		snprintf(err, errlen, "it is not a virtio 1.x device");
		return -1;
	}
	if (!(f->features & F_PROTOCOL_FEATURES)) {
		snprintf(err, errlen,
			 "it offers no vhost-user protocol features");
		return -1;
	}
	if (get(f, VHOST_USER_GET_PROTOCOL_FEATURES, NULL, 0, &pf, 8) < 0)
		goto io;
	pf &= PROTOCOL_WANTED;
	if (cfg_size && !(pf & PF(CONFIG))) {
		snprintf(
			err, errlen,
			"it does not share its configuration (protocol feature CONFIG)");
		return -1;
	}
	if (send_msg(f, VHOST_USER_SET_PROTOCOL_FEATURES, 0, &pf, 8, NULL, 0) <
	    0)
		goto io;
	f->protocol = pf;
	if (set(f, VHOST_USER_SET_OWNER, NULL, 0, NULL, 0) < 0)
		goto refused;
	if ((pf & PF(MQ)) &&
	    get(f, VHOST_USER_GET_QUEUE_NUM, NULL, 0, &nq, 8) < 0)
		goto io;
	if (!nq || nq > VIRTIO_QUEUES_MAX) {
		snprintf(err, errlen, "it has %llu queues (1 to %d work)",
			 (unsigned long long)nq, VIRTIO_QUEUES_MAX);
		return -1;
	}
	if (cfg_size && get(f, VHOST_USER_GET_CONFIG, &cfg,
			    VHOST_USER_CONFIG_HDR_SIZE + cfg_size, &got,
			    VHOST_USER_CONFIG_HDR_SIZE + cfg_size) < 0)
		goto io;
	if (cfg_size && (got.offset != 0 || got.size != cfg_size)) {
		snprintf(
			err, errlen,
			"its configuration reply covers %u bytes at %u, not %u at 0",
			got.size, got.offset, cfg_size);
		return -1;
	}
	*be = (struct virtio_backend){
		.ops = &front_ops,
		.opaque = f,
		.device_id = device_id,
		/* Mass storage (other), network (Ethernet), else "other". */
		.class_code = device_id == VIRTIO_ID_BLOCK ? 0x018000 :
			      device_id == VIRTIO_ID_NET   ? 0x020000 :
							     0xff0000,
		.features = f->features & ~F_PROTOCOL_FEATURES,
		.num_queues = (uint16_t)nq,
		.queue_size_max = VHU_QUEUE_SIZE_MAX,
		.config_len = cfg_size ? cfg_size : 1,
	};
	memcpy(be->config, got.payload, cfg_size);
	return 0;
io:
	snprintf(err, errlen, "%s", f->why[0] ? f->why : "handshake failed");
	return -1;
refused:
	snprintf(err, errlen, "it refused SET_OWNER");
	return -1;
}

struct vhu_front *vhu_front_connect(const struct dev_platform *plat,
				    const char *name, int sock,
				    uint16_t device_id,
				    struct virtio_backend *be, char *err,
				    size_t errlen)
{
	struct vhu_front *f = calloc(1, sizeof(*f));
	int type = 0;
	socklen_t len = sizeof(type);
	char why[200];

	if (!f) {
		close(sock);
		snprintf(err, errlen, "%s: out of memory", name);
		return NULL;
	}
	f->plat = plat;
	f->sock = sock;
	snprintf(f->name, sizeof(f->name), "%s", name);
	if (getsockopt(sock, SOL_SOCKET, SO_TYPE, &type, &len) < 0 ||
	    type != SOCK_STREAM) {
		snprintf(err, errlen, "%s: not a connected stream socket",
			 name);
		goto fail;
	}
	if (!vhu_config_size(device_id)) {
		snprintf(err, errlen,
			 "%s: virtio device type %u is not supported", name,
			 device_id);
		goto fail;
	}
	/* The handshake must not stop a VM that does not run yet. */
	f->connecting = true;
	if (negotiate(f, device_id, be, why, sizeof(why)) < 0 || f->failed) {
		snprintf(err, errlen, "%s: device model: %s", name, why);
		goto fail;
	}
	f->connecting = false;
	f->hup_src = (struct event_source){ sock, on_hangup, f };
	if (!plat->loop ||
	    event_loop_add(plat->loop, &f->hup_src, EPOLLRDHUP) < 0) {
		snprintf(err, errlen, "%s: cannot watch the connection", name);
		goto fail;
	}
	f->hup_watched = true;
	return f;
fail:
	vhu_front_free(f);
	return NULL;
}
