# SPDX-License-Identifier: GPL-2.0-only
"""bulkhead-hv run: exit statuses for every way a guest can stop, the
console, and one-line errors for bad input. The guests are freestanding
ELF images, so this runs on any KVM host."""

import os
import struct
import subprocess

import pytest

from conftest import HV

POWEROFF, ERROR, USAGE, REBOOT, CRASH, DESTROYED = 0, 1, 2, 10, 11, 12


def run(*args, stdin=subprocess.DEVNULL, timeout=60):
    return subprocess.run([str(HV), "run", *args], stdin=stdin,
                          capture_output=True, timeout=timeout)


@pytest.mark.parametrize("action,status,detail", [
    ("poweroff", POWEROFF, b"powered off"),
    ("reboot-acpi", REBOOT, b"ACPI reset register"),
    ("reboot-kbd", REBOOT, b"i8042"),
    ("triple-fault", CRASH, b"crashed"),
    ("panic", CRASH, b"guest kernel panic"),
])
def test_exit_status_tells_outcomes_apart(guest_elf, action, status, detail):
    r = run("--kernel", guest_elf("lifecycle"), "--memory", "4",
            "--cmdline", f"action={action}")
    assert r.returncode == status, r.stderr
    assert detail in r.stderr
    assert f"lifecycle: {action}".encode() in r.stdout
    if status == CRASH:
        # The registers of the vCPU that crashed are in the log.
        assert b"rip=" in r.stderr and b"cr3=" in r.stderr


def test_console_input_and_output(guest_elf):
    r = run("--kernel", guest_elf("lifecycle"), "--memory", "4",
            "--cmdline", "action=echo", stdin=None,
            timeout=60) if False else subprocess.run(
        [str(HV), "run", "--kernel", guest_elf("lifecycle"), "--memory", "4",
         "--cmdline", "action=echo"], input=b"through the UART.",
        capture_output=True, timeout=60)
    assert r.returncode == POWEROFF, r.stderr
    assert r.stdout.endswith(b"through the UART")


def test_console_to_a_file(guest_elf, tmp_path):
    log = tmp_path / "console.log"
    log.write_bytes(b"earlier run\n")
    r = run("--kernel", guest_elf("lifecycle"), "--memory", "4",
            "--cmdline", "action=poweroff", "--console", f"file:{log}")
    assert r.returncode == POWEROFF
    assert r.stdout == b""
    assert log.read_bytes() == b"earlier run\nlifecycle: poweroff\r\n"


def test_signal_stops_the_vm(guest_elf):
    p = subprocess.Popen([str(HV), "run", "--kernel", guest_elf("lifecycle"),
                          "--memory", "4", "--cmdline", "action=hang"],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    assert p.stdout.readline() == b"lifecycle: hang\r\n"
    p.terminate()
    _, err = p.communicate(timeout=30)
    assert p.returncode == DESTROYED
    assert b"stopped by a signal" in err


def fake_bzimage(path, *, init_size=32 << 20, initrd_addr_max=0x7fffffff,
                 version=0x020F, xloadflags=1, truncate=0):
    """A bzImage header with 64 KiB of 'kernel' after one setup sector."""
    setup = bytearray(1024)
    kernel = b"\x90" * 65536
    setup[0x1F1] = 1                                     # setup_sects
    struct.pack_into("<I", setup, 0x1F4, len(kernel) // 16)  # syssize
    struct.pack_into("<H", setup, 0x1FE, 0xAA55)
    setup[0x201] = 0x6A                                  # header to 0x26c
    setup[0x202:0x206] = b"HdrS"
    struct.pack_into("<H", setup, 0x206, version)
    setup[0x211] = 1                                     # LOADED_HIGH
    struct.pack_into("<I", setup, 0x22C, initrd_addr_max)
    struct.pack_into("<I", setup, 0x230, 0x200000)
    setup[0x234] = 1
    struct.pack_into("<H", setup, 0x236, xloadflags)
    struct.pack_into("<I", setup, 0x238, 2047)           # cmdline_size
    struct.pack_into("<Q", setup, 0x258, 0x1000000)      # pref_address
    struct.pack_into("<I", setup, 0x260, init_size)
    data = bytes(setup) + kernel
    path.write_bytes(data[:len(data) - truncate])
    return str(path)


def expect_error(r, *words, status=ERROR):
    lines = r.stderr.decode().strip().splitlines()
    assert r.returncode == status, r.stderr
    assert r.stdout == b""
    assert len(lines) == 1 or (status == USAGE and len(lines) == 2), lines
    for w in words:
        assert w in lines[0], lines[0]


def test_bad_input(tmp_path, guest_elf):
    k = fake_bzimage(tmp_path / "bzImage")
    small_initrd = tmp_path / "initrd"
    small_initrd.write_bytes(b"x" * 4096)

    expect_error(run("--kernel", str(tmp_path / "missing")),
                 "kernel", "No such file")
    expect_error(run("--kernel", fake_bzimage(tmp_path / "t", truncate=4096)),
                 "kernel", "truncated")
    notbz = tmp_path / "text"
    notbz.write_bytes(b"#!/bin/sh\n" * 100)
    expect_error(run("--kernel", str(notbz)), "kernel", "not a bzImage")
    expect_error(run("--kernel", fake_bzimage(tmp_path / "old",
                                              version=0x0206)),
                 "kernel", "older than 2.12")
    expect_error(run("--kernel", fake_bzimage(tmp_path / "k32",
                                              xloadflags=0)),
                 "kernel", "64-bit")
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    expect_error(run("--kernel", str(empty)), "kernel", "size 0")

    expect_error(run("--kernel", k, "--memory", "16"),
                 "memory", "too small", "needs at least 48 MiB")
    big = tmp_path / "big-initrd"
    with open(big, "wb") as f:
        f.truncate(40 << 20)
    expect_error(run("--kernel", k, "--memory", "64", "--initrd", str(big)),
                 "memory", "kernel and initrd needs at least 88 MiB")
    expect_error(run("--kernel", fake_bzimage(tmp_path / "low",
                                              initrd_addr_max=0x1FFFFFF),
                     "--memory", "128", "--initrd", str(small_initrd)),
                 "initrd", "does not fit")
    expect_error(run("--kernel", k, "--initrd", str(tmp_path / "nope")),
                 "initrd", "No such file")
    expect_error(run("--kernel", k, "--vcpus", "0"), "vcpus", "0",
                 "out of range")
    expect_error(run("--kernel", k, "--vcpus", "65"), "vcpus", "65")
    expect_error(run("--kernel", k, "--memory", "1"), "memory")
    expect_error(run("--kernel", k, "--memory", "lots"), "--memory", "lots",
                 status=USAGE)
    expect_error(run("--kernel", k, "--console", "file:/proc/nonexistent/x"),
                 "console", "/proc/nonexistent/x")
    expect_error(run("--kernel", k, "--console", "tcp:1"), "--console",
                 status=USAGE)
    expect_error(run("--kernel", k, "--cmdline", "x" * 2048), "cmdline",
                 "at most 2047")
    expect_error(run(), "--kernel is required", status=USAGE)


def test_nothing_left_running(tmp_path):
    """A failed start leaves no process behind (single-process design:
    the hypervisor has exited when run returns)."""
    k = fake_bzimage(tmp_path / "bzImage")
    r = run("--kernel", k, "--memory", "16", "--name", "leftover-probe")
    assert r.returncode == ERROR
    out = subprocess.run(["pgrep", "-f", "leftover-probe"],
                         capture_output=True)
    assert out.stdout == b""
