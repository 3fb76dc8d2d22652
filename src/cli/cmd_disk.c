// SPDX-License-Identifier: GPL-2.0-only
/* bulkhead disk SUBVERB: dispatch, and disk create. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/disk.h"
#include "util/parse.h"

#define PBKDF_HELP                                                              \
	"      --iter-time MS      derive the key slot's key for about MS ms\n" \
	"                          (argon2id; default 2000)\n"                  \
	"      --pbkdf-memory KIB  at most KIB KiB of memory for it (default\n" \
	"                          1048576, less on small hosts)\n"

#define FOR_HELP                                                                  \
	"      --for VM:VDEV       also store the passphrase for bulkheadd, as\n" \
	"                          <state>/disk-keys/VM.VDEV.key (root only)\n"

const char disk_create_usage[] =
	"usage: bulkhead disk create [--encrypt] [--sector-size 512|4096]\n"
	"           [--key-file F] [--for VM:VDEV] [--iter-time MS]\n"
	"           [--pbkdf-memory KIB] [--format raw] IMAGE SIZE\n"
	"\n"
	"Creates the disk image IMAGE (which must not exist) of SIZE bytes, a\n"
	"number with an optional K, M, G or T suffix (64M, 10G), a multiple of\n"
	"512. A raw image is a sparse file. With --encrypt it is a LUKS2 image\n"
	"(aes-xts-plain64, 512-bit key, argon2id key slot) that `cryptsetup\n"
	"open` also takes: SIZE is what the guest sees, the file is 16 MiB\n"
	"larger (the LUKS2 header). The passphrase is the content of --key-file,\n"
	"else typed twice on the terminal, else the first line of standard\n"
	"input. On failure nothing is left behind.\n"
	"\n"
	"  -e, --encrypt           a LUKS2 encrypted image\n"
	"  -s, --sector-size N     encryption sector size (default 4096)\n"
	"  -k, --key-file F        the passphrase is F's whole content (- for\n"
	"                          standard input)\n" FOR_HELP PBKDF_HELP
	"  -f, --format FMT        raw (the default); qcow2 is not supported yet\n"
	"  -h, --help              this text\n";

static const struct subverb {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *usage;
} subverbs[] = {
	{ "create", disk_create, disk_create_usage },
	{ "info", disk_info, disk_info_usage },
	{ "passwd", disk_passwd, disk_passwd_usage },
	{ "measure", disk_measure, disk_measure_usage },
	{ "verity-format", disk_verity_format, disk_verity_usage },
};

int cmd_disk(int argc, char **argv)
{
	if (argc < 2)
		return cli_usage_err("disk", "expected a subverb");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(cli_verb("disk")->usage, stdout);
		return EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(subverbs) / sizeof(*subverbs); i++)
		if (!strcmp(argv[1], subverbs[i].name))
			return subverbs[i].run(argc - 1, argv + 1);
	return cli_usage_err("disk", "unknown subverb \"%s\"", argv[1]);
}

struct create_opts {
	bool encrypt;
	uint32_t sector_size;
	const char *key_file;
	const char *for_spec;
	struct disk_key_target target;
	struct luks_pbkdf pbkdf;
	bool luks_only; /* an option that needs --encrypt was given */
	uint64_t size; /* what the guest sees */
	const char *image;
};

static int parse_create(int argc, char **argv, struct create_opts *o)
{
	static const struct option lo[] = {
		{ "encrypt", no_argument, NULL, 'e' },
		{ "sector-size", required_argument, NULL, 's' },
		{ "key-file", required_argument, NULL, 'k' },
		{ "for", required_argument, NULL, 'F' },
		{ "iter-time", required_argument, NULL, 'i' },
		{ "pbkdf-memory", required_argument, NULL, 'm' },
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	uint64_t v;
	int c, r;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+es:k:f:h", lo, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(disk_create_usage, stdout);
			return -1;
		case 'e':
			o->encrypt = true;
			break;
		case 's':
			if (bh_parse_u64(optarg, &v) < 0 ||
			    (v != 512 && v != 4096))
				return disk_usage_err(
					"create",
					"--sector-size: \"%s\" is not 512 or 4096",
					optarg);
			o->sector_size = (uint32_t)v;
			o->luks_only = true;
			break;
		case 'k':
			o->key_file = optarg;
			o->luks_only = true;
			break;
		case 'F':
			o->for_spec = optarg;
			o->luks_only = true;
			break;
		case 'i':
		case 'm':
			r = disk_parse_pbkdf_opt("create", c, optarg,
						 &o->pbkdf);
			if (r != EXIT_OK)
				return r;
			o->luks_only = true;
			break;
		case 'f':
			if (!strcmp(optarg, "qcow2")) {
				cli_err("qcow2 images are not supported yet (bulkhead-blk serves raw images)");
				return EXIT_ERROR;
			}
			if (strcmp(optarg, "raw"))
				return disk_usage_err(
					"create",
					"--format: \"%s\" is not raw (or qcow2)",
					optarg);
			break;
		default:
			return disk_usage_err("create", "unknown option \"%s\"",
					      argv[optind - 1]);
		}
	}
	if (argc - optind != 2)
		return disk_usage_err("create", "expected IMAGE and SIZE");
	if (o->luks_only && !o->encrypt)
		return disk_usage_err(
			"create",
			"--sector-size, --key-file, --for, --iter-time and --pbkdf-memory are for --encrypt");
	o->image = argv[optind];
	r = bh_parse_size(argv[optind + 1], 0, &o->size);
	if (r == -ERANGE || (!r && o->size > INT64_MAX - LUKS2_HEADER_BYTES))
		return disk_usage_err("create", "SIZE \"%s\" is too large",
				      argv[optind + 1]);
	if (r < 0 || !o->size)
		return disk_usage_err(
			"create", "SIZE \"%s\" is not a size like 64M or 10G",
			argv[optind + 1]);
	if (!o->sector_size)
		o->sector_size = 4096;
	if (o->size % (o->encrypt ? o->sector_size : 512))
		return disk_usage_err("create",
				      "SIZE must be a multiple of %u bytes%s",
				      o->encrypt ? o->sector_size : 512,
				      o->encrypt ? " (the sector size)" : "");
	if (o->for_spec)
		return disk_key_target_parse(o->for_spec, "create", &o->target);
	return EXIT_OK;
}

/* Formats the image; done (cap bytes) gets the line saying so. */
static int make_encrypted(int fd, const struct create_opts *o,
			  const struct disk_pass *pw, char *done, size_t cap)
{
	struct luks_format_params p = { .sector_size = o->sector_size,
					.pbkdf = o->pbkdf };
	char err[LUKS_ERR_MAX], size[32];
	struct luks_info info;
	int r;

	disk_progress("deriving key slot (argon2id)...");
	r = luks_format(fd, pw->p, pw->len, &p, &info, err, sizeof(err));
	disk_progress_done();
	if (r < 0) {
		cli_err("%s: %s", o->image, err);
		return EXIT_ERROR;
	}
	disk_human_size(info.data_size, size, sizeof(size));
	snprintf(
		done, cap,
		"created %s: LUKS2 %s-%s, %u-bit key, %u-byte sectors, %s for the guest",
		o->image, info.cipher, info.mode, info.key_bytes * 8,
		info.sector_size, size);
	return EXIT_OK;
}

int disk_create(int argc, char **argv)
{
	char size[32], done[600], key_path[4300];
	struct create_opts o = { 0 };
	struct disk_pass pw = { 0 };
	uint64_t file_size;
	int fd, r;

	r = parse_create(argc, argv, &o);
	if (r != EXIT_OK)
		return r < 0 ? EXIT_OK : r;
	if (o.for_spec && disk_key_store_check() != EXIT_OK)
		return EXIT_ERROR;
	/* Refuse an existing image before asking for anything. */
	if (!access(o.image, F_OK)) {
		cli_err("%s exists already (disk create never overwrites)",
			o.image);
		return EXIT_ERROR;
	}
	if (o.encrypt) {
		char prompt[300];

		snprintf(prompt, sizeof(prompt), "Passphrase for %s", o.image);
		r = disk_pass_get(o.key_file, prompt, true, &pw);
		if (r != EXIT_OK)
			return r;
	}
	fd = open(o.image, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY,
		  0600);
	if (fd < 0) {
		cli_err("%s: %s", o.image,
			errno == EEXIST ? "exists already" : strerror(errno));
		disk_pass_free(&pw);
		return EXIT_ERROR;
	}
	disk_cleanup_arm(o.image);
	file_size = o.size + (o.encrypt ? LUKS2_HEADER_BYTES : 0);
	if (ftruncate(fd, (off_t)file_size) < 0) {
		cli_err("%s: cannot make it %llu bytes: %s", o.image,
			(unsigned long long)file_size, strerror(errno));
		r = EXIT_ERROR;
	} else if (o.encrypt) {
		r = make_encrypted(fd, &o, &pw, done, sizeof(done));
	} else if (fsync(fd) < 0) {
		cli_err("%s: %s", o.image, strerror(errno));
		r = EXIT_ERROR;
	} else {
		disk_human_size(o.size, size, sizeof(size));
		snprintf(done, sizeof(done), "created %s: raw, %s (sparse)",
			 o.image, size);
		r = EXIT_OK;
	}
	if (r == EXIT_OK && o.for_spec)
		r = disk_key_store(&o.target, &pw, key_path, sizeof(key_path));
	close(fd);
	if (r != EXIT_OK) {
		unlink(o.image);
	} else {
		printf("%s\n", done);
		if (o.for_spec)
			printf("stored the passphrase for %s:%s in %s\n",
			       o.target.vm, o.target.vdev, key_path);
	}
	disk_cleanup_disarm();
	disk_pass_free(&pw);
	return r;
}
