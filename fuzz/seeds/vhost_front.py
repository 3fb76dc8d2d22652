#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Writes the seed corpus of fuzz_vhost_front (fuzz/corpus/vhost_front/).

The harness's encoding: a byte of flags (1: a descriptor rides on the
stream; 2: the device is virtio-net, else virtio-blk), a byte QSHIFT (the started queue has 1 << (QSHIFT % 9) entries),
then every byte the back end sends, replies back to back. A reply is the
vhost-user header (u32 request, u32 flags = 1 | 4 for REPLY, u32 size) and
its payload, little-endian.

Usage: vhost_front.py OUTDIR"""

import struct

from seedlib import write_seeds

GET_FEATURES, SET_FEATURES, SET_OWNER = 1, 2, 3
SET_MEM_TABLE, SET_VRING_NUM, SET_VRING_ADDR, SET_VRING_BASE = 5, 8, 9, 10
GET_VRING_BASE, SET_VRING_KICK, SET_VRING_CALL, SET_VRING_ERR = 11, 12, 13, 14
GET_PROTOCOL_FEATURES, GET_QUEUE_NUM, SET_VRING_ENABLE = 15, 17, 18
GET_CONFIG = 24
REPLY = 1 | 4
VERSION_1, PROTOCOL = 1 << 32, 1 << 30
MQ, REPLY_ACK, CONFIG = 1 << 0, 1 << 3, 1 << 9


def reply(request, payload, flags=REPLY, size=None):
    return struct.pack("<III", request, flags,
                       len(payload) if size is None else size) + payload


def u64(request, v):
    return reply(request, struct.pack("<Q", v))


def ack(request, status=0):
    return u64(request, status)


def config(size=60, offset=0, capacity=2048):
    body = struct.pack("<Q", capacity) + bytes(52)
    return reply(GET_CONFIG, struct.pack("<III", offset, size, 0) + body)


def net_config(mac=b"\x02\0\0\0\0\x01", mtu=1500):
    body = mac + struct.pack("<HHH", 1, 1, mtu)
    return reply(GET_CONFIG, struct.pack("<III", 0, 12, 0) + body)


def handshake(pf=MQ | REPLY_ACK | CONFIG, queues=1, features=VERSION_1 |
              PROTOCOL | (1 << 9), cfg=None):
    out = u64(GET_FEATURES, features) + u64(GET_PROTOCOL_FEATURES, pf)
    if pf & REPLY_ACK:
        out += ack(SET_OWNER)
    if pf & MQ:
        out += u64(GET_QUEUE_NUM, queues)
    return out + (config() if cfg is None else cfg)


def start(ok=True):
    """Acks for SET_FEATURES, the table and one queue, then its stop."""
    out = ack(SET_FEATURES) + ack(SET_MEM_TABLE)
    for req in (SET_VRING_NUM, SET_VRING_BASE, SET_VRING_ADDR,
                SET_VRING_KICK, SET_VRING_CALL, SET_VRING_ERR,
                SET_VRING_ENABLE):
        out += ack(req, 0 if ok else 1)
    out += ack(SET_VRING_ENABLE)
    return out + reply(GET_VRING_BASE, struct.pack("<II", 0, 7))


def seed(stream, flags=0, qshift=4):
    return bytes([flags, qshift]) + stream


write_seeds({
    "full": seed(handshake() + start()),
    "no-reply-ack": seed(handshake(pf=MQ | CONFIG) + reply(GET_VRING_BASE,
                         struct.pack("<II", 0, 0))),
    "single-queue": seed(handshake(pf=REPLY_ACK | CONFIG) + start()),
    "refused-queue": seed(handshake() + start(ok=False)),
    "no-config": seed(handshake(pf=MQ | REPLY_ACK)),
    "not-v1": seed(u64(GET_FEATURES, PROTOCOL)),
    "too-many-queues": seed(handshake(queues=17)),
    "zero-queues": seed(handshake(queues=0)),
    "wrong-request": seed(u64(GET_PROTOCOL_FEATURES, VERSION_1)),
    "bad-version": seed(reply(GET_FEATURES, struct.pack("<Q", VERSION_1),
                              flags=2 | 4)),
    "no-reply-flag": seed(reply(GET_FEATURES, struct.pack("<Q", VERSION_1),
                                flags=1)),
    "short-size": seed(reply(GET_FEATURES, struct.pack("<I", 1), size=4)),
    "huge-size": seed(reply(GET_FEATURES, b"", size=0xffffffff)),
    "config-offset": seed(handshake()[:-72] + config(offset=4)),
    "config-short": seed(handshake()[:-72] + config(size=8)),
    "with-fd": seed(handshake() + start(), flags=1),
    "cut-mid-reply": seed((handshake() + start())[:-5]),
    "vring-base-other-queue": seed(handshake() + start()[:-8] +
                                   struct.pack("<II", 3, 0)),
    "queue-size-1": seed(handshake() + start(), qshift=0),
    "net-full": seed(handshake(queues=2, features=VERSION_1 | PROTOCOL |
                               (1 << 5) | (1 << 15), cfg=net_config()) +
                     start(), flags=2),
    "net-blk-sized-config": seed(handshake(queues=2), flags=2),
})
