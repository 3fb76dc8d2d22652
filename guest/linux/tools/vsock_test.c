// SPDX-License-Identifier: GPL-2.0-only
/*
 * hmx-vsock-test: drives AF_VSOCK (and TCP, for comparison) from inside a
 * guest for the integration tests and the benchmark. Every subcommand
 * prints one result line of key=value pairs that the tests parse.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

#include "sha256.h"

#define CHUNK (64u << 10)
#define MAX_CONNS 256

static const char *ename(int err)
{
	const char *n = strerrorname_np(err);

	return n ? n : "EUNKNOWN";
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t parse_u64(const char *s)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end) {
		fprintf(stderr, "bad number: %s\n", s);
		exit(2);
	}
	return v;
}

/* Deterministic data: xorshift64* from a seed, so both ends agree. */
static void fill(uint64_t *state, uint8_t *buf, size_t len)
{
	size_t i;

	for (i = 0; i < len; i += 8) {
		uint64_t x = *state;

		x ^= x >> 12;
		x ^= x << 25;
		x ^= x >> 27;
		*state = x;
		x *= 0x2545f4914f6cdd1dull;
		memcpy(buf + i, &x, len - i < 8 ? len - i : 8);
	}
}

/* An address: "CID:PORT" (vsock) or "tcp:IPV4:PORT". */
struct addr {
	int family;
	union {
		struct sockaddr_vm vm;
		struct sockaddr_in in;
	} u;
	socklen_t len;
};

static void parse_addr(const char *s, struct addr *a, bool listen)
{
	const char *colon;

	memset(a, 0, sizeof(*a));
	if (!strncmp(s, "tcp:", 4)) {
		char host[64] = "0.0.0.0";

		s += 4;
		colon = strrchr(s, ':');
		if (colon && !listen) {
			snprintf(host, sizeof(host), "%.*s", (int)(colon - s),
				 s);
			s = colon + 1;
		}
		a->family = AF_INET;
		a->u.in.sin_family = AF_INET;
		a->u.in.sin_port = htons((uint16_t)parse_u64(s));
		if (inet_pton(AF_INET, host, &a->u.in.sin_addr) != 1) {
			fprintf(stderr, "bad address %s\n", host);
			exit(2);
		}
		a->len = sizeof(a->u.in);
		return;
	}
	a->family = AF_VSOCK;
	a->u.vm.svm_family = AF_VSOCK;
	a->u.vm.svm_cid = VMADDR_CID_ANY;
	colon = strchr(s, ':');
	if (colon && !listen) {
		char cid[16];

		snprintf(cid, sizeof(cid), "%.*s", (int)(colon - s), s);
		a->u.vm.svm_cid = (unsigned int)parse_u64(cid);
		s = colon + 1;
	}
	a->u.vm.svm_port = (unsigned int)parse_u64(s);
	a->len = sizeof(a->u.vm);
}

static int sock_for(const struct addr *a, int type)
{
	int fd = socket(a->family, type | SOCK_CLOEXEC, 0);
	int one = 1;

	if (fd < 0) {
		printf("socket error=%s\n", ename(errno));
		exit(1);
	}
	/* HVT_CONNECT_TIMEOUT=SECS: for slow machines (2 s by default). */
	if (a->family == AF_VSOCK && type != SOCK_DGRAM &&
	    getenv("HVT_CONNECT_TIMEOUT")) {
		struct timeval tv = { atoi(getenv("HVT_CONNECT_TIMEOUT")), 0 };

		setsockopt(fd, AF_VSOCK, SO_VM_SOCKETS_CONNECT_TIMEOUT, &tv,
			   sizeof(tv));
	}
	if (a->family == AF_INET) {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (type == SOCK_STREAM)
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
				   sizeof(one));
	}
	return fd;
}

static int do_listen(const char *spec)
{
	struct addr a;
	int fd;

	parse_addr(spec, &a, true);
	fd = sock_for(&a, SOCK_STREAM);
	if (bind(fd, (struct sockaddr *)&a.u, a.len) || listen(fd, 128)) {
		printf("listen error=%s\n", ename(errno));
		exit(1);
	}
	/* The tests wait for this line before they connect. */
	printf("listening %s\n", spec);
	fflush(stdout);
	return fd;
}

/*
 * HVT_CONNECT_RETRY=SECS: keep retrying a refused connect that long, for
 * peers that may not listen yet (the benchmark starts both sides at once).
 */
static int do_connect(const char *spec, double *secs)
{
	const char *retry = getenv("HVT_CONNECT_RETRY");
	double t0 = now(), until = t0 + (retry ? atof(retry) : 0);
	struct addr a;
	int fd;

	parse_addr(spec, &a, false);
	for (;;) {
		int err;

		fd = sock_for(&a, SOCK_STREAM);
		if (!connect(fd, (struct sockaddr *)&a.u, a.len))
			break;
		err = errno;
		close(fd);
		if (now() < until &&
		    (err == ECONNREFUSED || err == ETIMEDOUT ||
		     err == ENETUNREACH || err == EHOSTUNREACH ||
		     err == ECONNRESET || err == ENODEV)) {
			usleep(200000);
			continue;
		}
		printf("connect error=%s ms=%.0f\n", ename(err),
		       (now() - t0) * 1e3);
		exit(1);
	}
	if (secs)
		*secs = now() - t0;
	return fd;
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* recv LISTEN: one connection, read to EOF, print what came. */
static int cmd_recv(char **argv)
{
	int lfd = do_listen(argv[0]);
	static uint8_t buf[CHUNK];
	struct sha256 s;
	uint64_t total = 0;
	char hex[65];
	double t0;
	int fd;

	fd = accept(lfd, NULL, NULL);
	if (fd < 0) {
		printf("accept error=%s\n", ename(errno));
		return 1;
	}
	close(lfd);
	sha256_init(&s);
	t0 = now();
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			printf("recv error=%s bytes=%" PRIu64 "\n",
			       ename(errno), total);
			return 1;
		}
		if (!n)
			break;
		sha256_update(&s, buf, (size_t)n);
		total += (uint64_t)n;
	}
	sha256_hex(&s, hex);
	printf("recv bytes=%" PRIu64 " sha256=%s secs=%.3f\n", total, hex,
	       now() - t0);
	return 0;
}

/* send ADDR BYTES [SEED]: 64 KiB writes of deterministic data. */
static int cmd_send(char **argv, int argc)
{
	uint64_t bytes = parse_u64(argv[1]), total = 0;
	uint64_t seed = argc > 2 ? parse_u64(argv[2]) : 1;
	static uint8_t buf[CHUNK];
	struct sha256 s;
	char hex[65];
	double t0;
	int fd, err;

	fd = do_connect(argv[0], NULL);
	sha256_init(&s);
	t0 = now();
	seed |= 1;
	while (total < bytes) {
		size_t n = bytes - total < CHUNK ? (size_t)(bytes - total) :
						   CHUNK;

		fill(&seed, buf, n);
		err = write_all(fd, buf, n);
		if (err) {
			printf("send error=%s bytes=%" PRIu64 "\n", ename(-err),
			       total);
			return 1;
		}
		sha256_update(&s, buf, n);
		total += n;
	}
	if (shutdown(fd, SHUT_WR))
		printf("shutdown error=%s\n", ename(errno));
	/* Wait for the peer's close, so secs covers delivery. */
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	sha256_hex(&s, hex);
	printf("send bytes=%" PRIu64 " sha256=%s secs=%.3f\n", total, hex,
	       now() - t0);
	close(fd);
	return 0;
}

struct conn {
	int fd;
	int state; /* 0 connecting/reading, 1 writing, 2 reading digest */
	uint64_t left, seed;
	struct sha256 s;
	char reply[65];
	size_t got;
};

static void set_nonblock(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

/*
 * serve LISTEN N: accept N connections, all at once, with epoll and
 * non-blocking sockets; answer each with the sha256 of what it sent.
 */
static int cmd_serve(char **argv)
{
	unsigned int want = (unsigned int)parse_u64(argv[1]), done = 0, acc = 0;
	static struct conn conns[MAX_CONNS];
	int lfd = do_listen(argv[0]), ep = epoll_create1(0), bad = 0;
	static uint8_t buf[CHUNK];
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = MAX_CONNS };

	if (want > MAX_CONNS)
		return 2;
	set_nonblock(lfd);
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	while (done < want) {
		struct epoll_event evs[32];
		int n = epoll_wait(ep, evs, 32, 60000), i;

		if (n <= 0) {
			printf("serve error=timeout done=%u\n", done);
			return 1;
		}
		for (i = 0; i < n; i++) {
			unsigned int k = evs[i].data.u32;
			struct conn *c = &conns[k];

			if (k == MAX_CONNS) {
				int fd;

				while (acc < want &&
				       (fd = accept4(lfd, NULL, NULL,
						     SOCK_NONBLOCK)) >= 0) {
					c = &conns[acc];
					c->fd = fd;
					sha256_init(&c->s);
					ev.events = EPOLLIN | EPOLLRDHUP;
					ev.data.u32 = acc++;
					epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
				}
				continue;
			}
			for (;;) {
				ssize_t r = read(c->fd, buf, sizeof(buf));
				char hex[65];

				if (r > 0) {
					sha256_update(&c->s, buf, (size_t)r);
					continue;
				}
				if (r < 0 && errno == EAGAIN)
					break;
				if (r < 0) {
					printf("serve conn=%u error=%s\n", k,
					       ename(errno));
					bad++;
				} else {
					sha256_hex(&c->s, hex);
					fcntl(c->fd, F_SETFL, 0);
					if (write_all(c->fd, (uint8_t *)hex,
						      64))
						bad++;
				}
				epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
				close(c->fd);
				done++;
				break;
			}
		}
	}
	printf("serve conns=%u bad=%d\n", done, bad);
	return bad ? 1 : 0;
}

static bool multi_step(struct conn *c, uint8_t *buf, int ep, unsigned int k)
{
	struct epoll_event ev = { .data.u32 = k };
	int err = 0;
	socklen_t len = sizeof(err);

	if (c->state == 0) {
		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
		if (err) {
			printf("multi conn=%u connect error=%s\n", k,
			       ename(err));
			return false;
		}
		c->state = 1;
	}
	while (c->state == 1) {
		size_t n = c->left < CHUNK ? (size_t)c->left : CHUNK;
		uint64_t seed = c->seed;
		ssize_t w;

		if (!n) {
			shutdown(c->fd, SHUT_WR);
			c->state = 2;
			ev.events = EPOLLIN;
			epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
			return true;
		}
		fill(&seed, buf, n);
		w = write(c->fd, buf, n);
		if (w < 0 && errno == EAGAIN)
			return true;
		if (w <= 0) {
			printf("multi conn=%u write error=%s\n", k,
			       ename(errno));
			return false;
		}
		/* Advance the generator by what was written only. */
		fill(&c->seed, buf, (size_t)w);
		sha256_update(&c->s, buf, (size_t)w);
		c->left -= (uint64_t)w;
	}
	for (;;) {
		ssize_t r = read(c->fd, c->reply + c->got, 64 - c->got);

		if (r < 0 && errno == EAGAIN)
			return true;
		if (r < 0) {
			printf("multi conn=%u read error=%s\n", k,
			       ename(errno));
			return false;
		}
		if (r == 0 || c->got + (size_t)r == 64) {
			char hex[65];

			c->got += (size_t)(r > 0 ? r : 0);
			c->reply[c->got] = 0;
			sha256_hex(&c->s, hex);
			c->state = 3;
			if (strcmp(hex, c->reply)) {
				printf("multi conn=%u digest mismatch\n", k);
				return false;
			}
			return true;
		}
		c->got += (size_t)r;
	}
}

/* multi ADDR N BYTES: N concurrent non-blocking connections. */
static int cmd_multi(char **argv)
{
	unsigned int n = (unsigned int)parse_u64(argv[1]), i, live, ok = 0;
	uint64_t bytes = parse_u64(argv[2]);
	static struct conn conns[MAX_CONNS];
	static uint8_t buf[CHUNK];
	int ep = epoll_create1(0), failed = 0;
	struct timeval tv = { 60, 0 };
	struct addr a;

	if (n > MAX_CONNS)
		return 2;
	parse_addr(argv[0], &a, false);
	for (i = 0; i < n; i++) {
		struct conn *c = &conns[i];
		struct epoll_event ev = { .events = EPOLLOUT, .data.u32 = i };

		c->fd = sock_for(&a, SOCK_STREAM | SOCK_NONBLOCK);
		/* Under load a handshake may take longer than the 2 s default. */
		if (a.family == AF_VSOCK)
			setsockopt(c->fd, AF_VSOCK,
				   SO_VM_SOCKETS_CONNECT_TIMEOUT, &tv,
				   sizeof(tv));
		c->left = bytes;
		c->seed = 1000 + i * 2 + 1;
		sha256_init(&c->s);
		if (connect(c->fd, (struct sockaddr *)&a.u, a.len) &&
		    errno != EINPROGRESS) {
			printf("multi conn=%u connect error=%s\n", i,
			       ename(errno));
			return 1;
		}
		epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
	}
	for (live = n; live;) {
		struct epoll_event evs[32];
		int m = epoll_wait(ep, evs, 32, 60000), j;

		if (m <= 0) {
			printf("multi error=timeout live=%u\n", live);
			return 1;
		}
		for (j = 0; j < m; j++) {
			unsigned int k = evs[j].data.u32;
			struct conn *c = &conns[k];

			if (!multi_step(c, buf, ep, k)) {
				failed++;
			} else if (c->state != 3) {
				continue;
			} else {
				ok++;
			}
			epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
			close(c->fd);
			live--;
		}
	}
	printf("multi ok=%u failed=%d\n", ok, failed);
	return failed ? 1 : 0;
}

/* connect ADDR [TIMEOUT_MS]: does a connection open, and how fast. */
static int cmd_connect(char **argv, int argc)
{
	struct addr a;
	double t0;
	int fd;

	parse_addr(argv[0], &a, false);
	fd = sock_for(&a, SOCK_STREAM);
	if (argc > 1) {
		struct timeval tv;
		uint64_t ms = parse_u64(argv[1]);

		tv.tv_sec = (time_t)(ms / 1000);
		tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
		if (setsockopt(fd, AF_VSOCK, SO_VM_SOCKETS_CONNECT_TIMEOUT, &tv,
			       sizeof(tv)))
			printf("connect-timeout error=%s\n", ename(errno));
	}
	t0 = now();
	if (connect(fd, (struct sockaddr *)&a.u, a.len)) {
		printf("connect error=%s ms=%.0f\n", ename(errno),
		       (now() - t0) * 1e3);
		return 1;
	}
	printf("connect ok ms=%.0f\n", (now() - t0) * 1e3);
	close(fd);
	return 0;
}

/* pong LISTEN: echo one connection's bytes until EOF. */
static int cmd_pong(char **argv)
{
	int lfd = do_listen(argv[0]), fd;
	static uint8_t buf[CHUNK];
	ssize_t n;

	fd = accept(lfd, NULL, NULL);
	if (fd < 0)
		return 1;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		if (write_all(fd, buf, (size_t)n))
			return 1;
	}
	printf("pong done\n");
	return 0;
}

static int read_full(int fd, uint8_t *p, size_t len)
{
	while (len) {
		ssize_t n = read(fd, p, len);

		if (n <= 0)
			return n ? -errno : -EPIPE;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* ping ADDR ITER SIZE: round trips of SIZE bytes. */
static int cmd_ping(char **argv)
{
	uint64_t iter = parse_u64(argv[1]), size = parse_u64(argv[2]), i;
	static uint8_t out[CHUNK], in[CHUNK];
	int fd = do_connect(argv[0], NULL), err;
	double t0;

	if (!iter || !size || size > CHUNK)
		return 2;
	memset(out, 0x5a, size);
	t0 = now();
	for (i = 0; i < iter; i++) {
		out[0] = (uint8_t)i;
		err = write_all(fd, out, size);
		if (!err)
			err = read_full(fd, in, size);
		if (err || in[0] != out[0]) {
			printf("ping error=%s iter=%" PRIu64 "\n",
			       err ? ename(-err) : "mismatch", i);
			return 1;
		}
	}
	printf("ping iter=%" PRIu64 " size=%" PRIu64 " rtt_us=%.1f\n", iter,
	       size, (now() - t0) / (double)iter * 1e6);
	close(fd);
	return 0;
}

/* sink LISTEN: read one connection until EOF or error. */
static int cmd_sink(char **argv)
{
	int lfd = do_listen(argv[0]), fd;
	static uint8_t buf[CHUNK];
	uint64_t total = 0;
	ssize_t n;

	fd = accept(lfd, NULL, NULL);
	if (fd < 0)
		return 1;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		total += (uint64_t)n;
	printf("sink bytes=%" PRIu64 " end=%s\n", total,
	       n ? ename(errno) : "eof");
	return 0;
}

/* flood ADDR SECS: write as fast as the peer takes it. */
static int cmd_flood(char **argv)
{
	double secs = (double)parse_u64(argv[1]), t0;
	static uint8_t buf[CHUNK];
	int fd = do_connect(argv[0], NULL), err = 0;
	uint64_t total = 0;

	memset(buf, 0xf1, sizeof(buf));
	t0 = now();
	while (now() - t0 < secs) {
		err = write_all(fd, buf, sizeof(buf));
		if (err)
			break;
		total += sizeof(buf);
	}
	printf("flood bytes=%" PRIu64 " end=%s\n", total,
	       err ? ename(-err) : "time");
	close(fd);
	return 0;
}

/* hold ADDR: connect, then wait until the connection ends. */
static int cmd_hold(char **argv)
{
	int fd = do_connect(argv[0], NULL);
	uint8_t b;
	ssize_t n;

	printf("hold connected\n");
	fflush(stdout);
	n = read(fd, &b, 1);
	printf("hold end=%s\n", n < 0 ? ename(errno) : n ? "data" : "eof");
	return 0;
}

static int checks_failed;

static void check(bool ok, const char *what)
{
	printf("%s %s\n", ok ? "ok" : "FAIL", what);
	if (!ok)
		checks_failed++;
}

/*
 * opts ADDR: socket options and non-blocking behaviour on a connection to
 * a pong; ends with an echo round trip.
 */
static int cmd_opts(char **argv)
{
	int fd = do_connect(argv[0], NULL), vfd;
	socklen_t len = sizeof(uint64_t);
	struct sockaddr_vm peer, self;
	struct timeval tv = { 0, 300000 };
	uint64_t v = 0, big = 1u << 20;
	struct pollfd pfd = { fd, POLLIN | POLLOUT, 0 };
	char buf[32];
	unsigned int cid = 0;
	double t0;
	ssize_t n;

	check(!getsockopt(fd, AF_VSOCK, SO_VM_SOCKETS_BUFFER_SIZE, &v, &len) &&
		      v == 262144,
	      "default buffer size 256 KiB");
	check(!setsockopt(fd, AF_VSOCK, SO_VM_SOCKETS_BUFFER_MAX_SIZE, &big,
			  sizeof(big)) &&
		      !setsockopt(fd, AF_VSOCK, SO_VM_SOCKETS_BUFFER_SIZE, &big,
				  sizeof(big)),
	      "set buffer size 1 MiB");
	len = sizeof(v);
	check(!getsockopt(fd, AF_VSOCK, SO_VM_SOCKETS_BUFFER_SIZE, &v, &len) &&
		      v == big,
	      "buffer size reads back 1 MiB");
	check(poll(&pfd, 1, 0) == 1 && pfd.revents == POLLOUT,
	      "poll: writable, nothing to read");
	check(recv(fd, buf, sizeof(buf), MSG_DONTWAIT) < 0 && errno == EAGAIN,
	      "MSG_DONTWAIT read: EAGAIN");
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	t0 = now();
	n = read(fd, buf, sizeof(buf));
	check(n < 0 && errno == EAGAIN && now() - t0 > 0.25,
	      "SO_RCVTIMEO 300 ms: EAGAIN after the timeout");
	len = sizeof(peer);
	check(!getpeername(fd, (struct sockaddr *)&peer, &len) &&
		      peer.svm_family == AF_VSOCK,
	      "getpeername");
	vfd = open("/dev/vsock", O_RDONLY);
	len = sizeof(self);
	check(vfd >= 0 && !ioctl(vfd, IOCTL_VM_SOCKETS_GET_LOCAL_CID, &cid) &&
		      !getsockname(fd, (struct sockaddr *)&self, &len) &&
		      cid > 2,
	      "local CID from /dev/vsock");
	printf("opts-cid local=%u peer=%u\n", cid, peer.svm_cid);
	tv.tv_usec = 0;
	tv.tv_sec = 30;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	check(write(fd, "opts-echo", 9) == 9 &&
		      read_full(fd, (uint8_t *)buf, 9) == 0 &&
		      !memcmp(buf, "opts-echo", 9),
	      "echo round trip");
	check(!shutdown(fd, SHUT_WR) && read(fd, buf, sizeof(buf)) == 0,
	      "shutdown(SHUT_WR), then EOF from the peer");
	n = write(fd, "x", 1);
	check(n < 0 && errno == EPIPE, "write after SHUT_WR: EPIPE");
	close(fd);
	printf("opts failed=%d\n", checks_failed);
	return checks_failed ? 1 : 0;
}

/* Datagrams carry a sequence number and a pattern derived from it. */
static void dgram_fill(uint8_t *buf, size_t size, uint32_t seq)
{
	uint64_t seed = seq * 2ull + 1;

	fill(&seed, buf, size);
	memcpy(buf, &seq, size < 4 ? size : 4);
}

/* dgram-recv PORT COUNT SECS: receive, check, echo the sequence back. */
static int cmd_dgram_recv(char **argv)
{
	uint64_t count = parse_u64(argv[1]), got = 0, bad = 0;
	static uint8_t buf[CHUNK + 1], want[CHUNK];
	struct timeval tv = { (time_t)parse_u64(argv[2]), 0 };
	struct sockaddr_vm a = { .svm_family = AF_VSOCK,
				 .svm_cid = VMADDR_CID_ANY };
	int fd = socket(AF_VSOCK, SOCK_DGRAM, 0);

	a.svm_port = (unsigned int)parse_u64(argv[0]);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a))) {
		printf("dgram-recv error=%s\n", ename(errno));
		return 1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	printf("listening dgram %u\n", a.svm_port);
	fflush(stdout);
	while (got < count) {
		struct sockaddr_vm from;
		socklen_t flen = sizeof(from);
		ssize_t n = recvfrom(fd, buf, sizeof(buf), 0,
				     (struct sockaddr *)&from, &flen);
		uint32_t seq;

		if (n < 0)
			break;
		got++;
		memcpy(&seq, buf, 4);
		dgram_fill(want, (size_t)n, seq);
		if (n < 4 || memcmp(buf, want, (size_t)n))
			bad++;
		sendto(fd, &seq, 4, 0, (struct sockaddr *)&from, flen);
	}
	printf("dgram-recv got=%" PRIu64 " bad=%" PRIu64 "\n", got, bad);
	return got == count && !bad ? 0 : 1;
}

/* dgram-send CID PORT COUNT SIZE: send, count the echoes. */
static int cmd_dgram_send(char **argv)
{
	uint64_t count = parse_u64(argv[2]), size = parse_u64(argv[3]), i;
	uint64_t echoes = 0;
	static uint8_t buf[CHUNK];
	struct sockaddr_vm a = { .svm_family = AF_VSOCK };
	struct timeval tv = { 2, 0 };
	int fd = socket(AF_VSOCK, SOCK_DGRAM, 0);
	uint32_t seq;

	if (size < 4 || size > CHUNK)
		return 2;
	a.svm_cid = (unsigned int)parse_u64(argv[0]);
	a.svm_port = (unsigned int)parse_u64(argv[1]);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	for (i = 0; i < count; i++) {
		dgram_fill(buf, size, (uint32_t)i);
		if (sendto(fd, buf, size, 0, (struct sockaddr *)&a,
			   sizeof(a)) != (ssize_t)size) {
			printf("dgram-send error=%s sent=%" PRIu64 "\n",
			       ename(errno), i);
			return 1;
		}
		/* One outstanding datagram: the receiver's queue never fills. */
		if (recv(fd, &seq, 4, 0) == 4 && seq == i)
			echoes++;
	}
	printf("dgram-send sent=%" PRIu64 " echoes=%" PRIu64 "\n", count,
	       echoes);
	return echoes == count ? 0 : 1;
}

static const struct {
	const char *name;
	int nargs;
	const char *usage;
} cmds[] = {
	{ "recv", 1, "LISTEN" },
	{ "send", 2, "ADDR BYTES [SEED]" },
	{ "serve", 2, "LISTEN N" },
	{ "multi", 3, "ADDR N BYTES" },
	{ "connect", 1, "ADDR [TIMEOUT_MS]" },
	{ "pong", 1, "LISTEN" },
	{ "ping", 3, "ADDR ITER SIZE" },
	{ "sink", 1, "LISTEN" },
	{ "flood", 2, "ADDR SECS" },
	{ "hold", 1, "ADDR" },
	{ "opts", 1, "ADDR" },
	{ "dgram-recv", 3, "PORT COUNT SECS" },
	{ "dgram-send", 4, "CID PORT COUNT SIZE" },
};

int main(int argc, char **argv)
{
	unsigned int i;
	int ret = 2;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 0; argc > 1 && i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		char **a = argv + 2;
		int n = argc - 2;

		if (strcmp(argv[1], cmds[i].name) || n < cmds[i].nargs)
			continue;
		switch (i) {
		case 0:
			return cmd_recv(a);
		case 1:
			return cmd_send(a, n);
		case 2:
			return cmd_serve(a);
		case 3:
			return cmd_multi(a);
		case 4:
			return cmd_connect(a, n);
		case 5:
			return cmd_pong(a);
		case 6:
			return cmd_ping(a);
		case 7:
			return cmd_sink(a);
		case 8:
			return cmd_flood(a);
		case 9:
			return cmd_hold(a);
		case 10:
			return cmd_opts(a);
		case 11:
			return cmd_dgram_recv(a);
		case 12:
			return cmd_dgram_send(a);
		}
	}
	fprintf(stderr, "usage: hmx-vsock-test COMMAND ARGS\n");
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(stderr, "  %s %s\n", cmds[i].name, cmds[i].usage);
	fprintf(stderr, "ADDR: CID:PORT or tcp:IPV4:PORT; LISTEN: PORT or "
			"tcp:PORT\n");
	return ret;
}
