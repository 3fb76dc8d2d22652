# SPDX-License-Identifier: GPL-2.0-only
"""OpenXT's NILF VM: a WireGuard VPN VM between a guest and the NDVM,
real Debian VMs driven through the CLI (guest -> vpn -> ndvm -> LAN).
One `bulkhead start web` starts all three, backends first. Each boots
once. Checked: the guest reaches a WireGuard peer in the LAN namespace
(a file fetched through the tunnel, by sha256), and nothing else (not
the LAN directly, not the NDVM); the LAN bridge sees only WireGuard UDP
from the NDVM's address, never the guest's traffic in the clear (the
capture holds none of the file's bytes); and the VPN key is only in the
VPN VM's definition: neither the guest's nor the NDVM's command line
(what each booted, as measured) carries it."""

import base64
import gzip
import hashlib
import json
import os
import re
import subprocess
import time

import pytest

from conftest import guest_cmdline
from netguest import PRELUDE, wait_or_dump, bridge_vifs, nat_rules
from test_ndvm_lan import NDVM, NDVM_MAC, lan, sh  # noqa: F401
from test_toolstack import ts  # noqa: F401
from test_vsock import vsock_guest  # noqa: F401

pytestmark = pytest.mark.linux_guest

BLOB_MIB = 2

VPN = PRELUDE + """
noip6 hmx0; ip link set hmx0 up; up hmx0; dhcpr hmx0 vpn
(umask 077; printf '%s\\n' '@KEY@' >/tmp/wg.key)
ip link add wg0 type wireguard && wg set wg0 private-key /tmp/wg.key \\
 peer @PEER@ endpoint 10.99.1.1:51820 allowed-ips 10.200.0.0/24 \\
 persistent-keepalive 5 && echo vpn-wg-ok
rm /tmp/wg.key; ip addr add 10.200.0.2/24 dev wg0; ip link set wg0 up
brctl addbr br0; noip6 br0; ip link set br0 up; ip addr add 10.98.0.1/24 dev br0
dnsmasq -i br0 --bind-interfaces -p 0 -u root -g root -l /tmp/leases -x /tmp/dm.pid \\
 --dhcp-range=10.98.0.100,10.98.0.150,1h && echo vpn-dnsmasq
echo 1 > /proc/sys/net/ipv4/ip_forward
""" + nat_rules("wg0", "vpn-nft-ok") + bridge_vifs("vpn") + """
echo vpn-ready; waitgo vpn
"""

WEB = PRELUDE + """
noip6 hmx0; ip link set hmx0 up; up hmx0; dhcpr hmx0 web
i=0; until ping -c 1 -W 1 10.200.0.1 >/dev/null; do i=$((i+1))
[ $i -lt 120 ] || break; done; [ $i -lt 120 ] && echo web-ping-peer-ok
stallwatch /tmp/got web; w=$!
socat -u TCP:10.200.0.1:8001 OPEN:/tmp/got,creat,trunc && echo web-fetched
kill $w
echo "web-sum $(sha256sum /tmp/got | cut -d' ' -f1) web-sum-end"
ping -c 2 -w 4 10.99.1.1 >/dev/null || echo web-lan-direct-refused
ping -c 2 -w 4 10.99.0.1 >/dev/null || echo web-ndvm-refused
echo web-done; read go
"""


def wg_keys():
    private = sh("wg", "genkey").strip()
    public = subprocess.run(["wg", "pubkey"], input=private + "\n",
                            check=True, capture_output=True,
                            text=True).stdout.strip()
    return private, public


def booted_script(ts, name):
    """The script a VM booted with, from its measured command line."""
    m = json.loads(ts.ok("measure", "--json", name))
    line = [e["detail"] for e in m["events"] if e["what"] == "cmdline"][0]
    data = base64.b64decode(re.search(r"bulkhead\.script=(\S+)", line)[1])
    return (gzip.decompress(data) if data[:2] == b"\x1f\x8b" else
            data).decode() + line


def test_guest_through_a_vpn_vm(ts, lan, vsock_guest):  # noqa: F811
    if not sh("sh", "-c", "command -v wg || true").strip():
        pytest.skip("wireguard-tools is not installed (scripts/deps)")
    kernel, initrd = vsock_guest
    ns = lan["ns"]
    kroot = os.environ.get("BULKHEAD_TEST_HOST_KROOT")
    subprocess.run(["modprobe"] + (["-d", kroot] if kroot else []) +
                   ["wireguard"], capture_output=True)
    # The LAN's WireGuard peer, with a file served only through it.
    lan_key, lan_pub = wg_keys()
    vpn_key, vpn_pub = wg_keys()
    keyfile = lan["dir"] / "lan-wg.key"
    keyfile.write_text(lan_key + "\n")
    keyfile.chmod(0o600)
    sh("ip", "-n", ns, "link", "add", "wg0", "type", "wireguard")
    sh("ip", "netns", "exec", ns, "wg", "set", "wg0", "listen-port",
       "51820", "private-key", str(keyfile), "peer", vpn_pub,
       "allowed-ips", "10.200.0.2/32")
    sh("ip", "-n", ns, "addr", "add", "10.200.0.1/24", "dev", "wg0")
    sh("ip", "-n", ns, "link", "set", "wg0", "up")
    blob = lan["dir"] / "secret-blob"
    blob.write_bytes(os.urandom(BLOB_MIB << 20))
    pcap = lan["dir"] / "lan.pcap"
    procs = [subprocess.Popen(
        ["ip", "netns", "exec", ns, "socat", "-u", f"OPEN:{blob},rdonly",
         "TCP-LISTEN:8001,bind=10.200.0.1,reuseaddr"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
        subprocess.Popen(
        ["ip", "netns", "exec", ns, "tcpdump", "-Z", "root", "-i", "br0",
         "-n", "-U", "-w", str(pcap)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]

    ts.define("ndvm", role="ndvm", memory=256, kernel=kernel,
              ramdisk=initrd, cmdline=guest_cmdline(NDVM),
              nic=[f"netns={ns}, mac={NDVM_MAC}, bridge=br0"])
    ts.define("vpn", role="service", memory=256, kernel=kernel,
              ramdisk=initrd, vif=["backend=ndvm"],
              cmdline=guest_cmdline(VPN.replace("@KEY@", vpn_key)
                                    .replace("@PEER@", lan_pub),
                                    extra="hmxnet.serve=1"))
    ts.define("web", memory=256, kernel=kernel, ramdisk=initrd,
              cmdline=guest_cmdline(WEB), vif=["backend=vpn"])
    try:
        ts.ok("start", "web")  # starts ndvm, then vpn, then web
        log = wait_or_dump(ts, "web", "web-done", ("ndvm", "vpn"), 600)
        vpn = ts.wait_log("vpn", "vpn-ready", timeout=60)
        time.sleep(1)  # the capture's last packets
        check(ts, lan, log, vpn, blob, pcap, vpn_key)
    finally:
        for p in procs:
            p.terminate()
            p.wait(timeout=10)
        for name in ("ndvm", "vpn", "web"):
            p = ts.console_log(name)
            if p.exists():
                print(f"===== console of {name}\n"
                      f"{p.read_text(errors='replace')[-4000:]}")


def check(ts, lan, log, vpn, blob, pcap, vpn_key):
    assert "vpn-wg-ok" in vpn and "vpn-nft-ok" in vpn, vpn[-3000:]
    # Through the tunnel to its peer, and nowhere else.
    assert "web-ping-peer-ok" in log and "web-fetched" in log, log[-3000:]
    want = hashlib.sha256(blob.read_bytes()).hexdigest()
    assert re.search(r"web-sum ([0-9a-f]{64}) web-sum-end", log)[1] == want
    assert "web-lan-direct-refused" in log, log[-3000:]
    assert "web-ndvm-refused" in log, log[-3000:]

    # The LAN saw WireGuard UDP from the NDVM (and its DHCP), nothing
    # else, and none of the file in the clear.
    text = sh("tcpdump", "-r", str(pcap), "-n", "-q", "ip")
    lines = [line for line in text.splitlines() if " IP " in line]
    assert any("10.99.1.10.51820 > 10.99.1.1.51820: UDP" in line
               or ("10.99.1.10." in line and ".51820: UDP" in line)
               for line in lines), text[-2000:]
    others = [line for line in lines
              if ".51820" not in line and ".67 " not in line
              and ".68 " not in line and ".67:" not in line
              and ".68:" not in line]
    assert not others, others[:20]
    raw = pcap.read_bytes()
    data = blob.read_bytes()
    for off in (0, len(data) // 2, len(data) - 64):
        assert data[off:off + 32] not in raw

    # The key: in the VPN VM's definition only.
    assert vpn_key in booted_script(ts, "vpn")
    for name in ("web", "ndvm"):
        assert vpn_key not in booted_script(ts, name)
        assert vpn_key not in (ts.config / f"{name}.cfg").read_text()
