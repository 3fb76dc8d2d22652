// SPDX-License-Identifier: GPL-2.0-only
/*
 * The interim store of disk passphrases for bulkheadd (--for VM:VDEV):
 * <state>/disk-keys/VM.VDEV.key, root's only, until the encrypted config
 * store replaces it (issue 12). A file holds the passphrase's bytes
 * exactly, as a cryptsetup --key-file does.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/disk.h"
#include "util/fd_write.h"

#define KEY_DIR "disk-keys"

static bool alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9');
}

int disk_key_target_parse(const char *spec, const char *sub,
			  struct disk_key_target *t)
{
	const char *colon = strrchr(spec, ':'), *vdev, *problem;
	size_t vmlen, vlen;
	uint32_t index;

	memset(t, 0, sizeof(*t));
	if (!colon)
		return disk_usage_err(sub, "--for: \"%s\" is not VM:VDEV",
				      spec);
	vmlen = (size_t)(colon - spec);
	vdev = colon + 1;
	vlen = strlen(vdev);
	/* The toolstack's own rule: letters, digits, '.', '_', '-'. */
	problem = vm_name_problem(spec, vmlen);
	if (problem)
		return disk_usage_err(sub, "--for: %s", problem);
	for (size_t i = 0; i < vlen; i++)
		if (!alnum(vdev[i]))
			return disk_usage_err(
				sub,
				"--for: a vdev has only letters and digits");
	problem = disk_vdev_index(vdev, vlen, &index);
	if (problem)
		return disk_usage_err(sub, "--for: vdev %s: %s", vdev, problem);
	memcpy(t->vm, spec, vmlen);
	memcpy(t->vdev, vdev, vlen);
	return EXIT_OK;
}

/*
 * The directory name inside dirfd, made 0700 if missing, and checked to
 * be root's and closed to others: an existing state directory must be so
 * already (it is not ours to change), the key directory is made so.
 */
static int own_dir(int dirfd, const char *name, const char *shown,
		   bool fix_mode)
{
	struct stat st;
	int fd;

	if (mkdirat(dirfd, name, 0700) < 0 && errno != EEXIST) {
		cli_err("cannot make %s: %s", shown, strerror(errno));
		return -1;
	}
	fd = openat(dirfd, name,
		    O_RDONLY | O_DIRECTORY | O_CLOEXEC |
			    (dirfd == AT_FDCWD ? 0 : O_NOFOLLOW));
	if (fd < 0) {
		cli_err("cannot open %s: %s", shown, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || st.st_uid != geteuid()) {
		cli_err("%s is not root's: refusing to keep keys in it", shown);
		close(fd);
		return -1;
	}
	if (!fix_mode && (st.st_mode & 022)) {
		cli_err("%s is writable by others: refusing to keep keys in it",
			shown);
		close(fd);
		return -1;
	}
	if (fix_mode && (st.st_mode & 07777) != 0700 && fchmod(fd, 0700) < 0) {
		cli_err("cannot make %s 0700: %s", shown, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* Opens <state>/disk-keys, making what is missing; -1 if not usable. */
static int open_key_dir(char *shown, size_t cap)
{
	int sfd, dfd;

	if (geteuid() != 0) {
		cli_err("--for stores a key that only root may read: run as root");
		return -1;
	}
	sfd = own_dir(AT_FDCWD, cli_state_dir, cli_state_dir, false);
	if (sfd < 0)
		return -1;
	snprintf(shown, cap, "%s/%s", cli_state_dir, KEY_DIR);
	dfd = own_dir(sfd, KEY_DIR, shown, true);
	close(sfd);
	return dfd;
}

int disk_key_store_check(void)
{
	char shown[4200];
	int dfd = open_key_dir(shown, sizeof(shown));

	if (dfd < 0)
		return EXIT_ERROR;
	close(dfd);
	return EXIT_OK;
}

int disk_key_store(const struct disk_key_target *t, const struct disk_pass *pw,
		   char *path, size_t cap)
{
	char shown[4200], name[VM_NAME_MAX + DISK_VDEV_MAX + 8], tmp[128];
	int dfd, fd, ret = EXIT_ERROR;
	struct timespec now;

	snprintf(name, sizeof(name), "%s.%s.key", t->vm, t->vdev);
	dfd = open_key_dir(shown, sizeof(shown));
	if (dfd < 0)
		return EXIT_ERROR;
	clock_gettime(CLOCK_REALTIME, &now);
	snprintf(tmp, sizeof(tmp), ".%s.%ld.%ld", name, (long)getpid(),
		 now.tv_nsec);
	fd = openat(dfd, tmp,
		    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		cli_err("cannot write a key file in %s: %s", shown,
			strerror(errno));
		close(dfd);
		return EXIT_ERROR;
	}
	/* Written whole and synced before the name points at it. */
	if (fchmod(fd, 0600) < 0 || fd_write_all(fd, pw->p, pw->len) < 0 ||
	    fsync(fd) < 0 || renameat(dfd, tmp, dfd, name) < 0) {
		cli_err("cannot write %s/%s: %s", shown, name, strerror(errno));
		unlinkat(dfd, tmp, 0);
	} else {
		fsync(dfd);
		snprintf(path, cap, "%s/%s", shown, name);
		ret = EXIT_OK;
	}
	close(fd);
	close(dfd);
	return ret;
}
