/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Sanitizer builds only, never a release: the system calls the ASan and
 * UBSan runtimes make under a seccomp filter. LeakSanitizer's check at
 * exit stops the world with a ptrace-ing helper process that lists
 * /proc/self/task, reports read /proc/self/maps and the binary, and
 * clang's runtime runs llvm-symbolizer. Found by trapping each call the
 * runtimes made under the filters (docs/security.md). Both filters, the
 * hypervisor's and the device models' jail, add these when sanitized.
 */
#ifndef BH_UTIL_SANITIZER_SYSCALLS_H
#define BH_UTIL_SANITIZER_SYSCALLS_H

#include <seccomp.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define BH_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define BH_SANITIZED 1
#endif
#endif

/* clang-format off */
#define BH_SANITIZER_SYSCALLS                                              \
	SCMP_SYS(open), SCMP_SYS(openat), SCMP_SYS(stat),                  \
	SCMP_SYS(newfstatat), SCMP_SYS(readlink), SCMP_SYS(lseek),         \
	SCMP_SYS(getdents), SCMP_SYS(getdents64), SCMP_SYS(fcntl),         \
	SCMP_SYS(ioctl), SCMP_SYS(clone), SCMP_SYS(fork), SCMP_SYS(execve), \
	SCMP_SYS(pipe2), SCMP_SYS(dup2), SCMP_SYS(wait4), SCMP_SYS(ptrace), \
	SCMP_SYS(prctl), SCMP_SYS(getppid), SCMP_SYS(nanosleep),           \
	SCMP_SYS(sigaltstack), SCMP_SYS(sched_getaffinity), SCMP_SYS(mmap), \
	SCMP_SYS(getrlimit), SCMP_SYS(prlimit64), SCMP_SYS(getpid),        \
	SCMP_SYS(gettid), SCMP_SYS(futex),                                 \
	SCMP_SYS(sched_yield), SCMP_SYS(rt_sigaction)
/* clang-format on */

#ifdef BH_SANITIZED
/* abort() signals itself: tgkill only to this process, never another. */
static inline int bh_seccomp_allow_sanitizers(scmp_filter_ctx ctx)
{
	static const int extra[] = { BH_SANITIZER_SYSCALLS };
	struct scmp_arg_cmp own = SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid());
	int r = 0;

	for (unsigned int i = 0; !r && i < sizeof(extra) / sizeof(int); i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, extra[i], 0);
	if (!r)
		r = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW,
					   SCMP_SYS(tgkill), 1, &own);
	return r;
}
#endif

#endif
