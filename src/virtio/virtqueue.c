// SPDX-License-Identifier: GPL-2.0-only
/*
 * The device side of a split virtqueue (virtio 1.x, "Split Virtqueues").
 *
 * Guest memory is shared with a running guest, so it is only touched
 * through the accessors below: 16- and 32-bit fields with single atomic
 * accesses, a descriptor with one copy of its 16 bytes into a local
 * struct. Each guest value is loaded once and only the copy is checked
 * and used; no call reads a guest byte twice (unless the driver laid two
 * structures over the same bytes: then each is read once, on its own).
 */
#include "virtio/virtqueue.h"

#include "util/bytes.h"

#include <endian.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define VRING_DESC_F_NEXT 1
#define VRING_DESC_F_WRITE 2
#define VRING_DESC_F_INDIRECT 4
#define VRING_AVAIL_F_NO_INTERRUPT 1
#define VRING_USED_F_NO_NOTIFY 1
#define VIRTIO_F_RING_PACKED 34

#define DESC_SIZE 16u
#define USED_ELEM_SIZE 8u
/* A chain may hold at most 2^32 bytes in total (the spec's limit). */
#define CHAIN_BYTES_MAX (1ull << 32)

/*
 * Longest walk: size direct descriptors, then an indirect table of
 * VQ_SIZE_MAX entries, each at most UINT32_MAX bytes: the 64-bit sums
 * cannot wrap before CHAIN_BYTES_MAX stops them.
 */
_Static_assert((uint64_t)2 * VQ_SIZE_MAX * UINT32_MAX < UINT64_MAX / 2,
	       "chain length sums fit 64 bits");

struct vq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

/* Guest memory accessors: the only code that touches the rings. */

/*
 * The unit tests name a function here that sees every guest read just
 * after it happened, and changes the bytes as a racing driver could: how
 * "read once" is tested (tests/unit/test_virtqueue.c). Nothing otherwise.
 */
#ifdef VQ_TEST_READ_HOOK
void VQ_TEST_READ_HOOK(const volatile void *p, size_t n);
#else
#define VQ_TEST_READ_HOOK(p, n) ((void)0)
#endif

static uint16_t guest_load16(const volatile uint8_t *p)
{
	uint16_t v =
		__atomic_load_n((const volatile uint16_t *)p, __ATOMIC_RELAXED);

	VQ_TEST_READ_HOOK(p, 2);
	return le16toh(v);
}

static void guest_store16(volatile uint8_t *p, uint16_t v)
{
	__atomic_store_n((volatile uint16_t *)p, htole16(v), __ATOMIC_RELAXED);
}

static void guest_store32(volatile uint8_t *p, uint32_t v)
{
	__atomic_store_n((volatile uint32_t *)p, htole32(v), __ATOMIC_RELAXED);
}

/*
 * One read of the 16 bytes, byte by byte: an indirect table need not be
 * aligned, and a torn descriptor is harmless because only this copy is
 * ever checked and used.
 */
static void guest_load_desc(const volatile uint8_t *p, struct vq_desc *d)
{
	uint8_t raw[DESC_SIZE];

	for (unsigned int i = 0; i < DESC_SIZE; i++)
		raw[i] = __atomic_load_n(&p[i], __ATOMIC_RELAXED);
	VQ_TEST_READ_HOOK(p, DESC_SIZE);
	d->addr = get_le64(raw);
	d->len = get_le32(raw + 8);
	d->flags = get_le16(raw + 12);
	d->next = get_le16(raw + 14);
}

/* Ring layout. */

static size_t desc_bytes(unsigned int size)
{
	return (size_t)DESC_SIZE * size;
}

static size_t avail_bytes(unsigned int size, bool event_idx)
{
	return 4 + (size_t)2 * size + (event_idx ? 2 : 0);
}

static size_t used_bytes(unsigned int size, bool event_idx)
{
	return 4 + (size_t)USED_ELEM_SIZE * size + (event_idx ? 2 : 0);
}

static volatile uint8_t *avail_flags(const struct virtqueue *vq)
{
	return vq->avail;
}

static volatile uint8_t *avail_idx(const struct virtqueue *vq)
{
	return vq->avail + 2;
}

static volatile uint8_t *avail_entry(const struct virtqueue *vq, uint16_t i)
{
	return vq->avail + 4 + 2 * (size_t)(i & (vq->size - 1));
}

static volatile uint8_t *used_event(const struct virtqueue *vq)
{
	return vq->avail + 4 + 2 * (size_t)vq->size;
}

static volatile uint8_t *used_flags(const struct virtqueue *vq)
{
	return vq->used;
}

static volatile uint8_t *used_idx(const struct virtqueue *vq)
{
	return vq->used + 2;
}

static volatile uint8_t *used_elem(const struct virtqueue *vq, uint16_t i)
{
	return vq->used + 4 + USED_ELEM_SIZE * (size_t)(i & (vq->size - 1));
}

static volatile uint8_t *avail_event(const struct virtqueue *vq)
{
	return vq->used + 4 + USED_ELEM_SIZE * (size_t)vq->size;
}

/* Guest memory lookup. */

static unsigned int mem_nregions(const struct vq_mem *mem)
{
	return mem->nregions < VQ_MEM_REGIONS_MAX ? mem->nregions :
						    VQ_MEM_REGIONS_MAX;
}

/* The region holding the byte at gpa, or NULL. */
static const struct vq_region *mem_region(const struct vq_mem *mem,
					  uint64_t gpa)
{
	for (unsigned int i = 0; i < mem_nregions(mem); i++) {
		const struct vq_region *r = &mem->region[i];

		if (r->host && gpa >= r->gpa && gpa - r->gpa < r->size)
			return r;
	}
	return NULL;
}

void *vq_mem_ptr(const struct vq_mem *mem, uint64_t gpa, uint64_t len)
{
	const struct vq_region *r;
	uint64_t off;

	if (!mem || !len)
		return NULL;
	r = mem_region(mem, gpa);
	if (!r)
		return NULL;
	off = gpa - r->gpa;
	if (len > r->size - off)
		return NULL;
	return r->host + off;
}

/* Queue state. */

__attribute__((format(printf, 2, 3))) static int vq_break(struct virtqueue *vq,
							  const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(vq->error, sizeof(vq->error), fmt, ap);
	va_end(ap);
	vq->broken = true;
	return -1;
}

static int init_ring(struct virtqueue *vq, const char *what, uint64_t gpa,
		     size_t len, unsigned int align, volatile uint8_t **out)
{
	uint8_t *p;

	if (gpa % align)
		return vq_break(vq,
				"the %s at 0x%" PRIx64
				" is not %u-byte aligned",
				what, gpa, align);
	p = vq_mem_ptr(vq->mem, gpa, len);
	if (!p)
		return vq_break(vq,
				"the %s [0x%" PRIx64 ", +0x%zx) is not "
				"inside one RAM region",
				what, gpa, len);
	if ((uintptr_t)p % align)
		return vq_break(vq,
				"the %s at 0x%" PRIx64 " is mapped at a host "
				"address that is not %u-byte aligned",
				what, gpa, align);
	*out = p;
	return 0;
}

int vq_init(struct virtqueue *vq, const struct vq_mem *mem, unsigned int size,
	    uint64_t desc_gpa, uint64_t avail_gpa, uint64_t used_gpa,
	    uint64_t features, uint16_t avail_base)
{
	volatile uint8_t *desc, *avail, *used;

	memset(vq, 0, sizeof(*vq));
	vq->mem = mem;
	/* Broken until every check has passed: no ring is usable yet. */
	vq->broken = true;
	if (!mem)
		return vq_break(vq, "no guest memory table");
	if (mem->nregions > VQ_MEM_REGIONS_MAX)
		return vq_break(vq,
				"the memory table has %u regions, more "
				"than %u",
				mem->nregions, VQ_MEM_REGIONS_MAX);
	if (!size || size > VQ_SIZE_MAX || (size & (size - 1)))
		return vq_break(vq,
				"queue size %u is not a power of two in "
				"1..%u",
				size, VQ_SIZE_MAX);
	if (features & (1ull << VIRTIO_F_RING_PACKED))
		return vq_break(vq, "packed virtqueues are not implemented");
	vq->size = (uint16_t)size;
	vq->event_idx = features & (1ull << VIRTIO_F_EVENT_IDX);
	vq->indirect = features & (1ull << VIRTIO_F_INDIRECT_DESC);
	if (init_ring(vq, "descriptor table", desc_gpa, desc_bytes(size), 16,
		      &desc) ||
	    init_ring(vq, "avail ring", avail_gpa,
		      avail_bytes(size, vq->event_idx), 2, &avail) ||
	    init_ring(vq, "used ring", used_gpa,
		      used_bytes(size, vq->event_idx), 4, &used))
		return -1;
	vq->desc = desc;
	vq->avail = avail;
	vq->used = used;
	vq->last_avail = avail_base;
	vq->used_idx = avail_base;
	vq->signalled_used = avail_base;
	vq->signalled_valid = false;
	vq->broken = false;
	vq->error[0] = '\0';
	return 0;
}

/*
 * Chains made available since last_avail, from one read of avail->idx;
 * more than the queue holds breaks the queue (returns -1).
 */
static int avail_count(struct virtqueue *vq)
{
	uint16_t idx = guest_load16(avail_idx(vq));
	uint16_t n = (uint16_t)(idx - vq->last_avail);

	if (n > vq->size)
		return vq_break(vq,
				"the avail index moved from %u to %u, "
				"more than the queue size %u",
				vq->last_avail, idx, vq->size);
	return n;
}

unsigned int vq_pending(struct virtqueue *vq)
{
	int n;

	if (vq->broken)
		return 0;
	n = avail_count(vq);
	return n < 0 ? 0 : (unsigned int)n;
}

/* Chain walking. */

struct walk {
	struct virtqueue *vq;
	struct vq_chain *chain;
	unsigned int cap;
	bool writable; /* a device-writable buffer was seen */
	uint8_t seen[VQ_SIZE_MAX / 8]; /* descriptors of the table visited */
};

static int add_iov(struct walk *w, bool write, void *base, uint64_t len)
{
	struct vq_chain *c = w->chain;
	unsigned int n = c->nout + c->nin;

	if (n == w->cap)
		return vq_break(w->vq,
				"the chain at head %u needs more than "
				"%u iovecs",
				c->head, w->cap);
	c->iov[n].iov_base = base;
	c->iov[n].iov_len = len;
	if (write)
		c->nin++;
	else
		c->nout++;
	return 0;
}

/*
 * Maps [gpa, gpa + len) to iovecs, one per region it crosses; the
 * regions must follow each other without a gap.
 */
static int add_buffer(struct walk *w, const struct vq_desc *d)
{
	struct vq_chain *c = w->chain;
	bool write = d->flags & VRING_DESC_F_WRITE;
	uint64_t gpa = d->addr, left = d->len;

	if (!write && w->writable)
		return vq_break(w->vq,
				"the chain at head %u has a readable "
				"descriptor after a writable one",
				c->head);
	w->writable |= write;
	/* A zero-length buffer carries nothing: no iovec, no address check. */
	while (left) {
		const struct vq_region *r = mem_region(w->vq->mem, gpa);
		uint64_t off, room, n;

		if (!r)
			return vq_break(w->vq,
					"the buffer [0x%" PRIx64
					", +0x%x) in the chain at head "
					"%u is not in guest RAM",
					d->addr, d->len, c->head);
		off = gpa - r->gpa;
		room = r->size - off;
		n = left < room ? left : room;
		if (add_iov(w, write, r->host + off, n))
			return -1;
		left -= n;
		/* A region ending at 2^64 has no successor. */
		if (left && room > UINT64_MAX - gpa)
			return vq_break(w->vq,
					"the buffer [0x%" PRIx64
					", +0x%x) in the chain at head "
					"%u wraps past the end of the "
					"address space",
					d->addr, d->len, c->head);
		gpa += n;
	}
	if (write)
		c->in_len += d->len;
	else
		c->out_len += d->len;
	if (c->out_len + c->in_len > CHAIN_BYTES_MAX)
		return vq_break(w->vq,
				"the chain at head %u is longer than "
				"2^32 bytes",
				c->head);
	return 0;
}

/*
 * Checks an indirect descriptor d and returns its table, or NULL with the
 * queue broken. The table must lie inside one region (like QEMU's).
 */
static const volatile uint8_t *indirect_table(struct walk *w,
					      const struct vq_desc *d)
{
	struct virtqueue *vq = w->vq;
	uint16_t head = w->chain->head;
	const volatile uint8_t *table;

	if (!vq->indirect) {
		vq_break(vq,
			 "the chain at head %u has an indirect descriptor, "
			 "but VIRTIO_F_INDIRECT_DESC was not negotiated",
			 head);
		return NULL;
	}
	if (d->flags & VRING_DESC_F_NEXT) {
		vq_break(vq,
			 "the chain at head %u has a descriptor with both "
			 "INDIRECT and NEXT",
			 head);
		return NULL;
	}
	if (!d->len || d->len % DESC_SIZE || d->len / DESC_SIZE > VQ_SIZE_MAX) {
		vq_break(vq,
			 "the chain at head %u has an indirect table of %u "
			 "bytes, not a multiple of 16 in 16..%u",
			 head, d->len, VQ_SIZE_MAX * DESC_SIZE);
		return NULL;
	}
	table = vq_mem_ptr(vq->mem, d->addr, d->len);
	if (!table)
		vq_break(vq,
			 "the indirect table [0x%" PRIx64 ", +0x%x) of the "
			 "chain at head %u is not inside one RAM region",
			 d->addr, d->len, head);
	return table;
}

/* Marks descriptor i of the current table visited; false if it was. */
static bool first_visit(struct walk *w, uint16_t i)
{
	uint8_t bit = (uint8_t)(1u << (i % 8));

	if (w->seen[i / 8] & bit)
		return false;
	w->seen[i / 8] |= bit;
	return true;
}

/*
 * Walks the chain at head through the descriptor table; its last
 * descriptor may name an indirect table, walked in turn from entry 0. A
 * chain that comes back to a descriptor of its table loops: it breaks
 * the queue before that descriptor is read again, so no chain is longer
 * than its table and no descriptor is read twice.
 */
static int walk_chain(struct walk *w, uint16_t head)
{
	struct virtqueue *vq = w->vq;
	const volatile uint8_t *table = vq->desc;
	unsigned int entries = vq->size;
	bool indirect = false;
	uint16_t i = head;
	struct vq_desc d;

	memset(w->seen, 0, (entries + 7) / 8);
	for (;;) {
		if (!first_visit(w, i))
			return vq_break(vq,
					"the chain at head %u loops: it comes "
					"back to descriptor %u of its %s",
					head, i,
					indirect ? "indirect table" :
						   "descriptor table");
		guest_load_desc(table + (size_t)DESC_SIZE * i, &d);
		if (d.flags & VRING_DESC_F_INDIRECT) {
			if (indirect)
				return vq_break(vq,
						"the chain at head %u has "
						"an indirect descriptor "
						"inside an indirect table",
						head);
			table = indirect_table(w, &d);
			if (!table)
				return -1;
			/* The WRITE flag of d itself means nothing. */
			entries = d.len / DESC_SIZE;
			indirect = true;
			memset(w->seen, 0, (entries + 7) / 8);
			i = 0;
			continue;
		}
		if (add_buffer(w, &d))
			return -1;
		if (!(d.flags & VRING_DESC_F_NEXT))
			return 0;
		if (d.next >= entries)
			return vq_break(vq,
					"the chain at head %u links to "
					"descriptor %u, outside the %s of "
					"%u entries",
					head, d.next,
					indirect ? "indirect table" :
						   "descriptor table",
					entries);
		i = d.next;
	}
}

int vq_pop(struct virtqueue *vq, struct vq_chain *chain)
{
	struct walk w; /* not zeroed whole: walk_chain clears what it uses */
	uint16_t head;
	int n;

	chain->nout = chain->nin = 0;
	chain->out_len = chain->in_len = 0;
	if (vq->broken)
		return -1;
	n = avail_count(vq);
	if (n <= 0)
		return n;
	/* Acquire: the entry and descriptors are read after the index. */
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	head = guest_load16(avail_entry(vq, vq->last_avail));
	chain->head = head;
	if (head >= vq->size)
		return vq_break(vq,
				"avail ring entry %u names head %u, "
				"outside the queue of %u",
				vq->last_avail, head, vq->size);
	w.vq = vq;
	w.chain = chain;
	w.writable = false;
	w.cap = chain->iov ? chain->iov_cap : 0;
	if (w.cap > VQ_CHAIN_IOV_MAX)
		w.cap = VQ_CHAIN_IOV_MAX;
	if (walk_chain(&w, head)) {
		chain->nout = chain->nin = 0;
		chain->out_len = chain->in_len = 0;
		return -1;
	}
	vq->last_avail++;
	return 1;
}

void vq_unpop(struct virtqueue *vq, unsigned int n)
{
	vq->last_avail = (uint16_t)(vq->last_avail - n);
}

/* Used ring and notifications. */

void vq_push_many(struct virtqueue *vq, const struct vq_used *u, unsigned int n)
{
	uint16_t old = vq->used_idx;

	if (!vq->used || !n)
		return;
	for (unsigned int i = 0; i < n; i++) {
		volatile uint8_t *elem = used_elem(vq, (uint16_t)(old + i));

		guest_store32(elem, u[i].head);
		guest_store32(elem + 4, u[i].len);
	}
	vq->used_idx = (uint16_t)(old + n);
	/*
	 * 65536 pushes without a notification: signalled_used no longer
	 * says anything, so the next vq_should_notify() must notify.
	 */
	if ((uint16_t)(vq->signalled_used - old - 1) < n)
		vq->signalled_valid = false;
	/* Release: the elements are visible before the index that covers them. */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	guest_store16(used_idx(vq), vq->used_idx);
}

void vq_push(struct virtqueue *vq, uint16_t head, uint32_t len)
{
	struct vq_used u = { head, len };

	vq_push_many(vq, &u, 1);
}

bool vq_should_notify(struct virtqueue *vq)
{
	uint16_t old, event;
	bool valid;

	if (!vq->used)
		return false;
	/*
	 * Full fence: used->idx is stored before the driver's flags or
	 * used_event are read (it re-checks used->idx after writing them).
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!vq->event_idx)
		return !(guest_load16(avail_flags(vq)) &
			 VRING_AVAIL_F_NO_INTERRUPT);
	old = vq->signalled_used;
	valid = vq->signalled_valid;
	vq->signalled_used = vq->used_idx;
	vq->signalled_valid = true;
	if (!valid)
		return true;
	event = guest_load16(used_event(vq));
	/* Notify if used_event is among the entries [old, new) just added. */
	return (uint16_t)(vq->used_idx - event - 1) <
	       (uint16_t)(vq->used_idx - old);
}

void vq_disable_notify(struct virtqueue *vq)
{
	if (!vq->used)
		return;
	/*
	 * With the event index the driver kicks only when it moves avail
	 * idx past avail_event; while work is pending it is already past
	 * last_avail, so no kick comes until vq_enable_notify() moves it.
	 */
	if (vq->event_idx)
		guest_store16(avail_event(vq), vq->last_avail);
	else
		guest_store16(used_flags(vq), VRING_USED_F_NO_NOTIFY);
}

bool vq_enable_notify(struct virtqueue *vq)
{
	uint16_t idx;

	if (!vq->used || vq->broken)
		return false;
	if (vq->event_idx)
		guest_store16(avail_event(vq), vq->last_avail);
	else
		guest_store16(used_flags(vq), 0);
	/*
	 * Full fence: our request is visible before avail->idx is read, so
	 * a chain the driver adds without kicking is seen here.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	idx = guest_load16(avail_idx(vq));
	return idx != vq->last_avail;
}
