# SPDX-License-Identifier: GPL-2.0-only
"""Shared helpers for the tests of the guest-image tools and the test-host
runner. These tests run on the machine itself (not inside a test host)."""

import gzip
import os
import shutil
import subprocess

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
RUNNER = os.path.join(REPO, "tests", "host", "run")
FETCH_KERNEL = os.path.join(REPO, "guest", "image", "fetch-kernel")
MKINITRAMFS = os.path.join(REPO, "guest", "image", "mkinitramfs")
BUILD = os.environ.get("BULKHEAD_BUILD_DIR") or os.path.join(REPO, "build")
# Scratch space of these tests: inside the build tree, because the test
# host hides the machine's /tmp under its own tmpfs.
SCRATCH = os.path.join(BUILD, "tests-host")


@pytest.fixture(scope="session")
def kernel():
    """fetch-kernel's answer as a dict (RELEASE, KERNEL, VMLINUX, ...)."""
    out = subprocess.run([FETCH_KERNEL, "-q"], check=True,
                         stdout=subprocess.PIPE, text=True).stdout
    return {k[len("BULKHEAD_GUEST_"):]: v for k, v in
            (line.split("=", 1) for line in out.splitlines())}


@pytest.fixture(scope="session")
def scratch():
    os.makedirs(SCRATCH, exist_ok=True)
    return SCRATCH


@pytest.fixture(scope="session")
def hello_module(kernel, scratch):
    """An out-of-tree module built against fetch-kernel's KDIR. It uses a
    symbol of vsock.ko, as the HMX vsock transport will."""
    d = os.path.join(scratch, "hello-module")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    with open(os.path.join(d, "hello.c"), "w") as f:
        f.write('#include <linux/module.h>\n'
                '#include <net/af_vsock.h>\n'
                'static int __init hello_init(void)\n'
                '{\n'
                '\tpr_info("hello: vsock_addr_init at %px\\n", '
                'vsock_addr_init);\n'
                '\treturn 0;\n'
                '}\n'
                'static void __exit hello_exit(void) { }\n'
                'module_init(hello_init);\nmodule_exit(hello_exit);\n'
                'MODULE_LICENSE("GPL");\n')
    with open(os.path.join(d, "Kbuild"), "w") as f:
        f.write("obj-m := hello.o\n")
    r = subprocess.run(["make", "-C", kernel["KDIR"], f"M={d}", "modules"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True)
    assert r.returncode == 0, r.stdout
    return os.path.join(d, "hello.ko")


def read_cpio(path):
    """newc archive -> {name: (mode, data)}."""
    with open(path, "rb") as f:
        raw = gzip.decompress(f.read())
    entries, pos = {}, 0
    while True:
        hdr = raw[pos:pos + 110]
        assert hdr[:6] == b"070701", f"bad cpio magic at {pos}"
        fields = [int(hdr[6 + 8 * i:14 + 8 * i], 16) for i in range(13)]
        mode, size, namesize = fields[1], fields[6], fields[11]
        name = raw[pos + 110:pos + 110 + namesize - 1].decode()
        pos += 110 + namesize
        pos += -pos % 4
        data = raw[pos:pos + size]
        pos += size
        pos += -pos % 4
        if name == "TRAILER!!!":
            return entries
        entries[name] = (mode, data)


def hardware_virt_expected():
    """What tests/host/run's auto mode should find on this machine."""
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return False
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("flags"):
                flags = line.split(":", 1)[1].split()
                return "vmx" in flags or "svm" in flags
    return False


inside_test_host = pytest.mark.skipif(
    os.environ.get("BULKHEAD_TEST_HOST_INSIDE") == "1",
    reason="already inside a test host: a nested TCG test host is too slow")
