# SPDX-License-Identifier: GPL-2.0-only
"""OpenXT's network path, end to end, with real Debian VMs driven through
the CLI: a guest (vif = [ 'backend=ndvm' ]) reaches a server on the LAN
only through
its NDVM, whose NIC is a virtio-net device (bulkhead-net) on a tap in a
network namespace standing for the physical LAN. The LAN namespace has a
bridge, dnsmasq (the LAN's DHCP server), a file server and a capture.

One boot of each VM checks: the NDVM's virtio-net NIC (PCI id, the
configured MAC, carrier, offloads offered) gets its LAN address from the
LAN's dnsmasq; the NDVM NATs its guests' network (nftables, as OpenXT's
brshared) and hands out their addresses (its own dnsmasq); the guest
fetches a file from the LAN server, checked by sha256, and pings it;
the LAN sees only the NDVM's address (the capture holds no guest
address), the only taps are the NDVMs', each inside its LAN namespace,
and no interface of the host's own namespace carries any of it. A second
NDVM on a second LAN: the first NDVM's guest reaches neither it (no HMX
rule, policy check says so) nor its LAN (nothing arrives there)."""

import contextlib
import hashlib
import json
import os
import re
import subprocess
import time

import pytest

from conftest import guest_cmdline
from netguest import PRELUDE, wait_or_dump, bridge_vifs, nat_rules
from test_toolstack import ts  # noqa: F401
from test_vsock import vsock_guest  # noqa: F401

pytestmark = pytest.mark.linux_guest

NDVM_MAC = "02:00:5e:00:00:10"
NDVM_B_MAC = "02:00:5e:00:00:20"
NET_APORT0 = 0xfffe0000  # HMX_NET_APORT(0), include/bulkhead/hmx_net.h
BLOB_MIB = 4

NDVM = PRELUDE + f"""
for d in /sys/class/net/eth*; do n=${{d##*/}}
echo "ndvm-nic $n $(cat $d/address) $(cat $d/device/vendor 2>/dev/null)"
echo "ndvm-pci $(cat $d/device/../vendor):$(cat $d/device/../device) $(cat $d/device/../class)"
echo "ndvm-features $(cat $d/device/features)"; done
noip6 eth0; ip link set eth0 up; up eth0; dhcpr eth0 ndvm-lan
brctl addbr br0; noip6 br0; ip link set br0 up; ip addr add 10.99.0.1/24 dev br0
dnsmasq -i br0 --bind-interfaces -p 0 -u root -g root -l /tmp/leases -x /tmp/dm.pid \\
 --dhcp-range=10.99.0.100,10.99.0.150,1h && echo ndvm-dnsmasq
echo 1 > /proc/sys/net/ipv4/ip_forward
""" + nat_rules("eth0", "ndvm-nft-ok") + bridge_vifs("ndvm") + """
echo ndvm-ready; waitgo ndvm
"""

WEB = PRELUDE + """
noip6 hmx0; ip link set hmx0 up; up hmx0; dhcpr hmx0 web
ping -c 3 -W 5 10.99.1.1 >/dev/null && echo web-ping-lan-ok
stallwatch /tmp/got web; w=$!
socat -u TCP:10.99.1.1:8000 OPEN:/tmp/got,creat,trunc && echo web-fetched
kill $w
echo "web-sum $(sha256sum /tmp/got | cut -d' ' -f1)"
ping -c 2 -w 4 10.99.2.1 >/dev/null || echo web-lan-b-refused
socat -u TCP:10.99.2.1:8000,connect-timeout=5 OPEN:/tmp/b,creat,trunc \
 2>/dev/null || echo web-lan-b-fetch-refused
echo web-done; read go
"""


def sh(*args, **kw):
    return subprocess.run(args, check=True, capture_output=True, text=True,
                          **kw).stdout


@contextlib.contextmanager
def lan_namespace(tmp_path, tag="lan", net="10.99.1", ndvm_mac=NDVM_MAC):
    """A LAN: a namespace with a bridge at NET.1, dnsmasq (ndvm_mac gets
    NET.10), a file server on port 8000 and a capture on the bridge; its
    files are TAG-* in tmp_path."""
    ns = f"bh{tag}{os.getpid()}"
    # In a test host its own kernel's modules: bridges and taps.
    kroot = os.environ.get("BULKHEAD_TEST_HOST_KROOT")
    for m in ("bridge", "tun"):
        subprocess.run(["modprobe"] + (["-d", kroot] if kroot else []) + [m],
                       capture_output=True)
    blob = tmp_path / f"{tag}-blob"
    blob.write_bytes(os.urandom(BLOB_MIB << 20))
    procs = []
    sh("ip", "netns", "add", ns)
    try:
        for cmd in (["link", "set", "lo", "up"],
                    ["link", "add", "br0", "type", "bridge"],
                    ["addr", "add", f"{net}.1/24", "dev", "br0"],
                    ["link", "set", "br0", "up"]):
            sh("ip", "-n", ns, *cmd)
        run = ["ip", "netns", "exec", ns]
        procs.append(subprocess.Popen(
            run + ["dnsmasq", "-k", "-i", "br0", "--bind-dynamic", "-p", "0",
                   "-u", "root", "-g", "root",
                   "-l", str(tmp_path / f"{tag}.leases"),
                   "-x", str(tmp_path / f"{tag}-dnsmasq.pid"),
                   f"--dhcp-range={net}.100,{net}.150,1h",
                   f"--dhcp-host={ndvm_mac},{net}.10", "--log-dhcp",
                   "--log-facility=-"],
            stdout=open(tmp_path / f"{tag}-dnsmasq.log", "w"),
            stderr=subprocess.STDOUT))
        procs.append(subprocess.Popen(
            run + ["socat", "-d", "-d", "-u", f"OPEN:{blob},rdonly",
                   "TCP-LISTEN:8000,reuseaddr"],
            stdout=subprocess.DEVNULL,
            stderr=open(tmp_path / f"{tag}-server.log", "w")))
        capture = tmp_path / f"{tag}.pcap.txt"
        procs.append(subprocess.Popen(
            run + ["tcpdump", "-Z", "root", "-i", "br0", "-n", "-l", "-q",
                   "ip"],
            stdout=open(capture, "w"), stderr=subprocess.DEVNULL))
        yield dict(ns=ns, blob=blob, capture=capture, dir=tmp_path,
                   tag=tag)
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


@pytest.fixture
def lan(tmp_path):
    """The LAN of the NDVM (NDVM_MAC gets 10.99.1.10)."""
    with lan_namespace(tmp_path) as the_lan:
        yield the_lan


def taps(ns=None):
    """The tap devices of a namespace (the host's own without ns)."""
    pre = ["ip", "-n", ns] if ns else ["ip"]
    out = sh(*pre, "-d", "-o", "link", "show")
    return [line.split(":")[1].strip().split("@")[0]
            for line in out.splitlines() if " tun type tap " in line]


def host_bytes():
    """Bytes through each interface of the host's own namespace."""
    out = {}
    for dev in os.listdir("/sys/class/net"):
        stats = f"/sys/class/net/{dev}/statistics"
        out[dev] = sum(int(open(f"{stats}/{f}").read())
                       for f in ("rx_bytes", "tx_bytes"))
    return out


def test_guest_reaches_the_lan_only_through_its_ndvm(ts, lan,  # noqa: F811
                                                      vsock_guest, tmp_path):
    """Two NDVMs on two LANs: the guest of one reaches its LAN, and
    neither the other LAN nor the other NDVM."""
    kernel, initrd = vsock_guest
    with lan_namespace(tmp_path, "lanb", "10.99.2", NDVM_B_MAC) as lan_b:
        ts.define("ndvm", role="ndvm", memory=256, kernel=kernel,
                  ramdisk=initrd, cmdline=guest_cmdline(NDVM),
                  nic=[f"netns={lan['ns']}, mac={NDVM_MAC}, bridge=br0"])
        ts.define("ndvm-b", role="ndvm", memory=256, kernel=kernel,
                  ramdisk=initrd, cmdline=guest_cmdline(NDVM),
                  nic=[f"netns={lan_b['ns']}, mac={NDVM_B_MAC}, "
                       "bridge=br0"])
        ts.define("web", memory=256, kernel=kernel, ramdisk=initrd,
                  cmdline=guest_cmdline(WEB), vif=["backend=ndvm"])
        try:
            before = host_bytes()
            ts.ok("start", "ndvm-b")
            ts.ok("start", "web")  # and its NDVM first
            log = wait_or_dump(ts, "web", "web-done", ("ndvm",), 600)
            ndvm = ts.wait_log("ndvm", "ndvm-ready", timeout=60)
            ndvm_b = ts.wait_log("ndvm-b", "ndvm-ready", timeout=300)
            after = host_bytes()
            check(ts, lan, log, ndvm, before, after)
            check_other_network(ts, lan_b, log, ndvm_b)
        finally:
            for name in ("ndvm", "ndvm-b", "web"):
                p = ts.console_log(name)
                if p.exists():
                    print(f"===== console of {name}\n"
                          f"{p.read_text(errors='replace')[-5000:]}")
            for f in ("lan-dnsmasq.log", "lan-server.log", "lan.pcap.txt",
                      "lanb.pcap.txt"):
                p = lan["dir"] / f
                if p.exists():
                    print(f"===== {f}\n"
                          f"{p.read_text(errors='replace')[-3000:]}")


def check_other_network(ts, lan_b, log, ndvm_b):
    """The second NDVM serves its own LAN, and the first NDVM's guest
    has no way there: no HMX rule to it, no route through its NDVM."""
    assert "ndvm-lan-ip 10.99.2.10/24" in ndvm_b, ndvm_b[-3000:]
    assert "web-lan-b-refused" in log and "web-lan-b-fetch-refused" in log
    server = (lan_b["dir"] / "lanb-server.log").read_text()
    assert "accepting" not in server, server
    capture = lan_b["capture"].read_text()
    assert "10.99.1." not in capture and "10.99.0." not in capture, \
        capture[-2000:]
    r = ts.cli("policy", "check", f"web:{NET_APORT0}",
               f"ndvm-b:{NET_APORT0}")
    assert r.returncode == 7 and "default deny" in r.stdout, r.stdout
    vm = json.loads(ts.ok("list", "--json", "ndvm-b"))[0]
    assert taps(lan_b["ns"]) == [vm["nics"][0]["tap"]]


def check(ts, lan, log, ndvm, before, after):
    ns = lan["ns"]
    # The NDVM's NIC: virtio-net (1af4:1041, network class) with the
    # configured MAC and the offloads bulkhead-net offers, up, addressed
    # by the LAN's DHCP server.
    assert f"ndvm-nic eth0 {NDVM_MAC}" in ndvm, ndvm[-3000:]
    assert "ndvm-pci 0x1af4:0x1041 0x020000" in ndvm, ndvm[-3000:]
    feats = re.search(r"ndvm-features ([01]+)", ndvm)[1]
    for bit in (0, 1, 5, 7, 11, 15, 16):  # CSUM GUEST_CSUM MAC TSO MRG STATUS
        assert feats[bit] == "1", (bit, feats)
    assert "ndvm-lan-ip 10.99.1.10/24" in ndvm, ndvm[-3000:]
    assert "DHCPACK" in (lan["dir"] / "lan-dnsmasq.log").read_text()
    assert "ndvm-dnsmasq" in ndvm and "ndvm-nft-ok" in ndvm, ndvm[-3000:]

    # The guest: an address from the NDVM, the LAN server reached, the
    # file intact.
    assert re.search(r"web-ip 10\.99\.0\.1\d\d/24", log), log[-3000:]
    assert "web-ping-lan-ok" in log and "web-fetched" in log, log[-3000:]
    want = hashlib.sha256(lan["blob"].read_bytes()).hexdigest()
    assert re.search(r"web-sum ([0-9a-f]{64})", log)[1] == want

    # The LAN saw the NDVM's address only: the guest's never left it.
    server = (lan["dir"] / "lan-server.log").read_text()
    assert re.search(r"accepting connection from AF=2 10\.99\.1\.10:",
                     server), server
    time.sleep(1)  # tcpdump's line buffer
    capture = lan["capture"].read_text()
    assert "10.99.1.10" in capture, capture[-2000:]
    assert "10.99.0." not in capture, capture[-2000:]

    # The only tap is the NDVM's NIC, in the LAN namespace; the host's own
    # namespace has none, and its interfaces did not carry the transfer.
    vm = json.loads(ts.ok("list", "--json", "ndvm"))[0]
    tap = vm["nics"][0]["tap"]
    assert taps(ns) == [tap], sh("ip", "-n", ns, "-d", "link")
    assert taps() == [], sh("ip", "-d", "link")
    moved = {dev: after.get(dev, 0) - n for dev, n in before.items()}
    assert all(m < (BLOB_MIB << 20) // 4 for m in moved.values()), moved
