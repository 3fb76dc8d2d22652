# SPDX-License-Identifier: GPL-2.0-only
"""A Debian guest with encrypted, temporary and verified disks, through
the real CLI, and stock cryptsetup with the kernel's dm-crypt on the other
side. One VM, two boots:

- xvda: made by `bulkhead disk create --encrypt`: mkfs.ext4, a file
  written and hashed in boot 1, checked in boot 2; afterwards the host
  opens the image with `cryptsetup open` (dm-crypt) and reads the same
  file, and the image's bytes hold none of its plaintext;
- xvdb: made by `cryptsetup luksFormat` (512-byte sectors) and filled by
  the host through dm-crypt: the guest reads the same bytes, writes its
  own, and the host reads those back through dm-crypt;
- xvdc: snapshot=temporary: the guest's writes are there in boot 1 and
  gone in boot 2, the base image never changes;
- xvdd: snapshot=temporary-encrypted: the host reads the overlay while
  the guest runs and finds no plaintext;
- xvde: verity= with a tree from `bulkhead disk verity-format`, one byte
  of the image flipped afterwards: the guest gets an I/O error on that
  block only, and the right data around it.

Needs a host where Linux guests boot (tests/host/run elsewhere) and
device-mapper with dm-crypt (the test host's Debian kernel has both)."""

import hashlib
import json
import os
import pathlib
import re
import shutil
import subprocess
import tempfile
import time

import pytest

from guestdisk import disk_initramfs, fetch_kernel, host_tool
from toolstack import Toolstack

pytestmark = pytest.mark.linux_guest

PASS_A, PASS_B = b"bulkhead made this", b"cryptsetup made this"
MARKER = b"BULKHEAD-PLAINTEXT-MARKER\n"
SECRET = b"SECRET-OVERLAY-MARKER\n"
BAD_BLOCK = 100

SCRIPT = r"""
echo "crypt: start"
for d in vda vdb vdc vdd vde; do
  echo "$d size=$(cat /sys/block/$d/size) ro=$(cat /sys/block/$d/ro) lbs=$(cat /sys/block/$d/queue/logical_block_size)"
done
fresh() { sync; echo 3 > /proc/sys/vm/drop_caches; }
mkdir -p /mnt
if mount -t ext4 /dev/vda /mnt 2>/dev/null && [ -f /mnt/marker ]; then
  echo "boot=2"
  (cd /mnt && sha256sum -c data.sha >/dev/null) && echo "persisted=ok"
  umount /mnt
  fresh
  head -c 1048576 /dev/vdc | sha256sum | sed 's/^/vdc2=/'
  echo "crypt: done"
  poweroff -f
fi
echo "boot=1"
mkfs.ext4 -q -F /dev/vda && mount -t ext4 /dev/vda /mnt && echo "mkfs=ok"
yes BULKHEAD-PLAINTEXT-MARKER | head -c 4194304 > /mnt/data
(cd /mnt && sha256sum data > data.sha) && sed 's/^/sha=/' /mnt/data.sha
head -c 4194304 /dev/vdb | sha256sum | sed 's/^/vdbread=/'
yes GUEST-WROTE-VDB | head -c 1048576 > /tmp/vdb.w
dd if=/tmp/vdb.w of=/dev/vdb bs=1048576 seek=5 conv=fsync 2>/dev/null && echo "vdbwrite=ok"
yes TEMPORARY-WRITE | head -c 1048576 > /tmp/vdc.w
dd if=/tmp/vdc.w of=/dev/vdc bs=1048576 conv=fsync 2>/dev/null && echo "vdcwrite=ok"
yes SECRET-OVERLAY-MARKER | head -c 2097152 > /tmp/vdd.w
dd if=/tmp/vdd.w of=/dev/vdd bs=1048576 conv=fsync 2>/dev/null && echo "vddwrite=ok"
fresh
head -c 1048576 /dev/vdc | sha256sum | sed 's/^/vdc1=/'
head -c 2097152 /dev/vdd | sha256sum | sed 's/^/vdd1=/'
dd if=/dev/vde bs=4096 count=BAD 2>/dev/null | sha256sum | sed 's/^/vdehead=/'
if dd if=/dev/vde of=/dev/null bs=4096 skip=BAD count=1 2>/dev/null
then echo "vdebad=read"; else echo "vdebad=eio"; fi
dd if=/dev/vde bs=4096 skip=NEXT count=16 2>/dev/null | sha256sum | sed 's/^/vdeafter=/'
echo marker > /mnt/marker && sync && umount /mnt && echo "umount=ok"
echo "crypt: stage1"
read -t 300 line
echo "crypt: reboot"
reboot
"""


def cli_ok(ts, *args, input=None):
    r = ts.cli(*args, input=input, timeout=300)
    assert r.returncode == 0, (args, r.stdout, r.stderr)
    return r.stdout


class Mapper:
    """cryptsetup open/close of an image through a loop device."""

    def __init__(self, image, passphrase, name):
        self.name = name
        self.dev = f"/dev/mapper/{name}"
        subprocess.run([host_tool("cryptsetup"), "open", "--type", "luks",
                        "--key-file", "-", str(image), name],
                       input=passphrase, check=True, capture_output=True)

    def close(self):
        subprocess.run([host_tool("cryptsetup"), "close", self.name],
                       check=True, capture_output=True)


def setup_device_mapper():
    kroot = os.environ.get("BULKHEAD_TEST_HOST_KROOT")
    modprobe = ["modprobe"] + (["-d", kroot] if kroot else [])
    for m in ("dm_crypt", "loop", "xts", "aesni_intel"):
        subprocess.run(modprobe + [m], capture_output=True)
    if not os.path.exists("/dev/mapper/control"):
        pytest.skip("no device-mapper here: cryptsetup cannot open images "
                    "(runs in the test host)")
    # No udev in the test host: libdevmapper makes the nodes itself.
    os.environ["DM_DISABLE_UDEV"] = "1"


def test_debian_guest_encrypted_disks(tmp_path):
    if not host_tool("cryptsetup") or not host_tool("veritysetup"):
        pytest.skip("cryptsetup-bin is not installed")
    setup_device_mapper()
    scratch = pathlib.Path(tempfile.mkdtemp(prefix="bh-lc-", dir="/tmp"))
    ts = Toolstack(scratch)
    ts.start()
    name = "crypt"
    try:
        a, b = scratch / "a.img", scratch / "b.img"
        kf = scratch / "pass-a"
        kf.write_bytes(PASS_A)
        cli_ok(ts, "disk", "create", "--encrypt", "--key-file", kf,
               "--for", f"{name}:xvda", "--iter-time", "200",
               "--pbkdf-memory", "16384", a, "48M")
        # cryptsetup's image, its passphrase stored by hand (the interim
        # key file is documented: the passphrase, root-only).
        with open(b, "wb") as f:
            f.truncate(24 << 20)
        subprocess.run([host_tool("cryptsetup"), "luksFormat", "--type",
                        "luks2", "--batch-mode", "--sector-size", "512",
                        "--pbkdf", "pbkdf2", "--pbkdf-force-iterations",
                        "1000", "--key-file", "-", str(b)], input=PASS_B,
                       check=True, capture_output=True)
        keys = ts.state / "disk-keys"
        (keys / f"{name}.xvdb.key").write_bytes(PASS_B)
        os.chmod(keys / f"{name}.xvdb.key", 0o600)
        filled = os.urandom(4 << 20)
        m = Mapper(b, PASS_B, "bhtestb")
        with open(m.dev, "r+b") as f:
            f.write(filled)
            os.fsync(f.fileno())
        m.close()

        c, d = scratch / "c.img", scratch / "d.img"
        base = os.urandom(8 << 20)
        c.write_bytes(base)
        d.write_bytes(base)
        base_sha = hashlib.sha256(base).hexdigest()
        e = scratch / "e.img"
        ro_data = os.urandom(8 << 20)
        e.write_bytes(ro_data)
        out = cli_ok(ts, "disk", "verity-format", e)
        root = re.search(r"root hash: ([0-9a-f]{64})", out)[1]
        with open(e, "r+b") as f:
            f.seek(BAD_BLOCK * 4096 + 17)
            f.write(bytes([ro_data[BAD_BLOCK * 4096 + 17] ^ 0x40]))

        script = SCRIPT.replace("NEXT", str(BAD_BLOCK + 1)).replace(
            "BAD", str(BAD_BLOCK))
        initrd = disk_initramfs(tmp_path / "crypt.cpio.gz", script)
        ts.define(name, memory=256, kernel=fetch_kernel("kernel"),
                  ramdisk=str(initrd), cmdline="console=ttyS0 quiet",
                  disk=[f"{a},raw,xvda,rw", f"{b},raw,xvdb,rw",
                        f"{c},raw,xvdc,rw,snapshot=temporary",
                        f"{d},raw,xvdd,rw,snapshot=temporary-encrypted",
                        f"{e},raw,xvde,ro,verity={root}"])
        cli_ok(ts, "start", name)
        disks = json.loads(cli_ok(ts, "block-list", "--json", name))
        assert [(x["encrypted"], x["snapshot"], x["verity"])
                for x in disks] == [
            (True, "persistent", False), (True, "persistent", False),
            (False, "temporary", False),
            (False, "temporary-encrypted", False),
            (False, "persistent", True)]

        def ctx():
            text = ts.console_log(name).read_text(errors="replace")
            logs = "\n".join(
                f"{p.name}:\n{p.read_text(errors='replace')[-1500:]}"
                for p in (ts.state / "logs").glob(f"{name}.*.log"))
            return f"console:\n{text[-4000:]}\n{logs}"

        out = ts.wait_log(name, "crypt: stage1", timeout=900)
        size = {m[1]: (int(m[2]), m[3], int(m[4])) for m in re.finditer(
            r"(vd[a-e]) size=(\d+) ro=(\d) lbs=(\d+)", out)}
        assert size["vda"] == ((48 << 20) // 512, "0", 4096), ctx()
        assert size["vdb"][1:] == ("0", 512), ctx()
        assert size["vdc"] == ((8 << 20) // 512, "0", 512), ctx()
        assert size["vde"] == ((8 << 20) // 512, "1", 4096), ctx()
        for step in ("mkfs=ok", "vdbwrite=ok", "vdcwrite=ok", "vddwrite=ok",
                     "umount=ok", "vdebad=eio"):
            assert step in out, f"{step}\n{ctx()}"

        def field(text, key):
            return re.search(rf"^{key}=([0-9a-f]{{64}})", text, re.M)[1]
        sha = field(out, "sha")
        assert field(out, "vdbread") == hashlib.sha256(filled).hexdigest()
        assert field(out, "vdc1") == hashlib.sha256(
            (b"TEMPORARY-WRITE\n" * 65536)[:1 << 20]).hexdigest()
        assert field(out, "vdd1") == hashlib.sha256(
            (SECRET * 100000)[:2 << 20]).hexdigest()
        assert field(out, "vdehead") == hashlib.sha256(
            ro_data[:BAD_BLOCK * 4096]).hexdigest()
        assert field(out, "vdeafter") == hashlib.sha256(
            ro_data[(BAD_BLOCK + 1) * 4096:(BAD_BLOCK + 17) * 4096]
        ).hexdigest()

        # While it runs: the encrypted overlay, read on the host through
        # the device model's descriptor, holds no plaintext.
        pid = disks[3]["pid"]
        overlay = None
        for fd in pathlib.Path(f"/proc/{pid}/fd").iterdir():
            link = os.readlink(fd)
            if str(ts.state / "overlays") in link:
                overlay = fd
        assert overlay is not None
        content = pathlib.Path(overlay).read_bytes()
        assert len(content) >= 2 << 20
        assert SECRET not in content and content.count(0) < len(content)
        assert not list((ts.state / "overlays").iterdir())
        assert hashlib.sha256(c.read_bytes()).hexdigest() == base_sha

        ts.console_send(name, b"go\n", wait_for="crypt: reboot",
                        timeout=120)
        out2 = ts.wait_log(name, "crypt: done", timeout=900,
                           after=len(out.encode()))
        assert "boot=2" in out2 and "persisted=ok" in out2, ctx()
        assert field(out2, "vdc2") == hashlib.sha256(
            base[:1 << 20]).hexdigest(), "the temporary writes survived"
        ts.wait_state(name, "stopped", timeout=120)
        assert not list((ts.state / "overlays").iterdir())
        for img in (c, d):
            assert hashlib.sha256(img.read_bytes()).hexdigest() == base_sha

        # The host's dm-crypt reads what bulkhead-blk wrote, both images.
        raw = a.read_bytes()
        assert MARKER not in raw and MARKER[:16] not in raw
        m = Mapper(a, PASS_A, "bhtesta")
        try:
            dbg = subprocess.run([host_tool("debugfs"), "-R", "cat /data",
                                  m.dev], capture_output=True, check=True)
            assert hashlib.sha256(dbg.stdout).hexdigest() == sha
        finally:
            m.close()
        m = Mapper(b, PASS_B, "bhtestb")
        try:
            with open(m.dev, "rb") as f:
                f.seek(5 << 20)
                got = f.read(1 << 20)
        finally:
            m.close()
        assert got == (b"GUEST-WROTE-VDB\n" * 65536)[:1 << 20]
    finally:
        ts.stop()
        shutil.rmtree(scratch, ignore_errors=True)
