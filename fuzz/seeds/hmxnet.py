#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Writes the seed corpus of fuzz_hmxnet (fuzz/corpus/hmxnet/seed-*): each
seed is records of vnet_flags (u8), gso_type (u8), hdr_len, gso_size,
csum_start, csum_offset, flags (u16 each), the frame length and max_plain
(u32 each), all little-endian, as struct hmx_net_frame_info and the
receiver's MTU-derived bound (include/bulkhead/hmx_net.h).

Usage: hmxnet.py OUTDIR"""

import struct

from seedlib import write_seeds


def rec(vnet=0, gso=0, hdr_len=0, gso_size=0, cstart=0, coff=0, flags=0,
        length=60, max_plain=1518):
    return struct.pack("<BBHHHHHII", vnet, gso, hdr_len, gso_size, cstart,
                       coff, flags, length, max_plain)


write_seeds({
    "plain": rec(),
    "csum-tcp": rec(vnet=1, cstart=34, coff=16, length=1514),
    "tso4": rec(vnet=1, gso=1, hdr_len=66, gso_size=1448, cstart=34,
                coff=16, length=65000),
    "tso6-ecn": rec(vnet=1, gso=0x84, hdr_len=86, gso_size=1428, cstart=54,
                    coff=16, length=30000),
    "csum-at-end": rec(vnet=1, cstart=58, coff=0, length=60),
    "csum-past-end": rec(vnet=1, cstart=58, coff=1, length=60),
    "over-mtu": rec(length=1519),
    "runt": rec(length=13),
    "giant": rec(length=65536, max_plain=65536),
    "gso-zero-size": rec(vnet=1, gso=1, length=9000),
    "ecn-udp": rec(gso=0x83, gso_size=1000, length=9000),
    "bad-flags": rec(flags=1) + rec(vnet=4),
    "hdr-len-long": rec(gso=4, gso_size=1000, hdr_len=9001, length=9000),
})
