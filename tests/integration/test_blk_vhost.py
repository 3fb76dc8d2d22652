# SPDX-License-Identifier: GPL-2.0-only
"""bulkhead-blk against a vhost-user front end and virtio driver played by
the test (vhost_frontend.py): no VM, so it runs anywhere in seconds.

Covers the handshake and config space, every request type on both I/O
engines, requests in flight beyond the device's depth, a guest that breaks
its queue, malformed messages from a hostile front end (each must end the
connection with a reason, never a crash), read-only disks, image locking
against QEMU's tools, durability across kill -9, the jail as seen from
outside, and the process's memory footprint.
"""

import os
import select
import signal
import socket
import struct
import subprocess
import time

import pytest

from blkctl import BLK, Blk, jail_ids, namespaces, open_fds, proc_status, \
    rss_kib, sanitized
from vhost_frontend import (
    BLK_F_BLK_SIZE, BLK_F_DISCARD, BLK_F_FLUSH, BLK_F_MQ, BLK_F_RO,
    BLK_F_SEG_MAX, BLK_F_WRITE_ZEROES, F_EVENT_IDX, F_INDIRECT_DESC,
    F_PROTOCOL_FEATURES, F_VERSION_1, FLAG_NEED_REPLY, FLAG_REPLY,
    GET_CONFIG, GET_FEATURES, GET_PROTOCOL_FEATURES, GET_QUEUE_NUM,
    GET_VRING_BASE, NO_STATUS, NOFD, PF_CONFIG, PF_MQ, PF_REPLY_ACK,
    PF_RESET_DEVICE, RESET_DEVICE, S_IOERR, S_OK, S_UNSUPP, SET_CONFIG,
    SET_FEATURES, SET_LOG_BASE, SET_MEM_TABLE, SET_VRING_ADDR,
    SET_VRING_BASE, SET_VRING_CALL, SET_VRING_ENABLE, SET_VRING_KICK,
    SET_VRING_NUM, T_DISCARD, T_FLUSH, T_GET_ID, T_IN, T_OUT,
    T_WRITE_ZEROES, UADDR_BASE, VERSION, BlkDriver, Closed, Frontend,
    GuestMemory,
    Vring, ranges)

IMAGE_SECTORS = 8192  # 4 MiB
SERIAL = "bulkhead-test-1"


def make_image(path, sectors=IMAGE_SECTORS):
    with open(path, "wb") as f:
        f.truncate(sectors * 512)
    return path


def pattern(n, seed):
    return bytes((i * 7 + seed) & 0xff for i in range(n))


def start(blk, mem, rings, event_idx=False):
    """The handshake QEMU does, then the rings. Returns the features."""
    fe = blk.fe
    offered, _ = fe.handshake()
    want = (1 << F_VERSION_1) | (1 << F_INDIRECT_DESC) | \
        (1 << F_PROTOCOL_FEATURES) | (1 << BLK_F_SEG_MAX) | \
        (1 << BLK_F_BLK_SIZE) | (1 << BLK_F_FLUSH) | (1 << BLK_F_RO) | \
        (1 << BLK_F_DISCARD) | (1 << BLK_F_WRITE_ZEROES) | (1 << BLK_F_MQ)
    if event_idx:
        want |= 1 << F_EVENT_IDX
    features = offered & want
    fe.set_u64(SET_FEATURES, features)
    assert fe.set_mem_table([(0, mem.size, UADDR_BASE, 0, mem.fd)]) in \
        (0, None)
    for ring in rings:
        fe.setup_vring(ring)
    return offered


@pytest.fixture(autouse=True)
def no_leftovers():
    """A failed test must not leave bulkhead-blk processes behind."""
    Blk.instances.clear()
    yield
    for blk in Blk.instances:
        blk.kill()


@pytest.fixture
def image(tmp_path):
    return make_image(tmp_path / "disk.img")


@pytest.fixture
def mem():
    m = GuestMemory()
    yield m
    m.close()


def test_handshake_and_config_space(tmp_path, image):
    blk = Blk(tmp_path, image, ["--serial", SERIAL])
    fe = blk.fe
    features = fe.get_u64(GET_FEATURES)
    for bit in (F_VERSION_1, F_EVENT_IDX, F_INDIRECT_DESC,
                F_PROTOCOL_FEATURES, BLK_F_SEG_MAX, BLK_F_BLK_SIZE,
                BLK_F_FLUSH, BLK_F_DISCARD, BLK_F_WRITE_ZEROES, BLK_F_MQ):
        assert features & (1 << bit), f"feature {bit} missing"
    assert not features & (1 << BLK_F_RO)
    protocol = fe.get_u64(GET_PROTOCOL_FEATURES)
    for bit in (PF_MQ, PF_REPLY_ACK, PF_CONFIG, PF_RESET_DEVICE):
        assert protocol & (1 << bit)
    assert not protocol & (1 << 12), "INFLIGHT_SHMFD is not implemented"
    fe.set_u64(16, protocol)  # SET_PROTOCOL_FEATURES
    fe.reply_ack = True
    assert fe.get_u64(GET_QUEUE_NUM) == 1

    cfg = fe.get_config(0, 60)
    assert len(cfg) == 60
    capacity, size_max, seg_max = struct.unpack_from("<QII", cfg, 0)
    assert capacity == IMAGE_SECTORS
    assert seg_max == 254
    blk_size, = struct.unpack_from("<I", cfg, 20)
    assert blk_size == 512
    num_queues, = struct.unpack_from("<H", cfg, 34)
    assert num_queues == 1
    dmax, dseg, dalign, wzmax, wzseg = struct.unpack_from("<IIIII", cfg, 36)
    assert dmax > 0 and 1 <= dseg <= 16 and dalign >= 1
    assert wzmax > 0 and wzseg >= 1
    assert cfg[56] == 1  # write_zeroes_may_unmap
    # A piece of it, and out of bounds (a zero-size reply says no).
    assert fe.get_config(8, 4) == cfg[8:12]
    assert fe.get_config(70, 8) == b""
    assert fe.get_config(0xfffffff0, 32) == b""
    # Nothing is writable: a negative ack, and the connection stays.
    assert fe.request(SET_CONFIG, struct.pack("<III", 32, 1, 0) + b"\1") == 1
    assert fe.get_u64(GET_QUEUE_NUM) == 1
    assert blk.close() == 0
    assert "front end disconnected" in blk.text()


@pytest.mark.parametrize("engine", ["io_uring", "sync"])
def test_requests(tmp_path, image, mem, engine):
    blk = Blk(tmp_path, image, ["--serial", SERIAL, "--io", engine])
    ring = Vring(mem, 0, 256, 0x10000, event_idx=engine == "io_uring")
    start(blk, mem, [ring], event_idx=engine == "io_uring")
    blk.wait_log(f"{'io_uring' if engine == 'io_uring' else 'synchronous'}"
                 " I/O")
    drv = BlkDriver(ring)

    data = pattern(8192, 3)
    assert drv.run(T_OUT, 8, out=data, split=3)[0] == S_OK
    status, got, used = drv.run(T_IN, 8, in_len=8192, split=4)
    assert (status, got, used) == (S_OK, data, 8193)
    with open(image, "rb") as f:
        f.seek(8 * 512)
        assert f.read(8192) == data
    # The same through an indirect table.
    assert drv.run(T_IN, 8, in_len=4096, indirect=True)[1] == data[:4096]
    assert drv.run(T_FLUSH)[0] == S_OK

    status, got, used = drv.run(T_GET_ID, in_len=20)
    assert status == S_OK and used == 21
    assert got == SERIAL.encode().ljust(20, b"\0")

    # Ranges checked against the capacity, overflow-safe.
    assert drv.run(T_IN, IMAGE_SECTORS, in_len=512)[0] == S_IOERR
    assert drv.run(T_IN, IMAGE_SECTORS - 1, in_len=1024)[0] == S_IOERR
    assert drv.run(T_IN, IMAGE_SECTORS - 1, in_len=512)[0] == S_OK
    assert drv.run(T_IN, 1 << 63, in_len=512)[0] == S_IOERR
    assert drv.run(T_IN, (1 << 64) - 1, in_len=512)[0] == S_IOERR
    assert drv.run(T_OUT, (1 << 55), out=bytes(512))[0] == S_IOERR
    assert drv.run(T_OUT, 0, out=bytes(100))[0] == S_IOERR
    # Wrong shapes: readable data on a read, no status byte, short header.
    assert drv.run(T_IN, 0, out=bytes(512), in_len=512)[0] == S_IOERR
    assert drv.run(T_FLUSH, in_len=512)[0] == S_IOERR
    status, _, used = drv.run(T_IN, 0, status=False)
    assert status == NO_STATUS and used == 0
    assert drv.run(0, header=b"\0" * 8)[0] == S_IOERR
    assert drv.run(99)[0] == S_UNSUPP
    assert drv.run(2)[0] == S_UNSUPP  # SCSI commands
    assert drv.run(T_IN | 0x80000000, in_len=512)[0] == S_UNSUPP

    # WRITE_ZEROES with and without unmap, DISCARD: zeros on the host.
    for sector, flags in ((16, 0), (32, 1)):
        assert drv.run(T_OUT, sector, out=pattern(4096, 9))[0] == S_OK
        assert drv.run(T_WRITE_ZEROES, out=ranges((sector, 8, flags)))[0] \
            == S_OK
        assert drv.run(T_IN, sector, in_len=4096)[1] == bytes(4096)
    assert drv.run(T_OUT, 48, out=pattern(8192, 5))[0] == S_OK
    assert drv.run(T_DISCARD, out=ranges((48, 8, 0), (52, 4, 0)))[0] == S_OK
    assert drv.run(T_DISCARD, out=ranges((48, 8, 1)))[0] == S_UNSUPP
    assert drv.run(T_WRITE_ZEROES, out=ranges((48, 8, 2)))[0] == S_UNSUPP
    assert drv.run(T_DISCARD, out=ranges((IMAGE_SECTORS - 4, 8, 0)))[0] \
        == S_IOERR
    assert drv.run(T_DISCARD, out=ranges((0, 0, 0)))[0] == S_IOERR
    assert drv.run(T_DISCARD, out=ranges(*[(i, 1, 0)
                                            for i in range(17)]))[0] \
        == S_IOERR
    assert drv.run(T_DISCARD, out=b"\0" * 20)[0] == S_IOERR
    assert drv.run(T_WRITE_ZEROES, out=ranges(
        (64, 8, 0), (80, 8, 0), (96, 8, 1)))[0] == S_OK

    # More requests in flight than the device takes at once (128).
    heads = {}
    for i in range(200):
        sector = (i * 8) % (IMAGE_SECTORS - 8)
        head, gpa, st = drv.submit(T_IN, sector, in_len=4096,
                                   indirect=True)
        heads[head] = (sector, gpa, st)
    ring.notify()
    done = ring.wait_used(200, timeout=30)
    assert sorted(h for h, _ in done) == sorted(heads)
    with open(image, "rb") as f:
        disk = f.read()
    for head, _ in done:
        sector, gpa, st = heads[head]
        assert mem.read(st, 1)[0] == S_OK
        assert mem.read(gpa, 4096) == disk[sector * 512:sector * 512 + 4096]

    # The ring stops; its base says where it stopped.
    base = fe_get_vring_base(blk, 0)
    assert base == ring.avail_idx
    assert blk.close() == 0


def test_two_queues(tmp_path, image, mem):
    blk = Blk(tmp_path, image, ["--queues", "2"])
    rings = [Vring(mem, 0, 64, 0x10000), Vring(mem, 1, 64, 0x40000)]
    start(blk, mem, rings)
    assert blk.fe.get_u64(GET_QUEUE_NUM) == 2
    assert struct.unpack("<H", blk.fe.get_config(34, 2))[0] == 2
    d0, d1 = BlkDriver(rings[0]), BlkDriver(rings[1])
    assert d0.run(T_OUT, 0, out=pattern(4096, 1))[0] == S_OK
    assert d1.run(T_OUT, 8, out=pattern(4096, 2))[0] == S_OK
    # Both at once, each answered on its own ring.
    h0 = [d0.submit(T_IN, 8, in_len=4096)[0] for _ in range(8)]
    h1 = [d1.submit(T_IN, 0, in_len=4096)[0] for _ in range(8)]
    rings[0].notify()
    rings[1].notify()
    assert sorted(h for h, _ in rings[0].wait_used(8)) == sorted(h0)
    assert sorted(h for h, _ in rings[1].wait_used(8)) == sorted(h1)
    # One queue stopped: the other goes on.
    fe_get_vring_base(blk, 0)
    assert d1.run(T_IN, 0, in_len=4096)[1] == pattern(4096, 1)
    assert blk.close() == 0


def fe_get_vring_base(blk, index):
    reply = blk.fe.request(GET_VRING_BASE, struct.pack("<II", index, 0))
    i, num = struct.unpack("<II", reply)
    assert i == index
    return num


def test_guest_breaks_its_queue(tmp_path, image, mem):
    blk = Blk(tmp_path, image)
    ring = Vring(mem, 0, 64, 0x10000)
    start(blk, mem, [ring])
    drv = BlkDriver(ring)
    assert drv.run(T_IN, 0, in_len=512)[0] == S_OK
    # A buffer outside guest RAM.
    ring.add([(mem.size - 8, 64, True)])
    ring.notify()
    r, _, _ = select.select([ring.err], [], [], 10)
    assert r, "the error eventfd was not signalled"
    assert os.eventfd_read(ring.err) >= 1
    blk.wait_log("vring 0 broken by the guest")
    # Nothing more is taken from it.
    head, _, _ = drv.submit(T_IN, 0, in_len=512)
    ring.notify()
    time.sleep(0.3)
    assert ring.take_used() == []
    assert blk.proc.poll() is None
    # Set up again (a fresh ring, as a driver reset gives): served again.
    fe_get_vring_base(blk, 0)
    ring2 = Vring(mem, 0, 64, 0x80000)
    blk.fe.setup_vring(ring2)
    assert BlkDriver(ring2).run(T_IN, 0, in_len=512)[0] == S_OK
    # A descriptor loop breaks it the same way.
    ring2.write_desc(ring2.free[0], 0x200000, 512, 1 | 2, ring2.free[0])
    ring2.chains[ring2.free[0]] = []
    slot = ring2.avail + 4 + 2 * (ring2.avail_idx % ring2.size)
    mem.store16(slot, ring2.free[0])
    ring2.avail_idx += 1
    ring2.notify()
    assert select.select([ring2.err], [], [], 10)[0]
    assert blk.close() == 0
    assert "loop" in blk.text() or "chain" in blk.text()


def test_memory_table_change_and_reset(tmp_path, image, mem):
    blk = Blk(tmp_path, image)
    ring = Vring(mem, 0, 64, 0x10000)
    start(blk, mem, [ring])
    drv = BlkDriver(ring)
    assert drv.run(T_OUT, 4, out=pattern(1024, 1))[0] == S_OK
    # Memory hot-added while the ring runs: remapped, the ring goes on.
    extra = os.memfd_create("hotplug")
    os.ftruncate(extra, 1 << 20)
    assert blk.fe.set_mem_table([
        (0, mem.size, UADDR_BASE, 0, mem.fd),
        (mem.size, 1 << 20, UADDR_BASE + mem.size, 0, extra)]) == 0
    os.close(extra)
    assert drv.run(T_IN, 4, in_len=1024)[1] == pattern(1024, 1)
    # A reset stops everything; a fresh setup serves again.
    assert blk.fe.request(RESET_DEVICE) == 0
    time.sleep(0.1)
    assert blk.proc.poll() is None
    ring2 = Vring(mem, 0, 64, 0x80000)
    start2(blk, mem, ring2)
    assert BlkDriver(ring2).run(T_IN, 4, in_len=1024)[1] == pattern(1024, 1)
    assert blk.close() == 0


def start2(blk, mem, ring):
    fe = blk.fe
    fe.set_u64(SET_FEATURES, (1 << F_VERSION_1) | (1 << F_PROTOCOL_FEATURES))
    fe.set_mem_table([(0, mem.size, UADDR_BASE, 0, mem.fd)])
    fe.setup_vring(ring)


def test_readonly_disk(tmp_path, image, mem):
    data = pattern(4096, 11)
    with open(image, "r+b") as f:
        f.write(data)
    blk = Blk(tmp_path, image, ["--readonly"])
    ring = Vring(mem, 0, 64, 0x10000)
    offered = start(blk, mem, [ring])
    assert offered & (1 << BLK_F_RO)
    assert not offered & (1 << BLK_F_DISCARD)
    assert not offered & (1 << BLK_F_WRITE_ZEROES)
    drv = BlkDriver(ring)
    assert drv.run(T_IN, 0, in_len=4096)[1] == data
    assert drv.run(T_OUT, 0, out=bytes(4096))[0] == S_IOERR
    assert drv.run(T_DISCARD, out=ranges((0, 8, 0)))[0] == S_IOERR
    assert drv.run(T_WRITE_ZEROES, out=ranges((0, 8, 0)))[0] == S_IOERR
    assert drv.run(T_FLUSH)[0] == S_OK
    # The descriptor itself is read-only.
    if os.geteuid() == 0:
        for fd, target in open_fds(blk.pid).items():
            if target == str(image):
                flags = open(f"/proc/{blk.pid}/fdinfo/{fd}").read()
                flags = int(flags.split("flags:")[1].split()[0], 8)
                assert flags & 3 == os.O_RDONLY
                break
        else:
            pytest.fail("image descriptor not found")
    assert blk.close() == 0
    with open(image, "rb") as f:
        assert f.read(4096) == data


def test_flushed_data_survives_kill9(tmp_path, image, mem):
    blk = Blk(tmp_path, image)
    ring = Vring(mem, 0, 64, 0x10000)
    start(blk, mem, [ring])
    drv = BlkDriver(ring)
    data = pattern(65536, 21)
    assert drv.run(T_OUT, 128, out=data, split=16)[0] == S_OK
    assert drv.run(T_FLUSH)[0] == S_OK
    os.kill(blk.pid, signal.SIGKILL)
    assert blk.wait() == -signal.SIGKILL
    blk.sock.close()
    with open(image, "rb") as f:
        f.seek(128 * 512)
        assert f.read(65536) == data


@pytest.mark.skipif(os.geteuid() != 0, reason="reads a jailed process's "
                    "/proc entries, which needs root")
def test_jail_seen_from_outside_and_memory(tmp_path, image, mem):
    blk = Blk(tmp_path, image)
    ring = Vring(mem, 0, 128, 0x10000, event_idx=True)
    start(blk, mem, [ring], event_idx=True)
    drv = BlkDriver(ring)
    for i in range(64):
        drv.submit(T_OUT, i * 16, out=pattern(8192, i), indirect=True)
    ring.notify()
    ring.wait_used(64)
    for i in range(64):
        drv.submit(T_IN, i * 16, in_len=8192, indirect=True)
    ring.notify()
    ring.wait_used(64)

    st = proc_status(blk.pid)
    assert st["Uid"].split() == ["65534"] * 4
    assert st["Gid"].split() == ["65534"] * 4
    assert st["Groups"] == ""
    assert st["NoNewPrivs"] == "1"
    assert st["Seccomp"] == "2"
    for cap in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        assert int(st[cap], 16) == 0, cap
    ours, theirs = namespaces(os.getpid()), namespaces(blk.pid)
    for ns in ("mnt", "net", "ipc", "uts"):
        assert ours[ns] != theirs[ns], ns
    assert os.listdir(f"/proc/{blk.pid}/root") == []
    limits = open(f"/proc/{blk.pid}/limits").read()
    assert [ln for ln in limits.splitlines()
            if ln.startswith("Max core file size")][0].split()[4] == "0"
    # Only what it was given or made: no directory, no other file.
    for fd, target in open_fds(blk.pid).items():
        assert target in (str(image), str(blk.log)) or \
            target.startswith(("socket:", "anon_inode:")), (fd, target)

    anon, file_, shmem = rss_kib(blk.pid)
    print(f"\nbulkhead-blk RSS after 128 requests: RssAnon {anon} KiB, "
          f"RssFile {file_} KiB, RssShmem {shmem} KiB (guest RAM)")
    if not sanitized():
        assert anon + file_ <= 4096, (anon, file_)
    assert blk.close() == 0


HOSTILE = {
    "bad version": lambda fe: fe.send(GET_FEATURES, flags=2),
    "reply flag on a request": lambda fe: fe.send(
        GET_FEATURES, flags=VERSION | FLAG_REPLY),
    "unknown flag": lambda fe: fe.send(GET_FEATURES, flags=VERSION | 0x100),
    "short SET_FEATURES": lambda fe: fe.send(SET_FEATURES, b"\0" * 4),
    "long GET_FEATURES": lambda fe: fe.send(GET_FEATURES, b"\0" * 8),
    "unknown request": lambda fe: fe.send(200),
    "unsupported SET_LOG_BASE": lambda fe: fe.send(SET_LOG_BASE, bytes(16)),
    "payload too large": lambda fe: fe.send(GET_FEATURES, bytes(4096)),
    "size beyond the bytes sent": lambda fe: fe.send(SET_FEATURES, b"",
                                                     size=8),
    "vring index out of range": lambda fe: fe.vring_state(
        SET_VRING_NUM, 5, 64),
    "vring size not a power of two": lambda fe: fe.vring_state(
        SET_VRING_NUM, 0, 100),
    "vring size too large": lambda fe: fe.vring_state(
        SET_VRING_NUM, 0, 65536),
    "vring base too large": lambda fe: fe.vring_state(
        SET_VRING_BASE, 0, 70000),
    "kick without its descriptor": lambda fe: fe.set_u64(SET_VRING_KICK, 0),
    "call with two descriptors": lambda fe: fe.set_u64(
        SET_VRING_CALL, 0, [os.eventfd(0), os.eventfd(0)]),
    "descriptor on GET_FEATURES": lambda fe: fe.send(
        GET_FEATURES, fds=[os.eventfd(0)]),
    "unknown bits in a vring fd message": lambda fe: fe.set_u64(
        SET_VRING_CALL, NOFD | 1 << 20),
    "kick in polling mode": lambda fe: fe.set_u64(SET_VRING_KICK, NOFD),
    "kick before the rings were set": lambda fe: fe.set_u64(
        SET_VRING_KICK, 0, [os.eventfd(0)]),
    "features never offered": lambda fe: fe.set_u64(SET_FEATURES, 1 << 40),
    "vring address with logging": lambda fe: fe.send(
        SET_VRING_ADDR, struct.pack("<IIQQQQ", 0, 1, 0, 0, 0, 0)),
    "empty memory table": lambda fe: fe.send(
        SET_MEM_TABLE, struct.pack("<II", 0, 0)),
    "nine regions": lambda fe: fe.send(
        SET_MEM_TABLE, struct.pack("<II", 9, 0) + bytes(32 * 9)),
    "regions without descriptors": lambda fe: fe.send(
        SET_MEM_TABLE, struct.pack("<II", 1, 0) +
        struct.pack("<QQQQ", 0, 4096, UADDR_BASE, 0)),
    "region past its file": lambda fe: region(fe, [(0, 32 << 20, 0)]),
    "region of zero bytes": lambda fe: region(fe, [(0, 0, 0)]),
    "region wrapping around": lambda fe: region(
        fe, [((1 << 64) - 4096, 8192, 0)]),
    "overlapping regions": lambda fe: region(
        fe, [(0, 8192, 0), (4096, 8192, 1 << 20)]),
    "region that is not memory": lambda fe: fe.send(
        SET_MEM_TABLE, struct.pack("<II", 1, 0) +
        struct.pack("<QQQQ", 0, 4096, UADDR_BASE, 0), [os.eventfd(0)]),
    "SET_VRING_ENABLE before features": lambda fe: fe.vring_state(
        SET_VRING_ENABLE, 0, 1),
    "GET_CONFIG without the CONFIG feature": lambda fe: fe.send(
        GET_CONFIG, struct.pack("<III", 0, 8, 0) + bytes(8)),
    "config size over 256": lambda fe: fe.send(
        GET_CONFIG, struct.pack("<III", 0, 300, 0) + bytes(256)),
}


def region(fe, regions):
    """A memory table over one small memfd; the last entry's fields vary."""
    payload = struct.pack("<II", len(regions), 0)
    fds = []
    for gpa, size, uoff in regions:
        fd = os.memfd_create("r")
        os.ftruncate(fd, 16 << 20)
        fds.append(fd)
        payload += struct.pack("<QQQQ", gpa, size, UADDR_BASE + uoff, 0)
    fe.send(SET_MEM_TABLE, payload, fds)


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_front_end(tmp_path, image, case):
    blk = Blk(tmp_path, image)
    assert blk.fe.get_u64(GET_FEATURES)  # served before
    HOSTILE[case](blk.fe)
    if case == "size beyond the bytes sent":
        blk.sock.shutdown(socket.SHUT_WR)
    status = blk.wait()
    assert status == 1, f"{case}: exit {status}\n{blk.text()}"
    assert "closing the connection" in blk.text(), blk.text()
    with pytest.raises((Closed, OSError)):
        blk.fe.get_u64(GET_FEATURES)
    blk.sock.close()


def test_protocol_order_without_reply_ack(tmp_path, image, mem):
    """REPLY_ACK not negotiated: NEED_REPLY is ignored, no stray replies."""
    blk = Blk(tmp_path, image)
    fe = blk.fe
    fe.handshake(protocol_mask=~(1 << PF_REPLY_ACK))
    fe.send(SET_FEATURES, struct.pack("<Q", 1 << F_VERSION_1),
            flags=VERSION | FLAG_NEED_REPLY)
    assert fe.get_u64(GET_QUEUE_NUM) == 1  # the next reply is this one
    assert blk.close() == 0


def test_socket_mode(tmp_path, image):
    path = f"/tmp/bh-blk-{os.getpid()}.sock"
    log = open(tmp_path / "blk.log", "wb")
    proc = subprocess.Popen([str(BLK), "--socket", path, "--image",
                             str(image), *jail_ids()], stderr=log)
    try:
        deadline = time.monotonic() + 10
        while not os.path.exists(path):
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.02)
        assert os.stat(path).st_mode & 0o077 == 0, "only its owner connects"
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(path)
        assert Frontend(s).get_u64(GET_FEATURES) & (1 << F_VERSION_1)
        assert not os.path.exists(path), "the socket is removed once accepted"
        s.close()
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def run_blk(args, timeout=10):
    return subprocess.run([str(BLK), *args], capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


def test_command_line_errors(tmp_path, image):
    r = run_blk(["--help"])
    assert r.returncode == 0 and "--image-fd" in r.stdout
    r = run_blk(["--fd", "3"])
    assert r.returncode == 2 and "--image" in r.stderr
    r = run_blk(["--fd", "3", "--socket", "/x", "--image", str(image)])
    assert r.returncode == 2
    r = run_blk(["--fd", "0", "--image", str(image), "--format", "vmdk"])
    assert r.returncode == 2 and "unknown image format" in r.stderr
    r = run_blk(["--fd", "0", "--image", str(tmp_path / "missing.img")])
    assert r.returncode == 1
    assert "cannot open" in r.stderr and "No such file" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    r = run_blk(["--fd", "0", "--image", str(image), "--format", "qcow2"])
    assert r.returncode == 1 and "qcow2" in r.stderr
    qcow = tmp_path / "q.img"
    qcow.write_bytes(b"QFI\xfb" + bytes(65532))
    r = run_blk(["--fd", "0", "--image", str(qcow)])
    assert r.returncode == 1 and "qcow2" in r.stderr
    r = run_blk(["--fd", "0", "--image", str(image), "--serial", "x" * 21])
    assert r.returncode == 2
    if os.geteuid() == 0:
        a, b = socket.socketpair()
        r = subprocess.run([str(BLK), "--fd", str(b.fileno()), "--image",
                            str(image)], capture_output=True, text=True,
                           pass_fds=[b.fileno()], timeout=10)
        assert r.returncode == 1 and "--uid" in r.stderr
        # An unreadable image for the jailed user does not matter: it is
        # opened before the switch. A directory is not an image.
        r = run_blk(["--fd", "0", "--image", str(tmp_path), "--readonly"])
        assert r.returncode == 1 and "not a regular file" in r.stderr


def qemu_tool(*args):
    return subprocess.run(list(args), capture_output=True, text=True,
                          timeout=30, stdin=subprocess.DEVNULL)


def test_image_locking_with_qemu(tmp_path, image):
    if not os.path.exists("/usr/bin/qemu-img"):
        pytest.skip("qemu-img is not installed (qemu-utils)")
    copy = str(tmp_path / "copy.img")
    blk = Blk(tmp_path, image)
    blk.fe.get_u64(GET_FEATURES)  # set up and serving
    # A consistent copy needs the writer gone; a read-write open too.
    r = qemu_tool("qemu-img", "convert", "-f", "raw", "-O", "raw",
                  str(image), copy)
    assert r.returncode == 1 and 'Failed to get shared "write" lock' in \
        r.stderr, r.stderr
    r = qemu_tool("qemu-io", "-f", "raw", "-c", "read 0 512", str(image))
    assert r.returncode == 1 and 'Failed to get "write" lock' in r.stderr
    # Forced sharing (-U) is QEMU's way past the locks, as it should be.
    assert qemu_tool("qemu-img", "info", "-U", "-f", "raw",
                     str(image)).returncode == 0
    second = run_blk(["--fd", "0", "--image", str(image), *jail_ids()])
    assert second.returncode == 1
    assert "in use by another process" in second.stderr
    assert blk.close() == 0
    assert qemu_tool("qemu-img", "convert", "-f", "raw", "-O", "raw",
                     str(image), copy).returncode == 0

    # The other way round: qemu-io has it open for writing.
    io = subprocess.Popen(["qemu-io", "-f", "raw", str(image)],
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT)
    try:
        io.stdin.write(b"read 0 512\n")
        io.stdin.flush()
        io.stdout.readline()  # it has opened the image
        for ro in ([], ["--readonly"]):
            r = run_blk(["--fd", "0", "--image", str(image), *ro,
                         *jail_ids()])
            assert r.returncode == 1, r.stderr
            assert "in use by another process" in r.stderr, r.stderr
    finally:
        io.stdin.close()
        io.wait(timeout=30)

    # qemu-storage-daemon exporting it writable, both ways round.
    if os.path.exists("/usr/bin/qemu-storage-daemon"):
        sock = f"/tmp/bh-qsd-{os.getpid()}.sock"
        qsd = ["qemu-storage-daemon", "--blockdev",
               f"driver=file,node-name=f,filename={image}", "--export",
               "type=vhost-user-blk,id=e,node-name=f,writable=on,"
               f"addr.type=unix,addr.path={sock}"]
        blk = Blk(tmp_path, image)
        blk.fe.get_u64(GET_FEATURES)
        r = qemu_tool(*qsd)
        assert r.returncode == 1 and 'Failed to get "write" lock' in \
            r.stderr, r.stderr
        assert blk.close() == 0
        daemon = subprocess.Popen(qsd, stdin=subprocess.DEVNULL,
                                  stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 20
            while not os.path.exists(sock):
                assert daemon.poll() is None, daemon.stderr.read()
                assert time.monotonic() < deadline
                time.sleep(0.05)
            r = run_blk(["--fd", "0", "--image", str(image), *jail_ids()])
            assert r.returncode == 1, r.stderr
            assert "in use by another process" in r.stderr, r.stderr
        finally:
            daemon.terminate()
            daemon.wait(timeout=20)
            if os.path.exists(sock):
                os.unlink(sock)

    # Readers share.
    a = Blk(tmp_path, image, ["--readonly"])
    b = Blk(tmp_path, image, ["--readonly"])
    assert a.fe.get_u64(GET_FEATURES) and b.fe.get_u64(GET_FEATURES)
    assert qemu_tool("qemu-img", "convert", "-f", "raw", "-O", "raw",
                     str(image), copy).returncode == 0
    assert qemu_tool("qemu-io", "-f", "raw", "-c", "read 0 512",
                     str(image)).returncode == 1
    assert a.close() == 0 and b.close() == 0
