/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What a VM's measured launch records (docs/measured-launch.md), and the
 * digests a definition may pin with
 *
 *   measure_expect = [ "kernel=sha256:HEX", "cmdline=sha256:HEX", ... ]
 *
 * Each element is NAME "=sha256:" and 64 hex digits (either case), NAME
 * one of kernel, initrd, cmdline, config or rules, each at most once. A
 * launch whose measurement of NAME differs is refused. The parser is pure.
 */
#ifndef BH_TOOLSTACK_MEASURE_EXPECT_H
#define BH_TOOLSTACK_MEASURE_EXPECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MEASURE_SHA256_BYTES 32u

/*
 * What an event of a log measured. A VM's log: kernel to disk, in the
 * log's order. The host's (bulkheadd's own, docs/measured-launch.md,
 * "Host measurements"): the programs, the daemon's configuration, the
 * policy files; each name is the component a mismatch names.
 */
enum measure_what {
	MEASURE_KERNEL,
	MEASURE_INITRD,
	MEASURE_CMDLINE,
	MEASURE_CONFIG,
	MEASURE_RULES,
	MEASURE_DISK,
	MEASURE_HOST_DAEMON, /* "bulkheadd": /proc/self/exe */
	MEASURE_HOST_HV, /* "bulkhead-hv" */
	MEASURE_HOST_BLK, /* "bulkhead-blk" */
	MEASURE_HOST_NET, /* "bulkhead-net" */
	MEASURE_HOST_CONFIG, /* "daemon-config": its canonical form */
	MEASURE_HOST_POLICY, /* "policy": one *.svcpolicy file */
};
#define MEASURE_WHAT_COUNT 12u
#define MEASURE_HOST_FIRST MEASURE_HOST_DAEMON
/* kernel .. rules: what measure_expect can pin (a disk has verify=). */
#define MEASURE_PINNABLE 5u

/* "kernel", "initrd", "cmdline", "config", "rules", "disk", "bulkheadd",
 * "bulkhead-hv", "bulkhead-blk", "bulkhead-net", "daemon-config",
 * "policy"; NULL if none. */
const char *measure_what_name(enum measure_what what);

/* The digests a definition pins; set[w] says whether w is pinned. */
struct measure_expect {
	bool set[MEASURE_PINNABLE];
	uint8_t sha256[MEASURE_PINNABLE][MEASURE_SHA256_BYTES];
};

#define MEASURE_EXPECT_ITEM_MAX 256u /* bytes in one element */

struct measure_expect_error {
	size_t offset; /* byte offset in the element where it went wrong */
	char msg[200]; /* printable ASCII */
};

/*
 * Parses len bytes of s (no NUL needed) as one element. Returns 0 with
 * *what (< MEASURE_PINNABLE) and sha256 set, or -EINVAL with err filled
 * in. Duplicates are the caller's to refuse: it sees the whole list.
 */
int measure_expect_parse(const char *s, size_t len, enum measure_what *what,
			 uint8_t sha256[MEASURE_SHA256_BYTES],
			 struct measure_expect_error *err);

#endif
