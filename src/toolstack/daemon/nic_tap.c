// SPDX-License-Identifier: GPL-2.0-only
#include "toolstack/daemon/nic_tap.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/sockios.h>
#include <linux/if_tun.h>
#include <linux/nsfs.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define REPLY_WAIT_MS 5000

/* What the child reports: the step that failed (0: none) and its errno. */
enum tap_step {
	STEP_OK,
	STEP_SETNS,
	STEP_OPEN,
	STEP_CREATE,
	STEP_BRIDGE,
	STEP_UP,
};

struct tap_reply {
	int step;
	int err;
};

/* In the child: only system calls, nothing that allocates or logs. */
static struct tap_reply make_tap(int nsfd, const char *tap, const char *bridge,
				 int *out)
{
	struct ifreq ifr;
	int fd, s;

	if (setns(nsfd, CLONE_NEWNET) < 0)
		return (struct tap_reply){ STEP_SETNS, errno };
	/* The tun device takes the namespace of whoever opens it. */
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return (struct tap_reply){ STEP_OPEN, errno };
	memset(&ifr, 0, sizeof(ifr));
	/* IFF_TUN_EXCL is 0x8000: past a short's sign bit, as the kernel reads it. */
	ifr.ifr_flags =
		(short)(IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | IFF_TUN_EXCL);
	strncpy(ifr.ifr_name, tap, IFNAMSIZ - 1);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0)
		return (struct tap_reply){ STEP_CREATE, errno };
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return (struct tap_reply){ STEP_UP, errno };
	if (bridge[0]) {
		struct ifreq br;

		if (ioctl(s, SIOCGIFINDEX, &ifr) < 0)
			return (struct tap_reply){ STEP_BRIDGE, errno };
		memset(&br, 0, sizeof(br));
		strncpy(br.ifr_name, bridge, IFNAMSIZ - 1);
		br.ifr_ifindex = ifr.ifr_ifindex;
		if (ioctl(s, SIOCBRADDIF, &br) < 0)
			return (struct tap_reply){ STEP_BRIDGE, errno };
	}
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		return (struct tap_reply){ STEP_UP, errno };
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		return (struct tap_reply){ STEP_UP, errno };
	*out = fd;
	return (struct tap_reply){ STEP_OK, 0 };
}

static void child(int nsfd, const char *tap, const char *bridge, int sock)
{
	int fd = -1;
	struct tap_reply rep = make_tap(nsfd, tap, bridge, &fd);
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { &rep, sizeof(rep) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (fd >= 0) {
		struct cmsghdr *c;

		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = sizeof(ctl.buf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	_exit(sendmsg(sock, &mh, MSG_NOSIGNAL) == sizeof(rep) ? 0 : 1);
}

/*
 * The child's answer: its reply and, when it worked, the descriptor.
 * 0, -1 if it died without one, -2 if it is still there after the wait.
 */
static int receive(int sock, struct tap_reply *rep, int *fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { rep, sizeof(*rep) };
	struct msghdr mh = { .msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = ctl.buf,
			     .msg_controllen = sizeof(ctl.buf) };
	struct pollfd p = { .fd = sock, .events = POLLIN };
	ssize_t n;

	*fd = -1;
	if (poll(&p, 1, REPLY_WAIT_MS) != 1)
		return -2;
	n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	if (n != sizeof(*rep))
		return -1;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c;
	     c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
		    c->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(fd, CMSG_DATA(c), sizeof(int));
	}
	return 0;
}

static void explain(const struct tap_reply *rep, const char *netns,
		    const char *tap, const char *bridge, char *err,
		    size_t errlen)
{
	const char *why = strerror(rep->err);

	switch (rep->step) {
	case STEP_SETNS:
		snprintf(err, errlen,
			 "cannot enter network namespace \"%s\": %s", netns,
			 why);
		return;
	case STEP_OPEN:
		snprintf(err, errlen,
			 "cannot open /dev/net/tun: %s (is the tun module "
			 "loaded?)",
			 why);
		return;
	case STEP_CREATE:
		if (rep->err == EBUSY) {
			snprintf(err, errlen,
				 "an interface named \"%s\" already exists in "
				 "network namespace \"%s\": remove it, or "
				 "name another with tap=",
				 tap, netns);
			return;
		}
		snprintf(err, errlen,
			 "cannot create tap \"%s\" in network namespace "
			 "\"%s\": %s",
			 tap, netns, why);
		return;
	case STEP_BRIDGE:
		if (rep->err == ENODEV) {
			snprintf(
				err, errlen,
				"no bridge named \"%s\" in network namespace "
				"\"%s\": make it first, e.g. ip -n %s link add "
				"%s type bridge",
				bridge, netns, netns, bridge);
			return;
		}
		snprintf(err, errlen,
			 "cannot add tap \"%s\" to \"%s\" in network "
			 "namespace \"%s\": %s%s",
			 tap, bridge, netns, why,
			 rep->err == EOPNOTSUPP || rep->err == EINVAL ?
				 " (is it a bridge?)" :
				 "");
		return;
	case STEP_UP:
		snprintf(err, errlen,
			 "cannot set tap \"%s\" up in network namespace "
			 "\"%s\": %s",
			 tap, netns, why);
		return;
	}
	snprintf(err, errlen, "making tap \"%s\": no answer", tap);
}

int nic_tap_create(const char *netns, const char *tap, const char *bridge,
		   char *err, size_t errlen)
{
	char path[96];
	struct tap_reply rep = { -1, 0 };
	int nsfd, sv[2], fd = -1;
	pid_t pid;

	snprintf(path, sizeof(path), "/run/netns/%s", netns);
	nsfd = open(path, O_RDONLY | O_CLOEXEC);
	if (nsfd < 0) {
		if (errno == ENOENT)
			snprintf(err, errlen,
				 "network namespace \"%s\" does not exist (no "
				 "%s): make it first, e.g. ip netns add %s",
				 netns, path, netns);
		else
			snprintf(err, errlen, "cannot open %s: %s", path,
				 strerror(errno));
		return -1;
	}
	if (ioctl(nsfd, NS_GET_NSTYPE) != CLONE_NEWNET) {
		snprintf(err, errlen,
			 "%s is not a network namespace (ip netns add %s "
			 "makes one)",
			 path, netns);
		close(nsfd);
		return -1;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		snprintf(err, errlen, "socketpair: %s", strerror(errno));
		close(nsfd);
		return -1;
	}
	pid = fork();
	if (pid == 0) {
		close(sv[0]);
		child(nsfd, tap, bridge, sv[1]);
	}
	close(nsfd);
	close(sv[1]);
	if (pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		close(sv[0]);
		return -1;
	}
	switch (receive(sv[0], &rep, &fd)) {
	case -2:
		/* Stuck (so still ours): it must not make the tap later. */
		kill(pid, SIGKILL);
		rep.step = -1;
		break;
	case -1:
		rep.step = -1;
		break;
	}
	close(sv[0]);
	/* bulkheadd ignores SIGCHLD: the child is reaped without a wait. */
	if (rep.step == STEP_OK && fd >= 0)
		return fd;
	if (fd >= 0)
		close(fd);
	explain(&rep, netns, tap, bridge, err, errlen);
	return -1;
}
