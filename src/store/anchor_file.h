/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The rollback anchor without a TPM: a counter file, root-only (0600),
 * kept outside the store's directory (e.g. /var/lib/bulkhead/store.anchor
 * for a store in /var/lib/bulkhead/store). Weaker than a TPM NV counter:
 * whoever can write both files as root can roll both back together
 * (docs/config-store.md).
 *
 * The file is one line "bhstore-anchor 1 GENERATION\n", replaced
 * atomically; a missing file reads as 0. It serves one store, whose lock
 * keeps writers to one: each advance removes temps a crash left.
 */
#ifndef BH_STORE_ANCHOR_FILE_H
#define BH_STORE_ANCHOR_FILE_H

#include "store/keyslot.h"

struct anchor_file {
	char path[4096];
};

/* Fills a (which must outlive anchor) and anchor. 0 or -ENAMETOOLONG. */
int anchor_file_init(struct anchor_file *a, const char *path,
		     struct store_anchor *anchor);

#endif
