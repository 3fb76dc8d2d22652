// SPDX-License-Identifier: GPL-2.0-only
/*
 * bulkhead-net: one VM NIC as a vhost-user-net back end on a tap it is
 * handed. The tap and the socket arrive open; the process checks them,
 * jails itself (jail.h, net_jail.h) and only then reads the front end's
 * first message.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "devmodel/net/net_server.h"
#include "util/log.h"
#include "util/parse.h"

#define EXIT_USAGE 2
#define NET_MTU_DEFAULT 1500u

#if defined(__SANITIZE_ADDRESS__)
#define BH_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BH_SANITIZED 1
#endif
#endif

struct options {
	int sock_fd;
	int tap_fd;
	bool have_mac;
	struct net_params params;
	const char *name;
	bool have_uid, have_gid;
	unsigned int uid, gid;
	bool verbose;
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: bulkhead-net --socket-fd N --tap-fd N --mac MAC [options]\n"
		"\n"
		"Serves one NIC to one vhost-user front end (bulkhead-hv, QEMU's\n"
		"vhost-user-net) as a virtio-net device whose frames go to and come\n"
		"from a tap, confined to the descriptors it holds (docs/devmodels.md,\n"
		"docs/security.md). It never creates a network device.\n"
		"\n"
		"Required:\n"
		"  --socket-fd N     descriptor N is an inherited, connected unix stream\n"
		"                    socket to the front end\n"
		"  --tap-fd N        descriptor N is a tap opened with IFF_TAP, IFF_NO_PI\n"
		"                    and IFF_VNET_HDR (by whoever placed it in its\n"
		"                    network namespace); the tap goes when it exits\n"
		"  --mac MAC         the guest's address, aa:bb:cc:dd:ee:ff (unicast)\n"
		"Device:\n"
		"  --mtu N           the MTU the guest is told, %u to %u (default %u);\n"
		"                    longer unsegmented frames it sends are dropped\n"
		"Confinement:\n"
		"  --uid UID --gid GID the unprivileged ids to run as; required when\n"
		"                    started as root (unprivileged, a user namespace\n"
		"                    is used instead)\n"
		"Other:\n"
		"  --name LABEL      label for log lines, e.g. ndvm:nic0\n"
		"  -v, --verbose     debug messages\n"
		"  -h, --help        this text\n"
		"  --version         the version\n"
		"\n"
		"Frames that fail a check are dropped and counted; SIGUSR1 logs the\n"
		"counters (\"stats: ...\"), as does the end.\n"
		"\n"
		"Exit status: 0 when the front end disconnected between messages or on\n"
		"SIGTERM, SIGINT or SIGHUP; 1 on an error (not a tap, a malformed\n"
		"message); 2 on a usage error.\n",
		NET_MTU_MIN, NET_MTU_MAX, NET_MTU_DEFAULT);
}

static int parse_uint(const char *opt, const char *arg, unsigned int max,
		      unsigned int *out)
{
	uint64_t v;

	if (bh_parse_u64(arg, &v) < 0 || v > max) {
		bh_err("%s: \"%s\" is not a number up to %u", opt, arg, max);
		return -1;
	}
	*out = (unsigned int)v;
	return 0;
}

enum {
	OPT_SOCKET_FD = 256,
	OPT_TAP_FD,
	OPT_MAC,
	OPT_MTU,
	OPT_UID,
	OPT_GID,
	OPT_NAME,
	OPT_VERSION,
};

static int parse_option(struct options *o, int c, const char *arg)
{
	unsigned int v;

	switch (c) {
	case OPT_SOCKET_FD:
		if (parse_uint("--socket-fd", arg, INT32_MAX, &v) < 0)
			return -1;
		o->sock_fd = (int)v;
		return 0;
	case OPT_TAP_FD:
		if (parse_uint("--tap-fd", arg, INT32_MAX, &v) < 0)
			return -1;
		o->tap_fd = (int)v;
		return 0;
	case OPT_MAC:
		if (net_mac_parse(arg, o->params.mac) < 0) {
			bh_err("--mac: \"%s\" is not a unicast address "
			       "aa:bb:cc:dd:ee:ff",
			       arg);
			return -1;
		}
		o->have_mac = true;
		return 0;
	case OPT_MTU:
		if (parse_uint("--mtu", arg, NET_MTU_MAX, &v) < 0 ||
		    v < NET_MTU_MIN) {
			bh_err("--mtu: %u to %u", NET_MTU_MIN, NET_MTU_MAX);
			return -1;
		}
		o->params.mtu = (uint16_t)v;
		return 0;
	case OPT_UID:
		o->have_uid = true;
		return parse_uint("--uid", arg, UINT32_MAX - 1, &o->uid);
	case OPT_GID:
		o->have_gid = true;
		return parse_uint("--gid", arg, UINT32_MAX - 1, &o->gid);
	case OPT_NAME:
		o->name = arg;
		return 0;
	}
	return -1;
}

/* Returns 0, 1 (help or version printed) or -1 (usage error). */
static int parse_args(int argc, char **argv, struct options *o)
{
	static const struct option lo[] = {
		{ "socket-fd", required_argument, NULL, OPT_SOCKET_FD },
		{ "tap-fd", required_argument, NULL, OPT_TAP_FD },
		{ "mac", required_argument, NULL, OPT_MAC },
		{ "mtu", required_argument, NULL, OPT_MTU },
		{ "uid", required_argument, NULL, OPT_UID },
		{ "gid", required_argument, NULL, OPT_GID },
		{ "name", required_argument, NULL, OPT_NAME },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "vh", lo, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return 1;
		}
		if (c == OPT_VERSION) {
			printf("bulkhead-net %s\n", BULKHEAD_VERSION);
			return 1;
		}
		if (c == 'v') {
			o->verbose = true;
			continue;
		}
		if (c == '?' || parse_option(o, c, optarg) < 0)
			return -1;
	}
	if (optind < argc) {
		bh_err("unexpected argument \"%s\"", argv[optind]);
		return -1;
	}
	if (o->sock_fd < 0 || o->tap_fd < 0 || !o->have_mac) {
		bh_err("--socket-fd, --tap-fd and --mac are required (--help)");
		return -1;
	}
	if (o->sock_fd == o->tap_fd) {
		bh_err("--socket-fd and --tap-fd name the same descriptor");
		return -1;
	}
	if (o->have_uid != o->have_gid) {
		bh_err("--uid and --gid go together");
		return -1;
	}
	return 0;
}

/* Descriptors 0-2 exist, so nothing we open lands on them by accident. */
static int standard_fds(void)
{
	for (int fd = 0; fd < 3; fd++) {
		if (fcntl(fd, F_GETFD) >= 0)
			continue;
		if (open("/dev/null", O_RDWR) != fd)
			return -1;
	}
	return 0;
}

static int check_socket_fd(int fd)
{
	int type = 0, domain = 0;
	socklen_t len = sizeof(int);

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0 ||
	    type != SOCK_STREAM || domain != AF_UNIX) {
		bh_err("--socket-fd %d: not a unix stream socket", fd);
		return -1;
	}
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	return fd;
}

static int null_stdio(void)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (fd < 0 || dup2(fd, 0) < 0 || dup2(fd, 1) < 0)
		return -1;
	close(fd);
	return 0;
}

static int serve(const struct options *o)
{
	struct net_server_config c = {
		.params = o->params,
		.tap_fd = o->tap_fd,
		.have_ids = o->have_uid,
		.uid = o->uid,
		.gid = o->gid,
	};
	struct net_server s;
	int sock, r = -1;

	/* The tap first: a wrong descriptor fails before any handshake. */
	if (net_server_open(&s, &c) == 0) {
		sock = check_socket_fd(o->sock_fd);
		if (sock >= 0 && net_server_start(&s, sock) == 0) {
			if (null_stdio() < 0)
				bh_err("/dev/null: %s", strerror(errno));
			else if (net_server_confine(&s) == 0)
				r = net_server_run(&s);
		}
	}
	net_server_close(&s);
	return r;
}

int main(int argc, char **argv)
{
	struct options o = {
		.sock_fd = -1,
		.tap_fd = -1,
		.params = { .mtu = NET_MTU_DEFAULT },
	};
	char logname[128];
	int r;

	bh_log_init("bulkhead-net", BH_LOG_INFO);
	if (standard_fds() < 0)
		return 1;
	r = parse_args(argc, argv, &o);
	if (r)
		return r > 0 ? 0 : EXIT_USAGE;
	if (o.name)
		snprintf(logname, sizeof(logname), "bulkhead-net[%s]", o.name);
	else
		snprintf(logname, sizeof(logname), "bulkhead-net");
	bh_log_init(logname, o.verbose ? BH_LOG_DEBUG : BH_LOG_INFO);
	r = serve(&o) < 0 ? 1 : 0;
#ifdef BH_SANITIZED
	/* In the jail LeakSanitizer could not read /proc: skip its check. */
	_exit(r);
#endif
	return r;
}
