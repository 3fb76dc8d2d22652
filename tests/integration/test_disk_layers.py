# SPDX-License-Identifier: GPL-2.0-only
"""Encrypted, temporary, measured and verified disks through the real
toolstack and CLI, with freestanding guests (any KVM host; the Linux
guests' checks of the same disks are in test_linux_crypt_disks.py):

- an image made by `bulkhead disk create --encrypt --for VM:VDEV` starts
  with its interim key file; the volume key is in no argv, environment or
  file of the device model; block-list names the layers;
- refusals, each one line naming the disk, with nothing started and the
  image unchanged: no key file, a key file others may read, a wrong
  passphrase, a corrupt or truncated LUKS header, an unsupported cipher,
  a verify= mismatch (also audited);
- measure=on: `bulkhead measure` prints the image's SHA-256 (and only
  then);
- temporary disks: VMs share one read-only base, a persistent writer of
  it is refused, and their overlays have no name in the overlay
  directory.
"""

import hashlib
import json
import os
import pathlib
import re
import shutil
import subprocess

import pytest

from test_blk_layers import CRYPTSETUP, luks_image
from toolstack import Toolstack

PASS = b"pass phrase of the test"


@pytest.fixture
def ts(tmp_path):
    t = Toolstack(tmp_path)
    t.start()
    yield t
    t.stop()


def key_file(ts, vm, vdev, content=PASS, mode=0o600):
    d = ts.state / "disk-keys"
    d.mkdir(mode=0o700, exist_ok=True)
    p = d / f"{vm}.{vdev}.key"
    p.write_bytes(content)
    os.chmod(p, mode)
    return p


def encrypted_image(ts, tmp_path, vm, vdev="xvda", size="8M"):
    img = tmp_path / f"{vm}.img"
    kf = tmp_path / "pass"
    kf.write_bytes(PASS)
    ts.ok("disk", "create", "--encrypt", "--key-file", kf, "--for",
          f"{vm}:{vdev}", "--iter-time", "100", "--pbkdf-memory", "8192",
          img, size)
    return img


META = 16384  # a LUKS2 header copy as made here: 4 KiB binary, 12 KiB JSON


def with_segment_cipher(image, cipher):
    """image with its data segment's cipher changed in both LUKS2 header
    copies, each re-checksummed as libcryptsetup does (sha256 of the
    copy with its checksum field zeroed)."""
    out = bytearray(image)
    for at in (0, META):
        meta = json.loads(bytes(out[at + 4096:at + META]).rstrip(b"\0"))
        meta["segments"]["0"]["encryption"] = cipher
        js = json.dumps(meta, separators=(",", ":")).encode()
        out[at + 4096:at + META] = js + b"\0" * (META - 4096 - len(js))
        out[at + 448:at + 512] = b"\0" * 64
        out[at + 448:at + 480] = hashlib.sha256(out[at:at + META]).digest()
    return bytes(out)


def start_fails(ts, name, *want):
    r = ts.cli("start", name)
    assert r.returncode != 0, r.stdout
    for w in want:
        assert w in r.stderr, r.stderr
    assert ts.vm(name)["state"] in ("stopped", "off")
    return r.stderr


def cmdline_and_environ(pid):
    return (pathlib.Path(f"/proc/{pid}/cmdline").read_bytes() +
            pathlib.Path(f"/proc/{pid}/environ").read_bytes())


def volume_key(img):
    dump = subprocess.run([CRYPTSETUP, "luksDump", "--dump-volume-key",
                           "--batch-mode", "--key-file", "-", img],
                          input=PASS, capture_output=True, check=True).stdout
    return bytes.fromhex("".join(re.search(
        rb"MK dump:\s*((?:[0-9a-f]{2}\s+)+)", dump)[1].decode().split()))


def test_encrypted_disk_starts_with_its_key_file(ts, tmp_path):
    if not CRYPTSETUP:
        pytest.skip("cryptsetup is not installed (cryptsetup-bin)")
    img = encrypted_image(ts, tmp_path, "enc")
    kfile = ts.state / "disk-keys" / "enc.xvda.key"
    assert kfile.read_bytes() == PASS
    assert kfile.stat().st_mode & 0o777 == 0o600
    assert (ts.state / "disk-keys").stat().st_mode & 0o777 == 0o700
    ts.mini("enc", disk=[f"{img},raw,xvda,rw"])
    ts.ok("start", "enc")
    disk, = json.loads(ts.ok("block-list", "--json", "enc"))
    assert disk["encrypted"] is True and disk["state"] == "running"
    assert "luks" in ts.ok("block-list", "enc").splitlines()[1]
    # The key travelled in a descriptor: in no argv, environment or file.
    key = volume_key(img)
    blob = cmdline_and_environ(disk["pid"])
    assert key not in blob and key.hex().encode() not in blob
    assert PASS not in blob
    assert b"--crypt-key-fd" in blob
    for fd in pathlib.Path(f"/proc/{disk['pid']}/fd").iterdir():
        assert "memfd" not in os.readlink(fd), "the key memfd stayed open"
    ts.ok("destroy", "enc")


def test_encrypted_disk_refusals(ts, tmp_path):
    if not CRYPTSETUP:
        pytest.skip("cryptsetup is not installed (cryptsetup-bin)")
    img = encrypted_image(ts, tmp_path, "bad")
    before = img.read_bytes()
    ts.mini("bad", disk=[f"{img},raw,xvda,rw"])
    kfile = ts.state / "disk-keys" / "bad.xvda.key"

    kfile.unlink()
    start_fails(ts, "bad", "disk xvda", "no key file")
    key_file(ts, "bad", "xvda", mode=0o644)
    start_fails(ts, "bad", "chmod 600")
    key_file(ts, "bad", "xvda", content=b"not the pass phrase")
    start_fails(ts, "bad", "disk xvda", "wrong passphrase")
    assert img.read_bytes() == before

    # Both copies of the LUKS2 header's JSON area scribbled over.
    key_file(ts, "bad", "xvda")
    corrupt = tmp_path / "corrupt.img"
    data = bytearray(before)
    for base in (0, 0x4000):
        data[base + 0x1000:base + 0x1100] = b"\xa5" * 0x100
    corrupt.write_bytes(bytes(data))
    ts.mini("bad", disk=[f"{corrupt},raw,xvda,rw"])
    start_fails(ts, "bad", "disk xvda")
    assert corrupt.read_bytes() == bytes(data)
    # Smaller than its header.
    short = tmp_path / "short.img"
    short.write_bytes(before[:64 << 10])
    ts.mini("bad", disk=[f"{short},raw,xvda,rw"])
    start_fails(ts, "bad", "disk xvda")
    # A cipher bulkhead-blk does not serve (cryptsetup itself could not
    # format serpent here without the kernel's cipher: the header says it).
    serpent = tmp_path / "serpent.img"
    serpent.write_bytes(with_segment_cipher(before, "serpent-xts-plain64"))
    ts.mini("bad", disk=[f"{serpent},raw,xvda,rw"])
    start_fails(ts, "bad", "unsupported cipher", "aes-xts-plain64")
    assert not list((ts.state / "logs").glob("bad.xvda.log")) or \
        "serving" not in (ts.state / "logs" / "bad.xvda.log").read_text()


def test_measure_and_verify(ts, tmp_path):
    img = tmp_path / "m.img"
    img.write_bytes(os.urandom(1 << 20))
    digest = hashlib.sha256(img.read_bytes()).hexdigest()
    ts.mini("measured", disk=[f"{img},raw,xvda,ro,measure=on"])
    ts.ok("start", "measured")
    out = ts.ok("measure", "measured")
    assert re.search(rf"\bdisk +{digest} +xvda {img}$", out, re.M), out
    rec, = [e for e in json.loads(ts.ok("measure", "--json", "measured"))
            ["events"] if e["what"] == "disk"]
    assert rec["sha256"] == digest and rec["detail"] == f"xvda {img}"
    ts.ok("destroy", "measured")
    # Disks without measure= or verify= are not in the log.
    ts.mini("plain", disk=[f"{img},raw,xvda,ro"])
    ts.ok("start", "plain")
    log = json.loads(ts.ok("measure", "--json", "plain"))["events"]
    assert "disk" not in [e["what"] for e in log]
    ts.ok("destroy", "plain")

    ts.mini("pinned", disk=[f"{img},raw,xvda,ro,verify=sha256:{digest}"])
    ts.ok("start", "pinned")
    ts.ok("destroy", "pinned")
    with open(img, "r+b") as f:
        f.seek(4096)
        f.write(b"tampered")
    err = start_fails(ts, "pinned", "does not match verify=", digest)
    assert "not starting" in err
    audit = ts.ok("policy", "show", "--audit", "50")
    assert "disk.verify" in audit or "does not match" in audit, audit
    assert ts.vm("pinned")["state"] in ("stopped", "off")


def test_temporary_disks_share_a_base(ts, tmp_path):
    base = tmp_path / "base.img"
    base.write_bytes(os.urandom(2 << 20))
    digest = hashlib.sha256(base.read_bytes()).hexdigest()
    overlays = ts.state / "overlays"
    ts.mini("t1", disk=[f"{base},raw,xvda,rw,snapshot=temporary"])
    ts.mini("t2", disk=[f"{base},raw,xvda,rw,snapshot=temporary-encrypted"])
    ts.mini("writer", disk=[f"{base},raw,xvda,rw"])
    ts.ok("start", "t1")
    ts.ok("start", "t2")
    disks = [json.loads(ts.ok("block-list", "--json", n))[0]
             for n in ("t1", "t2")]
    assert [d["snapshot"] for d in disks] == ["temporary",
                                              "temporary-encrypted"]
    assert "temporary-encrypted" in ts.ok("block-list", "t2")
    # Unnamed files: the overlay directory lists nothing.
    assert overlays.is_dir() and not list(overlays.iterdir())
    for d in disks:
        links = [os.readlink(p) for p in
                 pathlib.Path(f"/proc/{d['pid']}/fd").iterdir()]
        assert any(str(overlays) in l and "(deleted)" in l for l in links), \
            links
    # A persistent writer would change what the others read: refused.
    start_fails(ts, "writer", "in use")
    ts.ok("destroy", "t1")
    ts.ok("destroy", "t2")
    assert not list(overlays.iterdir())
    assert hashlib.sha256(base.read_bytes()).hexdigest() == digest


def test_bad_layer_specs_are_refused(ts, tmp_path):
    img = tmp_path / "x.img"
    img.write_bytes(bytes(1 << 20))
    cfg = ts.mini("spec", disk=[f"{img},raw,xvda,ro,snapshot=temporary"])
    r = ts.cli("create", cfg)
    assert r.returncode != 0
    assert "a read-only disk has no writes to discard" in r.stderr
    tree = tmp_path / "nope.verity"
    cfg = ts.mini("spec", disk=[f"{img},raw,xvda,ro,verity={'ab' * 32},"
                                f"verity-hash={tree}"])
    ts.ok("create", "--no-start", cfg)
    start_fails(ts, "spec", "disk xvda", "verity hash tree")
    shutil.rmtree(ts.state / "overlays", ignore_errors=True)
