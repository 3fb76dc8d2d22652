/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef BH_UTIL_FD_WRITE_H
#define BH_UTIL_FD_WRITE_H

#include <stddef.h>

/*
 * Writes all len bytes of buf to a blocking fd, across short writes and
 * EINTR. 0, or -errno (-EIO if write returned 0).
 */
int fd_write_all(int fd, const void *buf, size_t len);

#endif
