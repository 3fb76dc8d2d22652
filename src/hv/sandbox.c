// SPDX-License-Identifier: GPL-2.0-only
/*
 * Capabilities dropped, no_new_privs, then a seccomp-bpf allowlist built
 * with libseccomp. The list is what the hypervisor was seen to call after
 * setup (strace over the integration tests) plus the paths those tests do
 * not reach but the code has (console attach, crash logging, abort()),
 * each narrowed by argument where the argument is not a pointer.
 * docs/security.md explains every entry; keep the two in step.
 */
#include "hv/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/kvm.h>
#include <sched.h>
#include <seccomp.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "jail/jail.h"
#include "util/log.h"
#include "util/sanitizer_syscalls.h"
#include "util/threads.h"

/*
 * The KVM ioctls a VM needs once /dev/kvm is open (kvm.c asks the rest
 * before). tests/unit/sandbox-ioctls fails if the code uses one that is
 * neither here nor in its list of setup-only ioctls.
 */
static const unsigned long kvm_ioctls[] = {
	KVM_CREATE_VM,
	KVM_SET_TSS_ADDR,
	KVM_SET_IDENTITY_MAP_ADDR,
	KVM_CREATE_IRQCHIP,
	KVM_CREATE_PIT2,
	KVM_SET_USER_MEMORY_REGION,
	KVM_CREATE_VCPU,
	KVM_SET_CPUID2,
	KVM_SET_MSRS,
	KVM_GET_LAPIC,
	KVM_SET_LAPIC,
	KVM_SET_FPU,
	KVM_GET_SREGS,
	KVM_SET_SREGS,
	KVM_GET_REGS,
	KVM_SET_REGS,
	KVM_RUN,
	KVM_IRQ_LINE,
	KVM_SIGNAL_MSI,
	KVM_SET_MP_STATE,
	KVM_IOEVENTFD,
	KVM_IRQFD,
	KVM_SET_GSI_ROUTING,
};

/* Allowed with any arguments: they act on memory or descriptors we own. */
static const int plain_syscalls[] = {
	/* descriptors we were given or made */
	SCMP_SYS(read),
	SCMP_SYS(write),
	SCMP_SYS(pread64),
	SCMP_SYS(close),
	SCMP_SYS(fstat),
	SCMP_SYS(ftruncate),
	SCMP_SYS(eventfd2),
	SCMP_SYS(epoll_ctl),
	SCMP_SYS(epoll_wait),
	SCMP_SYS(epoll_pwait),
	/* memory */
	SCMP_SYS(brk),
	SCMP_SYS(munmap),
	SCMP_SYS(mremap),
	SCMP_SYS(madvise),
	/* threads, locks, signals within the process */
	SCMP_SYS(futex),
	SCMP_SYS(set_robust_list),
	SCMP_SYS(rseq),
	SCMP_SYS(gettid),
	SCMP_SYS(getpid),
	SCMP_SYS(sched_yield),
	SCMP_SYS(rt_sigprocmask),
	SCMP_SYS(rt_sigaction),
	SCMP_SYS(rt_sigreturn),
	SCMP_SYS(restart_syscall),
	SCMP_SYS(exit),
	SCMP_SYS(exit_group),
	/* time and randomness */
	SCMP_SYS(clock_gettime),
	SCMP_SYS(getrandom),
};

/* A rule with up to two argument conditions (all must hold). */
struct rule {
	int nr;
	uint32_t action;
	unsigned int ncmp;
	struct scmp_arg_cmp cmp[2];
};

#define ARG(i, how, a, b)                                               \
	{                                                               \
		.arg = (i), .op = (how), .datum_a = (a), .datum_b = (b) \
	}
#define ALLOW_IF(nr, i, how, a, b)        \
	{                                 \
		(nr), SCMP_ACT_ALLOW, 1,  \
		{                         \
			ARG(i, how, a, b) \
		}                         \
	}
#define ALLOW_IF2(nr, i, how, a, b, j, how2, c, d)            \
	{                                                     \
		(nr), SCMP_ACT_ALLOW, 2,                      \
		{                                             \
			ARG(i, how, a, b), ARG(j, how2, c, d) \
		}                                             \
	}

static const struct rule narrowed_rules[] = {
	/* No executable memory: mappings and protections without PROT_EXEC. */
	ALLOW_IF(SCMP_SYS(mmap), 2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0),
	ALLOW_IF(SCMP_SYS(mprotect), 2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0),
	/* Threads only (vCPUs): a clone without CLONE_THREAD would fork. */
	ALLOW_IF(SCMP_SYS(clone), 0, SCMP_CMP_MASKED_EQ, CLONE_THREAD,
		 CLONE_THREAD),
	/* clone3's flags are behind a pointer: make glibc fall back to clone. */
	{ SCMP_SYS(clone3), SCMP_ACT_ERRNO(ENOSYS), 0, { { 0 } } },
	/* fstat() is newfstatat(fd, "", AT_EMPTY_PATH). */
	ALLOW_IF(SCMP_SYS(newfstatat), 3, SCMP_CMP_EQ, AT_EMPTY_PATH, 0),
	/* Guest RAM: sealed memfds. */
	ALLOW_IF(SCMP_SYS(memfd_create), 1, SCMP_CMP_EQ,
		 MFD_CLOEXEC | MFD_ALLOW_SEALING, 0),
	ALLOW_IF(SCMP_SYS(fcntl), 1, SCMP_CMP_EQ, F_ADD_SEALS, 0),
	/* Console sockets: non-blocking on and off. */
	ALLOW_IF(SCMP_SYS(fcntl), 1, SCMP_CMP_EQ, F_GETFL, 0),
	ALLOW_IF(SCMP_SYS(fcntl), 1, SCMP_CMP_EQ, F_SETFL, 0),
	/* The socket was ours to create, not to remove: leave it, quietly. */
	{ SCMP_SYS(unlink), SCMP_ACT_ERRNO(EPERM), 0, { { 0 } } },
	{ SCMP_SYS(unlinkat), SCMP_ACT_ERRNO(EPERM), 0, { { 0 } } },
};

/* Control clients: accept, check the peer, messages with descriptors. */
static const struct rule serve_rules[] = {
	{ SCMP_SYS(accept4), SCMP_ACT_ALLOW, 0, { { 0 } } },
	{ SCMP_SYS(geteuid), SCMP_ACT_ALLOW, 0, { { 0 } } },
	{ SCMP_SYS(recvmsg), SCMP_ACT_ALLOW, 0, { { 0 } } },
	{ SCMP_SYS(sendmsg), SCMP_ACT_ALLOW, 0, { { 0 } } },
	ALLOW_IF2(SCMP_SYS(getsockopt), 1, SCMP_CMP_EQ, SOL_SOCKET, 0, 2,
		  SCMP_CMP_EQ, SO_PEERCRED, 0),
	ALLOW_IF2(SCMP_SYS(getsockopt), 1, SCMP_CMP_EQ, SOL_SOCKET, 0, 2,
		  SCMP_CMP_EQ, SO_TYPE, 0),
	ALLOW_IF2(SCMP_SYS(setsockopt), 1, SCMP_CMP_EQ, SOL_SOCKET, 0, 2,
		  SCMP_CMP_EQ, SO_SNDTIMEO, 0),
	/* vhost-user device models: bounded waits for their replies. */
	{ SCMP_SYS(ppoll), SCMP_ACT_ALLOW, 0, { { 0 } } },
};

/*
 * vsock's host end (serve --vsock only): PATH bound and listened on, PATH_P
 * connected to, PATH's directory watched and listed for new PATH_P, PATH
 * removed when the VM goes. Paths are behind pointers, so seccomp cannot
 * limit which ones (docs/security.md says what that costs).
 */
static const struct rule vsock_rules[] = {
	ALLOW_IF2(SCMP_SYS(socket), 0, SCMP_CMP_EQ, AF_UNIX, 0, 1, SCMP_CMP_EQ,
		  SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0),
	{ SCMP_SYS(bind), SCMP_ACT_ALLOW, 0, { { 0 } } },
	{ SCMP_SYS(listen), SCMP_ACT_ALLOW, 0, { { 0 } } },
	{ SCMP_SYS(connect), SCMP_ACT_ALLOW, 0, { { 0 } } },
	ALLOW_IF(SCMP_SYS(inotify_init1), 0, SCMP_CMP_EQ,
		 IN_NONBLOCK | IN_CLOEXEC, 0),
	{ SCMP_SYS(inotify_add_watch), SCMP_ACT_ALLOW, 0, { { 0 } } },
	/* opendir(): a directory, read-only, nothing created. */
	ALLOW_IF(SCMP_SYS(openat), 2, SCMP_CMP_EQ,
		 O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_DIRECTORY, 0),
	{ SCMP_SYS(getdents64), SCMP_ACT_ALLOW, 0, { { 0 } } },
	/* Connections: send() is sendto(); a half close. */
	ALLOW_IF(SCMP_SYS(sendto), 3, SCMP_CMP_EQ, MSG_NOSIGNAL, 0),
	ALLOW_IF(SCMP_SYS(shutdown), 1, SCMP_CMP_EQ, SHUT_WR, 0),
	/* Its retry tick, faster while a ring is full (relative times). */
	ALLOW_IF(SCMP_SYS(timerfd_settime), 1, SCMP_CMP_EQ, 0, 0),
};

/* run on a terminal puts the terminal back as it was, at the end. */
static const struct rule run_rules[] = {
	ALLOW_IF2(SCMP_SYS(ioctl), 0, SCMP_CMP_EQ, STDIN_FILENO, 0, 1,
		  SCMP_CMP_EQ, TCSETS, 0),
};

static int add_table(scmp_filter_ctx ctx, const struct rule *t, size_t n)
{
	int r = 0;

	for (size_t i = 0; !r && i < n; i++)
		r = seccomp_rule_add_array(ctx, t[i].action, t[i].nr, t[i].ncmp,
					   t[i].cmp);
	return r;
}

#define ADD_TABLE(ctx, t) add_table(ctx, t, sizeof(t) / sizeof(t[0]))

static int add_rules(scmp_filter_ctx ctx, enum hv_sandbox_mode mode, bool vsock)
{
	struct scmp_arg_cmp own =
		ARG(0, SCMP_CMP_EQ, (scmp_datum_t)getpid(), 0);
	int r = 0;

	for (size_t i = 0; !r && i < sizeof(plain_syscalls) / sizeof(int); i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, plain_syscalls[i], 0);
	for (size_t i = 0; !r && i < sizeof(kvm_ioctls) / sizeof(kvm_ioctls[0]);
	     i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
				     SCMP_A1(SCMP_CMP_EQ, kvm_ioctls[i]));
	if (!r)
		r = ADD_TABLE(ctx, narrowed_rules);
	/* Signals only to our own threads (vCPU kicks, abort()). */
	if (!r)
		r = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW,
					   SCMP_SYS(tgkill), 1, &own);
	if (!r)
		r = mode == HV_SANDBOX_SERVE ? ADD_TABLE(ctx, serve_rules) :
					       ADD_TABLE(ctx, run_rules);
	if (!r && vsock && mode == HV_SANDBOX_SERVE)
		r = ADD_TABLE(ctx, vsock_rules);
	return r;
}

/* The bounding set (needs CAP_SETPCAP), ambient set, then all sets. */
static int drop_capabilities(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	for (int cap = 0; cap < 64; cap++) {
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
			if (errno == EINVAL)
				break; /* past the kernel's last capability */
			if (errno != EPERM)
				return -1;
			/* Without CAP_SETPCAP: nothing to drop it with. */
		}
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 &&
	    errno != EINVAL)
		return -1;
	memset(data, 0, sizeof(data));
	return (int)syscall(SYS_capset, &hdr, data);
}

int hv_sandbox_enter(enum hv_sandbox_mode mode, bool vsock,
		     const struct jail_config *jail)
{
	scmp_filter_ctx ctx;
	int r;

	/* The jail checks for threads itself, while /proc is still there. */
	if (jail ? jail_isolate(jail) < 0 : !proc_single_threaded()) {
		if (!jail)
			bh_err("sandbox: the process already has threads");
		return -1;
	}
	if (drop_capabilities() < 0) {
		bh_err("sandbox: cannot drop capabilities: %s",
		       strerror(errno));
		return -1;
	}
	ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	if (!ctx) {
		bh_err("sandbox: seccomp_init failed");
		return -1;
	}
	/* no_new_privs is set by the load; other arches are refused. */
	r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1);
	if (!r)
		r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	if (!r)
		r = add_rules(ctx, mode, vsock);
#ifdef BH_SANITIZED
	if (!r)
		r = bh_seccomp_allow_sanitizers(ctx);
#endif
	if (!r)
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	if (r) {
		bh_err("sandbox: cannot install the seccomp filter: %s",
		       strerror(-r));
		return -1;
	}
	bh_debug("sandbox: no capabilities, seccomp allowlist installed");
	return 0;
}
