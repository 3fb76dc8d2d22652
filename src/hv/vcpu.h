/* SPDX-License-Identifier: GPL-2.0-only */
/* A vCPU: one KVM vCPU fd and the thread that runs it. */
#ifndef BH_HV_VCPU_H
#define BH_HV_VCPU_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/kvm.h>

#include "util/log.h"

struct vm;

/* Interrupts KVM_RUN; blocked everywhere but in vCPU threads. */
#define VCPU_KICK_SIGNAL SIGUSR1

struct vcpu {
	struct vm *vm;
	unsigned int index;
	int fd;
	struct kvm_run *run;
	size_t run_size;
	pthread_t thread;
	bool started;
};

/* The vCPU's number in its VM, 0..nvcpus-1 (for per-vCPU device state). */
unsigned int vcpu_index(const struct vcpu *vcpu);

/* Installs the kick signal's handler; once per process, before threads. */
int vcpu_signals_init(void);

struct vcpu *vcpu_create(struct vm *vm, unsigned int index, char *err,
			 size_t errlen);
/*
 * Puts the vCPU at a 64-bit entry point with rsi = zero page. An
 * application processor (ap) is also made runnable: by default KVM holds
 * it until a SIPI.
 */
int vcpu_setup_boot(struct vcpu *vcpu, uint64_t entry, uint64_t zero_page,
		    bool ap);
int vcpu_start(struct vcpu *vcpu);
/* Makes a running KVM_RUN return so the thread re-reads VM state. */
void vcpu_kick(struct vcpu *vcpu);
void vcpu_join(struct vcpu *vcpu);
void vcpu_destroy(struct vcpu *vcpu);

/* Logs why and the registers; call on the vCPU's own thread. */
void vcpu_log_state(struct vcpu *vcpu, const char *why);

#endif
