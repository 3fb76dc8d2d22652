// SPDX-License-Identifier: GPL-2.0-only
#include "hv/run.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <termios.h>
#include <unistd.h>

#include <sys/epoll.h>

#include "hv/event_loop.h"
#include "hv/kvm.h"
#include "hv/sandbox.h"
#include "hv/vcpu.h"
#include "hv/vm.h"
#include "util/log.h"
#include "util/parse.h"

#define ESCAPE_CHAR 0x1d /* Ctrl-] */
#define DEFAULT_CMDLINE "console=ttyS0"

struct run_opts {
	const char *name;
	const char *kernel;
	const char *initrd;
	const char *cmdline;
	const char *console;
	const char *kvm_path;
	uint64_t memory;
	unsigned int vcpus;
};

struct run_ctx {
	struct vm *vm;
	struct event_loop *loop;
	struct event_source stop_src, sig_src, stdin_src;
	bool stdin_open;
	bool stdin_paused;
	bool stdin_tty;
	struct termios saved_tty;
	bool done;
};

void hv_run_usage(FILE *out)
{
	fprintf(out,
		"usage: bulkhead-hv run --kernel FILE [options]\n"
		"\n"
		"Boots one VM and waits for it to stop.\n"
		"\n"
		"  -k, --kernel FILE     bzImage (64-bit boot protocol) or static ELF64\n"
		"  -i, --initrd FILE     initial ramdisk\n"
		"  -c, --cmdline TEXT    kernel command line (default \"" DEFAULT_CMDLINE
		"\")\n"
		"  -m, --memory SIZE     guest RAM: MiB, or with a K/M/G suffix (default 256M)\n"
		"  -p, --vcpus N         virtual CPUs, 1..%d (default 1)\n"
		"  -n, --name NAME       VM name for logs (default \"vm\")\n"
		"      --console WHERE   stdio (default), file:PATH (append), or none\n"
		"      --kvm PATH        KVM device (default /dev/kvm)\n"
		"  -v, --verbose         more diagnostics; -q, --quiet fewer\n"
		"\n"
		"With --console stdio, standard input goes to the guest's serial port;\n"
		"on a terminal, Ctrl-] stops the VM.\n"
		"\n"
		"Exit status: 0 the guest powered off, 10 it rebooted, 11 it crashed\n"
		"(registers are logged), 12 it was stopped by a signal or Ctrl-],\n"
		"1 it could not be started, 2 usage error.\n",
		VM_MAX_VCPUS);
}

static int parse_args(int argc, char **argv, struct run_opts *o)
{
	static const struct option longopts[] = {
		{ "kernel", required_argument, NULL, 'k' },
		{ "initrd", required_argument, NULL, 'i' },
		{ "cmdline", required_argument, NULL, 'c' },
		{ "memory", required_argument, NULL, 'm' },
		{ "vcpus", required_argument, NULL, 'p' },
		{ "name", required_argument, NULL, 'n' },
		{ "console", required_argument, NULL, 'C' },
		{ "kvm", required_argument, NULL, 'K' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	enum bh_log_level level = BH_LOG_INFO;
	uint64_t v;
	int c;

	*o = (struct run_opts){ .name = "vm",
				.cmdline = DEFAULT_CMDLINE,
				.console = "stdio",
				.kvm_path = "/dev/kvm",
				.memory = 256ull << 20,
				.vcpus = 1 };
	optind = 1;
	while ((c = getopt_long(argc, argv, "k:i:c:m:p:n:vqh", longopts,
				NULL)) != -1) {
		switch (c) {
		case 'k':
			o->kernel = optarg;
			break;
		case 'i':
			o->initrd = optarg;
			break;
		case 'c':
			o->cmdline = optarg;
			break;
		case 'm':
			if (bh_parse_size(optarg, 20, &o->memory) < 0) {
				bh_err("--memory: \"%s\" is not a size (examples: 256, 256M, 1G)",
				       optarg);
				return -1;
			}
			break;
		case 'p':
			if (bh_parse_u64(optarg, &v) < 0 || v > UINT32_MAX) {
				bh_err("--vcpus: \"%s\" is not a number",
				       optarg);
				return -1;
			}
			o->vcpus = (unsigned int)v;
			break;
		case 'n':
			o->name = optarg;
			break;
		case 'C':
			o->console = optarg;
			break;
		case 'K':
			o->kvm_path = optarg;
			break;
		case 'v':
			level = BH_LOG_DEBUG;
			break;
		case 'q':
			level = BH_LOG_ERR;
			break;
		case 'h':
			hv_run_usage(stdout);
			exit(0);
		default:
			return -1;
		}
	}
	bh_log_init("bulkhead-hv", level);
	if (optind < argc) {
		bh_err("unexpected argument \"%s\"", argv[optind]);
		return -1;
	}
	if (!o->kernel) {
		bh_err("--kernel is required");
		return -1;
	}
	if (strcmp(o->console, "stdio") && strcmp(o->console, "none") &&
	    strncmp(o->console, "file:", 5)) {
		bh_err("--console: \"%s\" is not stdio, none or file:PATH",
		       o->console);
		return -1;
	}
	return 0;
}

static int open_input(const char *what, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		bh_err("%s: cannot open %s: %s", what, path, strerror(errno));
	return fd;
}

static int open_console(const char *spec)
{
	int fd;

	if (!strcmp(spec, "none"))
		return -1;
	if (!strcmp(spec, "stdio")) {
		fd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
		if (fd < 0)
			bh_err("console: cannot use standard output: %s",
			       strerror(errno));
		return fd < 0 ? -2 : fd;
	}
	fd = open(spec + 5,
		  O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0640);
	if (fd < 0) {
		bh_err("console: cannot open %s for writing: %s", spec + 5,
		       strerror(errno));
		return -2;
	}
	return fd;
}

static void stdin_restore(struct run_ctx *ctx)
{
	if (ctx->stdin_tty)
		tcsetattr(STDIN_FILENO, TCSANOW, &ctx->saved_tty);
	ctx->stdin_tty = false;
}

static void on_stop(struct event_source *src, uint32_t events)
{
	struct run_ctx *ctx = src->opaque;

	(void)events;
	ctx->done = true;
}

static void on_signal(struct event_source *src, uint32_t events)
{
	struct run_ctx *ctx = src->opaque;
	struct signalfd_siginfo si;

	(void)events;
	if (read(src->fd, &si, sizeof(si)) != sizeof(si))
		return;
	bh_info("vm %s: stopping on signal %u", ctx->vm->name, si.ssi_signo);
	vm_request_stop(ctx->vm, VM_STOP_DESTROYED, "stopped by a signal");
}

static void on_stdin(struct event_source *src, uint32_t events)
{
	struct run_ctx *ctx = src->opaque;
	uint8_t buf[256];
	size_t room = vm_console_room(ctx->vm);
	ssize_t n, i;

	(void)events;
	if (!room) {
		/* The guest is not reading: wait instead of dropping input. */
		event_loop_remove(ctx->loop, src);
		ctx->stdin_paused = true;
		return;
	}
	n = read(src->fd, buf, room < sizeof(buf) ? room : sizeof(buf));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		event_loop_remove(ctx->loop, src);
		ctx->stdin_open = false;
		return;
	}
	if (ctx->stdin_tty) {
		for (i = 0; i < n; i++) {
			if (buf[i] == ESCAPE_CHAR) {
				vm_request_stop(ctx->vm, VM_STOP_DESTROYED,
						"stopped with Ctrl-]");
				n = i;
				break;
			}
		}
	}
	vm_console_receive(ctx->vm, buf, (size_t)n);
}

static int setup_stdin(struct run_ctx *ctx)
{
	struct termios raw;

	ctx->stdin_src = (struct event_source){ STDIN_FILENO, on_stdin, ctx };
	if (isatty(STDIN_FILENO) &&
	    tcgetattr(STDIN_FILENO, &ctx->saved_tty) == 0) {
		raw = ctx->saved_tty;
		cfmakeraw(&raw);
		if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0)
			ctx->stdin_tty = true;
	}
	/* epoll refuses regular files; such input is simply not forwarded. */
	if (event_loop_add(ctx->loop, &ctx->stdin_src, EPOLLIN) < 0) {
		bh_debug("standard input cannot be polled: %s",
			 strerror(errno));
		return 0;
	}
	ctx->stdin_open = true;
	return 0;
}

static int exit_status_of(struct vm *vm)
{
	enum vm_stop_reason r = vm_stop_reason(vm);

	switch (r) {
	case VM_STOP_POWEROFF:
		bh_info("vm %s: powered off", vm->name);
		return HV_EXIT_POWEROFF;
	case VM_STOP_REBOOT:
		bh_info("vm %s: rebooted (%s)", vm->name, vm->stop_detail);
		return HV_EXIT_REBOOT;
	case VM_STOP_CRASH:
		bh_err("vm %s: crashed: %s", vm->name, vm->stop_detail);
		return HV_EXIT_CRASH;
	default:
		bh_info("vm %s: %s", vm->name, vm->stop_detail);
		return HV_EXIT_DESTROYED;
	}
}

static int run_vm(struct run_ctx *ctx)
{
	sigset_t sigs;
	int sfd;

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	sfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0) {
		bh_err("event loop setup failed: %s", strerror(errno));
		return HV_EXIT_ERROR;
	}
	ctx->sig_src = (struct event_source){ sfd, on_signal, ctx };
	ctx->stop_src =
		(struct event_source){ ctx->vm->stop_eventfd, on_stop, ctx };
	event_loop_add(ctx->loop, &ctx->sig_src, EPOLLIN);
	event_loop_add(ctx->loop, &ctx->stop_src, EPOLLIN);
	/* Set up: from here on only the sandbox's allowlist (no files). */
	if (hv_sandbox_enter(HV_SANDBOX_RUN, false, NULL) < 0) {
		close(sfd);
		return HV_EXIT_ERROR;
	}

	if (vm_start(ctx->vm) < 0)
		bh_err("vm %s: cannot start vCPU threads", ctx->vm->name);
	while (!ctx->done) {
		if (event_loop_run_once(ctx->loop,
					ctx->stdin_paused ? 20 : -1) < 0)
			break;
		if (ctx->stdin_paused && vm_console_room(ctx->vm)) {
			ctx->stdin_paused = false;
			event_loop_add(ctx->loop, &ctx->stdin_src, EPOLLIN);
		}
	}
	vm_wait_stopped(ctx->vm);
	close(sfd);
	return exit_status_of(ctx->vm);
}

int hv_run_main(int argc, char **argv)
{
	struct run_ctx ctx = { 0 };
	struct kvm_host kvm;
	struct run_opts o;
	struct vm_config cfg;
	char err[512];
	int status;

	if (parse_args(argc, argv, &o) < 0) {
		fprintf(stderr, "Try 'bulkhead-hv run --help'.\n");
		return HV_EXIT_USAGE;
	}
	cfg = (struct vm_config){ .name = o.name,
				  .domid = 3,
				  .memory = o.memory,
				  .vcpus = o.vcpus,
				  .cmdline = o.cmdline,
				  .initrd_fd = -1 };
	cfg.kernel_fd = open_input("kernel", o.kernel);
	if (cfg.kernel_fd < 0)
		return HV_EXIT_ERROR;
	if (o.initrd) {
		cfg.initrd_fd = open_input("initrd", o.initrd);
		if (cfg.initrd_fd < 0)
			return HV_EXIT_ERROR;
	}
	cfg.console_fd = open_console(o.console);
	if (cfg.console_fd == -2)
		return HV_EXIT_ERROR;
	if (vcpu_signals_init() < 0 || kvm_host_open(&kvm, o.kvm_path) < 0) {
		if (cfg.console_fd >= 0)
			close(cfg.console_fd);
		return HV_EXIT_ERROR;
	}
	ctx.loop = event_loop_create();
	if (!ctx.loop) {
		bh_err("event loop: %s", strerror(errno));
		if (cfg.console_fd >= 0)
			close(cfg.console_fd);
		kvm_host_close(&kvm);
		return HV_EXIT_ERROR;
	}
	cfg.loop = ctx.loop;
	ctx.vm = vm_create(&kvm, &cfg, err, sizeof(err));
	close(cfg.kernel_fd);
	if (cfg.initrd_fd >= 0)
		close(cfg.initrd_fd);
	if (!ctx.vm) {
		bh_err("%s", err);
		event_loop_destroy(ctx.loop);
		kvm_host_close(&kvm);
		return HV_EXIT_ERROR;
	}
	if (!strcmp(o.console, "stdio"))
		setup_stdin(&ctx);
	status = run_vm(&ctx);
	stdin_restore(&ctx);
	vm_destroy(ctx.vm);
	event_loop_destroy(ctx.loop);
	kvm_host_close(&kvm);
	return status;
}
