// SPDX-License-Identifier: GPL-2.0-only
/*
 * bulkhead-net's seccomp allowlist: what the serving loop calls and
 * nothing else, narrowed by argument wherever the argument is not a
 * pointer. The tap takes writev (frames out) and one ioctl, TUNSETOFFLOAD
 * (what the guest negotiated decides which offloads it hands us); every
 * other tap ioctl (TUNSETIFF, TUNSETPERSIST, TUNSETOWNER, ...) and every
 * socket, open or exec kills the process. read and write stay open to any
 * descriptor, for the eventfds that arrive later with numbers nobody
 * knows in advance; there is none they could reach that the process was
 * not given. docs/security.md lists every entry; keep the two in step.
 */
#include "devmodel/net/net_jail.h"

#include <fcntl.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include "devmodel/vhost_backend.h"
#include "virtio/vhost_user.h"

#define NET_JAIL_NOFILE_SLACK 16

struct rules {
	struct jail_rule *r;
	size_t n, cap;
};

static void add(struct rules *t, int nr, unsigned int ncmp,
		const struct scmp_arg_cmp *cmp)
{
	if (t->n >= t->cap) {
		t->n = t->cap + 1; /* overflow: reported by the caller */
		return;
	}
	t->r[t->n].nr = nr;
	t->r[t->n].action = SCMP_ACT_ALLOW;
	t->r[t->n].ncmp = ncmp;
	for (unsigned int i = 0; i < ncmp; i++)
		t->r[t->n].cmp[i] = cmp[i];
	t->n++;
}

#define ALLOW(t, nr) add(t, nr, 0, NULL)
#define ALLOW_ON(t, nr, fd)                                                 \
	do {                                                                \
		struct scmp_arg_cmp c_[] = { SCMP_A0(SCMP_CMP_EQ,           \
						     (scmp_datum_t)(fd)) }; \
		add(t, nr, 1, c_);                                          \
	} while (0)

static void allow_any(struct rules *t)
{
	static const int plain[] = {
		/* the tap's frames in; eventfds, signalfd, stderr */
		SCMP_SYS(read),
		SCMP_SYS(write),
		SCMP_SYS(close),
		/* memory table regions must be regular files of enough size */
		SCMP_SYS(fstat),
		/* memory: malloc, guest memory mapped and unmapped */
		SCMP_SYS(brk),
		SCMP_SYS(munmap),
		SCMP_SYS(mremap),
		SCMP_SYS(madvise),
		/* signals (abort()), the end */
		SCMP_SYS(rt_sigprocmask),
		SCMP_SYS(rt_sigreturn),
		SCMP_SYS(restart_syscall),
		SCMP_SYS(exit),
		SCMP_SYS(exit_group),
	};

	for (unsigned int i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
		ALLOW(t, plain[i]);
}

static void allow_narrowed(struct rules *t, const struct net_jail *j)
{
	const struct net_jail_fds *f = &j->fds;

	/* No executable memory, ever. */
	{
		struct scmp_arg_cmp c[] = { SCMP_A2(SCMP_CMP_MASKED_EQ,
						    PROT_EXEC, 0) };

		add(t, SCMP_SYS(mmap), 1, c);
		add(t, SCMP_SYS(mprotect), 1, c);
	}
	/* fstat() is newfstatat(fd, "", AT_EMPTY_PATH). */
	{
		struct scmp_arg_cmp c[] = { SCMP_A3(SCMP_CMP_EQ,
						    AT_EMPTY_PATH) };

		add(t, SCMP_SYS(newfstatat), 1, c);
	}
	/* Messages in (with descriptors), replies out without any. */
	{
		struct scmp_arg_cmp c[] = {
			SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)f->sock),
			SCMP_A2(SCMP_CMP_EQ, MSG_CMSG_CLOEXEC),
		};

		add(t, SCMP_SYS(recvmsg), 2, c);
	}
	{
		struct scmp_arg_cmp c[] = {
			SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)f->sock),
			SCMP_A3(SCMP_CMP_EQ, MSG_NOSIGNAL),
			SCMP_A4(SCMP_CMP_EQ, 0),
		};

		add(t, SCMP_SYS(sendto), 3, c);
	}
	/* The tap: frames out, and the offloads the guest's features allow. */
	ALLOW_ON(t, SCMP_SYS(writev), f->tap);
	{
		struct scmp_arg_cmp c[] = {
			SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)f->tap),
			SCMP_A1(SCMP_CMP_EQ, TUNSETOFFLOAD),
		};

		add(t, SCMP_SYS(ioctl), 2, c);
	}
	ALLOW_ON(t, SCMP_SYS(epoll_wait), f->epoll);
	ALLOW_ON(t, SCMP_SYS(epoll_pwait), f->epoll);
	ALLOW_ON(t, SCMP_SYS(epoll_ctl), f->epoll);
}

int net_jail_config(struct net_jail *j, struct jail_config *cfg)
{
	struct rules t = { j->rules, 0, JAIL_RULES_MAX };
	const int all[] = { j->fds.sock, j->fds.epoll, j->fds.tap,
			    j->fds.signals, j->fds.log };
	unsigned int nkeep = 0;
	int top = -1;

	for (unsigned int i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		if (all[i] < 0)
			continue;
		j->keep[nkeep++] = all[i];
		if (all[i] > top)
			top = all[i];
	}
	allow_any(&t);
	allow_narrowed(&t, j);
	if (t.n > t.cap)
		return -1;
	*cfg = (struct jail_config){
		.keep_fds = j->keep,
		.nkeep = nkeep,
		.have_ids = j->have_ids,
		.uid = j->uid,
		.gid = j->gid,
		/* Kept ones, a full memory table, three per queue, slack. */
		.nofile = (rlim_t)top + 1 + VHOST_USER_MAX_REGIONS + 3 * 2 +
			  NET_JAIL_NOFILE_SLACK,
		/* One thread, no kernel workers: no process may be made. */
		.no_processes = true,
		.rules = j->rules,
		.nrules = t.n,
	};
	return 0;
}
