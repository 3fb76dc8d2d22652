#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# /init of a Bulkhead guest initramfs (installed by guest/image/mkinitramfs).
#
# Mounts the kernel filesystems, loads the modules listed in
# /etc/bulkhead/modules (in order), runs what was asked for, prints
# "bulkhead-init: exit N" and powers the machine off. What runs, first match:
#   bulkhead.shell            on the kernel command line: interactive shell
#   bulkhead.script=BASE64    on the kernel command line: a /bin/sh script
#                             (or its gzip, told by the magic number)
#   -- CMD ARGS...            on the kernel command line: that command
#   /etc/bulkhead/run         baked in with mkinitramfs --run
#   otherwise                 interactive shell on the console
# PID 1 stays this shell: "poweroff", "reboot" and "halt" from busybox signal
# it (USR2, TERM, USR1) and it acts on them while it waits for the command.
# Ctrl-Alt-Del (how the host asks for a clean shutdown) reaches it as INT
# and powers off.

export PATH=/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts -o gid=5,mode=620 devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t tmpfs -o mode=755 tmpfs /run
exec </dev/console >/dev/console 2>&1

say() {
	echo "bulkhead-init: $*"
}

power_off() {
	sync
	poweroff -f
	# Only reached if the power-off request itself failed.
	say "poweroff failed, rebooting"
	reboot -f
	while :; do sleep 3600; done
}

reboot_now() {
	sync
	say "reboot requested"
	reboot -f
	power_off
}

trap 'say "poweroff requested"; power_off' USR2 USR1
trap 'reboot_now' TERM
trap 'say "shutdown requested (Ctrl-Alt-Del)"; power_off' INT
# Without this the kernel reboots at once on Ctrl-Alt-Del.
echo 0 >/proc/sys/kernel/ctrl-alt-del

read -r cmdline </proc/cmdline
release=$(uname -r)

# Parameters "name.param=value" for a module on the kernel command line are
# passed to insmod, as modprobe would do.
module_params() {
	for word in $cmdline; do
		case "$word" in
		"$1".*=*) printf '%s ' "${word#"$1".}" ;;
		esac
	done
}

if [ -s /etc/bulkhead/modules ]; then
	while read -r name path; do
		# shellcheck disable=SC2046
		insmod "/lib/modules/$release/$path" $(module_params "$name") ||
			say "insmod $name failed"
	done </etc/bulkhead/modules
fi

hostname bulkhead-guest
ip link set lo up 2>/dev/null

shell=0
script=
dashes=0
for word in $cmdline; do
	case "$word" in
	bulkhead.shell) shell=1 ;;
	bulkhead.script=*) script=${word#bulkhead.script=} ;;
	--) dashes=1 ;;
	esac
done

if [ "$shell" = 1 ]; then
	mode=shell
elif [ -n "$script" ]; then
	if ! echo "$script" | base64 -d >/run/bulkhead-script; then
		say "bulkhead.script is not valid base64"
		say "exit 125"
		power_off
	fi
	# gzip'd (its magic first): scripts longer than a command line holds.
	if [ "$(head -c 2 /run/bulkhead-script | od -An -tx1 | tr -d ' ')" = 1f8b ]; then
		if ! gunzip -c /run/bulkhead-script >/run/bulkhead-script.sh; then
			say "bulkhead.script is not valid gzip"
			say "exit 125"
			power_off
		fi
		mv /run/bulkhead-script.sh /run/bulkhead-script
	fi
	mode=script
	set -- /bin/sh /run/bulkhead-script
elif [ "$dashes" = 1 ] && [ $# -gt 0 ]; then
	mode=argv
elif [ -f /etc/bulkhead/run ]; then
	mode=run
	set -- /bin/sh /etc/bulkhead/run
else
	mode=shell
fi

say "start $mode"
if [ "$mode" = shell ]; then
	# A session with the console as controlling tty, so job control and ^C
	# work.
	setsid cttyhack sh -l &
else
	"$@" </dev/console &
fi
child=$!
# wait returns early (> 128) when a trapped signal arrives; the trap then
# powers off. Otherwise it returns the command's status.
wait "$child"
status=$?
say "exit $status"
power_off
