// SPDX-License-Identifier: GPL-2.0-only
/*
 * Transmit: each chain on queue 1 is a header and a frame, device-
 * readable only. The header is copied out of guest memory, checked
 * (net_tx_check) and only that copy goes to the tap, ahead of the frame's
 * bytes taken straight from the guest's buffers by one writev (the kernel
 * reads them once). Every chain is answered, sent or dropped.
 *
 * Receive: a frame is read from the tap into a buffer of our own, its
 * header checked against what the guest negotiated, then copied into as
 * many receive chains as it needs (one without MRG_RXBUF) and published
 * together. Without enough buffers the chains are given back and the
 * frame waits, the tap unwatched, until the driver kicks queue 0; a frame
 * that even a full ring could not hold is dropped. Nothing in flight
 * points into guest memory between two events, so quiescing is free.
 */
#include "devmodel/net/net_device.h"

#include <errno.h>
#include <linux/virtio_net.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "devmodel/net/net_tap.h"
#include "util/bytes.h"
#include "util/log.h"

/* A transmit chain's iovecs; with the header's own, IOV_MAX for writev. */
#define NET_TX_IOV 1023u
/* Every receive chain of one frame shares these iovecs. */
#define NET_RX_IOV 1024u
#define NET_RX_CHAINS_MAX 256u
/* Room to see that a frame from the tap was longer than any we take. */
#define NET_RX_BUF (NET_HDR_LEN + NET_FRAME_MAX + 1u)

struct net_dev {
	struct net_params p;
	struct net_config_space config;
	int tap;
	struct vhost_be *be;
	uint64_t applied; /* the features the tap's offloads follow */
	bool tap_paused;
	bool tap_err_logged;
	uint8_t tx_hdr[NET_HDR_LEN];
	struct iovec tx_iov[NET_TX_IOV];
	struct iovec tap_iov[NET_TX_IOV + 1];
	uint8_t *rx_buf; /* NET_RX_BUF */
	size_t rx_len; /* a frame (with its header) waiting there; 0: none */
	struct iovec rx_iov[NET_RX_IOV];
	struct vq_chain rx_chain[NET_RX_CHAINS_MAX];
	struct vq_used used[NET_RX_CHAINS_MAX];
	struct net_stats st;
};

static size_t copy_from_iov(const struct iovec *iov, unsigned int n,
			    uint8_t *buf, size_t len)
{
	size_t done = 0;

	for (unsigned int i = 0; i < n && done < len; i++) {
		size_t k = iov[i].iov_len < len - done ? iov[i].iov_len :
							 len - done;

		memcpy(buf + done, iov[i].iov_base, k);
		done += k;
	}
	return done;
}

static void copy_to_iov(const struct iovec *iov, unsigned int n,
			const uint8_t *buf, size_t len)
{
	size_t done = 0;

	for (unsigned int i = 0; i < n && done < len; i++) {
		size_t k = iov[i].iov_len < len - done ? iov[i].iov_len :
							 len - done;

		memcpy(iov[i].iov_base, buf + done, k);
		done += k;
	}
}

/* dst gets src less its first skip bytes; returns how many iovecs. */
static unsigned int skip_iov(const struct iovec *src, unsigned int n,
			     size_t skip, struct iovec *dst)
{
	unsigned int k = 0;

	for (unsigned int i = 0; i < n; i++) {
		if (skip >= src[i].iov_len) {
			skip -= src[i].iov_len;
			continue;
		}
		dst[k].iov_base = (uint8_t *)src[i].iov_base + skip;
		dst[k++].iov_len = src[i].iov_len - skip;
		skip = 0;
	}
	return k;
}

/* Counted always; logged at the 1st, 2nd, 4th, 8th, ... of each kind. */
static void dropped(struct net_dev *d, bool tx, enum net_bad why, uint64_t len)
{
	uint64_t *c = tx ? &d->st.tx_dropped[why] : &d->st.rx_dropped[why];

	(*c)++;
	if (!(*c & (*c - 1)))
		bh_warn("%s: dropped a frame of %llu bytes: %s (%llu so far)",
			tx ? "tx" : "rx", (unsigned long long)len,
			net_bad_name(why), (unsigned long long)*c);
}

static uint64_t features(const struct net_dev *d)
{
	return vhost_be_features(d->be);
}

/* The tap hands us only the offloads the guest takes. */
static void sync_offloads(struct net_dev *d)
{
	uint64_t f = features(d);

	if (f == d->applied)
		return;
	if (net_tap_set_offloads(d->tap, net_tap_offloads(f)) < 0)
		bh_err("tap: cannot set offloads 0x%x: %s", net_tap_offloads(f),
		       strerror(errno));
	d->applied = f;
}

static void tap_pause(struct net_dev *d, bool paused)
{
	if (d->tap_paused == paused)
		return;
	if (vhost_be_watch_enable(d->be, d->tap, !paused) < 0)
		bh_err("tap: cannot %s its watch: %s",
		       paused ? "pause" : "resume", strerror(errno));
	d->tap_paused = paused;
}

/* ---- transmit ---- */

static void tx_frame(struct net_dev *d, const struct vq_chain *c)
{
	uint8_t raw[NET_HDR_LEN];
	struct net_hdr h;
	enum net_bad why;
	unsigned int niov;
	uint64_t len;
	ssize_t n;

	if (c->nin) {
		dropped(d, true, NET_BAD_CHAIN, c->out_len);
		return;
	}
	if (c->out_len < NET_HDR_LEN + NET_ETH_HLEN) {
		dropped(d, true, NET_BAD_RUNT, c->out_len);
		return;
	}
	/* Read once: only this copy is checked and handed to the tap. */
	copy_from_iov(c->iov, c->nout, raw, NET_HDR_LEN);
	net_hdr_load(raw, &h);
	len = c->out_len - NET_HDR_LEN;
	why = net_tx_check(&h, len, features(d), d->p.mtu);
	if (why) {
		dropped(d, true, why, len);
		return;
	}
	h.num_buffers = 0;
	net_hdr_store(&h, d->tx_hdr);
	d->tap_iov[0].iov_base = d->tx_hdr;
	d->tap_iov[0].iov_len = NET_HDR_LEN;
	niov = 1 + skip_iov(c->iov, c->nout, NET_HDR_LEN, d->tap_iov + 1);
	n = writev(d->tap, d->tap_iov, (int)niov);
	if (n != (ssize_t)(len + NET_HDR_LEN)) {
		if (!d->tap_err_logged && n < 0)
			bh_warn("tap: a write failed: %s", strerror(errno));
		d->tap_err_logged = true;
		dropped(d, true, NET_BAD_TAP, len);
		return;
	}
	d->st.tx_frames++;
	d->st.tx_bytes += len;
}

/*
 * Takes what the driver queued, a ring's worth at most per event: past
 * that the queue kicks itself (its own eventfd), so receiving gets its
 * turn and no guest holds the loop.
 */
static void tx_drain(struct net_dev *d, struct vhost_be_queue *q)
{
	unsigned int budget = q->num;
	bool pushed = false;

	while (vhost_be_queue_ready(q)) {
		vq_disable_notify(&q->vq);
		for (;;) {
			struct vq_chain c = { .iov = d->tx_iov,
					      .iov_cap = NET_TX_IOV };
			uint64_t one = 1;
			int r;

			if (!budget) {
				if (write(q->kick_fd, &one, sizeof(one)) < 0)
					vq_enable_notify(&q->vq);
				goto out;
			}
			r = vq_pop(&q->vq, &c);
			if (r < 0) {
				vhost_be_queue_broken(q);
				goto out;
			}
			if (!r)
				break;
			tx_frame(d, &c);
			vq_push(&q->vq, c.head, 0);
			pushed = true;
			budget--;
		}
		if (!vq_enable_notify(&q->vq))
			break;
	}
out:
	if (pushed && vhost_be_queue_signal(q))
		d->st.interrupts++;
}

/* ---- receive ---- */

/* The tap's next frame into rx_buf: 1, 0 when it has none, -1 dropped. */
static int rx_read(struct net_dev *d)
{
	ssize_t n = read(d->tap, d->rx_buf, NET_RX_BUF);
	struct net_hdr h;
	enum net_bad why;

	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR && !d->tap_err_logged) {
			bh_warn("tap: a read failed: %s", strerror(errno));
			d->tap_err_logged = true;
		}
		return 0;
	}
	if ((size_t)n == NET_RX_BUF) {
		dropped(d, false, NET_BAD_LONG, (uint64_t)n);
		return -1;
	}
	if ((size_t)n < NET_HDR_LEN) {
		dropped(d, false, NET_BAD_RUNT, (uint64_t)n);
		return -1;
	}
	net_hdr_load(d->rx_buf, &h);
	why = net_rx_check(&h, (uint32_t)(n - NET_HDR_LEN), features(d));
	if (why) {
		dropped(d, false, why, (uint64_t)n - NET_HDR_LEN);
		return -1;
	}
	h.num_buffers = 1;
	net_hdr_store(&h, d->rx_buf);
	d->rx_len = (size_t)n;
	return 1;
}

/* A frame too big for any set of buffers this guest can give. */
static int rx_refuse(struct net_dev *d, struct vhost_be_queue *q,
		     unsigned int taken)
{
	vq_unpop(&q->vq, taken); /* the buffers serve the next frame */
	dropped(d, false, NET_BAD_ROOM, d->rx_len - NET_HDR_LEN);
	d->rx_len = 0;
	return -1;
}

/*
 * The waiting frame into the guest's receive chains: 1 placed, 0 not
 * enough buffers yet (none taken), -1 dropped.
 */
static int rx_place(struct net_dev *d, struct vhost_be_queue *q)
{
	bool mrg = features(d) & (1ull << VIRTIO_NET_F_MRG_RXBUF);
	unsigned int nch = 0, iov_used = 0;
	uint64_t room = 0;
	size_t off = 0;

	while (room < d->rx_len) {
		struct vq_chain *c = &d->rx_chain[nch];
		int r;

		if ((!mrg && nch == 1) || nch == NET_RX_CHAINS_MAX ||
		    iov_used == NET_RX_IOV)
			return rx_refuse(d, q, nch);
		c->iov = d->rx_iov + iov_used;
		c->iov_cap = NET_RX_IOV - iov_used;
		r = vq_pop(&q->vq, c);
		if (r < 0) {
			vhost_be_queue_broken(q);
			d->rx_len = 0;
			return -1;
		}
		if (!r) {
			/* Even the whole ring, full, would not do. */
			if (nch >= q->vq.size)
				return rx_refuse(d, q, nch);
			vq_unpop(&q->vq, nch);
			return 0;
		}
		if (c->nout) {
			snprintf(q->vq.error, sizeof(q->vq.error),
				 "receive chain at head %u has device-readable "
				 "buffers",
				 c->head);
			vhost_be_queue_broken(q);
			d->rx_len = 0;
			return -1;
		}
		iov_used += c->nin;
		room += c->in_len;
		nch++;
	}
	if (mrg)
		put_le16(d->rx_buf + 10, (uint16_t)nch);
	for (unsigned int i = 0; i < nch; i++) {
		const struct vq_chain *c = &d->rx_chain[i];
		size_t k = c->in_len < d->rx_len - off ? c->in_len :
							 d->rx_len - off;

		copy_to_iov(c->iov, c->nin, d->rx_buf + off, k);
		d->used[i] = (struct vq_used){ c->head, (uint32_t)k };
		off += k;
	}
	vq_push_many(&q->vq, d->used, nch);
	d->st.rx_frames++;
	d->st.rx_bytes += d->rx_len - NET_HDR_LEN;
	d->rx_len = 0;
	return 1;
}

static void rx_pump(struct net_dev *d)
{
	struct vhost_be_queue *q = vhost_be_queue(d->be, NET_QUEUE_RX);
	unsigned int budget = NET_RX_BUDGET;
	bool placed = false;

	sync_offloads(d);
	while (budget) {
		int r;

		if (!vhost_be_queue_ready(q)) {
			tap_pause(d, true); /* its kick resumes us */
			break;
		}
		if (!d->rx_len) {
			r = rx_read(d);
			if (!r) {
				tap_pause(d, false);
				break;
			}
			if (r < 0) {
				budget--;
				continue;
			}
		}
		r = rx_place(d, q);
		if (!r) {
			/* A kick when buffers come; take any that came already. */
			if (vq_enable_notify(&q->vq))
				continue;
			tap_pause(d, true);
			break;
		}
		placed |= r > 0;
		budget--;
	}
	if (placed && vhost_be_queue_signal(q))
		d->st.interrupts++;
}

/* ---- the back end's callbacks ---- */

static void on_kick(void *opaque, struct vhost_be_queue *q)
{
	struct net_dev *d = opaque;

	d->st.kicks++;
	sync_offloads(d);
	if (q->index == NET_QUEUE_TX) {
		tx_drain(d, q);
		return;
	}
	/* Buffers came: no kick needed again until they run out. */
	vq_disable_notify(&q->vq);
	rx_pump(d);
}

static void on_tap(void *arg)
{
	rx_pump(arg);
}

static void on_reset(void *opaque)
{
	struct net_dev *d = opaque;

	d->rx_len = 0;
	sync_offloads(d); /* no features: no offloads */
}

static int get_config(void *opaque, uint32_t offset, uint8_t *buf, uint32_t len)
{
	struct net_dev *d = opaque;

	return net_config_read(&d->config, offset, buf, len);
}

/* The MAC is the toolstack's to choose: nothing is writable. */
static int set_config(void *opaque, uint32_t offset, const uint8_t *buf,
		      uint32_t len)
{
	(void)opaque;
	(void)offset;
	(void)buf;
	(void)len;
	return -1;
}

struct net_dev *net_dev_new(const struct net_params *p, int tap)
{
	struct net_dev *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->rx_buf = malloc(NET_RX_BUF);
	if (!d->rx_buf) {
		free(d);
		return NULL;
	}
	d->p = *p;
	d->tap = tap;
	net_config_init(p, &d->config);
	return d;
}

void net_dev_free(struct net_dev *d)
{
	if (!d)
		return;
	free(d->rx_buf);
	free(d);
}

void net_dev_vhost(struct net_dev *d, struct vhost_be_device *out)
{
	memset(out, 0, sizeof(*out));
	out->nqueues = NET_NQUEUES;
	out->features = net_features();
	out->opaque = d;
	out->get_config = get_config;
	out->set_config = set_config;
	out->queue_kick = on_kick;
	out->reset = on_reset;
}

int net_dev_attach(struct net_dev *d, struct vhost_be *be)
{
	d->be = be;
	if (vhost_be_watch(be, d->tap, on_tap, d) < 0) {
		bh_err("cannot watch the tap: %s", strerror(errno));
		return -1;
	}
	return 0;
}

const struct net_stats *net_dev_stats(const struct net_dev *d)
{
	return &d->st;
}

static int drops_text(const uint64_t *c, const char *dir, char *buf, size_t len)
{
	int n = 0;

	for (unsigned int i = 1; i < NET_BAD_COUNT; i++) {
		if (c[i] && (size_t)n < len)
			n += snprintf(buf + n, len - (size_t)n,
				      " %s_drop_%s=%llu", dir, net_bad_key(i),
				      (unsigned long long)c[i]);
	}
	return n;
}

void net_dev_log_stats(const struct net_dev *d)
{
	const struct net_stats *s = &d->st;
	char tx[512] = "", rx[512] = "";
	uint64_t txd = 0, rxd = 0;

	for (unsigned int i = 1; i < NET_BAD_COUNT; i++) {
		txd += s->tx_dropped[i];
		rxd += s->rx_dropped[i];
	}
	drops_text(s->tx_dropped, "tx", tx, sizeof(tx));
	drops_text(s->rx_dropped, "rx", rx, sizeof(rx));
	bh_info("stats: tx_frames=%llu tx_bytes=%llu tx_dropped=%llu "
		"rx_frames=%llu rx_bytes=%llu rx_dropped=%llu kicks=%llu "
		"interrupts=%llu%s%s",
		(unsigned long long)s->tx_frames,
		(unsigned long long)s->tx_bytes, (unsigned long long)txd,
		(unsigned long long)s->rx_frames,
		(unsigned long long)s->rx_bytes, (unsigned long long)rxd,
		(unsigned long long)s->kicks, (unsigned long long)s->interrupts,
		tx, rx);
}
