/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Tokens of the xl.cfg-style definition syntax (docs/vm-config.md).
 * The lexer works on a caller-owned buffer that need not be NUL-terminated
 * and rejects anything that is not printable UTF-8 outside comments, so
 * every string it returns is safe to echo in messages and logs.
 */
#ifndef BH_TOOLSTACK_CFG_LEXER_H
#define BH_TOOLSTACK_CFG_LEXER_H

#include "toolstack/cfg_error.h"

#include <stddef.h>

enum cfg_tok_kind {
	CFG_TOK_EOF,
	CFG_TOK_NEWLINE,
	CFG_TOK_SEMI,
	CFG_TOK_EQUALS,
	CFG_TOK_LBRACKET,
	CFG_TOK_RBRACKET,
	CFG_TOK_COMMA,
	CFG_TOK_WORD, /* [A-Za-z_][A-Za-z0-9_]* */
	CFG_TOK_NUMBER, /* [+-]?[0-9][A-Za-z0-9_.]*, checked by the key */
	CFG_TOK_STRING, /* '...' or "...", escapes decoded */
};

struct cfg_token {
	enum cfg_tok_kind kind;
	unsigned int line;
	unsigned int column;
	char *text; /* WORD, NUMBER, STRING: malloc'd, NUL-terminated */
	size_t len; /* bytes in text, excluding the NUL */
};

struct cfg_lexer {
	const char *buf;
	size_t len;
	size_t pos;
	unsigned int line;
	unsigned int column;
	const char *file; /* for error messages */
};

void cfg_lexer_init(struct cfg_lexer *lx, const char *buf, size_t len,
		    const char *file);

/*
 * Reads the next token into tok (whose previous text the caller has
 * released). Returns 0, or -EINVAL / -ENOMEM with err filled in.
 */
int cfg_lexer_next(struct cfg_lexer *lx, struct cfg_token *tok,
		   struct cfg_error *err);

void cfg_token_release(struct cfg_token *tok);

/* A short description of a token for "expected X, got Y" messages. */
void cfg_token_describe(const struct cfg_token *tok, char *buf, size_t len);

#endif
