// SPDX-License-Identifier: GPL-2.0-only
/*
 * Starting, watching and stopping a VM's disk back ends (disks.h). A
 * bulkhead-blk gets: /dev/null as stdin, its log as stdout and stderr,
 * its end of a socketpair as fd 3 and the image, opened and locked here,
 * as fd 4. It confines itself from there (docs/security.md).
 */
#include "toolstack/daemon/disks.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "devmodel/image_lock.h"
#include "devmodel/spawn.h"
#include "toolstack/daemon/daemon.h"
#include "toolstack/daemon/disk_layers.h"
#include "toolstack/daemon/nics.h"
#include "toolstack/vmcfg.h"
#include "util/log.h"

#define BLK_FD_SOCKET 3
#define BLK_FD_IMAGE 4
/* Device-model uids: uid_base + k, k the lowest one free. */
#define UID_SLOTS 65536u
#define DETACH_WAIT_MS 5000
#define TERM_WAIT_MS 1000

/* Field 22 of /proc/PID/stat: when it started, in clock ticks. */
uint64_t devmodel_proc_start_time(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long t = 0;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* The name in parentheses may hold anything: skip past its end. */
	p = strrchr(buf, ')');
	if (!p)
		return 0;
	for (int field = 2; p && field < 22; field++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p + 1, "%llu", &t) != 1)
		return 0;
	return t;
}

static bool uid_taken(struct bhd *d, uid_t uid)
{
	for (struct vmrec *r = d->vms; r; r = r->next)
		for (size_t i = 0; i < r->ndisks; i++)
			if (r->disks[i].uid == uid && !r->disks[i].exited)
				return true;
	return nics_uid_taken(d, uid);
}

uid_t devmodel_pick_uid(struct bhd *d)
{
	for (unsigned int k = 0; k < UID_SLOTS; k++)
		if (!uid_taken(d, d->devmodel_uid_base + k))
			return d->devmodel_uid_base + k;
	return 0;
}

static void watch(struct bhd *d, struct disk_inst *di)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = di };

	if (di->pidfd >= 0 &&
	    epoll_ctl(d->dm_epfd, EPOLL_CTL_ADD, di->pidfd, &ev) < 0) {
		bh_warn("vm %s: disk %s: cannot watch its device model: %s",
			di->vm->name, di->vdev, strerror(errno));
	}
}

static void unwatch(struct bhd *d, struct disk_inst *di)
{
	if (di->pidfd < 0)
		return;
	epoll_ctl(d->dm_epfd, EPOLL_CTL_DEL, di->pidfd, NULL);
	close(di->pidfd);
	di->pidfd = -1;
}

/* Whether bulkhead-blk only reads the image (its guest may still write). */
static bool image_readonly(const struct disk_spec *ds)
{
	return ds->readonly || ds->snapshot != DISK_SNAPSHOT_PERSISTENT;
}

static int open_image(const struct disk_spec *ds, char *err, size_t errlen)
{
	int fd = open(ds->target, (image_readonly(ds) ? O_RDONLY : O_RDWR) |
					  O_CLOEXEC | O_NOCTTY);
	struct stat st;
	char why[200];
	int r;

	if (fd < 0) {
		snprintf(err, errlen, "disk %s: cannot open %s: %s", ds->vdev,
			 ds->target, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 ||
	    !(S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))) {
		snprintf(err, errlen,
			 "disk %s: %s is not a regular file or a block device",
			 ds->vdev, ds->target);
		goto fail;
	}
	if (ds->format == DISK_FORMAT_QCOW2) {
		uint8_t magic[4];

		if (pread(fd, magic, 4, 0) != 4 || memcmp(magic, "QFI\xfb", 4))
			snprintf(
				err, errlen,
				"disk %s: %s is not a qcow2 image (format=qcow2)",
				ds->vdev, ds->target);
		else
			snprintf(
				err, errlen,
				"disk %s: qcow2 images are not supported yet, only raw ones (qemu-img convert -O raw makes one)",
				ds->vdev);
		goto fail;
	}
	/* Shared by every reader: many temporary disks on one base. */
	r = image_lock(fd, !image_readonly(ds), why, sizeof(why));
	if (r == -EBUSY) {
		snprintf(err, errlen,
			 "disk %s: %s is in use by another VM or program (%s)",
			 ds->vdev, ds->target, why);
		goto fail;
	}
	if (r < 0) {
		snprintf(err, errlen, "disk %s: cannot lock %s: %s", ds->vdev,
			 ds->target, why);
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

/* <logs>/NAME.VDEV.log, where bulkhead-blk writes. */
static int open_log(struct bhd *d, const char *vm, const char *vdev)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s.%s.log", d->logs_dir, vm, vdev);
	return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY,
		    0600);
}

static int start_blk(struct bhd *d, struct vmrec *r, const struct disk_spec *ds,
		     struct disk_inst *di, int *hv_sock, char *err,
		     size_t errlen)
{
	char name[VM_NAME_MAX + DISK_VDEV_MAX + 2], uid[24], gid[24];
	char *argv[24 + DISK_LAYERS_ARGS];
	struct devmodel_fd fds[5 + DISK_LAYERS_FDS];
	struct devmodel_proc proc;
	struct disk_layers layers;
	unsigned int n = 0, nfds = 5;
	int sv[2] = { -1, -1 }, img, logfd, nullfd, ret = -1;

	img = open_image(ds, err, errlen);
	if (img < 0)
		return -1;
	if (disk_layers_prepare(d, r->name, ds, img, di, &layers, err, errlen) <
	    0) {
		close(img);
		return -1;
	}
	logfd = open_log(d, r->name, ds->vdev);
	nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (logfd < 0 || nullfd < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		snprintf(err, errlen, "disk %s: %s", ds->vdev, strerror(errno));
		goto out;
	}
	snprintf(name, sizeof(name), "%s:%s", r->name, ds->vdev);
	argv[n++] = "bulkhead-blk";
	argv[n++] = "--fd=3";
	argv[n++] = "--image-fd=4";
	argv[n++] = ds->format == DISK_FORMAT_QCOW2 ? "--format=qcow2" :
						      "--format=raw";
	argv[n++] = "--name";
	argv[n++] = name;
	argv[n++] = "--serial";
	argv[n++] = (char *)ds->vdev;
	if (ds->readonly)
		argv[n++] = "--readonly";
	if (!ds->discard)
		argv[n++] = "--no-discard";
	if (ds->direct)
		argv[n++] = "--direct";
	disk_layers_args(&layers, BLK_FD_IMAGE + 1, argv, &n, fds, &nfds);
	if (geteuid() == 0) {
		di->uid = devmodel_pick_uid(d);
		if (!di->uid) {
			snprintf(err, errlen,
				 "disk %s: no free device-model uid", ds->vdev);
			goto out;
		}
		snprintf(uid, sizeof(uid), "--uid=%u", (unsigned)di->uid);
		snprintf(gid, sizeof(gid), "--gid=%u", (unsigned)di->uid);
		argv[n++] = uid;
		argv[n++] = gid;
	}
	argv[n] = NULL;
	fds[0] = (struct devmodel_fd){ nullfd, 0 };
	fds[1] = (struct devmodel_fd){ logfd, 1 };
	fds[2] = (struct devmodel_fd){ logfd, 2 };
	fds[3] = (struct devmodel_fd){ sv[1], BLK_FD_SOCKET };
	fds[4] = (struct devmodel_fd){ img, BLK_FD_IMAGE };
	if (devmodel_spawn(&(struct devmodel_spawn){ .path = d->blk_path,
						     .argv = argv,
						     .fds = fds,
						     .nfds = nfds,
						     .outlive_caller = true },
			   &proc) < 0) {
		snprintf(err, errlen, "disk %s: cannot start %s: %s", ds->vdev,
			 d->blk_path, strerror(errno));
		goto out;
	}
	di->pid = proc.pid;
	di->pidfd = proc.pidfd;
	di->start_time = devmodel_proc_start_time(proc.pid);
	watch(d, di);
	bh_info("vm %s: disk %s: %s on %s, pid %d", r->name, ds->vdev,
		d->blk_path, ds->target, (int)proc.pid);
	*hv_sock = sv[0];
	sv[0] = -1;
	ret = 0;
out:
	/* The device model holds the image (and its lock) now, or nobody. */
	close(img);
	disk_layers_close(&layers);
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

static int connect_external(const struct disk_spec *ds, int *hv_sock, char *err,
			    size_t errlen)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int s;

	if (strlen(ds->target) >= sizeof(a.sun_path)) {
		snprintf(err, errlen, "disk %s: socket path too long",
			 ds->vdev);
		return -1;
	}
	strcpy(a.sun_path, ds->target);
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof(a)) < 0) {
		snprintf(
			err, errlen,
			"disk %s: cannot connect to the vhost-user back end at %s: %s",
			ds->vdev, ds->target, strerror(errno));
		if (s >= 0)
			close(s);
		return -1;
	}
	*hv_sock = s;
	return 0;
}

int disks_attach(struct bhd *d, struct vmrec *r, const struct vmcfg *cfg,
		 int *socks, char *err, size_t errlen)
{
	disks_free(r);
	if (!cfg->ndisks)
		return 0;
	r->disks = calloc(cfg->ndisks, sizeof(*r->disks));
	if (!r->disks) {
		snprintf(err, errlen, "out of memory");
		return BHD_ERR_FAILED;
	}
	for (size_t i = 0; i < cfg->ndisks; i++) {
		const struct disk_spec *ds = &cfg->disks[i];
		struct disk_inst *di = &r->disks[i];
		int ret;

		*di = (struct disk_inst){ .pidfd = -1, .vm = r };
		snprintf(di->vdev, sizeof(di->vdev), "%s", ds->vdev);
		di->target = strdup(ds->target);
		di->backend = ds->backend;
		di->format = ds->format;
		di->readonly = ds->readonly;
		di->verity = ds->verity;
		r->ndisks = i + 1;
		socks[i] = -1;
		if (!di->target) {
			snprintf(err, errlen, "out of memory");
			ret = -1;
		} else if (ds->backend == DISK_BACKEND_VHOST_USER) {
			ret = connect_external(ds, &socks[i], err, errlen);
		} else {
			ret = start_blk(d, r, ds, di, &socks[i], err, errlen);
		}
		if (ret < 0) {
			for (size_t j = 0; j < i; j++)
				close(socks[j]);
			disks_detach(d, r);
			return BHD_ERR_FAILED;
		}
	}
	return 0;
}

/*
 * io_uring drops a dead process's registered files (the image) in kernel
 * work that may finish after the process is gone, so its image lock can
 * outlive it briefly: wait for that too, so that a restart finds the
 * image free.
 */
static void wait_lock_released(const struct disk_inst *di)
{
	int fd = open(di->target, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	char why[128];

	for (int waited = 0; fd >= 0 && waited < DETACH_WAIT_MS; waited += 10) {
		if (image_lock_check(fd, true, why, sizeof(why)) != -EBUSY)
			break;
		usleep(10000);
	}
	if (fd >= 0)
		close(fd);
}

void disks_detach(struct bhd *d, struct vmrec *r)
{
	for (size_t i = 0; i < r->ndisks; i++) {
		struct disk_inst *di = &r->disks[i];

		struct pollfd p = { .fd = di->pidfd, .events = POLLIN };

		/*
		 * Its VM is gone, so it is finishing anyway (its socket
		 * closed): SIGTERM lets it log and unlock, SIGKILL makes sure.
		 * Its image lock goes only with it, and a restart needs it.
		 */
		if (di->pidfd >= 0 && !di->exited) {
			syscall(SYS_pidfd_send_signal, di->pidfd, SIGTERM, NULL,
				0);
			if (poll(&p, 1, TERM_WAIT_MS) != 1) {
				syscall(SYS_pidfd_send_signal, di->pidfd,
					SIGKILL, NULL, 0);
				if (poll(&p, 1, DETACH_WAIT_MS) != 1)
					bh_warn("vm %s: disk %s: device model pid %d still there after %d ms",
						r->name, di->vdev, (int)di->pid,
						DETACH_WAIT_MS);
			}
		}
		if (di->pid && !di->readonly)
			wait_lock_released(di);
		unwatch(d, di);
	}
	disks_free(r);
}

void disks_on_exit(struct bhd *d)
{
	struct epoll_event evs[16];
	int n = epoll_wait(d->dm_epfd, evs, 16, 0);

	for (int i = 0; i < n; i++) {
		struct disk_inst *di = evs[i].data.ptr;
		uint64_t key = evs[i].data.u64;

		/* A NIC's device model: its pointer is tagged (nics.c). */
		if (key & 1) {
			nics_exited(d, (struct nic_inst *)(uintptr_t)(key - 1));
			continue;
		}
		di->exited = true;
		unwatch(d, di);
		bh_warn("vm %s: disk %s: its device model (pid %d) exited",
			di->vm->name, di->vdev, (int)di->pid);
	}
	if (n > 0)
		store_save(d);
}

void disks_recover(struct bhd *d, struct vmrec *r)
{
	for (size_t i = 0; i < r->ndisks; i++) {
		struct disk_inst *di = &r->disks[i];
		int fd;

		di->vm = r;
		if (!di->pid || di->exited)
			continue;
		fd = (int)syscall(SYS_pidfd_open, di->pid, 0);
		/* The same process, not another that got its pid. */
		if (fd < 0 ||
		    devmodel_proc_start_time(di->pid) != di->start_time) {
			if (fd >= 0)
				close(fd);
			di->exited = true;
			bh_warn("vm %s: disk %s: its device model (pid %d) is gone",
				r->name, di->vdev, (int)di->pid);
			continue;
		}
		di->pidfd = fd;
		watch(d, di);
	}
}
