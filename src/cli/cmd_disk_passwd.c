// SPDX-License-Identifier: GPL-2.0-only
/* bulkhead disk passwd: change a LUKS passphrase, or add a key slot. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/disk.h"

const char disk_passwd_usage[] =
	"usage: bulkhead disk passwd [--add] [--key-file F] [--new-key-file F]\n"
	"           [--for VM:VDEV] [--iter-time MS] [--pbkdf-memory KIB] IMAGE\n"
	"\n"
	"Changes the passphrase of the key slot of the LUKS image IMAGE that\n"
	"the current passphrase opens (the slot keeps its number), or with\n"
	"--add puts the new passphrase in a free key slot and keeps the old\n"
	"one. The current passphrase is the content of --key-file, else typed\n"
	"on the terminal, else the first line of standard input; the new one\n"
	"the content of --new-key-file, else typed twice, else the next line.\n"
	"\n"
	"  -a, --add               add a key slot instead of changing one\n"
	"  -k, --key-file F        the current passphrase is F's content\n"
	"  -n, --new-key-file F    the new passphrase is F's content\n"
	"      --for VM:VDEV       also store the new passphrase for bulkheadd\n"
	"                          (<state>/disk-keys/VM.VDEV.key, root only)\n"
	"      --iter-time MS      derive the new key slot's key for about MS ms\n"
	"      --pbkdf-memory KIB  at most KIB KiB of memory for it\n"
	"  -h, --help              this text\n";

struct passwd_opts {
	bool add;
	const char *key_file, *new_key_file, *for_spec, *image;
	struct disk_key_target target;
	struct luks_pbkdf pbkdf;
};

static int parse(int argc, char **argv, struct passwd_opts *o)
{
	static const struct option lo[] = {
		{ "add", no_argument, NULL, 'a' },
		{ "key-file", required_argument, NULL, 'k' },
		{ "new-key-file", required_argument, NULL, 'n' },
		{ "for", required_argument, NULL, 'F' },
		{ "iter-time", required_argument, NULL, 'i' },
		{ "pbkdf-memory", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c, r;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+ak:n:h", lo, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(disk_passwd_usage, stdout);
			return -1;
		case 'a':
			o->add = true;
			break;
		case 'k':
			o->key_file = optarg;
			break;
		case 'n':
			o->new_key_file = optarg;
			break;
		case 'F':
			o->for_spec = optarg;
			break;
		case 'i':
		case 'm':
			r = disk_parse_pbkdf_opt("passwd", c, optarg,
						 &o->pbkdf);
			if (r != EXIT_OK)
				return r;
			break;
		default:
			return disk_usage_err("passwd", "unknown option \"%s\"",
					      argv[optind - 1]);
		}
	}
	if (argc - optind != 1)
		return disk_usage_err("passwd", "expected one IMAGE");
	o->image = argv[optind];
	if (o->key_file && o->new_key_file && !strcmp(o->key_file, "-") &&
	    !strcmp(o->new_key_file, "-"))
		return disk_usage_err(
			"passwd",
			"only one of the key files can be standard input");
	if (o->for_spec)
		return disk_key_target_parse(o->for_spec, "passwd", &o->target);
	return EXIT_OK;
}

int disk_passwd(int argc, char **argv)
{
	struct passwd_opts o = { 0 };
	struct disk_pass old = { 0 }, new = { 0 };
	char prompt[300], err[LUKS_ERR_MAX];
	uint8_t head[8] = { 0 };
	int fd, r, slot;

	r = parse(argc, argv, &o);
	if (r != EXIT_OK)
		return r < 0 ? EXIT_OK : r;
	if (o.for_spec && disk_key_store_check() != EXIT_OK)
		return EXIT_ERROR;
	fd = disk_open_image(o.image, O_RDWR);
	if (fd < 0)
		return EXIT_ERROR;
	if (pread(fd, head, sizeof(head), 0) < 0 ||
	    !luks_magic(head, sizeof(head))) {
		cli_err("%s is not a LUKS image", o.image);
		close(fd);
		return EXIT_ERROR;
	}
	snprintf(prompt, sizeof(prompt), "Passphrase for %s", o.image);
	r = disk_pass_get(o.key_file, prompt, false, &old);
	if (r == EXIT_OK) {
		snprintf(prompt, sizeof(prompt), "New passphrase for %s",
			 o.image);
		r = disk_pass_get(o.new_key_file, prompt, true, &new);
	}
	if (r != EXIT_OK)
		goto out;
	disk_progress("deriving key slot (argon2id)...");
	if (o.add)
		slot = luks_add_key(fd, old.p, old.len, new.p, new.len,
				    &o.pbkdf, err, sizeof(err));
	else
		slot = luks_change_key(fd, old.p, old.len, new.p, new.len,
				       &o.pbkdf, err, sizeof(err));
	disk_progress_done();
	if (slot < 0) {
		cli_err("%s: %s", o.image, err);
		r = EXIT_ERROR;
		goto out;
	}
	if (o.add)
		printf("added key slot %d to %s\n", slot, o.image);
	else
		printf("changed the passphrase of key slot %d of %s\n", slot,
		       o.image);
	if (o.for_spec) {
		char key_path[4300];

		r = disk_key_store(&o.target, &new, key_path, sizeof(key_path));
		if (r == EXIT_OK)
			printf("stored the passphrase for %s:%s in %s\n",
			       o.target.vm, o.target.vdev, key_path);
		else if (!o.add)
			cli_err("the stored key of %s:%s still holds the old passphrase",
				o.target.vm, o.target.vdev);
	}
out:
	disk_pass_free(&old);
	disk_pass_free(&new);
	close(fd);
	return r;
}
