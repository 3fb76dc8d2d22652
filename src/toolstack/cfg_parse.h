/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The generic xl.cfg-style syntax: a file is a sequence of settings
 * `key = value`, each value a string, number, word or list of those. Keys
 * are unique. What the keys mean is up to the caller (see vmcfg.h).
 */
#ifndef BH_TOOLSTACK_CFG_PARSE_H
#define BH_TOOLSTACK_CFG_PARSE_H

#include "toolstack/cfg_error.h"

#include <stddef.h>

/* Bounds that keep a hostile file from costing unbounded memory or time. */
#define CFG_SETTINGS_MAX 128u
#define CFG_LIST_ITEMS_MAX 1024u

enum cfg_value_kind {
	CFG_VAL_STRING, /* quoted, escapes decoded */
	CFG_VAL_NUMBER, /* raw text as written, e.g. "512", "2G", "-1" */
	CFG_VAL_WORD, /* a bare word such as on, off, true */
	CFG_VAL_LIST,
};

struct cfg_value {
	enum cfg_value_kind kind;
	unsigned int line;
	unsigned int column;
	char *text; /* scalars only */
	size_t len;
	struct cfg_value *items; /* lists only: scalars, never lists */
	size_t nitems;
};

struct cfg_setting {
	char *key;
	unsigned int line;
	unsigned int column;
	struct cfg_value value;
};

struct cfg_file {
	struct cfg_setting *settings; /* in file order */
	size_t nsettings;
};

/*
 * Parses len bytes of buf. file names the buffer in error messages.
 * Returns 0, or -EINVAL / -ENOMEM with err filled in and *out empty.
 */
int cfg_parse(const char *buf, size_t len, const char *file,
	      struct cfg_file *out, struct cfg_error *err);

void cfg_file_release(struct cfg_file *f);

#endif
