// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzzes the xl disk specification parser. The first byte picks the base
 * directory (bit 0 set: none, so relative targets fail); the rest is one
 * spec, any bytes. Aborts when a parse returns anything but 0 or -EINVAL,
 * an error message is empty or not printable ASCII, an error offset lies
 * past the spec, or a parsed disk breaks its documented bounds: target
 * absolute and within VMCFG_PATH_MAX (a vhost-user socket within
 * sun_path, and raw), the vdev valid and naming the recorded index. A
 * parsed disk is then written back in canonical key=value form and must
 * parse to the same disk.
 */
#include "fuzz_input.h"
#include "toolstack/disk_spec.h"
#include "toolstack/vmcfg.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_disk(const struct disk_spec *d)
{
	size_t tlen = strlen(d->target);
	uint32_t index;

	check(d->target[0] == '/' && tlen <= VMCFG_PATH_MAX);
	check(d->format == DISK_FORMAT_RAW || d->format == DISK_FORMAT_QCOW2);
	check(d->backend == DISK_BACKEND_BULKHEAD_BLK ||
	      d->backend == DISK_BACKEND_VHOST_USER);
	if (d->backend == DISK_BACKEND_VHOST_USER)
		check(d->format == DISK_FORMAT_RAW &&
		      tlen <= DISK_SOCKET_PATH_MAX);
	check(d->vdev[0] && strlen(d->vdev) <= DISK_VDEV_MAX);
	check(!disk_vdev_index(d->vdev, strlen(d->vdev), &index) &&
	      index == d->index && index <= DISK_INDEX_MAX);
	check(d->element == 0 && d->line == 0 && d->column == 0);
}

/* The disk in key=value form; target= goes last and keeps its commas. */
static void check_roundtrip(const struct disk_spec *d)
{
	static char canon[VMCFG_PATH_MAX + 128];
	struct disk_spec again;
	struct disk_spec_error err;
	int n;

	n = snprintf(
		canon, sizeof(canon),
		"format=%s,vdev=%s,access=%s,%s,%sbackendtype=%s,target=%s,",
		disk_format_name(d->format), d->vdev, d->readonly ? "ro" : "rw",
		d->discard ? "discard" : "no-discard",
		d->direct ? "direct-io-safe," : "",
		d->backend == DISK_BACKEND_VHOST_USER ? "vhost-user" : "phy",
		d->target);
	check(n > 0 && (size_t)n < sizeof(canon));
	check(disk_spec_parse(canon, (size_t)n, NULL, &again, &err) == 0);
	check(!strcmp(again.target, d->target));
	check(!strcmp(again.vdev, d->vdev) && again.index == d->index);
	check(again.format == d->format && again.readonly == d->readonly);
	check(again.backend == d->backend && again.discard == d->discard);
	check(again.direct == d->direct);
	disk_spec_release(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rd in = { data, size };
	const char *base = u8(&in) & 1 ? NULL : "/fuzz/vms";
	const char *spec = (const char *)in.p;
	struct disk_spec d;
	struct disk_spec_error err;
	int ret;

	ret = disk_spec_parse(spec, in.n, base, &d, &err);
	if (ret) {
		check(ret == -EINVAL);
		check(d.target == NULL);
		check(err.msg[0] != '\0' && err.offset <= in.n);
		for (const char *p = err.msg; *p; p++)
			check(*p >= 0x20 && *p < 0x7f);
		return 0;
	}
	check_disk(&d);
	check_roundtrip(&d);
	disk_spec_release(&d);
	return 0;
}
