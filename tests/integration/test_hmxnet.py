# SPDX-License-Identifier: GPL-2.0-only
"""hmxnet: Ethernet between real Debian guests over HMX: two frontends
(hmx0) and their backend, which serves on demand (serve=1, as an NDVM
does: vif3.0 and vif5.0 appear when the guests say HELLO), with the
firewall allowing exactly each vif's pair of ports. One boot each, many
checks: the carrier comes up on both sides, the second guest's vif goes
when that guest is destroyed, ping both ways, a 32 MiB TCP
transfer checked by sha256 that travels as segmentation jobs (average
frame far above the MTU, so TSO and checksum offload crossed), an MTU of
60000, what the stats count, a freestanding hostile frontend flooding
the backend with runt, oversized and malformed frames and broadcasts
during that transfer (each refused frame counted, the transfer intact, no
kernel warning), a frame the firewall refuses once the rules are gone,
the carrier dropping when the backend VM is destroyed, a clean module
unload, and mac= values the module refuses."""

import re
import time

import pytest

from conftest import read_until
from netguest import PRELUDE
from test_vsock import guests, hv_args, rule, vsock_guest  # noqa: F401

pytestmark = pytest.mark.linux_guest

NET_APORT0 = 0xfffe0000  # HMX_NET_APORT(0), include/bulkhead/hmx_net.h
BLOB_MIB = 32



# The frontend: the guest.
SCRIPT_A = PRELUDE + f"""
noip6 hmx0; ip link set hmx0 up
up hmx0; echo "a-carrier $(cat /sys/class/net/hmx0/address)"; dhcp hmx0 a
ping -c 3 -W 5 10.99.0.1 >/dev/null && echo a-ping-ok
ping -c 3 -W 5 10.99.0.5 >/dev/null && echo a-ping-c-ok
dd if=/dev/urandom of=/tmp/blob bs=1M count={BLOB_MIB} 2>/dev/null
echo "a-sum $(sha256sum /tmp/blob | cut -d' ' -f1)"
read go
t0=$(date +%s.%N)
socat -u FILE:/tmp/blob TCP:10.99.0.1:7000 && echo a-sent
t1=$(date +%s.%N); echo "a-secs $t0 $t1"
ip link set hmx0 mtu 60000 && ping -c 2 -W 5 -s 59000 10.99.0.1 \
  >/dev/null && echo a-bigping-ok
nstat hmx0; echo a-phase1
read go
ping -c 2 -W 2 10.99.0.1 >/dev/null || echo a-refused
nstat hmx0; echo a-phase2
read go
sleep 1; echo "a-after-destroy carrier=$(cat /sys/class/net/hmx0/carrier)"
ip link set hmx0 down; rmmod hmxnet; echo "a-rmmod rc=$?"
echo "a-core $(cat /sys/module/hmx_core/parameters/state)"
m=$(echo /lib/modules/*/extra/hmxnet.ko)
insmod $m front=4 mac=01:00:5e:00:00:01; echo "a-multicast rc=$?"; rmmod hmxnet 2>/dev/null
insmod $m front=4 mac=02:00:00:00:00:01,02:00:00:00:00:02; echo "a-extra rc=$?"; rmmod hmxnet 2>/dev/null
insmod $m mac=02:00:00:00:00:01; echo "a-nofront rc=$?"; rmmod hmxnet 2>/dev/null
"""

# A second guest of the same backend and bridge, destroyed early.
SCRIPT_C = PRELUDE + """
noip6 hmx0; ip link set hmx0 up; up hmx0; dhcp hmx0 c
echo "c-mac $(cat /sys/class/net/hmx0/address)"
i=0; until ping -c 1 -W 1 10.99.0.3 >/dev/null; do i=$((i+1))
[ $i -lt 120 ] || break; done; [ $i -lt 120 ] && echo c-ping-a-ok
echo c-done; read go
"""

# The backend, as an NDVM serves guests 3 and 5 (their vifs come on
# demand) on one bridged network, with dnsmasq handing out addresses.
SCRIPT_B = PRELUDE + """
dmesg -c >/dev/null  # boot's own warnings (the nested CPU's) are not ours
appear() { until [ -e /sys/class/net/$1 ]; do sleep 0.2; done; }
port() { appear $1; noip6 $1; ip link set $1 mtu 60000 up; brctl addif br0 $1; }
brctl addbr br0; noip6 br0; ip link set br0 up; ip addr add 10.99.0.1/24 dev br0
dnsmasq -i br0 --bind-interfaces -p 0 -u root -g root -l /tmp/leases -x /tmp/dm.pid \
 --dhcp-range=10.99.0.100,10.99.0.150,1h --dhcp-host=02:48:4d:00:03:00,10.99.0.3 \
 --dhcp-host=02:00:5e:10:00:05,10.99.0.5 && echo b-dnsmasq
(port vif6.0; up vif6.0; echo b-flood-up) &
(port vif5.0; up vif5.0; echo b-c-up
 while [ -e /sys/class/net/vif5.0 ]; do sleep 0.2; done; echo b-c-gone) &
port vif3.0; ip link set br0 mtu 60000
up vif3.0; echo "b-carrier $(cat /sys/class/net/vif3.0/address)"
socat -u TCP-LISTEN:7000,reuseaddr OPEN:/tmp/got,creat,trunc &
i=0; until ping -c 1 -W 1 10.99.0.3 >/dev/null; do i=$((i+1))
[ $i -lt 120 ] || break; done; [ $i -lt 120 ] && echo b-ping-ok
echo b-ready
wait; echo "b-sum $(sha256sum /tmp/got | cut -d' ' -f1)"
nstat vif3.0; echo b-phase1
read go
nstat vif3.0; nstat vif6.0; dmesg | grep -A3 -e 'BUG:' -e 'Oops' -e 'WARNING:' | head -20
echo "b-oops $(dmesg | grep -c -e 'BUG:' -e 'Oops' -e 'WARNING:')"
echo b-flood-stats
read go
"""


def stats(log, who):
    lines = [line for line in log.splitlines()
             if line.startswith(f"stat {who} ")]
    assert lines, log[-3000:]
    return {k: int(v) for k, v in
            (kv.split("=") for kv in lines[-1].split()[2:])}


def test_frontend_and_backend(hv, guests, guest_elf, tmp_path):
    g = guests
    ids = {"a": 3, "b": 4, "c": 5}
    flood = 6  # a freestanding hostile frontend of the same backend
    extra = {"a": "hmxnet.front=4", "b": "hmxnet.serve=1",
             "c": "hmxnet.front=4 hmxnet.mac=02:00:5e:10:00:05"}
    for name, script in (("a", SCRIPT_A), ("b", SCRIPT_B), ("c", SCRIPT_C)):
        g.create(name, script, extra=extra[name])
    a, b, c = ids["a"], ids["b"], ids["c"]
    assert (g.domid["a"], g.domid["b"], g.domid["c"]) == (a, b, c)
    hv.client.call("hmx.firewall.set", rules=[
        rule(a, NET_APORT0, b, NET_APORT0),
        rule(b, NET_APORT0, a, NET_APORT0),
        rule(c, NET_APORT0, b, NET_APORT0),
        rule(b, NET_APORT0, c, NET_APORT0),
        rule(flood, NET_APORT0, b, NET_APORT0),
        rule(b, NET_APORT0, flood, NET_APORT0)])
    g.start()

    # Both guests got their addresses from the NDVM's dnsmasq, by the MAC
    # hmxnet gave them, and reach each other through its bridge.
    log_a = g.wait("a", "a-sum")
    log_c = g.wait("c", "c-done")
    log_b = g.wait("b", "b-ready")
    assert "b-dnsmasq" in log_b, log_b[-3000:]
    assert "a-ip 10.99.0.3/24" in log_a, log_a[-3000:]
    assert "c-ip 10.99.0.5/24" in log_c, log_c[-3000:]
    assert "a-ping-c-ok" in log_a and "c-ping-a-ok" in log_c, log_c[-3000:]
    # The second guest's vif came on demand and goes with it.
    g.wait("b", "b-c-up")
    hv.client.call("vm.destroy", name="c")
    g.wait("b", "b-c-gone", timeout=120)

    # Carrier on both sides; MACs name the guest's domid and vif unless
    # configured (mac=, as the toolstack passes a vif's mac=).
    assert "c-mac 02:00:5e:10:00:05" in log_c, log_c[-3000:]
    assert "a-carrier 02:48:4d:00:03:00" in log_a, log_a[-3000:]
    assert "b-carrier fe:48:4d:00:03:00" in log_b, log_b[-3000:]
    assert "a-ping-ok" in log_a and "b-ping-ok" in log_b, log_a[-3000:]
    want = re.search(r"a-sum ([0-9a-f]{64})", log_a)[1]

    # A hostile frontend floods the backend with frames it must refuse,
    # and with valid broadcasts, while the guest's transfer runs.
    flood_log = tmp_path / "flood.log"
    hv.client.create_vm("flood", guest_elf("hmxnet-flood"), memory_mib=8,
                        domid=flood, cmdline=f"backend={b} rounds=20",
                        console_log=flood_log)
    read_until(flood_log, "flood: vif up", timeout=300)
    g.wait("b", "b-flood-up")
    g.say("a", "go")
    log_a = g.wait("a", "a-phase1", timeout=900)
    log_b = g.wait("b", "b-phase1", timeout=300)
    assert "a-sent" in log_a, log_a[-3000:]
    assert re.search(r"b-sum ([0-9a-f]{64})", log_b)[1] == want
    assert "a-bigping-ok" in log_a, log_a[-3000:]
    secs = re.search(r"a-secs ([\d.]+) ([\d.]+)", log_a)
    if secs:
        t = float(secs[2]) - float(secs[1])
        print(f"hmxnet: {BLOB_MIB} MiB in {t:.1f} s "
              f"({BLOB_MIB * 1.048576 / t:.1f} MB/s, nested test host)")

    # The backend counted every refused frame as an error, passed every
    # valid one, and its kernel said nothing worse.
    flood_text = read_until(flood_log, "RESULT", timeout=600)
    assert "RESULT pass" in flood_text, flood_text
    sent = re.search(r"flood: sent bad=(\d+) valid=(\d+)", flood_text)
    g.say("b", "go")
    log_b = g.wait("b", "b-flood-stats", timeout=300)
    sf = stats(log_b, "vif6.0")
    assert (sf["rx_errors"], sf["rx_packets"]) == (
        int(sent[1]), int(sent[2])), (sf, sent[0])
    assert int(sent[1]) == 200 and "b-oops 0" in log_b, log_b[-3000:]
    hv.client.call("vm.destroy", name="flood")

    # What one side sent the other received, nothing lost or malformed
    # (the backend's snapshot is the later one, taken once the guest sat
    # idle: an ARP probe may fall between).
    sa, sb = stats(log_a, "hmx0"), stats(log_b, "vif3.0")
    assert 0 <= sb["rx_packets"] - sa["tx_packets"] <= 2, (sa, sb)
    assert 0 <= sb["rx_bytes"] - sa["tx_bytes"] <= 2 * 100, (sa, sb)
    assert sb["rx_errors"] == sa["rx_errors"] == 0, (sa, sb)
    assert sa["tx_errors"] == sa["tx_dropped"] == 0, sa
    # Segmentation offload crossed: frames far above the 1500-byte MTU
    # the transfer ran at.
    assert sb["rx_bytes"] // sb["rx_packets"] > 4000, sb

    # Without the rules the firewall refuses every frame (and says so).
    hv.client.call("hmx.firewall.set", rules=[])
    g.say("a", "go")
    log_a = g.wait("a", "a-phase2", timeout=300)
    assert "a-refused" in log_a, log_a[-3000:]
    assert stats(log_a, "hmx0")["tx_errors"] > 0, log_a[-3000:]
    audit = hv.client.call("hmx.audit.read", max=256)["entries"]
    assert any(e["op"] == "sendv" and e["src"]["domid"] == a and
               e["dst"] == {"domid": b, "aport": NET_APORT0}
               for e in audit), audit

    # The backend VM dies: the frontend's carrier goes off; the module
    # unloads cleanly and leaves no ring behind.
    hv.client.call("vm.destroy", name="b")
    g.say("a", "go")
    log_a = g.wait("a", "a-nofront", timeout=300)
    assert "a-after-destroy carrier=0" in log_a, log_a[-3000:]
    assert "a-rmmod rc=0" in log_a, log_a[-3000:]
    assert re.search(r"a-core domid=3 rings=\d+ clients=hmx_vsock\n",
                     log_a), log_a[-3000:]
    # A multicast address, more addresses than vifs, or mac= without
    # front= are refused at load.
    for what in ("multicast", "extra", "nofront"):
        rc = re.search(rf"a-{what} rc=(\d+)", log_a)
        assert rc and rc[1] != "0", log_a[-3000:]
