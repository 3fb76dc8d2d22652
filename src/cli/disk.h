/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * bulkhead disk: the image tools (create, info, passwd, measure,
 * verity-format). They run locally on image files, like qemu-img and
 * cryptsetup; none needs bulkheadd.
 */
#ifndef BH_CLI_DISK_H
#define BH_CLI_DISK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "toolstack/disk_spec.h"
#include "toolstack/luks.h"
#include "toolstack/vm.h"

struct termios;

#define DISK_PASS_FILE_MAX (1u << 20) /* --key-file content, bytes */
#define DISK_PASS_LINE_MAX 512u /* a typed or piped passphrase */

/* Usage texts of the subverbs, for --help and usage errors. */
extern const char disk_create_usage[], disk_info_usage[], disk_passwd_usage[],
	disk_measure_usage[], disk_verity_usage[];

int disk_create(int argc, char **argv);
int disk_info(int argc, char **argv);
int disk_passwd(int argc, char **argv);
int disk_measure(int argc, char **argv);
int disk_verity_format(int argc, char **argv);

/* Prints "bulkhead disk SUB: ...", the hint, returns EXIT_USAGE. */
int disk_usage_err(const char *sub, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* A passphrase in secret memory (util/secret.h). */
struct disk_pass {
	char *p;
	size_t len; /* bytes of passphrase */
	size_t cap; /* bytes mapped */
};

/*
 * A passphrase: the whole content of key_file if given ("-": standard
 * input; at most DISK_PASS_FILE_MAX bytes), else typed on the terminal
 * with echo off (twice if confirm), else the next line of standard input.
 * prompt names it ("Passphrase for a.img"). Prints the error and returns
 * EXIT_ERROR, or EXIT_OK with *out filled (release with disk_pass_free).
 */
int disk_pass_get(const char *key_file, const char *prompt, bool confirm,
		  struct disk_pass *out);
void disk_pass_free(struct disk_pass *pw);

/* A --for VM:VDEV target, checked: names that cannot leave the key dir. */
struct disk_key_target {
	char vm[VM_NAME_MAX + 1];
	char vdev[DISK_VDEV_MAX + 1];
};

/* Parses VM:VDEV; prints the problem and returns EXIT_USAGE if bad. */
int disk_key_target_parse(const char *spec, const char *sub,
			  struct disk_key_target *t);

/*
 * Refuses (EXIT_ERROR, printed) unless the key store may be written: run
 * as root, the state directory root's and closed to others. Makes
 * <state> and <state>/disk-keys (0700) if missing.
 */
int disk_key_store_check(void);

/*
 * Writes the passphrase for bulkheadd to <state>/disk-keys/VM.VDEV.key
 * (file 0600, replaced atomically), its path to path (cap bytes).
 * Returns EXIT_OK, or prints what went wrong and returns EXIT_ERROR.
 */
int disk_key_store(const struct disk_key_target *t, const struct disk_pass *pw,
		   char *path, size_t cap);

/* KDF options shared by create and passwd. */
int disk_parse_pbkdf_opt(const char *sub, int opt, const char *arg,
			 struct luks_pbkdf *p);

/* "64 MiB", "1.5 GiB", "512 bytes": for messages. */
void disk_human_size(uint64_t bytes, char *out, size_t cap);

/*
 * While armed, a fatal signal (INT, TERM, HUP, QUIT) restores the
 * terminal if the passphrase prompt changed it and removes path (copied)
 * before the process dies: nothing half-made is left.
 */
void disk_cleanup_arm(const char *path);
void disk_cleanup_disarm(void);
/* The terminal state to restore on such a signal; NULL: none. */
void disk_cleanup_tty(const struct termios *saved);

/* "what..." on a terminal (stderr) only; disk_progress_done ends it. */
void disk_progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void disk_progress_done(void);

/* Opens path for the image tools: a regular file or block device. */
int disk_open_image(const char *path, int flags);

#endif
