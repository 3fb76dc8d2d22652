# SPDX-License-Identifier: GPL-2.0-only
"""The hypervisor confines itself after setup (src/hv/sandbox.c): no
capabilities, no new privileges, a seccomp filter, no open files it does
not need; and VMs still run under it, in both modes. (That a call outside
the allowlist is refused is tests/unit/test_sandbox.c's job.)"""

import os
import threading
import socket
import subprocess

import pytest

from conftest import HV, HV_UID, Hypervisor, read_until
from hvctl import ControlError


def proc_status(pid):
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return fields


def check_confined(pid, jailed=True, vsock_dir=None):
    """The filter and no capabilities; jailed (serve): its own uid (as
    root), namespaces, no network, and a root holding only vsock_dir."""
    st = proc_status(pid)
    assert st["Seccomp"] == "2", st  # a filter is installed
    assert st["NoNewPrivs"] == "1"
    for cap in ("CapInh", "CapPrm", "CapEff", "CapAmb"):
        assert int(st[cap], 16) == 0, (cap, st[cap])
    if os.geteuid() == 0:  # only root could have dropped it
        assert int(st["CapBnd"], 16) == 0
    if not jailed:
        return
    if os.geteuid() == 0:
        assert st["Uid"].split() == [str(HV_UID)] * 4, st["Uid"]
        assert st["Gid"].split() == [str(HV_UID)] * 4, st["Gid"]
        assert st["Groups"] == "", st["Groups"]
    for ns in ("mnt", "net", "ipc", "uts"):
        assert os.readlink(f"/proc/{pid}/ns/{ns}") != \
            os.readlink(f"/proc/self/ns/{ns}"), ns
    # No network: a namespace of its own with nothing but a loopback.
    with open(f"/proc/{pid}/net/dev") as f:
        assert [line.split(":")[0].strip() for line in f.readlines()[2:]] \
            == ["lo"]
    # Its whole file system: the components of vsock_dir's path, and
    # what is in vsock_dir (the host end's sockets).
    seen = set()
    for top, dirs, files in os.walk(f"/proc/{pid}/root"):
        rel = top[len(f"/proc/{pid}/root"):] or "/"
        if vsock_dir and rel == vsock_dir:
            dirs[:] = []
            continue
        seen.update(os.path.join(rel, n) for n in dirs + files)
    want = set()
    if vsock_dir:
        parts = vsock_dir.strip("/").split("/")
        want = {"/" + "/".join(parts[:i + 1]) for i in range(len(parts))}
    assert seen == want, (seen, want)


def open_paths(pid):
    """What the process's descriptors refer to, sockets and the like
    excluded: only real files and devices."""
    paths = []
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except FileNotFoundError:
            continue
        if target.startswith("/"):
            paths.append(target)
    return paths


def test_serving_hypervisor_is_confined(hv, guest_elf, tmp_path):
    pid = hv.proc.pid
    check_confined(pid)
    c = hv.client
    c.call("subscribe")
    # A VM runs under the filter: RAM, vCPU threads, devices, poweroff.
    log = tmp_path / "a.log"
    c.create_vm("a", guest_elf("hmx-basic"), memory_mib=4,
                cmdline="role=b domid=3", console_log=log)
    stopped = c.wait_event(lambda e: e["event"] == "vm-stopped", timeout=120)
    assert stopped["name"] == "a"
    assert stopped["reason"] == "poweroff", stopped
    assert "RESULT" in read_until(log, "RESULT")
    # Still confined, still serving, and holding no files beyond
    # /dev/kvm and the standard streams it was started with.
    check_confined(pid)
    assert c.call("host.info")["vms"] == 1
    extra = [p for p in open_paths(pid)
             if p not in ("/dev/kvm", "/dev/null") and
             not p.endswith("hv.log")]
    assert extra == [], extra


def test_run_mode_boots_and_powers_off_confined(guest_elf, tmp_path):
    log = tmp_path / "console.log"
    proc = subprocess.run(
        [str(HV), "run", "--kernel", guest_elf("hmx-basic"), "--memory", "4",
         "--cmdline", "role=a domid=3", "--console", f"file:{log}", "-v"],
        stdin=subprocess.DEVNULL, capture_output=True, timeout=120)
    err = proc.stderr.decode(errors="replace")
    assert proc.returncode == 0, err  # 0: the guest powered off
    assert "sandbox: no capabilities, seccomp allowlist installed" in err
    assert "RESULT" in log.read_text()


def test_vm_lifecycle_under_sandbox(hv, guest_elf, tmp_path):
    """Console attach, start, pause, unpause, destroy: the paths that use
    getsockopt/fcntl/setsockopt on console sockets and tgkill for vCPU
    kicks, which the Linux boot tests cover only on hardware virt."""
    c = hv.client
    c.call("subscribe")
    # Attached before it starts, the console carries the whole run.
    c.create_vm("b", guest_elf("hmx-basic"), memory_mib=4,
                cmdline="role=b domid=3", start=False)
    console = c.attach_console("b", history=True)
    # Read as it comes, as a real client does: output the guest writes a
    # byte at a time fills an unread socket's buffer (an skb per write)
    # long before its bytes do, and the final flush gives up after 1 s.
    out = bytearray()

    def read_console():
        console.settimeout(60)
        while True:
            chunk = console.recv(65536)
            if not chunk:
                break
            out.extend(chunk)
    reader = threading.Thread(target=read_console)
    reader.start()
    c.call("vm.start", name="b")
    ev = c.wait_event(lambda e: e["event"] == "vm-stopped", timeout=120)
    assert (ev["name"], ev["reason"]) == ("b", "poweroff")
    reader.join(timeout=60)
    assert b"RESULT" in out, out
    # A guest that waits: paused (every vCPU kicked out of KVM_RUN),
    # resumed, then destroyed.
    log = tmp_path / "a.log"
    c.create_vm("a", guest_elf("hmx-basic"), memory_mib=4, vcpus=2,
                cmdline="role=a domid=4", console_log=log)
    read_until(log, "a: waiting for messages", timeout=120)
    c.call("vm.pause", name="a")
    assert c.call("vm.info", name="a")["vm"]["state"] == "paused"
    c.call("vm.unpause", name="a")
    assert c.call("vm.info", name="a")["vm"]["state"] == "running"
    assert c.call("vm.destroy", name="a")["vm"]["stop_reason"] == "destroyed"
    check_confined(hv.proc.pid)
    assert c.call("host.info")["vms"] == 1  # b, stopped


def test_vsock_host_end_needs_vsock_option(hv, guest_elf, tmp_path):
    """Without --vsock the sandbox has no unix sockets by path, so
    vm.create refuses vsock_socket up front; with --vsock DIR the jail
    holds DIR, a vsock_socket elsewhere is refused, and the host end
    listens under the filter (the traffic itself, and a symlink out of
    the jail: test_vsock.py)."""
    sock = str(tmp_path / "a.vsock")
    with pytest.raises(ControlError, match="started without --vsock"):
        hv.client.create_vm("a", guest_elf("hmx-basic"), memory_mib=4,
                            cmdline="role=b domid=3", start=False,
                            vsock_socket=sock)
    assert not os.path.exists(sock)
    (tmp_path / "wide").mkdir()
    wide = Hypervisor(tmp_path / "wide", ("--vsock",))
    try:
        for bad in (sock, str(tmp_path / "wide" / "d" / "a.vsock"),
                    str(tmp_path / "wide" / "..")):
            with pytest.raises(ControlError, match="directly in"):
                wide.client.create_vm("a", guest_elf("hmx-basic"),
                                      memory_mib=4, cmdline="role=b domid=3",
                                      start=False, vsock_socket=bad)
        sock = os.path.join(wide.vsock_dir, "a.vsock")
        wide.client.create_vm("a", guest_elf("hmx-basic"), memory_mib=4,
                              cmdline="role=b domid=3", start=False,
                              vsock_socket=sock)
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(sock)
        check_confined(wide.proc.pid, vsock_dir=wide.vsock_dir)
        assert wide.client.call("host.info")["vms"] == 1
    finally:
        assert wide.stop() == 0, wide.log.read_text()
