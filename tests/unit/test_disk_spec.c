// SPDX-License-Identifier: GPL-2.0-only
/*
 * xl disk specifications: every form the parser accepts, every error with
 * where it points, and the disk list of a definition (order, clashes,
 * bounds, messages located at the element).
 */
#include "toolstack_test.h"

#include "toolstack/disk_spec.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

struct want {
	const char *target;
	enum disk_format format;
	const char *vdev;
	uint32_t index;
	bool readonly;
	enum disk_backend backend;
	bool discard;
};

#define RW_RAW(t, v, i)                                                     \
	{                                                                   \
		t, DISK_FORMAT_RAW, v, i, false, DISK_BACKEND_BULKHEAD_BLK, \
			true                                                \
	}

/* Parses spec against base directory /cfg; fails the test on an error. */
static void spec_is(const char *spec, const struct want *w)
{
	struct disk_spec d;
	struct disk_spec_error err;
	int ret = disk_spec_parse(spec, strlen(spec), "/cfg", &d, &err);

	if (ret)
		print_error("\"%s\": unexpected error %d: %s (offset %zu)\n",
			    spec, ret, err.msg, err.offset);
	assert_int_equal(ret, 0);
	assert_string_equal(d.target, w->target);
	assert_int_equal(d.format, w->format);
	assert_string_equal(d.vdev, w->vdev);
	assert_int_equal(d.index, w->index);
	assert_int_equal(d.readonly, w->readonly);
	assert_int_equal(d.backend, w->backend);
	assert_int_equal(d.discard, w->discard);
	assert_int_equal(d.element, 0);
	assert_int_equal(d.line, 0);
	disk_spec_release(&d);
	assert_null(d.target);
}

/* Requires spec to fail at byte offset with a message containing want. */
static void spec_fails_base(const char *spec, const char *base, size_t offset,
			    const char *want)
{
	struct disk_spec d;
	struct disk_spec_error err;
	int ret = disk_spec_parse(spec, strlen(spec), base, &d, &err);

	if (ret != -EINVAL || err.offset != offset || !strstr(err.msg, want))
		print_error(
			"\"%s\": got %d \"%s\" at offset %zu, wanted \"%s\" at %zu\n",
			spec, ret, err.msg, err.offset, want, offset);
	assert_int_equal(ret, -EINVAL);
	assert_null(d.target);
	assert_int_equal(err.offset, offset);
	assert_non_null(strstr(err.msg, want));
	for (const char *p = err.msg; *p; p++)
		assert_true(*p >= 0x20 && *p < 0x7f);
}

static void spec_fails(const char *spec, size_t offset, const char *want)
{
	spec_fails_base(spec, "/cfg", offset, want);
}

/* The equivalent spellings of xl-disk-configuration(5)'s first example. */
static void test_xl_forms(void **state)
{
	static const char *const same[] = {
		"/dev/vg/guest-volume,,hda",
		"/dev/vg/guest-volume,raw,hda,rw",
		"format=raw, vdev=hda, access=rw, target=/dev/vg/guest-volume",
		"raw:/dev/vg/guest-volume,hda,w",
		"phy:/dev/vg/guest-volume,hda,w",
		"/dev/vg/guest-volume,,hda,,",
		"vdev=hda,/dev/vg/guest-volume",
		",,hda,target=/dev/vg/guest-volume",
		"  /dev/vg/guest-volume,\traw, hda , rw",
	};
	const struct want w = RW_RAW("/dev/vg/guest-volume", "hda", 0);

	(void)state;
	for (size_t i = 0; i < sizeof(same) / sizeof(*same) - 1; i++)
		spec_is(same[i], &w);
	/* Blanks go before a parameter only: "hda " is not a vdev. */
	spec_fails(same[sizeof(same) / sizeof(*same) - 1], 29,
		   "vdev \"hda \": expected xvdX");
}

static void test_positional(void **state)
{
	const struct want ro_qcow = { "/cfg/images/a.img",
				      DISK_FORMAT_QCOW2,
				      "xvdb",
				      1,
				      true,
				      DISK_BACKEND_BULKHEAD_BLK,
				      true };
	const struct want after_named = { "/x",	  DISK_FORMAT_QCOW2,
					  "xvdc", 2,
					  true,	  DISK_BACKEND_BULKHEAD_BLK,
					  true };

	(void)state;
	spec_is("images/a.img,qcow2,xvdb,ro", &ro_qcow);
	spec_is("./images/a.img,qcow2,xvdb,r", &ro_qcow);
	/* Trailing ones are optional: format raw, access rw. */
	spec_is("/x,,xvda", &(struct want)RW_RAW("/x", "xvda", 0));
	spec_is("/x,raw,xvda", &(struct want)RW_RAW("/x", "xvda", 0));
	spec_is("/x,,xvda,w", &(struct want)RW_RAW("/x", "xvda", 0));
	/* A named parameter takes its place in the positional order. */
	spec_is("format=qcow2,/x,xvdc,ro", &after_named);
	spec_is("access=ro,/x,qcow2,xvdc", &after_named);
	spec_is("/x,vdev=xvdc,qcow2,ro", &after_named);
	/* A target that looks like a word and a colon, then a letter. */
	spec_is("c:abc,,xvda", &(struct want)RW_RAW("/cfg/c:abc", "xvda", 0));
	/* Blanks after a value are part of it, as in xl. */
	spec_is("/x ,,xvda", &(struct want)RW_RAW("/x ", "xvda", 0));
}

static void test_target_key(void **state)
{
	(void)state;
	/* target= takes the rest, commas included; one trailing comma goes. */
	spec_is("vdev=xvda,target=/srv/a,b,raw",
		&(struct want)RW_RAW("/srv/a,b,raw", "xvda", 0));
	spec_is("vdev=xvda,target=/srv/x,",
		&(struct want)RW_RAW("/srv/x", "xvda", 0));
	spec_is("vdev=xvda,target=/srv/x y ",
		&(struct want)RW_RAW("/srv/x y ", "xvda", 0));
	spec_is("vdev=xvda,target=rel=1:2",
		&(struct want)RW_RAW("/cfg/rel=1:2", "xvda", 0));
	/* An empty target given positionally may be named later. */
	spec_is(",,xvda,target=/x", &(struct want)RW_RAW("/x", "xvda", 0));
	spec_fails("/y,,xvda,target=/x", 16,
		   "target given twice (first at character 1)");
	spec_fails("xvda,target=/x", 12, "target given twice");
}

static void test_flags_and_keys(void **state)
{
	const struct want no_discard = { "/x",	 DISK_FORMAT_RAW,
					 "xvda", 0,
					 false,	 DISK_BACKEND_BULKHEAD_BLK,
					 false };
	const struct want vhost = { "/cfg/qsd/vm1.sock",
				    DISK_FORMAT_RAW,
				    "xvdb",
				    1,
				    true,
				    DISK_BACKEND_VHOST_USER,
				    true };

	(void)state;
	spec_is("/x,,xvda,no-discard", &no_discard);
	spec_is("no-discard,/x,,xvda,no-discard", &no_discard);
	spec_is("discard,/x,,xvda", &(struct want)RW_RAW("/x", "xvda", 0));
	spec_is("/x,,xvda,direct-io-safe,devtype=disk,specification=virtio",
		&(struct want)RW_RAW("/x", "xvda", 0));
	/* direct-io-safe asks for O_DIRECT; nothing else does. */
	{
		struct disk_spec d;
		struct disk_spec_error err;

		assert_int_equal(disk_spec_parse("/x,,xvda,direct-io-safe", 23,
						 "/cfg", &d, &err),
				 0);
		assert_true(d.direct);
		disk_spec_release(&d);
		assert_int_equal(
			disk_spec_parse("/x,,xvda", 8, "/cfg", &d, &err), 0);
		assert_false(d.direct);
		disk_spec_release(&d);
	}
	for (int i = 0; i < 3; i++) {
		static const char *const own[] = { "phy", "qdisk", "tap" };
		char spec[64];

		snprintf(spec, sizeof(spec), "backendtype=%s,/x,,xvda", own[i]);
		spec_is(spec, &(struct want)RW_RAW("/x", "xvda", 0));
	}
	spec_is("qsd/vm1.sock,,xvdb,ro,backendtype=vhost-user", &vhost);
	spec_is("backendtype=vhost-user,format=raw,vdev=xvdb,access=r,target=qsd/vm1.sock",
		&vhost);
}

static void test_deprecated_prefixes(void **state)
{
	const struct want qcow_ro = { "/img", DISK_FORMAT_QCOW2,
				      "xvda", 0,
				      true,   DISK_BACKEND_BULKHEAD_BLK,
				      true };

	(void)state;
	/* After a prefix the positional order is target, vdev, access. */
	spec_is("file:/img,xvda,w", &(struct want)RW_RAW("/img", "xvda", 0));
	spec_is("tap:aio:/img,xvda:disk,w",
		&(struct want)RW_RAW("/img", "xvda", 0));
	spec_is("tap2:tapdisk:ioemu:/img,xvda,w",
		&(struct want)RW_RAW("/img", "xvda", 0));
	spec_is("tap:qcow2:/img,xvda,r", &qcow_ro);
	spec_is("qcow2:/img,xvda,ro", &qcow_ro);
	spec_is("phy:img,xvda", &(struct want)RW_RAW("/cfg/img", "xvda", 0));
	spec_fails("vhd:/img,xvda,w", 0,
		   "format: \"vhd\" is an xl format Bulkhead does not support");
	spec_fails("qcow:/img,xvda,w", 0, "\"qcow\" is an xl format");
	spec_fails(
		"nbd:host:1234,xvda,w", 0,
		"\"nbd:\" (a script prefix): an xl disk key Bulkhead does not support");
	spec_fails("iscsi:iqn.x,xvda", 0, "\"iscsi:\" (a script prefix)");
	spec_fails(
		"data:/img,xvda", 0,
		"unknown deprecated disk prefix \"data:\": write a target containing ':' as target=PATH, last");
	spec_fails("/x,,xvda:", 4, "unknown deprecated disk prefix \"xvda:\"");
	spec_fails("phy:/x,raw,xvda", 7, "vdev \"raw\": expected xvdX");
	spec_fails("raw:/x,raw:/y,xvda", 7, "format given twice");
}

static void test_vdev_numbering(void **state)
{
	static const struct {
		const char *vdev;
		uint32_t index;
	} good[] = {
		{ "xvda", 0 },	  { "xvdb", 1 },
		{ "xvdz", 25 },	  { "xvdaa", 26 },
		{ "xvdaz", 51 },  { "xvdba", 52 },
		{ "xvdtq", 536 }, { "hda", 0 },
		{ "hdd", 3 },	  { "sda", 0 },
		{ "sdp", 15 },	  { "d0p0", 0 },
		{ "d12p0", 12 },  { "d1048575p0", DISK_INDEX_MAX },
	};
	static const struct {
		const char *vdev;
		const char *problem;
	} bad[] = {
		{ "xvda1", "names a partition" },
		{ "xvdb15", "names a partition" },
		{ "sda0", "names a partition" },
		{ "hde", "hd disks go from hda to hdd" },
		{ "sdq", "sd disks go from sda to sdp" },
		{ "xvdbmbzz", "beyond xl's last xvd disk" },
		{ "xvd", "expected xvdX" },
		{ "xvdA", "expected xvdX" },
		{ "xvda-", "expected xvdX" },
		{ "vda", "expected xvdX" },
		{ "51712", "a raw xenstore device number" },
		{ "0x100", "a raw xenstore device number" },
		{ "d1p1", "names a partition" },
		{ "d01p0", "without leading zeros" },
		{ "d1048576p0", "from 0 to 1048575" },
		{ "d1", "expected dNp0" },
		{ "d1p", "expected dNp0" },
		{ "d1p00", "expected dNp0" },
		{ "d1p256", "expected dNp0" },
		{ "d1p0x", "expected dNp0" },
		{ "xvdaaaaaaaaaaaaa", "at most 15 characters" },
	};
	uint32_t index;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++) {
		const char *problem = disk_vdev_index(
			good[i].vdev, strlen(good[i].vdev), &index);

		if (problem)
			print_error("%s: %s\n", good[i].vdev, problem);
		assert_null(problem);
		assert_int_equal(index, good[i].index);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		const char *problem = disk_vdev_index(
			bad[i].vdev, strlen(bad[i].vdev), &index);

		if (!problem || !strstr(problem, bad[i].problem))
			print_error("%s: got %s\n", bad[i].vdev,
				    problem ? problem : "no problem");
		assert_non_null(problem);
		assert_non_null(strstr(problem, bad[i].problem));
	}
	assert_non_null(disk_vdev_index("", 0, &index));
	/* Only len bytes count. */
	assert_null(disk_vdev_index("xvdb1", 4, &index));
	assert_int_equal(index, 1);
	spec_fails(
		"/x,,xvda1", 4,
		"vdev \"xvda1\": names a partition; a Bulkhead disk is a whole disk, such as xvda");
}

static void test_unsupported(void **state)
{
	static const struct {
		const char *spec;
		size_t offset;
		const char *want;
	} cases[] = {
		{ "/x,,xvda,,cdrom", 10,
		  "cdrom: an xl disk key Bulkhead does not support (CD-ROM drives are not emulated)" },
		{ "/x,,xvda,devtype=cdrom", 9,
		  "devtype=cdrom: an xl disk key Bulkhead does not support" },
		{ "/x,,hdc:cdrom", 8, "cdrom: an xl disk key" },
		{ ",hdc:cdrom,r", 5, "cdrom: an xl disk key" },
		{ "script=block-iscsi,/x,,xvda", 0,
		  "script: an xl disk key Bulkhead does not support" },
		{ "/x,,xvda,backend=driverdom", 9,
		  "backend: an xl disk key Bulkhead does not support" },
		{ "/x,,xvda,colo", 9, "colo: an xl disk key" },
		{ "/x,,xvda,no-colo", 9, "no-colo: an xl disk key" },
		{ "/x,,xvda,colo-host=h", 9, "colo-host: an xl disk key" },
		{ "/x,,xvda,colo-port=9", 9, "colo-port: an xl disk key" },
		{ "/x,,xvda,colo-export=e", 9, "colo-export: an xl disk key" },
		{ "/x,,xvda,active-disk=a", 9, "active-disk: an xl disk key" },
		{ "/x,,xvda,hidden-disk=h", 9, "hidden-disk: an xl disk key" },
		{ "/x,,xvda,trusted", 9, "trusted: an xl disk key" },
		{ "/x,,xvda,untrusted", 9, "untrusted: an xl disk key" },
		{ "/x,,xvda,grant_usage=1", 9, "grant_usage: an xl disk key" },
		{ "/x,qed,xvda", 3,
		  "format: \"qed\" is an xl format Bulkhead does not support; use raw or qcow2" },
		{ "/x,empty,xvda", 3, "\"empty\" is an xl format" },
		{ "/x,,xvda,backendtype=standalone", 21,
		  "backendtype: \"standalone\" is an xl value Bulkhead does not support; for an external vhost-user-blk backend write backendtype=vhost-user" },
		{ "/x,,xvda,specification=xen", 23,
		  "specification: Bulkhead disks are virtio-blk, not Xen PV block devices" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++)
		spec_fails(cases[i].spec, cases[i].offset, cases[i].want);
}

static void test_errors(void **state)
{
	char long_spec[4200], *p;

	(void)state;
	spec_fails(
		"/x,raw,xvdq,rw,bogus", 15,
		"unknown disk key \"bogus\" (target, format, vdev and access are all given)");
	spec_fails(
		"/x,raw,xvda,rw,/y", 15,
		"too many positional parameters: target, format, vdev and access are all given");
	spec_fails("bogus=1,/x,,xvda", 0, "unknown disk key \"bogus\"");
	spec_fails("/x,,xvda,Format=raw", 9, "'=' in a positional parameter");
	spec_fails(
		"/a=b,,xvda", 0,
		"'=' in a positional parameter: write a target containing '=' as target=PATH, last");
	spec_fails("/x,vmdk,xvda", 3,
		   "format: unknown format \"vmdk\": expected raw or qcow2");
	spec_fails("/x,RAW,xvda", 3, "unknown format \"RAW\"");
	spec_fails("/x,raw,xvda,rx", 12,
		   "access: unknown access \"rx\": expected ro, r, rw or w");
	/* An empty value is the default. */
	spec_is("/x,,xvda,access=", &(struct want)RW_RAW("/x", "xvda", 0));
	spec_fails(
		"/x,,hdc:tape", 8,
		"unknown device type \"tape\" after the vdev: expected disk");
	spec_fails("/x,,xvda,devtype=floppy", 17,
		   "devtype: unknown device type \"floppy\": expected disk");
	spec_fails("/x,,xvda,specification=scsi", 23,
		   "specification: unknown value \"scsi\": expected virtio");
	spec_fails(
		"/x,,xvda,backendtype=nvme", 21,
		"backendtype: unknown backend type \"nvme\": expected phy, qdisk, tap or vhost-user");
	spec_fails("backendtype=phy,/x,,xvda,backendtype=phy", 37,
		   "backendtype given twice (first at character 13)");
	spec_fails("/x,,xvda,vdev=xvdb", 14,
		   "vdev given twice (first at character 5)");
	spec_fails("/x,raw,xvda,format=qcow2", 19,
		   "format given twice (first at character 4)");
	spec_fails("/x,,xvda,ro,access=rw", 19,
		   "access given twice (first at character 10)");
	spec_fails("/x,,xvda,discard,no-discard", 17,
		   "no-discard contradicts the discard at character 10");
	spec_fails("no-discard,/x,,xvda,discard", 20,
		   "discard contradicts the no-discard at character 1");

	/* What must be there. */
	spec_fails(
		"", 0,
		"target missing: name the disk's image, device or socket first, or as target=PATH last");
	spec_fails("   ", 3, "target missing");
	spec_fails(",,xvda", 0, "target missing");
	spec_fails("vdev=xvda,target=", 17, "target missing");
	spec_fails(
		"/x", 2,
		"vdev missing: name the disk as xl names it for the guest, such as xvda");
	spec_fails("/x,raw", 6, "vdev missing");
	spec_fails("/x,,,rw", 4, "vdev missing");

	/* vhost-user: a raw disk behind a unix socket. */
	spec_fails(
		"/s,qcow2,xvda,backendtype=vhost-user", 3,
		"format: a vhost-user backend serves a raw disk: leave format out or write raw");
	p = long_spec +
	    sprintf(long_spec, "backendtype=vhost-user,vdev=xvda,target=/");
	memset(p, 's', DISK_SOCKET_PATH_MAX - 1);
	p[DISK_SOCKET_PATH_MAX - 1] = '\0';
	spec_is(long_spec + 0,
		&(struct want){ long_spec + 40, DISK_FORMAT_RAW, "xvda", 0,
				false, DISK_BACKEND_VHOST_USER, true });
	strcat(long_spec, "s");
	spec_fails(
		long_spec, 40,
		"target: a vhost-user socket path is at most 107 bytes once resolved, got 108");

	/* Paths as kernel = ... resolves them. */
	spec_fails_base(
		"rel.img,,xvda", NULL, 0,
		"target: expected an absolute path (relative paths need a file to be relative to)");
	{
		struct disk_spec d;
		struct disk_spec_error err;

		assert_int_equal(disk_spec_parse("/abs.img,,xvda", 14, NULL, &d,
						 &err),
				 0);
		assert_string_equal(d.target, "/abs.img");
		disk_spec_release(&d);
	}
	p = long_spec + sprintf(long_spec, "vdev=xvda,target=/");
	memset(p, 'x', VMCFG_PATH_MAX - 1);
	p[VMCFG_PATH_MAX - 1] = '\0';
	spec_is(long_spec, &(struct want)RW_RAW(long_spec + 17, "xvda", 0));
	strcat(long_spec, "x");
	spec_fails(
		long_spec, 17,
		"target: expected a path of at most 4095 bytes once resolved against the file's directory");
}

/* disk = [ ... ] in a definition. */
/* Bulkhead's keys: snapshot modes, measure, verify, verity. */
static void test_bulkhead_keys(void **state)
{
	static const char digest[] =
		"00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF";
	struct disk_spec d;
	struct disk_spec_error err;
	char spec[256];

	(void)state;
	snprintf(
		spec, sizeof(spec),
		"/b.img,raw,xvda,rw,snapshot=temporary-encrypted,measure=on,verify=sha256:%s",
		digest);
	assert_int_equal(disk_spec_parse(spec, strlen(spec), "/cfg", &d, &err),
			 0);
	assert_int_equal(d.snapshot, DISK_SNAPSHOT_TEMPORARY_ENCRYPTED);
	assert_true(d.measure);
	assert_true(d.verify);
	assert_int_equal(d.verify_sha256[0], 0x00);
	assert_int_equal(d.verify_sha256[31], 0xff);
	assert_false(d.verity);
	assert_null(d.verity_hash);
	disk_spec_release(&d);

	snprintf(spec, sizeof(spec), "base.img,raw,xvdb,ro,verity=%s", digest);
	assert_int_equal(disk_spec_parse(spec, strlen(spec), "/cfg", &d, &err),
			 0);
	assert_true(d.verity);
	assert_int_equal(d.verity_root[1], 0x11);
	assert_string_equal(d.verity_hash, "/cfg/base.img.verity");
	assert_string_equal(disk_snapshot_name(d.snapshot), "persistent");
	disk_spec_release(&d);
	assert_null(d.verity_hash);

	snprintf(
		spec, sizeof(spec),
		"base.img,raw,xvdb,snapshot=temporary,verity=%s,verity-hash=t/h",
		digest);
	assert_int_equal(disk_spec_parse(spec, strlen(spec), "/cfg", &d, &err),
			 0);
	assert_string_equal(d.verity_hash, "/cfg/t/h");
	assert_int_equal(d.snapshot, DISK_SNAPSHOT_TEMPORARY);
	disk_spec_release(&d);

	spec_fails("/a,raw,xvda,snapshot=volatile", 21,
		   "snapshot: unknown mode \"volatile\"");
	spec_fails("/a,raw,xvda,snapshot=temporary,snapshot=temporary", 31,
		   "snapshot given twice (first at character 13)");
	spec_fails("/a,raw,xvda,ro,snapshot=temporary", 15,
		   "a read-only disk has no writes to discard");
	spec_fails("/a,raw,xvda,measure=yes", 20,
		   "measure: expected on or off");
	spec_fails("/a,raw,xvda,verify=abc", 19,
		   "verify: expected a SHA-256 digest, 64 hex digits, got 3");
	spec_fails(
		"/a,raw,xvda,verify=sha256:"
		"zz112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
		26, "verify: not a hexadecimal digest");
	snprintf(spec, sizeof(spec), "/a,raw,xvda,verity=%s", digest);
	spec_fails(spec, 12, "a verity-protected image is never written");
	spec_fails("/a,raw,xvda,ro,verity-hash=/h", 27,
		   "verity-hash: needs verity=ROOT_HASH too");
	spec_fails("/s,raw,xvda,backendtype=vhost-user,snapshot=temporary", 35,
		   "snapshot: only bulkhead-blk does this");
}

static void test_disk_list(void **state)
{
	char text[2400], *p;
	struct vmcfg *cfg;

	(void)state;
	/* Kept sorted by disk number, each knowing where it was written. */
	cfg = parse_with("disk = [ 'c.img,,xvdc', '/dev/vg/a,raw,hda,ro',\n"
			 "         'b.qcow2,qcow2,xvdb' ]\n");
	assert_int_equal(cfg->ndisks, 3);
	assert_string_equal(cfg->disks[0].vdev, "hda");
	assert_string_equal(cfg->disks[0].target, "/dev/vg/a");
	assert_true(cfg->disks[0].readonly);
	assert_int_equal(cfg->disks[0].element, 1);
	assert_int_equal(cfg->disks[0].line, 4);
	assert_int_equal(cfg->disks[0].column, 25);
	assert_string_equal(cfg->disks[1].vdev, "xvdb");
	assert_string_equal(cfg->disks[1].target, "/cfg/b.qcow2");
	assert_int_equal(cfg->disks[1].format, DISK_FORMAT_QCOW2);
	assert_int_equal(cfg->disks[1].element, 2);
	assert_int_equal(cfg->disks[1].line, 5);
	assert_int_equal(cfg->disks[1].column, 10);
	assert_string_equal(cfg->disks[2].vdev, "xvdc");
	assert_string_equal(cfg->disks[2].target, "/cfg/c.img");
	assert_int_equal(cfg->disks[2].element, 0);
	assert_int_equal(cfg->nwarnings, 0);
	vmcfg_free(cfg);
	cfg = parse_with("disk = []\n");
	assert_int_equal(cfg->ndisks, 0);
	vmcfg_free(cfg);
	/* A read-only disk may be given twice. */
	cfg = parse_with("disk = [ '/iso,,xvda,ro', '/iso,,xvdb,ro' ]\n");
	assert_int_equal(cfg->ndisks, 2);
	vmcfg_free(cfg);

	/* Errors point at the element, and into it. */
	parse_with_fails(
		"disk = [ '/a,,xvda',\n  '/x,raw,xvdq,rw,bogus' ]\n", 5, 3,
		"web.cfg:5:3: disk[1]: \"/x,raw,xvdq,rw,bogus\": unknown disk key \"bogus\" (target, format, vdev and access are all given) (at character 16 of the spec)");
	parse_with_fails(
		"disk = [ '/caf\xc3\xa9,raw,xvda,rx' ]\n", 4, 10,
		"disk[0]: \"/caf\\xc3\\xa9,raw,xvda,rx\": access: unknown access \"rx\": expected ro, r, rw or w (at character 16 of the spec)");
	parse_with_fails("disk = [ '' ]\n", 4, 10,
			 "disk[0]: \"\": target missing");
	parse_with_fails(
		"disk = [ '/a,,xvda', '/b,,hda' ]\n", 4, 22,
		"web.cfg:4:22: disk[1]: vdev \"hda\" is the same disk as \"xvda\" of disk[0] (line 4): both are disk 0");
	parse_with_fails("disk = [ '/a,,xvdb',\n '/b,,d1p0' ]\n", 5, 2,
			 "disk[1]: vdev \"d1p0\" is the same disk as \"xvdb\"");
	parse_with_fails(
		"disk = [ '/a,,xvda,ro', '/a,,xvdb' ]\n", 4, 25,
		"disk[1]: target \"/a\" is also the target of disk[0] (line 4); only a read-only disk may be given twice");
	parse_with_fails("disk = [ 'a,,xvda', '/cfg/a,,xvdb,ro' ]\n", 4, 21,
			 "target \"/cfg/a\" is also the target of disk[0]");
	parse_with_fails(
		"disk = 'a,,xvda'\n", 4, 8,
		"disk: expected a list of quoted disk specs [ \"/path/disk.img,raw,xvda,rw\", ... ], got \"a,,xvda\"");
	parse_with_fails(
		"disk = [ '/a,,xvda', xvdb ]\n", 4, 22,
		"disk: expected a quoted string as each list element, got xvdb");

	/* At most 16 disks. */
	p = text + sprintf(text, "disk = [");
	for (int i = 0; i < 16; i++)
		p += sprintf(p, "'/d%c,,xvd%c',", 'a' + i, 'a' + i);
	strcpy(p, "]\n");
	cfg = parse_with(text);
	assert_int_equal(cfg->ndisks, VMCFG_DISKS_MAX);
	assert_string_equal(cfg->disks[15].vdev, "xvdp");
	vmcfg_free(cfg);
	strcpy(p, "'/dq,,xvdq']\n");
	parse_with_fails(text, 4, 9 + 16 * 12,
			 "web.cfg:4:201: disk: at most 16 disks, got 17");

	/* One spec is at most 1024 bytes. */
	p = text + sprintf(text, "disk = [ 'vdev=xvda,target=/");
	memset(p, 't', VMCFG_SPEC_MAX - 18);
	strcpy(p + VMCFG_SPEC_MAX - 18, "' ]\n");
	cfg = parse_with(text);
	assert_int_equal(strlen(cfg->disks[0].target), VMCFG_SPEC_MAX - 17);
	vmcfg_free(cfg);
	strcpy(p + VMCFG_SPEC_MAX - 18, "t' ]\n");
	parse_with_fails(
		text, 4, 10,
		"disk: expected a disk spec of at most 1024 bytes, got \"vdev=xvda");
}

/* Without a base directory, a relative target is refused like a kernel. */
static void test_disk_list_without_base(void **state)
{
	static const char text[] = "name = 'a'\nmemory = 64\nkernel = '/k'\n"
				   "disk = [ '/abs,,xvda', 'rel,,xvdb' ]\n";
	struct cfg_error err;
	struct vmcfg *cfg;

	(void)state;
	assert_int_equal(vmcfg_parse_buffer(text, strlen(text), "b.cfg", NULL,
					    &cfg, &err),
			 -EINVAL);
	assert_null(cfg);
	assert_int_equal(err.line, 4);
	assert_int_equal(err.column, 24);
	assert_string_equal(
		err.msg,
		"disk[1]: \"rel,,xvdb\": target: expected an absolute path (relative paths need a file to be relative to) (at character 1 of the spec)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xl_forms),
		cmocka_unit_test(test_positional),
		cmocka_unit_test(test_target_key),
		cmocka_unit_test(test_flags_and_keys),
		cmocka_unit_test(test_deprecated_prefixes),
		cmocka_unit_test(test_vdev_numbering),
		cmocka_unit_test(test_unsupported),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_bulkhead_keys),
		cmocka_unit_test(test_disk_list),
		cmocka_unit_test(test_disk_list_without_base),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
