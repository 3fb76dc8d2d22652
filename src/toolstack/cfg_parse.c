// SPDX-License-Identifier: GPL-2.0-only
#include "toolstack/cfg_parse.h"

#include "toolstack/cfg_lexer.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct parser {
	struct cfg_lexer lx;
	struct cfg_token tok; /* the current, not yet consumed token */
	struct cfg_error *err;
	const char *file;
};

static int advance(struct parser *p)
{
	cfg_token_release(&p->tok);
	return cfg_lexer_next(&p->lx, &p->tok, p->err);
}

/* Reports "key: <what>, got <current token>" at the current token. */
static int expected(struct parser *p, const char *key, const char *what)
{
	char got[80];

	cfg_token_describe(&p->tok, got, sizeof(got));
	cfg_error_set(p->err, p->file, p->tok.line, p->tok.column,
		      "%s%s%s, got %s", key ? key : "", key ? ": " : "", what,
		      got);
	return -EINVAL;
}

static int nomem(struct parser *p)
{
	cfg_error_set(p->err, p->file, p->tok.line, p->tok.column,
		      "out of memory");
	return -ENOMEM;
}

static bool tok_is_scalar(const struct cfg_token *tok)
{
	return tok->kind == CFG_TOK_STRING || tok->kind == CFG_TOK_NUMBER ||
	       tok->kind == CFG_TOK_WORD;
}

/* Moves the current scalar token into v and reads the next token. */
static int take_scalar(struct parser *p, struct cfg_value *v)
{
	static const enum cfg_value_kind kinds[] = {
		[CFG_TOK_STRING] = CFG_VAL_STRING,
		[CFG_TOK_NUMBER] = CFG_VAL_NUMBER,
		[CFG_TOK_WORD] = CFG_VAL_WORD,
	};

	v->kind = kinds[p->tok.kind];
	v->line = p->tok.line;
	v->column = p->tok.column;
	v->text = p->tok.text;
	v->len = p->tok.len;
	p->tok.text = NULL;
	return advance(p);
}

static int skip_newlines(struct parser *p)
{
	int ret = 0;

	while (!ret && p->tok.kind == CFG_TOK_NEWLINE)
		ret = advance(p);
	return ret;
}

static void value_release(struct cfg_value *v)
{
	free(v->text);
	for (size_t i = 0; i < v->nitems; i++)
		free(v->items[i].text);
	free(v->items);
	memset(v, 0, sizeof(*v));
}

/* A list: newlines and a trailing comma are allowed inside the brackets. */
static int parse_list(struct parser *p, const char *key, struct cfg_value *v)
{
	size_t cap = 0;
	int ret;

	v->kind = CFG_VAL_LIST;
	v->line = p->tok.line;
	v->column = p->tok.column;
	ret = advance(p);
	if (!ret)
		ret = skip_newlines(p);
	if (ret)
		return ret;
	if (p->tok.kind == CFG_TOK_RBRACKET)
		return advance(p);
	for (;;) {
		if (p->tok.kind == CFG_TOK_LBRACKET)
			return expected(
				p, key,
				"expected a string, number or word (lists do not nest)");
		if (p->tok.kind == CFG_TOK_EOF) {
			cfg_error_set(
				p->err, p->file, v->line, v->column,
				"%s: the list opened here has no closing ']'",
				key);
			return -EINVAL;
		}
		if (!tok_is_scalar(&p->tok))
			return expected(p, key, "expected a list element");
		if (v->nitems == CFG_LIST_ITEMS_MAX) {
			cfg_error_set(p->err, p->file, p->tok.line,
				      p->tok.column,
				      "%s: a list holds at most %u elements",
				      key, CFG_LIST_ITEMS_MAX);
			return -EINVAL;
		}
		if (v->nitems == cap) {
			size_t ncap = cap ? cap * 2 : 8;
			struct cfg_value *items;

			items = realloc(v->items, ncap * sizeof(*items));
			if (!items)
				return nomem(p);
			v->items = items;
			cap = ncap;
		}
		memset(&v->items[v->nitems], 0, sizeof(*v->items));
		ret = take_scalar(p, &v->items[v->nitems]);
		v->nitems++;
		if (!ret)
			ret = skip_newlines(p);
		if (ret)
			return ret;
		if (p->tok.kind == CFG_TOK_COMMA) {
			ret = advance(p);
			if (!ret)
				ret = skip_newlines(p);
			if (ret)
				return ret;
			if (p->tok.kind == CFG_TOK_RBRACKET)
				return advance(p);
		} else if (p->tok.kind == CFG_TOK_RBRACKET) {
			return advance(p);
		} else if (p->tok.kind == CFG_TOK_EOF) {
			cfg_error_set(
				p->err, p->file, v->line, v->column,
				"%s: the list opened here has no closing ']'",
				key);
			return -EINVAL;
		} else {
			return expected(
				p, key,
				"expected ',' or ']' after a list element");
		}
	}
}

static int parse_value(struct parser *p, const char *key, struct cfg_value *v)
{
	if (tok_is_scalar(&p->tok))
		return take_scalar(p, v);
	if (p->tok.kind == CFG_TOK_LBRACKET)
		return parse_list(p, key, v);
	return expected(
		p, key,
		"expected a value (a \"string\", a number, a word or a [list])");
}

static int check_duplicate(struct parser *p, const struct cfg_file *f)
{
	for (size_t i = 0; i < f->nsettings; i++) {
		if (!strcmp(f->settings[i].key, p->tok.text)) {
			cfg_error_set(
				p->err, p->file, p->tok.line, p->tok.column,
				"%s: duplicate key (first set at line %u)",
				p->tok.text, f->settings[i].line);
			return -EINVAL;
		}
	}
	return 0;
}

static int parse_setting(struct parser *p, struct cfg_file *f)
{
	struct cfg_setting *s;
	int ret;

	if (p->tok.kind != CFG_TOK_WORD)
		return expected(p, NULL,
				"expected a key such as name or memory");
	ret = check_duplicate(p, f);
	if (ret)
		return ret;
	if (f->nsettings == CFG_SETTINGS_MAX) {
		cfg_error_set(p->err, p->file, p->tok.line, p->tok.column,
			      "too many settings: a file holds at most %u",
			      CFG_SETTINGS_MAX);
		return -EINVAL;
	}
	s = &f->settings[f->nsettings];
	memset(s, 0, sizeof(*s));
	s->key = p->tok.text;
	s->line = p->tok.line;
	s->column = p->tok.column;
	p->tok.text = NULL;
	f->nsettings++;
	ret = advance(p);
	if (ret)
		return ret;
	if (p->tok.kind != CFG_TOK_EQUALS)
		return expected(p, s->key, "expected '=' after the key");
	ret = advance(p);
	if (!ret)
		ret = parse_value(p, s->key, &s->value);
	if (ret)
		return ret;
	if (p->tok.kind != CFG_TOK_NEWLINE && p->tok.kind != CFG_TOK_SEMI &&
	    p->tok.kind != CFG_TOK_EOF)
		return expected(
			p, s->key,
			"expected the end of the line or ';' after the value");
	return 0;
}

int cfg_parse(const char *buf, size_t len, const char *file,
	      struct cfg_file *out, struct cfg_error *err)
{
	struct parser p = { .err = err, .file = file };
	struct cfg_file f = { 0 };
	int ret;

	memset(out, 0, sizeof(*out));
	f.settings = calloc(CFG_SETTINGS_MAX, sizeof(*f.settings));
	if (!f.settings) {
		cfg_error_set(err, file, 0, 0, "out of memory");
		return -ENOMEM;
	}
	cfg_lexer_init(&p.lx, buf, len, file);
	ret = advance(&p);
	while (!ret) {
		while (!ret && (p.tok.kind == CFG_TOK_NEWLINE ||
				p.tok.kind == CFG_TOK_SEMI))
			ret = advance(&p);
		if (ret || p.tok.kind == CFG_TOK_EOF)
			break;
		ret = parse_setting(&p, &f);
	}
	cfg_token_release(&p.tok);
	if (ret) {
		cfg_file_release(&f);
		return ret;
	}
	*out = f;
	return 0;
}

void cfg_file_release(struct cfg_file *f)
{
	if (!f->settings)
		return;
	for (size_t i = 0; i < f->nsettings; i++) {
		free(f->settings[i].key);
		value_release(&f->settings[i].value);
	}
	free(f->settings);
	f->settings = NULL;
	f->nsettings = 0;
}
