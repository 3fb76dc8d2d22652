#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Writes the seed corpus of fuzz_vsock (fuzz/corpus/vsock/seed-*): sessions
in the harness's encoding. First two little-endian u32 (the guest's third and
fourth ports), then steps, each a byte whose bit 0 picks the side:

- host (odd): a byte WHAT; WHAT % 4 == 0 connect to PATH and write a line
  (a length byte and the bytes; with WHAT & 4 one more byte picks a guest
  port and "CONNECT <port>\\n" replaces the line), 1 accept on PATH_5000,
  2 write (a byte: length / 512, a byte: which connection), 3 close (a
  byte: which; with WHAT & 4 only shutdown(SHUT_WR)).
- guest (even): SEL (port = SEL % 4; flags 0x40 type, 0x20 reserved,
  0x10 buf_alloc, 0x08 fwd_cnt, 0x04 cut header, 0x02 message type follow),
  a byte TO (% 4: 0 host port 5000, 1 a host port seen, one byte picks
  which, else a u32), a byte op (% 9), then the flagged fields, the flags
  byte, a byte: payload length / 8, and the payload. Every u32 is
  little-endian.

Usage: vsock.py OUTDIR"""

import struct

from seedlib import write_seeds

REQUEST, RESPONSE, RST, SHUTDOWN, RW, CREDIT, DGRAM = range(1, 8)


def le32(v):
    return struct.pack("<I", v)


def guest(port, op, to=0, seen=0, payload=b"", flags=0, buf_alloc=None,
          fwd_cnt=None):
    sel = port
    extra = b""
    if buf_alloc is not None:
        sel |= 0x10
    if fwd_cnt is not None:
        sel |= 0x08
    out = bytes([0, sel, to])
    if to == 1:
        out += bytes([seen])
    out += bytes([op, flags])
    if buf_alloc is not None:
        extra += le32(buf_alloc)
    if fwd_cnt is not None:
        extra += le32(fwd_cnt)
    assert len(payload) % 8 == 0 and len(payload) < 2048
    return out + extra + bytes([len(payload) // 8]) + payload


def host_connect(port_index):
    return bytes([1, 4, 0, port_index])


def host_line(line):
    return bytes([1, 0, len(line)]) + line


def host_accept():
    return bytes([1, 1])


def host_write(kib_half, conn=0):
    return bytes([1, 2, kib_half, conn])


def host_close(conn=0, half=False):
    return bytes([1, 7 if half else 3, conn])


SEEDS = {
    # Guest to host: connect, data both ways, credit, close.
    "guest-to-host": le32(3000) + le32(3001) + b"".join([
        guest(0, REQUEST, buf_alloc=1 << 16),
        host_accept(),
        guest(0, RW, payload=b"hello!!!" * 4),
        host_write(8),
        guest(0, CREDIT, buf_alloc=1 << 16, fwd_cnt=4096),
        host_write(200),
        guest(0, SHUTDOWN, flags=3),
        host_close(),
    ]),
    # Host to guest: CONNECT line, the guest answers from the port asked.
    "host-to-guest": le32(3000) + le32(3001) + b"".join([
        host_connect(1),
        guest(1, RESPONSE, to=1, seen=0, buf_alloc=1 << 12),
        host_write(64),
        guest(1, CREDIT, to=1, seen=0, buf_alloc=1 << 12, fwd_cnt=4096),
        guest(1, RST, to=1, seen=0),
    ]),
    # Credit shrinking to nothing, then a reset; a small window.
    "credit-zero": le32(4000) + le32(4001) + b"".join([
        guest(2, REQUEST, buf_alloc=100),
        host_accept(),
        host_write(4),
        guest(2, CREDIT, buf_alloc=0),
        host_write(4),
        guest(2, RST),
    ]),
    # Lines a host program should not send.
    "bad-lines": le32(5000) + le32(5001) + b"".join([
        host_line(b"CONNECT\n"),
        host_line(b"CONNECT 99999999999\n"),
        host_line(b"connect 1024\n"),
        host_line(b"CONNECT 1024"),
        host_line(b"\n" * 8),
        host_close(1),
    ]),
    # Datagrams and unknown ops to the host.
    "dgram-and-junk": le32(6000) + le32(6001) + b"".join([
        guest(3, DGRAM, payload=b"datagram"),
        guest(0, 0),
        guest(0, 8, payload=b"\xff" * 16),
    ]),
}


def main():
    write_seeds(SEEDS)


if __name__ == "__main__":
    main()
