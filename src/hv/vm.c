// SPDX-License-Identifier: GPL-2.0-only
#include "hv/vm.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hv/console.h"
#include "hv/devices/acpi_pm.h"
#include "hv/devices/hmx_dev.h"
#include "hv/devices/i8042.h"
#include "hv/devices/pci.h"
#include "hv/devices/pvpanic.h"
#include "hv/devices/serial.h"
#include "hv/kvm.h"
#include "hv/vcpu.h"
#include "hv/virtio/vhost_user_front.h"
#include "hv/virtio/virtio_pci.h"
#include "hv/x86/layout.h"
#include "hv/x86/loader.h"

#define KERNEL_MAX_SIZE (256ull << 20)

static const char *const stop_reason_names[] = {
	[VM_STOP_NONE] = "running",	   [VM_STOP_POWEROFF] = "poweroff",
	[VM_STOP_REBOOT] = "reboot",	   [VM_STOP_CRASH] = "crash",
	[VM_STOP_DESTROYED] = "destroyed",
};

static const char *const state_names[] = {
	[VM_STATE_CREATED] = "created",
	[VM_STATE_RUNNING] = "running",
	[VM_STATE_PAUSED] = "paused",
	[VM_STATE_STOPPED] = "stopped",
};

const char *vm_stop_reason_name(enum vm_stop_reason reason)
{
	return stop_reason_names[reason];
}

const char *vm_state_name(enum vm_state state)
{
	return state_names[state];
}

void vm_irq_line(struct vm *vm, unsigned int irq, int level)
{
	struct kvm_irq_level l = { .irq = irq, .level = (__u32)level };

	ioctl(vm->fd, KVM_IRQ_LINE, &l);
}

int vm_signal_msi(struct vm *vm, uint64_t addr, uint32_t data)
{
	struct kvm_msi msi = {
		.address_lo = (uint32_t)addr,
		.address_hi = (uint32_t)(addr >> 32),
		.data = data,
	};

	return ioctl(vm->fd, KVM_SIGNAL_MSI, &msi) < 0 ? -1 : 0;
}

static void plat_irq_line(void *vm, unsigned int irq, int level)
{
	vm_irq_line(vm, irq, level);
}

static int plat_signal_msi(void *vm, uint64_t addr, uint32_t data)
{
	return vm_signal_msi(vm, addr, data);
}

static void plat_request_stop(void *vm, enum vm_stop_reason reason,
			      const char *detail)
{
	vm_request_stop(vm, reason, detail);
}

static bool plat_stopping(void *vm)
{
	return vm_stop_reason(vm) != VM_STOP_NONE;
}

static void plat_log_vcpu(void *opaque, struct vcpu *vcpu, const char *why)
{
	struct vm *vm = opaque;

	if (vcpu)
		vcpu_log_state(vcpu, why);
	else
		bh_err("vm %s: %s", vm->name, why);
}

static int plat_ioeventfd(void *opaque, uint64_t addr, int fd, bool assign)
{
	struct vm *vm = opaque;
	struct kvm_ioeventfd io = {
		.addr = addr,
		.len = 0, /* any access size: KVM's fastest MMIO path */
		.fd = fd,
		.flags = assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN,
	};

	return ioctl(vm->fd, KVM_IOEVENTFD, &io) < 0 ? -1 : 0;
}

static int plat_msi_route(void *opaque, int gsi, uint64_t addr, uint32_t data)
{
	struct vm *vm = opaque;

	return irq_routing_set_msi(&vm->irq, gsi, addr, data);
}

static void plat_msi_route_free(void *opaque, int gsi)
{
	struct vm *vm = opaque;

	irq_routing_free_msi(&vm->irq, gsi);
}

static int plat_irqfd(void *opaque, int fd, int gsi, bool assign)
{
	struct vm *vm = opaque;
	struct kvm_irqfd irqfd = {
		.fd = (__u32)fd,
		.gsi = (__u32)gsi,
		.flags = assign ? 0 : KVM_IRQFD_FLAG_DEASSIGN,
	};

	if (gsi < 0)
		return -1;
	return ioctl(vm->fd, KVM_IRQFD, &irqfd) < 0 ? -1 : 0;
}

static const struct dev_platform_ops vm_platform_ops = {
	.irq_line = plat_irq_line,
	.signal_msi = plat_signal_msi,
	.request_stop = plat_request_stop,
	.stopping = plat_stopping,
	.log_vcpu = plat_log_vcpu,
	.ioeventfd = plat_ioeventfd,
	.msi_route = plat_msi_route,
	.msi_route_free = plat_msi_route_free,
	.irqfd = plat_irqfd,
};

size_t vm_console_receive(struct vm *vm, const uint8_t *buf, size_t len)
{
	struct device *d = device_list_find(&vm->devices, &serial_ops);

	return d ? serial_receive(serial_of(d), buf, len) : len;
}

size_t vm_console_room(struct vm *vm)
{
	struct device *d = device_list_find(&vm->devices, &serial_ops);

	return d ? serial_rx_room(serial_of(d)) : 0;
}

void vm_send_ctrl_alt_del(struct vm *vm)
{
	struct device *d = device_list_find(&vm->devices, &i8042_ops);

	if (d)
		i8042_send_ctrl_alt_del(i8042_of(d));
}

static void serial_tx(void *opaque, const uint8_t *buf, size_t len)
{
	struct vm *vm = opaque;

	console_output(vm->console, buf, len);
}

static void kick_all(struct vm *vm)
{
	unsigned int i;

	for (i = 0; i < vm->nvcpus; i++)
		if (vm->vcpus[i])
			vcpu_kick(vm->vcpus[i]);
}

void vm_request_stop(struct vm *vm, enum vm_stop_reason reason,
		     const char *detail)
{
	uint64_t one = 1;
	bool first = false;

	pthread_mutex_lock(&vm->lock);
	if (atomic_load(&vm->stop_reason) == VM_STOP_NONE) {
		snprintf(vm->stop_detail, sizeof(vm->stop_detail), "%s",
			 detail ? detail : "");
		atomic_store(&vm->stop_reason, reason);
		first = true;
		pthread_cond_broadcast(&vm->cond); /* wake parked vCPUs */
	}
	pthread_mutex_unlock(&vm->lock);
	if (!first)
		return;
	kick_all(vm);
	if (write(vm->stop_eventfd, &one, sizeof(one)) < 0)
		bh_debug("vm %s: stop eventfd: %s", vm->name, strerror(errno));
}

enum vm_stop_reason vm_stop_reason(struct vm *vm)
{
	return atomic_load(&vm->stop_reason);
}

enum vm_state vm_state(struct vm *vm)
{
	enum vm_state s;

	pthread_mutex_lock(&vm->lock);
	s = vm->state;
	pthread_mutex_unlock(&vm->lock);
	return s;
}

static int vm_fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int vm_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static int vm_check_config(const struct vm_config *cfg, char *err,
			   size_t errlen)
{
	if (!cfg->name || !*cfg->name || strlen(cfg->name) > VM_NAME_MAX)
		return vm_fail(err, errlen, "name: must be 1 to %d characters",
			       VM_NAME_MAX);
	if (!cfg->vcpus || cfg->vcpus > VM_MAX_VCPUS)
		return vm_fail(err, errlen, "vcpus: %u is out of range 1..%d",
			       cfg->vcpus, VM_MAX_VCPUS);
	if (cfg->memory < VM_MIN_MEMORY || cfg->memory > VM_MAX_MEMORY ||
	    cfg->memory & ((1ull << 20) - 1))
		return vm_fail(
			err, errlen,
			"memory: %llu bytes is not a whole number of MiB between %llu MiB and %llu MiB",
			(unsigned long long)cfg->memory, VM_MIN_MEMORY >> 20,
			VM_MAX_MEMORY >> 20);
	if (cfg->kernel_fd < 0)
		return vm_fail(err, errlen, "kernel: none given");
	return 0;
}

static uint8_t *read_kernel(int fd, size_t *len, char *err, size_t errlen)
{
	struct stat st;
	uint8_t *buf;
	size_t done = 0;

	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		vm_fail(err, errlen, "kernel: not a regular file");
		return NULL;
	}
	if (st.st_size == 0 || (uint64_t)st.st_size > KERNEL_MAX_SIZE) {
		vm_fail(err, errlen,
			"kernel: size %lld is not in 1..%llu bytes",
			(long long)st.st_size, KERNEL_MAX_SIZE);
		return NULL;
	}
	buf = malloc((size_t)st.st_size);
	if (!buf) {
		vm_fail(err, errlen, "kernel: out of memory");
		return NULL;
	}
	while (done < (size_t)st.st_size) {
		ssize_t n = pread(fd, buf + done, (size_t)st.st_size - done,
				  (off_t)done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			vm_fail(err, errlen, "kernel: read failed: %s",
				n < 0 ? strerror(errno) : "file shrank");
			free(buf);
			return NULL;
		}
		done += (size_t)n;
	}
	*len = done;
	return buf;
}

static int vm_create_kvm(struct vm *vm, char *err, size_t errlen)
{
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };

	vm->fd = ioctl(vm->kvm->fd, KVM_CREATE_VM, 0);
	if (vm->fd < 0)
		return vm_fail(err, errlen, "KVM_CREATE_VM: %s",
			       strerror(errno));
	if (ioctl(vm->fd, KVM_SET_TSS_ADDR, (unsigned long)LAYOUT_KVM_TSS) < 0)
		return vm_fail(err, errlen, "KVM_SET_TSS_ADDR: %s",
			       strerror(errno));
	{
		__u64 idmap = LAYOUT_KVM_IDENTITY_MAP;

		if (ioctl(vm->fd, KVM_SET_IDENTITY_MAP_ADDR, &idmap) < 0)
			return vm_fail(err, errlen,
				       "KVM_SET_IDENTITY_MAP_ADDR: %s",
				       strerror(errno));
	}
	if (ioctl(vm->fd, KVM_CREATE_IRQCHIP, 0) < 0)
		return vm_fail(err, errlen, "KVM_CREATE_IRQCHIP: %s",
			       strerror(errno));
	if (ioctl(vm->fd, KVM_CREATE_PIT2, &pit) < 0)
		return vm_fail(err, errlen, "KVM_CREATE_PIT2: %s",
			       strerror(errno));
	if (guest_mem_map(&vm->mem, vm->fd) < 0)
		return vm_fail(err, errlen, "cannot map guest RAM into KVM");
	return 0;
}

/* Adds dev to the list, or reports what could not be built. */
static int vm_add(struct vm *vm, struct device *dev, const char *what,
		  char *err, size_t errlen)
{
	if (!dev)
		return vm_fail(err, errlen, "%s: cannot create the device",
			       what);
	device_list_add(&vm->devices, dev);
	return 0;
}

/* A vhost-user device model behind a virtio-pci function. */
static int vm_add_vhost_user(struct vm *vm, const struct vm_vhost_user *v,
			     char *err, size_t errlen)
{
	struct virtio_backend be;
	struct virtio_pci *vp;
	struct vhu_front *f;

	f = vhu_front_connect(&vm->plat, v->name, v->sock, v->device_id, &be,
			      err, errlen);
	if (!f)
		return -1;
	vp = virtio_pci_create(&vm->plat, v->name, &be, err, errlen);
	if (!vp) {
		vhu_front_free(f);
		return -1;
	}
	device_list_add(&vm->devices, virtio_pci_device(vp));
	return 0;
}

static void close_vhost_sockets(const struct vm_config *cfg, unsigned int from)
{
	for (unsigned int i = from; i < cfg->nvhost; i++)
		if (cfg->vhost[i].sock >= 0)
			close(cfg->vhost[i].sock);
}

static int vm_create_devices(struct vm *vm, const struct vm_config *cfg,
			     char *err, size_t errlen)
{
	struct hmx_host *hmx = cfg->hmx;
	struct dev_platform *p = &vm->plat;
	struct serial *serial;
	struct i8042 *kbc;
	struct acpi_pm *pm;
	struct pci_bus *bus;

	bus = pci_bus_create(p, vm->mem.layout.high_size);
	if (vm_add(vm, bus ? pci_bus_device(bus) : NULL, "PCI bus", err,
		   errlen) < 0)
		return -1;
	p->pci = bus;
	serial = serial_create(p, PORT_SERIAL_COM1, IRQ_SERIAL_COM1, serial_tx,
			       vm);
	if (vm_add(vm, serial ? serial_device(serial) : NULL, "serial", err,
		   errlen) < 0)
		return -1;
	kbc = i8042_create(p);
	if (vm_add(vm, kbc ? i8042_device(kbc) : NULL, "i8042", err, errlen) <
	    0)
		return -1;
	pm = acpi_pm_create(p);
	if (vm_add(vm, pm ? acpi_pm_device(pm) : NULL, "ACPI PM", err, errlen) <
	    0)
		return -1;
	if (vm_add(vm, pvpanic_create(p), "pvpanic", err, errlen) < 0)
		return -1;
	if (hmx && vm_add(vm, hmx_dev_create(p, hmx), "HMX", err, errlen) < 0)
		return vm_fail(err, errlen,
			       "HMX: cannot add domain %u (in use?)",
			       vm->domid);
	for (unsigned int i = 0; i < cfg->nvhost; i++) {
		if (vm_add_vhost_user(vm, &cfg->vhost[i], err, errlen) < 0) {
			close_vhost_sockets(cfg, i + 1);
			return -1;
		}
	}
	return 0;
}

static int vm_load(struct vm *vm, const struct vm_config *cfg, char *err,
		   size_t errlen)
{
	struct boot_files f = {
		.initrd_fd = cfg->initrd_fd,
		.cmdline = cfg->cmdline ? cfg->cmdline : "",
		.nvcpus = cfg->vcpus,
	};
	struct boot_entry entry;
	uint8_t *kernel;
	unsigned int i;
	int ret;

	if (cfg->initrd_fd >= 0) {
		struct stat st;

		if (fstat(cfg->initrd_fd, &st) < 0 || !S_ISREG(st.st_mode) ||
		    st.st_size <= 0)
			return vm_fail(err, errlen,
				       "initrd: not a non-empty regular file");
		f.initrd_size = (uint64_t)st.st_size;
	}
	kernel = read_kernel(cfg->kernel_fd, &f.kernel_len, err, errlen);
	if (!kernel)
		return -1;
	f.kernel = kernel;
	ret = x86_boot_load(&vm->mem, &f, &entry, err, errlen);
	free(kernel);
	if (ret < 0)
		return -1;
	for (i = 0; i < (entry.all_vcpus ? vm->nvcpus : 1); i++)
		if (vcpu_setup_boot(vm->vcpus[i], entry.rip, entry.zero_page,
				    i > 0) < 0)
			return vm_fail(err, errlen, "vCPU %u boot setup: %s", i,
				       strerror(errno));
	return 0;
}

struct vm *vm_create(const struct kvm_host *kvm, const struct vm_config *cfg,
		     char *err, size_t errlen)
{
	struct vm *vm;
	unsigned int i, vhost_from = 0;
	int console_fd = cfg->console_fd;

	if (vm_check_config(cfg, err, errlen) < 0)
		goto fail_early;
	vm = calloc(1, sizeof(*vm));
	if (!vm) {
		vm_fail(err, errlen, "out of memory");
		goto fail_early;
	}
	vm->kvm = kvm;
	vm->fd = -1;
	vm->mem.memfd = -1;
	snprintf(vm->name, sizeof(vm->name), "%s", cfg->name);
	vm->domid = cfg->domid;
	vm->nvcpus = cfg->vcpus;
	pthread_mutex_init(&vm->lock, NULL);
	pthread_cond_init(&vm->cond, NULL);
	vm->stop_eventfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	io_bus_init(&vm->pio, "pio");
	io_bus_init(&vm->mmio, "mmio");
	irq_routing_init(&vm->irq, -1);
	vm->plat = (struct dev_platform){
		.ops = &vm_platform_ops,
		.vm = vm,
		.vm_name = vm->name,
		.domid = vm->domid,
		.nvcpus = vm->nvcpus,
		.pio = &vm->pio,
		.mmio = &vm->mmio,
		.loop = cfg->loop,
		.mem = &vm->mem,
	};
	vm->vcpus = calloc(cfg->vcpus, sizeof(*vm->vcpus));
	if (vm->stop_eventfd < 0 || !vm->vcpus) {
		vm_fail(err, errlen, "out of memory");
		goto fail;
	}
	vm->console = console_create(console_fd);
	console_fd = -1; /* owned by the console now, or closed below */
	if (!vm->console) {
		if (cfg->console_fd >= 0)
			close(cfg->console_fd);
		vm_fail(err, errlen, "console: out of memory");
		goto fail;
	}
	if (guest_mem_create(&vm->mem, vm->name, cfg->memory) < 0) {
		vm_fail(err, errlen, "memory: cannot allocate %llu MiB",
			(unsigned long long)(cfg->memory >> 20));
		goto fail;
	}
	if (vm_create_kvm(vm, err, errlen) < 0)
		goto fail;
	vm->irq.vm_fd = vm->fd;
	vhost_from = cfg->nvhost; /* vm_create_devices consumes them all */
	if (vm_create_devices(vm, cfg, err, errlen) < 0)
		goto fail;
	for (i = 0; i < vm->nvcpus; i++) {
		vm->vcpus[i] = vcpu_create(vm, i, err, errlen);
		if (!vm->vcpus[i])
			goto fail;
	}
	if (vm_load(vm, cfg, err, errlen) < 0)
		goto fail;
	vm->state = VM_STATE_CREATED;
	return vm;
fail:
	close_vhost_sockets(cfg, vhost_from);
	vm_destroy(vm);
	return NULL;
fail_early:
	close_vhost_sockets(cfg, 0);
	if (console_fd >= 0)
		close(console_fd);
	return NULL;
}

int vm_start(struct vm *vm)
{
	unsigned int i;

	pthread_mutex_lock(&vm->lock);
	if (vm->state != VM_STATE_CREATED) {
		pthread_mutex_unlock(&vm->lock);
		return -1;
	}
	vm->state = VM_STATE_RUNNING;
	clock_gettime(CLOCK_MONOTONIC, &vm->started);
	pthread_mutex_unlock(&vm->lock);
	for (i = 0; i < vm->nvcpus; i++) {
		pthread_mutex_lock(&vm->lock);
		vm->threads++;
		pthread_mutex_unlock(&vm->lock);
		if (vcpu_start(vm->vcpus[i]) < 0) {
			pthread_mutex_lock(&vm->lock);
			vm->threads--;
			pthread_mutex_unlock(&vm->lock);
			vm_request_stop(vm, VM_STOP_CRASH,
					"cannot start vCPU threads");
			return -1;
		}
	}
	return 0;
}

int vm_pause(struct vm *vm)
{
	int ret = 0;

	pthread_mutex_lock(&vm->lock);
	if (vm->state != VM_STATE_RUNNING || atomic_load(&vm->stop_reason)) {
		ret = -1;
		goto out;
	}
	atomic_store(&vm->pause_req, true);
	pthread_mutex_unlock(&vm->lock);
	kick_all(vm);
	pthread_mutex_lock(&vm->lock);
	while (vm->parked < vm->threads && !atomic_load(&vm->stop_reason))
		pthread_cond_wait(&vm->cond, &vm->lock);
	vm->state = VM_STATE_PAUSED;
out:
	pthread_mutex_unlock(&vm->lock);
	return ret;
}

int vm_unpause(struct vm *vm)
{
	int ret = 0;

	pthread_mutex_lock(&vm->lock);
	if (vm->state != VM_STATE_PAUSED) {
		ret = -1;
	} else {
		atomic_store(&vm->pause_req, false);
		vm->state = VM_STATE_RUNNING;
		pthread_cond_broadcast(&vm->cond);
	}
	pthread_mutex_unlock(&vm->lock);
	return ret;
}

void vm_wait_stopped(struct vm *vm)
{
	unsigned int i;

	pthread_mutex_lock(&vm->lock);
	while (vm->threads)
		pthread_cond_wait(&vm->cond, &vm->lock);
	vm->state = VM_STATE_STOPPED;
	pthread_mutex_unlock(&vm->lock);
	for (i = 0; i < vm->nvcpus; i++)
		if (vm->vcpus[i])
			vcpu_join(vm->vcpus[i]);
}

void vm_destroy(struct vm *vm)
{
	unsigned int i;

	if (!vm)
		return;
	if (vm->vcpus) {
		vm_request_stop(vm, VM_STOP_DESTROYED, "destroyed by the host");
		vm_wait_stopped(vm);
		for (i = 0; i < vm->nvcpus; i++)
			vcpu_destroy(vm->vcpus[i]);
		free(vm->vcpus);
	}
	/*
	 * Newest first, and before RAM goes: peers' HMX sends may still be
	 * copying into it, and device models still have it mapped.
	 */
	device_list_destroy(&vm->devices);
	console_destroy(vm->console);
	irq_routing_fini(&vm->irq);
	io_bus_destroy(&vm->pio);
	io_bus_destroy(&vm->mmio);
	if (vm->fd >= 0)
		close(vm->fd);
	guest_mem_destroy(&vm->mem);
	if (vm->stop_eventfd >= 0)
		close(vm->stop_eventfd);
	pthread_cond_destroy(&vm->cond);
	pthread_mutex_destroy(&vm->lock);
	free(vm);
}
