// SPDX-License-Identifier: GPL-2.0-only
#include "hv/vcpu.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hv/kvm.h"
#include "hv/vm.h"
#include "hv/x86/cpu_boot.h"
#include "hv/x86/cpuid.h"

#define MSR_IA32_MISC_ENABLE 0x1a0
#define MISC_ENABLE_FAST_STRING 0x1
#define MSR_MTRR_DEF_TYPE 0x2ff
#define MTRR_ENABLE (1u << 11)
#define MTRR_TYPE_WRBACK 6

#define APIC_LVT_LINT0 0x350
#define APIC_LVT_LINT1 0x360
#define APIC_MODE_NMI 0x4
#define APIC_MODE_EXTINT 0x7

#define VCPU_STACK_SIZE (256 * 1024)

static void kick_handler(int sig)
{
	(void)sig;
}

int vcpu_signals_init(void)
{
	struct sigaction sa = { .sa_handler = kick_handler };
	sigset_t set;

	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: KVM_RUN must come back with EINTR. */
	if (sigaction(VCPU_KICK_SIGNAL, &sa, NULL) < 0)
		return -1;
	sigemptyset(&set);
	sigaddset(&set, VCPU_KICK_SIGNAL);
	return pthread_sigmask(SIG_BLOCK, &set, NULL) ? -1 : 0;
}

static int vcpu_set_cpuid(struct vcpu *vcpu)
{
	const struct kvm_cpuid2 *sup = vcpu->vm->kvm->cpuid;
	int cap = (int)sup->nent + 4, n;
	struct kvm_cpuid2 *c;
	int ret;

	c = calloc(1, sizeof(*c) + cap * sizeof(c->entries[0]));
	if (!c)
		return -1;
	memcpy(c->entries, sup->entries, sup->nent * sizeof(c->entries[0]));
	n = cpuid_apply_topology(c->entries, (int)sup->nent, cap, vcpu->index,
				 vcpu->vm->nvcpus);
	if (n < 0) {
		free(c);
		return -1;
	}
	c->nent = (__u32)n;
	ret = ioctl(vcpu->fd, KVM_SET_CPUID2, c);
	free(c);
	return ret;
}

static int vcpu_set_msrs(struct vcpu *vcpu)
{
	union {
		struct kvm_msrs hdr;
		uint8_t room[sizeof(struct kvm_msrs) +
			     2 * sizeof(struct kvm_msr_entry)];
	} msrs;

	memset(&msrs, 0, sizeof(msrs));
	msrs.hdr.nmsrs = 2;
	msrs.hdr.entries[0].index = MSR_IA32_MISC_ENABLE;
	msrs.hdr.entries[0].data = MISC_ENABLE_FAST_STRING;
	/* Without this all memory would be uncached. */
	msrs.hdr.entries[1].index = MSR_MTRR_DEF_TYPE;
	msrs.hdr.entries[1].data = MTRR_ENABLE | MTRR_TYPE_WRBACK;
	return ioctl(vcpu->fd, KVM_SET_MSRS, &msrs) == 2 ? 0 : -1;
}

static void lapic_set_lvt_mode(struct kvm_lapic_state *l, unsigned int reg,
			       unsigned int mode)
{
	uint32_t v;

	memcpy(&v, l->regs + reg, 4);
	v = (v & ~0x700u) | mode << 8;
	memcpy(l->regs + reg, &v, 4);
}

/* LINT0 takes the 8259's ExtINT and LINT1 NMIs, as the MP table says. */
static int vcpu_set_lapic(struct vcpu *vcpu)
{
	struct kvm_lapic_state lapic;

	if (ioctl(vcpu->fd, KVM_GET_LAPIC, &lapic) < 0)
		return -1;
	lapic_set_lvt_mode(&lapic, APIC_LVT_LINT0, APIC_MODE_EXTINT);
	lapic_set_lvt_mode(&lapic, APIC_LVT_LINT1, APIC_MODE_NMI);
	return ioctl(vcpu->fd, KVM_SET_LAPIC, &lapic);
}

static int vcpu_set_fpu(struct vcpu *vcpu)
{
	struct kvm_fpu fpu = { .fcw = 0x37f, .mxcsr = 0x1f80 };

	return ioctl(vcpu->fd, KVM_SET_FPU, &fpu);
}

struct vcpu *vcpu_create(struct vm *vm, unsigned int index, char *err,
			 size_t errlen)
{
	struct vcpu *vcpu = calloc(1, sizeof(*vcpu));
	const char *step;

	if (!vcpu) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	vcpu->vm = vm;
	vcpu->index = index;
	vcpu->fd = ioctl(vm->fd, KVM_CREATE_VCPU, (unsigned long)index);
	if (vcpu->fd < 0) {
		step = "KVM_CREATE_VCPU";
		goto fail;
	}
	vcpu->run_size = (size_t)vm->kvm->vcpu_mmap_size;
	vcpu->run = mmap(NULL, vcpu->run_size, PROT_READ | PROT_WRITE,
			 MAP_SHARED, vcpu->fd, 0);
	if (vcpu->run == MAP_FAILED) {
		vcpu->run = NULL;
		step = "mmap of kvm_run";
		goto fail;
	}
	step = "CPUID";
	if (vcpu_set_cpuid(vcpu) < 0)
		goto fail;
	step = "MSRs";
	if (vcpu_set_msrs(vcpu) < 0)
		goto fail;
	step = "local APIC";
	if (vcpu_set_lapic(vcpu) < 0)
		goto fail;
	step = "FPU";
	if (vcpu_set_fpu(vcpu) < 0)
		goto fail;
	return vcpu;
fail:
	snprintf(err, errlen, "vCPU %u: %s failed: %s", index, step,
		 strerror(errno));
	vcpu_destroy(vcpu);
	return NULL;
}

int vcpu_setup_boot(struct vcpu *vcpu, uint64_t entry, uint64_t zero_page,
		    bool ap)
{
	struct kvm_mp_state runnable = { .mp_state = KVM_MP_STATE_RUNNABLE };
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	if (ap && ioctl(vcpu->fd, KVM_SET_MP_STATE, &runnable) < 0)
		return -1;
	if (ioctl(vcpu->fd, KVM_GET_SREGS, &sregs) < 0)
		return -1;
	cpu_boot_sregs(&sregs);
	if (ioctl(vcpu->fd, KVM_SET_SREGS, &sregs) < 0)
		return -1;
	cpu_boot_regs(&regs, entry, zero_page);
	return ioctl(vcpu->fd, KVM_SET_REGS, &regs);
}

void vcpu_log_state(struct vcpu *vcpu, const char *why)
{
	const char *name = vcpu->vm->name;
	struct kvm_sregs s;
	struct kvm_regs r;

	bh_err("vm %s: vCPU %u: %s", name, vcpu->index, why);
	if (ioctl(vcpu->fd, KVM_GET_REGS, &r) < 0 ||
	    ioctl(vcpu->fd, KVM_GET_SREGS, &s) < 0) {
		bh_err("vm %s: vCPU %u: registers unavailable: %s", name,
		       vcpu->index, strerror(errno));
		return;
	}
	bh_err("vm %s: vCPU %u: rip=%016llx rsp=%016llx rflags=%016llx", name,
	       vcpu->index, r.rip, r.rsp, r.rflags);
	bh_err("vm %s: vCPU %u: rax=%016llx rbx=%016llx rcx=%016llx rdx=%016llx",
	       name, vcpu->index, r.rax, r.rbx, r.rcx, r.rdx);
	bh_err("vm %s: vCPU %u: rsi=%016llx rdi=%016llx rbp=%016llx r8=%016llx",
	       name, vcpu->index, r.rsi, r.rdi, r.rbp, r.r8);
	bh_err("vm %s: vCPU %u: r9=%016llx r10=%016llx r11=%016llx r12=%016llx",
	       name, vcpu->index, r.r9, r.r10, r.r11, r.r12);
	bh_err("vm %s: vCPU %u: r13=%016llx r14=%016llx r15=%016llx", name,
	       vcpu->index, r.r13, r.r14, r.r15);
	bh_err("vm %s: vCPU %u: cr0=%016llx cr2=%016llx cr3=%016llx cr4=%016llx efer=%016llx",
	       name, vcpu->index, s.cr0, s.cr2, s.cr3, s.cr4, s.efer);
	bh_err("vm %s: vCPU %u: cs=%04x ss=%04x ds=%04x gdt=%016llx/%x idt=%016llx/%x",
	       name, vcpu->index, s.cs.selector, s.ss.selector, s.ds.selector,
	       s.gdt.base, s.gdt.limit, s.idt.base, s.idt.limit);
}

static void vcpu_crash(struct vcpu *vcpu, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void vcpu_crash(struct vcpu *vcpu, const char *fmt, ...)
{
	char why[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	vcpu_log_state(vcpu, why);
	vm_request_stop(vcpu->vm, VM_STOP_CRASH, why);
}

static void vcpu_exit_io(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	bool write = run->io.direction == KVM_EXIT_IO_OUT;
	unsigned int i;

	for (i = 0; i < run->io.count; i++, data += run->io.size) {
		if (!io_bus_dispatch(&vcpu->vm->pio, vcpu, run->io.port, data,
				     run->io.size, write) &&
		    !write)
			memset(data, 0xff, run->io.size);
	}
}

static void vcpu_exit_mmio(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;

	if (run->mmio.len > sizeof(run->mmio.data))
		return;
	if (!io_bus_dispatch(&vcpu->vm->mmio, vcpu, run->mmio.phys_addr,
			     run->mmio.data, run->mmio.len,
			     run->mmio.is_write) &&
	    !run->mmio.is_write)
		memset(run->mmio.data, 0xff, run->mmio.len);
}

static void vcpu_exit_system_event(struct vcpu *vcpu)
{
	switch (vcpu->run->system_event.type) {
	case KVM_SYSTEM_EVENT_SHUTDOWN:
		vm_request_stop(vcpu->vm, VM_STOP_POWEROFF, "system event");
		break;
	case KVM_SYSTEM_EVENT_RESET:
		vm_request_stop(vcpu->vm, VM_STOP_REBOOT, "system event");
		break;
	default:
		vcpu_crash(vcpu, "system event %u",
			   vcpu->run->system_event.type);
		break;
	}
}

/* Handles one exit; false when the vCPU must stop. */
static bool vcpu_handle_exit(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		vcpu_exit_io(vcpu);
		return true;
	case KVM_EXIT_MMIO:
		vcpu_exit_mmio(vcpu);
		return true;
	case KVM_EXIT_INTR:
	case KVM_EXIT_HLT:
		return true;
	case KVM_EXIT_SHUTDOWN:
		vcpu_crash(vcpu, "triple fault");
		return false;
	case KVM_EXIT_FAIL_ENTRY:
		vcpu_crash(vcpu, "VM entry failed, hardware reason 0x%llx",
			   (unsigned long long)run->fail_entry
				   .hardware_entry_failure_reason);
		return false;
	case KVM_EXIT_INTERNAL_ERROR:
		vcpu_crash(vcpu, "KVM internal error, suberror %u",
			   run->internal.suberror);
		return false;
	case KVM_EXIT_SYSTEM_EVENT:
		vcpu_exit_system_event(vcpu);
		return false;
	default:
		vcpu_crash(vcpu, "unexpected KVM exit reason %u",
			   run->exit_reason);
		return false;
	}
}

/* Blocks while the VM is paused; false once it must stop. */
static bool vcpu_wait_runnable(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;
	bool run;

	pthread_mutex_lock(&vm->lock);
	while (atomic_load(&vm->pause_req) && !atomic_load(&vm->stop_reason)) {
		vm->parked++;
		pthread_cond_broadcast(&vm->cond);
		pthread_cond_wait(&vm->cond, &vm->lock);
		vm->parked--;
	}
	run = !atomic_load(&vm->stop_reason);
	pthread_mutex_unlock(&vm->lock);
	return run;
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *vcpu = arg;
	struct vm *vm = vcpu->vm;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, VCPU_KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);

	for (;;) {
		if ((atomic_load(&vm->pause_req) ||
		     atomic_load(&vm->stop_reason)) &&
		    !vcpu_wait_runnable(vcpu))
			break;
		if (ioctl(vcpu->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				vcpu->run->immediate_exit = 0;
				continue;
			}
			vcpu_crash(vcpu, "KVM_RUN failed: %s", strerror(errno));
			break;
		}
		if (!vcpu_handle_exit(vcpu))
			break;
	}

	pthread_mutex_lock(&vm->lock);
	vm->threads--;
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
	return NULL;
}

int vcpu_start(struct vcpu *vcpu)
{
	pthread_attr_t attr;
	int ret;

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, VCPU_STACK_SIZE);
	ret = pthread_create(&vcpu->thread, &attr, vcpu_thread, vcpu);
	pthread_attr_destroy(&attr);
	if (ret)
		return -1;
	vcpu->started = true;
	return 0;
}

void vcpu_kick(struct vcpu *vcpu)
{
	if (!vcpu->started)
		return;
	/* Set before the signal: a KVM_RUN entered after it returns at once. */
	__atomic_store_n(&vcpu->run->immediate_exit, 1, __ATOMIC_RELEASE);
	pthread_kill(vcpu->thread, VCPU_KICK_SIGNAL);
}

unsigned int vcpu_index(const struct vcpu *vcpu)
{
	return vcpu->index;
}

void vcpu_join(struct vcpu *vcpu)
{
	if (vcpu->started)
		pthread_join(vcpu->thread, NULL);
	vcpu->started = false;
}

void vcpu_destroy(struct vcpu *vcpu)
{
	if (!vcpu)
		return;
	if (vcpu->run)
		munmap(vcpu->run, vcpu->run_size);
	if (vcpu->fd >= 0)
		close(vcpu->fd);
	free(vcpu);
}
