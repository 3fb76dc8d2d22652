/* SPDX-License-Identifier: GPL-2.0-only */
/* What luks.c and luks_format.c share: a libcryptsetup context on an fd. */
#ifndef BH_TOOLSTACK_LUKS_CD_H
#define BH_TOOLSTACK_LUKS_CD_H

#include <stddef.h>
#include <stdint.h>

#include "toolstack/cs_log.h"
#include "toolstack/luks.h"

struct crypt_device;

struct luks_cd {
	struct crypt_device *cd;
	struct cs_log log; /* its messages while open */
	char path[32]; /* /proc/self/fd/N */
};

void luks_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The size of the regular file or block device at fd. */
int luks_image_size(int fd, uint64_t *size, char *err, size_t errlen);

/* crypt_init on fd, collecting its messages. Close it even on failure. */
int luks_cd_open(struct luks_cd *c, int fd, char *err, size_t errlen);
void luks_cd_close(struct luks_cd *c);

/* luks_cd_open, crypt_load and luks_inspect's checks (its returns). */
int luks_cd_load(struct luks_cd *c, int fd, struct luks_info *info, char *err,
		 size_t errlen);

/* libcryptsetup's reason for the failure r, else strerror(-r). */
const char *luks_cd_reason(const struct luks_cd *c, int r);

#endif
