// SPDX-License-Identifier: GPL-2.0-only
/* bulkhead disk info: what an image file is, as bulkhead-blk would see it. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <libcryptsetup.h>
#include <linux/fs.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/disk.h"
#include "toolstack/verity.h"
#include "util/hex.h"

const char disk_info_usage[] =
	"usage: bulkhead disk info [--json] IMAGE\n"
	"\n"
	"Shows what IMAGE is: a LUKS1 or LUKS2 encrypted image (cipher, key\n"
	"size, sector size, data offset, the size the guest sees, active key\n"
	"slots, UUID, and whether bulkhead-blk can serve it), a dm-verity hash\n"
	"file (its superblock), a qcow2 image, or else a raw image (size and\n"
	"bytes allocated). Reads only: the image is never written.\n"
	"\n"
	"  -j, --json       print a JSON object instead\n"
	"  -h, --help       this text\n";

static const uint8_t qcow2_magic[4] = { 'Q', 'F', 'I', 0xfb };

static void add_str(struct json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v));
}

static void add_u64(struct json_object *o, const char *k, uint64_t v)
{
	json_object_object_add(o, k, json_object_new_uint64(v));
}

static void print_size(const char *label, uint64_t bytes)
{
	char h[32];

	disk_human_size(bytes, h, sizeof(h));
	if (bytes < 1024)
		printf("%-13s %s\n", label, h);
	else
		printf("%-13s %llu bytes (%s)\n", label,
		       (unsigned long long)bytes, h);
}

static int luks_info(int fd, const char *path, uint64_t size,
		     struct json_object *j)
{
	char err[LUKS_ERR_MAX], version[8];
	struct luks_info i;
	int r;

	/* Without metadata locking libcryptsetup never repairs (writes) a
	 * header while loading it: info only reads. */
	crypt_metadata_locking(NULL, 0);
	r = luks_inspect(fd, &i, err, sizeof(err));
	if (r < 0 && r != -EOPNOTSUPP) {
		cli_err("%s: %s", path, err);
		return EXIT_ERROR;
	}
	snprintf(version, sizeof(version), "luks%u", i.version);
	if (j) {
		add_str(j, "format", version);
		json_object_object_add(j, "encrypted",
				       json_object_new_boolean(true));
		add_u64(j, "size", size);
		if (i.cipher[0]) {
			char spec[65];

			snprintf(spec, sizeof(spec), "%s-%s", i.cipher, i.mode);
			add_str(j, "cipher", spec);
		}
		add_u64(j, "key_bits", (uint64_t)i.key_bytes * 8);
		add_u64(j, "sector_size", i.sector_size);
		add_u64(j, "data_offset", i.data_offset);
		if (r == 0)
			add_u64(j, "guest_size", i.data_size);
		json_object_object_add(j, "keyslots_active",
				       json_object_new_int(i.keyslots_active));
		add_str(j, "uuid", i.uuid);
		json_object_object_add(j, "servable",
				       json_object_new_boolean(r == 0));
		if (r)
			add_str(j, "problem", err);
		return EXIT_OK;
	}
	printf("%-13s %s\n", "image:", path);
	printf("%-13s LUKS%u (encrypted)\n", "format:", i.version);
	printf("%-13s %s-%s, %u-bit key\n", "cipher:", i.cipher, i.mode,
	       i.key_bytes * 8);
	printf("%-13s %u bytes\n", "sector size:", i.sector_size);
	print_size("data offset:", i.data_offset);
	if (r == 0)
		print_size("guest size:", i.data_size);
	printf("%-13s %d active\n", "key slots:", i.keyslots_active);
	printf("%-13s %s\n", "UUID:", i.uuid);
	if (r)
		printf("%-13s no: %s\n", "servable:", err);
	return EXIT_OK;
}

static int verity_info(int fd, const char *path, uint64_t size,
		       struct json_object *j)
{
	char err[256], salt[2 * VERITY_SALT_MAX + 1];
	struct verity_info v;
	uint64_t covered;

	if (verity_inspect(fd, &v, err, sizeof(err)) < 0) {
		cli_err("%s: %s", path, err);
		return EXIT_ERROR;
	}
	hex_encode(v.salt, v.salt_size, salt);
	covered = v.data_blocks * v.data_block_size;
	if (j) {
		add_str(j, "format", "verity");
		add_u64(j, "size", size);
		add_u64(j, "hash_type", v.hash_type);
		add_str(j, "hash", v.hash_name);
		add_u64(j, "data_block_size", v.data_block_size);
		add_u64(j, "hash_block_size", v.hash_block_size);
		add_u64(j, "data_blocks", v.data_blocks);
		add_u64(j, "data_size", covered);
		add_u64(j, "hash_offset", v.hash_offset);
		add_str(j, "salt", salt);
		add_str(j, "uuid", v.uuid);
		return EXIT_OK;
	}
	printf("%-13s %s\n", "image:", path);
	printf("%-13s dm-verity hash tree, format %u\n",
	       "format:", v.hash_type);
	printf("%-13s %s\n", "hash:", v.hash_name);
	printf("%-13s %llu blocks of %u bytes\n",
	       "data:", (unsigned long long)v.data_blocks, v.data_block_size);
	print_size("data size:", covered);
	printf("%-13s %u bytes\n", "hash blocks:", v.hash_block_size);
	printf("%-13s %s\n", "salt:", salt);
	printf("%-13s %s\n", "UUID:", v.uuid);
	return EXIT_OK;
}

static void raw_info(const char *path, const struct stat *st, uint64_t size,
		     bool qcow2, struct json_object *j)
{
	uint64_t allocated = (uint64_t)st->st_blocks * 512;

	if (j) {
		add_str(j, "format", qcow2 ? "qcow2" : "raw");
		add_u64(j, "size", size);
		if (S_ISREG(st->st_mode))
			add_u64(j, "allocated", allocated);
		if (!qcow2)
			add_u64(j, "guest_size", size);
		json_object_object_add(j, "servable",
				       json_object_new_boolean(!qcow2));
		return;
	}
	printf("%-13s %s\n", "image:", path);
	printf("%-13s %s\n", "format:",
	       qcow2 ? "qcow2 (bulkhead-blk serves raw images only)" : "raw");
	print_size("size:", size);
	if (S_ISREG(st->st_mode))
		print_size("allocated:", allocated);
}

int disk_info(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct json_object *j = NULL;
	uint8_t head[16] = { 0 };
	const char *path;
	bool json = false;
	struct stat st;
	uint64_t size;
	int c, fd, r;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+jh", lo, NULL)) != -1) {
		if (c == 'h') {
			fputs(disk_info_usage, stdout);
			return EXIT_OK;
		}
		if (c != 'j')
			return disk_usage_err("info", "unknown option \"%s\"",
					      argv[optind - 1]);
		json = true;
	}
	if (argc - optind != 1)
		return disk_usage_err("info", "expected one IMAGE");
	path = argv[optind];
	fd = disk_open_image(path, O_RDONLY);
	if (fd < 0)
		return EXIT_ERROR;
	if (fstat(fd, &st) < 0) {
		cli_err("%s: %s", path, strerror(errno));
		close(fd);
		return EXIT_ERROR;
	}
	size = (uint64_t)st.st_size;
	if (S_ISBLK(st.st_mode) && ioctl(fd, BLKGETSIZE64, &size) < 0)
		size = 0;
	if (pread(fd, head, sizeof(head), 0) < 0) {
		cli_err("%s: %s", path, strerror(errno));
		close(fd);
		return EXIT_ERROR;
	}
	if (json) {
		j = json_object_new_object();
		add_str(j, "image", path);
	}
	r = EXIT_OK;
	if (luks_magic(head, sizeof(head)))
		r = luks_info(fd, path, size, j);
	else if (verity_magic(head, sizeof(head)))
		r = verity_info(fd, path, size, j);
	else
		raw_info(path, &st, size, !memcmp(head, qcow2_magic, 4), j);
	close(fd);
	if (j && r == EXIT_OK)
		printf("%s\n",
		       json_object_to_json_string_ext(
			       j, JSON_C_TO_STRING_PRETTY |
					  JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(j);
	return r;
}
