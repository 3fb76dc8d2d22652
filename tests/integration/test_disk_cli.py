# SPDX-License-Identifier: GPL-2.0-only
"""bulkhead disk: the real command on real image files, checked against
cryptsetup, veritysetup and sha256sum, which all read images without
device-mapper (luksDump --dump-volume-key, open --test-passphrase,
veritysetup verify). No daemon, no VM."""

import hashlib
import json
import os
import pathlib
import pty
import re
import select
import shutil
import signal
import stat
import subprocess
import time

import pytest

from toolstack import BULKHEAD

FAST = ["--iter-time", "100", "--pbkdf-memory", "8192"]
MIB = 1 << 20
HEADER = 16 * MIB
EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2


def program(name):
    return shutil.which(name) or next(
        (p for p in (f"/usr/sbin/{name}", f"/sbin/{name}")
         if os.access(p, os.X_OK)), None)


CRYPTSETUP = program("cryptsetup")
VERITYSETUP = program("veritysetup")
needs_cryptsetup = pytest.mark.skipif(
    CRYPTSETUP is None, reason="cryptsetup is not installed")
needs_veritysetup = pytest.mark.skipif(
    VERITYSETUP is None, reason="veritysetup is not installed")


@pytest.fixture(autouse=True)
def built():
    if not BULKHEAD.exists():
        pytest.fail(f"{BULKHEAD} is not built")


def disk(*args, input=None, check=EXIT_OK, state=None, timeout=60):
    """Runs bulkhead [--state-dir STATE] disk ARGS; checks its status."""
    pre = ["--state-dir", str(state)] if state else []
    r = subprocess.run([str(BULKHEAD), *pre, "disk", *map(str, args)],
                       input=input, capture_output=True, timeout=timeout)
    if check is not None:
        assert r.returncode == check, (args, r.returncode, r.stdout,
                                       r.stderr)
    r.out = r.stdout.decode()
    r.err = r.stderr.decode()
    return r


def info(image):
    return json.loads(disk("info", "--json", image).out)


def cryptsetup(*args, passphrase=None, check=True):
    key = ["--key-file", "-"] if passphrase is not None else []
    return subprocess.run([CRYPTSETUP, "--batch-mode", *key, *map(str, args)],
                          input=passphrase, capture_output=True,
                          check=check, timeout=60)


def volume_key(image, passphrase):
    """The volume key cryptsetup opens with passphrase (no dm needed)."""
    out = cryptsetup("luksDump", "--dump-volume-key", image,
                     passphrase=passphrase).stdout.decode()
    dump = out.split("MK dump:", 1)[1]
    return bytes.fromhex("".join(re.findall(r"\b[0-9a-f]{2}\b", dump)))


def opens(image, passphrase):
    return cryptsetup("open", "--test-passphrase", image,
                      passphrase=passphrase, check=False).returncode == 0


def create_encrypted(image, size="8M", passphrase=b"pw\n", *extra):
    return disk("create", "--encrypt", *FAST, *extra, image, size,
                input=passphrase)


def test_raw_create_and_info(tmp_path):
    img = tmp_path / "raw.img"
    r = disk("create", img, "64M")
    assert r.out == f"created {img}: raw, 64 MiB (sparse)\n"
    st = img.stat()
    assert st.st_size == 64 * MIB and st.st_blocks * 512 < MIB
    assert stat.S_IMODE(st.st_mode) == 0o600
    j = info(img)
    assert j == {"image": str(img), "format": "raw", "size": 64 * MIB,
                 "allocated": st.st_blocks * 512, "guest_size": 64 * MIB,
                 "servable": True}
    text = disk("info", img).out
    assert "format:       raw" in text
    assert "size:         67108864 bytes (64 MiB)" in text
    disk("create", "--format", "raw", tmp_path / "b.img", "1536")


@needs_cryptsetup
def test_encrypted_image_is_what_cryptsetup_opens(tmp_path):
    img = tmp_path / "enc.img"
    r = create_encrypted(img, "8M", b"sesame\n")
    assert r.out == (f"created {img}: LUKS2 aes-xts-plain64, 512-bit key, "
                     "4096-byte sectors, 8 MiB for the guest\n")
    assert img.stat().st_size == HEADER + 8 * MIB
    j = info(img)
    assert j["format"] == "luks2" and j["encrypted"] and j["servable"]
    assert j["cipher"] == "aes-xts-plain64" and j["key_bits"] == 512
    assert j["sector_size"] == 4096 and j["data_offset"] == HEADER
    assert j["guest_size"] == 8 * MIB and j["keyslots_active"] == 1
    # Only the first line of standard input is the passphrase.
    assert opens(img, b"sesame") and not opens(img, b"sesame\n")
    assert len(volume_key(img, b"sesame")) == 64
    dump = cryptsetup("luksDump", img).stdout.decode()
    assert "argon2id" in dump and "sector: 4096 [bytes]" in dump
    assert j["uuid"] in dump

    small = tmp_path / "enc512.img"
    create_encrypted(small, "1536", b"x\n", "--sector-size", "512")
    assert info(small)["sector_size"] == 512
    assert info(small)["guest_size"] == 1536
    assert "sector: 512 [bytes]" in cryptsetup("luksDump", small).stdout.decode()
    text = disk("info", small).out
    assert "LUKS2 (encrypted)" in text and "key slots:    1 active" in text


@needs_cryptsetup
def test_info_on_cryptsetup_images(tmp_path):
    def formatted(name, *args):
        img = tmp_path / name
        with open(img, "wb") as f:
            f.truncate(HEADER + 4 * MIB)
        cryptsetup("luksFormat", *args, img, passphrase=b"pw")
        return img

    kdf2 = ["--pbkdf-force-iterations", "4", "--pbkdf-memory", "8192"]
    img = formatted("cs2.img", "--type", "luks2", *kdf2)
    j = info(img)
    assert j["format"] == "luks2" and j["servable"]
    assert j["data_offset"] + j["guest_size"] == HEADER + 4 * MIB
    img = formatted("cs1.img", "--type", "luks1", "--pbkdf", "pbkdf2",
                    "--pbkdf-force-iterations", "1000")
    j = info(img)
    assert j["format"] == "luks1" and j["servable"]
    assert j["sector_size"] == 512
    img = formatted("cbc.img", "--type", "luks2", *kdf2, "--cipher",
                    "aes-cbc-essiv:sha256", "--key-size", "256")
    j = info(img)
    assert not j["servable"] and "guest_size" not in j
    assert j["problem"] == ("unsupported cipher aes-cbc-essiv:sha256: "
                            "bulkhead-blk serves only aes-xts-plain64")
    assert "servable:     no: unsupported cipher" in disk("info", img).out


@needs_cryptsetup
def test_passwd_changes_and_adds(tmp_path):
    img = tmp_path / "p.img"
    keys = {n: tmp_path / n for n in ("old", "new", "third", "wrong")}
    for name, path in keys.items():
        path.write_bytes(name.encode() + b"\x00 binary\nkey")
    disk("create", "--encrypt", *FAST, "--key-file", keys["old"], img, "4M")
    vk = volume_key(img, keys["old"].read_bytes())

    r = disk("passwd", *FAST, "--key-file", keys["old"], "--new-key-file",
             keys["new"], img)
    assert r.out == f"changed the passphrase of key slot 0 of {img}\n"
    assert opens(img, keys["new"].read_bytes())
    assert not opens(img, keys["old"].read_bytes())

    # A key file is read whole, newlines and NULs included.
    r = disk("passwd", "--add", *FAST, "--key-file", keys["new"], img,
             input=b"third\n")
    assert r.out == f"added key slot 1 to {img}\n"
    assert opens(img, b"third") and opens(img, keys["new"].read_bytes())
    assert volume_key(img, b"third") == vk
    assert info(img)["keyslots_active"] == 2

    r = disk("passwd", "--key-file", keys["wrong"], "--new-key-file",
             keys["third"], img, check=EXIT_ERROR)
    assert r.err == (f"bulkhead: {img}: wrong passphrase (no key slot "
                     "opens with it)\n")
    raw = tmp_path / "raw.img"
    disk("create", raw, "1M")
    r = disk("passwd", "--key-file", keys["old"], raw, check=EXIT_ERROR)
    assert "is not a LUKS image" in r.err


def test_measure_matches_sha256sum(tmp_path):
    img = tmp_path / "m.img"
    img.write_bytes(os.urandom(3 * MIB + 123))
    r = disk("measure", img)
    want = hashlib.sha256(img.read_bytes()).hexdigest()
    assert r.out == f"sha256:{want}  {img}\n"
    if shutil.which("sha256sum"):
        out = subprocess.run(["sha256sum", img], capture_output=True,
                             text=True, check=True).stdout
        assert out.split()[0] == want
    empty = tmp_path / "empty.img"
    empty.write_bytes(b"")
    assert disk("measure", empty).out.startswith(
        "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")


@needs_veritysetup
def test_verity_format_verifies(tmp_path):
    img = tmp_path / "ro.img"
    img.write_bytes(os.urandom(4 * MIB))
    r = disk("verity-format", img)
    lines = r.out.splitlines()
    assert lines[0] == f"hash file: {img}.verity"
    root = lines[1].removeprefix("root hash: ")
    assert re.fullmatch(r"[0-9a-f]{64}", root)
    assert lines[2] == f"disk spec: verity={root}"
    hashes = pathlib.Path(f"{img}.verity")

    def verify():
        return subprocess.run([VERITYSETUP, "verify", img, hashes, root],
                              capture_output=True).returncode

    assert verify() == 0
    j = info(hashes)
    assert j["format"] == "verity" and j["hash"] == "sha256"
    assert j["hash_type"] == 1 and j["data_blocks"] == 1024
    assert j["data_block_size"] == j["hash_block_size"] == 4096
    assert len(j["salt"]) == 64 and j["hash_offset"] == 0
    # A changed byte of the image no longer verifies.
    with open(img, "r+b") as f:
        f.seek(3 * MIB + 5)
        b = f.read(1)
        f.seek(3 * MIB + 5)
        f.write(bytes([b[0] ^ 1]))
    assert verify() != 0

    other = tmp_path / "other.verity"
    r = disk("verity-format", img, other)
    assert r.out.startswith(f"hash file: {other}\n")
    r = disk("verity-format", img, other, check=EXIT_ERROR)
    assert "exists already" in r.err
    odd = tmp_path / "odd.img"
    odd.write_bytes(b"\0" * 5000)
    r = disk("verity-format", odd, check=EXIT_ERROR)
    assert "not a nonzero multiple of 4096" in r.err
    assert not pathlib.Path(f"{odd}.verity").exists()


def test_for_stores_the_key_for_bulkheadd(tmp_path):
    if os.geteuid() != 0:
        r = disk("create", "--encrypt", "--for", "web:xvda",
                 tmp_path / "a.img", "1M", input=b"pw\n", check=EXIT_ERROR)
        assert "run as root" in r.err
        return
    state = tmp_path / "state"
    img = tmp_path / "web.img"
    r = disk("create", "--encrypt", *FAST, "--for", "web:xvda", img, "2M",
             input=b"web secret\n", state=state)
    key = state / "disk-keys" / "web.xvda.key"
    assert f"stored the passphrase for web:xvda in {key}" in r.out
    assert key.read_bytes() == b"web secret"
    for path, mode in ((state, 0o700), (key.parent, 0o700), (key, 0o600)):
        st = path.stat()
        assert stat.S_IMODE(st.st_mode) == mode and st.st_uid == 0, path
    assert [p.name for p in key.parent.iterdir()] == ["web.xvda.key"]
    if CRYPTSETUP:
        assert opens(img, key.read_bytes())

    disk("passwd", *FAST, "--for", "web:xvda", "--key-file", key, img,
         input=b"rotated\n", state=state)
    assert key.read_bytes() == b"rotated"
    if CRYPTSETUP:
        assert opens(img, b"rotated")

    # Names that could leave the key directory are refused up front.
    for bad in ("../x:xvda", "web:../xvda", "web:xvda/..", "a/b:xvda",
                "web:xvda1", "web", ":xvda", "host:xvda", "web:"):
        r = disk("create", "--encrypt", "--for", bad, tmp_path / "n.img",
                 "1M", input=b"pw\n", state=state, check=EXIT_USAGE)
        assert "--for" in r.err, bad
    assert not (tmp_path / "n.img").exists()
    assert [p.name for p in key.parent.iterdir()] == ["web.xvda.key"]
    # A state directory others may write is not used for keys.
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o777)
    shared.chmod(0o777)
    r = disk("create", "--encrypt", "--for", "web:xvda", tmp_path / "s.img",
             "1M", input=b"pw\n", state=shared, check=EXIT_ERROR)
    assert "writable by others" in r.err
    assert not (tmp_path / "s.img").exists()


def test_errors(tmp_path):
    img = tmp_path / "e.img"
    img.write_bytes(b"keep me")
    r = disk("create", img, "1M", check=EXIT_ERROR)
    assert r.err == (f"bulkhead: {img} exists already (disk create never "
                     "overwrites)\n")
    r = disk("create", "--encrypt", img, "1M", input=b"pw\n",
             check=EXIT_ERROR)
    assert img.read_bytes() == b"keep me"

    new = tmp_path / "new.img"
    for size, words in (("12Q", "is not a size"), ("0", "is not a size"),
                        ("", "is not a size"), ("-1M", "is not a size"),
                        ("1000", "multiple of 512"),
                        ("99999999999T", "too large"),
                        ("8589934592G", "too large")):
        r = disk("create", new, size, check=EXIT_USAGE)
        assert words in r.err, (size, r.err)
    r = disk("create", "--encrypt", new, "6K", input=b"pw\n",
             check=EXIT_USAGE)
    assert "multiple of 4096" in r.err
    r = disk("create", "--format", "qcow2", new, "1M", check=EXIT_ERROR)
    assert r.err == ("bulkhead: qcow2 images are not supported yet "
                     "(bulkhead-blk serves raw images)\n")
    r = disk("create", "--sector-size", "512", new, "1M", check=EXIT_USAGE)
    assert "are for --encrypt" in r.err
    r = disk("create", "--encrypt", new, "1M", input=b"\n",
             check=EXIT_ERROR)
    assert "the passphrase is empty" in r.err
    r = disk("create", "--encrypt", new, "1M", input=b"",
             check=EXIT_ERROR)
    assert "no passphrase" in r.err
    r = disk("create", "--encrypt", "--key-file", tmp_path / "none", new,
             "1M", check=EXIT_ERROR)
    assert "key file" in r.err
    assert not new.exists()
    r = disk("info", tmp_path / "missing.img", check=EXIT_ERROR)
    assert "No such file" in r.err
    r = disk("bogus", check=EXIT_USAGE)
    assert 'unknown subverb "bogus"' in r.err


@needs_cryptsetup
def test_wrong_passphrase_and_corrupt_header(tmp_path):
    img = tmp_path / "w.img"
    create_encrypted(img, "1M", b"right\n")
    r = disk("passwd", img, input=b"wrong\nnew\n", check=EXIT_ERROR)
    assert "wrong passphrase (no key slot opens with it)" in r.err
    assert opens(img, b"right")
    # Without key files: the current passphrase, then the new, a line each.
    disk("passwd", *FAST, img, input=b"right\nsecond\n")
    assert opens(img, b"second") and not opens(img, b"right")
    # One header copy damaged: info reads the other and repairs nothing
    # (cryptsetup open would rewrite it).
    with open(img, "r+b") as f:
        f.seek(4096 + 64)
        f.write(b"garbage!")
    before = img.read_bytes()[:HEADER]
    assert info(img)["servable"]
    assert img.read_bytes()[:HEADER] == before
    # Both damaged: info says why, and still writes nothing.
    with open(img, "r+b") as f:
        f.seek(16384 + 4096 + 64)
        f.write(b"garbage!")
    before = img.read_bytes()[:HEADER]
    r = disk("info", img, check=EXIT_ERROR)
    assert "corrupt LUKS header: LUKS2 header checksum error" in r.err
    assert img.read_bytes()[:HEADER] == before


def test_interrupt_leaves_nothing(tmp_path):
    img = tmp_path / "slow.img"
    p = subprocess.Popen([str(BULKHEAD), "disk", "create", "--encrypt",
                          "--iter-time", "30000", "--pbkdf-memory", "8192",
                          str(img), "1M"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p.stdin.write(b"pw\n")
    p.stdin.close()
    deadline = time.monotonic() + 20
    while not img.exists():
        assert p.poll() is None and time.monotonic() < deadline
        time.sleep(0.02)
    time.sleep(0.3)
    p.send_signal(signal.SIGTERM)
    assert p.wait(timeout=20) == -signal.SIGTERM
    assert not img.exists()


def read_until(fd, text, timeout=20):
    got = b""
    deadline = time.monotonic() + timeout
    while text not in got:
        left = deadline - time.monotonic()
        assert left > 0, got
        if select.select([fd], [], [], left)[0]:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            got += chunk
    return got


def test_terminal_prompts_twice_without_echo(tmp_path):
    def run(first, second):
        img = tmp_path / f"tty{len(list(tmp_path.iterdir()))}.img"
        pid, fd = pty.fork()
        if pid == 0:
            os.execv(str(BULKHEAD), [str(BULKHEAD), "disk", "create",
                                     "--encrypt", *FAST, str(img), "1M"])
        out = read_until(fd, b"Passphrase for ")
        os.write(fd, first + b"\n")
        out += read_until(fd, b"Verify passphrase for ")
        os.write(fd, second + b"\n")
        out += read_until(fd, b"\n" if first != second else b"created")
        while True:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        _, status = os.waitpid(pid, 0)
        os.close(fd)
        return img, os.waitstatus_to_exitcode(status), out

    img, code, out = run(b"typed-secret", b"typed-secret")
    assert code == 0, out
    assert b"typed-secret" not in out  # echo was off
    assert b"created" in out
    if CRYPTSETUP:
        assert opens(img, b"typed-secret")
    img, code, out = run(b"one", b"two")
    assert code == EXIT_ERROR and b"the passphrases do not match" in out
    assert not img.exists()


def test_help():
    r = subprocess.run([str(BULKHEAD), "disk", "--help"],
                       capture_output=True, text=True, check=True)
    for sub in ("create", "info", "passwd", "measure", "verity-format"):
        assert f"  {sub} " in r.stdout
        h = disk(sub, "--help").out
        assert h.startswith(f"usage: bulkhead disk {sub}")
    r = subprocess.run([str(BULKHEAD), "--help"], capture_output=True,
                       text=True, check=True)
    assert "  disk " in r.stdout
