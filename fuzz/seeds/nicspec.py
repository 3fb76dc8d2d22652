#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Writes the seed corpus of fuzz_nicspec (fuzz/corpus/nicspec/seed-*):
each seed is one NDVM NIC spec as written in a definition's nic = [...].

Usage: nicspec.py OUTDIR"""

from seedlib import write_seeds

write_seeds({
    "netns": b"netns=lan0",
    "all": b"netns=lan0, mac=02:00:5e:00:00:01, tap=lan0nic, bridge=br0",
    "bridge-twice": b"netns=a,bridge=b,bridge=c",
    "spaces": b"  netns=a ,mac=02:AB:cd:ef:00:01 ,, tap=x.y_z-1 ",
    "no-netns": b"mac=02:00:00:00:00:01",
    "twice": b"netns=a,netns=b",
    "multicast": b"netns=a,mac=01:00:5e:00:00:01",
    "short-mac": b"netns=a,mac=02:00:00:00:00",
    "long-tap": b"netns=a,tap=abcdefghijklmnop",
    "dotdot": b"netns=..",
    "slash": b"netns=a/b",
    "unknown": b"netns=a,bridge=br0",
    "flag": b"netns=a,trusted",
    "utf8": "netns=a,tap=\u00e9".encode(),
    "empty": b"",
})
