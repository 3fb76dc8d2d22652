/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Error codes and messages of the config store (docs/config-store.md).
 * Every refusal says what is wrong; a store that fails any check is never
 * used.
 */
#ifndef BH_STORE_ERR_H
#define BH_STORE_ERR_H

#include <stdarg.h>

enum store_code {
	STORE_OK = 0,
	STORE_E_IO, /* a system call failed (errno in the message) */
	STORE_E_NOMEM, /* out of (locked) memory */
	STORE_E_TRUNCATED, /* the file ends before its declared content */
	STORE_E_CORRUPT, /* bad magic, version, layout or authentication */
	STORE_E_WRONG_ID, /* the store is not the one expected */
	STORE_E_ROLLBACK, /* generation below the anchor */
	STORE_E_PASSPHRASE, /* the passphrase does not open its slot */
	STORE_E_UNSEAL, /* the sealer refused or gave a wrong key */
	STORE_E_NOSLOT, /* no slot of the asked kind */
	STORE_E_NOENT, /* no record of that name */
	STORE_E_NAME, /* a record name that is not allowed */
	STORE_E_LIMIT, /* a size or count limit */
	STORE_E_EXISTS, /* store_create on an existing store */
	STORE_E_ANCHOR, /* the rollback anchor failed */
	STORE_E_BUSY, /* another process has the store open */
	STORE_E_INVAL, /* a bad argument */
};

struct store_err {
	enum store_code code;
	char msg[256];
};

/* Sets e (NULL is allowed) and returns -code. */
int store_fail(struct store_err *e, enum store_code code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A short name of code, e.g. "corrupt". */
const char *store_code_name(enum store_code code);

#endif
