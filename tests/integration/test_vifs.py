# SPDX-License-Identifier: GPL-2.0-only
"""Vifs through bulkheadd with freestanding guests (miniguest), so no
Linux boots: a vif's backend must be defined, a backend (role ndvm or
service, HMX on) and running; the default backend is the only NDVM; the
guest's command line gets hmxnet.front= (and hmxnet.mac=), measured; the
firewall gets exactly each vif's port pair, explained by policy check and
gone when the guest or its backend stops; a restarted NDVM gets its domid
back; network-list and vm.network say where each vif went; bad specs are
refused at their line and column. What a Linux guest's hmxnet makes of
all this is test_hmxnet.py's business."""

import json
import re
import time

import pytest

from hvctl import HvClient
from toolstack import MINIGUEST, Toolstack

EXIT_OK, EXIT_ERROR, EXIT_DENIED = 0, 1, 7
NET0 = 0xfffe0000  # HMX_NET_APORT(0), include/bulkhead/hmx_net.h
NET1 = NET0 + 1


@pytest.fixture
def ts(tmp_path):
    t = Toolstack(tmp_path)
    t.start()
    yield t
    t.stop()


def start_fails(ts, name, want):
    r = ts.cli("start", name)
    assert r.returncode == EXIT_ERROR, (r.stdout, r.stderr)
    assert r.stderr == f"bulkhead: {want}\n", r.stderr
    assert ts.vm(name)["state"] in ("off", "stopped")


def vif_entries(ts):
    """The installed entries that came from vifs, as tuples."""
    show = json.loads(ts.ok("policy", "show", "--json"))
    assert show["enforced"] is True
    pol = show["policy"]
    return [(e["src_domid"], e["src_port"], e["dst_domid"], e["dst_port"],
             e["action"]) for e in pol["entries"]
            if pol["origins"][e["origin"]]["kind"] == "vif"]


def network(ts, name):
    return json.loads(ts.ok("network-list", "--json", name))


def measured_cmdline(ts, name):
    m = json.loads(ts.ok("measure", "--json", name))
    return [e["detail"] for e in m["events"] if e["what"] == "cmdline"][0]


def test_backend_must_be_a_running_backend(ts):
    ts.mini("web", vif=["backend=ndvm"])
    start_fails(ts, "web",
                "vif 0: backend ndvm: no VM of that name is defined")
    # A stopped backend is started first, for its guest.
    ts.mini("ndvm", role="ndvm")
    ts.ok("start", "web")
    assert ts.vm("ndvm")["state"] == "running"
    assert network(ts, "web")[0]["state"] == "up"
    ts.ok("destroy", "web")

    # A guest is no backend, running or not.
    ts.mini("other")
    ts.ok("start", "other")
    ts.mini("web2", vif=["", "backend=other"])
    start_fails(ts, "web2", 'vif 1: backend other has role "guest"; '
                'a backend has role "ndvm" or "service"')

    # A service VM may serve; one without HMX may not.
    ts.mini("vpn", role="service", hmx=False)
    ts.mini("web3", vif=["backend=vpn"])
    ts.ok("start", "vpn")
    start_fails(ts, "web3", "vif 0: backend vpn has hmx = off, and "
                "hmxnet runs over HMX")
    ts.ok("destroy", "vpn")
    ts.mini("vpn", role="service")
    ts.ok("start", "vpn")
    ts.ok("start", "web3")
    assert network(ts, "web3")[0]["backend"] == "vpn"
    # Nothing of a refused start is left behind.
    assert ts.vm("web2")["state"] == "off"
    assert not (ts.state / "measure" / "web2.eventlog").exists()


def test_default_backend(ts):
    ts.mini("web", vif=[""])
    start_fails(ts, "web", 'vif 0 has no backend= and no VM with role '
                '"ndvm" is defined: write backend=NAME')
    # The only NDVM cannot be its own default backend.
    ts.mini("lan", role="ndvm", vif=[""])
    start_fails(ts, "lan", "vif 0: its default backend is the only NDVM, "
                "lan, which is this VM itself: write backend=NAME")
    ts.mini("lan", role="ndvm")
    ts.ok("start", "lan")
    ts.ok("start", "web")
    lan = ts.vm("lan")["domid"]
    vifs = network(ts, "web")
    assert [(v["backend"], v["backend_given"], v["backend_domid"])
            for v in vifs] == [("lan", False, lan)]

    # A second NDVM makes the default ambiguous, running or not.
    ts.mini("lan2", role="ndvm")
    ts.mini("web2", vif=[""])
    r = ts.cli("start", "web2")
    assert r.returncode == EXIT_ERROR
    assert re.fullmatch(
        r'bulkhead: vif 0 has no backend= and 2 VMs have role "ndvm" '
        r'\((lan, lan2|lan2, lan)\): write backend=NAME\n', r.stderr), \
        r.stderr
    # A stopped guest's vifs, as defined: no domid, no derived MAC yet.
    assert network(ts, "web2") == [{
        "index": 0, "aport": NET0, "backend": None, "backend_given": False,
        "backend_domid": None, "mac": None, "mac_given": False, "ip": [],
        "state": "off"}]


def test_rules_cmdline_and_network_list(ts):
    ts.mini("ndvm", role="ndvm")
    path = ts.mini("web", vif=["backend=ndvm, mac=02:16:3E:00:00:01, "
                               "ip=10.0.0.5 10.0.0.6", ""])
    ts.ok("start", "ndvm")
    ts.ok("start", "web")
    nd, web = ts.vm("ndvm")["domid"], ts.vm("web")["domid"]

    # What the guests boot with, measured.
    assert measured_cmdline(ts, "ndvm") == "hmxnet.serve=8"
    assert measured_cmdline(ts, "web") == \
        f"hmxnet.front={nd},{nd} hmxnet.mac=02:16:3e:00:00:01,"

    # Exactly each vif's port pair, both ways.
    assert vif_entries(ts) == [(web, NET0, nd, NET0, "accept"),
                               (nd, NET0, web, NET0, "accept"),
                               (web, NET1, nd, NET1, "accept"),
                               (nd, NET1, web, NET1, "accept")]
    r = ts.cli("policy", "check", f"web:{NET0}", f"ndvm:{NET0}")
    assert r.returncode == EXIT_OK, r.stdout
    assert r.stdout.splitlines()[1:] == [
        "decision: accept",
        f"by: entry #1 of 4: accept web({web}):{NET0} -> ndvm({nd}):{NET0}",
        f'vif: "vif 0 to backend ndvm: hmxnet port {NET0} '
        '(HMX_NET_APORT(0)) both ways"',
        f"from: VM web, vif[0], {path}:2:9"]
    r = ts.cli("policy", "check", f"ndvm:{NET1}", f"web:{NET1}")
    assert r.returncode == EXIT_OK and "vif[1]" in r.stdout, r.stdout
    for src, dst in ((f"web:{NET0}", f"ndvm:{NET1}"),
                     (f"web:{NET1}", f"ndvm:{NET0}"),
                     (f"web:1", f"ndvm:{NET0}"),
                     (f"web:{NET0}", "host:5555")):
        r = ts.cli("policy", "check", src, dst)
        assert r.returncode == EXIT_DENIED and "default deny" in r.stdout
    show = ts.ok("policy", "show")
    assert f"{path}:2 web vif[0] " in show, show

    # network-list, as a table and as JSON.
    table = ts.ok("network-list", "web").splitlines()
    assert table[0].split() == ["IDX", "BACKEND", "BE-ID", "MAC", "IP",
                                "STATE"]
    assert table[1].split() == ["0", "ndvm", str(nd), "02:16:3e:00:00:01",
                                "10.0.0.5,10.0.0.6", "up"]
    derived = f"02:48:4d:{web >> 8:02x}:{web & 0xff:02x}:01"
    assert table[2].split() == ["1", "ndvm", str(nd), derived, "-", "up"]
    vifs = network(ts, "web")
    assert vifs[0] == {"index": 0, "aport": NET0, "backend": "ndvm",
                       "backend_given": True, "backend_domid": nd,
                       "mac": "02:16:3e:00:00:01", "mac_given": True,
                       "ip": ["10.0.0.5", "10.0.0.6"], "state": "up"}
    assert (vifs[1]["mac"], vifs[1]["mac_given"], vifs[1]["aport"]) == \
        (derived, False, NET1)
    assert network(ts, "ndvm") == []
    r = ts.cli("network-list", "nosuch")
    assert r.returncode == 3 and "no VM named" in r.stderr

    # The backend stops: its guest's rules go with it, and come back
    # when it returns under the same domid.
    ts.ok("destroy", "ndvm")
    assert vif_entries(ts) == []
    assert [v["state"] for v in network(ts, "web")] == \
        ["backend-stopped"] * 2
    ts.mini("filler")
    ts.ok("start", "filler")  # takes the next domid, not the NDVM's
    ts.ok("start", "ndvm")
    assert ts.vm("ndvm")["domid"] == nd
    assert [v["state"] for v in network(ts, "web")] == ["up"] * 2
    assert len(vif_entries(ts)) == 4

    # The guest stops: its vif rules go.
    ts.ok("destroy", "web")
    assert vif_entries(ts) == []
    assert [v["state"] for v in network(ts, "web")] == ["off"] * 2


def test_backend_moved(ts):
    """A backend whose domid was taken meanwhile starts under another:
    its guests' hmxnet.front= names the old one, so their vifs stay
    closed, and say so, until the guests restart."""
    ts.mini("ndvm", role="ndvm")
    ts.mini("web", vif=[""])
    ts.ok("start", "ndvm")
    ts.ok("start", "web")
    nd = ts.vm("ndvm")["domid"]
    ts.ok("destroy", "ndvm")
    # A domain the daemon does not know takes the NDVM's domid.
    with HvClient(str(ts.state / "hv.sock")) as c:
        c.create_vm("squat", MINIGUEST, memory_mib=16, domid=nd,
                    start=False)
    try:
        ts.ok("start", "ndvm")
        nd2 = ts.vm("ndvm")["domid"]
        assert nd2 != nd
        vif = network(ts, "web")[0]
        assert (vif["state"], vif["backend_domid"],
                vif["backend_domid_now"]) == ("backend-moved", nd, nd2)
        assert vif_entries(ts) == []
        # A new instance of the guest is told the new domid.
        ts.ok("destroy", "web")
        ts.ok("start", "web")
        vif = network(ts, "web")[0]
        assert (vif["state"], vif["backend_domid"]) == ("up", nd2)
        assert len(vif_entries(ts)) == 2
    finally:
        with HvClient(str(ts.state / "hv.sock")) as c:
            c.call("vm.destroy", name="squat")


def test_daemon_restart_and_ndvm_reboot(ts):
    """Where vifs went survives the daemon's restart (state.json), and an
    NDVM that reboots itself comes back under its domid."""
    ts.mini("ndvm", role="ndvm")
    ts.mini("web", vif=[""])
    ts.ok("start", "ndvm")
    ts.ok("start", "web")
    nd, web = ts.vm("ndvm")["domid"], ts.vm("web")["domid"]
    want = [(web, NET0, nd, NET0, "accept"), (nd, NET0, web, NET0, "accept")]
    assert vif_entries(ts) == want
    ts.kill9()
    ts.start()
    assert network(ts, "web")[0]["state"] == "up"
    assert vif_entries(ts) == want

    ts.wait_log("ndvm", "miniguest: up")
    ts.console_send("ndvm", b"r")  # the miniguest resets: a reboot
    deadline = time.monotonic() + 30
    while ts.vm("ndvm")["guest_reboots"] != 1 or \
            ts.vm("ndvm")["state"] != "running":
        assert time.monotonic() < deadline, ts.vm("ndvm")
        time.sleep(0.05)
    assert ts.vm("ndvm")["domid"] == nd
    assert network(ts, "web")[0]["state"] == "up"
    assert vif_entries(ts) == want


def test_bad_specs_are_located(ts, tmp_path):
    path = ts.mini("web", tmp_path, vif=["", "backend=ndvm, bridge=br0"])
    r = ts.cli("create", path)
    assert r.returncode == EXIT_ERROR
    assert r.stderr == (
        f'bulkhead: {path}:2:13: vif[1]: "backend=ndvm, bridge=br0": '
        "bridge: not a vif key in Bulkhead: bridging is configured "
        "inside the NDVM, not in the guest's definition (at character 15 "
        "of the spec)\n"), r.stderr
    path = ts.mini("web", tmp_path, vif=["mac=01:00:5e:00:00:01"])
    r = ts.cli("create", path)
    assert r.returncode == EXIT_ERROR
    assert re.match(rf"bulkhead: {re.escape(str(path))}:2:9: vif\[0\]: "
                    r'"mac=01:00:5e:00:00:01": mac: 01:00:5e:00:00:01 is a '
                    r"multicast address", r.stderr), r.stderr
    path = ts.mini("web", tmp_path, vif=["model=e1000"])
    r = ts.cli("create", path)
    assert "model: e1000 is a NIC emulated by a device model" in r.stderr
    path = ts.mini("web", tmp_path, vif=["backend=web"])
    r = ts.cli("create", path)
    assert f"{path}:2:9: vif[0]: backend=web is this VM itself" in r.stderr
    assert "web" not in ts.vms()
    # In the config directory, the file is skipped, located in the log.
    cfg = ts.mini("cfgdir", vif=["type=ioemu"])
    r = ts.cli("start", "cfgdir")
    assert r.returncode == 3 and "no VM named" in r.stderr
    assert (f'{cfg}:2:9: vif[0]: "type=ioemu": type: ioemu is a NIC '
            "emulated by a device model") in ts.daemon_log.read_text()


def test_backends_start_first_chains_and_loops(ts):
    """Starting a guest starts the service VMs its vifs need, theirs
    too (guest -> vpn -> ndvm); backends that need each other are
    refused, and nothing of them is left running."""
    ts.mini("ndvm", role="ndvm")
    ts.mini("vpn", role="service", vif=["backend=ndvm"])
    ts.mini("web", vif=["backend=vpn"])
    ts.ok("start", "web")
    vms = ts.vms()
    assert [vms[n]["state"] for n in ("ndvm", "vpn", "web")] == \
        ["running"] * 3
    # Started in dependency order: each backend's domid came first.
    assert vms["ndvm"]["domid"] < vms["vpn"]["domid"] < vms["web"]["domid"]
    assert [v["state"] for v in network(ts, "vpn") + network(ts, "web")] \
        == ["up", "up"]

    ts.mini("s1", role="service", vif=["backend=s2"])
    ts.mini("s2", role="service", vif=["backend=s1"])
    r = ts.cli("start", "s1")
    assert r.returncode == EXIT_ERROR, r.stderr
    assert "(or in a loop) are not started for you" in r.stderr, r.stderr
    vms = ts.vms()
    assert {vms["s1"]["state"], vms["s2"]["state"]} <= {"off", "stopped"}


def crash(ts, name):
    """Crashes the miniguest (triple fault) and waits for the stop, or
    for the restart that follows it."""
    before = ts.vm(name)["crash_restarts"]
    ts.console_send(name, b"c")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        v = ts.vm(name)
        if v["crash_restarts"] != before or v["state"] != "running":
            return
        time.sleep(0.05)
    raise TimeoutError(f"{name} did not crash")


def test_service_vm_crash_restarts(ts):
    """on_crash = "restart", the default of service VMs: a crashed NDVM
    comes back under its domid, counted, audited, its guest's vifs up
    again; a crash loop is left stopped. Guests default to destroy."""
    ts.mini("ndvm", role="ndvm")
    ts.mini("web", vif=["backend=ndvm"])
    ts.ok("start", "web")
    nd = ts.vm("ndvm")["domid"]
    for n in range(1, 6):
        size = ts.console_log("ndvm").stat().st_size
        crash(ts, "ndvm")
        v = ts.wait_state("ndvm", "running")
        assert (v["domid"], v["crash_restarts"]) == (nd, n), v
        ts.wait_log("ndvm", "miniguest: up", after=size)
        assert network(ts, "web")[0]["state"] == "up"
    assert "5 crash restarts" in ts.ok("list", "ndvm")
    show = json.loads(ts.ok("policy", "show", "--json", "--audit", "64"))
    kinds = [e["kind"] for e in show["audit"]["entries"]]
    assert kinds.count("vm.crash-restart") == 5, kinds
    # The sixth crash within five minutes: a loop, left stopped.
    crash(ts, "ndvm")
    v = ts.wait_state("ndvm", "stopped")
    assert (v["stop_reason"], v["crash_restarts"]) == ("crash", 5), v
    show = json.loads(ts.ok("policy", "show", "--json", "--audit", "64"))
    loop = [e for e in show["audit"]["entries"] if e["kind"] == "vm.crash-loop"]
    assert len(loop) == 1 and "left stopped" in loop[0]["rule_text"], loop
    assert network(ts, "web")[0]["state"] == "backend-stopped"

    # A guest stays stopped by default, restarts when it says so.
    crash(ts, "web")
    assert ts.wait_state("web", "stopped")["crash_restarts"] == 0
    ts.mini("web", vif=["backend=ndvm"], on_crash="restart")
    ts.ok("start", "web")  # and its NDVM again, first
    crash(ts, "web")
    assert ts.wait_state("web", "running")["crash_restarts"] == 1
