// SPDX-License-Identifier: GPL-2.0-only
/*
 * bulkhead-blk: one VM disk as a vhost-user-blk back end. Everything that
 * needs a path or a privilege happens first (the image opened and locked,
 * the socket accepted, the io_uring ring built); then the process jails
 * itself (jail.h, blk_jail.h) and only then reads the front end's first
 * message.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "devmodel/blk/blk_server.h"
#include "util/hex.h"
#include "util/log.h"
#include "util/parse.h"

#define EXIT_USAGE 2

#if defined(__SANITIZE_ADDRESS__)
#define BH_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BH_SANITIZED 1
#endif
#endif

struct options {
	const char *socket_path;
	int sock_fd;
	struct blk_image_options image;
	struct blk_layer_options layers;
	const char *crypt_cipher;
	const char *serial;
	bool no_discard;
	unsigned int nqueues;
	enum blk_io_engine engine;
	const char *name;
	bool have_uid, have_gid;
	bool have_verity_root;
	bool guest_readonly;
	unsigned int uid, gid;
	bool verbose;
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: bulkhead-blk (--socket PATH | --fd N) (--image PATH | --image-fd N)\n"
		"                    [options]\n"
		"\n"
		"Serves one disk image to one vhost-user front end (QEMU's\n"
		"vhost-user-blk-pci, bulkhead-hv) as a virtio-blk device, confined\n"
		"to the descriptors it holds (docs/devmodels.md, docs/security.md).\n"
		"\n"
		"Front end (one of):\n"
		"  --socket PATH       listen on PATH (its owner alone may connect),\n"
		"                      accept one front end, then remove PATH\n"
		"  --fd N              descriptor N is an inherited, connected unix\n"
		"                      stream socket to the front end\n"
		"Image (one of):\n"
		"  --image PATH        the disk image: a regular file or a block device\n"
		"  --image-fd N        descriptor N is the image (O_RDONLY with\n"
		"                      --readonly or a temporary --snapshot, O_RDWR\n"
		"                      otherwise)\n"
		"Disk:\n"
		"  --format raw|qcow2  image format (default raw; qcow2 is refused: not\n"
		"                      supported yet)\n"
		"  --readonly          a read-only disk: opened O_RDONLY, VIRTIO_BLK_F_RO,\n"
		"                      writes fail\n"
		"  --serial STRING     serial number the guest reads (GET_ID), up to 20\n"
		"                      bytes; without it GET_ID is unsupported\n"
		"  --no-discard        do not offer DISCARD (WRITE_ZEROES then never\n"
		"                      deallocates)\n"
		"  --direct            I/O with O_DIRECT, bypassing the host's page\n"
		"                      cache (QEMU's cache=none); buffers must then be\n"
		"                      aligned to the logical block size\n"
		"  --queues N          request queues, 1 to %u (default 1)\n"
		"  --io ENGINE         auto (default: io_uring, else synchronous),\n"
		"                      io_uring or sync\n"
		"Encryption (a LUKS image; the toolstack unlocks its key slot):\n"
		"  --crypt CIPHER      the data area's cipher: aes-xts-plain64\n"
		"  --crypt-key-fd N    descriptor N is a sealed memfd holding the volume\n"
		"                      key (32 or 64 bytes); never argv or a file\n"
		"  --crypt-offset B    bytes before the data area (the LUKS header)\n"
		"  --crypt-size B      bytes of the data area (default: to the end)\n"
		"  --crypt-sector N    encryption sector: 512 (default), 1024, 2048, 4096\n"
		"  --crypt-iv-large-sectors\n"
		"                      count IVs in encryption sectors, not 512 bytes\n"
		"Snapshot:\n"
		"  --snapshot MODE     persistent (default), temporary (writes go to the\n"
		"                      overlay, the image is only read) or\n"
		"                      temporary-encrypted (the overlay under a key made\n"
		"                      for this run, never stored)\n"
		"  --overlay-fd N      descriptor N is the overlay: an unlinked regular\n"
		"                      file (O_TMPFILE) open for reading and writing\n"
		"Verity:\n"
		"  --verity-fd N       descriptor N is the image's dm-verity hash tree\n"
		"  --verity-root HEX   its root hash (sha256); every block read is\n"
		"                      checked, a mismatch is an I/O error\n"
		"Confinement:\n"
		"  --uid UID --gid GID the unprivileged ids to run as; required when\n"
		"                      started as root (unprivileged, a user namespace\n"
		"                      is used instead)\n"
		"Other:\n"
		"  --name LABEL        label for log lines, e.g. web:xvda\n"
		"  -v, --verbose       debug messages\n"
		"  -h, --help          this text\n"
		"  --version           the version\n"
		"\n"
		"Exit status: 0 when the front end disconnected between messages or on\n"
		"SIGTERM, SIGINT or SIGHUP; 1 on an error (image missing, unreadable\n"
		"or in use, a malformed message); 2 on a usage error.\n",
		VHOST_BE_QUEUES_MAX);
}

static int parse_uint(const char *opt, const char *arg, unsigned int max,
		      unsigned int *out)
{
	uint64_t v;

	if (bh_parse_u64(arg, &v) < 0 || v > max) {
		bh_err("%s: \"%s\" is not a number up to %u", opt, arg, max);
		return -1;
	}
	*out = (unsigned int)v;
	return 0;
}

enum {
	OPT_SOCKET = 256,
	OPT_FD,
	OPT_IMAGE,
	OPT_IMAGE_FD,
	OPT_FORMAT,
	OPT_READONLY,
	OPT_SERIAL,
	OPT_NO_DISCARD,
	OPT_DIRECT,
	OPT_QUEUES,
	OPT_IO,
	OPT_UID,
	OPT_GID,
	OPT_NAME,
	OPT_VERSION,
	OPT_CRYPT,
	OPT_CRYPT_KEY_FD,
	OPT_CRYPT_OFFSET,
	OPT_CRYPT_SECTOR,
	OPT_CRYPT_SIZE,
	OPT_CRYPT_IV_LARGE,
	OPT_SNAPSHOT,
	OPT_OVERLAY_FD,
	OPT_VERITY_FD,
	OPT_VERITY_ROOT,
};

/* The options of a disk's layers (blk_layers.h). */
static int parse_layer_option(struct options *o, int c, const char *arg)
{
	struct blk_layer_options *l = &o->layers;
	unsigned int v;
	uint64_t u;

	switch (c) {
	case OPT_CRYPT:
		if (strcmp(arg, "aes-xts-plain64")) {
			bh_err("--crypt: unsupported cipher \"%s\" (only "
			       "aes-xts-plain64)",
			       arg);
			return -1;
		}
		o->crypt_cipher = arg;
		return 0;
	case OPT_CRYPT_KEY_FD:
		if (parse_uint("--crypt-key-fd", arg, INT32_MAX, &v) < 0)
			return -1;
		l->crypt_key_fd = (int)v;
		return 0;
	case OPT_CRYPT_OFFSET:
		if (bh_parse_u64(arg, &u) < 0) {
			bh_err("--crypt-offset: \"%s\" is not a byte count",
			       arg);
			return -1;
		}
		l->crypt_offset = u;
		return 0;
	case OPT_CRYPT_SIZE:
		if (bh_parse_u64(arg, &u) < 0) {
			bh_err("--crypt-size: \"%s\" is not a byte count", arg);
			return -1;
		}
		l->crypt_size = u;
		return 0;
	case OPT_CRYPT_SECTOR:
		if (parse_uint("--crypt-sector", arg, 4096, &v) < 0 ||
		    v < 512 || (v & (v - 1))) {
			bh_err("--crypt-sector: 512, 1024, 2048 or 4096");
			return -1;
		}
		l->crypt_sector = v;
		return 0;
	case OPT_CRYPT_IV_LARGE:
		l->crypt_iv_large = true;
		return 0;
	case OPT_SNAPSHOT:
		if (blk_snapshot_parse(arg, &l->snapshot) < 0) {
			bh_err("--snapshot: \"%s\" is not persistent, temporary "
			       "or temporary-encrypted",
			       arg);
			return -1;
		}
		return 0;
	case OPT_OVERLAY_FD:
		if (parse_uint("--overlay-fd", arg, INT32_MAX, &v) < 0)
			return -1;
		l->overlay_fd = (int)v;
		return 0;
	case OPT_VERITY_FD:
		if (parse_uint("--verity-fd", arg, INT32_MAX, &v) < 0)
			return -1;
		l->verity_fd = (int)v;
		return 0;
	case OPT_VERITY_ROOT:
		if (strlen(arg) != 2 * BLK_VERITY_ROOT_BYTES ||
		    hex_decode(arg, l->verity_root, BLK_VERITY_ROOT_BYTES) !=
			    BLK_VERITY_ROOT_BYTES) {
			bh_err("--verity-root: expected 64 lower-case hex digits");
			return -1;
		}
		o->have_verity_root = true;
		return 0;
	}
	return -1;
}

static int parse_option(struct options *o, int c, const char *arg)
{
	unsigned int v;

	switch (c) {
	case OPT_SOCKET:
		o->socket_path = arg;
		return 0;
	case OPT_FD:
		if (parse_uint("--fd", arg, INT32_MAX, &v) < 0)
			return -1;
		o->sock_fd = (int)v;
		return 0;
	case OPT_IMAGE:
		o->image.path = arg;
		return 0;
	case OPT_IMAGE_FD:
		if (parse_uint("--image-fd", arg, INT32_MAX, &v) < 0)
			return -1;
		o->image.fd = (int)v;
		return 0;
	case OPT_FORMAT:
		o->image.format_given = true;
		if (!strcmp(arg, "raw")) {
			o->image.format = BLK_FORMAT_RAW;
		} else if (!strcmp(arg, "qcow2")) {
			o->image.format = BLK_FORMAT_QCOW2;
		} else {
			bh_err("--format: unknown image format \"%s\" (raw or "
			       "qcow2)",
			       arg);
			return -1;
		}
		return 0;
	case OPT_READONLY:
		o->image.readonly = true;
		return 0;
	case OPT_SERIAL:
		if (strlen(arg) > BLK_SERIAL_MAX) {
			bh_err("--serial: longer than %u bytes",
			       BLK_SERIAL_MAX);
			return -1;
		}
		o->serial = arg;
		return 0;
	case OPT_DIRECT:
		o->image.direct = true;
		return 0;
	case OPT_NO_DISCARD:
		o->no_discard = true;
		return 0;
	case OPT_QUEUES:
		if (parse_uint("--queues", arg, VHOST_BE_QUEUES_MAX,
			       &o->nqueues) < 0 ||
		    !o->nqueues) {
			bh_err("--queues: 1 to %u", VHOST_BE_QUEUES_MAX);
			return -1;
		}
		return 0;
	case OPT_IO:
		if (!strcmp(arg, "auto")) {
			o->engine = BLK_IO_AUTO;
		} else if (!strcmp(arg, "io_uring")) {
			o->engine = BLK_IO_URING;
		} else if (!strcmp(arg, "sync")) {
			o->engine = BLK_IO_SYNC;
		} else {
			bh_err("--io: \"%s\" is not auto, io_uring or sync",
			       arg);
			return -1;
		}
		return 0;
	case OPT_UID:
		o->have_uid = true;
		return parse_uint("--uid", arg, UINT32_MAX - 1, &o->uid);
	case OPT_GID:
		o->have_gid = true;
		return parse_uint("--gid", arg, UINT32_MAX - 1, &o->gid);
	case OPT_NAME:
		o->name = arg;
		return 0;
	}
	return parse_layer_option(o, c, arg);
}

static int check_layers(struct options *o)
{
	struct blk_layer_options *l = &o->layers;

	if (!o->crypt_cipher != (l->crypt_key_fd < 0)) {
		bh_err("--crypt and --crypt-key-fd go together");
		return -1;
	}
	if ((l->snapshot != BLK_SNAPSHOT_PERSISTENT) != (l->overlay_fd >= 0)) {
		bh_err("--snapshot temporary[-encrypted] and --overlay-fd go "
		       "together");
		return -1;
	}
	if (o->have_verity_root != (l->verity_fd >= 0)) {
		bh_err("--verity-fd and --verity-root go together");
		return -1;
	}
	if (l->snapshot != BLK_SNAPSHOT_PERSISTENT) {
		if (o->image.readonly) {
			bh_err("--snapshot %s: a read-only disk has no writes to "
			       "discard",
			       blk_snapshot_name(l->snapshot));
			return -1;
		}
		/* The image is only read; the guest's disk stays writable. */
		o->image.readonly = true;
		o->guest_readonly = false;
	} else {
		o->guest_readonly = o->image.readonly;
	}
	if (l->verity_fd >= 0 && !o->image.readonly) {
		bh_err("--verity-fd: a verified image is never written: add "
		       "--readonly or --snapshot temporary");
		return -1;
	}
	return 0;
}

/* Returns 0, 1 (help or version printed) or -1 (usage error). */
static int parse_args(int argc, char **argv, struct options *o)
{
	static const struct option lo[] = {
		{ "socket", required_argument, NULL, OPT_SOCKET },
		{ "fd", required_argument, NULL, OPT_FD },
		{ "image", required_argument, NULL, OPT_IMAGE },
		{ "image-fd", required_argument, NULL, OPT_IMAGE_FD },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "readonly", no_argument, NULL, OPT_READONLY },
		{ "serial", required_argument, NULL, OPT_SERIAL },
		{ "no-discard", no_argument, NULL, OPT_NO_DISCARD },
		{ "direct", no_argument, NULL, OPT_DIRECT },
		{ "queues", required_argument, NULL, OPT_QUEUES },
		{ "io", required_argument, NULL, OPT_IO },
		{ "uid", required_argument, NULL, OPT_UID },
		{ "gid", required_argument, NULL, OPT_GID },
		{ "name", required_argument, NULL, OPT_NAME },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ "crypt", required_argument, NULL, OPT_CRYPT },
		{ "crypt-key-fd", required_argument, NULL, OPT_CRYPT_KEY_FD },
		{ "crypt-offset", required_argument, NULL, OPT_CRYPT_OFFSET },
		{ "crypt-sector", required_argument, NULL, OPT_CRYPT_SECTOR },
		{ "crypt-size", required_argument, NULL, OPT_CRYPT_SIZE },
		{ "crypt-iv-large-sectors", no_argument, NULL,
		  OPT_CRYPT_IV_LARGE },
		{ "snapshot", required_argument, NULL, OPT_SNAPSHOT },
		{ "overlay-fd", required_argument, NULL, OPT_OVERLAY_FD },
		{ "verity-fd", required_argument, NULL, OPT_VERITY_FD },
		{ "verity-root", required_argument, NULL, OPT_VERITY_ROOT },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "vh", lo, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return 1;
		}
		if (c == OPT_VERSION) {
			printf("bulkhead-blk %s\n", BULKHEAD_VERSION);
			return 1;
		}
		if (c == 'v') {
			o->verbose = true;
			continue;
		}
		if (c == '?' || parse_option(o, c, optarg) < 0)
			return -1;
	}
	if (optind < argc) {
		bh_err("unexpected argument \"%s\"", argv[optind]);
		return -1;
	}
	if (!o->socket_path == (o->sock_fd < 0)) {
		bh_err("give exactly one of --socket and --fd");
		return -1;
	}
	if (!o->image.path == (o->image.fd < 0)) {
		bh_err("give exactly one of --image and --image-fd");
		return -1;
	}
	if (o->have_uid != o->have_gid) {
		bh_err("--uid and --gid go together");
		return -1;
	}
	return check_layers(o);
}

/* Descriptors 0-2 exist, so nothing we open lands on them by accident. */
static int standard_fds(void)
{
	for (int fd = 0; fd < 3; fd++) {
		if (fcntl(fd, F_GETFD) >= 0)
			continue;
		if (open("/dev/null", O_RDWR) != fd)
			return -1;
	}
	return 0;
}

/*
 * The socket appears at PATH only once it listens (bound under a
 * temporary name, then renamed), so a front end that connects as soon as
 * PATH exists never finds it refusing.
 */
static int listen_and_accept(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct stat st;
	mode_t old;
	int lfd, fd, n;

	n = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s.%d", path,
		     (int)getpid());
	if (n < 0 || (size_t)n >= sizeof(sa.sun_path)) {
		bh_err("--socket: path longer than %zu bytes",
		       sizeof(sa.sun_path) - 12);
		return -1;
	}
	if (lstat(path, &st) == 0 && !S_ISSOCK(st.st_mode)) {
		bh_err("--socket: %s exists and is not a socket", path);
		return -1;
	}
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0) {
		bh_err("socket: %s", strerror(errno));
		return -1;
	}
	unlink(sa.sun_path);
	old = umask(0077);
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(lfd, 1) < 0 || rename(sa.sun_path, path) < 0) {
		bh_err("--socket %s: %s", path, strerror(errno));
		umask(old);
		unlink(sa.sun_path);
		close(lfd);
		return -1;
	}
	umask(old);
	do
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	while (fd < 0 && errno == EINTR);
	if (fd < 0)
		bh_err("accept on %s: %s", path, strerror(errno));
	close(lfd);
	unlink(path);
	if (fd >= 0 &&
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0)
		bh_info("front end connected on %s: pid %d uid %u", path,
			(int)cred.pid, (unsigned int)cred.uid);
	return fd;
}

static int check_socket_fd(int fd)
{
	int type = 0, domain = 0;
	socklen_t len = sizeof(int);

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0 ||
	    type != SOCK_STREAM || domain != AF_UNIX) {
		bh_err("--fd %d: not a unix stream socket", fd);
		return -1;
	}
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	return fd;
}

static int null_stdio(void)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (fd < 0 || dup2(fd, 0) < 0 || dup2(fd, 1) < 0)
		return -1;
	close(fd);
	return 0;
}

static int serve(const struct options *o)
{
	struct blk_server_config c = {
		.image = o->image,
		.layers = o->layers,
		.readonly = o->guest_readonly,
		.serial = o->serial,
		.no_discard = o->no_discard,
		.nqueues = o->nqueues,
		.engine = o->engine,
		.have_ids = o->have_uid,
		.uid = o->uid,
		.gid = o->gid,
	};
	struct blk_server s;
	int sock, r = -1;

	/* The image first: a missing or locked one fails before we wait. */
	if (blk_server_open(&s, &c) < 0)
		return -1;
	sock = o->socket_path ? listen_and_accept(o->socket_path) :
				check_socket_fd(o->sock_fd);
	if (sock >= 0 && blk_server_start(&s, sock) == 0) {
		if (null_stdio() < 0)
			bh_err("/dev/null: %s", strerror(errno));
		else if (blk_server_confine(&s) == 0)
			r = blk_server_run(&s);
	}
	blk_server_close(&s);
	return r;
}

int main(int argc, char **argv)
{
	struct options o = {
		.sock_fd = -1,
		.image = { .fd = -1, .format = BLK_FORMAT_RAW },
		.layers = { .crypt_key_fd = -1,
			    .crypt_sector = 512,
			    .overlay_fd = -1,
			    .verity_fd = -1 },
		.nqueues = 1,
		.engine = BLK_IO_AUTO,
	};
	char logname[128];
	int r;

	bh_log_init("bulkhead-blk", BH_LOG_INFO);
	if (standard_fds() < 0)
		return 1;
	r = parse_args(argc, argv, &o);
	if (r)
		return r > 0 ? 0 : EXIT_USAGE;
	if (o.name) {
		snprintf(logname, sizeof(logname), "bulkhead-blk[%s]", o.name);
		bh_log_init(logname, o.verbose ? BH_LOG_DEBUG : BH_LOG_INFO);
	} else {
		bh_log_init("bulkhead-blk",
			    o.verbose ? BH_LOG_DEBUG : BH_LOG_INFO);
	}
	r = serve(&o) < 0 ? 1 : 0;
#ifdef BH_SANITIZED
	/* In the jail LeakSanitizer could not read /proc: skip its check. */
	_exit(r);
#endif
	return r;
}
