# SPDX-License-Identifier: GPL-2.0-only
"""Networking as users write it: a Debian NDVM (role = "ndvm") and a
Debian guest with vif = [ 'backend=ndvm, mac=...', 'backend=ndvm' ],
driven only through the bulkhead CLI. Nothing here writes a firewall
rule or a hmxnet parameter: the toolstack compiles both. One boot of the
guest and two of the NDVM check the command lines each VM booted with
(and that they are the measured ones), both vifs' carriers and
addresses, DHCP from the NDVM's dnsmasq by the configured MAC, ping and a
TCP transfer checked by sha256, network-list, an NDVM kernel panic
(restarted by the daemon under the same domid, counted and audited; the
guest's carrier off then on, its lease renewed, traffic resumed) and the
guest's vifs leaving the NDVM when it stops."""

import hashlib
import json
import re
import time

import pytest

from conftest import guest_cmdline
from netguest import PRELUDE, bridge_vifs
from test_toolstack import ts  # noqa: F401
from test_vsock import vsock_guest  # noqa: F401

pytestmark = pytest.mark.linux_guest

MAC = "02:00:5e:10:00:01"
BLOB_MIB = 8

# The NDVM: a bridge with dnsmasq, and a hotplug loop that bridges every
# vif hmxnet makes on demand (and says when one goes).
NDVM = PRELUDE + f"""
echo "ndvm-cmdline $(tr ' ' '\\n' </proc/cmdline | grep ^hmxnet | tr '\\n' ' ')"
brctl addbr br0; noip6 br0; ip link set br0 up; ip addr add 10.99.0.1/24 dev br0
dnsmasq -i br0 --bind-interfaces -p 0 -u root -g root -l /tmp/leases -x /tmp/dm.pid \\
 --dhcp-range=10.99.0.100,10.99.0.150,1h --dhcp-host={MAC},10.99.0.7 && echo ndvm-dnsmasq
(socat -u TCP-LISTEN:7000,reuseaddr OPEN:/tmp/got,creat,trunc
 echo "ndvm-sum $(sha256sum /tmp/got | cut -d' ' -f1) ndvm-sum-end") &
""" + bridge_vifs("ndvm", gone=True) + """
echo ndvm-ready; read go
echo ndvm-panics; echo c > /proc/sysrq-trigger
"""

# The guest: hmx0 (mac= given) and hmx1 (the derived address).
WEB = PRELUDE + f"""
echo "web-cmdline $(tr ' ' '\\n' </proc/cmdline | grep ^hmxnet | tr '\\n' ' ')"
echo "web-cmdline-sha $(printf %s "$(cat /proc/cmdline)" | sha256sum | cut -d' ' -f1)"
noip6 hmx0; noip6 hmx1; ip link set hmx0 up; ip link set hmx1 up; up hmx0; up hmx1
echo "web-macs $(cat /sys/class/net/hmx0/address) $(cat /sys/class/net/hmx1/address)"
dhcp hmx0 web
ping -c 3 -W 5 10.99.0.1 >/dev/null && echo web-ping-ok
dd if=/dev/urandom of=/tmp/blob bs=1M count={BLOB_MIB} 2>/dev/null
echo "web-sum $(sha256sum /tmp/blob | cut -d' ' -f1)"
socat -u FILE:/tmp/blob TCP:10.99.0.1:7000 && echo web-sent
echo web-phase1
i=0; until [ "$(cat /sys/class/net/hmx0/carrier)" = 0 ]; do sleep 0.2
i=$((i+1)); [ $i -lt 1500 ] || break; done; echo "web-carrier-off after=$i"
i=0; until [ "$(cat /sys/class/net/hmx0/carrier)" = 1 ]; do sleep 0.2
i=$((i+1)); [ $i -lt 3000 ] || break; done; echo "web-carrier-on after=$i"
ip addr flush dev hmx0; dhcp hmx0 web-again
i=0; until ping -c 1 -W 1 10.99.0.1 >/dev/null; do i=$((i+1))
[ $i -lt 120 ] || break; done; [ $i -lt 120 ] && echo web-resumed
read go
"""


def network(ts, name):
    return json.loads(ts.ok("network-list", "--json", name))


def vif_entries(ts):
    pol = json.loads(ts.ok("policy", "show", "--json"))["policy"]
    return [e for e in pol["entries"]
            if pol["origins"][e["origin"]]["kind"] == "vif"]


def test_guest_on_an_ndvm_through_the_cli(ts, vsock_guest):  # noqa: F811
    kernel, initrd = vsock_guest
    ts.define("ndvm", role="ndvm", memory=256, kernel=kernel, ramdisk=initrd,
              cmdline=guest_cmdline(NDVM))
    ts.define("web", memory=256, kernel=kernel, ramdisk=initrd,
              cmdline=guest_cmdline(WEB),
              vif=[f"backend=ndvm, mac={MAC}", "backend=ndvm"])
    try:
        run(ts)
    finally:
        for name in ("ndvm", "web"):
            log = ts.console_log(name)
            if log.exists():
                text = log.read_text(errors="replace")
                print(f"===== console of {name}\n{text[-5000:]}")


def run(ts):
    ts.ok("start", "ndvm")
    ts.wait_log("ndvm", "ndvm-ready", timeout=600)
    ts.ok("start", "web")
    nd, web = ts.vm("ndvm")["domid"], ts.vm("web")["domid"]

    # Each booted with what the toolstack added, and measured it.
    log = ts.wait_log("web", "web-phase1", timeout=900)
    assert f"web-cmdline hmxnet.front={nd},{nd} hmxnet.mac={MAC}, " in log
    m = json.loads(ts.ok("measure", "--json", "web"))
    cmd = [e for e in m["events"] if e["what"] == "cmdline"][0]
    booted = re.search(r"web-cmdline-sha ([0-9a-f]{64})", log)[1]
    assert hashlib.sha256(cmd["detail"].encode()).hexdigest() == booted
    ndvm_log = ts.wait_log("ndvm", f"ndvm-port vif{web}.1", timeout=300)
    assert "ndvm-cmdline hmxnet.serve=8 " in ndvm_log, ndvm_log[-3000:]
    assert f"ndvm-port vif{web}.0" in ndvm_log

    # Both vifs up, the configured and the derived address; DHCP by the
    # configured one; ping and a transfer through the NDVM's bridge.
    derived = f"02:48:4d:{web >> 8:02x}:{web & 0xff:02x}:01"
    assert f"web-macs {MAC} {derived}" in log, log[-3000:]
    assert "web-ip 10.99.0.7/24" in log, log[-3000:]
    assert "web-ping-ok" in log and "web-sent" in log, log[-3000:]
    want = re.search(r"web-sum ([0-9a-f]{64})", log)[1]
    ndvm_log = ts.wait_log("ndvm", "ndvm-sum-end", timeout=300)
    assert re.search(r"ndvm-sum ([0-9a-f]{64})", ndvm_log)[1] == want
    vifs = network(ts, "web")
    assert [(v["backend_domid"], v["mac"], v["state"]) for v in vifs] == \
        [(nd, MAC, "up"), (nd, derived, "up")]

    # The NDVM's kernel panics: the daemon restarts it under its domid
    # (on_crash = "restart", the default of NDVMs), counted and audited;
    # the guest's carrier goes off and comes back, it renews its lease
    # and its traffic resumes.
    size = ts.console_log("ndvm").stat().st_size
    ts.console_send("ndvm", b"go\n", wait_for="ndvm-panics")
    ts.wait_log("web", "web-carrier-off", timeout=300)
    deadline = time.monotonic() + 300
    while ts.vm("ndvm")["crash_restarts"] != 1:
        assert time.monotonic() < deadline, ts.vm("ndvm")
        time.sleep(0.5)
    v = ts.wait_state("ndvm", "running", timeout=60)
    assert v["domid"] == nd, v
    audit = json.loads(ts.ok("policy", "show", "--json", "--audit", "1024"))
    texts = [(e["kind"], e.get("rule_text")) for e in
             audit["audit"]["entries"] if e["kind"].startswith("vm.")]
    assert ("vm.crash-restart",
            "crashed (guest kernel panic): restart 1") in texts, texts
    log = ts.wait_log("web", "web-again-ip", timeout=900)
    assert "web-again-ip 10.99.0.7/24" in log, log[-3000:]
    log = ts.wait_log("web", "web-resumed", timeout=300)
    assert [v["state"] for v in network(ts, "web")] == ["up"] * 2
    assert len(vif_entries(ts)) == 4

    # The guest stops: its vifs leave the NDVM, its rules the firewall.
    ts.wait_log("ndvm", f"ndvm-port vif{web}.1", timeout=300, after=size)
    ts.ok("destroy", "web")
    ts.wait_log("ndvm", f"ndvm-gone vif{web}.0", timeout=120, after=size)
    assert vif_entries(ts) == []
