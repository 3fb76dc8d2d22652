# SPDX-License-Identifier: GPL-2.0-only
"""A LAN of the test's own for bulkhead-net: a network namespace with a
bridge, the device model's tap and a second tap the test reads and writes
(its "LAN host"), and a virtio-net driver over vhost_frontend.py."""

import ctypes
import fcntl
import os
import pathlib
import re
import select
import signal
import socket
import struct
import subprocess
import time

from conftest import BUILD_DIR
from vhost_frontend import Frontend, GuestMemory, Vring, F_VERSION_1, \
    F_INDIRECT_DESC, F_EVENT_IDX, F_PROTOCOL_FEATURES, SET_FEATURES, \
    UADDR_BASE

NET = BUILD_DIR / "src" / "devmodel" / "net" / "bulkhead-net"

TUNSETIFF = 0x400454ca
TUNSETOFFLOAD = 0x400454d0
TUNSETVNETHDRSZ = 0x400454d8
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000
IFF_VNET_HDR = 0x4000
CLONE_NEWNET = 0x40000000

# virtio-net (virtio 1.2, 5.1).
NET_F_CSUM = 0
NET_F_GUEST_CSUM = 1
NET_F_MTU = 3
NET_F_MAC = 5
NET_F_GUEST_TSO4 = 7
NET_F_GUEST_TSO6 = 8
NET_F_HOST_TSO4 = 11
NET_F_HOST_TSO6 = 12
NET_F_MRG_RXBUF = 15
NET_F_STATUS = 16
HDR_F_NEEDS_CSUM = 1
HDR_F_DATA_VALID = 2
GSO_NONE = 0
GSO_TCPV4 = 1
GSO_UDP = 3
GSO_TCPV6 = 4
HDR_LEN = 12

ALL_FEATURES = [NET_F_CSUM, NET_F_GUEST_CSUM, NET_F_MTU, NET_F_MAC,
                NET_F_GUEST_TSO4, NET_F_GUEST_TSO6, NET_F_HOST_TSO4,
                NET_F_HOST_TSO6, NET_F_MRG_RXBUF, NET_F_STATUS]

_libc = ctypes.CDLL(None, use_errno=True)


def _setns(fd):
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


def ip(*args):
    subprocess.run(["ip", *args], check=True, capture_output=True)


def open_tap(name, vnet_hdr=True):
    """A tap in the current network namespace; returns its descriptor."""
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_CLOEXEC)
    flags = IFF_TAP | IFF_NO_PI | (IFF_VNET_HDR if vnet_hdr else 0)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), flags))
    if vnet_hdr:
        fcntl.ioctl(fd, TUNSETVNETHDRSZ, struct.pack("i", HDR_LEN))
    return fd


class Lan:
    """ip netns NAME with br0 joining tap "dm0" (for bulkhead-net) and
    tap "host0" (the test's). No IPv6: nothing but the test's frames."""

    count = 0

    def __init__(self, dm_vnet_hdr=True):
        Lan.count += 1
        self.name = f"bhnet{os.getpid()}x{Lan.count}"
        self.dm_fd = self.host_fd = None
        ip("netns", "add", self.name)
        try:
            self._build(dm_vnet_hdr)
        except BaseException:
            self.close()
            raise

    def _build(self, dm_vnet_hdr):
        ns = f"/run/netns/{self.name}"
        subprocess.run(["ip", "netns", "exec", self.name, "sh", "-c",
                        "echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6;"
                        "echo 1 > /proc/sys/net/ipv6/conf/default/"
                        "disable_ipv6"], check=True)
        own = os.open("/proc/self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
        target = os.open(ns, os.O_RDONLY | os.O_CLOEXEC)
        try:
            _setns(target)
            try:
                self.dm_fd = open_tap("dm0", dm_vnet_hdr)
                self.host_fd = open_tap("host0")
            finally:
                _setns(own)
        finally:
            os.close(own)
            os.close(target)
        os.set_blocking(self.host_fd, False)
        n = ["-n", self.name]
        ip(*n, "link", "add", "br0", "type", "bridge", "mcast_snooping", "0")
        for dev in ("dm0", "host0"):
            ip(*n, "link", "set", dev, "master", "br0")
            ip(*n, "link", "set", dev, "up")
        ip(*n, "link", "set", "br0", "up")

    def host_offloads(self, offloads):
        fcntl.ioctl(self.host_fd, TUNSETOFFLOAD, offloads)

    def host_send(self, frame, hdr=bytes(HDR_LEN)):
        os.write(self.host_fd, hdr + frame)

    def host_recv(self, timeout=5.0):
        """The next frame that reached host0: (header, frame) or None."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                data = os.read(self.host_fd, 70000)
                return data[:HDR_LEN], data[HDR_LEN:]
            except BlockingIOError:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                select.select([self.host_fd], [], [], left)

    def host_drain(self):
        while self.host_recv(0.2):
            pass

    def close(self):
        for fd in (self.dm_fd, self.host_fd):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self.dm_fd = self.host_fd = None
        subprocess.run(["ip", "netns", "del", self.name],
                       capture_output=True)


def jail_ids():
    if os.geteuid() == 0:
        return ["--uid", "65534", "--gid", "65534"]
    return []


class NetDm:
    """A bulkhead-net process on a socketpair and the tap it is given."""

    instances = []

    def __init__(self, workdir, tap_fd, args=(), mac="02:00:00:00:00:01",
                 mtu=None):
        if not NET.exists():
            raise RuntimeError(f"{NET} is not built")
        self.log = pathlib.Path(workdir) / f"net-{time.monotonic_ns()}.log"
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        cmd = [str(NET), "--socket-fd", str(theirs.fileno()), "--tap-fd",
               str(tap_fd), "--mac", mac, "--name", "test:nic0",
               *jail_ids(), *args]
        if mtu:
            cmd += ["--mtu", str(mtu)]
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                cmd, pass_fds=[theirs.fileno(), tap_fd],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=log)
        theirs.close()
        NetDm.instances.append(self)
        self.sock = ours
        self.fe = Frontend(ours)

    @property
    def pid(self):
        return self.proc.pid

    def text(self):
        return self.log.read_text(errors="replace")

    def wait_log(self, text, timeout=10.0):
        deadline = time.monotonic() + timeout
        while text not in self.text():
            if time.monotonic() > deadline:
                raise TimeoutError(f"{text!r} not in the log:\n{self.text()}")
            time.sleep(0.02)

    def stats(self, timeout=5.0):
        """Its counters, from the line SIGUSR1 makes it log."""
        before = self.text().count("stats: ")
        self.proc.send_signal(signal.SIGUSR1)
        deadline = time.monotonic() + timeout
        while self.text().count("stats: ") <= before:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no stats line:\n{self.text()}")
            time.sleep(0.02)
        line = [ln for ln in self.text().splitlines() if "stats: " in ln][-1]
        return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", line)}

    def close(self, timeout=10.0):
        self.sock.close()
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.sock.close()


def net_hdr(flags=0, gso_type=GSO_NONE, hdr_len=0, gso_size=0,
            csum_start=0, csum_offset=0, num_buffers=0):
    return struct.pack("<BBHHHHH", flags, gso_type, hdr_len, gso_size,
                       csum_start, csum_offset, num_buffers)


def parse_hdr(raw):
    keys = ("flags", "gso_type", "hdr_len", "gso_size", "csum_start",
            "csum_offset", "num_buffers")
    return dict(zip(keys, struct.unpack("<BBHHHHH", raw[:HDR_LEN])))


class NetDriver:
    """virtio-net's driver side: receive queue 0, transmit queue 1."""

    def __init__(self, dm, mem, features, rx_size=256, tx_size=256):
        self.dm = dm
        self.mem = mem
        self.rx = Vring(mem, 0, rx_size, 0x10000, event_idx=True)
        self.tx = Vring(mem, 1, tx_size, 0x30000, event_idx=True)
        fe = dm.fe
        self.offered, _ = fe.handshake()
        want = (1 << F_VERSION_1) | (1 << F_INDIRECT_DESC) | \
            (1 << F_EVENT_IDX) | (1 << F_PROTOCOL_FEATURES)
        for bit in features:
            want |= 1 << bit
        self.features = self.offered & want
        fe.set_u64(SET_FEATURES, self.features)
        fe.set_mem_table([(0, mem.size, UADDR_BASE, 0, mem.fd)])
        fe.setup_vring(self.rx)
        fe.setup_vring(self.tx)
        self.rx_bufs = {}  # head -> (gpa, size)
        self.used_q = []  # receive answers not yet looked at

    def has(self, bit):
        return bool(self.features & (1 << bit))

    def send(self, frame, hdr=None, split=None, indirect=False,
             extra=()):
        """Queues header + frame (split: byte counts per descriptor)."""
        data = (net_hdr() if hdr is None else hdr) + frame
        gpa = self.mem.alloc(len(data))
        self.mem.write(gpa, data)
        sizes = split or [len(data)]
        assert sum(sizes) == len(data)
        bufs, off = [], 0
        for n in sizes:
            bufs.append((gpa + off, n, False))
            off += n
        bufs += list(extra)
        return self.tx.add(bufs, indirect=indirect)

    def transmit(self, frame, hdr=None, **kw):
        """One frame, to its answer."""
        head = self.send(frame, hdr, **kw)
        self.tx.notify()
        (got, length), = self.tx.wait_used(1)
        assert got == head and length == 0

    def post_rx(self, count, size=2048, notify=True):
        for _ in range(count):
            gpa = self.mem.alloc(size)
            head = self.rx.add([(gpa, size, True)])
            self.rx_bufs[head] = (gpa, size)
        if notify:
            self.rx.notify()
        else:
            self.rx.publish()

    def _next_used(self, timeout):
        if not self.used_q:
            self.used_q += self.rx.wait_used(1, timeout)
        return self.used_q.pop(0)

    def receive(self, timeout=5.0):
        """The next frame: (header dict, frame bytes, buffers it took)."""
        head, length = self._next_used(timeout)
        gpa, _ = self.rx_bufs.pop(head)
        data = self.mem.read(gpa, length)
        hdr = parse_hdr(data)
        n = hdr["num_buffers"] if self.has(NET_F_MRG_RXBUF) else 1
        for _ in range(n - 1):
            h, ln = self._next_used(timeout)
            g, _ = self.rx_bufs.pop(h)
            data += self.mem.read(g, ln)
        return hdr, data[HDR_LEN:], n

    def rx_idle(self, wait=0.5):
        """True if nothing was received for wait seconds."""
        time.sleep(wait)
        self.used_q += self.rx.take_used()
        return not self.used_q
