// SPDX-License-Identifier: GPL-2.0-only
#include "store/store_err.h"

#include <stdio.h>

int store_fail(struct store_err *e, enum store_code code, const char *fmt, ...)
{
	va_list ap;

	if (e) {
		e->code = code;
		va_start(ap, fmt);
		vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
		va_end(ap);
	}
	return -(int)code;
}

const char *store_code_name(enum store_code code)
{
	static const char *const names[] = {
		[STORE_OK] = "ok",
		[STORE_E_IO] = "I/O error",
		[STORE_E_NOMEM] = "out of memory",
		[STORE_E_TRUNCATED] = "truncated",
		[STORE_E_CORRUPT] = "corrupt",
		[STORE_E_WRONG_ID] = "wrong store id",
		[STORE_E_ROLLBACK] = "rolled back",
		[STORE_E_PASSPHRASE] = "wrong passphrase",
		[STORE_E_UNSEAL] = "unseal failed",
		[STORE_E_NOSLOT] = "no such key slot",
		[STORE_E_NOENT] = "no such record",
		[STORE_E_NAME] = "bad record name",
		[STORE_E_LIMIT] = "over a limit",
		[STORE_E_EXISTS] = "exists",
		[STORE_E_ANCHOR] = "anchor failed",
		[STORE_E_BUSY] = "busy",
		[STORE_E_INVAL] = "invalid argument",
	};

	if ((unsigned)code >= sizeof(names) / sizeof(names[0]) || !names[code])
		return "unknown";
	return names[code];
}
