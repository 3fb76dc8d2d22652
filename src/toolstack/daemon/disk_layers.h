/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What a disk needs besides its image before its device model starts:
 * a LUKS image's volume key (unlocked here with the disk's interim key
 * file, handed over in a sealed memfd), a temporary disk's overlay (an
 * unnamed file in the overlay directory), a verity disk's hash tree, and
 * the image's SHA-256 for measure=on and verify=.
 */
#ifndef BH_DAEMON_DISK_LAYERS_H
#define BH_DAEMON_DISK_LAYERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "toolstack/disk_spec.h"

struct bhd;
struct disk_inst;
struct devmodel_fd;

/* Options and descriptors disk_layers_args adds at most. */
#define DISK_LAYERS_ARGS 8u
#define DISK_LAYERS_FDS 3u

struct disk_layers {
	int key_fd; /* sealed memfd with the volume key; -1: not encrypted */
	uint64_t crypt_offset;
	uint64_t crypt_size;
	uint32_t crypt_sector;
	bool crypt_iv_large;
	int overlay_fd; /* -1: persistent */
	enum disk_snapshot snapshot; /* as the device model runs it */
	int verity_fd; /* -1: not verified */
	uint8_t verity_root[DISK_SHA256_BYTES];
	char args[DISK_LAYERS_ARGS][96]; /* bulkhead-blk's options */
};

/*
 * Prepares ds's layers for VM vm on its opened image img; fills di's
 * measurement. Returns 0, or -1 with err saying which disk and why
 * (a verify= mismatch is audited too). Nothing is left open on failure.
 */
int disk_layers_prepare(struct bhd *d, const char *vm,
			const struct disk_spec *ds, int img,
			struct disk_inst *di, struct disk_layers *l, char *err,
			size_t errlen);

/*
 * bulkhead-blk's options for l, appended to argv at *argc, and the
 * descriptors they name, appended to fds at *nfds, numbered from next.
 */
void disk_layers_args(struct disk_layers *l, int next, char **argv,
		      unsigned int *argc, struct devmodel_fd *fds,
		      unsigned int *nfds);

void disk_layers_close(struct disk_layers *l);

/* <state>/disk-keys/VM.VDEV.key: the interim home of a disk's passphrase. */
int disk_key_path(const struct bhd *d, const char *vm, const char *vdev,
		  char *buf, size_t len);

#endif
