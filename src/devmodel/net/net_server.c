// SPDX-License-Identifier: GPL-2.0-only
#include "devmodel/net/net_server.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "devmodel/net/net_jail.h"
#include "devmodel/net/net_tap.h"
#include "util/log.h"

int net_server_open(struct net_server *s, const struct net_server_config *c)
{
	char err[200];

	memset(s, 0, sizeof(*s));
	s->cfg = c;
	s->sock = -1;
	s->signal_fd = -1;
	if (net_tap_setup(c->tap_fd, err, sizeof(err)) < 0) {
		bh_err("--tap-fd %d: %s", c->tap_fd, err);
		return -1;
	}
	return 0;
}

static void on_signal(void *arg)
{
	struct net_server *s = arg;
	struct signalfd_siginfo si;

	if (read(s->signal_fd, &si, sizeof(si)) != sizeof(si))
		return;
	if (si.ssi_signo == SIGUSR1) {
		net_dev_log_stats(s->dev);
		return;
	}
	bh_info("stopping on signal %u", si.ssi_signo);
	vhost_be_stop(s->be);
}

/* Signals come as events, so the loop acts on them between messages. */
static int signal_fd(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -1;
	signal(SIGPIPE, SIG_IGN); /* a closed stderr must not kill us */
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

int net_server_start(struct net_server *s, int sock)
{
	struct vhost_be_device vd;

	s->dev = net_dev_new(&s->cfg->params, s->cfg->tap_fd);
	if (!s->dev) {
		bh_err("out of memory");
		close(sock);
		return -1;
	}
	net_dev_vhost(s->dev, &vd);
	s->be = vhost_be_new(&vd, sock);
	if (!s->be) {
		close(sock);
		return -1;
	}
	s->sock = sock;
	s->signal_fd = signal_fd();
	if (s->signal_fd < 0 || net_dev_attach(s->dev, s->be) < 0 ||
	    vhost_be_watch(s->be, s->signal_fd, on_signal, s) < 0) {
		bh_err("setting up the event loop: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int net_server_jail(struct net_server *s, struct net_jail *j,
		    struct jail_config *cfg)
{
	const struct net_server_config *c = s->cfg;

	memset(j, 0, sizeof(*j));
	j->fds = (struct net_jail_fds){
		.sock = s->sock,
		.epoll = vhost_be_epoll_fd(s->be),
		.tap = c->tap_fd,
		.signals = s->signal_fd,
		.log = STDERR_FILENO,
	};
	j->have_ids = c->have_ids;
	j->uid = c->uid;
	j->gid = c->gid;
	return net_jail_config(j, cfg);
}

int net_server_confine(struct net_server *s)
{
	const uint8_t *m = s->cfg->params.mac;
	struct net_jail jail;
	struct jail_config jc;

	if (net_server_jail(s, &jail, &jc) < 0 || jail_enter(&jc) < 0) {
		bh_err("cannot confine the process: not serving");
		return -1;
	}
	bh_info("serving a virtio-net device, mac %02x:%02x:%02x:%02x:%02x:%02x, "
		"mtu %u, jailed",
		m[0], m[1], m[2], m[3], m[4], m[5], s->cfg->params.mtu);
	return 0;
}

int net_server_run(struct net_server *s)
{
	return vhost_be_run(s->be);
}

void net_server_close(struct net_server *s)
{
	if (s->dev)
		net_dev_log_stats(s->dev);
	vhost_be_free(s->be); /* closes the socket */
	s->be = NULL;
	net_dev_free(s->dev);
	s->dev = NULL;
	if (s->signal_fd >= 0)
		close(s->signal_fd);
	s->signal_fd = -1;
	/* The tap goes with its last descriptor: this one, normally. */
	if (s->cfg && s->cfg->tap_fd >= 0)
		close(s->cfg->tap_fd);
}
