# SPDX-License-Identifier: GPL-2.0-only
"""An NDVM's NIC through bulkheadd: nic = [ 'netns=...' ] is refused for
any role but ndvm and for a namespace that does not exist, each with a
message that says what to do; for an NDVM bulkheadd makes the tap inside
the namespace, starts a jailed bulkhead-net on it and hands the
hypervisor a virtio-net device; the tap goes when the VM stops, comes
back when it starts again, and a tap name already taken in the namespace
is refused. The VMs are freestanding miniguests (no Linux, no driver):
the frames themselves are test_net_vhost.py's subject."""

import os
import subprocess

import pytest

from blkctl import proc_status
from toolstack import Toolstack

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0, reason="network namespaces and taps need root")

EXIT_ERROR = 1


@pytest.fixture
def ts(tmp_path):
    t = Toolstack(tmp_path)
    t.start()
    yield t
    t.stop()


@pytest.fixture
def netns():
    name = f"bhlan{os.getpid()}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    yield name
    subprocess.run(["ip", "netns", "del", name], capture_output=True)


def link(ns, dev):
    """ip -n NS link show DEV: its output, or None if there is none."""
    r = subprocess.run(["ip", "-n", ns, "-o", "link", "show", dev],
                       capture_output=True, text=True)
    return r.stdout if r.returncode == 0 else None


def test_nic_only_for_an_ndvm(ts, tmp_path):
    path = ts.mini("web", tmp_path, nic=["netns=lan0"])
    r = ts.cli("create", path)
    assert r.returncode == EXIT_ERROR
    assert "nic: only a network device VM owns a NIC, and this VM's role " \
        "is \"guest\": write role = \"ndvm\"" in r.stderr, r.stderr
    path = ts.mini("svc", tmp_path, role="service", nic=["netns=lan0"])
    r = ts.cli("create", path)
    assert r.returncode == EXIT_ERROR and '"service"' in r.stderr
    path = ts.mini("nd", tmp_path, role="ndvm", nic=["netns=lan0, tap=a b"])
    r = ts.cli("create", path)
    assert r.returncode == EXIT_ERROR and "tap: an interface name" in \
        r.stderr
    assert "web" not in ts.vms()


def test_missing_namespace_refused(ts):
    ns = f"bhnone{os.getpid()}"
    ts.mini("nd", role="ndvm", nic=[f"netns={ns}"])
    r = ts.cli("start", "nd")
    assert r.returncode == EXIT_ERROR
    assert f'nic0: network namespace "{ns}" does not exist (no ' \
        f'/run/netns/{ns}): make it first, e.g. ip netns add {ns}' in \
        r.stderr, r.stderr
    assert ts.vm("nd")["state"] != "running"
    assert "bulkhead-net" not in subprocess.run(
        ["ps", "-eo", "comm"], capture_output=True, text=True).stdout


def test_ndvm_nic_lifecycle(ts, netns):
    subprocess.run(["ip", "-n", netns, "link", "add", "br-lan", "type",
                    "bridge"], check=True)
    ts.mini("nd", role="ndvm",
            nic=[f"netns={netns}", f"netns={netns}, tap=lan-up, "
                 "mac=02:00:5e:10:00:01, bridge=br-lan"])
    ts.ok("start", "nd")
    ts.wait_log("nd", "miniguest: up")
    vm = ts.vm("nd")
    nics = vm["nics"]
    assert [n["name"] for n in nics] == ["nic0", "nic1"]
    assert nics[0]["tap"] == "bh-nd-0" and nics[0]["netns"] == netns
    assert nics[0]["mac"].startswith("02:4e:44:")
    assert nics[1]["tap"] == "lan-up"
    assert nics[1]["mac"] == "02:00:5e:10:00:01"
    assert nics[1]["bridge"] == "br-lan" and "bridge" not in nics[0]
    assert "master br-lan" in link(netns, "lan-up")
    assert "master" not in link(netns, "bh-nd-0")
    for n in nics:
        assert n["state"] == "running"
        shown = link(netns, n["tap"])
        assert shown and ",UP" in shown, shown
        # Only in the LAN namespace: the host's own has no such device.
        assert not os.path.exists(f"/sys/class/net/{n['tap']}")
        st = proc_status(n["pid"])
        assert st["Seccomp"] == "2" and st["NoNewPrivs"] == "1"
        assert int(st["Uid"].split()[0]) != 0
        assert int(st["CapEff"], 16) == 0
    uids = {proc_status(n["pid"])["Uid"].split()[0] for n in nics}
    assert len(uids) == 2, "each device model has its own uid"
    logs = ts.state / "logs"
    text = (logs / "nd.nic0.log").read_text()
    assert "serving a virtio-net device" in text and "jailed" in text
    hv_log = (ts.state / "hv.log").read_text()
    assert "nic0" in hv_log or vm["state"] == "running"

    pids = [n["pid"] for n in nics]
    ts.ok("destroy", "nd")
    for pid in pids:
        for _ in range(100):
            if not os.path.exists(f"/proc/{pid}"):
                break
            subprocess.run(["sleep", "0.05"])
        assert not os.path.exists(f"/proc/{pid}"), pid
    assert link(netns, "bh-nd-0") is None, "the tap outlived its VM"
    assert link(netns, "lan-up") is None
    assert "stats: tx_frames=" in (logs / "nd.nic0.log").read_text()

    # Again: the same names are free.
    ts.ok("start", "nd")
    ts.wait_log("nd", "miniguest: up", after=0)
    assert link(netns, "bh-nd-0") is not None
    ts.ok("destroy", "nd")
    assert link(netns, "bh-nd-0") is None


def test_missing_bridge_refused(ts, netns):
    ts.mini("nd", role="ndvm", nic=[f"netns={netns}, bridge=br9"])
    r = ts.cli("start", "nd")
    assert r.returncode == EXIT_ERROR
    assert f'nic0: no bridge named "br9" in network namespace "{netns}": ' \
        f'make it first, e.g. ip -n {netns} link add br9 type bridge' in \
        r.stderr, r.stderr
    assert link(netns, "bh-nd-0") is None, "a half-made tap was left"


def test_tap_name_taken_refused(ts, netns):
    subprocess.run(["ip", "-n", netns, "link", "add", "taken0", "type",
                    "bridge"], check=True)
    ts.mini("nd", role="ndvm", nic=[f"netns={netns}, tap=taken0"])
    r = ts.cli("start", "nd")
    assert r.returncode == EXIT_ERROR
    assert f'nic0: an interface named "taken0" already exists in network ' \
        f'namespace "{netns}"' in r.stderr, r.stderr
    # The existing device was left alone.
    assert "bridge" in subprocess.run(
        ["ip", "-n", netns, "-d", "-o", "link", "show", "taken0"],
        capture_output=True, text=True).stdout


def test_daemon_restart_keeps_the_nic(ts, netns):
    """bulkheadd killed and started again: the NDVM, its device model and
    its tap are still there, watched again, and stop with the VM."""
    ts.mini("nd", role="ndvm", nic=[f"netns={netns}"])
    ts.ok("start", "nd")
    ts.wait_log("nd", "miniguest: up")
    pid = ts.vm("nd")["nics"][0]["pid"]
    ts.kill9()
    ts.start()
    nic = ts.vm("nd")["nics"][0]
    assert nic["pid"] == pid and nic["state"] == "running"
    assert link(netns, "bh-nd-0") is not None
    ts.ok("destroy", "nd")
    assert not os.path.exists(f"/proc/{pid}/status") or \
        proc_status(pid).get("State", "").startswith("Z")
    assert link(netns, "bh-nd-0") is None
