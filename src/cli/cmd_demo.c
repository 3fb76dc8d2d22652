// SPDX-License-Identifier: GPL-2.0-only
/*
 * bulkhead demo: the README's first command. From built-in defaults (the
 * source and build trees this binary was built from) it prepares the
 * guest assets, starts a private bulkheadd, boots two Debian guests,
 * exchanges data between VMs over HMX, shows a denied flow refused and
 * audited, and stops everything. Every step is a real bulkhead command,
 * printed before it runs.
 *
 * Guest-to-guest data between Linux guests needs the AF_VSOCK transport
 * module (guest/linux/hmx_vsock.ko): when it is built, the guests use
 * socat over VSOCK; until then the exchange runs between two freestanding
 * HMX guests (hmx-peer) through the same device, firewall and policy.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "toolstack/jget.h"

#define LINUX_BOOT_TIMEOUT_S 600
#define PEER_TIMEOUT_S 120
#define PORT_OPEN 1000
#define PORT_CLOSED 1001

struct demo {
	char self[PATH_MAX];
	char work[PATH_MAX];
	char state[PATH_MAX + 16];
	char kernel[PATH_MAX];
	char initrd[PATH_MAX + 64];
	char vsock_ko[PATH_MAX + 64];
	bool vsock;
	pid_t daemon;
};

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static void heading(const char *title)
{
	printf("\n== %s ==\n", title);
	fflush(stdout);
}

/* Runs argv, showing it first; returns its exit status (or -1). */
static int run(char *const argv[], bool show)
{
	int status;
	pid_t pid;

	if (show) {
		printf("$");
		for (int i = 0; argv[i]; i++)
			printf(" %s", argv[i]);
		printf("\n");
		fflush(stdout);
	}
	pid = fork();
	if (pid == 0) {
		execvp(argv[0], argv);
		fprintf(stderr, "bulkhead demo: cannot run %s: %s\n", argv[0],
			strerror(errno));
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Runs argv with its standard output discarded (progress stays). */
static int run_quiet(char *const argv[])
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, STDOUT_FILENO);
		execvp(argv[0], argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* "bulkhead ARGS...", shown as the user would type it. */
static int bulkhead(struct demo *d, ...)
{
	char *argv[16] = { "bulkhead" };
	char *shown[16] = { "bulkhead" };
	int n = 1, status;
	va_list ap;
	pid_t pid;

	va_start(ap, d);
	while (n < 15 && (argv[n] = va_arg(ap, char *)))
		shown[n] = argv[n], n++;
	va_end(ap);
	argv[n] = shown[n] = NULL;
	printf("$");
	for (int i = 0; shown[i]; i++)
		printf(" %s", shown[i]);
	printf("\n");
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		setenv("BULKHEAD_STATE_DIR", d->state, 1);
		execv(d->self, argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static bool hardware_virt(void)
{
	char line[4096];
	bool found = false;
	FILE *f;

	if (access("/dev/kvm", R_OK | W_OK) < 0)
		return false;
	f = fopen("/proc/cpuinfo", "r");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = !strncmp(line, "flags", 5) &&
			(strstr(line, " vmx") || strstr(line, " svm"));
	fclose(f);
	return found;
}

/* The first line a command prints, or "" (buf of len bytes). */
static int capture(char *const argv[], char *buf, size_t len)
{
	int pfd[2], status;
	ssize_t n;
	size_t got = 0;
	pid_t pid;

	if (pipe(pfd) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(pfd[1], STDOUT_FILENO);
		close(pfd[0]);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(pfd[1]);
	while (got + 1 < len &&
	       (n = read(pfd[0], buf + got, len - 1 - got)) > 0)
		got += (size_t)n;
	buf[got] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	close(pfd[0]);
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The Debian kernel and an initramfs with socat (and hmx_vsock if built). */
static int prepare_assets(struct demo *d)
{
	char *fetch[] = { BH_SOURCE_ROOT "/guest/image/fetch-kernel",
			  "--cache",
			  BH_BUILD_ROOT "/guest-cache",
			  "--print",
			  "kernel",
			  "-q",
			  NULL };
	char *mk[16] = { BH_SOURCE_ROOT "/guest/image/mkinitramfs",
			 "-o",
			 d->initrd,
			 "--binary",
			 "/usr/bin/socat",
			 "-q" };
	int n = 6;
	const char *ko = getenv("BULKHEAD_VSOCK_MODULE");

	const char *pk = getenv("BULKHEAD_DEMO_KERNEL");
	const char *pi = getenv("BULKHEAD_DEMO_INITRD");

	heading("Guest assets");
	if (pk && pk[0] && pi && pi[0]) {
		/* Prepared by the demo outside the test host. */
		snprintf(d->kernel, sizeof(d->kernel), "%s", pk);
		snprintf(d->initrd, sizeof(d->initrd), "%s", pi);
		d->vsock = strstr(pi, "-vsock") != NULL;
		snprintf(d->vsock_ko, sizeof(d->vsock_ko), "%s",
			 getenv("BULKHEAD_VSOCK_MODULE") ?:
				 BH_BUILD_ROOT "/guest/linux/hmx_vsock.ko");
		say("  kernel %s\n  initramfs %s", d->kernel, d->initrd);
		return 0;
	}
	say("Debian's linux-image-amd64 (downloaded once into %s/guest-cache):",
	    BH_BUILD_ROOT);
	if (capture(fetch, d->kernel, sizeof(d->kernel)) != 0 ||
	    !d->kernel[0]) {
		cli_err("demo: cannot get the guest kernel (see the messages above)");
		return -1;
	}
	say("  kernel %s", d->kernel);
	snprintf(d->vsock_ko, sizeof(d->vsock_ko), "%s",
		 ko && ko[0] ? ko : BH_BUILD_ROOT "/guest/linux/hmx_vsock.ko");
	d->vsock = access(d->vsock_ko, R_OK) == 0;
	snprintf(d->initrd, sizeof(d->initrd),
		 "%s/guest/demo-initramfs%s.cpio.gz", BH_BUILD_ROOT,
		 d->vsock ? "-vsock" : "");
	if (d->vsock) {
		mk[n++] = "--module-file";
		mk[n++] = d->vsock_ko;
	}
	mk[n] = NULL;
	if (run_quiet(mk) != 0) {
		cli_err("demo: cannot build the guest initramfs");
		return -1;
	}
	say("  initramfs %s (busybox, socat%s)", d->initrd,
	    d->vsock ? ", hmx_vsock" : "");
	return 0;
}

static int write_file(const char *path, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int write_file(const char *path, const char *fmt, ...)
{
	va_list ap;
	FILE *f = fopen(path, "w");

	if (!f) {
		cli_err("demo: %s: %s", path, strerror(errno));
		return -1;
	}
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	return fclose(f) == 0 ? 0 : -1;
}

static void base64(const char *in, char *out, size_t outlen)
{
	static const char tbl[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = strlen(in), o = 0;

	for (size_t i = 0; i < n && o + 5 < outlen; i += 3) {
		uint32_t v = (uint32_t)(unsigned char)in[i] << 16;

		if (i + 1 < n)
			v |= (uint32_t)(unsigned char)in[i + 1] << 8;
		if (i + 2 < n)
			v |= (unsigned char)in[i + 2];
		out[o++] = tbl[v >> 18 & 63];
		out[o++] = tbl[v >> 12 & 63];
		out[o++] = i + 1 < n ? tbl[v >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? tbl[v & 63] : '=';
	}
	out[o] = '\0';
}

/* Waits until the console log of VM name holds text. */
static int wait_console(struct demo *d, const char *name, const char *text,
			int timeout_s)
{
	char path[PATH_MAX + 64], buf[65536];
	time_t end = time(NULL) + timeout_s;

	snprintf(path, sizeof(path), "%s/logs/%s.log", d->state, name);
	while (time(NULL) < end) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);

		if (fd >= 0) {
			ssize_t n;
			size_t got = 0;

			/* The tail is what matters; logs here are small. */
			while ((n = read(fd, buf + got,
					 sizeof(buf) - 1 - got)) > 0) {
				got += (size_t)n;
				if (got == sizeof(buf) - 1) {
					memmove(buf, buf + got / 2,
						got - got / 2);
					got -= got / 2;
				}
			}
			close(fd);
			buf[got] = '\0';
			if (strstr(buf, text))
				return 0;
		}
		usleep(200000);
	}
	cli_err("demo: %s did not print \"%s\" within %d s (see bulkhead logs %s)",
		name, text, timeout_s, name);
	return -1;
}

/* `bulkhead logs NAME | grep ^PREFIX`, done here. */
static void show_lines(struct demo *d, const char *name, const char *prefix)
{
	char path[PATH_MAX + 64], line[1024];
	FILE *f;

	printf("$ bulkhead logs %s | grep '^%s'\n", name, prefix);
	snprintf(path, sizeof(path), "%s/logs/%s.log", d->state, name);
	f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (!strncmp(line, prefix, strlen(prefix)))
			puts(line);
	}
	fclose(f);
	fflush(stdout);
}

static int domid_of(const char *name)
{
	struct json_object *a = json_object_new_object(), *reply;
	int domid;

	json_object_object_add(a, "name", json_object_new_string(name));
	if (cli_call("vm.info", a, NULL, 0, &reply, NULL, NULL) != EXIT_OK)
		return -1;
	domid = (int)jget_int(jget(reply, "vm", json_type_object), "domid", -1);
	json_object_put(reply);
	return domid;
}

static int start_daemon(struct demo *d)
{
	char daemon[PATH_MAX + 32], hv[PATH_MAX + 32], log[PATH_MAX + 32];
	char *dir = strrchr(d->self, '/');
	time_t end;
	int fd;

	/* Built-in layout: the build tree, or everything in one bin dir. */
	snprintf(daemon, sizeof(daemon), "%s/toolstack/daemon/bulkheadd",
		 BH_BUILD_ROOT "/src");
	snprintf(hv, sizeof(hv), "%s/hv/bulkhead-hv", BH_BUILD_ROOT "/src");
	if (access(daemon, X_OK) < 0 && dir) {
		snprintf(daemon, sizeof(daemon), "%.*s/bulkheadd",
			 (int)(dir - d->self), d->self);
		snprintf(hv, sizeof(hv), "%.*s/bulkhead-hv",
			 (int)(dir - d->self), d->self);
	}
	snprintf(log, sizeof(log), "%s/bulkheadd.log", d->work);
	heading("The toolstack");
	say("$ bulkheadd --state-dir %s --config-dir %s/vms 2>%s &", d->state,
	    d->work, log);
	d->daemon = fork();
	if (d->daemon == 0) {
		char cfg[PATH_MAX + 8];

		snprintf(cfg, sizeof(cfg), "%s/vms", d->work);
		fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (fd >= 0)
			dup2(fd, STDERR_FILENO);
		execl(daemon, "bulkheadd", "--state-dir", d->state,
		      "--config-dir", cfg, "--hv", hv, (char *)NULL);
		_exit(127);
	}
	end = time(NULL) + 20;
	while (time(NULL) < end) {
		struct json_object *reply;
		int saved = dup(STDERR_FILENO),
		    null = open("/dev/null", O_WRONLY);
		int r;

		/* Quiet while it is not up yet. */
		dup2(null, STDERR_FILENO);
		r = cli_call("daemon.info", NULL, NULL, 0, &reply, NULL, NULL);
		dup2(saved, STDERR_FILENO);
		close(saved);
		close(null);
		if (r == EXIT_OK) {
			say("bulkheadd is up (pid %d); the hypervisor: %s",
			    (int)d->daemon,
			    jget_str(reply, "hv_server") ?: "?");
			json_object_put(reply);
			return 0;
		}
		if (waitpid(d->daemon, NULL, WNOHANG) == d->daemon)
			break;
		usleep(100000);
	}
	cli_err("demo: bulkheadd did not start; see %s", log);
	return -1;
}

static const char *const script_a =
	"echo \"demo: demo-a up, Linux $(uname -r), $(grep -c ^processor /proc/cpuinfo) vCPU, HMX controller $(grep -qx 0x1b4d /sys/bus/pci/devices/*/device && echo present || echo absent)\"\n"
	"if [ -e /dev/vsock ]; then\n"
	"  echo 'demo: listening on vsock port %d'\n"
	"  socat -u VSOCK-LISTEN:%d - | sed 's/^/demo: received: /'\n"
	"fi\n"
	"echo 'demo: ready'\n"
	"exec sleep 100000\n";

static const char *const script_b =
	"echo \"demo: demo-b up, Linux $(uname -r)\"\n"
	"if [ -e /dev/vsock ]; then\n"
	/* demo-a may still be booting: nobody listens yet, so retry. */
	"  n=0\n"
	"  until echo 'hello from demo-b, over HMX' | socat -u - VSOCK-CONNECT:%d:%d 2>/dev/null; do\n"
	"    n=$((n + 1)); [ $n -lt 120 ] || break; sleep 1\n"
	"  done\n"
	"  [ $n -lt 120 ] && echo 'demo: sent to %d:%d'\n"
	"  socat -u /dev/null VSOCK-CONNECT:%d:%d 2>&1 | sed 's/^/demo: denied: /'\n"
	"fi\n"
	"echo 'demo: ready'\n"
	"exec sleep 100000\n";

static int linux_guest(struct demo *d, const char *name, const char *script,
		       const char *rules)
{
	char cfg[PATH_MAX + 64], enc[2048];

	base64(script, enc, sizeof(enc));
	snprintf(cfg, sizeof(cfg), "%s/%s.cfg", d->work, name);
	if (write_file(cfg,
		       "# A Debian guest of the demo.\n"
		       "name = \"%s\"\n"
		       "memory = 256\n"
		       "kernel = \"%s\"\n"
		       "ramdisk = \"%s\"\n"
		       "cmdline = \"console=ttyS0 quiet bulkhead.script=%s\"\n"
		       "hmx_rules = [ %s ]\n",
		       name, d->kernel, d->initrd, enc, rules) < 0)
		return -1;
	return bulkhead(d, "create", cfg, NULL) == 0 ? 0 : -1;
}

static int linux_scene(struct demo *d)
{
	char sa[1024], sb[1024], rules[256];
	int a;

	heading("Two Debian guests");
	snprintf(sa, sizeof(sa), script_a, PORT_OPEN, PORT_OPEN);
	snprintf(rules, sizeof(rules),
		 "\"name=demo-b -> myself:%d\", \"myself:%d -> name=demo-b\"",
		 PORT_OPEN, PORT_OPEN);
	if (linux_guest(d, "demo-a", sa, rules) < 0)
		return -1;
	a = domid_of("demo-a");
	snprintf(sb, sizeof(sb), script_b, a, PORT_OPEN, a, PORT_OPEN, a,
		 PORT_CLOSED);
	if (linux_guest(d, "demo-b", sb, "") < 0)
		return -1;
	say("(booting: about a minute inside a test host, seconds on hardware)");
	if (wait_console(d, "demo-a", "demo: ready", LINUX_BOOT_TIMEOUT_S) ||
	    wait_console(d, "demo-b", "demo: ready", LINUX_BOOT_TIMEOUT_S))
		return -1;
	bulkhead(d, "list", NULL);
	show_lines(d, "demo-a", "demo:");
	show_lines(d, "demo-b", "demo:");
	if (d->vsock) {
		heading("Data between the guests over HMX (socat over AF_VSOCK)");
		wait_console(d, "demo-a", "demo: received", 60);
		show_lines(d, "demo-b", "demo:");
		show_lines(d, "demo-a", "demo:");
	} else {
		say("\nThe guests' AF_VSOCK transport over HMX (hmx_vsock.ko, looked for at\n"
		    "%s) is not built here, so the\n"
		    "Linux guests cannot open HMX sockets yet. The exchange below runs\n"
		    "between two freestanding HMX guests through the same device, firewall\n"
		    "and policy.",
		    d->vsock_ko);
	}
	return 0;
}

static int peer_scene(struct demo *d)
{
	char cfg[PATH_MAX + 64], flow_ok[64], flow_no[64];
	int a, b;

	heading("Data between two VMs over HMX");
	snprintf(cfg, sizeof(cfg), "%s/peer-a.cfg", d->work);
	if (write_file(cfg,
		       "# Listens on HMX port %d; only peer-b may send to it.\n"
		       "name = \"peer-a\"\n"
		       "memory = 16\n"
		       "kernel = \"%s\"\n"
		       "cmdline = \"listen=%d expect=1\"\n"
		       "hmx_rules = [ \"name=peer-b -> myself:%d\" ]\n",
		       PORT_OPEN,
		       BH_BUILD_ROOT "/tests/integration/hmx-peer.elf",
		       PORT_OPEN, PORT_OPEN) < 0)
		return -1;
	run((char *[]){ "cat", cfg, NULL }, true);
	if (bulkhead(d, "create", cfg, NULL) != 0)
		return -1;
	a = domid_of("peer-a");
	snprintf(cfg, sizeof(cfg), "%s/peer-b.cfg", d->work);
	if (write_file(
		    cfg,
		    "# Sends to peer-a's port %d (allowed) and %d (not).\n"
		    "name = \"peer-b\"\n"
		    "memory = 16\n"
		    "kernel = \"%s\"\n"
		    "cmdline = \"listen=2000 partner=%d send=%d:%d deny=%d:%d text=hello-over-HMX\"\n",
		    PORT_OPEN, PORT_CLOSED,
		    BH_BUILD_ROOT "/tests/integration/hmx-peer.elf", a, a,
		    PORT_OPEN, a, PORT_CLOSED) < 0)
		return -1;
	run((char *[]){ "cat", cfg, NULL }, true);
	if (bulkhead(d, "create", cfg, NULL) != 0)
		return -1;
	b = domid_of("peer-b");
	if (wait_console(d, "peer-a", "peer: done", PEER_TIMEOUT_S) ||
	    wait_console(d, "peer-b", "peer: done", PEER_TIMEOUT_S))
		return -1;
	bulkhead(d, "logs", "peer-b", NULL);
	bulkhead(d, "logs", "peer-a", NULL);
	say("peer-a (domid %d) received peer-b's (domid %d) message; the send to port %d\n"
	    "was refused by the hypervisor's firewall. Both powered off when done.",
	    a, b, PORT_CLOSED);

	heading("The denied flow, refused and audited");
	bulkhead(d, "list", NULL);
	bulkhead(d, "policy", "show", "--audit", "5", NULL);
	say("(The peers have stopped, so peer-a's rule naming peer-b compiles to\n"
	    "nothing now: a rule naming a VM that is not running matches nothing.)\n\n"
	    "Which rule decides a flow, asked of the running Debian guests:");
	snprintf(flow_ok, sizeof(flow_ok), "demo-a:%d", PORT_OPEN);
	snprintf(flow_no, sizeof(flow_no), "demo-a:%d", PORT_CLOSED);
	bulkhead(d, "policy", "check", "demo-b:5000", flow_ok, NULL);
	if (bulkhead(d, "policy", "check", "demo-b:5000", flow_no, NULL) ==
	    EXIT_DENIED)
		say("(exit status 7: rejected)");
	return 0;
}

static void stop_all(struct demo *d)
{
	struct json_object *a;

	heading("Stopping everything");
	bulkhead(d, "shutdown", "--timeout", "120s", "--force", "demo-a", NULL);
	bulkhead(d, "shutdown", "--timeout", "120s", "--force", "demo-b", NULL);
	a = json_object_new_object();
	json_object_object_add(a, "stop_vms", json_object_new_boolean(true));
	cli_call("daemon.quit", a, NULL, 0, NULL, NULL, NULL);
	waitpid(d->daemon, NULL, 0);
	say("bulkheadd and the hypervisor have exited; state and logs are in %s",
	    d->work);
}

/* Where /dev/kvm cannot run Linux in useful time: the same demo inside a
 * test host (docs/testing.md). Assets are made first: its root is
 * read-only. */
static int in_test_host(struct demo *d, int argc, char **argv)
{
	char kenv[PATH_MAX + 32], ienv[PATH_MAX + 96];
	char *args[32] = { BH_SOURCE_ROOT "/tests/host/run",
			   "--timeout",
			   "2400",
			   "--env",
			   kenv,
			   "--env",
			   ienv,
			   "--",
			   d->self,
			   "demo" };
	int n = 10;

	say("This machine's /dev/kvm has no hardware virtualization (no VT-x or\n"
	    "AMD-V in its CPU flags): Linux guests would crawl. Running the demo\n"
	    "inside a test host (QEMU with an emulated AMD-V CPU, tests/host/run)\n"
	    "instead; expect a few minutes.");
	snprintf(kenv, sizeof(kenv), "BULKHEAD_DEMO_KERNEL=%s", d->kernel);
	snprintf(ienv, sizeof(ienv), "BULKHEAD_DEMO_INITRD=%s", d->initrd);
	for (int i = 1; i < argc && n < 30; i++)
		args[n++] = argv[i];
	args[n] = NULL;
	if (access(args[0], X_OK) < 0) {
		cli_err("demo: %s is missing: run the demo from a source build",
			args[0]);
		return EXIT_ERROR;
	}
	(void)d;
	return run(args, true) == 0 ? EXIT_OK : EXIT_ERROR;
}

int cmd_demo(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "keep", no_argument, NULL, 'k' },
		{ "work-dir", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct demo d = { 0 };
	const char *work = NULL;
	bool keep = false;
	ssize_t n;
	int c, r;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+kw:h", lo, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(cli_verb("demo")->usage, stdout);
			return EXIT_OK;
		case 'k':
			keep = true;
			break;
		case 'w':
			work = optarg;
			break;
		default:
			return cli_usage_err("demo", "unknown option \"%s\"",
					     argv[optind - 1]);
		}
	}
	if (optind != argc)
		return cli_usage_err("demo", "no arguments expected");
	n = readlink("/proc/self/exe", d.self, sizeof(d.self) - 1);
	if (n <= 0)
		return EXIT_ERROR;
	d.self[n] = '\0';
	say("Bulkhead demo: two VMs, the hypervisor between them, and a policy.");
	if (!hardware_virt()) {
		/* Assets first: inside the test host the tree is read-only. */
		if (prepare_assets(&d) < 0)
			return EXIT_ERROR;
		return in_test_host(&d, argc, argv);
	}
	if (prepare_assets(&d) < 0)
		return EXIT_ERROR;
	if (work) {
		if (mkdir(work, 0700) < 0 && errno != EEXIST) {
			cli_err("demo: %s: %s", work, strerror(errno));
			return EXIT_ERROR;
		}
		snprintf(d.work, sizeof(d.work), "%s", work);
	} else {
		snprintf(d.work, sizeof(d.work), "/tmp/bulkhead-demo-XXXXXX");
		if (!mkdtemp(d.work)) {
			cli_err("demo: mkdtemp: %s", strerror(errno));
			return EXIT_ERROR;
		}
	}
	snprintf(d.state, sizeof(d.state), "%s/state", d.work);
	cli_state_dir = d.state;
	if (start_daemon(&d) < 0)
		return EXIT_ERROR;
	r = linux_scene(&d);
	if (r == 0)
		r = peer_scene(&d);
	if (!keep)
		stop_all(&d);
	else
		say("\nLeft running (--keep): BULKHEAD_STATE_DIR=%s bulkhead list",
		    d.state);
	if (r == 0)
		say("\nDemo complete.");
	return r == 0 ? EXIT_OK : EXIT_ERROR;
}
