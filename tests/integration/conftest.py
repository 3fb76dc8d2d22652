# SPDX-License-Identifier: GPL-2.0-only
"""Shared fixtures: the build tree, a bulkhead-hv serve process per test,
and markers for tests that need Linux guests."""

import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from hvctl import HvClient  # noqa: E402

SOURCE_ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD_DIR = pathlib.Path(os.environ.get("BULKHEAD_BUILD_DIR",
                                        SOURCE_ROOT / "build"))
HV = BUILD_DIR / "src" / "hv" / "bulkhead-hv"


def hardware_virt():
    """True if /dev/kvm runs guests at native speed (VT-x or AMD-V)."""
    try:
        flags = pathlib.Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return os.access("/dev/kvm", os.R_OK | os.W_OK) and (
        " vmx" in flags or " svm" in flags)


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "linux_guest: boots Debian Linux guests; needs hardware "
        "virtualization (run through tests/host/run elsewhere)")


def pytest_collection_modifyitems(config, items):
    if hardware_virt():
        return
    skip = pytest.mark.skip(
        reason="needs VT-x/AMD-V to boot Linux guests; this host's KVM "
        "emulates them: run these through tests/host/run (scripts/test does)")
    for item in items:
        if "linux_guest" in item.keywords:
            item.add_marker(skip)


def read_until(path, text, timeout=60.0):
    """Waits until the file at path contains text; returns its content."""
    deadline = time.monotonic() + timeout
    while True:
        content = pathlib.Path(path).read_text(errors="replace") \
            if pathlib.Path(path).exists() else ""
        if text in content:
            return content
        if time.monotonic() > deadline:
            raise TimeoutError(f"{text!r} not in {path} after {timeout} s; "
                               f"it has:\n{content[-2000:]}")
        time.sleep(0.1)


# The uid and gid a hypervisor started by the tests as root runs as.
HV_UID = 0x5ffffffe


class Hypervisor:
    """A bulkhead-hv serve process and a connected client. As root it
    runs as HV_UID; a bare "--vsock" in args becomes "--vsock WORKDIR"
    (the jail's one directory, given to that uid), so a VM's vsock_socket
    is a name in workdir and a listener there must let HV_UID connect
    (unix_listen in test_vsock.py)."""

    def __init__(self, workdir, args=()):
        if not HV.exists():
            pytest.fail(f"{HV} is not built (meson compile -C {BUILD_DIR})")
        # Short, and on a filesystem that takes sockets (sun_path is 108
        # bytes; 9p shares take no sockets).
        self.sockdir = tempfile.mkdtemp(prefix="bh-hv-")
        self.socket = os.path.join(self.sockdir, "hv.sock")
        self.log = workdir / "hv.log"
        args = list(args)
        if "--vsock" in args and (args.index("--vsock") == len(args) - 1 or
                                  args[args.index("--vsock") + 1]
                                  .startswith("-")):
            self.vsock_dir = os.path.realpath(workdir)
            args.insert(args.index("--vsock") + 1, self.vsock_dir)
            if os.geteuid() == 0:
                os.chown(self.vsock_dir, HV_UID, HV_UID)
        if os.geteuid() == 0 and not any(a.startswith("--uid") for a in args):
            args += [f"--uid={HV_UID}", f"--gid={HV_UID}"]
        self.proc = subprocess.Popen(
            [str(HV), "serve", "--socket", self.socket, *args],
            stdout=subprocess.DEVNULL, stderr=open(self.log, "wb"))
        deadline = time.monotonic() + 10
        # The socket exists from bind(), but takes connections from listen().
        while True:
            try:
                self.client = HvClient(self.socket)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                if self.proc.poll() is not None or \
                        time.monotonic() > deadline:
                    raise RuntimeError("bulkhead-hv serve did not start:\n"
                                       + self.log.read_text())
                time.sleep(0.02)

    def stop(self):
        """Asks the hypervisor to quit; returns its exit status."""
        try:
            self.client.call("hv.quit")
        except (OSError, ConnectionError):
            pass
        self.client.close()
        try:
            return self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise
        finally:
            shutil.rmtree(self.sockdir, ignore_errors=True)


@pytest.fixture
def hv_args():
    """Extra `bulkhead-hv serve` options; a module overrides it."""
    return ()


@pytest.fixture
def hv(tmp_path, hv_args):
    h = Hypervisor(tmp_path, hv_args)
    yield h
    status = h.stop()
    assert status == 0, h.log.read_text()


@pytest.fixture
def guest_elf():
    def path(name):
        p = BUILD_DIR / "guest" / "test" / f"{name}.elf"
        if not p.exists():
            pytest.fail(f"{p} is not built")
        return str(p)
    return path


@pytest.fixture(scope="session")
def linux_guest():
    """(kernel, initrd) of the Debian guest built by `ninja guest-assets`."""
    kernel = subprocess.run(
        [str(SOURCE_ROOT / "guest" / "image" / "fetch-kernel"), "--offline",
         "--cache", str(BUILD_DIR / "guest-cache"), "--print", "kernel"],
        capture_output=True, text=True)
    initrd = BUILD_DIR / "guest" / "initramfs.cpio.gz"
    if kernel.returncode != 0 or not initrd.exists():
        pytest.fail("guest assets missing: run `ninja -C build guest-assets` "
                    f"first ({kernel.stderr.strip()})")
    return kernel.stdout.strip(), str(initrd)


def guest_cmdline(script, extra=""):
    """A kernel command line that makes the guest init run script, plus
    $BULKHEAD_GUEST_ARGS (module parameters for a bisection, say)."""
    import base64
    import gzip
    extra = f"{extra} {os.environ.get('BULKHEAD_GUEST_ARGS', '')}".strip()
    encoded = base64.b64encode(script.encode()).decode()
    line = f"console=ttyS0 quiet {extra} bulkhead.script={encoded}"
    if len(line) >= 2048:
        # The guest's init takes a gzip'd script too (guest/image/init.sh).
        packed = gzip.compress(script.encode(), mtime=0)
        encoded = base64.b64encode(packed).decode()
        line = f"console=ttyS0 quiet {extra} bulkhead.script={encoded}"
    assert len(line) < 2048, "script too long for the command line"
    return line
