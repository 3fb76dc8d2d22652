// SPDX-License-Identifier: GPL-2.0-only
/*
 * Starting, watching and stopping an NDVM's NIC device models (nics.h). A
 * bulkhead-net gets: /dev/null as stdin, its log (<logs>/VM.nicI.log) as
 * stdout and stderr, its end of a socketpair as fd 3 and the tap, made
 * here inside the NIC's network namespace, as fd 4. bulkheadd keeps no
 * descriptor of the tap: when the device model exits, the tap is gone.
 */
#include "toolstack/daemon/nics.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <fcntl.h>

#include "devmodel/spawn.h"
#include "toolstack/daemon/daemon.h"
#include "toolstack/daemon/disks.h"
#include "toolstack/daemon/nic_tap.h"
#include "toolstack/vmcfg.h"
#include "util/log.h"

#define NET_FD_SOCKET 3
#define NET_FD_TAP 4
#define DETACH_WAIT_MS 5000
#define TERM_WAIT_MS 1000

bool nics_uid_taken(const struct bhd *d, uid_t uid)
{
	for (const struct vmrec *r = d->vms; r; r = r->next)
		for (size_t i = 0; i < r->nnics; i++)
			if (r->nics[i].uid == uid && !r->nics[i].exited)
				return true;
	return false;
}

/* The pointer tagged in its low bit: disks_on_exit() tells them apart. */
static void watch(struct bhd *d, struct nic_inst *ni)
{
	struct epoll_event ev = { .events = EPOLLIN,
				  .data.u64 = (uintptr_t)ni | 1 };

	if (ni->pidfd >= 0 &&
	    epoll_ctl(d->dm_epfd, EPOLL_CTL_ADD, ni->pidfd, &ev) < 0)
		bh_warn("vm %s: %s: cannot watch its device model: %s",
			ni->vm->name, ni->name, strerror(errno));
}

static void unwatch(struct bhd *d, struct nic_inst *ni)
{
	if (ni->pidfd < 0)
		return;
	epoll_ctl(d->dm_epfd, EPOLL_CTL_DEL, ni->pidfd, NULL);
	close(ni->pidfd);
	ni->pidfd = -1;
}

static int open_log(struct bhd *d, const char *vm, const char *nic)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s.%s.log", d->logs_dir, vm, nic);
	return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY,
		    0600);
}

static int start_net(struct bhd *d, struct vmrec *r, struct nic_inst *ni,
		     int *hv_sock, char *err, size_t errlen)
{
	char label[VM_NAME_MAX + NIC_NAME_MAX + 2], mac[18], macopt[24];
	char uid[24], gid[24], tapdesc[NIC_IFNAME_MAX + 1 + NIC_NETNS_MAX + 1];
	char *argv[16];
	struct devmodel_fd fds[5];
	struct devmodel_proc proc;
	unsigned int n = 0;
	int sv[2] = { -1, -1 }, tap, logfd = -1, nullfd = -1, ret = -1;
	char why[300];

	tap = nic_tap_create(ni->netns, ni->tap, ni->bridge, why, sizeof(why));
	if (tap < 0) {
		snprintf(err, errlen, "%s: %s", ni->name, why);
		return -1;
	}
	logfd = open_log(d, r->name, ni->name);
	nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (logfd < 0 || nullfd < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		snprintf(err, errlen, "%s: %s", ni->name, strerror(errno));
		goto out;
	}
	snprintf(label, sizeof(label), "%s:%s", r->name, ni->name);
	nic_mac_format(ni->mac, mac);
	snprintf(macopt, sizeof(macopt), "--mac=%s", mac);
	argv[n++] = "bulkhead-net";
	argv[n++] = "--socket-fd=3";
	argv[n++] = "--tap-fd=4";
	argv[n++] = macopt;
	argv[n++] = "--name";
	argv[n++] = label;
	if (geteuid() == 0) {
		ni->uid = devmodel_pick_uid(d);
		if (!ni->uid) {
			snprintf(err, errlen, "%s: no free device-model uid",
				 ni->name);
			goto out;
		}
		snprintf(uid, sizeof(uid), "--uid=%u", (unsigned)ni->uid);
		snprintf(gid, sizeof(gid), "--gid=%u", (unsigned)ni->uid);
		argv[n++] = uid;
		argv[n++] = gid;
	}
	argv[n] = NULL;
	fds[0] = (struct devmodel_fd){ nullfd, 0 };
	fds[1] = (struct devmodel_fd){ logfd, 1 };
	fds[2] = (struct devmodel_fd){ logfd, 2 };
	fds[3] = (struct devmodel_fd){ sv[1], NET_FD_SOCKET };
	fds[4] = (struct devmodel_fd){ tap, NET_FD_TAP };
	if (devmodel_spawn(&(struct devmodel_spawn){ .path = d->net_path,
						     .argv = argv,
						     .fds = fds,
						     .nfds = 5,
						     .outlive_caller = true },
			   &proc) < 0) {
		snprintf(err, errlen, "%s: cannot start %s: %s", ni->name,
			 d->net_path, strerror(errno));
		goto out;
	}
	ni->pid = proc.pid;
	ni->pidfd = proc.pidfd;
	ni->start_time = devmodel_proc_start_time(proc.pid);
	watch(d, ni);
	snprintf(tapdesc, sizeof(tapdesc), "%s/%s", ni->netns, ni->tap);
	bh_info("vm %s: %s: %s on tap %s, mac %s, pid %d", r->name, ni->name,
		d->net_path, tapdesc, mac, (int)proc.pid);
	*hv_sock = sv[0];
	sv[0] = -1;
	ret = 0;
out:
	/* The device model holds the tap now, or nobody does: it is gone. */
	close(tap);
	if (logfd >= 0)
		close(logfd);
	if (nullfd >= 0)
		close(nullfd);
	if (sv[0] >= 0)
		close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	return ret;
}

int nics_attach(struct bhd *d, struct vmrec *r, const struct vmcfg *cfg,
		int *socks, char *err, size_t errlen)
{
	nics_free(r);
	if (!cfg->nnics)
		return 0;
	r->nics = calloc(cfg->nnics, sizeof(*r->nics));
	if (!r->nics) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < cfg->nnics; i++) {
		const struct nic_spec *ns = &cfg->nics[i];
		struct nic_inst *ni = &r->nics[i];

		*ni = (struct nic_inst){ .pidfd = -1, .vm = r };
		/* i < VMCFG_NICS_MAX: one digit. */
		snprintf(ni->name, sizeof(ni->name), "nic%u",
			 (unsigned int)i % 10);
		memcpy(ni->netns, ns->netns, sizeof(ni->netns));
		memcpy(ni->tap, ns->tap, sizeof(ni->tap));
		memcpy(ni->bridge, ns->bridge, sizeof(ni->bridge));
		memcpy(ni->mac, ns->mac, NIC_MAC_LEN);
		r->nnics = i + 1;
		socks[i] = -1;
		if (start_net(d, r, ni, &socks[i], err, errlen) < 0) {
			for (size_t j = 0; j < i; j++)
				close(socks[j]);
			nics_detach(d, r);
			return -1;
		}
	}
	return 0;
}

void nics_detach(struct bhd *d, struct vmrec *r)
{
	for (size_t i = 0; i < r->nnics; i++) {
		struct nic_inst *ni = &r->nics[i];
		struct pollfd p = { .fd = ni->pidfd, .events = POLLIN };

		/* Its VM is gone, so it is finishing anyway (its socket
		 * closed): SIGTERM lets it log its counters, SIGKILL makes
		 * sure. The tap goes with it. */
		if (ni->pidfd >= 0 && !ni->exited) {
			syscall(SYS_pidfd_send_signal, ni->pidfd, SIGTERM, NULL,
				0);
			if (poll(&p, 1, TERM_WAIT_MS) != 1) {
				syscall(SYS_pidfd_send_signal, ni->pidfd,
					SIGKILL, NULL, 0);
				if (poll(&p, 1, DETACH_WAIT_MS) != 1)
					bh_warn("vm %s: %s: device model pid %d still there after %d ms",
						r->name, ni->name, (int)ni->pid,
						DETACH_WAIT_MS);
			}
		}
		unwatch(d, ni);
	}
	nics_free(r);
}

void nics_exited(struct bhd *d, struct nic_inst *ni)
{
	ni->exited = true;
	unwatch(d, ni);
	bh_warn("vm %s: %s: its device model (pid %d) exited; tap %s is gone",
		ni->vm->name, ni->name, (int)ni->pid, ni->tap);
}

void nics_recover(struct bhd *d, struct vmrec *r)
{
	for (size_t i = 0; i < r->nnics; i++) {
		struct nic_inst *ni = &r->nics[i];
		int fd;

		ni->vm = r;
		if (!ni->pid || ni->exited)
			continue;
		fd = (int)syscall(SYS_pidfd_open, ni->pid, 0);
		/* The same process, not another that got its pid. */
		if (fd < 0 ||
		    devmodel_proc_start_time(ni->pid) != ni->start_time) {
			if (fd >= 0)
				close(fd);
			ni->exited = true;
			bh_warn("vm %s: %s: its device model (pid %d) is gone",
				r->name, ni->name, (int)ni->pid);
			continue;
		}
		ni->pidfd = fd;
		watch(d, ni);
	}
}
