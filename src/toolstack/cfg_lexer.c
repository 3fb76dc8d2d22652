// SPDX-License-Identifier: GPL-2.0-only
#include "toolstack/cfg_lexer.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cfg_lexer_init(struct cfg_lexer *lx, const char *buf, size_t len,
		    const char *file)
{
	lx->buf = buf;
	lx->len = len;
	lx->pos = 0;
	lx->line = 1;
	lx->column = 1;
	lx->file = file;
	/* A UTF-8 byte order mark carries no meaning; skip it. */
	if (len >= 3 && !memcmp(buf, "\xef\xbb\xbf", 3))
		lx->pos = 3;
}

void cfg_token_release(struct cfg_token *tok)
{
	free(tok->text);
	tok->text = NULL;
	tok->len = 0;
}

/*
 * Decodes the UTF-8 sequence at p. Returns its length (1..4) and the code
 * point, or 0 for an invalid, overlong, surrogate or truncated sequence.
 */
static size_t utf8_decode(const unsigned char *p, size_t avail,
			  unsigned int *cp)
{
	unsigned int c = p[0], min;
	size_t n;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		c &= 0x1f;
		min = 0x80;
	} else if ((c & 0xf0) == 0xe0) {
		n = 3;
		c &= 0x0f;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		c &= 0x07;
		min = 0x10000;
	} else {
		return 0;
	}
	if (avail < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (p[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

/*
 * Characters that could make a file display differently from how it parses
 * (control characters, line separators, bidirectional overrides as in
 * "Trojan Source") are refused everywhere, even in comments.
 */
static bool cp_is_deceptive(unsigned int cp)
{
	return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) ||
	       cp == 0x200e || cp == 0x200f || cp == 0x2028 || cp == 0x2029 ||
	       (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

static int lex_error(struct cfg_lexer *lx, unsigned int line,
		     unsigned int column, struct cfg_error *err,
		     const char *what)
{
	cfg_error_set(err, lx->file, line, column, "%s", what);
	return -EINVAL;
}

/* Describes the (possibly invalid) character at the lexer's position. */
static void describe_char(const struct cfg_lexer *lx, char *buf, size_t len)
{
	const unsigned char *p = (const unsigned char *)lx->buf + lx->pos;
	unsigned int cp;

	if (!utf8_decode(p, lx->len - lx->pos, &cp))
		snprintf(buf, len, "byte 0x%02x (not valid UTF-8)", p[0]);
	else if (cp > 0x20 && cp < 0x7f)
		snprintf(buf, len, "'%c'", (char)cp);
	else
		snprintf(buf, len, "U+%04X", cp);
}

/*
 * Checks the character at the lexer's position for use inside a string
 * (in_string) or a comment and returns its length, or 0 with err set.
 */
static size_t lex_text_char(struct cfg_lexer *lx, bool in_string,
			    struct cfg_error *err)
{
	const unsigned char *p = (const unsigned char *)lx->buf + lx->pos;
	char what[48], msg[160];
	unsigned int cp;
	size_t n;

	n = utf8_decode(p, lx->len - lx->pos, &cp);
	if (n && !(cp_is_deceptive(cp) && (in_string || cp != '\t')))
		return n;
	describe_char(lx, what, sizeof(what));
	snprintf(msg, sizeof(msg), "%s %s is not allowed in a %s",
		 n ? "character" : "invalid", what,
		 in_string ? "string" : "comment");
	lex_error(lx, lx->line, lx->column, err, msg);
	return 0;
}

static int skip_comment(struct cfg_lexer *lx, struct cfg_error *err)
{
	while (lx->pos < lx->len && lx->buf[lx->pos] != '\n') {
		size_t n;

		/* CR LF ends a comment like LF does. */
		if (lx->buf[lx->pos] == '\r' && lx->pos + 1 < lx->len &&
		    lx->buf[lx->pos + 1] == '\n')
			break;
		n = lex_text_char(lx, false, err);
		if (!n)
			return -EINVAL;
		lx->pos += n;
		lx->column++;
	}
	return 0;
}

struct strbuf {
	char *data;
	size_t len;
	size_t cap;
};

static int strbuf_append(struct strbuf *sb, const char *s, size_t n)
{
	if (sb->len + n + 1 > sb->cap) {
		size_t cap = sb->cap ? sb->cap : 32;
		char *data;

		while (cap < sb->len + n + 1)
			cap *= 2;
		data = realloc(sb->data, cap);
		if (!data)
			return -ENOMEM;
		sb->data = data;
		sb->cap = cap;
	}
	memcpy(sb->data + sb->len, s, n);
	sb->len += n;
	sb->data[sb->len] = '\0';
	return 0;
}

static int lex_string(struct cfg_lexer *lx, struct cfg_token *tok,
		      struct cfg_error *err)
{
	const char quote = lx->buf[lx->pos];
	struct strbuf sb = { 0 };
	char msg[160];
	int ret;

	ret = strbuf_append(&sb, "", 0);
	if (ret)
		goto fail_nomem;
	lx->pos++;
	lx->column++;
	for (;;) {
		char c;
		size_t n;

		if (lx->pos >= lx->len) {
			snprintf(
				msg, sizeof(msg),
				"unterminated string: no closing %c before the end of the file",
				quote);
			ret = lex_error(lx, tok->line, tok->column, err, msg);
			goto fail;
		}
		c = lx->buf[lx->pos];
		/* A backslash as the last byte leaves the string open. */
		if (c == '\\' && lx->pos + 1 == lx->len) {
			lx->pos++;
			continue;
		}
		if (c == quote) {
			lx->pos++;
			lx->column++;
			break;
		}
		if (c == '\n' || c == '\r') {
			snprintf(
				msg, sizeof(msg),
				"unterminated string: no closing %c before the end of the line",
				quote);
			ret = lex_error(lx, tok->line, tok->column, err, msg);
			goto fail;
		}
		if (c == '\\' && lx->pos + 1 < lx->len) {
			char e = lx->buf[lx->pos + 1];

			if (e != '\\' && e != '"' && e != '\'') {
				ret = lex_error(
					lx, lx->line, lx->column, err,
					"unknown escape in string: the only escapes are \\\\, \\\" and \\'");
				goto fail;
			}
			ret = strbuf_append(&sb, &e, 1);
			if (ret)
				goto fail_nomem;
			lx->pos += 2;
			lx->column += 2;
			continue;
		}
		n = lex_text_char(lx, true, err);
		if (!n) {
			ret = -EINVAL;
			goto fail;
		}
		ret = strbuf_append(&sb, lx->buf + lx->pos, n);
		if (ret)
			goto fail_nomem;
		lx->pos += n;
		lx->column++;
	}
	tok->kind = CFG_TOK_STRING;
	tok->text = sb.data;
	tok->len = sb.len;
	return 0;

fail_nomem:
	cfg_error_set(err, lx->file, tok->line, tok->column, "out of memory");
	ret = -ENOMEM;
fail:
	free(sb.data);
	return ret;
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int lex_run(struct cfg_lexer *lx, struct cfg_token *tok,
		   enum cfg_tok_kind kind, struct cfg_error *err)
{
	size_t start = lx->pos;

	if (kind == CFG_TOK_NUMBER &&
	    (lx->buf[lx->pos] == '+' || lx->buf[lx->pos] == '-'))
		lx->pos++;
	while (lx->pos < lx->len) {
		char c = lx->buf[lx->pos];

		if (!is_alpha(c) && !is_digit(c) &&
		    !(kind == CFG_TOK_NUMBER && c == '.'))
			break;
		lx->pos++;
	}
	tok->kind = kind;
	tok->len = lx->pos - start;
	lx->column += (unsigned int)tok->len;
	tok->text = strndup(lx->buf + start, tok->len);
	if (!tok->text) {
		cfg_error_set(err, lx->file, tok->line, tok->column,
			      "out of memory");
		return -ENOMEM;
	}
	return 0;
}

static int lex_punct(struct cfg_lexer *lx, struct cfg_token *tok,
		     enum cfg_tok_kind kind, size_t n)
{
	tok->kind = kind;
	lx->pos += n;
	if (kind == CFG_TOK_NEWLINE) {
		lx->line++;
		lx->column = 1;
	} else {
		lx->column += (unsigned int)n;
	}
	return 0;
}

int cfg_lexer_next(struct cfg_lexer *lx, struct cfg_token *tok,
		   struct cfg_error *err)
{
	char c, what[48], msg[96];

	memset(tok, 0, sizeof(*tok));
	for (;;) {
		if (lx->pos >= lx->len)
			break;
		c = lx->buf[lx->pos];
		if (c == ' ' || c == '\t') {
			lx->pos++;
			lx->column++;
		} else if (c == '#') {
			if (skip_comment(lx, err))
				return -EINVAL;
		} else {
			break;
		}
	}
	tok->line = lx->line;
	tok->column = lx->column;
	if (lx->pos >= lx->len) {
		tok->kind = CFG_TOK_EOF;
		return 0;
	}
	c = lx->buf[lx->pos];
	switch (c) {
	case '\n':
		return lex_punct(lx, tok, CFG_TOK_NEWLINE, 1);
	case '\r':
		if (lx->pos + 1 < lx->len && lx->buf[lx->pos + 1] == '\n')
			return lex_punct(lx, tok, CFG_TOK_NEWLINE, 2);
		return lex_error(lx, tok->line, tok->column, err,
				 "carriage return not followed by a newline");
	case ';':
		return lex_punct(lx, tok, CFG_TOK_SEMI, 1);
	case '=':
		return lex_punct(lx, tok, CFG_TOK_EQUALS, 1);
	case '[':
		return lex_punct(lx, tok, CFG_TOK_LBRACKET, 1);
	case ']':
		return lex_punct(lx, tok, CFG_TOK_RBRACKET, 1);
	case ',':
		return lex_punct(lx, tok, CFG_TOK_COMMA, 1);
	case '"':
	case '\'':
		return lex_string(lx, tok, err);
	default:
		break;
	}
	if (is_alpha(c))
		return lex_run(lx, tok, CFG_TOK_WORD, err);
	if (is_digit(c) || ((c == '+' || c == '-') && lx->pos + 1 < lx->len &&
			    is_digit(lx->buf[lx->pos + 1])))
		return lex_run(lx, tok, CFG_TOK_NUMBER, err);
	describe_char(lx, what, sizeof(what));
	snprintf(msg, sizeof(msg), "unexpected character %s", what);
	return lex_error(lx, tok->line, tok->column, err, msg);
}

void cfg_token_describe(const struct cfg_token *tok, char *buf, size_t len)
{
	char q[64];

	switch (tok->kind) {
	case CFG_TOK_EOF:
		snprintf(buf, len, "the end of the file");
		break;
	case CFG_TOK_NEWLINE:
		snprintf(buf, len, "the end of the line");
		break;
	case CFG_TOK_SEMI:
		snprintf(buf, len, "';'");
		break;
	case CFG_TOK_EQUALS:
		snprintf(buf, len, "'='");
		break;
	case CFG_TOK_LBRACKET:
		snprintf(buf, len, "'['");
		break;
	case CFG_TOK_RBRACKET:
		snprintf(buf, len, "']'");
		break;
	case CFG_TOK_COMMA:
		snprintf(buf, len, "','");
		break;
	case CFG_TOK_WORD:
	case CFG_TOK_NUMBER:
		cfg_quote(tok->text, tok->len, q, sizeof(q));
		/* Words and numbers are plain ASCII: show them unquoted. */
		snprintf(buf, len, "%.*s", (int)(strlen(q) - 2), q + 1);
		break;
	case CFG_TOK_STRING:
		cfg_quote(tok->text, tok->len, buf, len);
		break;
	}
}
