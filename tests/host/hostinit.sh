#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Runs inside the test host (baked into its initramfs as /etc/bulkhead/run by
# tests/host/run). The guest init has mounted proc/sys/dev and loaded
# virtio-pci, 9p and kvm-amd. This script makes the machine's root the root
# of the command (read-only, over virtio-9p), with tmpfs scratch, runs the job
# that tests/host/run wrote, and records its status in the job share.
#
# Job share (9p tag "bhjob", read-write): host.conf (sourced), rw and trees
# ("TAG PATH" lines: read-write shares; trees the tmpfs hides, shared
# read-only), job.sh; written back: stdout, stderr, started, status, and
# heartbeat (touched every 5 s while the command runs).

say() {
	echo "bulkhead-testhost: $*"
}

p9() {
	# $1 tag, $2 mount point, $3 extra options
	mount -t 9p -o "trans=virtio,version=9p2000.L,msize=512000,$3" "$1" "$2"
}

hostname bulkhead-testhost
mkdir -p /job
p9 bhjob /job cache=none || {
	say "cannot mount the job share"
	exit 125
}
# shellcheck source=/dev/null
. /job/host.conf

r=/newroot
p9 hostroot $r "ro,cache=$ROOT_CACHE" || {
	say "cannot mount the host root"
	exit 125
}
mount -t proc proc $r/proc &&
	mount -t sysfs sysfs $r/sys &&
	mount --rbind /dev $r/dev || {
	say "cannot mount proc, sys or dev in the host root"
	exit 125
}
for d in $TMPFS_DIRS; do
	mount -t tmpfs -o mode=1777 tmpfs "$r$d" || {
		say "cannot mount a tmpfs on $d"
		exit 125
	}
done
mkdir -p $r/run/lock $r/run/user

# The test host kernel's modules, for modprobe: always reachable with
# modprobe -d $KROOT; also at /lib/modules/RELEASE where the host has a
# /lib/modules to mount over (the host's own modules are for another kernel).
if [ -d $r/lib/modules ]; then
	mount -t tmpfs -o mode=755 tmpfs $r/lib/modules &&
		mkdir -p "$r/lib/modules/$RELEASE" &&
		mount --bind "$r$MODULES_DIR" "$r/lib/modules/$RELEASE" ||
		say "cannot expose the kernel modules under /lib/modules"
fi
for m in $LOAD_MODULES; do
	chroot $r /sbin/modprobe -d "$KROOT" "$m" || {
		say "modprobe $m failed"
		exit 125
	}
done

# Trees the tmpfs hid (a clone under /tmp), read-only at their own paths.
while read -r tag path; do
	[ -n "$tag" ] || continue
	mkdir -p "$r$path" && p9 "$tag" "$r$path" "ro,cache=$ROOT_CACHE" || {
		say "cannot mount the tree $path"
		exit 125
	}
done </job/trees

mkdir -p "$r$JOB_DIR" 2>/dev/null
mount --bind /job "$r$JOB_DIR" || {
	say "cannot mount the job directory at $JOB_DIR"
	exit 125
}
while read -r tag path; do
	[ -n "$tag" ] || continue
	mkdir -p "$r$path" 2>/dev/null
	p9 "$tag" "$r$path" cache=none || {
		say "cannot mount the read-write share $path"
		exit 125
	}
done </job/rw

# A heartbeat for tests/host/run: it stops only if this machine freezes.
(while :; do
	date +%s >/job/heartbeat
	sleep 5
done) &
heartbeat=$!
chroot $r /bin/sh "$JOB_DIR/job.sh" </dev/null >>/job/stdout 2>>/job/stderr
status=$?
kill $heartbeat
# A process a seccomp filter killed says nothing itself: the kernel's
# audit record (syscall=N) is the only trace, so pass it on.
dmesg | grep "audit: type=1326" | sed "s/^/bulkhead-testhost: seccomp kill: /" >>/job/stderr
echo "$status" >/job/status.tmp && mv /job/status.tmp /job/status
sync
exit "$status"
