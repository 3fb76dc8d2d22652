# SPDX-License-Identifier: GPL-2.0-only
"""bulkhead-blk under a real front end: QEMU's vhost-user-blk-pci drives
it and the Debian guest kernel's virtio_blk uses it. One boot checks many
things: what the guest sees of both disks (size, serial, queues, limits,
read-only), an ext4 made, written, hashed and synced on the writable one
(mkfs discards, fstrim discards again), writes to the read-only one
failing. Afterwards the host reads the image itself (debugfs, e2fsck) and
compares; while the guest runs, the jail and the memory footprint of both
device models are looked at from outside.

Run it through the test host where KVM has no hardware support:
  tests/host/run --timeout 1200 --rw build/blk-results -- \\
      /usr/bin/python3 -m pytest -q -m linux_guest \\
      tests/integration/test_blk_qemu.py
"""

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time

import pytest

from blkctl import BLK, jail_ids, proc_status, rss_kib, sanitized
from conftest import BUILD_DIR, SOURCE_ROOT

pytestmark = pytest.mark.linux_guest

DISK_MIB = 64
RO_MIB = 4
SERIAL = "bh-disk-0001"

GUEST_SCRIPT = r"""
echo "blk: start"
for d in vda vdb; do
  echo "$d size=$(cat /sys/block/$d/size) ro=$(cat /sys/block/$d/ro)" \
       "serial=$(cat /sys/block/$d/serial 2>/dev/null)"
done
echo "queues=$(ls /sys/block/vda/mq | wc -l)"
q=/sys/block/vda/queue
echo "limits lbs=$(cat $q/logical_block_size) segs=$(cat $q/max_segments)" \
     "discard=$(cat $q/discard_max_bytes) wz=$(cat $q/write_zeroes_max_bytes)"
mkfs.ext4 -q -F /dev/vda && echo "mkfs=ok"
mount -t ext4 /dev/vda /mnt && echo "mount=ok"
dd if=/dev/urandom of=/mnt/data bs=1M count=8 2>/dev/null
sha256sum /mnt/data | sed 's/^/sha=/'
mkdir /mnt/dir && echo hello-bulkhead > /mnt/dir/hello.txt
sync && echo "sync=ok"
fstrim /mnt && echo "fstrim=ok"
umount /mnt && echo "umount=ok"
dd if=/dev/vdb bs=1M count=1 2>/dev/null | sha256sum | sed 's/^/rosha=/'
if dd if=/dev/zero of=/dev/vdb bs=4096 count=1 conv=fsync 2>/dev/null
then echo "rowrite=succeeded"; else echo "rowrite=failed"; fi
echo "getro=$(blockdev --getro /dev/vdb)"
echo "blk: done"
"""


def tool(name):
    for d in ("/usr/sbin", "/sbin", "/usr/bin", "/bin"):
        if os.path.exists(os.path.join(d, name)):
            return os.path.join(d, name)
    pytest.skip(f"{name} is not installed")


def fetch_kernel(what):
    r = subprocess.run(
        [str(SOURCE_ROOT / "guest" / "image" / "fetch-kernel"), "--offline",
         "--cache", str(BUILD_DIR / "guest-cache"), "--print", what],
        capture_output=True, text=True)
    if r.returncode != 0:
        pytest.fail("guest kernel missing: run `ninja -C build guest-assets`"
                    f" first ({r.stderr.strip()})")
    return r.stdout.strip()


def initramfs(workdir):
    """busybox, virtio_blk and ext4, mkfs.ext4, and the script baked in."""
    script = workdir / "guest.sh"
    script.write_text(GUEST_SCRIPT)
    out = workdir / "blk.cpio.gz"
    args = [str(SOURCE_ROOT / "guest" / "image" / "mkinitramfs"), "-q",
            "-o", str(out), "--modules-dir", fetch_kernel("modules"),
            "--run", str(script),
            "--binary", tool("mke2fs") + ":/sbin/mkfs.ext4"]
    for m in ("virtio_pci", "virtio_blk", "ext4", "crc32c_generic"):
        args += ["--module", m]
    r = subprocess.run(args, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return out


def start_blk(sock, image, log, extra=()):
    proc = subprocess.Popen([str(BLK), "--socket", sock, "--image", image,
                             *jail_ids(), *extra],
                            stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL,
                            stderr=open(log, "wb"))
    deadline = time.monotonic() + 10
    while not os.path.exists(sock):
        assert proc.poll() is None, open(log).read()
        assert time.monotonic() < deadline, "no socket"
        time.sleep(0.02)
    return proc


class Sampler(threading.Thread):
    """Peak RSS and one look at the jail of each running device model."""

    def __init__(self, procs):
        super().__init__(daemon=True)
        self.procs = procs
        self.peak = {p.pid: (0, 0, 0) for p in procs}
        self.status = {}
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            for p in self.procs:
                try:
                    r = rss_kib(p.pid)
                    if r[0] + r[1] > sum(self.peak[p.pid][:2]):
                        self.peak[p.pid] = r
                    if p.pid not in self.status:
                        st = proc_status(p.pid)
                        if st.get("Seccomp") == "2":
                            self.status[p.pid] = st
                except (OSError, KeyError, ValueError):
                    pass
            self.stop.wait(0.2)


def debugfs_cat(image, path):
    r = subprocess.run([tool("debugfs"), "-R", f"cat {path}", image],
                       capture_output=True)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_linux_guest_on_bulkhead_blk(tmp_path):
    qemu = shutil.which("qemu-system-x86_64")
    if not qemu:
        pytest.skip("qemu-system-x86_64 is not installed")
    # Sockets cannot live on 9p shares; the images go to tmpfs with them.
    scratch = tempfile.mkdtemp(prefix="bh-blk-", dir="/tmp")
    disk = os.path.join(scratch, "disk.img")
    rodisk = os.path.join(scratch, "ro.img")
    with open(disk, "wb") as f:
        f.truncate(DISK_MIB << 20)
    ro_data = bytes((i * 13 + 5) & 0xff for i in range(RO_MIB << 20))
    with open(rodisk, "wb") as f:
        f.write(ro_data)
    initrd = initramfs(tmp_path)
    kernel = fetch_kernel("vmlinux") or fetch_kernel("kernel")

    sock_a, sock_b = (os.path.join(scratch, n) for n in ("a.sock", "b.sock"))
    blk_a = start_blk(sock_a, disk, tmp_path / "blk-a.log",
                      ["--serial", SERIAL, "--queues", "2", "--name",
                       "guest:vda"])
    blk_b = start_blk(sock_b, rodisk, tmp_path / "blk-b.log",
                      ["--readonly", "--name", "guest:vdb"])
    console = tmp_path / "console.log"
    cmd = [qemu, "-enable-kvm", "-M", "q35", "-cpu", "host", "-m", "256M",
           "-smp", "1", "-nodefaults", "-no-reboot", "-display", "none",
           "-object", "memory-backend-memfd,id=mem,size=256M,share=on",
           "-numa", "node,memdev=mem",
           "-chardev", f"socket,id=c0,path={sock_a}",
           "-device", "vhost-user-blk-pci,chardev=c0,num-queues=2",
           "-chardev", f"socket,id=c1,path={sock_b}",
           "-device", "vhost-user-blk-pci,chardev=c1,num-queues=1",
           "-serial", f"file:{console}",
           "-kernel", kernel, "-initrd", str(initrd),
           "-append", "console=ttyS0 quiet panic=-1"]
    sampler = Sampler([blk_a, blk_b])
    sampler.start()
    vm = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    sampler.stop.set()
    sampler.join()
    out = console.read_text(errors="replace")
    logs = {n: (tmp_path / f"blk-{n}.log") for n in "ab"}

    def ctx():
        return (f"qemu rc={vm.returncode} {vm.stderr[-1500:]}\nconsole:\n"
                f"{out[-3000:]}\n" + "\n".join(
                    f"blk-{n}:\n{p.read_text()[-1500:]}"
                    for n, p in logs.items()))

    try:
        assert blk_a.wait(timeout=30) == 0, ctx()
        assert blk_b.wait(timeout=30) == 0, ctx()
    finally:
        for p in (blk_a, blk_b):
            if p.poll() is None:
                p.kill()
    assert "blk: done" in out, ctx()
    assert re.search(r"bulkhead-init: exit 0\r?$", out, re.M), ctx()

    # What the guest saw.
    m = re.search(r"vda size=(\d+) ro=(\d) serial=(\S*)", out)
    assert m and int(m[1]) == (DISK_MIB << 20) // 512, ctx()
    assert (m[2], m[3]) == ("0", SERIAL), ctx()
    m = re.search(r"vdb size=(\d+) ro=(\d)", out)
    assert m and int(m[1]) == (RO_MIB << 20) // 512 and m[2] == "1", ctx()
    # QEMU set up both vrings; virtio_blk uses one per vCPU, at most (a
    # 2-vCPU nested guest does not boot reliably in the test host).
    assert re.search(r"^queues=1\r?$", out, re.M), ctx()
    m = re.search(r"limits lbs=(\d+) segs=(\d+) discard=(\d+) wz=(\d+)", out)
    assert m and m[1] == "512" and m[2] == "254", ctx()
    assert int(m[3]) > 0 and int(m[4]) > 0, ctx()
    for step in ("mkfs=ok", "mount=ok", "sync=ok", "fstrim=ok", "umount=ok",
                 "rowrite=failed", "getro=1"):
        assert step in out, f"{step}\n{ctx()}"

    # The host reads the image itself.
    guest_sha = re.search(r"^sha=([0-9a-f]{64})", out, re.M)[1]
    data = debugfs_cat(disk, "/data")
    assert len(data) == 8 << 20
    assert hashlib.sha256(data).hexdigest() == guest_sha
    assert debugfs_cat(disk, "/dir/hello.txt") == b"hello-bulkhead\n"
    fsck = subprocess.run([tool("e2fsck"), "-fn", disk], capture_output=True,
                          text=True)
    assert fsck.returncode == 0, fsck.stdout + fsck.stderr
    # The read-only disk: the guest read it right, nothing changed it.
    ro_sha = re.search(r"^rosha=([0-9a-f]{64})", out, re.M)[1]
    assert ro_sha == hashlib.sha256(ro_data[:1 << 20]).hexdigest()
    with open(rodisk, "rb") as f:
        assert f.read() == ro_data

    # Jailed and small while serving.
    for p in (blk_a, blk_b):
        st = sampler.status.get(p.pid)
        assert st, "never saw the device model under its filter"
        assert st["NoNewPrivs"] == "1" and int(st["CapEff"], 16) == 0
        anon, file_, shmem = sampler.peak[p.pid]
        print(f"\nbulkhead-blk pid {p.pid} peak: RssAnon {anon} KiB, "
              f"RssFile {file_} KiB (RssShmem {shmem} KiB, guest RAM)")
        if not sanitized():
            assert anon + file_ <= 4096, (anon, file_)
    assert "io_uring I/O" in logs["a"].read_text(), ctx()
    shutil.rmtree(scratch, ignore_errors=True)
