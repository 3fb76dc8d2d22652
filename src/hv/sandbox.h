/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The hypervisor's confinement after setup: no capabilities, no new
 * privileges, and a seccomp allowlist of exactly the system calls that
 * running VMs and serving the control socket need (docs/security.md,
 * "The hypervisor's sandbox", lists each one and why). Anything else
 * kills the process.
 */
#ifndef BH_HV_SANDBOX_H
#define BH_HV_SANDBOX_H

#include <stdbool.h>

struct jail_config;

enum hv_sandbox_mode {
	HV_SANDBOX_SERVE, /* bulkhead-hv serve: the control socket */
	HV_SANDBOX_RUN, /* bulkhead-hv run: one VM, stdin may be a terminal */
};

/*
 * Confines the process for the rest of its life. Call once, after setup
 * (/dev/kvm open, the control socket listening or run's files open) and
 * while the process has a single thread: capabilities are per thread, and
 * the filter is installed with TSYNC so every later thread inherits it.
 * vsock (serve only) adds what vsock's host end needs: unix sockets made,
 * bound, listened on and connected to by path, and their directory
 * watched and listed. With jail (serve), the process first enters it
 * (src/jail: its own uid or user namespace, an empty root holding only
 * the vsock directory, no network). Returns 0, or -1 after logging why
 * (the caller must then exit).
 */
int hv_sandbox_enter(enum hv_sandbox_mode mode, bool vsock,
		     const struct jail_config *jail);

#endif
