#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Writes the seed corpus of fuzz_luks2 (fuzz/corpus/luks2/seed-*): a flags
byte (bit 0: the harness recomputes the checksums of both LUKS2 header
copies, so mutations of the JSON reach its validation), then an image.

A real LUKS2 header is made with cryptsetup (16 KiB metadata areas), then
rebuilt small: the key slot area shrunk to 4 KiB (too small for the key
slot's material, which luks_inspect never reads), so header and data fit
in 48 KiB; both copies are re-checksummed as
libcryptsetup does (sha256 over the header with its checksum zeroed).
Variants cover what luks_inspect accepts and each thing it refuses; two
seeds are real headers cut short (a key slot holds 256 KiB, too much for
a small seed). Usage: luks2.py OUTDIR (needs cryptsetup)"""

import copy
import hashlib
import json
import os
import shutil
import struct
import subprocess
import tempfile

from seedlib import write_seeds

FIXUP = b"\x01"
PLAIN = b"\x00"
META = 16384  # one header copy: 4 KiB binary header, 12 KiB JSON area
KEYSLOTS = 4096
DATA_OFFSET = 2 * META + KEYSLOTS
CSUM_AT = 448  # the binary header's checksum field, 64 bytes


def cryptsetup(*args):
    exe = shutil.which("cryptsetup") or "/usr/sbin/cryptsetup"
    subprocess.run([exe, "--batch-mode", *args], check=True,
                   stdout=subprocess.DEVNULL)


def formatted(*args, size=20 << 20, luks_type="luks2"):
    """The image bytes cryptsetup luksFormat makes with args."""
    with tempfile.TemporaryDirectory() as d:
        img, key = os.path.join(d, "img"), os.path.join(d, "key")
        with open(key, "wb") as f:
            f.write(b"seed")
        with open(img, "wb") as f:
            f.truncate(size)
        kdf = (["--pbkdf", "pbkdf2", "--pbkdf-force-iterations", "1000"]
               if luks_type == "luks1" else
               ["--pbkdf-force-iterations", "4", "--pbkdf-memory", "32"])
        cryptsetup("luksFormat", "--type", luks_type, "--key-file", key,
                   *kdf, *args, img)
        with open(img, "rb") as f:
            return f.read()


def header_json(image):
    return json.loads(image[4096:META].rstrip(b"\0"))


def with_checksum(binary, js):
    area = js.encode() + b"\0" * (META - 4096 - len(js))
    assert len(area) == META - 4096, "JSON too large"
    hdr = bytearray(binary[:4096]) + area
    hdr[CSUM_AT:CSUM_AT + 64] = b"\0" * 64
    hdr[CSUM_AT:CSUM_AT + 32] = hashlib.sha256(hdr).digest()
    return bytes(hdr)


def image(base, meta, data=8192, seqid2=None):
    """Both header copies holding meta, then the key slot area and data."""
    js = json.dumps(meta, separators=(",", ":"))
    second = bytearray(base[META:META + 4096])
    if seqid2 is not None:
        second[16:24] = struct.pack(">Q", seqid2)
    return (with_checksum(base[:4096], js) + with_checksum(second, js) +
            b"\0" * KEYSLOTS + bytes(range(256)) * (data // 256))


def small(meta, **segment):
    """meta with a 4 KiB key slot area, the data right after it. Key slot
    0 stays (it gives the volume key's size) but its area is cut to the
    4 KiB: loading does not check that the key material fits."""
    m = copy.deepcopy(meta)
    m["keyslots"]["0"]["area"].update(offset=str(2 * META),
                                      size=str(KEYSLOTS))
    m["config"]["keyslots_size"] = str(KEYSLOTS)
    m["segments"]["0"]["offset"] = str(DATA_OFFSET)
    m["segments"]["0"].update(segment)
    return m


def damaged(img, copy_at):
    """img with a JSON byte of the header copy at copy_at changed."""
    at = copy_at + 4096 + 40
    return img[:at] + bytes([img[at] ^ 0x20]) + img[at + 1:]


def no_keyslots(meta):
    meta["keyslots"] = {}
    for d in meta["digests"].values():
        d["keyslots"] = []
    return meta


def requiring(meta, flag):
    meta["config"]["requirements"] = {"mandatory": [flag]}
    return meta


def main():
    base = formatted("--luks2-metadata-size", "16k", "--sector-size", "4096")
    meta = header_json(base)
    seeds = {
        "ok-4k": FIXUP + image(base, small(meta)),
        "ok-512": FIXUP + image(base, small(meta, sector_size=512),
                                data=4608),
        "ok-fixed-size": FIXUP + image(base, small(meta, size="4096")),
        "ok-no-checksum-fixup": PLAIN + image(base, small(meta)),
        "ok-newer-second-copy": PLAIN + image(base, small(meta), seqid2=9),
        "serpent": FIXUP + image(base, small(
            meta, encryption="serpent-xts-plain64")),
        "cbc-essiv": FIXUP + image(base, small(
            meta, encryption="aes-cbc-essiv:sha256")),
        "iv-tweak": FIXUP + image(base, small(meta, iv_tweak="8")),
        "integrity": FIXUP + image(base, small(meta, integrity={
            "type": "hmac(sha256)", "journal_encryption": "none",
            "journal_integrity": "none"})),
        "no-keyslots": FIXUP + image(base, no_keyslots(small(meta))),
        "reencrypt": FIXUP + image(base, requiring(
            small(meta), "online-reencrypt-v2")),
        "unknown-requirement": FIXUP + image(base, requiring(
            small(meta), "bulkhead-test")),
        "size-past-end": FIXUP + image(base, small(meta, size="1048576")),
        "no-data": FIXUP + image(base, small(meta), data=0),
        "ragged-data": FIXUP + image(base, small(meta), data=6144),
        "one-bad-copy": PLAIN + damaged(image(base, small(meta)), 0),
        "both-bad-copies": PLAIN + damaged(
            damaged(image(base, small(meta)), 0), META),
        # Real headers with a key slot, cut to under 64 KiB.
        "cut-luks2-keyslot": PLAIN + base[:65535],
        "cut-luks1": PLAIN + formatted(
            "--key-size", "256", luks_type="luks1")[:8192],
    }
    write_seeds(seeds)


if __name__ == "__main__":
    main()
