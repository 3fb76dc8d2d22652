#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Writes the seed corpus of fuzz_verity (fuzz/corpus/verity/seed-*): the
hash area `veritysetup format` writes for a small image of zeros (fixed
salt and UUID, so the seeds are the same on every run), followed by its
root hash, which the harness takes from the input's last 32 bytes. One
seed per shape of tree (no tree, one level, several levels, no salt,
data and hash blocks of different sizes), and one with a wrong root.
Needs veritysetup (cryptsetup-bin). Usage: verity.py OUTDIR"""

import pathlib
import re
import subprocess
import tempfile

from seedlib import write_seeds

SALT = "5a" * 32
UUID = "0f7a3c52-6b1e-4d2a-9c8b-3e4f5a6b7c8d"

# name: (data blocks, data block size, hash block size, salt)
TREES = {
    "one-block": (1, 4096, 4096, SALT),
    "one-level": (5, 4096, 4096, SALT),
    "two-levels": (40, 512, 512, SALT),
    "three-levels": (300, 512, 512, SALT),
    "no-salt": (20, 512, 512, "-"),
    "data-1k-hash-512": (24, 1024, 512, SALT),
    "data-512-hash-1k": (40, 512, 1024, SALT),
}


def tree(blocks, dbs, hbs, salt):
    with tempfile.TemporaryDirectory() as d:
        data, hashf = pathlib.Path(d, "data"), pathlib.Path(d, "hash")
        data.write_bytes(bytes(blocks * dbs))
        out = subprocess.run(
            ["veritysetup", "format", f"--data-block-size={dbs}",
             f"--hash-block-size={hbs}", f"--salt={salt}", f"--uuid={UUID}",
             str(data), str(hashf)],
            check=True, capture_output=True, text=True).stdout
        root = re.search(r"Root hash:\s*([0-9a-f]{64})", out).group(1)
        return hashf.read_bytes() + bytes.fromhex(root)


seeds = {name: tree(*args) for name, args in TREES.items()}
wrong = bytearray(seeds["two-levels"])
wrong[-1] ^= 1
seeds["wrong-root"] = bytes(wrong)
write_seeds(seeds)
