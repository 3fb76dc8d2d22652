#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Writes the seed corpus of fuzz_control (fuzz/corpus/control/seed-*):
sessions of control requests in the harness's encoding (a flags byte,
bit 0 = send hello first; then per message: u16 length, u8 descriptor
count, each descriptor's kind byte (0 = file, followed by u16 length and
content; 1 stream socket; 2 packet socket; 3 pipe; 4 /dev/null;
5 eventfd; 6 directory), then the JSON text). Usage: control.py OUTDIR"""

import json
import struct

from seedlib import write_seeds

FILE, STREAM, PACKET, PIPE, NULL, EVENTFD, DIRECTORY = range(7)


def fd(kind, content=b""):
    if kind == FILE:
        return bytes([FILE]) + struct.pack("<H", len(content)) + content
    return bytes([kind])


def msg(obj, fds=()):
    text = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
    return struct.pack("<H", len(text)) + bytes([len(fds)]) + \
        b"".join(fds) + text


def session(*msgs, hello=True):
    return bytes([1 if hello else 0]) + b"".join(msgs)


ALLOW = [dict(src_domid="any", src_port="any", dst_domid="any",
              dst_port="any", action="accept")]
RULES = [dict(src_domid=3, src_port="any", dst_domid=0, dst_port=100,
              action="accept"),
         dict(src_domid=4, src_port=7, dst_domid="any", dst_port="any",
              action="reject")]
ELF = bytes.fromhex("7f454c46020101") + bytes(57)

SEEDS = {
    "hello-first": session(msg({"op": "host.info", "id": 1}),
                           msg({"op": "hello", "version": 1, "id": 2}),
                           msg({"op": "hello", "version": 2}),
                           hello=False),
    "info": session(msg({"op": "subscribe"}), msg({"op": "host.info"}),
                    msg({"op": "vm.list", "id": 4294967295}),
                    msg({"op": "vm.info", "name": "web"}),
                    msg({"op": "vm.pause", "name": "web", "x": 1}),
                    msg({"op": "hv.quit"})),
    "firewall": session(
        msg({"op": "hmx.firewall.set", "rules": RULES}),
        msg({"op": "hmx.firewall.stats", "first": 1, "max": 4096}),
        msg({"op": "hmx.firewall.set", "rules_fd": 0},
            [fd(FILE, json.dumps(RULES * 3).encode())]),
        msg({"op": "hmx.firewall.set", "rules_fd": 0}, [fd(DIRECTORY)]),
        msg({"op": "hmx.firewall.set", "rules": [{"action": "maybe"}]}),
        msg({"op": "hmx.audit.read", "max": 256})),
    "host-rings": session(
        msg({"op": "hmx.firewall.set", "rules": ALLOW}),
        msg({"op": "hmx.host.ring.open", "aport": 100, "partner": "any",
             "len": 4032}),
        msg({"op": "hmx.host.send", "src_aport": 100, "dst_domid": 0,
             "dst_aport": 100, "data": "68656c6c6f", "message_type": 3}),
        msg({"op": "hmx.host.recv", "aport": 100, "partner": "any"}),
        msg({"op": "hmx.grants.set", "domid": 0,
             "ranges": [{"first": 5, "last": 9}]}),
        msg({"op": "hmx.host.send", "src_aport": 6, "dst_domid": 3,
             "dst_aport": 1, "data": "00"}),
        msg({"op": "hmx.host.ring.close", "aport": 100, "partner": "any"}),
        msg({"op": "hmx.host.ring.close", "aport": 100, "partner": "any"})),
    # Many full-size messages drained at once: the reply is large.
    "host-recv-large": session(
        msg({"op": "hmx.firewall.set", "rules": ALLOW}),
        msg({"op": "hmx.host.ring.open", "aport": 9, "partner": 0,
             "len": 1 << 20}),
        *[msg({"op": "hmx.host.send", "src_aport": 9, "dst_domid": 0,
               "dst_aport": 9, "data": "ab" * 4096})] * 16,
        msg({"op": "hmx.host.recv", "aport": 9, "partner": 0, "max": 16})),
    "vm-create": session(
        msg({"op": "vm.create", "name": "a", "memory_mib": 4,
             "kernel_fd": 0, "console_fd": 1, "cmdline": "x"},
            [fd(FILE, ELF), fd(PIPE)]),
        msg({"op": "vm.create", "name": "b", "memory_mib": 2,
             "kernel_fd": 0, "initrd_fd": 1, "vcpus": 65},
            [fd(FILE, ELF), fd(FILE, b"x")]),
        msg({"op": "vm.console", "name": "a", "fd": 0}, [fd(STREAM)]),
        msg({"op": "vm.destroy", "name": "a"}, [fd(NULL), fd(EVENTFD)])),
    "malformed": session(
        msg(b'{"op": "hello"'), msg(b"[1,2]"), msg(b'{"op": 1}'),
        msg(b'{"op":"host.info"} {}'), msg(b'{"a":' * 9 + b"1" + b"}" * 9),
        msg(b'{"op": "hmx.audit.read", "max": 1e400}'),
        msg(b'{"op": "vm.info", "name": "a\\u0000b"}'),
        msg(b'{"op": "x\\ny"}', [fd(PACKET)] * 4)),
}


def main():
    write_seeds(SEEDS)


if __name__ == "__main__":
    main()
