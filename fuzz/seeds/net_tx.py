#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Writes the seed corpus of fuzz_net_tx (fuzz/corpus/net_tx/seed-*): each
seed is records of a virtio-net header's 12 bytes (flags, gso_type,
hdr_len, gso_size, csum_start, csum_offset, num_buffers), then the frame
length (u32), the negotiated features' low 32 bits (u32; bit 31 stands
for all the high ones) and the MTU (u16), all little-endian.

Usage: net_tx.py OUTDIR"""

import struct

from seedlib import write_seeds

CSUM, GUEST_CSUM, GUEST_TSO4, GUEST_TSO6 = 1 << 0, 1 << 1, 1 << 7, 1 << 8
HOST_TSO4, HOST_TSO6, MRG = 1 << 11, 1 << 12, 1 << 15
ALL = CSUM | GUEST_CSUM | GUEST_TSO4 | GUEST_TSO6 | HOST_TSO4 | HOST_TSO6 \
    | MRG


def rec(flags=0, gso=0, hdr_len=0, gso_size=0, cstart=0, coff=0, nbuf=0,
        length=60, features=ALL, mtu=1500):
    return struct.pack("<BBHHHHHIIH", flags, gso, hdr_len, gso_size, cstart,
                       coff, nbuf, length, features, mtu)


write_seeds({
    "plain": rec(),
    "csum-tcp": rec(flags=1, cstart=34, coff=16, length=1514),
    "csum-not-negotiated": rec(flags=1, cstart=34, coff=16,
                               features=HOST_TSO4),
    "tso4": rec(flags=1, gso=1, hdr_len=54, gso_size=1448, cstart=34,
                coff=16, length=65000),
    "tso6": rec(flags=1, gso=4, hdr_len=74, gso_size=1428, cstart=54,
                coff=16, length=30000),
    "tso-not-negotiated": rec(flags=1, gso=1, hdr_len=54, gso_size=1448,
                              cstart=34, coff=16, length=9000,
                              features=CSUM),
    "ecn": rec(flags=1, gso=0x81, gso_size=1000, length=9000),
    "udp": rec(flags=1, gso=3, gso_size=1000, length=9000),
    "gso-no-csum": rec(gso=1, gso_size=1000, length=9000),
    "csum-at-end": rec(flags=1, cstart=58, coff=0, length=60),
    "csum-past-end": rec(flags=1, cstart=58, coff=1, length=60),
    "over-mtu": rec(length=1519),
    "runt": rec(length=13),
    "giant": rec(flags=1, gso=1, gso_size=1448, length=65555),
    "gso-zero-size": rec(flags=1, gso=1, length=9000),
    "gso-size-over-mtu": rec(flags=1, gso=1, gso_size=1501, length=9000),
    "data-valid": rec(flags=2) + rec(flags=3, features=0),
    "hdr-len-long": rec(flags=1, gso=4, gso_size=1000, hdr_len=9001,
                        length=9000),
    "jumbo": rec(length=9018, mtu=9000),
})
