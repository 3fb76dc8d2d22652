// SPDX-License-Identifier: GPL-2.0-only
/* Every key of a VM definition: accepted values, bounds, defaults, errors. */
#include "toolstack_test.h"

#include <bulkhead/hmx.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void test_defaults(void **state)
{
	struct vmcfg *cfg = parse_with("");

	(void)state;
	assert_string_equal(cfg->source, "web.cfg");
	assert_string_equal(cfg->name, "web");
	assert_int_equal(cfg->memory_mib, 256);
	assert_string_equal(cfg->kernel, "/k");
	assert_int_equal(cfg->role, VM_ROLE_GUEST);
	assert_int_equal(cfg->vcpus, 1);
	assert_null(cfg->ramdisk);
	assert_string_equal(cfg->cmdline, "");
	assert_true(cfg->hmx);
	assert_false(cfg->autostart);
	assert_false(cfg->vsock);
	assert_int_equal(cfg->serial, VMCFG_SERIAL_PTY);
	assert_null(cfg->serial_path);
	assert_int_equal(cfg->nrules, 0);
	assert_int_equal(cfg->ndisks, 0);
	assert_null(cfg->disks);
	assert_int_equal(cfg->nvifs, 0);
	assert_int_equal(cfg->nwarnings, 0);
	vmcfg_free(cfg);
}

static void test_all_keys(void **state)
{
	struct vmcfg *cfg;

	(void)state;
	cfg = parse_ok("name = 'ndvm-1'\nrole = 'ndvm'\ntype = 'pvh'\n"
		       "memory = 1G\n"
		       "vcpus = 4\nkernel = 'img/vmlinuz'\n"
		       "ramdisk = '/srv/initrd.img'\n"
		       "cmdline = 'console=ttyS0 quiet'\nhmx = on\n"
		       "hmx_rules = [ 'type=guest -> myself:53' ]\n"
		       "autostart = yes\nserial = 'file:logs/ndvm.log'\n"
		       "disk = [ 'file:/srv/ndvm.img,xvda,w' ]\n"
		       "vif = [ 'backend=upstream' ]\nvsock = on\n");
	assert_string_equal(cfg->name, "ndvm-1");
	assert_int_equal(cfg->role, VM_ROLE_NDVM);
	assert_int_equal(cfg->memory_mib, 1024);
	assert_int_equal(cfg->vcpus, 4);
	assert_string_equal(cfg->kernel, "/cfg/img/vmlinuz");
	assert_string_equal(cfg->ramdisk, "/srv/initrd.img");
	assert_string_equal(cfg->cmdline, "console=ttyS0 quiet");
	assert_true(cfg->hmx);
	assert_int_equal(cfg->nrules, 1);
	assert_true(cfg->autostart);
	assert_true(cfg->vsock);
	assert_int_equal(cfg->serial, VMCFG_SERIAL_FILE);
	assert_string_equal(cfg->serial_path, "/cfg/logs/ndvm.log");
	assert_int_equal(cfg->ndisks, 1);
	assert_string_equal(cfg->disks[0].target, "/srv/ndvm.img");
	assert_string_equal(cfg->disks[0].vdev, "xvda");
	assert_false(cfg->disks[0].readonly);
	assert_int_equal(cfg->nvifs, 1);
	assert_string_equal(cfg->vifs[0].backend, "upstream");
	assert_int_equal(cfg->nwarnings, 0);
	vmcfg_free(cfg);
}

static void test_required_keys(void **state)
{
	(void)state;
	parse_fails_at("memory = 64\nkernel = '/k'\n", 0, 0,
		       "web.cfg: name: required key missing");
	parse_fails_at("name = 'a'\nkernel = '/k'\n", 0, 0,
		       "web.cfg: memory: required key missing");
	parse_fails_at("name = 'a'\nmemory = 64\n", 0, 0,
		       "web.cfg: kernel: required key missing");
	parse_fails_at("", 0, 0, "name: required key missing");
	parse_fails_at("# only a comment\n", 0, 0,
		       "name: required key missing");
}

static void test_unknown_keys(void **state)
{
	(void)state;
	parse_with_fails(
		"memroy = 64\n", 4, 1,
		"web.cfg:4:1: memroy: unknown key (did you mean memory?); the keys are name, role, tags, type, memory, vcpus, kernel, ramdisk, cmdline, root, extra, disk, vif, serial, hmx, hmx_rules, vsock, autostart, on_crash, measure_expect and nic");
	parse_with_fails("hmx_rule = []\n", 4, 1,
			 "hmx_rule: unknown key (did you mean hmx_rules?)");
	parse_with_fails("Name = 'x'\n", 4, 1,
			 "Name: unknown key (did you mean name?)");
	parse_with_fails("rol = 'ndvm'\n", 4, 1,
			 "rol: unknown key (did you mean role?)");
	parse_with_fails("frobnicate = 1\n", 4, 1,
			 "frobnicate: unknown key; the keys are name,");
}

/* xl.cfg(5) keys Bulkhead does not implement are named as such. */
static void test_xl_keys(void **state)
{
	static const char *const xl_keys[] = {
		"builder",
		"maxmem",
		"maxvcpus",
		"cpus",
		"cpus_soft",
		"cpu_weight",
		"cap",
		"on_poweroff",
		"on_reboot",
		"on_watchdog",
		"on_soft_reset",
		"uuid",
		"seclabel",
		"pool",
		"pci",
		"vfb",
		"vkb",
		"vtpm",
		"p9",
		"channel",
		"usbctrl",
		"usbdev",
		"vnc",
		"sdl",
		"bootloader",
		"bootloader_args",
		"device_model_version",
		"device_model_args",
		"viridian",
		"acpi",
		"nestedhvm",
		"xenstore_quota",
		"xen_platform_pci",
		"vif2",
		"pvh",
	};
	char text[96], want[96];

	(void)state;
	for (size_t i = 0; i < sizeof(xl_keys) / sizeof(*xl_keys); i++) {
		snprintf(text, sizeof(text), "%s = 1\n", xl_keys[i]);
		snprintf(want, sizeof(want),
			 "web.cfg:4:1: %s: an xl key Bulkhead does not support",
			 xl_keys[i]);
		parse_with_fails(text, 4, 1, want);
	}
	/* Keys are case-sensitive, in xl too. */
	parse_with_fails("MaxMem = 1\n", 4, 1, "MaxMem: unknown key");
	parse_with_fails("maxme = 1\n", 4, 1, "maxme: unknown key");
}

static void test_name(void **state)
{
	struct vmcfg *cfg;

	(void)state;
	cfg = parse_ok("name = 'A.b_c-9'\nmemory = 64\nkernel = '/k'\n");
	assert_string_equal(cfg->name, "A.b_c-9");
	vmcfg_free(cfg);
	cfg = parse_ok("name = '01234567890123456789012345678901'\n"
		       "memory = 64\nkernel = '/k'\n");
	assert_int_equal(strlen(cfg->name), VM_NAME_MAX);
	vmcfg_free(cfg);
	parse_fails_at(
		"name = '012345678901234567890123456789012'\n", 1, 8,
		"name: expected a valid VM name (a VM name is at most 32 characters), got \"012345678901234567890123456789012\"");
	parse_fails_at("name = web\n", 1, 8,
		       "name: expected a quoted VM name, got web");
	parse_fails_at("name = 5\n", 1, 8,
		       "name: expected a quoted VM name, got 5");
	parse_fails_at("name = ['web']\n", 1, 8,
		       "name: expected a quoted VM name, got a list");
	parse_fails_at(
		"name = ''\n", 1, 8,
		"name: expected a valid VM name (a VM name must not be empty), got \"\"");
	parse_fails_at(
		"name = 'my web'\n", 1, 8,
		"(a VM name may contain only letters, digits, '.', '_' and '-'), got \"my web\"");
	parse_fails_at("name = 'web:1'\n", 1, 8, "may contain only letters");
	parse_fails_at(
		"name = 'caf\xc3\xa9'\n", 1, 8,
		"may contain only letters, digits, '.', '_' and '-'), got \"caf\\xc3\\xa9\"");
	parse_fails_at("name = '-web'\n", 1, 8,
		       "(a VM name must start with a letter or digit)");
	parse_fails_at("name = '.web'\n", 1, 8,
		       "must start with a letter or digit");
	parse_fails_at(
		"name = 'host'\n", 1, 8,
		"(host, myself and any are reserved words, not VM names)");
	parse_fails_at("name = 'MySelf'\n", 1, 8, "reserved words");
	parse_fails_at("name = 'ANY'\n", 1, 8, "reserved words");
}

static void test_memory(void **state)
{
	static const struct {
		const char *text;
		uint32_t mib;
	} good[] = {
		{ "16", 16 },	   { "65536", 65536 }, { "512M", 512 },
		{ "512MiB", 512 }, { "512mb", 512 },   { "2G", 2048 },
		{ "64G", 65536 },  { "16384K", 16 },   { "0x40", 64 },
		{ "1g", 1024 },
	};
	static const char *const bad[] = {
		"15",	 "65537", "0",	      "65G",
		"1T",	 "-5",	  "+5",	      "1.5G",
		"12Q",	 "2GiBs", "0x",	      "99999999999999999999",
		"'512'", "lots",  "\"lots\"", "[512]",
		"on",
	};
	char text[128];
	struct vmcfg *cfg;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++) {
		snprintf(text, sizeof(text),
			 "name = 'a'\nkernel = '/k'\nmemory = %s\n",
			 good[i].text);
		cfg = parse_ok(text);
		assert_int_equal(cfg->memory_mib, good[i].mib);
		vmcfg_free(cfg);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		snprintf(text, sizeof(text),
			 "name = 'a'\nkernel = '/k'\nmemory = %s\n", bad[i]);
		parse_fails_at(
			text, 3, 10,
			"memory: expected an integer number of MiB between 16 and 65536 (or a size such as 2G), got ");
	}
	parse_fails_at("memory = 1500K\n", 1, 10,
		       "memory: expected a whole number of MiB, got 1500K");
	parse_fails_at("memory = 1025KiB\n", 1, 10, "a whole number of MiB");
	parse_fails_at("memory = 'lots'\n", 1, 10, "got \"lots\"");
	parse_fails_at("memory = lots\n", 1, 10, "got lots");
}

static void test_vcpus(void **state)
{
	struct vmcfg *cfg;

	(void)state;
	cfg = parse_with("vcpus = 64\n");
	assert_int_equal(cfg->vcpus, 64);
	vmcfg_free(cfg);
	cfg = parse_with("vcpus = 1\n");
	assert_int_equal(cfg->vcpus, 1);
	vmcfg_free(cfg);
	parse_with_fails("vcpus = 0\n", 4, 9,
			 "vcpus: expected an integer between 1 and 64, got 0");
	parse_with_fails("vcpus = 65\n", 4, 9, "got 65");
	parse_with_fails("vcpus = -1\n", 4, 9, "got -1");
	parse_with_fails("vcpus = 2K\n", 4, 9, "got 2K");
	parse_with_fails("vcpus = '2'\n", 4, 9, "got \"2\"");
	parse_with_fails("vcpus = two\n", 4, 9, "got two");
	parse_with_fails("vcpus = 18446744073709551617\n", 4, 9,
			 "between 1 and 64, got 18446744073709551617");
}

static void test_kernel_and_ramdisk(void **state)
{
	struct vmcfg *cfg;

	(void)state;
	cfg = parse_ok("name = 'a'\nmemory = 64\nkernel = 'vmlinuz'\n"
		       "ramdisk = './images/initrd'\n");
	assert_string_equal(cfg->kernel, "/cfg/vmlinuz");
	assert_string_equal(cfg->ramdisk, "/cfg/images/initrd");
	vmcfg_free(cfg);
	cfg = parse_ok("name = 'a'\nmemory = 64\nkernel = '../k'\n");
	assert_string_equal(cfg->kernel, "/cfg/../k");
	vmcfg_free(cfg);
	parse_with_fails("ramdisk = ''\n", 4, 11,
			 "ramdisk: expected a non-empty quoted path, got \"\"");
	parse_with_fails(
		"ramdisk = initrd\n", 4, 11,
		"ramdisk: expected a non-empty quoted path, got initrd");
	parse_with_fails("ramdisk = ['a']\n", 4, 11, "got a list");
	parse_fails_at("kernel = ''\n", 1, 10,
		       "kernel: expected a non-empty quoted path, got \"\"");
	parse_fails_at("kernel = 42\n", 1, 10,
		       "kernel: expected a non-empty quoted path, got 42");
}

static void test_paths_without_base(void **state)
{
	static const char text[] = "name = 'a'\nmemory = 64\nkernel = 'rel'\n";
	static const char abs_text[] =
		"name = 'a'\nmemory = 64\nkernel = '/abs'\n";
	struct cfg_error err;
	struct vmcfg *cfg;

	(void)state;
	assert_int_equal(vmcfg_parse_buffer(text, strlen(text), "b.cfg", NULL,
					    &cfg, &err),
			 -EINVAL);
	assert_int_equal(err.line, 3);
	assert_non_null(strstr(
		err.msg,
		"kernel: expected an absolute path (relative paths need a file to be relative to), got \"rel\""));
	assert_int_equal(vmcfg_parse_buffer(abs_text, strlen(abs_text), "b.cfg",
					    NULL, &cfg, &err),
			 0);
	assert_string_equal(cfg->kernel, "/abs");
	vmcfg_free(cfg);
}

static void test_path_length(void **state)
{
	size_t n = VMCFG_PATH_MAX + 16;
	char *text = malloc(n + 64), *p;
	struct vmcfg *cfg;

	(void)state;
	/* "/cfg/" + 4090 bytes = 4095: the longest path that fits. */
	p = text + sprintf(text, "name='a'\nmemory=64\nkernel='");
	memset(p, 'x', VMCFG_PATH_MAX - 5);
	strcpy(p + VMCFG_PATH_MAX - 5, "'\n");
	cfg = parse_ok(text);
	assert_int_equal(strlen(cfg->kernel), VMCFG_PATH_MAX);
	vmcfg_free(cfg);
	memset(p, 'x', VMCFG_PATH_MAX - 4);
	strcpy(p + VMCFG_PATH_MAX - 4, "'\n");
	parse_fails_at(
		text, 3, 8,
		"kernel: expected a path of at most 4095 bytes once resolved against the file's directory");
	p[0] = '/';
	memset(p + 1, 'x', VMCFG_PATH_MAX);
	strcpy(p + VMCFG_PATH_MAX + 1, "'\n");
	parse_fails_at(text, 3, 8, "a path of at most 4095 bytes");
	free(text);
}

static void test_cmdline(void **state)
{
	char text[4200], *p;
	struct vmcfg *cfg;

	(void)state;
	p = text + sprintf(text, "name='a'\nmemory=64\nkernel='/k'\ncmdline='");
	memset(p, 'c', VMCFG_CMDLINE_MAX);
	strcpy(p + VMCFG_CMDLINE_MAX, "'\n");
	cfg = parse_ok(text);
	assert_int_equal(strlen(cfg->cmdline), VMCFG_CMDLINE_MAX);
	vmcfg_free(cfg);
	memset(p, 'c', VMCFG_CMDLINE_MAX + 1);
	strcpy(p + VMCFG_CMDLINE_MAX + 1, "'\n");
	parse_fails_at(
		text, 4, 9,
		"cmdline: expected a quoted kernel command line of at most 2047 bytes, got \"cccc");
	cfg = parse_with("cmdline = ''\n");
	assert_string_equal(cfg->cmdline, "");
	vmcfg_free(cfg);
	parse_with_fails(
		"cmdline = quiet\n", 4, 11,
		"cmdline: expected a quoted kernel command line of at most 2047 bytes, got quiet");
	parse_with_fails("cmdline = ['a', 'b']\n", 4, 11, "got a list");
}

static void test_role(void **state)
{
	static const char *const names[] = { "guest", "ndvm", "service" };
	char text[64];
	struct vmcfg *cfg;

	(void)state;
	for (int t = 0; t < VM_ROLE_COUNT; t++) {
		snprintf(text, sizeof(text), "role = \"%s\"\n", names[t]);
		cfg = parse_with(text);
		assert_int_equal(cfg->role, t);
		assert_string_equal(vm_role_name(cfg->role), names[t]);
		vmcfg_free(cfg);
	}
	parse_with_fails(
		"role = 'router'\n", 4, 8,
		"role: expected one of \"guest\", \"ndvm\" or \"service\", got \"router\"");
	parse_with_fails(
		"role = ndvm\n", 4, 8,
		"role: expected one of \"guest\", \"ndvm\" or \"service\", got ndvm");
	parse_with_fails("role = 'NDVM'\n", 4, 8, "got \"NDVM\"");
	parse_with_fails("role = ''\n", 4, 8, "got \"\"");
	parse_with_fails("role = 'guests'\n", 4, 8, "got \"guests\"");
	parse_with_fails("role = 'pvh'\n", 4, 8, "got \"pvh\"");
	assert_string_equal(vm_role_name((enum vm_role)7), "invalid");
}

/* tags: distinct names for service rules' @tag:, in file order. */
static void test_tags(void **state)
{
	struct vmcfg *cfg;

	(void)state;
	cfg = parse_with("");
	assert_int_equal(cfg->ntags, 0);
	vmcfg_free(cfg);
	cfg = parse_with("tags = [ 'work', \"print_2-x\" ]\n");
	assert_int_equal(cfg->ntags, 2);
	assert_string_equal(cfg->tags[0], "work");
	assert_string_equal(cfg->tags[1], "print_2-x");
	vmcfg_free(cfg);
	cfg = parse_with("tags = [ 'a','b','c','d','e','f','g','h','i','j','k',"
			 "'l','m','n','o','p' ]\n");
	assert_int_equal(cfg->ntags, VMCFG_TAGS_MAX);
	vmcfg_free(cfg);
	cfg = parse_with("tags = [ 'aaaaaaaaaabbbbbbbbbbccccccccccd' ]\n");
	assert_int_equal(strlen(cfg->tags[0]), VMCFG_TAG_MAX);
	vmcfg_free(cfg);
	parse_with_fails(
		"tags = [ 'aaaaaaaaaabbbbbbbbbbccccccccccdd' ]\n", 4, 10,
		"tags[0]: \"aaaaaaaaaabbbbbbbbbbccccccccccdd\": a tag is 1..31 bytes");
	parse_with_fails("tags = [ 'ok', 'no way' ]\n", 4, 16,
			 "tags[1]: \"no way\": a tag is");
	parse_with_fails("tags = [ '' ]\n", 4, 10, "tags[0]: \"\": a tag is");
	parse_with_fails("tags = [ 'w', 'x', 'w' ]\n", 4, 20,
			 "tags[2]: \"w\" is already tags[0]");
	parse_with_fails("tags = 'work'\n", 4, 8, "tags: expected a list");
	parse_with_fails("tags = [ 'a','b','c','d','e','f','g','h','i','j','k',"
			 "'l','m','n','o','p','q' ]\n",
			 4, 74, "tags: expected at most 16 entries");
}

/* xl's on_crash: destroy or restart; the default follows the role. */
static void test_on_crash(void **state)
{
	static const struct {
		const char *text;
		enum vmcfg_on_crash want;
	} cases[] = {
		{ "", VMCFG_ON_CRASH_DESTROY },
		{ "role = 'ndvm'\n", VMCFG_ON_CRASH_RESTART },
		{ "role = 'service'\n", VMCFG_ON_CRASH_RESTART },
		{ "on_crash = 'restart'\n", VMCFG_ON_CRASH_RESTART },
		{ "on_crash = \"destroy\"\nrole = 'ndvm'\n",
		  VMCFG_ON_CRASH_DESTROY },
		{ "role = 'ndvm'\non_crash = 'destroy'\n",
		  VMCFG_ON_CRASH_DESTROY },
	};
	struct vmcfg *cfg;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		cfg = parse_with(cases[i].text);
		assert_int_equal(cfg->on_crash, cases[i].want);
		vmcfg_free(cfg);
	}
	parse_with_fails(
		"on_crash = 'preserve'\n", 4, 12,
		"on_crash: \"preserve\" is an xl action Bulkhead does not support (a crashed VM's memory is never kept): use \"destroy\" or \"restart\"");
	parse_with_fails("on_crash = 'coredump-restart'\n", 4, 12,
			 "guest memory is never dumped");
	parse_with_fails("on_crash = 'rename-restart'\n", 4, 12,
			 "a VM keeps its name");
	parse_with_fails(
		"on_crash = restart\n", 4, 12,
		"on_crash: expected \"destroy\" or \"restart\", got restart");
	parse_with_fails("on_crash = 'Restart'\n", 4, 12, "got \"Restart\"");
}

/* type is xl's guest type; the role it used to hold has its own key. */
static void test_type(void **state)
{
	struct vmcfg *cfg;

	(void)state;
	cfg = parse_with("type = 'pvh'\n");
	assert_int_equal(cfg->role, VM_ROLE_GUEST);
	vmcfg_free(cfg);
	cfg = parse_with("type = \"pv\"\nrole = 'service'\n");
	assert_int_equal(cfg->role, VM_ROLE_SERVICE);
	vmcfg_free(cfg);
	parse_with_fails(
		"type = 'hvm'\n", 4, 8,
		"web.cfg:4:8: type: \"hvm\" needs firmware and emulated devices; Bulkhead boots kernels directly: use \"pvh\"");
	parse_with_fails(
		"type = 'ndvm'\n", 4, 8,
		"type: \"ndvm\" is a Bulkhead role, which has its own key now: write role = \"ndvm\" (type is xl's guest type, \"pvh\")");
	parse_with_fails("type = \"guest\"\n", 4, 8, "write role = \"guest\"");
	parse_with_fails("type = 'service'\n", 4, 8,
			 "write role = \"service\"");
	parse_with_fails(
		"type = 'PVH'\n", 4, 8,
		"type: expected \"pvh\" or \"pv\" (both boot the kernel directly), got \"PVH\"");
	parse_with_fails("type = pvh\n", 4, 8, "got pvh");
	parse_with_fails("type = ''\n", 4, 8, "got \"\"");
}

static void test_root_and_extra(void **state)
{
	char text[4200], *p;
	struct vmcfg *cfg;

	(void)state;
	/* xl: "root=ROOT EXTRA", "root=ROOT" or "EXTRA". */
	cfg = parse_with("root = '/dev/vda1'\nextra = 'console=ttyS0 ro'\n");
	assert_string_equal(cfg->cmdline, "root=/dev/vda1 console=ttyS0 ro");
	vmcfg_free(cfg);
	cfg = parse_with("extra = 'quiet'\nroot = '/dev/vda1'\n");
	assert_string_equal(cfg->cmdline, "root=/dev/vda1 quiet");
	vmcfg_free(cfg);
	cfg = parse_with("root = 'LABEL=root'\n");
	assert_string_equal(cfg->cmdline, "root=LABEL=root");
	vmcfg_free(cfg);
	cfg = parse_with("extra = 'root=/dev/xvda1'\n");
	assert_string_equal(cfg->cmdline, "root=/dev/xvda1");
	vmcfg_free(cfg);
	cfg = parse_with("extra = ''\n");
	assert_string_equal(cfg->cmdline, "");
	vmcfg_free(cfg);

	/* xl ignores both when cmdline is set; Bulkhead refuses the file. */
	parse_with_fails(
		"cmdline = 'quiet'\nextra = 'x'\n", 5, 1,
		"web.cfg:5:1: extra: cannot be used with cmdline (line 4): xl would ignore extra; put the whole command line in cmdline");
	parse_with_fails("root = '/dev/vda'\ncmdline = ''\n", 4, 1,
			 "root: cannot be used with cmdline (line 5)");
	parse_with_fails("extra = 'a'\ncmdline = 'b'\nroot = '/r'\n", 6, 1,
			 "root: cannot be used with cmdline (line 5)");

	parse_with_fails(
		"root = ''\n", 4, 8,
		"root: expected a quoted, non-empty root device such as \"/dev/vda1\", got \"\"");
	parse_with_fails("root = 5\n", 4, 8, "got 5");
	parse_with_fails(
		"extra = quiet\n", 4, 9,
		"extra: expected quoted kernel parameters of at most 2047 bytes, got quiet");

	/* The command line they make obeys cmdline's bound. */
	p = text + sprintf(text, "name='a'\nmemory=64\nkernel='/k'\nextra='");
	memset(p, 'e', VMCFG_CMDLINE_MAX);
	strcpy(p + VMCFG_CMDLINE_MAX, "'\n");
	cfg = parse_ok(text);
	assert_int_equal(strlen(cfg->cmdline), VMCFG_CMDLINE_MAX);
	vmcfg_free(cfg);
	/* root= and a space make 6 bytes more than the two values. */
	p = text +
	    sprintf(text,
		    "name='a'\nmemory=64\nkernel='/k'\nroot='r'\nextra='");
	memset(p, 'e', VMCFG_CMDLINE_MAX - 7);
	strcpy(p + VMCFG_CMDLINE_MAX - 7, "'\n");
	cfg = parse_ok(text);
	assert_int_equal(strlen(cfg->cmdline), VMCFG_CMDLINE_MAX);
	vmcfg_free(cfg);
	strcpy(p + VMCFG_CMDLINE_MAX - 7, "e'\n");
	parse_fails_at(
		text, 4, 1,
		"root: the kernel command line it makes is 2048 bytes; at most 2047");
}

static void test_booleans(void **state)
{
	static const struct {
		const char *text;
		bool value;
	} spellings[] = {
		{ "on", true },	 { "off", false }, { "yes", true },
		{ "no", false }, { "true", true }, { "false", false },
		{ "1", true },	 { "0", false },
	};
	static const char *const bad[] = { "'on'", "ON",      "2", "enabled",
					   "[on]", "\"yes\"", "01" };
	char text[64];
	struct vmcfg *cfg;

	(void)state;
	for (size_t i = 0; i < sizeof(spellings) / sizeof(*spellings); i++) {
		snprintf(text, sizeof(text),
			 "hmx = %s\nautostart = %s\nvsock = %s\n",
			 spellings[i].text, spellings[i].text,
			 spellings[i].text);
		cfg = parse_with(text);
		assert_int_equal(cfg->hmx, spellings[i].value);
		assert_int_equal(cfg->autostart, spellings[i].value);
		assert_int_equal(cfg->vsock, spellings[i].value);
		vmcfg_free(cfg);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		snprintf(text, sizeof(text), "hmx = %s\n", bad[i]);
		parse_with_fails(
			text, 4, 7,
			"hmx: expected a boolean: on or off, yes or no, true or false, 1 or 0 (unquoted), got ");
		snprintf(text, sizeof(text), "autostart = %s\n", bad[i]);
		parse_with_fails(text, 4, 13, "autostart: expected a boolean");
		snprintf(text, sizeof(text), "vsock = %s\n", bad[i]);
		parse_with_fails(text, 4, 9, "vsock: expected a boolean");
	}
	/* vsock is carried over HMX. */
	parse_with_fails("hmx = off\nvsock = on\n", 5, 1,
			 "web.cfg:5:1: vsock: needs hmx = on (line 4)");
}

static void test_serial(void **state)
{
	static const struct {
		const char *text;
		enum vmcfg_serial kind;
		const char *path;
	} good[] = {
		{ "pty", VMCFG_SERIAL_PTY, NULL },
		{ "stdio", VMCFG_SERIAL_STDIO, NULL },
		{ "none", VMCFG_SERIAL_NONE, NULL },
		{ "file:/var/log/web.log", VMCFG_SERIAL_FILE,
		  "/var/log/web.log" },
		{ "file:web.log", VMCFG_SERIAL_FILE, "/cfg/web.log" },
		{ "file:pty", VMCFG_SERIAL_FILE, "/cfg/pty" },
	};
	char text[96];
	struct vmcfg *cfg;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++) {
		snprintf(text, sizeof(text), "serial = '%s'\n", good[i].text);
		cfg = parse_with(text);
		assert_int_equal(cfg->serial, good[i].kind);
		if (good[i].path)
			assert_string_equal(cfg->serial_path, good[i].path);
		else
			assert_null(cfg->serial_path);
		vmcfg_free(cfg);
	}
	parse_with_fails(
		"serial = 'tty'\n", 4, 10,
		"serial: expected \"pty\", \"stdio\", \"none\" or \"file:PATH\", got \"tty\"");
	parse_with_fails("serial = pty\n", 4, 10, "got pty");
	parse_with_fails(
		"serial = 'file:'\n", 4, 10,
		"serial: expected a path after \"file:\", got \"file:\"");
	parse_with_fails("serial = 'PTY'\n", 4, 10, "got \"PTY\"");
	assert_string_equal(vmcfg_serial_name(VMCFG_SERIAL_FILE), "file");
	assert_string_equal(vmcfg_serial_name(VMCFG_SERIAL_NONE), "none");
}

static void test_hmx_rules(void **state)
{
	struct vmcfg *cfg;

	(void)state;
	cfg = parse_with("hmx_rules = [\n  'myself -> host:5555',\n"
			 "  \"reject type=guest -> myself:22\",\n]\n");
	assert_int_equal(cfg->nrules, 2);
	assert_string_equal(cfg->rules[0].text, "myself -> host:5555");
	assert_int_equal(cfg->rules[0].line, 5);
	assert_int_equal(cfg->rules[0].column, 3);
	assert_int_equal(cfg->rules[0].rule.action, POLICY_ACCEPT);
	assert_int_equal(cfg->rules[0].rule.dst.sel, POLICY_SEL_HOST);
	assert_int_equal(cfg->rules[0].rule.dst.port, 5555);
	assert_int_equal(cfg->rules[1].rule.action, POLICY_REJECT);
	assert_int_equal(cfg->rules[1].line, 6);
	vmcfg_free(cfg);

	cfg = parse_with("hmx_rules = []\nhmx = off\n");
	assert_false(cfg->hmx);
	assert_int_equal(cfg->nrules, 0);
	vmcfg_free(cfg);

	parse_with_fails(
		"hmx_rules = 'myself -> host'\n", 4, 13,
		"hmx_rules: expected a list of quoted rules [ \"myself -> host:5555\", ... ], got \"myself -> host\"");
	parse_with_fails(
		"hmx_rules = [ 'myself -> host', 5 ]\n", 4, 33,
		"hmx_rules: expected a quoted string as each list element, got 5");
	parse_with_fails(
		"hmx_rules = [\n 'myself -> host',\n 'myself -> hots:1' ]\n", 6,
		2,
		"web.cfg:6:2: hmx_rules[1]: \"myself -> hots:1\": unknown destination selector \"hots\": expected myself, host, any, *, name=NAME or type=TYPE (at character 11 of the rule)");
	parse_with_fails(
		"hmx = off\nhmx_rules = [ 'myself -> host' ]\n", 5, 1,
		"hmx_rules: rules given but hmx = off (line 4); remove them or turn hmx on");
	parse_with_fails("hmx_rules = [ 'myself -> host' ]\nhmx = no\n", 4, 1,
			 "rules given but hmx = off (line 5)");
}

static void test_hmx_rules_bound(void **state)
{
	char *text = malloc(40 * 300 + 64), *p;
	struct vmcfg *cfg;

	(void)state;
	p = text + sprintf(text, "hmx_rules = [\n");
	for (int i = 0; i < 256; i++)
		p += sprintf(p, "'myself -> host:%d',\n", i);
	strcpy(p, "]\n");
	cfg = parse_with(text);
	assert_int_equal(cfg->nrules, VMCFG_RULES_MAX);
	assert_int_equal(cfg->rules[255].rule.dst.port, 255);
	vmcfg_free(cfg);
	strcpy(p, "'myself -> host:256']\n");
	parse_with_fails(
		text, 4 + 257, 1,
		"hmx_rules: expected at most 256 entries, got \"myself -> host:256\"");
	free(text);
}

/* The list's shape; each element's syntax is test_vif_spec.c's. */
static void test_vif(void **state)
{
	char text[2400], *p;
	struct vmcfg *cfg;

	(void)state;
	cfg = parse_with(
		"vif = [ '', 'mac=00:16:3e:00:00:01, backend=lan,', ',,untrusted',\n"
		"  'untrusted,type=vif,model=hmxnet' ]\n");
	assert_int_equal(cfg->nvifs, 4);
	assert_string_equal(cfg->vifs[0].backend, "");
	assert_string_equal(cfg->vifs[1].backend, "lan");
	assert_true(cfg->vifs[1].has_mac);
	assert_int_equal(cfg->vifs[3].line, 5);
	/* Vifs are built now: nothing to warn about. */
	assert_int_equal(cfg->nwarnings, 0);
	vmcfg_free(cfg);
	cfg = parse_with("vif = []\n");
	assert_int_equal(cfg->nvifs, 0);
	vmcfg_free(cfg);

	parse_with_fails(
		"vif = bridge\n", 4, 7,
		"vif: expected a list of quoted vif specs [ \"backend=ndvm\", ... ] (\"\" for a vif on the default NDVM), got bridge");
	parse_with_fails(
		"vif = [ 'ip=10.0.0.1', on ]\n", 4, 24,
		"vif: expected a quoted string as each list element, got on");
	parse_with_fails(
		"vif = [ 'backend=a', 'ip=1,bridge' ]\n", 4, 22,
		"web.cfg:4:22: vif[1]: \"ip=1,bridge\": ip: \"1\" is not an IPv4 address such as 10.0.0.5 (at character 4 of the spec)");
	parse_with_fails(
		"vif = [ ' =x' ]\n", 4, 9,
		"vif[0]: \" =x\": expected key=value, the key a lower-case word such as backend or mac (at character 2 of the spec)");
	parse_with_fails("vif = [ 'ip=1.2.3.4,\xc3\xa9=2' ]\n", 4, 9,
			 "(at character 12 of the spec)");
	parse_with_fails("vif = [ '','','','','','','','','' ]\n", 4, 33,
			 "vif: expected at most 8 entries, got \"\"");
	p = text + sprintf(text, "vif = [ 'backend=a");
	memset(p, ' ', VMCFG_SPEC_MAX - 9);
	strcpy(p + VMCFG_SPEC_MAX - 9, "' ]\n");
	cfg = parse_with(text);
	assert_string_equal(cfg->vifs[0].backend, "a");
	vmcfg_free(cfg);
	strcpy(p + VMCFG_SPEC_MAX - 9, " ' ]\n");
	parse_with_fails(text, 4, 9,
			 "vif: expected a vif spec of at most 1024 bytes");
}

static void test_wrong_types_everywhere(void **state)
{
	static const struct {
		const char *setting;
		const char *want;
	} cases[] = {
		{ "type = 1", "type: expected \"pvh\" or \"pv\"" },
		{ "role = 1", "role: expected one of" },
		{ "root = []",
		  "root: expected a quoted, non-empty root device" },
		{ "extra = 0", "extra: expected quoted kernel parameters" },
		{ "vcpus = [1]",
		  "vcpus: expected an integer between 1 and 64, got a list" },
		{ "ramdisk = 1", "ramdisk: expected a non-empty quoted path" },
		{ "cmdline = 1",
		  "cmdline: expected a quoted kernel command line" },
		{ "hmx = 'off'", "hmx: expected a boolean" },
		{ "hmx_rules = on",
		  "hmx_rules: expected a list of quoted rules" },
		{ "autostart = []", "autostart: expected a boolean" },
		{ "serial = 0", "serial: expected \"pty\"" },
		{ "disk = 0", "disk: expected a list of quoted disk specs" },
		{ "vif = 'x'", "vif: expected a list of quoted vif specs" },
	};
	char text[96];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		snprintf(text, sizeof(text), "%s\n", cases[i].setting);
		parse_with_fails(text, 4,
				 strchr(cases[i].setting, '=') -
					 cases[i].setting + 3,
				 cases[i].want);
	}
}

static void test_rules_are_kept_when_domain_has_hmx(void **state)
{
	struct vmcfg *cfg;

	(void)state;
	/* The any selector and omitted ports compile to the wire wildcards. */
	cfg = parse_with("hmx_rules = [ 'any -> myself' ]\n");
	assert_int_equal(cfg->rules[0].rule.src.sel, POLICY_SEL_ANY);
	assert_int_equal(cfg->rules[0].rule.src.port, HMX_PORT_ANY);
	assert_int_equal(cfg->rules[0].rule.dst.port, HMX_PORT_ANY);
	vmcfg_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_all_keys),
		cmocka_unit_test(test_required_keys),
		cmocka_unit_test(test_unknown_keys),
		cmocka_unit_test(test_xl_keys),
		cmocka_unit_test(test_name),
		cmocka_unit_test(test_memory),
		cmocka_unit_test(test_vcpus),
		cmocka_unit_test(test_kernel_and_ramdisk),
		cmocka_unit_test(test_paths_without_base),
		cmocka_unit_test(test_path_length),
		cmocka_unit_test(test_cmdline),
		cmocka_unit_test(test_role),
		cmocka_unit_test(test_tags),
		cmocka_unit_test(test_on_crash),
		cmocka_unit_test(test_type),
		cmocka_unit_test(test_root_and_extra),
		cmocka_unit_test(test_booleans),
		cmocka_unit_test(test_serial),
		cmocka_unit_test(test_hmx_rules),
		cmocka_unit_test(test_hmx_rules_bound),
		cmocka_unit_test(test_vif),
		cmocka_unit_test(test_wrong_types_everywhere),
		cmocka_unit_test(test_rules_are_kept_when_domain_has_hmx),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
