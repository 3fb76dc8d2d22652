// SPDX-License-Identifier: GPL-2.0-only
/* The xl.cfg-style syntax: lexing and parsing, every error path. */
#include "toolstack/cfg_lexer.h"
#include "toolstack/cfg_parse.h"
#include "toolstack_test.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void test_minimal_forms(void **state)
{
	struct vmcfg *cfg;

	(void)state;
	/* Comments, blank lines, indentation, ';' separators, no final newline. */
	cfg = parse_ok("# a VM\n\n  name = \"web\" # trailing comment\n"
		       "memory = 256; vcpus = 2;\n;;\n"
		       "\tkernel='/boot/vmlinuz'");
	assert_string_equal(cfg->name, "web");
	assert_int_equal(cfg->memory_mib, 256);
	assert_int_equal(cfg->vcpus, 2);
	assert_string_equal(cfg->kernel, "/boot/vmlinuz");
	vmcfg_free(cfg);
}

static void test_crlf_and_bom(void **state)
{
	struct vmcfg *cfg;

	(void)state;
	cfg = parse_ok("\xef\xbb\xbfname = 'web'\r\nmemory = 64 # c\r\n"
		       "kernel = '/k'\r\n");
	assert_string_equal(cfg->name, "web");
	vmcfg_free(cfg);
	parse_fails_at("name = 'web'\rmemory = 64\n", 1, 13,
		       "carriage return not followed by a newline");
}

static void test_string_escapes(void **state)
{
	struct vmcfg *cfg;

	(void)state;
	cfg = parse_with("cmdline = \"a\\\\b \\\"q\\\" \\'s\\' 'x'\"\n");
	assert_string_equal(cfg->cmdline, "a\\b \"q\" 's' 'x'");
	vmcfg_free(cfg);
	cfg = parse_with("cmdline = 'say \"hi\" it\\'s'\n");
	assert_string_equal(cfg->cmdline, "say \"hi\" it's");
	vmcfg_free(cfg);
	cfg = parse_with(
		"cmdline = 'caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xa7'\n");
	assert_string_equal(cfg->cmdline,
			    "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xa7");
	vmcfg_free(cfg);
	parse_with_fails("cmdline = 'a\\nb'\n", 4, 13,
			 "web.cfg:4:13: unknown escape in string");
	parse_with_fails(
		"cmdline = 'a\\", 4, 11,
		"unterminated string: no closing ' before the end of the file");
}

static void test_string_unterminated(void **state)
{
	(void)state;
	parse_with_fails(
		"cmdline = \"abc\nvcpus = 1\n", 4, 11,
		"unterminated string: no closing \" before the end of the line");
	parse_with_fails("cmdline = 'abc", 4, 11,
			 "no closing ' before the end of the file");
	parse_with_fails("cmdline = 'abc\r\n'", 4, 11,
			 "before the end of the line");
}

static void test_string_bad_characters(void **state)
{
	(void)state;
	parse_with_fails("cmdline = 'a\tb'\n", 4, 13,
			 "character U+0009 is not allowed in a string");
	parse_with_fails("cmdline = 'a\x7f'\n", 4, 13,
			 "character U+007F is not allowed in a string");
	parse_with_fails("cmdline = 'a\xc2\x85'\n", 4, 13,
			 "character U+0085 is not allowed in a string");
	/* A right-to-left override could make a rule read as another. */
	parse_with_fails("cmdline = 'a\xe2\x80\xae'\n", 4, 13,
			 "character U+202E is not allowed in a string");
	parse_with_fails("cmdline = 'a\xe2\x81\xa6'\n", 4, 13,
			 "U+2066 is not allowed");
	parse_with_fails("cmdline = 'a\xe2\x80\xa8'\n", 4, 13,
			 "U+2028 is not allowed");
	parse_with_fails(
		"cmdline = 'a\xff'\n", 4, 13,
		"invalid byte 0xff (not valid UTF-8) is not allowed in a string");
	/* Overlong encoding of '/', a surrogate, a truncated sequence. */
	parse_with_fails("cmdline = 'a\xc0\xaf'\n", 4, 13, "not valid UTF-8");
	parse_with_fails("cmdline = 'a\xed\xa0\x80'\n", 4, 13,
			 "not valid UTF-8");
	parse_with_fails("cmdline = 'a\xe2\x82'\n", 4, 13, "not valid UTF-8");
	parse_with_fails("cmdline = 'a\xf4\x90\x80\x80'\n", 4, 13,
			 "not valid UTF-8");
}

static void test_nul_byte(void **state)
{
	static const char text[] = "name = 'web'\nmemory = 64\0\nkernel='/k'\n";
	static const char in_string[] = "name = 'w\0b'\n";

	(void)state;
	parse_buf_fails_at(text, sizeof(text) - 1, 2, 12,
			   "unexpected character U+0000");
	parse_buf_fails_at(in_string, sizeof(in_string) - 1, 1, 10,
			   "character U+0000 is not allowed in a string");
}

static void test_comment_characters(void **state)
{
	struct vmcfg *cfg;

	(void)state;
	cfg = parse_with("# tabs\tand UTF-8 \xc3\xa9 are fine in comments\n");
	vmcfg_free(cfg);
	parse_with_fails("# sneaky \xe2\x80\xae override\n", 4, 10,
			 "character U+202E is not allowed in a comment");
	parse_with_fails("# bell \x07\n", 4, 8,
			 "character U+0007 is not allowed in a comment");
	parse_with_fails(
		"# bad \xfe\n", 4, 7,
		"invalid byte 0xfe (not valid UTF-8) is not allowed in a comment");
}

static void test_unexpected_characters(void **state)
{
	(void)state;
	parse_with_fails("vcpus = @\n", 4, 9, "unexpected character '@'");
	parse_with_fails("vcpus = 1\n$x = 1\n", 5, 1,
			 "unexpected character '$'");
	parse_with_fails("vcpus = \xc3\xa9\n", 4, 9,
			 "unexpected character U+00E9");
	parse_with_fails("vcpus = - 1\n", 4, 9, "unexpected character '-'");
	parse_with_fails("vcpus = \xff\n", 4, 9, "byte 0xff (not valid UTF-8)");
	/* A column counts characters, not bytes. */
	parse_with_fails("cmdline = '\xc3\xa9\xc3\xa9' @\n", 4, 16,
			 "unexpected character '@'");
}

static void test_statement_errors(void **state)
{
	(void)state;
	parse_with_fails("5 = 1\n", 4, 1,
			 "expected a key such as name or memory, got 5");
	parse_with_fails(
		"'vcpus' = 1\n", 4, 1,
		"expected a key such as name or memory, got \"vcpus\"");
	parse_with_fails("= 1\n", 4, 1,
			 "expected a key such as name or memory, got '='");
	parse_with_fails("vcpus 1\n", 4, 7,
			 "vcpus: expected '=' after the key, got 1");
	parse_with_fails(
		"vcpus\n", 4, 6,
		"vcpus: expected '=' after the key, got the end of the line");
	parse_with_fails(
		"vcpus =\n", 4, 8,
		"vcpus: expected a value (a \"string\", a number, a word or a [list]), got the end of the line");
	parse_with_fails("vcpus =", 4, 8, "got the end of the file");
	parse_with_fails("vcpus = ;\n", 4, 9, "expected a value");
	parse_with_fails("vcpus = ]\n", 4, 9, "expected a value");
	parse_with_fails(
		"vcpus = 1 2\n", 4, 11,
		"vcpus: expected the end of the line or ';' after the value, got 2");
	parse_with_fails("vcpus = 1 = 2\n", 4, 11, "after the value, got '='");
	parse_with_fails("vcpus = 1, 2\n", 4, 10, "after the value, got ','");
}

static void test_duplicate_key(void **state)
{
	(void)state;
	parse_with_fails(
		"vcpus = 1\n\nvcpus = 1\n", 6, 1,
		"web.cfg:6:1: vcpus: duplicate key (first set at line 4)");
	parse_with_fails("memory = 256\n", 4, 1,
			 "memory: duplicate key (first set at line 2)");
}

static void test_lists(void **state)
{
	struct vmcfg *cfg;

	(void)state;
	cfg = parse_with("disk = []\nvif = [\n]\n");
	assert_int_equal(cfg->ndisks, 0);
	assert_int_equal(cfg->nvifs, 0);
	vmcfg_free(cfg);
	/* Continuation lines, comments inside, trailing comma. */
	cfg = parse_with(
		"vif = [ 'ip=10.0.0.1', # first\n\n   \"ip=10.0.0.2\"\n , 'ip=10.0.0.3',\n# end\n]\n"
		"disk = ['/x,,xvda',]\n");
	assert_int_equal(cfg->nvifs, 3);
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(cfg->vifs[i].ip[0], 0x0a000001 + i);
	assert_int_equal(cfg->ndisks, 1);
	vmcfg_free(cfg);
}

static void test_list_errors(void **state)
{
	(void)state;
	parse_with_fails("disk = [,]\n", 4, 9,
			 "disk: expected a list element, got ','");
	parse_with_fails("disk = ['a',,]\n", 4, 13,
			 "disk: expected a list element, got ','");
	parse_with_fails(
		"disk = ['a' 'b']\n", 4, 13,
		"disk: expected ',' or ']' after a list element, got \"b\"");
	parse_with_fails(
		"disk = [['a']]\n", 4, 9,
		"disk: expected a string, number or word (lists do not nest), got '['");
	parse_with_fails("disk = ['a',\n'b'\n", 4, 8,
			 "disk: the list opened here has no closing ']'");
	parse_with_fails("disk = [\n", 4, 8, "has no closing ']'");
	parse_with_fails("disk = ['a',\n", 4, 8, "has no closing ']'");
	parse_with_fails("disk = ['a'] 'b'\n", 4, 14,
			 "after the value, got \"b\"");
	parse_with_fails("disk = [ = ]\n", 4, 10,
			 "expected a list element, got '='");
	parse_with_fails("disk = [ ; ]\n", 4, 10,
			 "expected a list element, got ';'");
}

static void test_list_bound(void **state)
{
	char *text = malloc(64 + 6 * 1100);
	size_t o;

	(void)state;
	o = (size_t)sprintf(text, "disk = [");
	for (int i = 0; i < 1025; i++)
		o += (size_t)sprintf(text + o, "'d',");
	sprintf(text + o, "]\n");
	/* The 1025th element (at column 9 + 4 * 1024) is one too many. */
	parse_fails_at(text, 1, 9 + 4 * 1024,
		       "disk: a list holds at most 1024 elements");
	free(text);
}

static void test_settings_bound(void **state)
{
	char *text = malloc(129 * 16);
	size_t o = 0;

	(void)state;
	for (int i = 0; i < 129; i++)
		o += (size_t)sprintf(text + o, "k%d = 1\n", i);
	parse_fails_at(text, 129, 1,
		       "too many settings: a file holds at most 128");
	free(text);
}

static void test_file_size_bound(void **state)
{
	size_t len = VMCFG_FILE_MAX + 1;
	char *text = malloc(len);
	struct cfg_error err;
	struct vmcfg *cfg;

	(void)state;
	memset(text, '\n', len);
	assert_int_equal(vmcfg_parse_buffer(text, len, "big.cfg", NULL, &cfg,
					    &err),
			 -EFBIG);
	assert_null(cfg);
	assert_non_null(strstr(err.msg, "file too large"));
	free(text);
}

static void test_error_format(void **state)
{
	struct cfg_error err;
	char buf[256];

	(void)state;
	cfg_error_set(&err, "web.cfg", 7, 10, "memory: %s", "x");
	cfg_error_format(&err, buf, sizeof(buf));
	assert_string_equal(buf, "web.cfg:7:10: memory: x");
	err.column = 0;
	cfg_error_format(&err, buf, sizeof(buf));
	assert_string_equal(buf, "web.cfg:7: memory: x");
	err.line = 0;
	cfg_error_format(&err, buf, sizeof(buf));
	assert_string_equal(buf, "web.cfg: memory: x");
	cfg_error_set(&err, "a\x1b[2Jb.cfg", 1, 0, "m");
	cfg_error_format(&err, buf, sizeof(buf));
	assert_string_equal(buf, "a?[2Jb.cfg:1: m");
	cfg_error_set(&err, NULL, 0, 0, "plain");
	cfg_error_format(&err, buf, sizeof(buf));
	assert_string_equal(buf, "plain");
}

static void test_quote(void **state)
{
	char buf[64];

	(void)state;
	cfg_quote("a\"b\\c\n\x1b[31m", 11, buf, sizeof(buf));
	assert_string_equal(buf, "\"a\\\"b\\\\c\\x0a\\x1b[31m\"");
	cfg_quote("0123456789012345678901234567890123456789ABC", 43, buf,
		  sizeof(buf));
	assert_string_equal(buf,
			    "\"0123456789012345678901234567890123456789...\"");
	cfg_quote("\xff\xff\xff", 3, buf, 10);
	assert_true(strlen(buf) < 10);
	assert_int_equal(buf[strlen(buf) - 1], '"');
}

/* The brief's example, to the character. */
static void test_brief_example(void **state)
{
	(void)state;
	parse_fails_at(
		"name = 'web'\n# the web VM\n\nkernel = '/k'\n\n\n"
		"memory = \"lots\"\n",
		7, 10,
		"web.cfg:7:10: memory: expected an integer number of MiB between 16 and 65536 (or a size such as 2G), got \"lots\"");
}

static void test_lexer_tokens(void **state)
{
	static const char text[] = "k = [ +5, -0x1F, 1.5G ] ; w_2 \"s\"";
	static const enum cfg_tok_kind kinds[] = {
		CFG_TOK_WORD,	CFG_TOK_EQUALS, CFG_TOK_LBRACKET,
		CFG_TOK_NUMBER, CFG_TOK_COMMA,	CFG_TOK_NUMBER,
		CFG_TOK_COMMA,	CFG_TOK_NUMBER, CFG_TOK_RBRACKET,
		CFG_TOK_SEMI,	CFG_TOK_WORD,	CFG_TOK_STRING,
		CFG_TOK_EOF,
	};
	static const char *const texts[] = { "k",     NULL, NULL,   "+5", NULL,
					     "-0x1F", NULL, "1.5G", NULL, NULL,
					     "w_2",   "s",  NULL };
	struct cfg_lexer lx;
	struct cfg_token tok;
	struct cfg_error err;

	(void)state;
	cfg_lexer_init(&lx, text, strlen(text), "t");
	for (size_t i = 0; i < sizeof(kinds) / sizeof(*kinds); i++) {
		assert_int_equal(cfg_lexer_next(&lx, &tok, &err), 0);
		assert_int_equal(tok.kind, kinds[i]);
		if (texts[i])
			assert_string_equal(tok.text, texts[i]);
		else
			assert_null(tok.text);
		cfg_token_release(&tok);
	}
}

static void test_generic_parse(void **state)
{
	static const char text[] = "a = 'x'\nb = [1, w, \"s\"]\nc = on\n";
	struct cfg_file f;
	struct cfg_error err;

	(void)state;
	assert_int_equal(cfg_parse(text, strlen(text), "t", &f, &err), 0);
	assert_int_equal(f.nsettings, 3);
	assert_string_equal(f.settings[0].key, "a");
	assert_int_equal(f.settings[0].value.kind, CFG_VAL_STRING);
	assert_int_equal(f.settings[1].value.kind, CFG_VAL_LIST);
	assert_int_equal(f.settings[1].value.nitems, 3);
	assert_int_equal(f.settings[1].value.items[0].kind, CFG_VAL_NUMBER);
	assert_int_equal(f.settings[1].value.items[1].kind, CFG_VAL_WORD);
	assert_int_equal(f.settings[1].value.items[2].kind, CFG_VAL_STRING);
	assert_int_equal(f.settings[1].value.items[2].column, 12);
	assert_int_equal(f.settings[2].value.kind, CFG_VAL_WORD);
	assert_int_equal(f.settings[2].line, 3);
	cfg_file_release(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_minimal_forms),
		cmocka_unit_test(test_crlf_and_bom),
		cmocka_unit_test(test_string_escapes),
		cmocka_unit_test(test_string_unterminated),
		cmocka_unit_test(test_string_bad_characters),
		cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_comment_characters),
		cmocka_unit_test(test_unexpected_characters),
		cmocka_unit_test(test_statement_errors),
		cmocka_unit_test(test_duplicate_key),
		cmocka_unit_test(test_lists),
		cmocka_unit_test(test_list_errors),
		cmocka_unit_test(test_list_bound),
		cmocka_unit_test(test_settings_bound),
		cmocka_unit_test(test_file_size_bound),
		cmocka_unit_test(test_error_format),
		cmocka_unit_test(test_quote),
		cmocka_unit_test(test_brief_example),
		cmocka_unit_test(test_lexer_tokens),
		cmocka_unit_test(test_generic_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
