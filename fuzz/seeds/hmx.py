#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Writes the seed corpus of fuzz_hmx (fuzz/corpus/hmx/seed-*): programs in
the harness's command encoding that reach the deep paths at once (data
through rings, wrap-around, pending space and wake-ups, moves, teardown
with peer events, queries, firewall and grants), so that mutation starts
from working scenarios. The encoding is defined by fuzz/fuzz_hmx.c; keep
the two in step. Usage: fuzz/seeds/hmx.py OUTDIR"""

import struct

from seedlib import write_seeds

# Command indices: position in the harness's cmds[] table.
REGISTER, UNREGISTER, SENDV, NOTIFY, PEER_EVENTS, RAW = 0, 2, 3, 6, 7, 8
WRITE_MEM, CONSUME, SET_RX, REMOVE, ADD, FIREWALL, GRANTS = \
    9, 10, 12, 13, 14, 15, 16

DOM = {0: 0, 3: 1, 4: 2, 5: 3}           # domid -> pick_dom/pick_domid byte
ANY_DOMID = 0xc0
LEN = {48: 0, 64: 1, 96: 2, 208: 3, 4032: 4, 4048: 5, 8128: 6, 16384: 7}
PAGE = 4096


def port(p):
    """pick_port: 1..4, or 'any'."""
    return bytes([0xf0]) if p == "any" else bytes([p - 1])


def gpa(page, off, align):
    """pick_gpa with offset off (a multiple of align) in page."""
    return bytes([0, page]) + struct.pack("<H", off // align)


def block(page=0, slot=0):
    """pick_block: the call block at page, 16-byte slot."""
    return bytes([0, page, slot])


def register(dom, aport, partner, length, pages, flags=0, list_page=1,
             blk=0):
    partner_b = ANY_DOMID if partner == "any" else DOM[partner]
    out = bytes([REGISTER, DOM[dom]]) + port(aport) + bytes([partner_b])
    out += bytes([LEN[length], flags]) + gpa(list_page, 0, 8)
    pfns = list(pages) + [0] * (6 - len(pages))
    out += bytes(pfns) + block(0, blk)
    return out


def unregister(dom, aport, partner):
    partner_b = ANY_DOMID if partner == "any" else DOM[partner]
    return bytes([UNREGISTER, DOM[dom]]) + port(aport) + \
        bytes([partner_b, 0]) + block()


def sendv(dom, sport, ddom, dport, lens, mtype=7, src_page=12):
    """iovs of the given lengths (< 0xc0 each) from src_page onwards."""
    out = bytes([SENDV, DOM[dom]]) + port(sport) + bytes([DOM[ddom]])
    # niov: b % 4 below 0xe0, b % 10 from 0xe0 (so 228 means 8).
    n = len(lens) if len(lens) < 4 else next(
        b for b in range(0xe0, 0xfe) if b % 10 == len(lens))
    out += port(dport) + bytes([mtype, n, 0]) + gpa(1, 0x800, 8)
    at = 0
    for n in lens:
        assert n < 0xc0
        out += bytes([n]) + gpa(src_page, at, 1)
        at += n
    return out + block()


def notify(dom, queries=None, src_aport="any"):
    if queries is None:
        return bytes([NOTIFY, DOM[dom], 0]) + block()
    assert len(queries) <= 7
    out = bytes([NOTIFY, DOM[dom], 1 | len(queries) << 5])
    out += bytes([0]) if src_aport == "any" else bytes([0x80]) + port(src_aport)
    for i in range(8):
        ddom, dport, space = queries[i] if i < len(queries) else (0, 1, 0)
        out += bytes([space // 16, DOM[ddom]]) + port(dport)
    return out + gpa(2 + 9, 0, 4) + block()


def peer_events(dom, maxn=4):
    return bytes([PEER_EVENTS, DOM[dom], maxn]) + gpa(1, 0xf00, 2) + \
        bytes(4) + block()


def consume(dom, ring_slot, count, then_notify=True):
    return bytes([CONSUME, DOM[dom], ring_slot,
                  (count - 1) | (0x80 if then_notify else 0)]) + \
        (block() if then_notify else b"")


def set_rx(dom, ring_slot, value):
    return bytes([SET_RX, DOM[dom], ring_slot, 0xff]) + \
        struct.pack("<I", value)


def set_rx_near_end(dom, ring_slot, delta):
    """rx_ptr = len + delta (delta a multiple of 4 in -64..60)."""
    return bytes([SET_RX, DOM[dom], ring_slot, 0xd0 + delta // 4])


def write_mem(dom, at, data):
    return bytes([WRITE_MEM, DOM[dom]]) + struct.pack("<H", at) + \
        bytes([len(data)]) + data


def remove(dom):
    return bytes([REMOVE, DOM[dom]])


def add(dom):
    return bytes([ADD, DOM[dom]])


def firewall_rules(rules):
    out = bytes([FIREWALL, len(rules)])
    for sd, sp, dd, dp, action in rules:
        out += bytes([0 if action == "accept" else 0xc0])
        out += bytes([ANY_DOMID if sd == "any" else DOM[sd]]) + port(sp)
        out += bytes([ANY_DOMID if dd == "any" else DOM[dd]]) + port(dp)
    return out


def grants(dom, ranges):
    out = bytes([GRANTS, DOM[dom], len(ranges)])
    for first, width in ranges:
        out += port(first) + bytes([width, 0])
    return out


SEEDS = {
    # Two guests and the host exchange messages both ways.
    "pingpong": [
        register(3, 1, "any", 4032, [2]),
        register(4, 2, "any", 4032, [2]),
        register(0, 3, "any", 208, [3]),
        sendv(3, 1, 4, 2, [100]),
        sendv(3, 1, 0, 3, [10, 20]),
        consume(4, 0, 1),
        sendv(4, 2, 3, 1, [64, 64, 0, 33]),
        consume(3, 0, 1),
        consume(0, 0, 2),
    ],
    # A small ring fills, the sender waits, the receiver frees space and
    # notifies, the sender is woken and its next message wraps around.
    "wrap-and-wake": [
        register(3, 1, "any", 208, [4]),
        register(4, 2, "any", 64, [4]),
        sendv(4, 2, 3, 1, [40]),
        sendv(4, 2, 3, 1, [40]),
        sendv(4, 2, 3, 1, [40]),
        sendv(4, 2, 3, 1, [40]),
        consume(3, 0, 2),
        sendv(4, 2, 3, 1, [40]),
        sendv(4, 2, 3, 1, [90]),
        consume(3, 0, 4),
        sendv(4, 2, 3, 1, [90]),
    ],
    # Partner-specific rings, waiters, a domain torn down and re-added.
    "teardown": [
        register(3, 1, 4, 208, [5]),
        register(4, 1, 3, 208, [5]),
        register(3, 2, "any", 64, [6]),
        register(5, 1, 3, 64, [5]),
        sendv(4, 1, 3, 1, [100]),
        sendv(4, 1, 3, 1, [100]),
        sendv(5, 1, 3, 2, [32]),
        sendv(5, 1, 3, 2, [32]),
        remove(3),
        peer_events(4),
        peer_events(5),
        sendv(4, 1, 3, 1, [10]),
        add(3),
        register(3, 1, "any", 208, [5]),
        register(4, 1, "any", 208, [5]),
        sendv(4, 1, 3, 1, [10]),
        peer_events(4, 0),
    ],
    # A ring over scattered pages, sent through in pieces, then moved.
    "scatter-move": [
        register(3, 2, "any", 8128, [9, 3, 7]),
        register(4, 2, "any", 48, [8]),
        sendv(4, 2, 3, 2, [191, 191, 191, 191, 191, 191, 191, 191]),
        sendv(4, 2, 3, 2, [191, 191, 191, 191, 191, 191, 191, 191]),
        consume(3, 0, 1),
        register(3, 2, "any", 8128, [14, 15, 16]),
        sendv(4, 2, 3, 2, [150]),
        register(3, 2, "any", 8128, [14, 15, 16], flags=1),
        unregister(3, 2, "any"),
        sendv(4, 2, 3, 2, [150]),
    ],
    # Queries: existence, space, a wake-up promised by a query.
    "notify-queries": [
        register(3, 1, "any", 96, [6]),
        register(4, 1, 3, 208, [6]),
        notify(4, [(3, 1, 16), (3, 1, 1600), (5, 1, 0), (3, 2, 0)]),
        sendv(4, 1, 3, 1, [60]),
        notify(4, [(3, 1, 64)], src_aport=1),
        consume(3, 0, 1),
        notify(3, [(4, 1, 16)]),
    ],
    # The receiver scribbles rx_ptr: senders get ECONNRESET, waiters wake.
    "garbage-rx": [
        register(3, 1, "any", 96, [7]),
        register(4, 1, "any", 96, [7]),
        sendv(4, 1, 3, 1, [60]),
        sendv(4, 1, 3, 1, [60]),
        set_rx(3, 0, 0x12345),
        sendv(4, 1, 3, 1, [4]),
        notify(3),
        set_rx_near_end(3, 0, 0),
        sendv(4, 1, 3, 1, [4]),
        notify(4, [(3, 1, 16)]),
        set_rx(3, 0, 32),
        sendv(4, 1, 3, 1, [4]),
        write_mem(3, 7 * PAGE + 64, b"\xff" * 16),
        consume(3, 0, 3),
    ],
    # Three senders wait on one ring: the third finds the queue full.
    "pending-full": [
        register(3, 1, "any", 64, [2]),
        register(0, 1, "any", 48, [2]),
        register(4, 1, "any", 48, [2]),
        register(5, 1, "any", 48, [2]),
        sendv(0, 1, 3, 1, [32]),
        sendv(0, 1, 3, 1, [32]),
        sendv(4, 1, 3, 1, [32]),
        sendv(5, 1, 3, 1, [32]),
        sendv(4, 1, 3, 1, [16]),
        notify(5, [(3, 1, 16)]),
        consume(3, 0, 1),
        sendv(5, 1, 3, 1, [32]),
        unregister(3, 1, "any"),
    ],
    # Policy: a firewall with reject rules, wildcard refusal, grants.
    "policy": [
        firewall_rules([(4, "any", 3, 1, "reject"),
                        ("any", "any", 3, "any", "accept"),
                        (3, 2, 4, 2, "accept")]),
        register(3, 1, "any", 208, [2]),
        register(4, 2, "any", 208, [2]),
        register(4, 1, 3, 208, [3]),
        sendv(4, 2, 3, 1, [8]),
        sendv(3, 2, 4, 2, [8]),
        grants(3, [(2, 0)]),
        sendv(3, 2, 4, 2, [8]),
        notify(4, [(3, 1, 16), (3, 2, 16)]),
        firewall_rules([]),
        sendv(3, 2, 4, 2, [8]),
    ],
}


def main():
    write_seeds({name: b"".join(cmds) for name, cmds in SEEDS.items()})


if __name__ == "__main__":
    main()
