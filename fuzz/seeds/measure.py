#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Writes the seed corpus of fuzz_measure (fuzz/corpus/measure/seed-*): a
mode byte (0: one measure_expect element, 1: an event log file, 2: events
to write), then its input. The logs are built here from the layout in
docs/measured-launch.md, independently of the C encoder: the valid ones
must decode and encode to the same bytes. Usage: measure.py OUTDIR"""

import hashlib
import struct

from seedlib import write_seeds

HEX = "00112233445566778899aabbccddeeff" * 2
WHAT = ["kernel", "initrd", "cmdline", "config", "rules", "disk",
        "bulkheadd", "bulkhead-hv", "bulkhead-blk", "bulkhead-net",
        "daemon-config", "policy"]
HOST_FIRST = 6  # the host's kinds name PCR 13, a VM's PCR 23

EXPECT = {
    "kernel": f"kernel=sha256:{HEX}",
    "initrd-upper": f"initrd=sha256:{HEX.upper()}",
    "cmdline": f"cmdline=sha256:{HEX}",
    "config": f"config=sha256:{HEX}",
    "rules": f"rules=sha256:{HEX}",
    "bad-name": f"bios=sha256:{HEX}",
    "bad-disk": f"disk=sha256:{HEX}",
    "bad-ramdisk": f"ramdisk=sha256:{HEX}",
    "bad-no-alg": f"kernel={HEX}",
    "bad-sha1": f"kernel=sha1:{HEX[:40]}",
    "bad-short": f"kernel=sha256:{HEX[:63]}",
    "bad-long": f"kernel=sha256:{HEX}0",
    "bad-hex": f"kernel=sha256:{HEX[:62]}zz",
    "bad-no-equals": "kernel",
    "bad-empty": "",
}


def header():
    spec = (b"Spec ID Event03\0" + struct.pack("<IBBBBI", 0, 0, 2, 0, 2, 1)
            + struct.pack("<HH", 0x000B, 32) + b"\0")
    return struct.pack("<II", 0, 3) + bytes(20) + struct.pack("<I", len(spec)) + spec


def event(what, detail, digest=None, pcr=None):
    name = WHAT[what].encode()
    data = name + (b" " + detail if detail else b"")
    digest = digest or hashlib.sha256(data).digest()
    tagged = struct.pack("<II", 0x42480001 + what, len(data)) + data
    pcr = pcr if pcr is not None else (13 if what >= HOST_FIRST else 23)
    return (struct.pack("<IIIH", pcr, 6, 1, 0x000B) + digest
            + struct.pack("<I", len(tagged)) + tagged)


full = header() + b"".join([
    event(0, b"/boot/vmlinuz"), event(1, b"/boot/initrd.img"),
    event(2, b"console=ttyS0 root=/dev/vda"), event(3, b"web"),
    event(5, b"xvda /srv/web.img"), event(4, "web (3 entries)".encode()),
])
LOGS = {
    "header-only": header(),
    "full": full,
    "empty-cmdline": header() + event(2, b""),
    "utf8": header() + event(0, "/boot/caf\u00e9".encode()),
    "rules-twice": header() + event(4, b"a (0 entries)") + event(4, b"a (1 entry)"),
    "bad-truncated": full[:-3],
    "bad-pcr": full[:65] + struct.pack("<I", 15) + full[69:],
    "bad-ev-ipl": full[:69] + struct.pack("<I", 0x0D) + full[73:],
    "bad-tag": header() + event(0, b"/k")[:50] + b"\x09" + event(0, b"/k")[51:],
    "bad-name": header() + event(0, b"/k").replace(b"kernel", b"kernal"),
    "bad-control": header() + event(0, b"/a\nb"),
    "bad-sha1-header": header()[:60] + b"\x04" + header()[61:],
    "host": header() + b"".join([
        event(6, b"/proc/self/exe"), event(7, b"/usr/lib/bulkhead/bulkhead-hv"),
        event(8, b"/usr/lib/bulkhead/bulkhead-blk"),
        event(9, b"/usr/lib/bulkhead/bulkhead-net (missing)"),
        event(10, b"bulkheadd settings"),
        event(11, b"/etc/bulkhead/vms/10-web.svcpolicy")]),
    "bad-host-pcr": header() + event(7, b"/hv", pcr=23),
    "bad-vm-pcr": header() + event(0, b"/k", pcr=13),
    "bad-tag-past": header() + event(0, b"/k")[:50] + b"\x0d" + event(0, b"/k")[51:],
}

seeds = {f"expect-{k}": b"\x00" + v.encode() for k, v in EXPECT.items()}
seeds.update({f"log-{k}": b"\x01" + v for k, v in LOGS.items()})
seeds["write-all"] = b"\x02" + b"".join(
    bytes([w]) + bytes([w]) * 32 + bytes([len(d)]) + d
    for w, d in enumerate([b"/k", b"/i", b"", b"web", b"web (0 entries)",
                           b"xvda /d.img", b"/proc/self/exe", b"/hv",
                           b"/blk", b"/net", b"bulkheadd settings",
                           b"/p.svcpolicy"]))
seeds["write-refused"] = (b"\x02" + b"\x0d" + bytes(32) + b"\x01x"
                          + b"\x00" + bytes(32) + b"\x02\x01\x02")
write_seeds(seeds)
