// SPDX-License-Identifier: GPL-2.0-only
/* Reading definitions from files and resolving the paths they contain. */
#include "toolstack_test.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

struct fixture {
	char dir[64]; /* a fresh temporary directory */
	char sub[96]; /* dir/vms */
	char cwd[PATH_MAX];
};

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	strcpy(fx->dir, "/tmp/bh-vmcfg-XXXXXX");
	if (!mkdtemp(fx->dir) || !getcwd(fx->cwd, sizeof(fx->cwd)))
		return -1;
	snprintf(fx->sub, sizeof(fx->sub), "%s/vms", fx->dir);
	if (mkdir(fx->sub, 0700))
		return -1;
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	char cmd[128];

	if (chdir(fx->cwd))
		return -1;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
	if (system(cmd))
		return -1;
	free(fx);
	return 0;
}

static const char web_cfg[] = "name = 'web'\nmemory = 128\n"
			      "kernel = 'images/vmlinuz'\n"
			      "ramdisk = '/abs/initrd'\n"
			      "serial = 'file:./logs/web.log'\n";

static void test_relative_to_file_directory(void **state)
{
	struct fixture *fx = *state;
	char path[160], want[200];
	struct cfg_error err;
	struct vmcfg *cfg;

	snprintf(path, sizeof(path), "%s/web.cfg", fx->sub);
	write_file(path, web_cfg);
	assert_int_equal(vmcfg_parse_file(path, &cfg, &err), 0);
	assert_string_equal(cfg->source, path);
	snprintf(want, sizeof(want), "%s/images/vmlinuz", fx->sub);
	assert_string_equal(cfg->kernel, want);
	assert_string_equal(cfg->ramdisk, "/abs/initrd");
	snprintf(want, sizeof(want), "%s/logs/web.log", fx->sub);
	assert_string_equal(cfg->serial_path, want);
	vmcfg_free(cfg);
}

/* A relative file name resolves against the current directory first. */
static void test_relative_file_name(void **state)
{
	struct fixture *fx = *state;
	char path[160], want[200];
	struct cfg_error err;
	struct vmcfg *cfg;

	snprintf(path, sizeof(path), "%s/web.cfg", fx->sub);
	write_file(path, web_cfg);
	assert_int_equal(chdir(fx->dir), 0);
	assert_int_equal(vmcfg_parse_file("vms/web.cfg", &cfg, &err), 0);
	assert_string_equal(cfg->source, "vms/web.cfg");
	snprintf(want, sizeof(want), "%s/images/vmlinuz", fx->sub);
	assert_string_equal(cfg->kernel, want);
	vmcfg_free(cfg);

	assert_int_equal(chdir(fx->sub), 0);
	assert_int_equal(vmcfg_parse_file("web.cfg", &cfg, &err), 0);
	assert_string_equal(cfg->kernel, want);
	vmcfg_free(cfg);
	assert_int_equal(vmcfg_parse_file("./web.cfg", &cfg, &err), 0);
	assert_string_equal(cfg->kernel, want);
	vmcfg_free(cfg);
}

static void test_error_names_file(void **state)
{
	struct fixture *fx = *state;
	char path[160], msg[512], want[400];
	struct cfg_error err;
	struct vmcfg *cfg;

	snprintf(path, sizeof(path), "%s/bad.cfg", fx->sub);
	write_file(path, "name = 'web'\nmemory = 'lots'\n");
	assert_int_equal(vmcfg_parse_file(path, &cfg, &err), -EINVAL);
	assert_null(cfg);
	cfg_error_format(&err, msg, sizeof(msg));
	snprintf(
		want, sizeof(want),
		"%s:2:10: memory: expected an integer number of MiB between 16 and 65536 (or a size such as 2G), got \"lots\"",
		path);
	assert_string_equal(msg, want);
}

static void test_open_errors(void **state)
{
	struct fixture *fx = *state;
	char path[160], msg[512];
	struct cfg_error err;
	struct vmcfg *cfg;

	snprintf(path, sizeof(path), "%s/missing.cfg", fx->sub);
	assert_int_equal(vmcfg_parse_file(path, &cfg, &err), -ENOENT);
	assert_null(cfg);
	cfg_error_format(&err, msg, sizeof(msg));
	assert_non_null(strstr(
		msg, "missing.cfg: cannot open: No such file or directory"));

	assert_int_equal(vmcfg_parse_file(fx->sub, &cfg, &err), -EINVAL);
	assert_string_equal(err.msg, "not a regular file");

	snprintf(path, sizeof(path), "%s/fifo.cfg", fx->sub);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(vmcfg_parse_file(path, &cfg, &err), -EINVAL);
	assert_string_equal(err.msg, "not a regular file");

	if (geteuid() != 0) {
		snprintf(path, sizeof(path), "%s/secret.cfg", fx->sub);
		write_file(path, "name = 'x'\n");
		assert_int_equal(chmod(path, 0), 0);
		assert_int_equal(vmcfg_parse_file(path, &cfg, &err), -EACCES);
	}
}

static void test_too_large(void **state)
{
	struct fixture *fx = *state;
	char path[160];
	struct cfg_error err;
	struct vmcfg *cfg;
	int fd;

	snprintf(path, sizeof(path), "%s/big.cfg", fx->sub);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, VMCFG_FILE_MAX + 1), 0);
	close(fd);
	assert_int_equal(vmcfg_parse_file(path, &cfg, &err), -EFBIG);
	assert_null(cfg);
	assert_non_null(strstr(err.msg, "file too large"));

	/* Exactly at the limit is read (and fails on content, not size). */
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, VMCFG_FILE_MAX), 0);
	close(fd);
	assert_int_equal(vmcfg_parse_file(path, &cfg, &err), -EINVAL);
	assert_int_equal(err.line, 1);
	assert_non_null(strstr(err.msg, "U+0000"));
}

static void test_resolve_path(void **state)
{
	static const struct {
		const char *base;
		const char *path;
		const char *want;
	} cases[] = {
		{ "/etc/bh", "k", "/etc/bh/k" },
		{ "/etc/bh/", "k", "/etc/bh/k" },
		{ "/etc/bh//", "./k", "/etc/bh/k" },
		{ "/", "k", "/k" },
		{ "/etc", "././/k", "/etc/k" },
		{ "/etc", "../k", "/etc/../k" },
		{ "/etc", "/abs/k", "/abs/k" },
		{ NULL, "/abs/k", "/abs/k" },
		{ "/etc", ".", "/etc/." },
		{ "/etc", "./", "/etc" },
	};
	char *long_path;
	char *r;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		r = vmcfg_resolve_path(cases[i].base, cases[i].path);
		assert_non_null(r);
		assert_string_equal(r, cases[i].want);
		free(r);
	}
	errno = 0;
	assert_null(vmcfg_resolve_path(NULL, "rel"));
	assert_int_equal(errno, EINVAL);
	long_path = malloc(VMCFG_PATH_MAX + 2);
	assert_non_null(long_path);
	memset(long_path, 'a', VMCFG_PATH_MAX + 1);
	long_path[0] = '/';
	long_path[VMCFG_PATH_MAX + 1] = '\0';
	assert_null(vmcfg_resolve_path(NULL, long_path));
	assert_int_equal(errno, ENAMETOOLONG);
	long_path[VMCFG_PATH_MAX] = '\0';
	r = vmcfg_resolve_path(NULL, long_path);
	assert_non_null(r);
	free(r);
	assert_null(vmcfg_resolve_path("/b", long_path + 1));
	assert_int_equal(errno, ENAMETOOLONG);
	free(long_path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_relative_to_file_directory,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_relative_file_name, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_error_names_file, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_open_errors, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_too_large, setup,
						teardown),
		cmocka_unit_test(test_resolve_path),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
