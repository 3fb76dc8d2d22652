# SPDX-License-Identifier: GPL-2.0-only
"""scripts/demo, the README's first command, run as a user runs it and
checked step by step: two Debian guests, data over HMX between them, a
denied flow refused and audited, a disk whose note survives a restart of
its VM, and nothing left running afterwards. It boots three Linux guests
(demo-a twice, demo-b once), so it is a linux_guest test; its argument
errors are checked without a boot."""

import os
import re
import subprocess

import pytest

from conftest import BUILD_DIR, SOURCE_ROOT

DEMO = SOURCE_ROOT / "scripts" / "demo"


def demo(*args, timeout=60):
    return subprocess.run([str(DEMO), *args], capture_output=True, text=True,
                          timeout=timeout)


def test_demo_usage_and_bad_arguments():
    r = demo("--help")
    assert r.returncode == 0 and r.stdout.startswith("usage: scripts/demo")
    for flag in ("--keep", "--work-dir", "--no-build"):
        assert flag in r.stdout
    r = demo("--frobnicate")
    assert r.returncode == 1
    assert r.stderr == ('demo: error: unknown argument "--frobnicate" '
                        "(scripts/demo --help)\n")
    r = demo("--no-build", "--work-dir")
    assert r.returncode == 1 and "--work-dir needs a directory" in r.stderr


def processes_with(text):
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if text.encode() in f.read():
                    found.append(pid)
        except OSError:
            pass
    return found


@pytest.mark.linux_guest
def test_demo_runs_every_step(tmp_path):
    work = tmp_path / "demo"
    r = demo("--no-build", "--work-dir", str(work), timeout=2400)
    out = r.stdout.replace("\r", "")
    assert r.returncode == 0, out[-6000:] + r.stderr[-3000:]
    assert out.rstrip().endswith("Demo complete.")
    # Every step is shown as the command a user would type.
    for cmd in ("$ bulkhead create", "$ bulkhead list", "$ bulkhead block-list",
                "$ bulkhead policy show --audit 5",
                "$ bulkhead policy check demo-b:5000 demo-a:1001",
                "$ bulkhead reboot --timeout 300s demo-a",
                "$ bulkhead shutdown --timeout 120s --force demo-a"):
        assert cmd in out, cmd
    assert re.search(r"^xvda\s.*demo-a\.img", out, re.M), out
    vsock = (BUILD_DIR / "guest" / "vsock.cpio.gz").exists()
    if vsock:
        assert "demo: received: hello from demo-b, over HMX" in out, out
        assert re.search(r"demo: denied: .*(not permitted|EPERM)", out), out
        # The network scene: the guest's vif on the default NDVM, which
        # was started first, and the LAN's file fetched through it intact.
        assert "$ bulkhead start demo-web" in out, out[-4000:]
        assert "demo-web's backend, demo-ndvm, was started first" in out
        assert re.search(r"^\s*0\s+demo-ndvm\s+\d+\s+\S+\s+-\s+up$", out,
                         re.M), out[-4000:]
        assert "demo: NAT for guests out of eth0 (nftables)" in out
        want = re.search(r"The LAN server's file: sha256 ([0-9a-f]{64})",
                         out)
        assert want and f"demo: fetched from the LAN: sha256 {want[1]}" \
            in out, out[-4000:]
    # The freestanding peers: one send delivered, one refused.
    assert "peer-a (domid" in out
    assert "(exit status 7: rejected)" in out
    # The disk: written at the first boot, read back after the restart.
    first = re.search(r"demo: disk: wrote /mnt/note.txt on /dev/vda: (.+)",
                      out)
    assert first, out
    assert ("demo: disk: after the restart /mnt/note.txt still says: " +
            first.group(1)) in out
    assert (work / "demo-a.img").stat().st_size == 64 << 20
    # Nothing of it is left running.
    assert "bulkheadd and the hypervisor have exited" in out
    assert processes_with(str(work)) == []
    netns = subprocess.run(["ip", "netns", "list"], capture_output=True,
                           text=True).stdout
    assert "bhdemo-lan" not in netns, netns
