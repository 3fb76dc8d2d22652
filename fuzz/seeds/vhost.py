#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Writes the seed corpus of fuzz_vhost (fuzz/corpus/vhost/seed-*): a
hostile front end's session with bulkhead-blk's back end, in the harness's
encoding: steps, each a byte whose value % 3 picks what follows.

- 0, a message: a byte SEL (request = SEL & 0x3f, or a u32 after it when
  that is 0x3f; 0x40 sets NEED_REPLY; 0x80: a u32 of raw flags follows),
  a u16 payload size (the header's, however large), the payload bytes
  (as many as fit the largest payload), and a byte SPEC: SPEC & 3
  descriptors, the i-th of kind (SPEC >> (2 + 2i)) & 3: 0 the guest's
  memory (1 MiB memfd), 1 an eventfd (the harness keeps a copy to kick),
  2 a pipe whose writer is closed, 3 a 4 KiB memfd.
- 1, a write into guest memory: a u16 (offset / 16), a byte length, the
  bytes.
- 2, a kick: a byte picking one of the eventfds handed over, then one
  round of the back end's loop.

Every integer is little-endian. Usage: vhost.py OUTDIR"""

import struct

from seedlib import write_seeds

GET_FEATURES, SET_FEATURES, SET_OWNER, RESET_OWNER, SET_MEM_TABLE = 1, 2, 3, 4, 5
SET_VRING_NUM, SET_VRING_ADDR, SET_VRING_BASE, GET_VRING_BASE = 8, 9, 10, 11
SET_VRING_KICK, SET_VRING_CALL, SET_VRING_ERR = 12, 13, 14
GET_PROTOCOL_FEATURES, SET_PROTOCOL_FEATURES, GET_QUEUE_NUM = 15, 16, 17
SET_VRING_ENABLE, GET_CONFIG, SET_CONFIG, RESET_DEVICE = 18, 24, 25, 34

UADDR = 0x7f0000000000
DESC, AVAIL, USED = 0x1000, 0x2000, 0x3000
FEATURES = (1 << 32) | (1 << 30) | (1 << 28) | (1 << 9) | (1 << 13) | \
    (1 << 14) | (1 << 6) | (1 << 2)
PROTOCOL = (1 << 0) | (1 << 3) | (1 << 9) | (1 << 13)


def msg(request, payload=b"", fds=(), ack=False, size=None):
    sel = (request if request < 0x3f else 0x3f) | (0x40 if ack else 0)
    out = bytes([0, sel])
    if request >= 0x3f:
        out += struct.pack("<I", request)
    out += struct.pack("<H", len(payload) if size is None else size)
    out += payload
    spec = len(fds)
    for i, kind in enumerate(fds):
        spec |= kind << (2 + 2 * i)
    return out + bytes([spec])


def u64(request, value, fds=(), ack=False):
    return msg(request, struct.pack("<Q", value), fds, ack)


def state(request, index, num):
    return msg(request, struct.pack("<II", index, num))


def poke(gpa, data):
    assert gpa % 16 == 0
    out = b""
    while data:
        chunk, data = data[:240], data[240:]
        out += bytes([1]) + struct.pack("<HB", gpa // 16, len(chunk)) + chunk
        gpa += len(chunk)
        assert gpa % 16 == 0 or not data
    return out


def kick(which=0):
    return bytes([2, which])


def handshake():
    return (msg(GET_FEATURES) + msg(GET_PROTOCOL_FEATURES) +
            u64(SET_PROTOCOL_FEATURES, PROTOCOL) + msg(SET_OWNER) +
            msg(GET_QUEUE_NUM) +
            msg(GET_CONFIG, struct.pack("<III", 0, 60, 0) + bytes(60)))


def setup(size=16, index=0):
    region = struct.pack("<II", 1, 0) + struct.pack("<QQQQ", 0, 1 << 20,
                                                     UADDR, 0)
    return (u64(SET_FEATURES, FEATURES, ack=True) +
            msg(SET_MEM_TABLE, region, fds=[0], ack=True) +
            state(SET_VRING_NUM, index, size) +
            state(SET_VRING_BASE, index, 0) +
            msg(SET_VRING_ADDR, struct.pack("<IIQQQQ", index, 0, UADDR + DESC,
                                            UADDR + USED, UADDR + AVAIL, 0)) +
            u64(SET_VRING_CALL, index, fds=[1]) +
            u64(SET_VRING_ERR, index, fds=[1]) +
            u64(SET_VRING_KICK, index, fds=[1]) +
            state(SET_VRING_ENABLE, index, 1))


def desc(addr, length, flags, nxt):
    return struct.pack("<QIHH", addr, length, flags, nxt)


def request(slot, rtype, sector, data_len, write_data=b"", head=0):
    """A 3-descriptor chain at descriptors head..head+2, avail slot."""
    hdr = 0x10000 + 0x1000 * slot
    data = 0x40000 + 0x2000 * slot
    status = 0x80000 + 16 * slot
    out = poke(hdr, struct.pack("<IIQ", rtype, 0, sector))
    if write_data:
        out += poke(data, write_data)
    writable = 2 if rtype in (0, 8) else 0
    chain = desc(hdr, 16, 1, head + 1)
    chain += desc(data, data_len, 1 | writable, head + 2)
    chain += desc(status, 1, 2, 0)
    out += poke(DESC + 16 * head, chain)
    return out


def avail(entries):
    body = struct.pack("<HH", 0, len(entries)) + b"".join(
        struct.pack("<H", e) for e in entries)
    return poke(AVAIL, body + bytes((16 - len(body) % 16) % 16))


seeds = {}
seeds["handshake"] = handshake() + msg(GET_VRING_BASE, struct.pack("<II", 0, 0))
rw = (request(0, 1, 8, 4096, bytes(range(256)) * 16, head=0) +
      request(1, 0, 8, 4096, head=3) + request(2, 4, 0, 0, head=6) +
      request(3, 8, 0, 20, head=9))
seeds["io"] = handshake() + setup() + rw + avail([0, 3, 6, 9]) + kick() + \
    kick(2)
ranges = struct.pack("<QII", 8, 8, 0) + struct.pack("<QII", 32, 8, 1)
seeds["discard"] = handshake() + setup() + \
    request(0, 11, 0, 16, ranges[:16], head=0) + \
    request(1, 13, 0, 32, ranges, head=3) + avail([0, 3]) + kick(2)
seeds["broken-ring"] = handshake() + setup() + \
    poke(DESC, desc(0xfffff000, 4096, 1, 0)) + avail([0]) + kick(2) + \
    msg(GET_VRING_BASE, struct.pack("<II", 0, 0)) + setup()
seeds["reset"] = handshake() + setup() + msg(RESET_DEVICE, ack=True) + \
    setup(size=32) + msg(RESET_OWNER)
seeds["hostile"] = (
    handshake() +
    msg(SET_MEM_TABLE, struct.pack("<II", 2, 0) +
        struct.pack("<QQQQ", 0, 1 << 20, UADDR, 0) +
        struct.pack("<QQQQ", 4096, 1 << 20, UADDR + (1 << 30), 0),
        fds=[0, 0]) +
    msg(SET_CONFIG, struct.pack("<III", 0, 4, 0) + bytes(4), ack=True) +
    state(SET_VRING_NUM, 7, 16) + u64(SET_VRING_KICK, 0, fds=[2]) +
    msg(SET_MEM_TABLE, struct.pack("<II", 1, 0) +
        struct.pack("<QQQQ", 0, 1 << 30, UADDR, 0), fds=[3]) +
    msg(0x3f + 100, b"x" * 8, size=4000))
seeds["hostile-fds"] = handshake() + setup() + \
    u64(SET_VRING_CALL, 0, fds=[1, 2, 3]) + u64(SET_VRING_KICK, 1, fds=[2]) + \
    kick(1) + kick(0)
write_seeds(seeds)
