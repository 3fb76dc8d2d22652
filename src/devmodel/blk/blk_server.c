// SPDX-License-Identifier: GPL-2.0-only
#include "devmodel/blk/blk_server.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "devmodel/blk/blk_jail.h"
#include "devmodel/image_lock.h"
#include "util/log.h"

int blk_server_open(struct blk_server *s, const struct blk_server_config *c)
{
	char err[300];

	memset(s, 0, sizeof(*s));
	s->cfg = c;
	s->sock = -1;
	s->signal_fd = -1;
	if (blk_image_open(&c->image, &s->img, err, sizeof(err)) < 0) {
		bh_err("%s", err);
		return -1;
	}
	if (blk_layers_open(&c->layers, &s->img, &s->layers, err, sizeof(err)) <
	    0) {
		bh_err("%s", err);
		return -1;
	}
	return 0;
}

static void on_signal(void *arg)
{
	struct blk_server *s = arg;
	struct signalfd_siginfo si;

	if (read(s->signal_fd, &si, sizeof(si)) == sizeof(si)) {
		bh_info("stopping on signal %u", si.ssi_signo);
		vhost_be_stop(s->be);
	}
}

/* Signals come as events, so the loop stops between messages. */
static int signal_fd(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -1;
	signal(SIGPIPE, SIG_IGN); /* a closed stderr must not kill us */
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

int blk_server_start(struct blk_server *s, int sock)
{
	const struct blk_server_config *c = s->cfg;
	const struct blk_layers *l = &s->layers;
	struct blk_dev_config dc = {
		.params = {
			.size = l->any ? l->stack.size : s->img.size,
			.block_size = l->block_size,
			.discard_align = s->img.discard_align,
			.readonly = c->readonly,
			.discard = !c->no_discard,
			.layered = l->any,
			.nqueues = c->nqueues,
		},
		.image_fd = s->img.fd,
		.overlay_fd = l->stack.overlay ? c->layers.overlay_fd : -1,
		.stack = l->any ? &l->stack : NULL,
		.engine = c->engine,
		.serial = c->serial,
	};

	if (dc.params.discard_align % dc.params.block_size)
		dc.params.discard_align = dc.params.block_size;
	struct vhost_be_device vd;

	s->dev = blk_dev_new(&dc);
	if (!s->dev) {
		close(sock);
		return -1;
	}
	blk_dev_vhost(s->dev, &vd);
	s->be = vhost_be_new(&vd, sock);
	if (!s->be) {
		close(sock);
		return -1;
	}
	s->sock = sock;
	s->signal_fd = signal_fd();
	if (s->signal_fd < 0 || blk_dev_attach(s->dev, s->be) < 0 ||
	    vhost_be_watch(s->be, s->signal_fd, on_signal, s) < 0) {
		bh_err("setting up the event loop: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int blk_server_jail(struct blk_server *s, struct blk_jail *j,
		    struct jail_config *cfg)
{
	const struct blk_server_config *c = s->cfg;
	int io[2];
	unsigned int nio = blk_dev_fds(s->dev, io);

	memset(j, 0, sizeof(*j));
	j->fds = (struct blk_jail_fds){
		.sock = s->sock,
		.epoll = vhost_be_epoll_fd(s->be),
		.image = s->img.fd,
		.overlay = s->layers.stack.overlay ? c->layers.overlay_fd : -1,
		.verity = s->layers.verity ? c->layers.verity_fd : -1,
		.ring = nio ? io[0] : -1,
		.ring_event = nio ? io[1] : -1,
		.signals = s->signal_fd,
		.log = STDERR_FILENO,
	};
	j->engine = blk_dev_engine(s->dev);
	j->readonly = c->readonly;
	j->image_readonly = s->img.readonly;
	j->nqueues = c->nqueues;
	j->have_ids = c->have_ids;
	j->uid = c->uid;
	j->gid = c->gid;
	return blk_jail_config(j, cfg);
}

int blk_server_confine(struct blk_server *s)
{
	const struct blk_server_config *c = s->cfg;
	struct blk_jail jail;
	struct jail_config jc;

	if (blk_server_jail(s, &jail, &jc) < 0 || jail_enter(&jc) < 0) {
		bh_err("cannot confine the process: not serving");
		return -1;
	}
	bh_info("serving %llu sectors (raw%s%s%s%s%s), %s I/O, %u queue%s, jailed",
		(unsigned long long)((s->layers.any ? s->layers.stack.size :
						      s->img.size) /
				     BLK_SECTOR),
		s->layers.crypt ? ", LUKS aes-xts-plain64" : "",
		s->layers.stack.overlay ?
			(s->layers.overlay_crypt ?
				 ", encrypted temporary overlay" :
				 ", temporary overlay") :
			"",
		s->layers.verity ? ", dm-verity checked" : "",
		c->readonly ? ", read-only" : "",
		c->image.direct ? ", O_DIRECT" : "",
		blk_io_engine_name(blk_dev_engine(s->dev)), c->nqueues,
		c->nqueues == 1 ? "" : "s");
	return 0;
}

int blk_server_run(struct blk_server *s)
{
	return vhost_be_run(s->be);
}

void blk_server_close(struct blk_server *s)
{
	vhost_be_free(s->be); /* closes the socket */
	s->be = NULL;
	blk_dev_free(s->dev);
	s->dev = NULL;
	blk_layers_close(&s->layers);
	if (s->signal_fd >= 0)
		close(s->signal_fd);
	s->signal_fd = -1;
	/*
	 * The ring's teardown drops its reference to the image later, in
	 * the kernel's own time: unlock now, so the image is free when we
	 * exit. A descriptor we were given keeps its owner's locks.
	 */
	if (s->cfg && s->cfg->image.path && s->img.fd >= 0) {
		image_unlock(s->img.fd);
		close(s->img.fd);
		s->img.fd = -1;
	}
}
