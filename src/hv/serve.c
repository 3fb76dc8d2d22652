// SPDX-License-Identifier: GPL-2.0-only
#include "hv/serve.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "hv/console_attach.h"
#include "hv/control/server.h"
#include "hv/host.h"
#include "hv/run.h"
#include "hv/sandbox.h"
#include "util/log.h"

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
		"      --vsock           allow vsock's host end (vm.create's\n"
		"                        vsock_socket); the sandbox then also allows\n"
		"                        unix sockets by path (docs/security.md)\n"
		"  -v, --verbose         more diagnostics; -q, --quiet fewer\n"
		"\n"
		"SIGTERM or SIGINT, or the hv.quit request, destroys every VM and\n"
		"exits 0.\n");
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
		{ "vsock", no_argument, NULL, 'V' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *socket_path = NULL, *kvm_path = "/dev/kvm";
	enum bh_log_level level = BH_LOG_INFO;
	struct serve_ctx *ctx;
	sigset_t sigs;
	bool vsock = false;
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
			vsock = true;
			break;
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

	ctx = calloc(1, sizeof(*ctx));
	if (!ctx || hv_host_init(&ctx->host, kvm_path) < 0) {
		free(ctx);
		return HV_EXIT_ERROR;
	}
	ctx->host.vsock_allowed = vsock;
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
	/* Set up: from here on only the sandbox's allowlist (no files). */
	if (hv_sandbox_enter(HV_SANDBOX_SERVE, ctx->host.vsock_allowed) < 0) {
		control_server_close(&ctx->srv);
		hv_host_fini(&ctx->host);
		close(sfd);
		free(ctx);
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
	return 0;
}
