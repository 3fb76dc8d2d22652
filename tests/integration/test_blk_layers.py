# SPDX-License-Identifier: GPL-2.0-only
"""bulkhead-blk's layers against the test's own vhost-user front end and
virtio driver (vhost_frontend.py): no VM, so it runs anywhere in seconds.

- LUKS2 images made by stock cryptsetup (512- and 4096-byte sectors),
  the volume key handed over in a sealed memfd: what the guest writes is
  read back, and the image holds none of it in clear;
- temporary disks: writes land in an unlinked overlay and reads mix the
  overlay's blocks with the base's; the base is never written; a fresh
  overlay starts empty; the overlay is encrypted for temporary-encrypted
  and always for an encrypted base; an overlay with a name is refused; a
  full overlay file system gives I/O errors and the disk carries on;
- dm-verity (a tree made by veritysetup): good blocks read, a flipped
  byte in a block gives an I/O error on that block only, a wrong root
  fails every read;
- the command line's refusals.

Whether cryptsetup's kernel side (dm-crypt) reads what bulkhead-blk wrote
needs device-mapper: tests/integration/test_linux_crypt_disks.py does it
in the test host.
"""

import fcntl
import os
import re
import shutil
import struct
import subprocess
import time

import pytest

from blkctl import Blk
# The shared fixtures: guest memory, and no bulkhead-blk left behind.
from test_blk_vhost import mem, no_leftovers, pattern, start  # noqa: F401
from vhost_frontend import BLK_F_DISCARD, BLK_F_WRITE_ZEROES, GET_FEATURES, \
    S_IOERR, S_OK, S_UNSUPP, T_DISCARD, T_FLUSH, T_IN, T_OUT, \
    T_WRITE_ZEROES, BlkDriver, GuestMemory, Vring, ranges

CRYPTSETUP = shutil.which("cryptsetup") or shutil.which(
    "cryptsetup", path="/usr/sbin:/sbin")
VERITYSETUP = shutil.which("veritysetup") or shutil.which(
    "veritysetup", path="/usr/sbin:/sbin")
SEALS = (fcntl.F_SEAL_SEAL | fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW |
         fcntl.F_SEAL_WRITE)
DATA_MIB = 4


def need(tool, name):
    if not tool:
        pytest.skip(f"{name} is not installed (Debian package cryptsetup-bin)")


def sealed_memfd(data, seals=SEALS):
    fd = os.memfd_create("volume-key", os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
    os.write(fd, data)
    fcntl.fcntl(fd, fcntl.F_ADD_SEALS, seals)
    return fd


def luks_image(path, sector=4096, data_mib=DATA_MIB):
    """A LUKS2 image by cryptsetup: (volume key, data offset, sector)."""
    need(CRYPTSETUP, "cryptsetup")
    keyfile = path.with_suffix(".key")
    keyfile.write_bytes(b"correct horse")
    with open(path, "wb") as f:
        f.truncate((1 << 20) + (data_mib << 20))
    subprocess.run([CRYPTSETUP, "luksFormat", "--type", "luks2",
                    "--batch-mode", "--pbkdf", "pbkdf2",
                    "--pbkdf-force-iterations", "1000",
                    "--luks2-metadata-size", "16k",
                    "--luks2-keyslots-size", "256k",
                    "--sector-size", str(sector), "--key-file", keyfile,
                    path], check=True, capture_output=True)
    dump = subprocess.run([CRYPTSETUP, "luksDump", "--dump-volume-key",
                           "--batch-mode", "--key-file", keyfile, path],
                          check=True, capture_output=True, text=True).stdout
    key = bytes.fromhex("".join(
        re.search(r"MK dump:\s*((?:[0-9a-f]{2}\s+)+)", dump)[1].split()))
    meta = subprocess.run([CRYPTSETUP, "luksDump", path], check=True,
                          capture_output=True, text=True).stdout
    offset = int(re.search(r"offset: (\d+) \[bytes\]", meta)[1])
    assert int(re.search(r"sector: (\d+) \[bytes\]", meta)[1]) == sector
    return key, offset


def crypt_args(fd, offset, sector):
    return ["--crypt", "aes-xts-plain64", "--crypt-key-fd", str(fd),
            "--crypt-offset", str(offset), "--crypt-sector", str(sector)]


def capacity_and_block(blk):
    cfg = blk.fe.get_config(0, 24)
    return struct.unpack_from("<Q", cfg, 0)[0], \
        struct.unpack_from("<I", cfg, 20)[0]


def driver(blk, mem):
    ring = Vring(mem, 0, 256, 0x10000, event_idx=True)
    start(blk, mem, [ring], event_idx=True)
    blk.wait_log("jailed")
    return BlkDriver(ring)


@pytest.mark.parametrize("sector", [512, 4096])
@pytest.mark.parametrize("engine", ["io_uring", "sync"])
def test_luks_image_by_cryptsetup(tmp_path, mem, sector, engine):
    img = tmp_path / "luks.img"
    key, offset = luks_image(img, sector)
    header = img.read_bytes()[:offset]
    kfd = sealed_memfd(key)
    blk = Blk(tmp_path, img, ["--io", engine, *crypt_args(kfd, offset,
                                                           sector)],
              pass_fds=[kfd])
    os.close(kfd)
    # Zeroing and discarding work on the image file itself: not offered
    # under layers (they would punch the header, or holes that decrypt to
    # garbage), and refused if sent anyway.
    features = blk.fe.get_u64(GET_FEATURES)
    assert not features & ((1 << BLK_F_DISCARD) | (1 << BLK_F_WRITE_ZEROES))
    drv = driver(blk, mem)
    for t in (T_WRITE_ZEROES, T_DISCARD):
        assert drv.run(t, out=ranges((0, 64, 0)))[0] == S_UNSUPP
    capacity, block = capacity_and_block(blk)
    assert capacity == (DATA_MIB << 20) // 512
    assert block == sector
    assert "LUKS aes-xts-plain64" in blk.text()

    data = pattern(64 << 10, 9)
    assert drv.run(T_OUT, 64, out=data, split=7)[0] == S_OK
    status, got, _ = drv.run(T_IN, 64, in_len=len(data), split=5)
    assert status == S_OK and got == data
    # A read straddling written and never-written units.
    status, got, _ = drv.run(T_IN, 56, in_len=16 << 10)
    assert status == S_OK and got[8 << 10:] == data[:8 << 10]
    assert drv.run(T_FLUSH)[0] == S_OK
    # The last unit of the disk, and one past it.
    last = capacity - sector // 512
    assert drv.run(T_OUT, last, out=data[:sector])[0] == S_OK
    assert drv.run(T_IN, last, in_len=sector)[1] == data[:sector]
    assert drv.run(T_IN, capacity, in_len=sector)[0] == S_IOERR
    if sector > 512:
        # Not a whole encryption sector: refused, nothing written.
        assert drv.run(T_OUT, 1, out=bytes(512))[0] == S_IOERR
        assert drv.run(T_IN, 0, in_len=512)[0] == S_IOERR
    raw = img.read_bytes()
    # The plaintext is nowhere in the image, the ciphertext where it goes.
    assert data[:4096] not in raw and data[-4096:] not in raw
    assert raw[offset + 64 * 512:offset + 64 * 512 + 16] != data[:16]
    assert raw[:offset] == header
    assert blk.close() == 0


def test_luks_key_descriptor_checks(tmp_path, mem):
    img = tmp_path / "luks.img"
    key, offset = luks_image(img)
    # Not sealed against writes: someone else could still change it.
    loose = sealed_memfd(key, fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW)
    blk = Blk(tmp_path, img, crypt_args(loose, offset, 4096),
              pass_fds=[loose])
    assert blk.wait() == 1
    assert "--crypt-key-fd" in blk.text()
    # A key of a size AES-XTS does not have.
    short = sealed_memfd(key[:40])
    blk = Blk(tmp_path, img, crypt_args(short, offset, 4096),
              pass_fds=[short])
    assert blk.wait() == 1
    # The header's size or more as the offset: nothing left to serve.
    good = sealed_memfd(key)
    blk = Blk(tmp_path, img, crypt_args(good, os.path.getsize(img), 4096),
              pass_fds=[good])
    assert blk.wait() == 1
    assert "no larger than its LUKS header" in blk.text()
    for fd in (loose, short, good):
        os.close(fd)


def overlay_fd(where):
    return os.open(where, os.O_TMPFILE | os.O_RDWR, 0o600)


def base_image(path, mib=DATA_MIB, seed=1):
    data = pattern(mib << 20, seed)
    path.write_bytes(data)
    return data


@pytest.mark.parametrize("mode", ["temporary", "temporary-encrypted"])
@pytest.mark.parametrize("engine", ["io_uring", "sync"])
def test_temporary_disk(tmp_path, mem, mode, engine):
    img = tmp_path / "base.img"
    base = base_image(img)
    os.chmod(img, 0o444)
    ofd = overlay_fd(tmp_path)
    blk = Blk(tmp_path, img, ["--io", engine, "--snapshot", mode,
                              "--overlay-fd", str(ofd)], pass_fds=[ofd])
    drv = driver(blk, mem)
    assert capacity_and_block(blk)[0] == (DATA_MIB << 20) // 512
    assert "temporary overlay" in blk.text()

    new = pattern(8 << 10, 77)
    assert drv.run(T_OUT, 16, out=new)[0] == S_OK
    assert drv.run(T_OUT, 40, out=new[:4096], split=3)[0] == S_OK
    # One read over base, overlay, base, overlay, base.
    status, got, _ = drv.run(T_IN, 0, in_len=64 * 512, split=9)
    want = bytearray(base[:64 * 512])
    want[16 * 512:32 * 512] = new
    want[40 * 512:48 * 512] = new[:4096]
    assert status == S_OK and got == bytes(want)
    assert drv.run(T_FLUSH)[0] == S_OK
    # The base is untouched; the overlay holds the writes, in clear only
    # for plain temporary disks.
    assert img.read_bytes() == base
    overlay = os.pread(ofd, 64 * 512, 0)
    if mode == "temporary":
        assert overlay[16 * 512:32 * 512] == new
    else:
        assert new[:512] not in overlay and new[-512:] not in overlay
    assert os.fstat(ofd).st_nlink == 0
    assert blk.close() == 0
    assert "discarded" in blk.text()
    os.close(ofd)

    # The next run starts from the base again.
    ofd = overlay_fd(tmp_path)
    blk = Blk(tmp_path, img, ["--snapshot", mode, "--overlay-fd", str(ofd)],
              pass_fds=[ofd])
    drv = driver(blk, mem)
    assert drv.run(T_IN, 16, in_len=8 << 10)[1] == base[16 * 512:32 * 512]
    assert blk.close() == 0
    os.close(ofd)


def test_temporary_over_luks_is_encrypted(tmp_path, mem):
    img = tmp_path / "luks.img"
    key, offset = luks_image(img)
    before = img.read_bytes()
    kfd, ofd = sealed_memfd(key), overlay_fd(tmp_path)
    blk = Blk(tmp_path, img, [*crypt_args(kfd, offset, 4096), "--snapshot",
                              "temporary", "--overlay-fd", str(ofd)],
              pass_fds=[kfd, ofd])
    drv = driver(blk, mem)
    assert "encrypted temporary overlay" in blk.text()
    data = pattern(16 << 10, 5)
    assert drv.run(T_OUT, 8, out=data)[0] == S_OK
    assert drv.run(T_IN, 8, in_len=len(data))[1] == data
    assert data[:4096] not in os.pread(ofd, 1 << 20, 0)
    assert blk.close() == 0
    assert img.read_bytes() == before
    os.close(kfd)
    os.close(ofd)


def test_overlay_refusals_and_full_disk(tmp_path, mem):
    img = tmp_path / "base.img"
    base = base_image(img)
    # An overlay with a name would outlive the VM: refused.
    named = os.open(tmp_path / "named.ovl", os.O_CREAT | os.O_RDWR, 0o600)
    blk = Blk(tmp_path, img, ["--snapshot", "temporary", "--overlay-fd",
                              str(named)], pass_fds=[named])
    assert blk.wait() == 1
    assert "must be unlinked" in blk.text()
    os.close(named)
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs for the full-disk case needs root")
    small = tmp_path / "small"
    small.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs",
                    small], check=True)
    try:
        ofd = overlay_fd(small)
        blk = Blk(tmp_path, img, ["--snapshot", "temporary", "--overlay-fd",
                                  str(ofd)], pass_fds=[ofd])
        drv = driver(blk, mem)
        chunk = pattern(128 << 10, 3)
        statuses = [drv.run(T_OUT, 256 * i, out=chunk)[0] for i in range(6)]
        assert statuses[0] == S_OK and S_IOERR in statuses, statuses
        # The disk carries on: what fitted reads back, the rest is the base.
        assert drv.run(T_IN, 0, in_len=len(chunk))[1] == chunk
        bad = statuses.index(S_IOERR)
        assert drv.run(T_IN, 256 * bad, in_len=4096)[1] == \
            base[256 * bad * 512:256 * bad * 512 + 4096]
        assert blk.close() == 0
        os.close(ofd)
    finally:
        # A dead process's io_uring lets go of its files a moment later.
        for _ in range(100):
            if subprocess.run(["umount", small],
                              capture_output=True).returncode == 0:
                break
            time.sleep(0.05)
        else:
            subprocess.run(["umount", "-l", small])
    assert img.read_bytes() == base


def verity_format(tmp_path, data):
    need(VERITYSETUP, "veritysetup")
    img, tree = tmp_path / "ro.img", tmp_path / "ro.img.verity"
    img.write_bytes(data)
    out = subprocess.run([VERITYSETUP, "format", img, tree], check=True,
                         capture_output=True, text=True).stdout
    return img, tree, re.search(r"Root hash:\s+([0-9a-f]{64})", out)[1]


def verity_blk(tmp_path, img, tree, root):
    tfd = os.open(tree, os.O_RDONLY)
    blk = Blk(tmp_path, img, ["--readonly", "--verity-fd", str(tfd),
                              "--verity-root", root], pass_fds=[tfd])
    os.close(tfd)
    return blk


def test_verity(tmp_path, mem):
    data = os.urandom(DATA_MIB << 20)
    img, tree, root = verity_format(tmp_path, data)
    blk = verity_blk(tmp_path, img, tree, root)
    drv = driver(blk, mem)
    assert capacity_and_block(blk) == ((DATA_MIB << 20) // 512, 4096)
    assert "dm-verity checked" in blk.text()
    status, got, _ = drv.run(T_IN, 0, in_len=256 << 10, split=11)
    assert status == S_OK and got == data[:256 << 10]
    assert drv.run(T_OUT, 0, out=bytes(4096))[0] == S_IOERR  # read-only
    # A byte flipped under the running device model: block 5 only.
    with open(img, "r+b") as f:
        f.seek(5 * 4096 + 100)
        f.write(bytes([data[5 * 4096 + 100] ^ 1]))
    status, got, _ = drv.run(T_IN, 5 * 8, in_len=4096)
    assert status == S_IOERR and got != data[5 * 4096:6 * 4096]
    assert drv.run(T_IN, 4 * 8, in_len=4096)[1] == data[4 * 4096:5 * 4096]
    assert drv.run(T_IN, 6 * 8, in_len=4096)[1] == data[6 * 4096:7 * 4096]
    assert drv.run(T_IN, 0, in_len=64 << 10)[0] == S_IOERR
    status, got, _ = drv.run(T_IN, 2048, in_len=1 << 20)
    assert status == S_OK and got == data[1 << 20:2 << 20]
    assert blk.close() == 0
    assert "block 5" in blk.text()

    # A wrong root hash: nothing reads.
    bad_root = ("0" if root[0] != "0" else "1") + root[1:]
    blk = verity_blk(tmp_path, img, tree, bad_root)
    drv = driver(blk, mem)
    assert drv.run(T_IN, 1024, in_len=4096)[0] == S_IOERR
    assert blk.close() == 0


@pytest.mark.parametrize("args,message", [
    (["--crypt", "serpent-xts-plain64", "--crypt-key-fd", "0"],
     "unsupported cipher"),
    (["--crypt", "aes-xts-plain64"], "--crypt and --crypt-key-fd go together"),
    (["--crypt-sector", "8192"], "--crypt-sector"),
    (["--snapshot", "volatile"], "is not persistent, temporary"),
    (["--snapshot", "temporary"], "and --overlay-fd go together"),
    (["--snapshot", "temporary", "--overlay-fd", "0", "--readonly"],
     "a read-only disk has no writes"),
    (["--verity-fd", "0"], "--verity-fd and --verity-root go together"),
    (["--verity-root", "abc"], "64 lower-case hex digits"),
    (["--verity-fd", "0", "--verity-root", "0" * 64],
     "a verified image is never written"),
])
def test_layer_command_line_errors(tmp_path, args, message):
    img = tmp_path / "x.img"
    img.write_bytes(bytes(1 << 20))
    blk = Blk(tmp_path, img, args)
    assert blk.wait() == 2, blk.text()
    assert message in blk.text()
