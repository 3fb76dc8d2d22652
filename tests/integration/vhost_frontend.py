# SPDX-License-Identifier: GPL-2.0-only
"""A small vhost-user front end and virtio driver for testing back ends.

It plays what QEMU (or bulkhead-hv) and a guest's virtio driver do: the
vhost-user handshake over a unix socket, guest RAM in a memfd handed over
with SET_MEM_TABLE, split virtqueues laid out in that memory, eventfds
for kicks, interrupts and errors. Written from QEMU's
docs/interop/vhost-user.rst and the virtio 1.2 specification; it shares no
code with the back end under test.
"""

import mmap
import os
import select
import socket
import struct
import time

# Requests (vhost-user.rst).
GET_FEATURES = 1
SET_FEATURES = 2
SET_OWNER = 3
RESET_OWNER = 4
SET_MEM_TABLE = 5
SET_LOG_BASE = 6
SET_VRING_NUM = 8
SET_VRING_ADDR = 9
SET_VRING_BASE = 10
GET_VRING_BASE = 11
SET_VRING_KICK = 12
SET_VRING_CALL = 13
SET_VRING_ERR = 14
GET_PROTOCOL_FEATURES = 15
SET_PROTOCOL_FEATURES = 16
GET_QUEUE_NUM = 17
SET_VRING_ENABLE = 18
GET_CONFIG = 24
SET_CONFIG = 25
RESET_DEVICE = 34

VERSION = 1
FLAG_REPLY = 1 << 2
FLAG_NEED_REPLY = 1 << 3
NOFD = 1 << 8

F_PROTOCOL_FEATURES = 30
F_INDIRECT_DESC = 28
F_EVENT_IDX = 29
F_VERSION_1 = 32

PF_MQ = 0
PF_REPLY_ACK = 3
PF_CONFIG = 9
PF_RESET_DEVICE = 13

DESC_F_NEXT = 1
DESC_F_WRITE = 2
DESC_F_INDIRECT = 4

# virtio-blk (virtio 1.2, 5.2).
BLK_F_SEG_MAX = 2
BLK_F_RO = 5
BLK_F_BLK_SIZE = 6
BLK_F_FLUSH = 9
BLK_F_MQ = 12
BLK_F_DISCARD = 13
BLK_F_WRITE_ZEROES = 14
T_IN = 0
T_OUT = 1
T_FLUSH = 4
T_GET_ID = 8
T_DISCARD = 11
T_WRITE_ZEROES = 13
S_OK = 0
S_IOERR = 1
S_UNSUPP = 2
NO_STATUS = -1  # the chain had no status byte

# A front-end "userspace" address for guest-physical 0; any value works as
# long as the back end translates consistently.
UADDR_BASE = 0x7f1200000000


class Closed(Exception):
    """The back end closed the connection."""


class GuestMemory:
    """Guest RAM: a memfd mapped here and shared with the back end."""

    def __init__(self, size=16 << 20):
        self.size = size
        self.fd = os.memfd_create("guest-ram", os.MFD_CLOEXEC)
        os.ftruncate(self.fd, size)
        self.map = mmap.mmap(self.fd, size)
        # 16-bit fields the device reads while we write them take one
        # store each: struct.pack_into zeroes its bytes before packing,
        # which a concurrent reader sees as the field going to 0.
        self.u16 = memoryview(self.map).cast("H")
        self.next = 1 << 20  # buffers above the rings

    def alloc(self, length, align=16):
        addr = (self.next + align - 1) & ~(align - 1)
        if addr + length > self.size:
            self.next = 1 << 20
            addr = self.next
        self.next = addr + length
        return addr

    def write(self, gpa, data):
        self.map[gpa:gpa + len(data)] = data

    def read(self, gpa, length):
        return bytes(self.map[gpa:gpa + length])

    def store16(self, gpa, value):
        """A little-endian (x86) 16-bit field in one store."""
        assert gpa % 2 == 0
        self.u16[gpa // 2] = value

    def close(self):
        self.u16.release()
        self.map.close()
        os.close(self.fd)


class Vring:
    """The driver's side of one split virtqueue in GuestMemory."""

    def __init__(self, mem, index, size, base_gpa, event_idx=False):
        self.mem = mem
        self.index = index
        self.size = size
        self.event_idx = event_idx
        self.desc = base_gpa
        self.avail = self.desc + 16 * size
        self.used = (self.avail + 6 + 2 * size + 4095) & ~4095
        self.free = list(range(size))
        self.avail_idx = 0
        self.last_used = 0
        self.chains = {}  # head -> descriptors it took
        mem.write(self.desc, bytes(16 * size))
        mem.write(self.avail, bytes(6 + 2 * size))
        mem.write(self.used, bytes(6 + 8 * size))
        self.kick = os.eventfd(0, os.EFD_CLOEXEC | os.EFD_NONBLOCK)
        self.call = os.eventfd(0, os.EFD_CLOEXEC | os.EFD_NONBLOCK)
        self.err = os.eventfd(0, os.EFD_CLOEXEC | os.EFD_NONBLOCK)

    def write_desc(self, i, addr, length, flags, nxt=0):
        struct.pack_into("<QIHH", self.mem.map, self.desc + 16 * i, addr,
                         length, flags, nxt)

    def add(self, bufs, indirect=False):
        """bufs: (gpa, length, writable) in order. Returns the head."""
        if indirect:
            table = self.mem.alloc(16 * len(bufs))
            for i, (addr, length, writable) in enumerate(bufs):
                flags = (DESC_F_WRITE if writable else 0) | \
                    (DESC_F_NEXT if i + 1 < len(bufs) else 0)
                struct.pack_into("<QIHH", self.mem.map, table + 16 * i,
                                 addr, length, flags, i + 1)
            head = self.free.pop(0)
            self.write_desc(head, table, 16 * len(bufs), DESC_F_INDIRECT)
            self.chains[head] = [head]
        else:
            ids = [self.free.pop(0) for _ in bufs]
            for k, (addr, length, writable) in enumerate(bufs):
                flags = (DESC_F_WRITE if writable else 0) | \
                    (DESC_F_NEXT if k + 1 < len(bufs) else 0)
                self.write_desc(ids[k], addr, length, flags,
                                ids[k + 1] if k + 1 < len(bufs) else 0)
            head = ids[0]
            self.chains[head] = ids
        slot = self.avail + 4 + 2 * (self.avail_idx % self.size)
        self.mem.store16(slot, head)
        self.avail_idx = (self.avail_idx + 1) & 0xffff
        return head

    def publish(self):
        self.mem.store16(self.avail + 2, self.avail_idx)

    def notify(self):
        self.publish()
        os.eventfd_write(self.kick, 1)

    def used_idx(self):
        return struct.unpack_from("<H", self.mem.map, self.used + 2)[0]

    def take_used(self):
        """New used entries as (head, len); their descriptors are freed."""
        out = []
        idx = self.used_idx()
        while self.last_used != idx:
            slot = self.used + 4 + 8 * (self.last_used % self.size)
            head, length = struct.unpack_from("<II", self.mem.map, slot)
            out.append((head, length))
            self.free.extend(self.chains.pop(head, []))
            self.last_used = (self.last_used + 1) & 0xffff
        if self.event_idx:
            # used_event: interrupt me when the next entry lands.
            self.mem.store16(self.avail + 4 + 2 * self.size, self.last_used)
        return out

    def drain_eventfd(self, fd):
        try:
            return os.eventfd_read(fd)
        except BlockingIOError:
            return 0

    def wait_used(self, count, timeout=10.0):
        """Waits until count entries came back; returns them."""
        got = []
        deadline = time.monotonic() + timeout
        while len(got) < count:
            got += self.take_used()
            if len(got) >= count:
                break
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(
                    f"vring {self.index}: {len(got)} of {count} answers")
            select.select([self.call], [], [], min(left, 0.2))
            self.drain_eventfd(self.call)
        return got

    def close(self):
        for fd in (self.kick, self.call, self.err):
            os.close(fd)


class Frontend:
    """The vhost-user protocol over one connected socket."""

    def __init__(self, sock):
        self.sock = sock
        self.reply_ack = False

    def send(self, request, payload=b"", fds=(), flags=VERSION, size=None):
        hdr = struct.pack("<III", request, flags,
                          len(payload) if size is None else size)
        socket.send_fds(self.sock, [hdr + payload], list(fds))

    def _recv_exact(self, n):
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise Closed("the back end closed the connection")
            data += chunk
        return data

    def recv(self, request):
        req, flags, size = struct.unpack("<III", self._recv_exact(12))
        assert req == request, f"reply to {req}, expected {request}"
        assert flags == VERSION | FLAG_REPLY, f"reply flags {flags:#x}"
        return self._recv_exact(size)

    def request(self, request, payload=b"", fds=(), ack=None):
        """Sends; returns the reply (GET_*), or the ack value if asked."""
        ack = self.reply_ack if ack is None else ack
        self.send(request, payload, fds,
                  VERSION | (FLAG_NEED_REPLY if ack else 0))
        if request in (GET_FEATURES, GET_PROTOCOL_FEATURES, GET_QUEUE_NUM,
                       GET_VRING_BASE, GET_CONFIG):
            return self.recv(request)
        if ack:
            return struct.unpack("<Q", self.recv(request))[0]
        return None

    def get_u64(self, request):
        return struct.unpack("<Q", self.request(request))[0]

    def set_u64(self, request, value, fds=()):
        return self.request(request, struct.pack("<Q", value), fds)

    def vring_state(self, request, index, num):
        return self.request(request, struct.pack("<II", index, num))

    def get_config(self, offset, size):
        reply = self.request(GET_CONFIG, struct.pack("<III", offset, size, 0)
                             + bytes(size))
        return reply[12:] if reply else b""

    def set_mem_table(self, regions):
        """regions: (gpa, size, uaddr, mmap_offset, fd)."""
        payload = struct.pack("<II", len(regions), 0)
        for gpa, size, uaddr, off, _ in regions:
            payload += struct.pack("<QQQQ", gpa, size, uaddr, off)
        return self.request(SET_MEM_TABLE, payload,
                            [r[4] for r in regions])

    def handshake(self, features_mask=~0, protocol_mask=~0):
        """GET/SET features and protocol features, SET_OWNER."""
        features = self.get_u64(GET_FEATURES)
        protocol = self.get_u64(GET_PROTOCOL_FEATURES)
        protocol &= protocol_mask
        self.set_u64(SET_PROTOCOL_FEATURES, protocol)
        self.reply_ack = bool(protocol & (1 << PF_REPLY_ACK))
        self.request(SET_OWNER)
        return features & features_mask, protocol

    def setup_vring(self, ring, mem_uaddr=UADDR_BASE, enable=True,
                    base=0):
        self.vring_state(SET_VRING_NUM, ring.index, ring.size)
        self.vring_state(SET_VRING_BASE, ring.index, base)
        self.request(SET_VRING_ADDR, struct.pack(
            "<IIQQQQ", ring.index, 0, mem_uaddr + ring.desc,
            mem_uaddr + ring.used, mem_uaddr + ring.avail, 0))
        self.set_u64(SET_VRING_CALL, ring.index, [ring.call])
        self.set_u64(SET_VRING_ERR, ring.index, [ring.err])
        self.set_u64(SET_VRING_KICK, ring.index, [ring.kick])
        if enable:
            self.vring_state(SET_VRING_ENABLE, ring.index, 1)


class BlkDriver:
    """virtio-blk requests on one Vring."""

    def __init__(self, ring):
        self.ring = ring
        self.mem = ring.mem

    def submit(self, rtype, sector=0, out=b"", in_len=0, status=True,
               split=1, indirect=False, header=None):
        """Queues a request; returns (head, in_gpa, status_gpa)."""
        hdr = self.mem.alloc(16)
        self.mem.write(hdr, header if header is not None else
                       struct.pack("<IIQ", rtype, 0, sector))
        bufs = [(hdr, 16 if header is None else len(header), False)]
        if out:
            gpa = self.mem.alloc(len(out))
            self.mem.write(gpa, out)
            step = (len(out) + split - 1) // split
            for off in range(0, len(out), step):
                bufs.append((gpa + off, min(step, len(out) - off), False))
        in_gpa = 0
        if in_len:
            in_gpa = self.mem.alloc(in_len)
            self.mem.write(in_gpa, b"\xee" * in_len)
            step = (in_len + split - 1) // split
            for off in range(0, in_len, step):
                bufs.append((in_gpa + off, min(step, in_len - off), True))
        st = 0
        if status:
            st = self.mem.alloc(1)
            self.mem.write(st, b"\xff")
            bufs.append((st, 1, True))
        head = self.ring.add(bufs, indirect=indirect)
        return head, in_gpa, st

    def run(self, rtype, sector=0, out=b"", in_len=0, **kw):
        """One request to completion: (status, data, used_len)."""
        head, in_gpa, st = self.submit(rtype, sector, out, in_len, **kw)
        self.ring.notify()
        (got_head, used_len), = self.ring.wait_used(1)
        assert got_head == head
        status = self.mem.read(st, 1)[0] if st else NO_STATUS
        data = self.mem.read(in_gpa, in_len) if in_len else b""
        return status, data, used_len


def ranges(*segs):
    """DISCARD / WRITE_ZEROES payload: (sector, count, flags) each."""
    return b"".join(struct.pack("<QII", s, n, f) for s, n, f in segs)
