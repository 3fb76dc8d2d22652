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

static void serial_irq(void *opaque, int level)
{
	vm_irq_line(opaque, IRQ_SERIAL_COM1, level);
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

static int vm_create_devices(struct vm *vm, int console_fd,
			     struct hmx_host *hmx, char *err, size_t errlen)
{
	vm->console = console_create(console_fd);
	if (!vm->console) {
		if (console_fd >= 0)
			close(console_fd);
		return vm_fail(err, errlen, "console: out of memory");
	}
	vm->serial = serial_create(serial_irq, serial_tx, vm);
	vm->i8042 = i8042_create(vm);
	vm->acpi_pm = acpi_pm_create(vm);
	if (!vm->serial || !vm->i8042 || !vm->acpi_pm)
		return vm_fail(err, errlen, "devices: out of memory");
	if (io_bus_register(&vm->pio, PORT_SERIAL_COM1, 8, serial_io,
			    vm->serial, "serial") < 0 ||
	    io_bus_register(&vm->pio, PORT_I8042_DATA, 1, i8042_data_io,
			    vm->i8042, "i8042") < 0 ||
	    io_bus_register(&vm->pio, PORT_I8042_CMD, 1, i8042_cmd_io,
			    vm->i8042, "i8042") < 0 ||
	    io_bus_register(&vm->pio, PORT_ACPI_PM1_EVT, ACPI_PM_IO_LEN,
			    acpi_pm_io, vm->acpi_pm, "acpi-pm") < 0)
		return vm_fail(err, errlen, "devices: I/O port conflict");
	vm->pci = pci_bus_create(vm);
	if (!vm->pci || pvpanic_add(vm, vm->pci) < 0)
		return vm_fail(err, errlen, "PCI bus setup failed");
	if (hmx) {
		vm->hmx_dev = hmx_dev_add(vm, vm->pci, hmx);
		if (!vm->hmx_dev)
			return vm_fail(err, errlen,
				       "HMX: cannot add domain %u (in use?)",
				       vm->domid);
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
	uint64_t entry, zero_page;
	uint8_t *kernel;
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
	ret = x86_boot_load(&vm->mem, &f, &entry, &zero_page, err, errlen);
	free(kernel);
	if (ret < 0)
		return -1;
	if (vcpu_setup_boot(vm->vcpus[0], entry, zero_page) < 0)
		return vm_fail(err, errlen, "boot vCPU setup: %s",
			       strerror(errno));
	return 0;
}

struct vm *vm_create(const struct kvm_host *kvm, const struct vm_config *cfg,
		     char *err, size_t errlen)
{
	struct vm *vm;
	unsigned int i;
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
	vm->vcpus = calloc(cfg->vcpus, sizeof(*vm->vcpus));
	if (vm->stop_eventfd < 0 || !vm->vcpus) {
		vm_fail(err, errlen, "out of memory");
		goto fail;
	}
	if (vm_create_devices(vm, console_fd, cfg->hmx, err, errlen) < 0) {
		console_fd = -1; /* owned by the console now, or closed */
		goto fail;
	}
	console_fd = -1;
	if (guest_mem_create(&vm->mem, vm->name, cfg->memory) < 0) {
		vm_fail(err, errlen, "memory: cannot allocate %llu MiB",
			(unsigned long long)(cfg->memory >> 20));
		goto fail;
	}
	if (vm_create_kvm(vm, err, errlen) < 0)
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
	vm_destroy(vm);
	return NULL;
fail_early:
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
	/* Before RAM goes: peers' sends may still be copying into it. */
	hmx_dev_destroy(vm->hmx_dev);
	pci_bus_destroy(vm->pci);
	acpi_pm_destroy(vm->acpi_pm);
	i8042_destroy(vm->i8042);
	serial_destroy(vm->serial);
	console_destroy(vm->console);
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
