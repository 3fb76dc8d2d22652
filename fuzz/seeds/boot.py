#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Writes the seed corpus of fuzz_boot (fuzz/corpus/boot/seed-*): an
8-byte header (RAM MiB - 1, vCPUs, initrd size, shaping, command-line
length; see fuzz/fuzz_boot.c), the command line, then a kernel file:
synthetic bzImages (boot protocol 2.15 header, as Debian's kernels have)
and static ELF64 test guests, some loading and some refused at each
check. Usage: fuzz/seeds/boot.py OUTDIR"""

import struct

from seedlib import write_seeds

MIB = 1 << 20


def header(ram_mib, vcpus, initrd=0, cmdline=b"console=ttyS0", shape=0):
    """The harness's header, then the command line, each byte mapped so
    that the harness's (b % 95 + 0x20) gives the character back."""
    assert len(cmdline) < 64
    shape |= 0x80 if initrd else 0
    out = bytes([ram_mib - 1, vcpus]) + struct.pack("<I", initrd)
    out += bytes([shape, len(cmdline)])
    return out + bytes(c - 0x20 for c in cmdline)


def bzimage(kernel_bytes=16384, setup_sects=4, version=0x020f,
            init_size=0x400000, pref=0x1000000, addr_max=0x7fffffff,
            cmdline_size=2047, xload=0x3, loadflags=0x1):
    setup = (setup_sects + 1) * 512
    b = bytearray(setup + kernel_bytes)
    b[0x1f1] = setup_sects
    struct.pack_into("<I", b, 0x1f4, kernel_bytes // 16)
    struct.pack_into("<H", b, 0x1fe, 0xaa55)
    b[0x200] = 0xeb
    b[0x201] = 0x6a  # header through 0x26c, as in 6.1 kernels
    b[0x202:0x206] = b"HdrS"
    struct.pack_into("<H", b, 0x206, version)
    b[0x211] = loadflags
    struct.pack_into("<I", b, 0x22c, addr_max)
    struct.pack_into("<I", b, 0x230, 0x200000)
    b[0x234] = 1
    struct.pack_into("<H", b, 0x236, xload)
    struct.pack_into("<I", b, 0x238, cmdline_size)
    struct.pack_into("<Q", b, 0x258, pref)
    struct.pack_into("<I", b, 0x260, init_size)
    for i in range(setup, len(b)):
        b[i] = (i * 13) & 0xff
    return bytes(b)


def elf(segments, entry):
    """segments: (paddr, filesz, memsz); data follows the headers."""
    phoff, phsz = 64, 56
    data_at = phoff + phsz * len(segments)
    out = bytearray(b"\x7fELF\x02\x01\x01" + bytes(9))
    out += struct.pack("<HHIQQQIHHHHHH", 2, 62, 1, entry, phoff, 0, 0, 64,
                       phsz, len(segments), 0, 0, 0)
    body = bytearray()
    for paddr, filesz, memsz in segments:
        out += struct.pack("<IIQQQQQQ", 1, 5, data_at + len(body),
                           paddr, paddr, filesz, memsz, 0x1000)
        body += bytes((i * 7) & 0xff for i in range(filesz))
    return bytes(out + body)


SEEDS = {
    "bzimage": header(64, 1, 1 * MIB) + bzimage(),
    "bzimage-smp-no-initrd": header(32, 4) + bzimage(setup_sects=0),
    # Exactly enough RAM for the kernel's footprint and the initrd.
    "bzimage-tight": header(6, 2, 1 * MIB) + bzimage(
        init_size=0x400000, pref=0x100000),
    "bzimage-initrd-too-big": header(8, 1, 8 * MIB) + bzimage(),
    "bzimage-addr-max": header(64, 1, 2 * MIB) + bzimage(
        addr_max=0x17fffff),
    "bzimage-old-protocol": header(16, 1) + bzimage(version=0x020b),
    "bzimage-cmdline-limit": header(64, 1, 0, b"x" * 40) + bzimage(
        cmdline_size=39),
    "elf": header(4, 1, 0, b"role=a domid=3") + elf(
        [(0x100000, 0x300, 0x2000)], 0x100000),
    "elf-two-segments": header(8, 2) + elf(
        [(0x100000, 0x200, 0x1000), (0x400000, 0x80, 0x3000)], 0x400010),
    "elf-too-high": header(2, 1) + elf([(0x1f0000, 0x10, 0x20000)],
                                       0x1f0000),
    "elf-with-initrd": header(4, 1, 4096) + elf(
        [(0x100000, 0x10, 0x10)], 0x100000),
    "elf-65-vcpus": header(4, 65) + elf([(0x100000, 0x10, 0x10)], 0x100000),
}


def main():
    write_seeds(SEEDS)


if __name__ == "__main__":
    main()
