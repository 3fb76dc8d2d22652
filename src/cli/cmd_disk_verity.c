// SPDX-License-Identifier: GPL-2.0-only
/* bulkhead disk verity-format: a dm-verity hash tree for an image. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/disk.h"
#include "toolstack/verity.h"
#include "util/hex.h"

const char disk_verity_usage[] =
	"usage: bulkhead disk verity-format IMAGE [HASHFILE]\n"
	"\n"
	"Writes the dm-verity hash tree of IMAGE (whose size must be a multiple\n"
	"of 4096) to HASHFILE (default IMAGE.verity, which must not exist):\n"
	"format 1, sha256, 4096-byte data and hash blocks, a random salt, the\n"
	"superblock at its start, as `veritysetup format` writes it. Prints the\n"
	"root hash and the disk specification's verity= option to use. IMAGE\n"
	"must not change afterwards.\n"
	"\n"
	"  -h, --help       this text\n";

int disk_verity_format(int argc, char **argv)
{
	uint8_t root[VERITY_ROOT_MAX];
	char hex[2 * VERITY_ROOT_MAX + 1], err[256], *hash_path = NULL;
	struct verity_info info;
	size_t root_len = 0;
	const char *image;
	struct stat st;
	int dfd, hfd, r = EXIT_ERROR;

	if (argc == 2 &&
	    (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(disk_verity_usage, stdout);
		return EXIT_OK;
	}
	if (argc < 2 || argc > 3 || argv[1][0] == '-')
		return disk_usage_err("verity-format",
				      "expected IMAGE and optionally HASHFILE");
	image = argv[1];
	if (argc == 3)
		hash_path = strdup(argv[2]);
	else if (asprintf(&hash_path, "%s.verity", image) < 0)
		hash_path = NULL;
	if (!hash_path) {
		cli_err("out of memory");
		return EXIT_ERROR;
	}
	dfd = disk_open_image(image, O_RDONLY);
	if (dfd < 0)
		goto out_free;
	if (fstat(dfd, &st) < 0 ||
	    (S_ISREG(st.st_mode) &&
	     (!st.st_size || st.st_size % VERITY_BLOCK))) {
		cli_err("%s: its size (%lld bytes) is not a nonzero multiple of %u",
			image, (long long)st.st_size, VERITY_BLOCK);
		goto out_data;
	}
	hfd = open(hash_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY,
		   0644);
	if (hfd < 0) {
		cli_err("%s: %s", hash_path,
			errno == EEXIST ?
				"exists already (verity-format never overwrites)" :
				strerror(errno));
		goto out_data;
	}
	disk_cleanup_arm(hash_path);
	disk_progress("hashing %s...", image);
	if (verity_format(dfd, hfd, root, &root_len, &info, err, sizeof(err)) <
	    0) {
		disk_progress_done();
		cli_err("%s: %s", image, err);
		unlink(hash_path);
	} else {
		disk_progress_done();
		hex_encode(root, root_len, hex);
		printf("hash file: %s\n", hash_path);
		printf("root hash: %s\n", hex);
		printf("disk spec: verity=%s\n", hex);
		r = EXIT_OK;
	}
	disk_cleanup_disarm();
	close(hfd);
out_data:
	close(dfd);
out_free:
	free(hash_path);
	return r;
}
