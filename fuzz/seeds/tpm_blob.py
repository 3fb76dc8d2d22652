#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Writes the seed corpus of fuzz_tpm_blob (fuzz/corpus/tpm_blob/seed-*):
sealed blobs built here from the layout in docs/measured-launch.md
("Sealing") and TPM 2.0 Part 2's TPM2B_PUBLIC, apart from the C encoder,
and damaged copies of them. Usage: tpm_blob.py OUTDIR"""

import hashlib
import struct

from seedlib import write_seeds

# fixedTPM | fixedParent | adminWithPolicy | noDA
ATTRS = 0x00000492
USER_WITH_AUTH = 0x00000040


def policy(values):
    """PolicyPCR's digest over {pcr: value}, from a zero policy."""
    mask = sum(1 << p for p in values)
    sel = struct.pack(">IHB", 1, 0x000B, 3) + bytes(
        [mask & 0xFF, (mask >> 8) & 0xFF, (mask >> 16) & 0xFF])
    pcr_digest = hashlib.sha256(
        b"".join(values[p] for p in sorted(values))).digest()
    return hashlib.sha256(bytes(32) + struct.pack(">I", 0x17F) + sel
                          + pcr_digest).digest()


def public(pol, attrs=ATTRS, kind=0x0008):
    area = (struct.pack(">HHI", kind, 0x000B, attrs)
            + struct.pack(">H", len(pol)) + pol
            + struct.pack(">H", 0x0010)  # keyedHash scheme: TPM_ALG_NULL
            + struct.pack(">H", 32) + bytes(range(32)))  # unique
    return struct.pack(">H", len(area)) + area


def blob(values, pub=None, priv=b"\x5a" * 120, version=1):
    mask = sum(1 << p for p in values)
    pub = pub or public(policy(values))
    privb = struct.pack(">H", len(priv)) + priv
    return (b"BHSL" + bytes([version]) + struct.pack(">I", mask)
            + b"".join(values[p] for p in sorted(values))
            + struct.pack(">H", len(pub)) + pub
            + struct.pack(">H", len(privb)) + privb)


one = {13: bytes(32)}
two = {13: bytes([0x11] * 32), 23: bytes([0x22] * 32)}
good = blob(one)
seeds = {
    "pcr13": good,
    "pcr13-23": blob(two),
    "all-pcrs": blob({p: bytes([p] * 32) for p in range(24)}),
    "bad-truncated": good[:-1],
    "bad-trailing": good + b"\0",
    "bad-magic": b"BHSX" + good[4:],
    "bad-version": blob(one, version=2),
    "bad-user-with-auth": blob(one, public(policy(one),
                                           ATTRS | USER_WITH_AUTH)),
    "bad-policy": blob(one, public(policy(two))),
    "bad-not-keyedhash": blob(one, public(policy(one), kind=0x0001)),
    "bad-empty-mask": b"BHSL\x01" + bytes(4) + good[9 + 32:],
    "bad-empty-private": blob(one, priv=b""),
}
write_seeds(seeds)
