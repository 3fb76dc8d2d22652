# SPDX-License-Identifier: GPL-2.0-only
"""virtio-blk through bulkhead-hv's virtio-pci transport and vhost-user
front end, with qemu-storage-daemon as the device model (the real third
party back end the design names). A freestanding guest drives the disk;
the host checks the image. Runs on any KVM: no Linux guest."""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest

from conftest import read_until

QSD = shutil.which("qemu-storage-daemon")
SECTORS = 2048


def pattern(seed, n):
    return bytes((seed + i * 7 + (i >> 9)) & 0xff for i in range(n))


class StorageDaemon:
    """qemu-storage-daemon exporting one raw image over vhost-user-blk."""

    def __init__(self, image, writable=True):
        self.dir = tempfile.mkdtemp(prefix="bh-qsd-")
        self.socket = os.path.join(self.dir, "blk.sock")
        self.log = open(os.path.join(self.dir, "qsd.log"), "wb")
        self.proc = subprocess.Popen(
            [QSD, "--blockdev",
             f"driver=file,node-name=f0,filename={image}",
             "--export",
             "type=vhost-user-blk,id=e0,node-name=f0,addr.type=unix,"
             f"addr.path={self.socket},writable={'on' if writable else 'off'}"
             ],
            stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + 20
        while not os.path.exists(self.socket):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("qemu-storage-daemon did not start: " +
                                   self.read_log())
            time.sleep(0.05)

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(self.socket)
        return s

    def read_log(self):
        self.log.flush()
        with open(os.path.join(self.dir, "qsd.log"), "rb") as f:
            return f.read().decode(errors="replace")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def image(tmp_path):
    path = tmp_path / "disk.img"
    with open(path, "wb") as f:
        f.truncate(SECTORS * 512)
        f.seek(100 * 512)
        f.write(b"bulkhead seed")
    return path


@pytest.fixture
def qsd_factory():
    made = []

    def make(image, writable=True):
        if not QSD:
            pytest.skip("qemu-storage-daemon is not installed "
                        "(Debian package qemu-system-common)")
        d = StorageDaemon(image, writable)
        made.append(d)
        return d
    yield make
    for d in made:
        d.stop()


def run_guest(hv, guest_elf, tmp_path, name, disks, cmdline):
    log = tmp_path / f"{name}.log"
    hv.client.call("subscribe")
    hv.client.create_vm(name, guest_elf("virtio-blk"), memory_mib=16,
                        cmdline=cmdline, console_log=log, disks=disks)
    for _, s in disks:
        s.close()
    ev = hv.client.wait_event(lambda e: e["event"] == "vm-stopped" and
                              e["name"] == name, timeout=300)
    return ev, log.read_text()


def test_guest_reads_and_writes_through_qsd(hv, guest_elf, tmp_path, image,
                                            qsd_factory):
    qsd = qsd_factory(image)
    ev, text = run_guest(hv, guest_elf, tmp_path, "blk",
                         [("xvda", qsd.connect())],
                         f"role=good sectors={SECTORS}")
    assert ev["reason"] == "poweroff", (ev, text, hv.log.read_text())
    fails = [line for line in text.splitlines() if line.startswith("FAIL")]
    assert not fails and "RESULT pass" in text, text
    assert "ok good: the data read back is what was written" in text
    data = image.read_bytes()
    # The guest's write reached the image, and nothing around it moved.
    assert data[8 * 512:24 * 512] == pattern(0x5a, 8192)
    assert data[100 * 512:100 * 512 + 13] == b"bulkhead seed"
    assert data[:8 * 512] == bytes(8 * 512)


def test_read_only_export(hv, guest_elf, tmp_path, image, qsd_factory):
    qsd = qsd_factory(image, writable=False)
    before = image.read_bytes()
    ev, text = run_guest(hv, guest_elf, tmp_path, "ro",
                         [("xvda", qsd.connect())],
                         f"role=good sectors={SECTORS}")
    assert ev["reason"] == "poweroff", (ev, text)
    assert "ok good: a read-only disk refuses writes" in text, text
    assert "RESULT pass" in text, text
    assert image.read_bytes() == before


def test_dead_device_model_stops_only_its_vm(hv, guest_elf, tmp_path, image,
                                             qsd_factory):
    """The back end is killed while its guest runs: that VM stops as a
    crash naming the disk; a VM without the disk and the hypervisor go
    on."""
    qsd = qsd_factory(image)
    c = hv.client
    c.call("subscribe")
    log = tmp_path / "victim.log"
    c.create_vm("victim", guest_elf("virtio-blk"), memory_mib=16,
                cmdline=f"role=loop sectors={SECTORS}", console_log=log,
                disks=[("xvdb", qsd.connect())])
    other = tmp_path / "other.log"
    c.create_vm("other", guest_elf("lifecycle"), memory_mib=16,
                cmdline="action=hang", console_log=other)
    read_until(log, "looping", timeout=60)
    qsd.proc.send_signal(signal.SIGKILL)
    ev = c.wait_event(lambda e: e["event"] == "vm-stopped" and
                      e["name"] == "victim", timeout=60)
    assert ev["reason"] == "crash", ev
    assert ev["detail"].startswith("xvdb: device model:"), ev
    assert c.call("vm.info", name="other")["vm"]["state"] == "running"
    assert c.call("host.info")["vms"] == 2


def test_bad_device_sockets_are_refused(hv, guest_elf, tmp_path):
    """Not a vhost-user back end: vm.create fails with a reason and leaves
    nothing behind."""
    c = hv.client
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    ours.close()  # a peer that hung up before the handshake
    with pytest.raises(Exception) as exc:
        c.create_vm("bad", guest_elf("virtio-blk"), memory_mib=16,
                    disks=[("xvda", theirs)])
    assert "xvda: device model:" in str(exc.value)
    dgram = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    with pytest.raises(Exception) as exc:
        c.create_vm("bad", guest_elf("virtio-blk"), memory_mib=16,
                    disks=[("xvda", dgram)])
    assert "not a connected stream socket" in str(exc.value)
    assert c.call("vm.list")["vms"] == []
