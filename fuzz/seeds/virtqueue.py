#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Writes the seed corpus of fuzz_virtqueue (fuzz/corpus/virtqueue/seed-*).

The harness's encoding, every integer little-endian:

- a byte SEL: queue size 1 << (SEL % 11), or if SEL >= 0xf0 a u16 size;
- a byte of features: 1 INDIRECT_DESC, 2 EVENT_IDX, 4 VERSION_1, 8
  RING_PACKED;
- three addresses (descriptor table, avail ring, used ring), each a PLACE:
  a byte R, then if R & 0x80 a u64 address, else a u16 offset into region
  R % 5 (0: 0x0 8 KiB, 1: 0x2000 4 KiB, 2: 0x3000 4 KiB, adjacent; 3:
  0x8000 8 KiB past a gap; 4: the 4 KiB ending at 2^64);
- a u16 avail_base, a u16 N and N bytes of RAM from address 0 on;
- operations, each a byte OP (% 13) and its operands: 0 pop (a byte: cap
  % 9 below 200, VQ_CHAIN_IOV_MAX from 200, above it from 250, no iovec
  array at 255); 1 push (a byte picks a taken head, u32 len); 2
  should_notify; 3 disable_notify; 4 enable_notify; 5 pending; 6 write
  bytes (PLACE, a byte N, N bytes); 7 a descriptor of the table (u16
  index, then DESC); 8 a descriptor anywhere (PLACE, then DESC); 9 publish
  a head (u16); 10 set a ring field (a byte: 0 avail flags, 1 avail idx,
  2 used_event, 3 used flags, 4 avail_event; u16 value); 11 vq_init again
  (u16 avail_base); 12 a linked chain published (a byte: length - 1, u16
  first index, then per descriptor PLACE, u16 len, a byte: 1 writable, 4
  indirect).

DESC is PLACE (addr), u32 len, u16 flags, u16 next.

Usage: virtqueue.py OUTDIR"""

import struct

from seedlib import write_seeds

INDIRECT, EVENT_IDX, V1, PACKED = 1, 2, 4, 8
F_NEXT, F_WRITE, F_INDIRECT = 1, 2, 4
POP, PUSH, NOTIFY, DISABLE, ENABLE, PENDING, WRITE, DESC, DESC_AT, \
    PUBLISH, FIELD, INIT, CHAIN = range(13)
R0, R1, R2, R3, TOP = range(5)


def le16(v):
    return struct.pack("<H", v)


def le32(v):
    return struct.pack("<I", v)


def at(region, off):
    return bytes([region]) + le16(off)


def raw(gpa):
    return bytes([0x80]) + struct.pack("<Q", gpa)


def header(size_log2, features, desc=at(R0, 0), avail=at(R0, 0x800),
           used=at(R0, 0x1000), base=0, ram=b""):
    return (bytes([size_log2, features]) + desc + avail + used + le16(base) +
            le16(len(ram)) + ram)


def pop(cap=8):
    return bytes([POP, cap])


def pending():
    return bytes([PENDING])


def push(k=0, length=0):
    return bytes([PUSH, k]) + le32(length)


def desc(index, addr, length, flags=0, nxt=0):
    return bytes([DESC]) + le16(index) + addr + le32(length) + \
        le16(flags) + le16(nxt)


def desc_at(where, addr, length, flags=0, nxt=0):
    return bytes([DESC_AT]) + where + addr + le32(length) + le16(flags) + \
        le16(nxt)


def publish(head):
    return bytes([PUBLISH]) + le16(head)


def field(which, value):
    return bytes([FIELD, which]) + le16(value)


def chain(first, bufs):
    """bufs: (PLACE, len, writable)."""
    out = bytes([CHAIN, len(bufs) - 1]) + le16(first)
    for addr, length, writable in bufs:
        out += addr + le16(length) + bytes([1 if writable else 0])
    return out


def ops(*parts):
    return b"".join(parts)


SEEDS = {
    # A request and its reply, completed and announced.
    "valid-chain": header(3, V1) + ops(
        chain(0, [(at(R3, 0x100), 64, False), (at(R3, 0x200), 128, True)]),
        pending(), pop(), push(0, 128), bytes([NOTIFY]), pop()),
    # An indirect table whose second buffer spans two adjacent regions.
    "indirect-chain": header(3, INDIRECT | V1) + ops(
        desc_at(at(R3, 0), at(R3, 0x400), 16, F_NEXT, 1),
        desc_at(at(R3, 16), at(R1, 0xff8), 16, F_WRITE),
        desc(0, at(R3, 0), 32, F_INDIRECT),
        publish(0), pop(), push(0, 16), bytes([NOTIFY])),
    # Direct descriptors ending in an indirect one.
    "direct-then-indirect": header(2, INDIRECT) + ops(
        desc(1, at(R3, 0x300), 8, F_NEXT, 2),
        desc(2, at(R3, 0x40), 16, F_INDIRECT),
        desc_at(at(R3, 0x40), at(R3, 0x500), 32, F_WRITE),
        publish(1), pop(), push(0, 32)),
    # A buffer from the end of region 0 through region 1 into region 2.
    "region-spanning": header(3, 0) + ops(
        chain(0, [(at(R0, 0x1ff0), 0x1020, False)]), pop(), pop(2)),
    # Loops: two descriptors pointing at each other, then a reset.
    "loop": header(3, V1) + ops(
        desc(0, at(R3, 0), 8, F_NEXT, 1), desc(1, at(R3, 8), 8, F_NEXT, 0),
        publish(0), pop(200), pop(), pending(), push(0, 1), bytes([ENABLE]),
        bytes([INIT]) + le16(0), publish(0), pop()),
    "indirect-loop": header(3, INDIRECT) + ops(
        desc_at(at(R3, 0), at(R3, 0x100), 0, F_NEXT, 1),
        desc_at(at(R3, 16), at(R3, 0x100), 0, F_NEXT, 0),
        desc(0, at(R3, 0), 32, F_INDIRECT), publish(0), pop()),
    "nested-indirect": header(3, INDIRECT) + ops(
        desc_at(at(R3, 0), at(R3, 0x100), 16, F_INDIRECT),
        desc(0, at(R3, 0), 16, F_INDIRECT), publish(0), pop()),
    "indirect-with-next": header(3, INDIRECT) + ops(
        desc(0, at(R3, 0), 16, F_INDIRECT | F_NEXT, 1), publish(0), pop()),
    "indirect-not-negotiated": header(3, V1) + ops(
        desc(0, at(R3, 0), 16, F_INDIRECT), publish(0), pop()),
    "readable-after-writable": header(3, 0) + ops(
        desc(0, at(R3, 0), 8, F_WRITE | F_NEXT, 1), desc(1, at(R3, 8), 8),
        publish(0), pop()),
    # Buffers in the gap, and from the top region past 2^64.
    "outside-ram": header(3, 0) + ops(
        chain(0, [(raw(0x5000), 16, False)]), pop(),
        bytes([INIT]) + le16(0),
        chain(2, [(at(TOP, 0xf00), 0x200, True)]), pop()),
    "bad-head-and-next": header(2, 0) + ops(
        publish(4), pop(), bytes([INIT]) + le16(0),
        desc(0, at(R3, 0), 8, F_NEXT, 9), publish(0), pop()),
    "avail-idx-too-far": header(3, 0) + ops(field(1, 9), pending(), pop()),
    "too-many-iovecs": header(4, 0) + ops(
        chain(0, [(at(R3, 16 * i), 16, False) for i in range(8)]), pop(2),
        bytes([INIT]) + le16(0),
        chain(0, [(at(R3, 16 * i), 16, False) for i in range(8)]), pop(255)),
    # No iovec array: only a chain of empty buffers fits (a harness bug
    # once: memcmp on the NULL array).
    "no-array-empty-chain": header(3, 0) + ops(
        chain(0, [(raw(0x5000), 0, False), (at(R3, 0), 0, True)]),
        pop(255), push(0, 0), chain(2, [(at(R3, 0), 1, False)]), pop(255)),
    # Event index: used_event decides, suppression writes avail_event.
    "event-idx": header(3, EVENT_IDX | V1) + ops(
        chain(0, [(at(R3, 0), 8, True)]), chain(1, [(at(R3, 8), 8, True)]),
        chain(2, [(at(R3, 16), 8, True)]), bytes([DISABLE]), pop(), pop(),
        push(0, 8), bytes([NOTIFY]), field(2, 2), push(0, 8),
        bytes([NOTIFY]), bytes([ENABLE]), pop(), push(0, 8),
        bytes([NOTIFY]), bytes([ENABLE])),
    "no-interrupt": header(3, 0) + ops(
        chain(0, [(at(R3, 0), 8, True)]), pop(), push(0, 8), field(0, 1),
        bytes([NOTIFY]), bytes([DISABLE]), bytes([ENABLE]), field(0, 0),
        bytes([NOTIFY])),
    # Indices across 2^16 in a queue of two.
    "wraparound": header(1, EVENT_IDX, base=65533) + ops(*[
        chain(i % 2, [(at(R3, 0), 8, False)]) + pop() + push(0, 0) +
        bytes([NOTIFY]) for i in range(8)]),
    # Refused set-ups: size 6, misaligned rings, packed rings.
    "bad-init": bytes([0xf0]) + le16(6) + bytes([0]) + at(R0, 0) +
    at(R0, 0x800) + at(R0, 0x1000) + le16(0) + le16(0) + ops(
        pop(), push(), bytes([NOTIFY, DISABLE, ENABLE, PENDING])),
    "misaligned-rings": header(3, 0, desc=at(R0, 8), avail=at(R0, 0x801),
                               used=at(R0, 0x1002)) + ops(pop(), push()),
    "packed": header(3, PACKED) + ops(pop()),
    # The rings at the very end of the address space.
    "rings-at-top": header(0, 0, desc=at(TOP, 0), avail=at(TOP, 0x100),
                           used=at(TOP, 0xff4)) + ops(
        chain(0, [(at(TOP, 0x200), 16, True)]), pop(), push(0, 16),
        bytes([NOTIFY, DISABLE, ENABLE])),
}


def main():
    write_seeds(SEEDS)


if __name__ == "__main__":
    main()
