# SPDX-License-Identifier: GPL-2.0-only
"""A Debian guest with disks, through the real CLI: one VM, defined in the
shape of Xen's tools/examples/xlexample.pvhlinux (type = "pvh", extra,
vif = [ '' ], single-quoted xl disk specs), with three disks: a writable
image and a read-only one served by bulkhead-blk, and one served by
qemu-storage-daemon (backendtype=vhost-user). Two boots check many things:

- boot 1: the guest sees /dev/vda, vdb, vdc with their sizes and the
  read-only flag; makes ext4 on vda, writes and hashes data; runs fio
  verify jobs on vda (through ext4, O_DIRECT, libaio) and on the raw vdc;
  fio itself comes from the read-only disk; writes to vdb fail; reboots;
- boot 2 (the toolstack restarts it): the data is still there; a file is
  written with fsync, then the guest keeps writing while the host kills
  bulkhead-blk with SIGKILL. The VM stops as a crash naming the disk, a
  VM beside it and the hypervisor are untouched, and the host finds the
  fsynced file in the image.

Needs a host where Linux guests boot (tests/host/run elsewhere)."""

import hashlib
import json
import os
import pathlib
import re
import signal
import subprocess
import tempfile
import time

import pytest

from guestdisk import (debugfs_cat, disk_initramfs, fetch_kernel, host_tool,
                       run_tool, tools_image, TOOLS_MOUNT)
from test_virtio_blk import QSD, StorageDaemon
from toolstack import Toolstack

pytestmark = pytest.mark.linux_guest

ROOT_MIB, QSD_MIB = 128, 32

SCRIPT = r"""
echo "disks: start"
for d in vda vdb vdc; do
  echo "$d size=$(cat /sys/block/$d/size) ro=$(cat /sys/block/$d/ro)"
done
mkdir -p TOOLS /mnt
mount -o ro /dev/vdb TOOLS && echo "tools=mounted"
FIO="RUN_FIO"
if mount -t ext4 /dev/vda /mnt 2>/dev/null && [ -f /mnt/marker ]; then
  echo "boot=2"
  cd /mnt && sha256sum -c data.sha >/dev/null && echo "persisted=ok"
  dd if=/dev/urandom of=/mnt/after bs=1M count=4 conv=fsync 2>/dev/null
  sha256sum /mnt/after | sed 's/^/aftersha=/'
  echo "disks: synced"
  while :; do
    dd if=/dev/urandom of=/mnt/spin bs=64k count=32 conv=fsync 2>/dev/null
  done
fi
echo "boot=1"
mkfs.ext4 -q -F /dev/vda && mount -t ext4 /dev/vda /mnt && echo "mkfs=ok"
dd if=/dev/urandom of=/mnt/data bs=1M count=8 2>/dev/null
(cd /mnt && sha256sum data > data.sha) && sed 's/^/sha=/' /mnt/data.sha
if $FIO --name=ext4 --filename=/mnt/fio.dat --size=8M --rw=randwrite \
    --bs=4k --iodepth=8 --ioengine=libaio --direct=1 --verify=crc32c \
    --verify_fatal=1 --output-format=terse >/tmp/fio1 2>&1
then echo "fio-ext4=ok"; else echo "fio-ext4=failed"; cat /tmp/fio1; fi
if $FIO --name=qsd --filename=/dev/vdc --size=8M --rw=write --bs=64k \
    --iodepth=4 --ioengine=libaio --direct=1 --verify=sha256 \
    --verify_fatal=1 --output-format=terse >/tmp/fio2 2>&1
then echo "fio-qsd=ok"; else echo "fio-qsd=failed"; cat /tmp/fio2; fi
if dd if=/dev/zero of=/dev/vdb bs=4096 count=1 conv=fsync 2>/dev/null
then echo "rowrite=succeeded"; else echo "rowrite=failed"; fi
echo marker > /mnt/marker && sync && umount /mnt && echo "umount=ok"
echo "disks: reboot"
reboot
"""

XL_CFG = """\
# A PVH guest, written the way Xen's xlexample.pvhlinux writes one.
type = "pvh"

# Guest name
name = "example.pvhlinux"

#uuid = "not used here"

kernel = "{kernel}"
ramdisk = "{initrd}"

extra = "console=ttyS0 quiet"

memory = 256

vcpus = 1

vif = [ '' ]

disk = [ '{root},raw,xvda,rw',
         'vdev=xvdb,access=ro,target={tools}',
         'backendtype=vhost-user,vdev=xvdc,target={qsd}' ]
"""


def test_debian_guest_disks(tmp_path):
    if not QSD:
        pytest.skip("qemu-storage-daemon is not installed")
    fio = host_tool("fio")
    if not fio:
        pytest.skip("fio is not installed (Debian package fio)")
    # Images and sockets on tmpfs: 9p shares take no sockets.
    scratch = tempfile.mkdtemp(prefix="bh-ld-", dir="/tmp")
    root = os.path.join(scratch, "root.img")
    with open(root, "wb") as f:
        f.truncate(ROOT_MIB << 20)
    qsd_img = os.path.join(scratch, "qsd.img")
    with open(qsd_img, "wb") as f:
        f.truncate(QSD_MIB << 20)
    tools = tools_image(tmp_path / "tools.img", [fio])
    script = SCRIPT.replace("TOOLS", TOOLS_MOUNT).replace(
        "RUN_FIO", run_tool("fio"))
    initrd = disk_initramfs(tmp_path / "disks.cpio.gz", script)
    qsd = StorageDaemon(qsd_img)
    # The daemon's sockets too: its state directory goes to tmpfs.
    ts = Toolstack(pathlib.Path(scratch))
    ts.start()
    try:
        cfg = tmp_path / "xlexample.cfg"
        cfg.write_text(XL_CFG.format(kernel=fetch_kernel("kernel"),
                                     initrd=initrd, root=root, tools=tools,
                                     qsd=qsd.socket))
        # xl's vif = [ '' ] is a vif on the default NDVM, which must run.
        ts.mini("ndvm", role="ndvm")
        ts.ok("start", "ndvm")
        r = ts.cli("create", cfg)
        assert r.returncode == 0, r.stderr
        assert "warning" not in r.stderr, r.stderr
        name = "example.pvhlinux"
        assert [(v["backend"], v["state"]) for v in json.loads(
            ts.ok("network-list", "--json", name))] == [("ndvm", "up")]
        ts.mini("bystander")
        ts.ok("start", "bystander")
        disks = json.loads(ts.ok("block-list", "--json", name))
        assert [(d["vdev"], d["access"], d["backend"]) for d in disks] == [
            ("xvda", "rw", "bulkhead-blk"), ("xvdb", "ro", "bulkhead-blk"),
            ("xvdc", "rw", "vhost-user")]

        # Boot 1, then the reboot the toolstack turns into a restart.
        out = ts.wait_log(name, "disks: reboot", timeout=900)

        def ctx():
            text = ts.console_log(name).read_text(errors="replace")
            logs = "\n".join(
                f"{p.name}:\n{p.read_text(errors='replace')[-1500:]}"
                for p in (ts.state / "logs").glob(f"{name}.*.log"))
            return f"console:\n{text[-4000:]}\n{logs}"
        size = {m[1]: (int(m[2]), m[3]) for m in
                re.finditer(r"(vd[abc]) size=(\d+) ro=(\d)", out)}
        assert size["vda"] == ((ROOT_MIB << 20) // 512, "0"), ctx()
        assert size["vdb"] == (os.path.getsize(tools) // 512, "1"), ctx()
        assert size["vdc"] == ((QSD_MIB << 20) // 512, "0"), ctx()
        for step in ("tools=mounted", "mkfs=ok", "fio-ext4=ok", "fio-qsd=ok",
                     "rowrite=failed", "umount=ok"):
            assert step in out, f"{step}\n{ctx()}"
        sha = re.search(r"^sha=([0-9a-f]{64})", out, re.M)[1]

        # Boot 2: persisted data, then a kill -9 after an fsync.
        out2 = ts.wait_log(name, "disks: synced", timeout=900,
                           after=len(out.encode()))
        assert "boot=2" in out2 and "persisted=ok" in out2, ctx()
        after_sha = re.search(r"^aftersha=([0-9a-f]{64})", out2, re.M)[1]
        assert ts.vm(name)["guest_reboots"] == 1
        disks = json.loads(ts.ok("block-list", "--json", name))
        pid = disks[0]["pid"]
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while ts.vm(name)["state"] != "stopped":
            assert time.monotonic() < deadline, ctx()
            time.sleep(0.1)
        vm = ts.vm(name)
        assert vm["stop_reason"] == "crash", vm
        assert vm["stop_detail"].startswith("xvda: device model:"), vm
        # Only that VM: the other one and the hypervisor carry on.
        assert ts.vm("bystander")["state"] == "running"
        assert "bystander" in ts.ok("list")
        # Nothing the guest had synced is lost.
        assert hashlib.sha256(debugfs_cat(root, "/after")).hexdigest() == \
            after_sha
        assert hashlib.sha256(debugfs_cat(root, "/data")).hexdigest() == sha
        # The read-only image is as it was made.
        fsck = subprocess.run([host_tool("e2fsck"), "-fn", str(tools)],
                              capture_output=True, text=True)
        assert fsck.returncode == 0, fsck.stdout
    finally:
        ts.stop()
        qsd.stop()
        subprocess.run(["rm", "-rf", scratch])
