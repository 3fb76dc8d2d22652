// SPDX-License-Identifier: GPL-2.0-only
/* bulkheadd: the Bulkhead toolstack daemon (docs/toolstack.md). */
#include "toolstack/daemon/daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "toolstack/daemon/disks.h"
#include "toolstack/daemon/host_launch.h"
#include "toolstack/daemon/tpm_use.h"
#include "toolstack/policy.h"
#include "tpm/tpm.h"
#include "util/parse.h"
#include "util/log.h"

#define DEFAULT_STATE_DIR "/run/bulkhead"
#define DEFAULT_CONFIG_DIR "/etc/bulkhead/vms"
#define HV_START_WAIT_MS 10000
/* Far above the uids and the user-namespace ranges a system hands out. */
#define DEFAULT_DEVMODEL_UID_BASE 0x60000000u
/* Just below the device models' range: a uid nothing else runs as. */
#define DEFAULT_HV_UID (DEFAULT_DEVMODEL_UID_BASE - 1)

/* epoll tags: the listening socket and the hypervisor connection; any
 * other pointer is an api_client. */
static char tag_listen, tag_hv, tag_signal, tag_devmodels;

static void usage(FILE *out)
{
	fprintf(out,
		"usage: bulkheadd [options]\n"
		"\n"
		"The Bulkhead toolstack daemon: owns VM definitions and their state,\n"
		"runs the hypervisor process (bulkhead-hv) and serves the bulkhead\n"
		"command. VMs keep running when bulkheadd stops; a restarted bulkheadd\n"
		"finds them again.\n"
		"\n"
		"  -s, --state-dir DIR   runtime state, sockets and logs (default\n"
		"                        " DEFAULT_STATE_DIR
		", or $BULKHEAD_STATE_DIR)\n"
		"  -c, --config-dir DIR  VM definitions, one *.cfg file each (default\n"
		"                        " DEFAULT_CONFIG_DIR
		", or $BULKHEAD_CONFIG_DIR)\n"
		"      --hv PATH         the hypervisor program (default: bulkhead-hv\n"
		"                        next to bulkheadd, else the one built with it,\n"
		"                        else on $PATH; or $BULKHEAD_HV)\n"
		"      --blk PATH        the block device model (default: bulkhead-blk\n"
		"                        found as for --hv; or $BULKHEAD_BLK)\n"
		"      --net PATH        the NDVM NIC device model (default:\n"
		"                        bulkhead-net found as for --hv; or\n"
		"                        $BULKHEAD_NET)\n"
		"      --devmodel-uid-base N\n"
		"                        device models run as uid and gid N + k, k the\n"
		"                        lowest free (default %u; as root only)\n"
		"      --overlay-dir DIR where temporary disks' overlays live, as\n"
		"                        unnamed files (default STATE-DIR/overlays;\n"
		"                        or $BULKHEAD_OVERLAY_DIR): a file system with\n"
		"                        room for what the guests write\n"
		"      --tpm SPEC        the TPM measurements are extended into and\n"
		"                        secrets sealed by: auto (default: " TPM_DEVICE_DEFAULT
		"\n"
		"                        if it exists, else none), none, or a TCTI\n"
		"                        string such as swtpm:host=127.0.0.1,port=2321,\n"
		"                        swtpm:path=SOCKET or device:/dev/tpmrm0 (or\n"
		"                        $BULKHEAD_TPM; docs/measured-launch.md)\n"
		"      --no-vsock        refuse vsock = on: the hypervisor is started\n"
		"                        without vsock's host end (by default it has\n"
		"                        one, confined to STATE-DIR/vsock by its jail;\n"
		"                        --vsock says the default)\n"
		"      --hv-uid N        the hypervisor runs as uid and gid N (default\n"
		"                        %u; as root only; unprivileged, it runs in a\n"
		"                        user namespace of bulkheadd's own ids)\n"
		"  -v, --verbose         more diagnostics; -q, --quiet fewer\n"
		"  -h, --help            this text; --version its version\n"
		"\n"
		"SIGTERM or SIGINT stops bulkheadd and leaves the VMs running.\n",
		DEFAULT_DEVMODEL_UID_BASE, DEFAULT_HV_UID);
}

static char *abs_path(const char *p)
{
	char cwd[PATH_MAX], *r;

	if (p[0] == '/')
		return strdup(p);
	if (!getcwd(cwd, sizeof(cwd)))
		return NULL;
	if (asprintf(&r, "%s/%s", cwd, p) < 0)
		return NULL;
	return r;
}

static char *join(const char *dir, const char *name)
{
	char *r;

	return asprintf(&r, "%s/%s", dir, name) < 0 ? NULL : r;
}

/*
 * A program of ours next to our own binary (installed), else the one
 * built with us when we run from the build tree, else its name, looked up
 * on $PATH by whoever runs it.
 */
static char *default_program(const char *name, const char *built)
{
	char self[PATH_MAX], *dir;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *p;

	if (n > 0) {
		self[n] = '\0';
		dir = dirname(self);
		p = join(dir, name);
		if (p && access(p, X_OK) == 0)
			return p;
		free(p);
		if (!strncmp(self, BH_BUILD_ROOT "/",
			     strlen(BH_BUILD_ROOT) + 1) &&
		    access(built, X_OK) == 0)
			return strdup(built);
	}
	return strdup(name);
}

/* An absolute path for exec without $PATH: found there if need be. */
static char *resolve_program(char *p)
{
	const char *path = getenv("PATH");
	char *dirs, *save = NULL;

	if (!p || strchr(p, '/') || !path)
		return p;
	dirs = strdup(path);
	for (char *dir = dirs ? strtok_r(dirs, ":", &save) : NULL; dir;
	     dir = strtok_r(NULL, ":", &save)) {
		char *full = join(dir, p);

		if (full && full[0] == '/' && access(full, X_OK) == 0) {
			free(dirs);
			free(p);
			return full;
		}
		free(full);
	}
	free(dirs);
	return p;
}

/* A private directory: created 0700, or an existing one of ours made so. */
static int private_dir(const char *path)
{
	struct stat st;

	if (mkdir(path, 0700) < 0 && errno != EEXIST) {
		bh_err("cannot create %s: %s", path, strerror(errno));
		return -1;
	}
	if (lstat(path, &st) < 0 || !S_ISDIR(st.st_mode)) {
		bh_err("%s is not a directory", path);
		return -1;
	}
	if (st.st_uid != geteuid()) {
		bh_err("%s belongs to uid %u, not to us", path,
		       (unsigned)st.st_uid);
		return -1;
	}
	if ((st.st_mode & 077) && chmod(path, 0700) < 0) {
		bh_err("cannot make %s private: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * STATE-DIR/vsock, the one directory the jailed hypervisor sees: 0700 and
 * (as root) its uid's, so that it can make the VMs' sockets there; named
 * without symlinks, since the jail binds it at that path.
 */
static int hv_vsock_dir(struct bhd *d)
{
	struct stat st;
	char *real;

	if (mkdir(d->vsock_dir, 0700) < 0 && errno != EEXIST) {
		bh_err("cannot create %s: %s", d->vsock_dir, strerror(errno));
		return -1;
	}
	if (lstat(d->vsock_dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		bh_err("%s is not a directory", d->vsock_dir);
		return -1;
	}
	if (geteuid() == 0 && (chown(d->vsock_dir, d->hv_uid, d->hv_uid) < 0 ||
			       chmod(d->vsock_dir, 0700) < 0)) {
		bh_err("cannot give %s to the hypervisor's uid %u: %s",
		       d->vsock_dir, (unsigned int)d->hv_uid, strerror(errno));
		return -1;
	}
	real = realpath(d->vsock_dir, NULL);
	if (!real) {
		bh_err("%s: %s", d->vsock_dir, strerror(errno));
		return -1;
	}
	free(d->vsock_dir);
	d->vsock_dir = real;
	return 0;
}

static int lock_state_dir(struct bhd *d)
{
	char *path = join(d->state_dir, "bulkheadd.lock");
	int fd = path ? open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600) : -1;

	if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0) {
		bh_err("%s: %s", path ? path : d->state_dir,
		       errno == EWOULDBLOCK ?
			       "another bulkheadd uses this state directory" :
			       strerror(errno));
		free(path);
		return -1;
	}
	if (ftruncate(fd, 0) == 0)
		dprintf(fd, "%d\n", (int)getpid());
	free(path);
	return fd; /* held until we exit */
}

static int epoll_add(struct bhd *d, int fd, void *tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = tag };

	return epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev);
}

/* Connects to the hypervisor, starting one if none listens. */
static int connect_hv(struct bhd *d)
{
	char err[512];
	int64_t deadline;
	pid_t pid;
	int r;

	r = hvconn_open(&d->hv, d->hv_sock, err, sizeof(err));
	if (r == 0) {
		d->hv_fresh = false;
		bh_info("found the running hypervisor (%s)", d->hv.server);
		goto connected;
	}
	if (r != -ENOENT && r != -ECONNREFUSED) {
		bh_err("hypervisor: %s", err);
		return -1;
	}
	pid = hv_spawn(d->hv_path, d->hv_sock, d->hv_log,
		       d->vsock ? d->vsock_dir : NULL,
		       geteuid() == 0 ? d->hv_uid : 0);
	if (pid < 0) {
		bh_err("cannot start %s: %s", d->hv_path, strerror(-pid));
		return -1;
	}
	deadline = bhd_now_ms() + HV_START_WAIT_MS;
	do {
		usleep(20000);
		r = hvconn_open(&d->hv, d->hv_sock, err, sizeof(err));
	} while ((r == -ENOENT || r == -ECONNREFUSED) &&
		 bhd_now_ms() < deadline && kill(pid, 0) == 0);
	if (r < 0) {
		bh_err("started %s (pid %d) but: %s; see %s", d->hv_path,
		       (int)pid, err, d->hv_log);
		return -1;
	}
	d->hv_fresh = true;
	bh_info("started the hypervisor, pid %d (%s)", (int)pid, d->hv.server);
connected:
	if (!d->hv.has_hmx)
		bh_warn("this hypervisor has no HMX: VMs get no HMX device, so no flow between them exists; rules are compiled but not installed");
	if (epoll_add(d, d->hv.fd, &tag_hv) < 0)
		return -1;
	if (bhd_reconcile(d, err, sizeof(err)) < 0) {
		bh_err("cannot list the hypervisor's VMs: %s", err);
		return -1;
	}
	if (d->hv_fresh)
		bhd_autostart(d);
	return 0;
}

static int setup(struct bhd *d)
{
	sigset_t sigs;
	int sfd;

	if (private_dir(d->state_dir) < 0 || private_dir(d->logs_dir) < 0 ||
	    (d->vsock && hv_vsock_dir(d) < 0) || lock_state_dir(d) < 0)
		return -1;
	/* Before anything of the state is trusted (the config store):
	 * what runs is measured. */
	if (bhd_tpm_open(d) < 0 || host_launch_measure(d) < 0)
		return -1;
	signal(SIGPIPE, SIG_IGN);
	/* The hypervisor is our child only until we restart: never wait. */
	signal(SIGCHLD, SIG_IGN);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	sfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	d->dm_epfd = epoll_create1(EPOLL_CLOEXEC);
	if (sfd < 0 || d->epfd < 0 || d->dm_epfd < 0 ||
	    epoll_add(d, sfd, &tag_signal) < 0 ||
	    epoll_add(d, d->dm_epfd, &tag_devmodels) < 0)
		return -1;
	if (store_load(d) < 0)
		return -1;
	store_scan_config_dir(d, true);
	if (connect_hv(d) < 0)
		return -1;
	store_save(d);
	if (api_listen(d) < 0 || epoll_add(d, d->listen_fd, &tag_listen) < 0)
		return -1;
	bh_info("ready: %s (config %s, hypervisor %s)", d->api_sock,
		d->config_dir, d->hv_path);
	return 0;
}

static void on_hv_readable(struct bhd *d)
{
	if (hvconn_pump(&d->hv) == 0)
		return;
	bh_err("the hypervisor connection closed");
	epoll_ctl(d->epfd, EPOLL_CTL_DEL, d->hv.fd, NULL);
	bhd_hv_lost(d);
	if (connect_hv(d) < 0) {
		bh_err("cannot get a hypervisor again; exiting");
		d->quit = true;
	}
}

static void run(struct bhd *d)
{
	while (!d->quit) {
		struct epoll_event evs[16];
		int n = epoll_wait(d->epfd, evs, 16, waiters_next_timeout(d));

		if (n < 0 && errno != EINTR) {
			bh_err("epoll_wait: %s", strerror(errno));
			return;
		}
		for (int i = 0; i < n && !d->quit; i++) {
			void *tag = evs[i].data.ptr;

			if (tag == &tag_signal) {
				bh_info("stopping on a signal; VMs keep running");
				d->quit = true;
			} else if (tag == &tag_listen) {
				api_on_listen(d);
			} else if (tag == &tag_devmodels) {
				disks_on_exit(d);
			} else if (tag == &tag_hv) {
				if (d->hv.fd >= 0)
					on_hv_readable(d);
			} else {
				api_on_client(d, tag);
				/* A client freed here may be in evs[] again:
				 * handle one client event per wake-up. */
				break;
			}
		}
		vm_process_events(d);
		waiters_check(d);
		api_reap(d);
	}
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "state-dir", required_argument, NULL, 's' },
		{ "config-dir", required_argument, NULL, 'c' },
		{ "hv", required_argument, NULL, 'H' },
		{ "vsock", no_argument, NULL, 'K' },
		{ "no-vsock", no_argument, NULL, 'k' },
		{ "hv-uid", required_argument, NULL, 'u' },
		{ "blk", required_argument, NULL, 'B' },
		{ "net", required_argument, NULL, 'N' },
		{ "overlay-dir", required_argument, NULL, 'O' },
		{ "tpm", required_argument, NULL, 'T' },
		{ "devmodel-uid-base", required_argument, NULL, 'U' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	const char *state = getenv("BULKHEAD_STATE_DIR");
	const char *config = getenv("BULKHEAD_CONFIG_DIR");
	const char *hv = getenv("BULKHEAD_HV");
	const char *blk = getenv("BULKHEAD_BLK");
	const char *net = getenv("BULKHEAD_NET");
	const char *overlays = getenv("BULKHEAD_OVERLAY_DIR");
	const char *tpm = getenv("BULKHEAD_TPM");
	enum tpm_spec_kind tpm_kind;
	struct tpm_err tpm_e;
	enum bh_log_level level = BH_LOG_INFO;
	uint64_t uid_base;
	struct bhd d = { .listen_fd = -1,
			 .epfd = -1,
			 .dm_epfd = -1,
			 .next_seq = 1,
			 .vsock = true,
			 .hv_uid = DEFAULT_HV_UID,
			 .devmodel_uid_base = DEFAULT_DEVMODEL_UID_BASE };
	int c;

	while ((c = getopt_long(argc, argv, "s:c:vqh", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			state = optarg;
			break;
		case 'c':
			config = optarg;
			break;
		case 'H':
			hv = optarg;
			break;
		case 'K':
			d.vsock = true;
			break;
		case 'k':
			d.vsock = false;
			break;
		case 'u':
			if (bh_parse_u64(optarg, &uid_base) || !uid_base ||
			    uid_base > 0xfffffffeull) {
				fprintf(stderr,
					"bulkheadd: --hv-uid: \"%s\" is not a uid from 1 to %llu\n",
					optarg, 0xfffffffeull);
				return 2;
			}
			d.hv_uid = (uint32_t)uid_base;
			break;
		case 'B':
			blk = optarg;
			break;
		case 'N':
			net = optarg;
			break;
		case 'O':
			overlays = optarg;
			break;
		case 'T':
			tpm = optarg;
			break;
		case 'U':
			if (bh_parse_u64(optarg, &uid_base) || !uid_base ||
			    uid_base > 0xfffffffeull - 65536) {
				fprintf(stderr,
					"bulkheadd: --devmodel-uid-base: \"%s\" is not a uid from 1 to %llu\n",
					optarg, 0xfffffffeull - 65536);
				return 2;
			}
			d.devmodel_uid_base = (uint32_t)uid_base;
			break;
		case 'v':
			level = BH_LOG_DEBUG;
			break;
		case 'q':
			level = BH_LOG_ERR;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("bulkheadd %s\n", BULKHEAD_VERSION);
			return 0;
		default:
			fprintf(stderr, "Try 'bulkheadd --help'.\n");
			return 2;
		}
	}
	bh_log_init("bulkheadd", level);
	if (d.hv_uid >= d.devmodel_uid_base &&
	    d.hv_uid - d.devmodel_uid_base < 65536u) {
		bh_err("--hv-uid %u is among the device models' uids (from "
		       "--devmodel-uid-base %u): each process has its own",
		       (unsigned int)d.hv_uid,
		       (unsigned int)d.devmodel_uid_base);
		return 2;
	}
	if (optind < argc) {
		bh_err("unexpected argument \"%s\"", argv[optind]);
		fprintf(stderr, "Try 'bulkheadd --help'.\n");
		return 2;
	}
	if (tpm_spec_parse(tpm, &tpm_kind, &tpm_e)) {
		bh_err("--tpm: %s", tpm_e.msg);
		return 2;
	}
	hvconn_init(&d.hv);
	d.state_dir = abs_path(state && state[0] ? state : DEFAULT_STATE_DIR);
	d.config_dir =
		abs_path(config && config[0] ? config : DEFAULT_CONFIG_DIR);
	/* A path with a slash is made absolute: the hypervisor and a later
	 * bulkheadd may run from another directory. */
	/* Resolved now: what is measured is what runs (host_launch.h). */
	d.hv_path = resolve_program(
		hv && hv[0] ? (strchr(hv, '/') ? abs_path(hv) : strdup(hv)) :
			      default_program("bulkhead-hv", BH_BUILD_HV));
	d.tpm_spec = tpm && tpm[0] ? strdup(tpm) : NULL;
	d.blk_path = resolve_program(
		blk && blk[0] ?
			(strchr(blk, '/') ? abs_path(blk) : strdup(blk)) :
			default_program("bulkhead-blk", BH_BUILD_BLK));
	d.net_path = resolve_program(
		net && net[0] ?
			(strchr(net, '/') ? abs_path(net) : strdup(net)) :
			default_program("bulkhead-net", BH_BUILD_NET));
	if (!d.state_dir || !d.config_dir || !d.hv_path || !d.blk_path ||
	    !d.net_path)
		return 1;
	d.api_sock = join(d.state_dir, "bulkheadd.sock");
	d.hv_sock = join(d.state_dir, "hv.sock");
	d.hv_log = join(d.state_dir, "hv.log");
	d.state_file = join(d.state_dir, "state.json");
	d.logs_dir = join(d.state_dir, "logs");
	d.vsock_dir = join(d.state_dir, "vsock");
	d.overlay_dir = overlays && overlays[0] ? abs_path(overlays) :
						  join(d.state_dir, "overlays");
	if (!d.api_sock || !d.hv_sock || !d.hv_log || !d.state_file ||
	    !d.logs_dir || !d.vsock_dir || !d.overlay_dir)
		return 1;
	if (setup(&d) < 0)
		return 1;
	run(&d);
	store_save(&d);
	api_close_all(&d);
	hvconn_close(&d.hv);
	while (d.vms) {
		struct vmrec *r = d.vms;

		d.vms = r->next;
		vmrec_free(r);
	}
	audit_free(&d);
	policy_set_free(d.policy);
	tpm_close(d.tpm);
	free(d.tpm_spec);
	free(d.state_dir);
	free(d.config_dir);
	free(d.hv_path);
	free(d.blk_path);
	free(d.net_path);
	free(d.api_sock);
	free(d.hv_sock);
	free(d.hv_log);
	free(d.state_file);
	free(d.logs_dir);
	free(d.vsock_dir);
	free(d.overlay_dir);
	return 0;
}
