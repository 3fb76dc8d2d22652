# SPDX-License-Identifier: GPL-2.0-only
"""Disks through the real toolstack: bulkheadd starts a confined
bulkhead-blk per disk (or connects to qemu-storage-daemon for
backendtype=vhost-user), bulkhead-hv presents them as virtio-blk, and a
freestanding guest drives them, as a correct driver and as a hostile one.
Bad disk specifications and images are refused with one line, leaving
nothing running and nothing written. Freestanding guests only: runs on
any KVM host (the Linux guests' disk tests are in test_linux_disks.py)."""

import json
import os
import pathlib
import signal
import time

import pytest

from test_virtio_blk import SECTORS, StorageDaemon, pattern, QSD
from toolstack import Toolstack, BUILD_DIR

EXIT_OK, EXIT_ERROR = 0, 1
VIRTIO_BLK = BUILD_DIR / "guest" / "test" / "virtio-blk.elf"


@pytest.fixture
def ts(tmp_path):
    t = Toolstack(tmp_path)
    t.start()
    yield t
    t.stop()


def make_image(path, sectors=SECTORS):
    with open(path, "wb") as f:
        f.truncate(sectors * 512)
        f.seek(100 * 512)
        f.write(b"bulkhead seed")
    return path


def define(ts, name, disks, role="good", **keys):
    keys.setdefault("memory", 16)
    keys.setdefault("kernel", str(VIRTIO_BLK))
    return ts.define(name, disk=disks,
                     cmdline=f"role={role} sectors={SECTORS}", **keys)


def wait_stopped(ts, name, timeout=120):
    deadline = time.monotonic() + timeout
    while ts.vm(name)["state"] not in ("stopped", "off"):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{name} still {ts.vm(name)['state']}")
        time.sleep(0.05)
    return ts.vm(name)


def guest_result(ts, name):
    text = ts.console_log(name).read_text(errors="replace")
    fails = [line for line in text.splitlines() if line.startswith("FAIL")]
    assert not fails and "RESULT pass" in text, text
    return text


def proc_status(pid):
    fields = {}
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return fields


def test_disk_through_the_toolstack(ts, tmp_path):
    """A VM with a writable and a read-only disk: the guest's checks pass,
    its writes reach the image, block-list and list show the disks, and the
    device models run confined and go when the VM stops."""
    rw = make_image(tmp_path / "rw.img")
    ro = make_image(tmp_path / "ro.img")
    before_ro = ro.read_bytes()
    define(ts, "disked", [f"{rw},raw,xvda,rw", f"vdev=xvdb,access=ro,target={ro}"],
           role="loop")
    ts.ok("start", "disked")
    ts.wait_log("disked", "looping", timeout=60)

    disks = json.loads(ts.ok("block-list", "--json", "disked"))
    assert [d["vdev"] for d in disks] == ["xvda", "xvdb"]
    assert [d["access"] for d in disks] == ["rw", "ro"]
    assert all(d["backend"] == "bulkhead-blk" and d["state"] == "running"
               for d in disks)
    table = ts.ok("block-list", "disked").splitlines()
    assert table[0].split() == ["VDEV", "GUEST", "TARGET", "FORMAT",
                                "ACCESS", "LAYERS", "BACKEND", "PID",
                                "STATE"]
    assert table[1].split()[:3] == ["xvda", "/dev/vda", str(rw)]
    row = {l.split()[0]: l.split() for l in ts.ok("list").splitlines()[1:]}
    assert row["disked"][5] == "xvda,xvdb(ro)"

    # Each device model: its own uid, no privileges, seccomp, no network,
    # its own mount namespace; and never the same uid twice.
    uids = set()
    for d in disks:
        st = proc_status(d["pid"])
        uid = int(st["Uid"].split()[0])
        assert uid >= 0x60000000 and st["Uid"].split() == [str(uid)] * 4
        assert st["NoNewPrivs"] == "1" and st["Seccomp"] == "2"
        assert st["CapEff"] == "0000000000000000"
        for ns in ("mnt", "net", "pid", "ipc"):
            assert os.readlink(f"/proc/{d['pid']}/ns/{ns}") != \
                os.readlink(f"/proc/self/ns/{ns}"), ns
        uids.add(uid)
    assert len(uids) == 2
    # The logs name each disk.
    assert (ts.state / "logs" / "disked.xvda.log").exists()

    ts.ok("destroy", "disked")
    for d in disks:
        deadline = time.monotonic() + 10
        while os.path.exists(f"/proc/{d['pid']}") and \
                time.monotonic() < deadline:
            time.sleep(0.05)
        assert not os.path.exists(f"/proc/{d['pid']}")
    assert ro.read_bytes() == before_ro
    stopped = json.loads(ts.ok("block-list", "--json", "disked"))
    assert [d["state"] for d in stopped] == ["off", "off"]

    # The good driver against both kinds: writes land, the ro disk refuses;
    # with xl's direct-io-safe the device model bypasses the page cache.
    define(ts, "good", [f"{rw},raw,xvda,rw,direct-io-safe"])
    ts.ok("start", "good")
    assert wait_stopped(ts, "good")["stop_reason"] == "poweroff"
    guest_result(ts, "good")
    assert "(raw, O_DIRECT)" in \
        (ts.state / "logs" / "good.xvda.log").read_text()
    assert rw.read_bytes()[8 * 512:24 * 512] == pattern(0x5a, 8192)
    define(ts, "goodro", [f"{ro},raw,xvda,ro"])
    ts.ok("start", "goodro")
    assert wait_stopped(ts, "goodro")["stop_reason"] == "poweroff"
    assert "ok good: a read-only disk refuses writes" in \
        guest_result(ts, "goodro")
    assert ro.read_bytes() == before_ro


def test_bad_disks_leave_nothing(ts, tmp_path):
    """Each refused start: one line, exit 1, nothing running, nothing
    written."""
    img = make_image(tmp_path / "img")
    held = make_image(tmp_path / "held.img")
    define(ts, "holder", [f"{held},raw,xvda,rw"], role="loop")
    ts.ok("start", "holder")
    ts.wait_log("holder", "looping", timeout=60)
    qcow = tmp_path / "fake.qcow2"
    qcow.write_bytes(b"not qcow2" + bytes(4096))
    cases = [
        ([f"{tmp_path}/missing.img,raw,xvda,rw"],
         f"disk xvda: cannot open {tmp_path}/missing.img: No such file"),
        ([f"{held},raw,xvda,rw"],
         f"disk xvda: {held} is in use by another VM or program"),
        ([f"{qcow},qcow2,xvda,rw"],
         f"disk xvda: {qcow} is not a qcow2 image"),
        ([f"{img},vhd,xvda,rw"],
         'format: "vhd" is an xl format Bulkhead does not support'),
        ([f"{img},raw,xvda,rw,bogus"], "(at character"),
        ([f"{img},raw,xvda,ro", f"{img},raw,xvda,ro"], "xvda"),
        ([f"{img},raw,xvd{chr(97 + i)},ro" for i in range(17)],
         "at most 16 disks"),
    ]
    blks_before = set(pids_of("bulkhead-blk"))
    before = img.read_bytes()
    for disks, message in cases:
        path = define(ts, "bad", disks)
        r = ts.cli("create", path)
        assert r.returncode == EXIT_ERROR, (disks, r.stdout, r.stderr)
        assert message in r.stderr, (disks, r.stderr)
        assert len(r.stderr.strip().splitlines()) == 1, r.stderr
        assert ts.vm("bad")["state"] in ("off", "stopped"), disks
        assert set(pids_of("bulkhead-blk")) == blks_before, disks
        assert img.read_bytes() == before
        assert not (tmp_path / "missing.img").exists()
    # The VM that holds its image never noticed.
    assert ts.vm("holder")["state"] == "running"


def pids_of(name):
    for p in pathlib.Path("/proc").iterdir():
        try:
            if p.name.isdigit() and (p / "comm").read_text().strip() == name:
                yield int(p.name)
        except OSError:
            pass


def test_killed_device_model_stops_only_its_vm(ts, tmp_path):
    """kill -9 of bulkhead-blk mid-I/O: its VM stops as a crash naming the
    disk; the other VM and the hypervisor go on; the image is intact."""
    img = make_image(tmp_path / "victim.img")
    define(ts, "victim", [f"{img},raw,xvda,rw"], role="loop")
    ts.mini("bystander")
    ts.ok("start", "victim")
    ts.ok("start", "bystander")
    ts.wait_log("victim", "looping", timeout=60)
    pid = json.loads(ts.ok("block-list", "--json", "victim"))[0]["pid"]
    os.kill(pid, signal.SIGKILL)
    vm = wait_stopped(ts, "victim", timeout=30)
    assert vm["stop_reason"] == "crash", vm
    assert vm["stop_detail"].startswith("xvda: device model:"), vm
    assert ts.vm("bystander")["state"] == "running"
    ts.wait_log("bystander", "miniguest: up")
    assert img.read_bytes()[100 * 512:100 * 512 + 13] == b"bulkhead seed"
    # Started again, with a new device model: the image is not held.
    define(ts, "victim", [f"{img},raw,xvda,rw"], role="good")
    ts.ok("start", "victim")
    assert wait_stopped(ts, "victim")["stop_reason"] == "poweroff"
    guest_result(ts, "victim")


def test_hostile_driver_against_bulkhead_blk(ts, tmp_path):
    """A guest that breaks every rule: each time the device says it needs a
    reset and serves again after one; device model and hypervisor live."""
    img = make_image(tmp_path / "h.img")
    define(ts, "hostile", [f"{img},raw,xvda,rw"], role="hostile")
    ts.mini("bystander")
    ts.ok("start", "bystander")
    ts.ok("start", "hostile")
    vm = wait_stopped(ts, "hostile", timeout=300)
    text = ts.console_log("hostile").read_text(errors="replace")
    assert vm["stop_reason"] == "poweroff", (vm, text)
    assert "hostile: done" in text, text
    guest_result(ts, "hostile")
    assert text.count("\nok hostile: after ") >= 9, text
    assert ts.vm("bystander")["state"] == "running"
    # The device model said why, each time, in its log.
    log = (ts.state / "logs" / "hostile.xvda.log").read_text()
    assert "loop" in log, log


@pytest.mark.skipif(not QSD, reason="qemu-storage-daemon is not installed "
                    "(Debian package qemu-system-common)")
def test_external_vhost_user_back_end(ts, tmp_path):
    """backendtype=vhost-user: the toolstack connects to a running
    qemu-storage-daemon instead of starting bulkhead-blk."""
    img = make_image(tmp_path / "q.img")
    qsd = StorageDaemon(img)
    try:
        define(ts, "ext", [f"backendtype=vhost-user,vdev=xvda,target={qsd.socket}"])
        ts.ok("start", "ext")
        assert wait_stopped(ts, "ext")["stop_reason"] == "poweroff"
        guest_result(ts, "ext")
        assert img.read_bytes()[8 * 512:24 * 512] == pattern(0x5a, 8192)
        disks = json.loads(ts.ok("block-list", "--json", "ext"))
        assert disks[0]["backend"] == "vhost-user"
        qsd.stop()
        r = ts.cli("start", "ext")
        assert r.returncode == EXIT_ERROR
        assert "cannot connect to the vhost-user back end" in r.stderr
    finally:
        qsd.stop()
