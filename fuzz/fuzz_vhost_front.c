// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzzes bulkhead-hv's vhost-user front end against a hostile device
 * model: the input is everything the back end ever sends (its replies,
 * cut anywhere, optionally with a descriptor attached), fed through a
 * real socket to vhu_front_connect() and then, if the handshake passes,
 * to a start of one queue and a stop, on a fake platform with real guest
 * RAM and event loop.
 *
 * It aborts when a handshake that passed left the back end's description
 * out of bounds (queues, sizes, the configuration's length, VERSION_1
 * missing), when the front end stops the VM during the handshake (there
 * is no VM to stop yet) or with a reason that does not name the device,
 * when it leaves a descriptor open that was not open before, or on any
 * crash, hang or undefined behaviour a reply can cause.
 */
#include "fuzz_input.h"
#include "hv/devices/device.h"
#include "hv/event_loop.h"
#include "hv/memory.h"
#include "hv/virtio/vhost_user_front.h"
#include "hv/virtio/virtio_pci.h"
#include "util/log.h"

#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RAM_SIZE (64u << 10)

struct fake_vm {
	bool connecting;
	unsigned int stops;
	char detail[256];
};

static void f_irq_line(void *vm, unsigned int irq, int level)
{
	(void)vm;
	(void)irq;
	(void)level;
}

static int f_signal_msi(void *vm, uint64_t addr, uint32_t data)
{
	(void)vm;
	(void)addr;
	(void)data;
	return 0;
}

static void f_request_stop(void *opaque, enum vm_stop_reason reason,
			   const char *detail)
{
	struct fake_vm *vm = opaque;

	check(reason == VM_STOP_CRASH);
	check(!vm->connecting);
	vm->stops++;
	snprintf(vm->detail, sizeof(vm->detail), "%s", detail);
}

static bool f_stopping(void *opaque)
{
	return ((struct fake_vm *)opaque)->stops > 0;
}

static void f_log_vcpu(void *vm, struct vcpu *vcpu, const char *why)
{
	(void)vm;
	(void)vcpu;
	(void)why;
}

static int f_ioeventfd(void *vm, uint64_t addr, int fd, bool assign)
{
	(void)vm;
	(void)addr;
	(void)fd;
	(void)assign;
	return 0;
}

static int f_msi_route(void *vm, int gsi, uint64_t addr, uint32_t data)
{
	(void)vm;
	(void)addr;
	(void)data;
	return gsi < 0 ? 100 : gsi;
}

static void f_msi_route_free(void *vm, int gsi)
{
	(void)vm;
	(void)gsi;
}

static int f_irqfd(void *vm, int fd, int gsi, bool assign)
{
	(void)vm;
	(void)fd;
	(void)gsi;
	(void)assign;
	return 0;
}

static const struct dev_platform_ops ops = {
	.irq_line = f_irq_line,
	.signal_msi = f_signal_msi,
	.request_stop = f_request_stop,
	.stopping = f_stopping,
	.log_vcpu = f_log_vcpu,
	.ioeventfd = f_ioeventfd,
	.msi_route = f_msi_route,
	.msi_route_free = f_msi_route_free,
	.irqfd = f_irqfd,
};

static unsigned int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	unsigned int n = 0;

	check(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* Everything the back end says, at once, then its end of the stream. */
static void play_back_end(int sock, const uint8_t *p, size_t n, bool with_fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { (void *)p, n };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	int null = -1;

	if (with_fd && n) {
		struct cmsghdr *c;

		null = open("/dev/null", O_RDONLY | O_CLOEXEC);
		check(null >= 0);
		memset(&u, 0, sizeof(u));
		mh.msg_control = u.buf;
		mh.msg_controllen = sizeof(u.buf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &null, sizeof(int));
	}
	if (n)
		check(sendmsg(sock, &mh, MSG_NOSIGNAL) == (ssize_t)n);
	if (null >= 0)
		close(null);
	shutdown(sock, SHUT_WR);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct event_loop *loop;
	static uint8_t *ram;
	static int memfd = -1;
	struct rd r = { data, size };
	struct fake_vm vm = { .connecting = true };
	struct guest_mem mem = { .memfd = -1 };
	struct dev_platform plat;
	struct virtio_backend be;
	struct vhu_front *f;
	unsigned int before = open_fds();
	uint8_t flags = u8(&r), qshift = u8(&r) % 9;
	uint16_t dev_id = flags & 2 ? 1 : 2;
	int sv[2];
	char err[512];

	if (!loop) {
		bh_log_init("fuzz_vhost_front", BH_LOG_ERR);
		loop = event_loop_create();
		ram = aligned_alloc(4096, RAM_SIZE);
		memfd = memfd_create("fuzz-ram", MFD_CLOEXEC);
		check(loop && ram && memfd >= 0);
		before = open_fds();
	}
	mem.memfd = memfd;
	mem.host = ram;
	mem.size = RAM_SIZE;
	mem.layout = ram_layout_of(RAM_SIZE);
	plat = (struct dev_platform){ .ops = &ops,
				      .vm = &vm,
				      .vm_name = "fuzz",
				      .domid = 3,
				      .nvcpus = 1,
				      .loop = loop,
				      .mem = &mem };
	check(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	play_back_end(sv[1], r.p, r.n, flags & 1);
	/* Flag bit 1: the device is a NIC (virtio-net), not a disk. */
	f = vhu_front_connect(&plat, "xvdf", sv[0], dev_id, &be, err,
			      sizeof(err));
	if (!f) {
		check(!strncmp(err, "xvdf: ", 6));
	} else {
		struct virtio_queue_setup q = {
			.index = 0,
			.size = (uint16_t)(1u << qshift),
			.desc = 0x1000,
			.avail = 0x3000,
			.used = 0x4000,
			.kick_fd = -1,
			.call_fd = -1,
			.err_fd = -1,
		};

		check(be.num_queues >= 1 && be.num_queues <= VIRTIO_QUEUES_MAX);
		check(be.queue_size_max && be.queue_size_max <= 32768 &&
		      !(be.queue_size_max & (be.queue_size_max - 1)));
		check(be.config_len == vhu_config_size(dev_id));
		check(be.device_id == dev_id);
		check(be.class_code == (dev_id == 1 ? 0x020000u : 0x018000u));
		check(be.features & (1ull << 32));
		check(!(be.features & (1ull << 30)));
		vm.connecting = false;
		if (be.ops->start(be.opaque, 1ull << 32, &q, 1, err,
				  sizeof(err)) == 0)
			be.ops->stop(be.opaque);
		be.ops->destroy(be.opaque);
		/* A stop names the device it is about. */
		check(!vm.stops ||
		      !strncmp(vm.detail, "xvdf: device model: ", 20));
	}
	close(sv[1]);
	check(open_fds() == before);
	return 0;
}
