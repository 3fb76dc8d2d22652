// SPDX-License-Identifier: GPL-2.0-only
/*
 * The vhost-user back end: message handling (vhost_be_handle), the memory
 * table, vrings, and the epoll loop around one front-end socket.
 *
 * Rules kept throughout: a message is validated (vhost_msg_check) before
 * any field is used; every descriptor received is either kept in exactly
 * one place or closed before the handler returns; a watched descriptor
 * leaves the epoll set before it is closed (epoll keys on the open file,
 * which the front end shares); guest memory is unmapped only after the
 * device has finished every request that points into it.
 */
#include "devmodel/vhost_backend.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devmodel/vhost_msg.h"
#include "util/log.h"

#define BE_WATCHES_EXTRA 4

/* The transport features the library implements for every device. */
#define BE_TRANSPORT_FEATURES                                          \
	((1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_F_EVENT_IDX) | \
	 (1ull << VIRTIO_F_INDIRECT_DESC) |                            \
	 (1ull << VHOST_USER_F_PROTOCOL_FEATURES))

#define BE_PROTOCOL_FEATURES                         \
	((1ull << VHOST_USER_PROTOCOL_F_MQ) |        \
	 (1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK) | \
	 (1ull << VHOST_USER_PROTOCOL_F_CONFIG) |    \
	 (1ull << VHOST_USER_PROTOCOL_F_RESET_DEVICE))

struct be_watch {
	int fd; /* -1: unused */
	void (*fn)(void *arg);
	void *arg;
};

struct be_region {
	uint64_t gpa;
	uint64_t size;
	uint64_t uaddr;
	void *map; /* mmap base: page-aligned, below the region's start */
	size_t map_len;
};

struct vhost_be {
	struct vhost_be_device dev;
	int sock;
	int epfd;
	bool stop;
	bool closed; /* the connection ended: run returns status */
	int status;
	unsigned int watch_gen; /* bumped when the epoll set changes */
	uint64_t offered;
	uint64_t acked;
	uint64_t protocol_acked;
	unsigned int nregions;
	struct be_region regions[VHOST_USER_MAX_REGIONS];
	struct vq_mem mem;
	struct vhost_be_queue q[VHOST_BE_QUEUES_MAX];
	struct be_watch kick_watch[VHOST_BE_QUEUES_MAX];
	struct be_watch sock_watch;
	struct be_watch extra[BE_WATCHES_EXTRA];
};

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Logs why the connection must end; returns -1 for the caller to pass up. */
static int fail(const char *fmt, ...)
{
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	bh_err("vhost-user: closing the connection: %s", why);
	return -1;
}

static void close_fds(int *fds, unsigned int nfds)
{
	for (unsigned int i = 0; i < nfds; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		fds[i] = -1;
	}
}

static int watch_add(struct vhost_be *be, struct be_watch *w, int fd,
		     void (*fn)(void *), void *arg)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = w };

	if (epoll_ctl(be->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -1;
	w->fd = fd;
	w->fn = fn;
	w->arg = arg;
	be->watch_gen++;
	return 0;
}

static void watch_del(struct vhost_be *be, struct be_watch *w)
{
	if (w->fd < 0)
		return;
	epoll_ctl(be->epfd, EPOLL_CTL_DEL, w->fd, NULL);
	w->fd = -1;
	be->watch_gen++;
}

/* ---- queues ---- */

bool vhost_be_queue_ready(const struct vhost_be_queue *q)
{
	const struct vhost_be *be = q->be;
	bool enabled = q->enabled ||
		       !(be->acked & (1ull << VHOST_USER_F_PROTOCOL_FEATURES));

	return q->started && q->live && !q->broken && enabled;
}

static void eventfd_signal(int fd)
{
	uint64_t one = 1;

	if (fd >= 0 && write(fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		bh_warn("vhost-user: cannot signal an eventfd: %s",
			strerror(errno));
}

bool vhost_be_queue_signal(struct vhost_be_queue *q)
{
	if (!q->live || !vq_should_notify(&q->vq))
		return false;
	eventfd_signal(q->call_fd);
	return true;
}

void vhost_be_queue_broken(struct vhost_be_queue *q)
{
	if (q->broken)
		return;
	q->broken = true;
	bh_err("vring %u broken by the guest: %s; not served until set up again",
	       q->index, q->vq.error[0] ? q->vq.error : "unknown reason");
	eventfd_signal(q->err_fd);
}

static void queue_kick_now(struct vhost_be *be, struct vhost_be_queue *q)
{
	if (vhost_be_queue_ready(q))
		be->dev.queue_kick(be->dev.opaque, q);
}

static void on_kick(void *arg)
{
	struct vhost_be_queue *q = arg;
	struct vhost_be *be = q->be;
	uint64_t count;
	ssize_t r = read(q->kick_fd, &count, sizeof(count));

	if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
		/* Not an eventfd that works: stop watching rather than spin. */
		bh_err("vring %u: kick descriptor unusable (%s); no longer watched",
		       q->index, r == 0 ? "end of file" : strerror(errno));
		watch_del(be, &be->kick_watch[q->index]);
		return;
	}
	queue_kick_now(be, q);
}

/* Front-end address to guest-physical through the memory table; -1 if none. */
static int uaddr_to_gpa(const struct vhost_be *be, uint64_t uaddr,
			uint64_t *gpa)
{
	for (unsigned int i = 0; i < be->nregions; i++) {
		const struct be_region *r = &be->regions[i];

		if (uaddr >= r->uaddr && uaddr - r->uaddr < r->size) {
			*gpa = r->gpa + (uaddr - r->uaddr);
			return 0;
		}
	}
	return -1;
}

/* Sets the virtqueue up from what the front end gave; a bad ring breaks it. */
static void queue_init(struct vhost_be *be, struct vhost_be_queue *q,
		       uint16_t base)
{
	uint64_t desc, avail, used;

	q->live = false;
	memset(&q->vq, 0, sizeof(q->vq));
	if (uaddr_to_gpa(be, q->desc_uaddr, &desc) < 0 ||
	    uaddr_to_gpa(be, q->avail_uaddr, &avail) < 0 ||
	    uaddr_to_gpa(be, q->used_uaddr, &used) < 0) {
		snprintf(q->vq.error, sizeof(q->vq.error),
			 "ring addresses outside the memory table");
		vhost_be_queue_broken(q);
		return;
	}
	if (vq_init(&q->vq, &be->mem, q->num, desc, avail, used, be->acked,
		    base) < 0) {
		vhost_be_queue_broken(q);
		return;
	}
	q->live = true;
}

static void queue_close_fds(struct vhost_be *be, struct vhost_be_queue *q)
{
	watch_del(be, &be->kick_watch[q->index]);
	if (q->kick_fd >= 0)
		close(q->kick_fd);
	if (q->call_fd >= 0)
		close(q->call_fd);
	if (q->err_fd >= 0)
		close(q->err_fd);
	q->kick_fd = q->call_fd = q->err_fd = -1;
}

static void queue_reset(struct vhost_be *be, struct vhost_be_queue *q)
{
	queue_close_fds(be, q);
	q->num = 0;
	q->base = 0;
	q->addr_set = false;
	q->enabled = false;
	q->started = false;
	q->live = false;
	q->broken = false;
	memset(&q->vq, 0, sizeof(q->vq));
}

static bool any_started(const struct vhost_be *be)
{
	for (unsigned int i = 0; i < be->dev.nqueues; i++)
		if (be->q[i].started)
			return true;
	return false;
}

static void quiesce(struct vhost_be *be)
{
	if (be->dev.quiesce)
		be->dev.quiesce(be->dev.opaque);
}

/* ---- memory table ---- */

static void unmap_regions(struct be_region *r, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		if (r[i].map)
			munmap(r[i].map, r[i].map_len);
}

static void mem_clear(struct vhost_be *be)
{
	unmap_regions(be->regions, be->nregions);
	memset(be->regions, 0, sizeof(be->regions));
	memset(&be->mem, 0, sizeof(be->mem));
	be->nregions = 0;
}

static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

/* Every check on the table before anything is mapped. */
static int check_table(const struct vhost_user_memory *m, const int *fds)
{
	for (unsigned int i = 0; i < m->nregions; i++) {
		const struct vhost_user_region *r = &m->regions[i];
		struct stat st;

		if (!r->memory_size)
			return fail("memory region %u is empty", i);
		if (r->guest_phys_addr + r->memory_size < r->guest_phys_addr ||
		    r->userspace_addr + r->memory_size < r->userspace_addr ||
		    r->mmap_offset + r->memory_size < r->mmap_offset ||
		    r->mmap_offset + r->memory_size > (uint64_t)INT64_MAX ||
		    r->memory_size > SIZE_MAX / 2)
			return fail("memory region %u overflows", i);
		for (unsigned int j = 0; j < i; j++) {
			const struct vhost_user_region *o = &m->regions[j];

			if (ranges_overlap(r->guest_phys_addr, r->memory_size,
					   o->guest_phys_addr, o->memory_size))
				return fail("memory regions %u and %u overlap",
					    j, i);
			if (ranges_overlap(r->userspace_addr, r->memory_size,
					   o->userspace_addr, o->memory_size))
				return fail(
					"memory regions %u and %u overlap in "
					"the front end's address space",
					j, i);
		}
		/* A mapping past the file's end would fault: SIGBUS. */
		if (fstat(fds[i], &st) < 0 || !S_ISREG(st.st_mode))
			return fail("memory region %u: not a memory file", i);
		if ((uint64_t)st.st_size < r->mmap_offset + r->memory_size)
			return fail("memory region %u extends past its file",
				    i);
	}
	return 0;
}

static int map_table(const struct vhost_user_memory *m, const int *fds,
		     struct be_region *out)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);

	for (unsigned int i = 0; i < m->nregions; i++) {
		const struct vhost_user_region *r = &m->regions[i];
		uint64_t start = r->mmap_offset & ~(page - 1);
		uint64_t len = r->memory_size + (r->mmap_offset - start);
		void *map = mmap(NULL, len, PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_NORESERVE, fds[i],
				 (off_t)start);

		if (map == MAP_FAILED) {
			unmap_regions(out, i);
			return fail("cannot map memory region %u: %s", i,
				    strerror(errno));
		}
		/* Guest data stays out of core dumps (they are off anyway). */
		madvise(map, len, MADV_DONTDUMP);
		out[i] = (struct be_region){
			.gpa = r->guest_phys_addr,
			.size = r->memory_size,
			.uaddr = r->userspace_addr,
			.map = map,
			.map_len = len,
		};
	}
	return 0;
}

static int set_mem_table(struct vhost_be *be, const struct vhost_user_memory *m,
			 int *fds)
{
	struct be_region fresh[VHOST_USER_MAX_REGIONS] = { 0 };
	uint16_t avail[VHOST_BE_QUEUES_MAX], used[VHOST_BE_QUEUES_MAX];
	bool relive[VHOST_BE_QUEUES_MAX] = { false };
	int r = check_table(m, fds);

	if (!r)
		r = map_table(m, fds, fresh);
	close_fds(fds, m->nregions); /* the mappings hold the files */
	if (r)
		return r;

	/* Nothing in flight may point into the old mappings. */
	quiesce(be);
	for (unsigned int i = 0; i < be->dev.nqueues; i++) {
		struct vhost_be_queue *q = &be->q[i];

		if (q->started && q->live) {
			relive[i] = true;
			avail[i] = q->vq.last_avail;
			used[i] = q->vq.used_idx;
		}
		q->live = false;
	}
	mem_clear(be);
	memcpy(be->regions, fresh, sizeof(fresh));
	be->nregions = m->nregions;
	be->mem.nregions = m->nregions;
	for (unsigned int i = 0; i < m->nregions; i++) {
		const struct vhost_user_region *src = &m->regions[i];
		uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);

		be->mem.region[i] = (struct vq_region){
			.gpa = src->guest_phys_addr,
			.size = src->memory_size,
			.host = (uint8_t *)fresh[i].map +
				(src->mmap_offset & (page - 1)),
		};
	}
	/* Running rings go on where they were, over the new mappings. */
	for (unsigned int i = 0; i < be->dev.nqueues; i++) {
		struct vhost_be_queue *q = &be->q[i];

		if (!relive[i])
			continue;
		if (avail[i] != used[i])
			bh_warn("vring %u: %u requests unanswered across a "
				"memory table change",
				i, (uint16_t)(avail[i] - used[i]));
		queue_init(be, q, avail[i]);
		if (q->live)
			q->vq.used_idx = used[i];
	}
	for (unsigned int i = 0; i < be->dev.nqueues; i++)
		if (relive[i])
			queue_kick_now(be, &be->q[i]);
	return 0;
}

/* ---- the requests ---- */

static void reset_device(struct vhost_be *be)
{
	quiesce(be);
	for (unsigned int i = 0; i < be->dev.nqueues; i++)
		queue_reset(be, &be->q[i]);
	mem_clear(be);
	be->acked = 0;
	if (be->dev.reset)
		be->dev.reset(be->dev.opaque);
}

static struct vhost_be_queue *vring_of(struct vhost_be *be, uint32_t index)
{
	if (index >= be->dev.nqueues) {
		fail("vring index %u out of range (%u queues)", index,
		     be->dev.nqueues);
		return NULL;
	}
	return &be->q[index];
}

static int set_vring_fd(struct vhost_be *be, uint32_t request, uint64_t arg,
			int *fds)
{
	struct vhost_be_queue *q =
		vring_of(be, arg & VHOST_USER_VRING_INDEX_MASK);
	int fd = arg & VHOST_USER_VRING_NOFD ? -1 : fds[0];
	int *slot;

	if (!q)
		return -1;
	if (request == VHOST_USER_SET_VRING_CALL) {
		slot = &q->call_fd;
	} else if (request == VHOST_USER_SET_VRING_ERR) {
		slot = &q->err_fd;
	} else {
		if (fd < 0)
			return fail("vring %u: kick without a descriptor "
				    "(polling) is not supported",
				    q->index);
		if (!be->nregions || !q->num || !q->addr_set)
			return fail("vring %u kicked before its memory, size "
				    "and addresses were set",
				    q->index);
		watch_del(be, &be->kick_watch[q->index]);
		if (watch_add(be, &be->kick_watch[q->index], fd, on_kick, q) <
		    0) {
			int err = errno;

			close(fd);
			fds[0] = -1;
			return fail(
				"vring %u: cannot watch its kick descriptor: %s",
				q->index, strerror(err));
		}
		slot = &q->kick_fd;
	}
	if (*slot >= 0)
		close(*slot);
	*slot = fd;
	fds[0] = -1;

	if (request == VHOST_USER_SET_VRING_KICK && !q->started) {
		q->started = true;
		q->broken = false;
		queue_init(be, q, q->base);
		/* The driver may have made buffers available already. */
		queue_kick_now(be, q);
	}
	return 0;
}

static int get_vring_base(struct vhost_be *be, uint32_t index, uint32_t *num)
{
	struct vhost_be_queue *q = vring_of(be, index);

	if (!q)
		return -1;
	quiesce(be);
	if (q->live || q->broken)
		q->base = q->vq.last_avail;
	*num = q->base;
	watch_del(be, &be->kick_watch[q->index]);
	if (q->kick_fd >= 0)
		close(q->kick_fd);
	q->kick_fd = -1;
	q->started = false;
	q->live = false;
	q->broken = false;
	/* With the handshake, a ring starts again disabled (the spec's rule). */
	q->enabled = false;
	return 0;
}

static int vring_state(struct vhost_be *be, uint32_t request,
		       const struct vhost_user_vring_state *s)
{
	struct vhost_be_queue *q = vring_of(be, s->index);

	if (!q)
		return -1;
	if (request == VHOST_USER_SET_VRING_ENABLE) {
		if (!(be->acked & (1ull << VHOST_USER_F_PROTOCOL_FEATURES)))
			return fail(
				"SET_VRING_ENABLE without protocol features");
		if (s->num > 1)
			return fail("vring %u: enable value %u", q->index,
				    s->num);
		if (!s->num && q->enabled)
			quiesce(be);
		q->enabled = s->num;
		queue_kick_now(be, q);
		return 0;
	}
	if (q->started)
		return fail("vring %u is running", q->index);
	if (request == VHOST_USER_SET_VRING_NUM) {
		if (!s->num || s->num > VQ_SIZE_MAX || (s->num & (s->num - 1)))
			return fail("vring %u: size %u is not a power of two "
				    "up to %u",
				    q->index, s->num, VQ_SIZE_MAX);
		q->num = s->num;
	} else {
		if (s->num > UINT16_MAX)
			return fail("vring %u: base %u out of range", q->index,
				    s->num);
		q->base = (uint16_t)s->num;
	}
	return 0;
}

static int set_vring_addr(struct vhost_be *be,
			  const struct vhost_user_vring_addr *a)
{
	struct vhost_be_queue *q = vring_of(be, a->index);

	if (!q)
		return -1;
	if (q->started)
		return fail("vring %u is running", q->index);
	if (a->flags)
		return fail("vring %u: dirty logging is not supported",
			    q->index);
	q->desc_uaddr = a->desc_user_addr;
	q->avail_uaddr = a->avail_user_addr;
	q->used_uaddr = a->used_user_addr;
	q->addr_set = true;
	return 0;
}

/* GET_CONFIG: a zero-size payload tells the front end it failed. */
static void get_config(struct vhost_be *be, const struct vhost_user_config *c,
		       struct vhost_user_msg *reply)
{
	reply->p.config.offset = c->offset;
	reply->p.config.size = c->size;
	reply->p.config.flags = c->flags;
	memset(reply->p.config.payload, 0, sizeof(reply->p.config.payload));
	if (be->dev.get_config &&
	    be->dev.get_config(be->dev.opaque, c->offset,
			       reply->p.config.payload, c->size) == 0)
		reply->hdr.size = VHOST_USER_CONFIG_HDR_SIZE + c->size;
	else
		reply->hdr.size = 0;
}

static bool protocol(const struct vhost_be *be, unsigned int bit)
{
	return be->protocol_acked & (1ull << bit);
}

/*
 * The request's own work. Returns 0, 1 (done but failed: a negative ack,
 * the connection stays) or -1 (the connection must close).
 */
static int dispatch(struct vhost_be *be, const struct vhost_user_msg *msg,
		    int *fds, struct vhost_user_msg *reply)
{
	union vhost_user_payload copy, *p = &copy;

	/* The payload sits unaligned (offset 12) in the packed message. */
	memcpy(&copy, (const char *)msg + VHOST_USER_HDR_SIZE, sizeof(copy));

	switch (msg->hdr.request) {
	case VHOST_USER_GET_FEATURES:
		reply->p.u64 = be->offered;
		reply->hdr.size = sizeof(uint64_t);
		return 0;
	case VHOST_USER_SET_FEATURES:
		if (p->u64 & ~be->offered)
			return fail("features 0x%llx were not offered",
				    (unsigned long long)(p->u64 &
							 ~be->offered));
		if (any_started(be))
			return fail("features changed while rings run");
		be->acked = p->u64;
		return 0;
	case VHOST_USER_GET_PROTOCOL_FEATURES:
		reply->p.u64 = BE_PROTOCOL_FEATURES;
		reply->hdr.size = sizeof(uint64_t);
		return 0;
	case VHOST_USER_SET_PROTOCOL_FEATURES:
		if (p->u64 & ~BE_PROTOCOL_FEATURES)
			return fail(
				"protocol features 0x%llx were not offered",
				(unsigned long long)(p->u64 &
						     ~BE_PROTOCOL_FEATURES));
		be->protocol_acked = p->u64;
		return 0;
	case VHOST_USER_SET_OWNER:
		return 0;
	case VHOST_USER_RESET_OWNER:
	case VHOST_USER_RESET_DEVICE:
		reset_device(be);
		return 0;
	case VHOST_USER_GET_QUEUE_NUM:
		reply->p.u64 = be->dev.nqueues;
		reply->hdr.size = sizeof(uint64_t);
		return 0;
	case VHOST_USER_SET_MEM_TABLE:
		return set_mem_table(be, &p->memory, fds);
	case VHOST_USER_SET_VRING_NUM:
	case VHOST_USER_SET_VRING_BASE:
	case VHOST_USER_SET_VRING_ENABLE:
		return vring_state(be, msg->hdr.request, &p->state);
	case VHOST_USER_SET_VRING_ADDR:
		return set_vring_addr(be, &p->addr);
	case VHOST_USER_GET_VRING_BASE: {
		uint32_t num;

		if (get_vring_base(be, p->state.index, &num) < 0)
			return -1;
		reply->p.state.index = p->state.index;
		reply->p.state.num = num;
		reply->hdr.size = sizeof(reply->p.state);
		return 0;
	}
	case VHOST_USER_SET_VRING_KICK:
	case VHOST_USER_SET_VRING_CALL:
	case VHOST_USER_SET_VRING_ERR:
		return set_vring_fd(be, msg->hdr.request, p->u64, fds);
	case VHOST_USER_GET_CONFIG:
		if (!protocol(be, VHOST_USER_PROTOCOL_F_CONFIG))
			return fail("GET_CONFIG without the CONFIG feature");
		get_config(be, &p->config, reply);
		return 0;
	case VHOST_USER_SET_CONFIG:
		if (!protocol(be, VHOST_USER_PROTOCOL_F_CONFIG))
			return fail("SET_CONFIG without the CONFIG feature");
		if (p->config.flags > 1)
			return fail("SET_CONFIG flags 0x%x", p->config.flags);
		if (!be->dev.set_config ||
		    be->dev.set_config(be->dev.opaque, p->config.offset,
				       p->config.payload, p->config.size) < 0) {
			bh_warn("vhost-user: config write at %u+%u refused",
				p->config.offset, p->config.size);
			return 1;
		}
		return 0;
	}
	return fail("request %u has no handler", msg->hdr.request);
}

int vhost_be_handle(struct vhost_be *be, const struct vhost_user_msg *msg,
		    int *fds, unsigned int nfds, struct vhost_user_msg *reply,
		    size_t *reply_len)
{
	const char *why = NULL;
	bool ack;
	int r;

	*reply_len = 0;
	if (vhost_msg_check(msg, nfds, &why) < 0) {
		const char *name = vhost_msg_name(msg->hdr.request);

		close_fds(fds, nfds);
		if (name)
			return fail("%s: %s", name, why);
		return fail("request %u: %s", msg->hdr.request, why);
	}
	ack = (msg->hdr.flags & VHOST_USER_FLAG_NEED_REPLY) &&
	      protocol(be, VHOST_USER_PROTOCOL_F_REPLY_ACK) &&
	      !vhost_msg_has_reply(msg->hdr.request);

	memset(&reply->hdr, 0, sizeof(reply->hdr));
	reply->hdr.request = msg->hdr.request;
	reply->hdr.flags = VHOST_USER_VERSION | VHOST_USER_FLAG_REPLY;
	r = dispatch(be, msg, fds, reply);
	close_fds(fds, nfds); /* those the handler did not keep */
	if (ack) {
		reply->p.u64 = r != 0;
		reply->hdr.size = sizeof(uint64_t);
	}
	if (ack || vhost_msg_has_reply(msg->hdr.request))
		*reply_len = VHOST_USER_HDR_SIZE + reply->hdr.size;
	return r < 0 ? -1 : 0;
}

/* ---- the socket ---- */

/*
 * Reads len bytes, collecting descriptors that come along. Returns 1, 0 on
 * end of file before the first byte, or -1 (logged).
 */
static int recv_full(struct vhost_be *be, void *buf, size_t len, int *fds,
		     unsigned int *nfds)
{
	size_t got = 0;

	while (got < len) {
		union {
			char buf[CMSG_SPACE(sizeof(int) * VHOST_USER_MAX_FDS)];
			struct cmsghdr align;
		} ctl;
		struct iovec iov = { (char *)buf + got, len - got };
		struct msghdr mh = {
			.msg_iov = &iov,
			.msg_iovlen = 1,
			.msg_control = ctl.buf,
			.msg_controllen = sizeof(ctl.buf),
		};
		ssize_t n = recvmsg(be->sock, &mh, MSG_CMSG_CLOEXEC);
		int bad = 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return fail("receive: %s", strerror(errno));
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c;
		     c = CMSG_NXTHDR(&mh, c)) {
			size_t k;

			if (c->cmsg_level != SOL_SOCKET ||
			    c->cmsg_type != SCM_RIGHTS) {
				bad = 1;
				continue;
			}
			k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			for (size_t i = 0; i < k; i++) {
				int fd;

				memcpy(&fd, CMSG_DATA(c) + i * sizeof(int),
				       sizeof(int));
				if (*nfds < VHOST_USER_MAX_FDS)
					fds[(*nfds)++] = fd;
				else {
					close(fd);
					bad = 1;
				}
			}
		}
		if (mh.msg_flags & MSG_CTRUNC)
			bad = 1;
		if (bad) {
			close_fds(fds, *nfds);
			*nfds = 0;
			return fail("a message came with too many or unknown "
				    "control data");
		}
		if (n == 0) {
			if (got == 0 && !*nfds)
				return 0;
			close_fds(fds, *nfds);
			*nfds = 0;
			return fail(
				"the front end closed the socket mid-message");
		}
		got += (size_t)n;
	}
	return 1;
}

static int send_reply(struct vhost_be *be, const struct vhost_user_msg *reply,
		      size_t len)
{
	const char *p = (const char *)reply;

	while (len) {
		ssize_t n = sendto(be->sock, p, len, MSG_NOSIGNAL, NULL, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return fail("send: %s", n < 0 ? strerror(errno) : "0");
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void end_connection(struct vhost_be *be, int status)
{
	be->closed = true;
	be->status = status;
	watch_del(be, &be->sock_watch);
}

static void on_socket(void *arg)
{
	struct vhost_be *be = arg;
	struct vhost_user_msg msg, reply;
	int fds[VHOST_USER_MAX_FDS];
	unsigned int nfds = 0;
	size_t reply_len;
	int r;

	memset(&msg, 0, sizeof(msg));
	r = recv_full(be, &msg.hdr, VHOST_USER_HDR_SIZE, fds, &nfds);
	if (r <= 0) {
		if (!r)
			bh_info("vhost-user: the front end disconnected");
		end_connection(be, r < 0 ? -1 : 0);
		return;
	}
	if (msg.hdr.size > VHOST_USER_PAYLOAD_MAX) {
		close_fds(fds, nfds);
		fail("request %u: payload of %u bytes is too large",
		     msg.hdr.request, msg.hdr.size);
		end_connection(be, -1);
		return;
	}
	if (msg.hdr.size) {
		r = recv_full(be, (char *)&msg + VHOST_USER_HDR_SIZE,
			      msg.hdr.size, fds, &nfds);
		if (r <= 0) {
			close_fds(fds, nfds);
			if (!r)
				fail("the front end closed the socket "
				     "mid-message");
			end_connection(be, -1);
			return;
		}
	}
	r = vhost_be_handle(be, &msg, fds, nfds, &reply, &reply_len);
	if (reply_len && send_reply(be, &reply, reply_len) < 0)
		r = -1;
	if (r < 0)
		end_connection(be, -1);
}

/* ---- life cycle ---- */

struct vhost_be *vhost_be_new(const struct vhost_be_device *dev, int sock)
{
	struct vhost_be *be;

	if (!dev->nqueues || dev->nqueues > VHOST_BE_QUEUES_MAX ||
	    !dev->queue_kick) {
		bh_err("vhost-user: bad device description");
		return NULL;
	}
	if (dev->features & BE_TRANSPORT_FEATURES) {
		bh_err("vhost-user: device features overlap the transport's");
		return NULL;
	}
	be = calloc(1, sizeof(*be));
	if (!be)
		return NULL;
	be->dev = *dev;
	be->sock = sock;
	be->offered = dev->features | BE_TRANSPORT_FEATURES;
	be->epfd = epoll_create1(EPOLL_CLOEXEC);
	be->sock_watch.fd = -1;
	for (unsigned int i = 0; i < BE_WATCHES_EXTRA; i++)
		be->extra[i].fd = -1;
	for (unsigned int i = 0; i < VHOST_BE_QUEUES_MAX; i++) {
		be->q[i].index = i;
		be->q[i].be = be;
		be->q[i].kick_fd = be->q[i].call_fd = be->q[i].err_fd = -1;
		be->q[i].watch = &be->kick_watch[i];
		be->kick_watch[i].fd = -1;
	}
	if (be->epfd < 0 || (sock >= 0 && watch_add(be, &be->sock_watch, sock,
						    on_socket, be) < 0)) {
		bh_err("vhost-user: event loop: %s", strerror(errno));
		if (be->epfd >= 0)
			close(be->epfd);
		free(be);
		return NULL;
	}
	return be;
}

void vhost_be_free(struct vhost_be *be)
{
	if (!be)
		return;
	quiesce(be);
	for (unsigned int i = 0; i < be->dev.nqueues; i++)
		queue_reset(be, &be->q[i]);
	mem_clear(be);
	for (unsigned int i = 0; i < BE_WATCHES_EXTRA; i++)
		watch_del(be, &be->extra[i]);
	watch_del(be, &be->sock_watch);
	if (be->sock >= 0)
		close(be->sock);
	close(be->epfd);
	free(be);
}

int vhost_be_watch(struct vhost_be *be, int fd, void (*fn)(void *arg),
		   void *arg)
{
	for (unsigned int i = 0; i < BE_WATCHES_EXTRA; i++)
		if (be->extra[i].fd < 0)
			return watch_add(be, &be->extra[i], fd, fn, arg);
	errno = ENOSPC;
	return -1;
}

int vhost_be_watch_enable(struct vhost_be *be, int fd, bool on)
{
	for (unsigned int i = 0; i < BE_WATCHES_EXTRA; i++) {
		struct be_watch *w = &be->extra[i];
		struct epoll_event ev = { .events = on ? EPOLLIN : 0,
					  .data.ptr = w };

		/* The set keeps its members: no pointer in flight goes stale. */
		if (w->fd == fd && fd >= 0)
			return epoll_ctl(be->epfd, EPOLL_CTL_MOD, fd, &ev);
	}
	errno = ENOENT;
	return -1;
}

int vhost_be_poll(struct vhost_be *be, int timeout_ms)
{
	struct epoll_event ev[8];
	unsigned int gen = be->watch_gen;
	int n = epoll_wait(be->epfd, ev, 8, timeout_ms);

	if (n < 0 && errno == EINTR)
		return 0;
	if (n < 0) {
		bh_err("vhost-user: epoll_wait: %s", strerror(errno));
		return -1;
	}
	for (int i = 0; i < n && !be->stop && !be->closed; i++) {
		struct be_watch *w = ev[i].data.ptr;

		/* A handler changed the set: the rest may be stale. */
		if (be->watch_gen != gen)
			break;
		if (w->fd >= 0)
			w->fn(w->arg);
	}
	return n;
}

int vhost_be_run(struct vhost_be *be)
{
	while (!be->stop && !be->closed)
		if (vhost_be_poll(be, -1) < 0)
			return -1;
	return be->closed ? be->status : 0;
}

void vhost_be_stop(struct vhost_be *be)
{
	be->stop = true;
}

int vhost_be_epoll_fd(const struct vhost_be *be)
{
	return be->epfd;
}

uint64_t vhost_be_features(const struct vhost_be *be)
{
	return be->acked;
}

struct vhost_be_queue *vhost_be_queue(struct vhost_be *be, unsigned int i)
{
	return i < be->dev.nqueues ? &be->q[i] : NULL;
}

unsigned int vhost_be_nqueues(const struct vhost_be *be)
{
	return be->dev.nqueues;
}

bool vhost_be_has_memory(const struct vhost_be *be)
{
	return be->nregions > 0;
}
