// SPDX-License-Identifier: GPL-2.0-only
#include "devmodel/image_lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

void image_lock_perms(bool writable, uint32_t *perm, uint32_t *shared)
{
	*perm = IMAGE_PERM_CONSISTENT_READ | (writable ? IMAGE_PERM_WRITE : 0);
	*shared = IMAGE_PERM_CONSISTENT_READ | IMAGE_PERM_WRITE_UNCHANGED;
}

void image_lock_plan(uint32_t perm, uint32_t shared,
		     struct image_lock_plan *plan)
{
	memset(plan, 0, sizeof(*plan));
	for (unsigned int i = 0; i < IMAGE_PERM_BITS; i++)
		if (perm & (1u << i))
			plan->lock[plan->nlock++] = IMAGE_LOCK_PERM_BASE + i;
	for (unsigned int i = 0; i < IMAGE_PERM_BITS; i++)
		if (!(shared & (1u << i)))
			plan->lock[plan->nlock++] = IMAGE_LOCK_SHARED_BASE + i;
	/* Someone refuses to share what we want... */
	for (unsigned int i = 0; i < IMAGE_PERM_BITS; i++) {
		if (!(perm & (1u << i)))
			continue;
		plan->test[plan->ntest] = IMAGE_LOCK_SHARED_BASE + i;
		plan->test_perm[plan->ntest] = 1u << i;
		plan->holds_perm[plan->ntest++] = false;
	}
	/* ...or has what we will not share. */
	for (unsigned int i = 0; i < IMAGE_PERM_BITS; i++) {
		if (shared & (1u << i))
			continue;
		plan->test[plan->ntest] = IMAGE_LOCK_PERM_BASE + i;
		plan->test_perm[plan->ntest] = 1u << i;
		plan->holds_perm[plan->ntest++] = true;
	}
}

const char *image_perm_name(uint32_t perm)
{
	switch (perm) {
	case IMAGE_PERM_CONSISTENT_READ:
		return "consistent read";
	case IMAGE_PERM_WRITE:
		return "write";
	case IMAGE_PERM_WRITE_UNCHANGED:
		return "write unchanged";
	case IMAGE_PERM_RESIZE:
		return "resize";
	}
	return "unknown";
}

static int lock_byte(int fd, short type, uint16_t off)
{
	struct flock fl = {
		.l_type = type,
		.l_whence = SEEK_SET,
		.l_start = off,
		.l_len = 1,
	};

	return fcntl(fd, F_OFD_SETLK, &fl) < 0 ? -errno : 0;
}

/* 1 if another open file holds a lock on off, 0 if not, -errno. */
static int byte_held(int fd, uint16_t off)
{
	struct flock fl = {
		.l_type = F_WRLCK,
		.l_whence = SEEK_SET,
		.l_start = off,
		.l_len = 1,
	};

	if (fcntl(fd, F_OFD_GETLK, &fl) < 0)
		return -errno;
	return fl.l_type != F_UNLCK;
}

static int check_plan(int fd, const struct image_lock_plan *plan, char *why,
		      size_t whylen)
{
	for (unsigned int i = 0; i < plan->ntest; i++) {
		int r = byte_held(fd, plan->test[i]);

		if (r < 0) {
			snprintf(why, whylen, "cannot test lock byte %u: %s",
				 plan->test[i], strerror(-r));
			return r;
		}
		if (r) {
			snprintf(why, whylen,
				 "image in use by another process (it holds "
				 "%s\"%s\")",
				 plan->holds_perm[i] ? "" : "an unshared ",
				 image_perm_name(plan->test_perm[i]));
			return -EBUSY;
		}
	}
	return 0;
}

void image_unlock(int fd)
{
	for (unsigned int i = 0; i < IMAGE_PERM_BITS; i++) {
		lock_byte(fd, F_UNLCK, IMAGE_LOCK_PERM_BASE + i);
		lock_byte(fd, F_UNLCK, IMAGE_LOCK_SHARED_BASE + i);
	}
}

int image_lock(int fd, bool writable, char *why, size_t whylen)
{
	struct image_lock_plan plan;
	uint32_t perm, shared;
	int r = 0;

	image_lock_perms(writable, &perm, &shared);
	image_lock_plan(perm, shared, &plan);
	for (unsigned int i = 0; i < plan.nlock && !r; i++) {
		r = lock_byte(fd, F_RDLCK, plan.lock[i]);
		if (r == -EAGAIN || r == -EACCES) {
			/* Only a write lock blocks a read lock: not QEMU's. */
			snprintf(why, whylen,
				 "image in use by another process (byte %u is "
				 "locked exclusively)",
				 plan.lock[i]);
			r = -EBUSY;
		} else if (r) {
			snprintf(why, whylen, "cannot lock byte %u: %s",
				 plan.lock[i], strerror(-r));
		}
	}
	if (!r)
		r = check_plan(fd, &plan, why, whylen);
	if (r)
		image_unlock(fd);
	return r;
}

int image_lock_check(int fd, bool writable, char *why, size_t whylen)
{
	struct image_lock_plan plan;
	uint32_t perm, shared;

	image_lock_perms(writable, &perm, &shared);
	image_lock_plan(perm, shared, &plan);
	return check_plan(fd, &plan, why, whylen);
}
