// SPDX-License-Identifier: GPL-2.0-only
#include "hv/serve.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hv/console_attach.h"
#include "hv/control/server.h"
#include "hv/host.h"
#include "hv/run.h"
#include "hv/sandbox.h"
#include "jail/jail.h"
#include "util/log.h"
#include "util/parse.h"

#define TICK_MS 20

struct serve_ctx {
	struct hv_host host;
	struct control_server srv;
	struct event_source sig_src;
	bool stop;
};

void hv_serve_usage(FILE *out)
{
	fprintf(out,
		"usage: bulkhead-hv serve --socket PATH [options]\n"
		"\n"
		"Runs the hypervisor for a toolstack: VMs are created, inspected and\n"
		"stopped through the control protocol (docs/control-protocol.md) on a\n"
		"unix socket that only this user and root can use.\n"
		"\n"
		"  -s, --socket PATH     control socket to create (mode 0600)\n"
		"      --kvm PATH        KVM device (default /dev/kvm)\n"
		"      --vsock DIR       allow vsock's host end: vm.create's\n"
		"                        vsock_socket names a socket directly in DIR\n"
		"                        (absolute, no symlinks, writable by --uid)\n"
		"      --uid UID --gid GID  the unprivileged ids to run as; required\n"
		"                        when started as root (unprivileged: a user\n"
		"                        namespace of its own ids instead)\n"
		"  -v, --verbose         more diagnostics; -q, --quiet fewer\n"
		"\n"
		"Once the socket listens it enters its jail (docs/security.md): new\n"
		"mount, network, IPC and UTS namespaces, an empty root holding only\n"
		"DIR, no capabilities, a seccomp allowlist.\n"
		"\n"
		"SIGTERM or SIGINT, or the hv.quit request, destroys every VM and\n"
		"exits 0.\n");
}

/*
 * The jail's ids and directory, checked before anything is set up: as
 * root an unprivileged uid and gid of its own; DIR absolute, without
 * symlinks (the jail binds it at that very path), and a directory.
 */
static int serve_check_jail(struct jail_config *jail, bool have_uid,
			    bool have_gid, const char *vsock_dir)
{
	struct stat st;
	char *real;

	if (have_uid != have_gid) {
		bh_err("--uid and --gid go together");
		return -1;
	}
	if (!have_uid && geteuid() == 0) {
		bh_err("started as root: --uid and --gid are required, the "
		       "unprivileged ids of the hypervisor's own to run as");
		return -1;
	}
	if (have_uid && (!jail->uid || !jail->gid)) {
		bh_err("--uid and --gid: not 0 (the hypervisor runs "
		       "unprivileged)");
		return -1;
	}
	jail->have_ids = have_uid;
	if (!vsock_dir)
		return 0;
	real = realpath(vsock_dir, NULL);
	if (!real || stat(real, &st) < 0 || !S_ISDIR(st.st_mode)) {
		bh_err("--vsock %s: %s", vsock_dir,
		       real ? "not a directory" : strerror(errno));
		free(real);
		return -1;
	}
	if (strcmp(real, vsock_dir) || !jail_dir_ok(vsock_dir)) {
		bh_err("--vsock %s: give the directory as an absolute path "
		       "without symlinks: %s",
		       vsock_dir, real);
		free(real);
		return -1;
	}
	free(real);
	jail->bind_dir = vsock_dir;
	return 0;
}

static void on_vm_stopped(struct hv_host *host, struct hv_vm *e)
{
	struct serve_ctx *ctx = host->opaque;
	json_object *ev = json_object_new_object();

	json_object_object_add(ev, "event",
			       json_object_new_string("vm-stopped"));
	json_object_object_add(ev, "name", json_object_new_string(e->name));
	json_object_object_add(ev, "domid", json_object_new_int(e->domid));
	json_object_object_add(
		ev, "reason",
		json_object_new_string(vm_stop_reason_name(e->reason)));
	json_object_object_add(ev, "detail", json_object_new_string(e->detail));
	control_server_broadcast(&ctx->srv, ev);
}

static void on_signal(struct event_source *src, uint32_t events)
{
	struct serve_ctx *ctx = src->opaque;
	struct signalfd_siginfo si;

	(void)events;
	if (read(src->fd, &si, sizeof(si)) == sizeof(si)) {
		bh_info("stopping on signal %u", si.ssi_signo);
		ctx->stop = true;
	}
}

int hv_serve_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "kvm", required_argument, NULL, 'K' },
		{ "vsock", required_argument, NULL, 'V' },
		{ "uid", required_argument, NULL, 'U' },
		{ "gid", required_argument, NULL, 'G' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *socket_path = NULL, *kvm_path = "/dev/kvm";
	enum bh_log_level level = BH_LOG_INFO;
	struct jail_config jail = { .keep_all_fds = true };
	bool have_uid = false, have_gid = false;
	char *vsock_dir = NULL;
	struct serve_ctx *ctx;
	sigset_t sigs;
	int c, sfd;

	optind = 1;
	while ((c = getopt_long(argc, argv, "s:vqh", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			socket_path = optarg;
			break;
		case 'K':
			kvm_path = optarg;
			break;
		case 'V':
			free(vsock_dir);
			vsock_dir = strdup(optarg);
			if (!vsock_dir)
				return HV_EXIT_ERROR;
			break;
		case 'U':
		case 'G': {
			uint64_t v;

			if (bh_parse_u64(optarg, &v) < 0 || v >= UINT32_MAX) {
				fprintf(stderr,
					"bulkhead-hv: --%s: not an id: %s\n",
					c == 'U' ? "uid" : "gid", optarg);
				return HV_EXIT_USAGE;
			}
			if (c == 'U') {
				jail.uid = (uid_t)v;
				have_uid = true;
			} else {
				jail.gid = (gid_t)v;
				have_gid = true;
			}
			break;
		}
		case 'v':
			level = BH_LOG_DEBUG;
			break;
		case 'q':
			level = BH_LOG_ERR;
			break;
		case 'h':
			hv_serve_usage(stdout);
			return 0;
		default:
			fprintf(stderr, "Try 'bulkhead-hv serve --help'.\n");
			return HV_EXIT_USAGE;
		}
	}
	bh_log_init("bulkhead-hv", level);
	if (optind < argc || !socket_path) {
		bh_err(optind < argc ? "unexpected argument \"%s\"" :
				       "--socket is required%s",
		       optind < argc ? argv[optind] : "");
		fprintf(stderr, "Try 'bulkhead-hv serve --help'.\n");
		return HV_EXIT_USAGE;
	}
	if (serve_check_jail(&jail, have_uid, have_gid, vsock_dir) < 0) {
		free(vsock_dir);
		return HV_EXIT_USAGE;
	}

	ctx = calloc(1, sizeof(*ctx));
	if (!ctx || hv_host_init(&ctx->host, kvm_path) < 0) {
		free(ctx);
		return HV_EXIT_ERROR;
	}
	ctx->host.vsock_allowed = vsock_dir != NULL;
	ctx->host.vsock_dir = vsock_dir;
	ctx->host.on_stopped = on_vm_stopped;
	ctx->host.opaque = ctx;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	sfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	ctx->sig_src = (struct event_source){ sfd, on_signal, ctx };
	if (sfd < 0 ||
	    event_loop_add(ctx->host.loop, &ctx->sig_src, EPOLLIN) < 0 ||
	    control_server_open(&ctx->srv, &ctx->host, socket_path) < 0) {
		hv_host_fini(&ctx->host);
		free(ctx);
		return HV_EXIT_ERROR;
	}
	/* Set up: from here on the jail, and only the sandbox's allowlist. */
	if (hv_sandbox_enter(HV_SANDBOX_SERVE, ctx->host.vsock_allowed, &jail) <
	    0) {
		control_server_close(&ctx->srv);
		hv_host_fini(&ctx->host);
		close(sfd);
		free(ctx);
		free(vsock_dir);
		return HV_EXIT_ERROR;
	}
	bh_info("serving on %s", socket_path);

	while (!ctx->stop && !ctx->srv.quit) {
		bool paused = console_attach_any_paused(&ctx->host);

		if (event_loop_run_once(ctx->host.loop, paused ? TICK_MS : -1) <
		    0) {
			bh_err("event loop: %s", strerror(errno));
			break;
		}
		if (paused)
			console_attach_tick(&ctx->host);
	}
	/* Stop VMs first so subscribers still hear of each one. */
	while (ctx->host.vms) {
		struct hv_vm *e = ctx->host.vms;

		hv_host_stop_vm(&ctx->host, e);
		hv_host_remove_vm(&ctx->host, e);
	}
	control_server_close(&ctx->srv);
	hv_host_fini(&ctx->host);
	close(sfd);
	free(ctx);
	free(vsock_dir);
	return 0;
}
