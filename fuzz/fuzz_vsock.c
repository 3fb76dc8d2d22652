// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzzes vsock's host end (src/hv/vsock) from the guest's side: each
 * input is a sequence of vsock messages a hostile guest sends through the
 * real HMX core to the host (any op, type, flags, credit fields, ports
 * and payload, including headers cut short), interleaved with host
 * programs acting on the Firecracker sockets: connecting to PATH with a
 * line of the input's choice, writing data into accepted connections and
 * closing them. The event loop runs between steps, so the host end
 * answers, forwards and resets as it would in the hypervisor.
 *
 * It aborts when a message the host end sends the guest is not a vsock
 * message with a whole header of a known type and op, when an RW carries
 * no data or more than HMX_VSOCK_MAX_DATA, when it sends more stream data
 * than the guest's advertised credit allows, or when a run leaves a
 * descriptor open (connections are torn down by detaching the VM).
 */
#include "fuzz_input.h"
#include "hmx/arena.h"
#include "hmx/core.h"
#include "hmx/endpoint.h"
#include "hv/event_loop.h"
#include "hv/host_hmx.h"
#include "hv/vsock/vsock_host.h"
#include "util/log.h"

#include <bulkhead/hmx.h>
#include <bulkhead/hmx_vsock.h>

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define GUEST 3
#define RING_LEN (64u << 10)
#define NPORTS 4 /* guest ports the input picks from */
#define HOST_PORT 5000 /* PATH_5000 listens, so requests reach the host end */
#define MAX_STEPS 48
#define MAX_CONNS 8

/*
 * Stream credit per (guest port, host port) connection, as the guest
 * gave it. The host end may send up to fwd_cnt + buf_alloc bytes in all;
 * once the guest lowers that, nothing more until it rises again. A guest
 * that claims to have consumed bytes it never got (fwd_cnt beyond what it
 * received) only hurts itself: not checked then.
 */
struct credit {
	uint32_t gport, hport;
	uint64_t received; /* RW bytes the guest got */
	uint64_t limit; /* max(received, fwd_cnt + buf_alloc) */
	bool lied, used;
};

static struct {
	struct event_loop *loop;
	struct host_hmx hh;
	struct hv_vsock *vs;
	struct hmx_arena *garena;
	char dir[32], path[48], listen_path[64];
	int lfd; /* the host program on PATH_5000 */
	struct hmx_host_ring *rings[NPORTS];
	uint32_t ports[NPORTS];
	struct credit credit[64];
	uint32_t seen_hports[8]; /* host ports the host end sent from */
	unsigned int nseen;
	int conns[MAX_CONNS]; /* accepted or connected host programs */
	int nconns;
} fx;

static void guest_signal(void *opaque, uint32_t bits)
{
	(void)opaque;
	(void)bits; /* the harness polls the guest's rings */
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	check(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static void attach(void)
{
	char err[256];

	check(hv_vsock_attach(fx.vs, GUEST, fx.path, err, sizeof(err)) == 0);
}

static void setup_once(void)
{
	struct hmx_fw_rule all = { HMX_DOMID_ANY, HMX_DOMID_ANY, HMX_PORT_ANY,
				   HMX_PORT_ANY, HMX_FW_ACCEPT };
	struct hmx_domain_config cfg = { .domid = GUEST };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	bh_log_init("fuzz_vsock", BH_LOG_ERR); /* warnings would flood */
	fx.loop = event_loop_create();
	check(fx.loop);
	check(host_hmx_init(&fx.hh, fx.loop) == 0);
	check(hv_vsock_create(&fx.hh, fx.loop, &fx.vs) == 0);
	check(hmx_arena_create(8u << 20, &fx.garena) == 0);
	cfg.translate = hmx_arena_translate;
	cfg.translate_opaque = fx.garena;
	cfg.signal = guest_signal;
	check(hmx_domain_add(fx.hh.core, &cfg) == 0);
	check(hmx_firewall_set(fx.hh.core, &all, 1) == 0);
	snprintf(fx.dir, sizeof(fx.dir), "/tmp/fuzz-vsock-XXXXXX");
	check(mkdtemp(fx.dir));
	snprintf(fx.path, sizeof(fx.path), "%s/vm", fx.dir);
	snprintf(fx.listen_path, sizeof(fx.listen_path), "%s_%u", fx.path,
		 HOST_PORT);
	fx.lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", fx.listen_path);
	check(fx.lfd >= 0 &&
	      !bind(fx.lfd, (struct sockaddr *)&sa, sizeof(sa)) &&
	      !listen(fx.lfd, 64));
}

static void spin(int rounds)
{
	for (int i = 0; i < rounds; i++)
		event_loop_run_once(fx.loop, 0);
}

static struct credit *credit_of(uint32_t gport, uint32_t hport, bool create)
{
	struct credit *free_slot = NULL;

	for (unsigned int i = 0; i < sizeof(fx.credit) / sizeof(fx.credit[0]);
	     i++) {
		struct credit *c = &fx.credit[i];

		if (c->used && c->gport == gport && c->hport == hport)
			return c;
		if (!c->used && !free_slot)
			free_slot = c;
	}
	if (!create || !free_slot)
		return NULL;
	*free_slot =
		(struct credit){ .gport = gport, .hport = hport, .used = true };
	return free_slot;
}

/* Everything the host end sent the guest: well-formed and within credit. */
static void drain_guest(void)
{
	static uint8_t buf[RING_LEN];

	for (int i = 0; i < NPORTS; i++) {
		struct hmx_msg_header mh;
		int n;

		while ((n = hmx_host_ring_recv(fx.rings[i], &mh, buf,
					       sizeof(buf))) >= 0) {
			struct hmx_vsock_hdr h;
			uint32_t op = HMX_VSOCK_MSG_OP(mh.message_type);
			uint32_t len;
			struct credit *c;

			check((mh.message_type & HMX_VSOCK_TAG_MASK) ==
			      HMX_VSOCK_TAG);
			check(mh.source.domid == HMX_DOMID_HOST);
			check(n >= (int)sizeof(h));
			memcpy(&h, buf, sizeof(h));
			check(h.type == HMX_VSOCK_TYPE_STREAM ||
			      h.type == HMX_VSOCK_TYPE_DGRAM);
			check(op >= HMX_VSOCK_OP_REQUEST &&
			      op <= HMX_VSOCK_OP_DGRAM);
			len = (uint32_t)n - sizeof(h);
			fx.seen_hports[fx.nseen++ % 8] = mh.source.aport;
			if (op != HMX_VSOCK_OP_RW)
				continue;
			check(len > 0 && len <= HMX_VSOCK_MAX_DATA);
			c = credit_of(fx.ports[i], mh.source.aport, false);
			/* Data only on a connection the guest gave credit. */
			check(c);
			c->received += len;
			check(c->lied || c->received <= c->limit);
		}
		check(n == -EAGAIN);
	}
	hmx_notify(fx.hh.core, GUEST, 0);
}

/* A host program's turn: connect with a line, write, close, accept. */
static void host_step(struct rd *r)
{
	uint8_t what = u8(r);
	char line[48];

	switch (what % 4) {
	case 0: { /* connect to PATH, write a line of the input's choice */
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		size_t len = u8(r) % sizeof(line);
		int fd;

		if (fx.nconns == MAX_CONNS)
			return;
		for (size_t i = 0; i < len; i++)
			line[i] = (char)u8(r);
		if (what & 4) /* mostly well-formed: a port we know */
			len = (size_t)snprintf(line, sizeof(line),
					       "CONNECT %u\n",
					       fx.ports[u8(r) % NPORTS]);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", fx.path);
		check(fd >= 0);
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
			close(fd);
			return;
		}
		if (write(fd, line, len) < 0) {
			close(fd);
			return;
		}
		fx.conns[fx.nconns++] = fd;
		break;
	}
	case 1: { /* accept what guests opened to host port 5000 */
		int fd = accept4(fx.lfd, NULL, NULL, SOCK_CLOEXEC);

		if (fd < 0)
			return;
		if (fx.nconns == MAX_CONNS) {
			close(fd);
			return;
		}
		fx.conns[fx.nconns++] = fd;
		break;
	}
	case 2: { /* a program writes: the host end forwards within credit */
		static uint8_t junk[3 * HMX_VSOCK_MAX_DATA];
		size_t len = (size_t)u8(r) * 512;

		if (!fx.nconns)
			return;
		if (send(fx.conns[u8(r) % fx.nconns], junk, len,
			 MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
			return;
		break;
	}
	default: /* a program closes (or half-closes) */
		if (!fx.nconns)
			return;
		{
			int i = u8(r) % fx.nconns;

			if (what & 4) {
				shutdown(fx.conns[i], SHUT_WR);
				return;
			}
			close(fx.conns[i]);
			fx.conns[i] = fx.conns[--fx.nconns];
		}
	}
}

/* The guest's turn: one vsock message from one of its ports. */
static void guest_step(struct rd *r)
{
	static uint8_t buf[sizeof(struct hmx_vsock_hdr) + 2048];
	uint8_t sel = u8(r);
	uint32_t gport = fx.ports[sel % NPORTS];
	uint8_t to_what = u8(r) % 4;
	uint32_t hport = to_what == 0 ? HOST_PORT :
			 to_what == 1 ? fx.seen_hports[u8(r) % 8] :
					u32(r);
	uint32_t op = u8(r) % 9; /* 0 and 8: unknown ops */
	struct hmx_vsock_hdr h = { .type = HMX_VSOCK_TYPE_STREAM,
				   .buf_alloc = 1u << 18 };
	struct hmx_addr to = { .aport = hport, .domid = HMX_DOMID_HOST };
	uint32_t type = HMX_VSOCK_MSG(op), len, hlen = sizeof(h);
	struct credit *c;

	/* One field at a time: initializers have no evaluation order. */
	if (sel & 0x40)
		h.type = u8(r);
	if (sel & 0x20)
		h.reserved = u8(r);
	h.flags = u8(r);
	if (sel & 0x10)
		h.buf_alloc = u32(r);
	if (sel & 0x08)
		h.fwd_cnt = u32(r);
	len = (uint32_t)u8(r) * 8;

	if (sel & 0x04)
		hlen = u8(r) % (sizeof(h) + 1); /* a header cut short */
	if (sel & 0x02)
		type = u32(r); /* not a vsock message at all, maybe */
	memcpy(buf, &h, sizeof(h));
	for (uint32_t i = 0; i < len; i++)
		buf[hlen + i] = u8(r);
	/* The credit the host end may use from now on (it reads the header). */
	if (hlen == sizeof(h) && h.type == HMX_VSOCK_TYPE_STREAM &&
	    (type & HMX_VSOCK_TAG_MASK) == HMX_VSOCK_TAG) {
		bool opens = HMX_VSOCK_MSG_OP(type) == HMX_VSOCK_OP_REQUEST ||
			     HMX_VSOCK_MSG_OP(type) == HMX_VSOCK_OP_RESPONSE;

		c = credit_of(gport, hport, opens);
		if (c && opens) { /* a new connection counts afresh */
			c->received = 0;
			c->lied = false;
		}
		if (c) {
			uint64_t lim = (uint64_t)h.fwd_cnt + h.buf_alloc;

			c->lied |= h.fwd_cnt > c->received;
			c->limit = lim > c->received ? lim : c->received;
		}
	}
	hmx_host_send(fx.hh.core, GUEST, fx.garena, gport, to, type, buf,
		      hlen + len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rd r = { data, size };
	int fds, steps = 0;

	if (!fx.loop)
		setup_once();
	fds = count_fds();
	memset(fx.credit, 0, sizeof(fx.credit));
	attach();
	fx.nseen = 0;
	memset(fx.seen_hports, 0, sizeof(fx.seen_hports));
	for (int i = 0; i < NPORTS; i++) {
		/* Two fixed ports, two of the input's (below 60000). */
		fx.ports[i] = i < 2 ? 1024u + i : 2000 + u32(&r) % 58000;
		if (!hmx_host_ring_open(fx.hh.core, GUEST, fx.garena,
					fx.ports[i], HMX_DOMID_HOST, RING_LEN,
					&fx.rings[i]))
			continue;
		fx.ports[i] = 60000 + i; /* the same port twice: another */
		check(!hmx_host_ring_open(fx.hh.core, GUEST, fx.garena,
					  fx.ports[i], HMX_DOMID_HOST, RING_LEN,
					  &fx.rings[i]));
	}
	while (r.n && steps++ < MAX_STEPS) {
		if (u8(&r) & 1)
			host_step(&r);
		else
			guest_step(&r);
		spin(3);
		drain_guest();
	}
	spin(3);
	drain_guest();
	/* Tear down: the VM goes, and with it every connection. */
	hv_vsock_detach(fx.vs, GUEST);
	for (int i = 0; i < NPORTS; i++)
		hmx_host_ring_close(fx.rings[i]);
	while (fx.nconns)
		close(fx.conns[--fx.nconns]);
	for (int fd; (fd = accept4(fx.lfd, NULL, NULL, SOCK_CLOEXEC)) >= 0;)
		close(fd);
	spin(2);
	check(count_fds() == fds);
	return 0;
}
