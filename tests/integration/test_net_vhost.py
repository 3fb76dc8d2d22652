# SPDX-License-Identifier: GPL-2.0-only
"""bulkhead-net against a vhost-user front end and virtio-net driver played
by the test (netctl.py, vhost_frontend.py), its tap in a network namespace
of the test's own where a bridge joins it to a second tap the test reads
and writes: no VM, so it runs anywhere in seconds (as root: namespaces
and taps).

Covers the handshake and config space; frames the driver sends reaching
the LAN byte for byte, checksummed and, for a TSO frame, segmented by the
kernel; frames from the LAN arriving with valid headers, in one buffer or
merged across several, a GSO frame whole for a driver that takes it and
segmented for one that does not; malformed and oversize frames both ways
dropped and counted with the device working on; a ring the guest breaks
stopping only that ring; the jail; the command line's errors.
"""

import os
import struct
import subprocess

import pytest

from blkctl import namespaces, open_fds, proc_status
from netctl import (
    ALL_FEATURES, GSO_NONE, GSO_TCPV4, GSO_TCPV6, GSO_UDP, HDR_F_NEEDS_CSUM,
    HDR_LEN, NET, NET_F_CSUM, NET_F_GUEST_CSUM, NET_F_GUEST_TSO4,
    NET_F_HOST_TSO4, NET_F_MAC, NET_F_MRG_RXBUF, NET_F_MTU, NET_F_STATUS,
    Lan, NetDm, NetDriver, jail_ids, net_hdr)
from vhost_frontend import GET_FEATURES, GuestMemory

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0, reason="network namespaces and taps need root")

DM_MAC = bytes.fromhex("020000000001")
HOST_MAC = bytes.fromhex("020000000002")
ETH_TEST = 0x88b5  # IEEE local experimental: nothing else sends it
TX_BASIC = [NET_F_MAC, NET_F_MTU, NET_F_STATUS]


def eth(payload, dst=HOST_MAC, src=DM_MAC, etype=ETH_TEST):
    return dst + src + struct.pack(">H", etype) + payload


def pattern(n, seed):
    return bytes((i * 13 + seed) & 0xff for i in range(n))


def fold(total):
    while total >> 16:
        total = (total & 0xffff) + (total >> 16)
    return total


def ones_sum(data):
    if len(data) % 2:
        data += b"\0"
    return sum(struct.unpack(f">{len(data) // 2}H", data))


def ip_csum(header):
    return (~fold(ones_sum(header))) & 0xffff


SRC_IP = bytes([10, 99, 7, 2])
DST_IP = bytes([10, 99, 7, 1])


def tcp_frame(payload, seq=1000, partial=False, src=DM_MAC, dst=HOST_MAC):
    """Ethernet + IPv4 + TCP. partial: the TCP checksum field holds only the
    pseudo-header's sum, as a driver leaves it for checksum offload."""
    tcp_len = 20 + len(payload)
    iph = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + tcp_len, 1, 0x4000, 64,
                      6, 0, SRC_IP, DST_IP)
    iph = iph[:10] + struct.pack(">H", ip_csum(iph)) + iph[12:]
    pseudo = SRC_IP + DST_IP + struct.pack(">BBH", 0, 6, tcp_len)
    tcph = struct.pack(">HHIIBBHHH", 40000, 5001, seq, 1, 5 << 4, 0x18,
                       65535, 0, 0)
    if partial:
        check = fold(ones_sum(pseudo))
    else:
        check = (~fold(ones_sum(pseudo + tcph + payload))) & 0xffff
    tcph = tcph[:16] + struct.pack(">H", check) + tcph[18:]
    return dst + src + b"\x08\x00" + iph + tcph + payload


def check_tcp_segment(frame):
    """A whole TCP/IPv4 frame's checks; returns (seq, payload)."""
    assert frame[12:14] == b"\x08\x00"
    iph = frame[14:34]
    assert fold(ones_sum(iph)) == 0xffff, "IP header checksum"
    total = struct.unpack(">H", iph[2:4])[0]
    tcp = frame[34:14 + total]
    pseudo = iph[12:20] + struct.pack(">BBH", 0, 6, len(tcp))
    assert fold(ones_sum(pseudo + tcp)) == 0xffff, "TCP checksum"
    return struct.unpack(">I", tcp[4:8])[0], tcp[20:]


@pytest.fixture(autouse=True)
def no_leftovers():
    NetDm.instances.clear()
    yield
    for dm in NetDm.instances:
        dm.kill()


@pytest.fixture
def lan():
    lan = Lan()
    yield lan
    lan.close()


@pytest.fixture
def mem():
    m = GuestMemory()
    yield m
    m.close()


def test_handshake_and_config_space(tmp_path, lan):
    dm = NetDm(tmp_path, lan.dm_fd, mac="02:11:22:33:44:55", mtu=9000)
    fe = dm.fe
    features = fe.get_u64(GET_FEATURES)
    for bit in ALL_FEATURES + [32, 28, 29, 30]:
        assert features & (1 << bit), f"feature {bit} missing"
    for bit in (17, 22, 10, 14):  # CTRL_VQ, MQ, GUEST_UFO, HOST_UFO
        assert not features & (1 << bit), f"feature {bit} offered"
    fe.handshake()
    assert fe.get_u64(17) == 2  # GET_QUEUE_NUM: one rx/tx pair
    cfg = fe.get_config(0, 12)
    assert cfg[:6] == bytes.fromhex("021122334455")
    status, pairs, mtu = struct.unpack_from("<HHH", cfg, 6)
    assert (status, pairs, mtu) == (1, 1, 9000)
    assert fe.get_config(6, 2) == cfg[6:8]
    assert fe.get_config(8, 8) == b""
    assert fe.request(25, struct.pack("<III", 0, 6, 0) + bytes(6)) == 1
    assert dm.close() == 0


def test_tx_frames_reach_the_lan(tmp_path, lan, mem):
    dm = NetDm(tmp_path, lan.dm_fd)
    drv = NetDriver(dm, mem, TX_BASIC)
    frames = [eth(pattern(n, n)) for n in (46, 100, 1000, 1500)]
    layouts = [
        {},
        {"split": None, "indirect": True},
        "header-apart",
        "many",
    ]
    for frame in frames:
        for layout in layouts:
            size = HDR_LEN + len(frame)
            if layout == "header-apart":
                kw = {"split": [HDR_LEN, len(frame)]}
            elif layout == "many":
                cuts = [5, 9, 1, size - 15]
                kw = {"split": cuts, "indirect": True}
            else:
                kw = layout
            drv.transmit(frame, **kw)
            got = lan.host_recv()
            assert got is not None, f"{len(frame)}-byte frame lost ({layout})"
            assert got[1] == frame
    st = dm.stats()
    assert st["tx_frames"] == 16 and st["tx_dropped"] == 0
    assert lan.host_recv(0.3) is None
    assert dm.close() == 0


def test_tx_checksum_offload_and_tso(tmp_path, lan, mem):
    dm = NetDm(tmp_path, lan.dm_fd)
    drv = NetDriver(dm, mem, TX_BASIC + [NET_F_CSUM, NET_F_HOST_TSO4])
    # Checksum offload: the LAN sees the checksum the kernel filled in.
    frame = tcp_frame(pattern(300, 1), partial=True)
    drv.transmit(frame, net_hdr(HDR_F_NEEDS_CSUM, csum_start=34,
                                csum_offset=16))
    _, got = lan.host_recv()
    assert check_tcp_segment(got) == (1000, pattern(300, 1))
    assert got[:50] == frame[:50] and got[52:] == frame[52:]

    # TSO: one 20000-byte segment in, MSS-sized frames out.
    payload = pattern(20000, 7)
    frame = tcp_frame(payload, seq=5000, partial=True)
    drv.transmit(frame, net_hdr(HDR_F_NEEDS_CSUM, GSO_TCPV4, 54, 1448, 34,
                                16), split=[HDR_LEN, 54, len(frame) - 54])
    segs = []
    while len(segs) < 14:
        got = lan.host_recv()
        assert got is not None, f"{len(segs)} of 14 segments"
        segs.append(got[1])
    for s in segs:
        assert len(s) <= 14 + 1500
        assert s[:14] == frame[:14]
    parts = sorted(check_tcp_segment(s) for s in segs)
    assert b"".join(p for _, p in parts) == payload
    assert parts[0][0] == 5000 and parts[1][0] == 5000 + 1448
    assert lan.host_recv(0.3) is None
    assert dm.stats()["tx_frames"] == 2
    assert dm.close() == 0


def test_malformed_tx_dropped_and_counted(tmp_path, lan, mem):
    dm = NetDm(tmp_path, lan.dm_fd)
    drv = NetDriver(dm, mem, TX_BASIC + [NET_F_CSUM, NET_F_HOST_TSO4])
    ok = eth(pattern(60, 3))
    big = eth(pattern(65600, 1))
    cases = [
        ("runt", ok[:5], None, {}),
        ("chain", ok, None, {"extra": [(mem.alloc(64), 64, True)]}),
        ("flags", ok, net_hdr(4), {}),
        ("flags", ok, net_hdr(2), {}),
        ("csum", ok, net_hdr(HDR_F_NEEDS_CSUM, csum_start=64,
                             csum_offset=10), {}),
        ("gso", ok, net_hdr(HDR_F_NEEDS_CSUM, GSO_UDP, 42, 1000, 34, 6), {}),
        ("gso", ok, net_hdr(HDR_F_NEEDS_CSUM, GSO_TCPV6, 74, 1000, 54, 16),
         {}),
        ("gso", ok, net_hdr(HDR_F_NEEDS_CSUM, GSO_TCPV4 | 0x80, 54, 100, 34,
                            16), {}),
        ("flags", ok, net_hdr(0, GSO_TCPV4, 54, 100), {}),
        ("gso_size", ok, net_hdr(HDR_F_NEEDS_CSUM, GSO_TCPV4, 54, 0, 34, 16),
         {}),
        ("gso_size", ok, net_hdr(HDR_F_NEEDS_CSUM, GSO_TCPV4, 54, 1501, 34,
                                 16), {}),
        ("gso_size", ok, net_hdr(gso_size=10), {}),
        ("hdr_len", ok, net_hdr(HDR_F_NEEDS_CSUM, GSO_TCPV4, 200, 100, 34,
                                16), {}),
        ("mtu", eth(pattern(1505, 0)), None, {}),
        ("long", big, net_hdr(HDR_F_NEEDS_CSUM, GSO_TCPV4, 54, 1448, 34, 16),
         {}),
    ]
    for _, frame, hdr, kw in cases:
        drv.transmit(frame, hdr, **kw)
    # The largest frames that pass: an MTU's worth, and 64 KiB in TSO.
    drv.transmit(eth(pattern(1500, 5)))
    assert lan.host_recv()[1] == eth(pattern(1500, 5))
    drv.transmit(ok)
    assert lan.host_recv()[1] == ok
    assert lan.host_recv(0.3) is None, "a malformed frame got through"
    st = dm.stats()
    want = {}
    for key, *_ in cases:
        want[key] = want.get(key, 0) + 1
    for key, n in want.items():
        assert st[f"tx_drop_{key}"] == n, (key, st)
    assert st["tx_dropped"] == len(cases) and st["tx_frames"] == 2
    assert "tx: dropped a frame" in dm.text()
    assert dm.close() == 0


def test_rx_frames_arrive(tmp_path, lan, mem):
    dm = NetDm(tmp_path, lan.dm_fd)
    drv = NetDriver(dm, mem, TX_BASIC)
    drv.post_rx(8)
    frames = [eth(pattern(n, n), dst=DM_MAC, src=HOST_MAC)
              for n in (46, 700, 1500)]
    for f in frames:
        lan.host_send(f)
        hdr, got, n = drv.receive()
        assert got == f and n == 1
        assert hdr == {"flags": 0, "gso_type": 0, "hdr_len": 0,
                       "gso_size": 0, "csum_start": 0, "csum_offset": 0,
                       "num_buffers": 1}
    st = dm.stats()
    assert st["rx_frames"] == 3 and st["rx_dropped"] == 0
    assert dm.close() == 0


def test_rx_waits_for_buffers_then_merges(tmp_path, lan, mem):
    dm = NetDm(tmp_path, lan.dm_fd)
    drv = NetDriver(dm, mem, TX_BASIC + [NET_F_MRG_RXBUF])
    frames = [eth(pattern(1500, i), dst=DM_MAC, src=HOST_MAC)
              for i in range(5)]
    for f in frames:
        lan.host_send(f)
    assert drv.rx_idle(0.3)
    # 1512 bytes in 1024-byte buffers: two each, num_buffers says so.
    drv.post_rx(10, size=1024)
    for f in frames:
        hdr, got, n = drv.receive()
        assert got == f and n == 2 == hdr["num_buffers"]
    assert dm.stats()["rx_frames"] == 5
    assert dm.close() == 0


def test_rx_gso_whole_or_segmented(tmp_path, lan, mem):
    payload = pattern(20000, 9)
    gso = tcp_frame(payload, partial=True, src=HOST_MAC, dst=DM_MAC)
    gso_hdr = net_hdr(HDR_F_NEEDS_CSUM, GSO_TCPV4, 54, 1448, 34, 16)

    dm = NetDm(tmp_path, lan.dm_fd)
    drv = NetDriver(dm, mem, TX_BASIC + [NET_F_GUEST_CSUM, NET_F_GUEST_TSO4,
                                         NET_F_MRG_RXBUF])
    drv.post_rx(16, size=4096)
    lan.host_send(gso, gso_hdr)
    hdr, got, n = drv.receive()
    assert got == gso
    assert hdr["gso_type"] == GSO_TCPV4 and hdr["gso_size"] == 1448
    assert hdr["flags"] & HDR_F_NEEDS_CSUM
    assert (hdr["csum_start"], hdr["csum_offset"]) == (34, 16)
    assert n == hdr["num_buffers"] == -(-(HDR_LEN + len(gso)) // 4096)
    assert dm.close() == 0

    # A driver without GUEST_TSO4 or GUEST_CSUM: the kernel segments and
    # checksums for it, since the tap was told it takes no offloads.
    lan.close()
    lan2 = Lan()
    try:
        dm = NetDm(tmp_path, lan2.dm_fd)
        drv = NetDriver(dm, mem, TX_BASIC)
        drv.post_rx(32)
        lan2.host_send(gso, gso_hdr)
        parts = []
        for _ in range(14):
            hdr, got, n = drv.receive()
            assert hdr["gso_type"] == GSO_NONE and hdr["flags"] == 0
            assert len(got) <= 1514
            parts.append(check_tcp_segment(got))
        assert b"".join(p for _, p in sorted(parts)) == payload
        assert dm.close() == 0
    finally:
        lan2.close()


def test_rx_too_big_dropped_and_counted(tmp_path, lan, mem):
    dm = NetDm(tmp_path, lan.dm_fd)
    drv = NetDriver(dm, mem, TX_BASIC)
    drv.post_rx(1, size=256)
    lan.host_send(eth(pattern(1000, 1), dst=DM_MAC, src=HOST_MAC))
    small = eth(pattern(100, 2), dst=DM_MAC, src=HOST_MAC)
    lan.host_send(small)
    # The small buffer was left for the frame that fits.
    hdr, got, _ = drv.receive()
    assert got == small
    st = dm.stats()
    assert st["rx_drop_room"] == 1 and st["rx_frames"] == 1
    assert "rx: dropped a frame of 1014 bytes: too big" in dm.text()
    assert dm.close() == 0


def test_rx_frame_no_full_ring_could_hold(tmp_path, lan, mem):
    dm = NetDm(tmp_path, lan.dm_fd)
    drv = NetDriver(dm, mem, TX_BASIC + [NET_F_GUEST_CSUM, NET_F_GUEST_TSO4,
                                         NET_F_MRG_RXBUF], rx_size=8)
    drv.post_rx(8, size=512)
    lan.host_send(tcp_frame(pattern(20000, 3), partial=True, src=HOST_MAC,
                            dst=DM_MAC),
                  net_hdr(HDR_F_NEEDS_CSUM, GSO_TCPV4, 54, 1448, 34, 16))
    small = eth(pattern(300, 4), dst=DM_MAC, src=HOST_MAC)
    lan.host_send(small)
    hdr, got, n = drv.receive()
    assert got == small and n == 1
    assert dm.stats()["rx_drop_room"] == 1
    assert dm.close() == 0


def test_guest_breaks_tx_ring_rx_goes_on(tmp_path, lan, mem):
    dm = NetDm(tmp_path, lan.dm_fd)
    drv = NetDriver(dm, mem, TX_BASIC)
    drv.post_rx(4)
    # A descriptor pointing outside guest RAM.
    drv.tx.add([(mem.size + 4096, 100, False)])
    drv.tx.notify()
    dm.wait_log("vring 1 broken by the guest")
    assert drv.tx.drain_eventfd(drv.tx.err) == 1
    f = eth(pattern(200, 1), dst=DM_MAC, src=HOST_MAC)
    lan.host_send(f)
    assert drv.receive()[1] == f
    assert dm.close() == 0


def test_jail_seen_from_outside(tmp_path, lan, mem):
    dm = NetDm(tmp_path, lan.dm_fd)
    drv = NetDriver(dm, mem, TX_BASIC + [NET_F_CSUM, NET_F_GUEST_CSUM,
                                         NET_F_GUEST_TSO4])
    drv.post_rx(4)
    drv.transmit(eth(pattern(100, 1)))
    dm.wait_log("jailed")
    st = proc_status(dm.pid)
    assert st["Uid"].split() == ["65534"] * 4
    assert st["Gid"].split() == ["65534"] * 4
    assert st["NoNewPrivs"] == "1"
    assert st["Seccomp"] == "2"
    for cap in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        assert int(st[cap], 16) == 0, cap
    ours, theirs = namespaces(os.getpid()), namespaces(dm.pid)
    for ns in ("mnt", "net", "ipc", "uts"):
        assert ours[ns] != theirs[ns], ns
    assert os.listdir(f"/proc/{dm.pid}/root") == []
    targets = sorted(open_fds(dm.pid).values())
    assert "/dev/net/tun" in targets
    for t in targets:
        assert t in ("/dev/net/tun", str(dm.log)) or \
            t.startswith(("socket:", "anon_inode:")), t
    # Only the tap's ioctl the filter allows was ever needed: it serves.
    f = eth(pattern(64, 2), dst=DM_MAC, src=HOST_MAC)
    lan.host_send(f)
    assert drv.receive()[1] == f
    assert dm.close() == 0


def test_command_line_errors(tmp_path, lan):
    def run(args, pass_fds=()):
        return subprocess.run([str(NET), *args], pass_fds=pass_fds,
                              capture_output=True, text=True, timeout=10)

    r = run(["--help"])
    assert r.returncode == 0 and "--tap-fd" in r.stdout
    r = run(["--socket-fd", "0", "--tap-fd", "1"])
    assert r.returncode == 2 and "--mac" in r.stderr
    for mac in ("01:00:00:00:00:01", "02:00:00:00:00", "zz:00:00:00:00:01"):
        r = run(["--socket-fd", "0", "--tap-fd", "1", "--mac", mac])
        assert r.returncode == 2 and "--mac" in r.stderr, mac
    r = run(["--socket-fd", "0", "--tap-fd", "1", "--mac",
             "02:00:00:00:00:01", "--mtu", "67"])
    assert r.returncode == 2 and "--mtu" in r.stderr
    # Not a tap, and a tap without the virtio-net header.
    rd, wr = os.pipe()
    r = run(["--socket-fd", "0", "--tap-fd", str(rd), "--mac",
             "02:00:00:00:00:01", *jail_ids()], pass_fds=[rd])
    assert r.returncode == 1 and "not an attached tap" in r.stderr
    os.close(rd)
    os.close(wr)
    plain = Lan(dm_vnet_hdr=False)
    try:
        r = run(["--socket-fd", "0", "--tap-fd", str(plain.dm_fd), "--mac",
                 "02:00:00:00:00:01", *jail_ids()], pass_fds=[plain.dm_fd])
        assert r.returncode == 1 and "IFF_VNET_HDR" in r.stderr
    finally:
        plain.close()


def test_hypervisor_takes_a_virtio_net_device(tmp_path, lan, hv, guest_elf):
    """vm.create negotiates with bulkhead-net as a virtio-net device (its
    12-byte config, two queues); the VM's end closing ends the process."""
    dm = NetDm(tmp_path, lan.dm_fd, mac="02:aa:00:00:00:07")
    c = hv.client
    vm = c.create_vm("ndvm", guest_elf("lifecycle"), memory_mib=16,
                     start=False, nics=[("nic0", dm.sock)])
    dm.sock.close()  # the VM holds the socket now
    assert vm["name"] == "ndvm"
    dm.wait_log("jailed")
    c.call("vm.destroy", name="ndvm")
    assert dm.proc.wait(timeout=10) == 0
    assert "front end disconnected" in dm.text()
    fds = [os.open(guest_elf("lifecycle"), os.O_RDONLY),
           os.open("/dev/null", os.O_RDONLY)]
    try:
        with pytest.raises(Exception) as exc:
            c.call("vm.create", name="bad", memory_mib=16, kernel_fd=0,
                   start=False, fds=fds,
                   devices=[dict(type="virtio-gpu", name="g", fd=1)])
    finally:
        for fd in fds:
            os.close(fd)
    assert "not one of: virtio-blk, virtio-net" in str(exc.value)
