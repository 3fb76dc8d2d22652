# SPDX-License-Identifier: GPL-2.0-only
"""A software TPM for the tests (Debian swtpm): `swtpm socket --tpm2` on
two free TCP ports of 127.0.0.1, its state in a directory of the test, so
a restart keeps its seeds (what was sealed unseals again) and resets its
PCRs (a reboot)."""

import os
import shutil
import socket
import subprocess
import time

import pytest


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_port_pair():
    """Two free ports P, P+1: tpm2-tss's swtpm TCTI takes the control
    port to be the next one."""
    for _ in range(100):
        p = free_port()
        try:
            with socket.socket() as s:
                s.bind(("127.0.0.1", p + 1))
            return p
        except OSError:
            continue
    raise RuntimeError("no two free consecutive ports")


class Swtpm:
    def __init__(self, state_dir):
        if not shutil.which("swtpm"):
            pytest.skip("swtpm is not installed (scripts/deps installs it)")
        self.dir = state_dir
        self.dir.mkdir(exist_ok=True)
        self.proc = None
        self.port = free_port_pair()
        self.ctrl = self.port + 1

    @property
    def tcti(self):
        return f"swtpm:host=127.0.0.1,port={self.port}"

    def start(self):
        """Starts swtpm, on the same ports each time (a restart keeps the
        TCTI string that bulkheadd was given)."""
        self.proc = subprocess.Popen(
            ["swtpm", "socket", "--tpm2",
             "--server", f"type=tcp,port={self.port},bindaddr=127.0.0.1",
             "--ctrl", f"type=tcp,port={self.ctrl},bindaddr=127.0.0.1",
             "--tpmstate", f"dir={self.dir}", "--flags", "startup-clear"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=open(self.dir / "swtpm.log", "ab"))
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), 1).close()
                return
            except OSError:
                if self.proc.poll() is not None or \
                        time.monotonic() > deadline:
                    raise RuntimeError(
                        "swtpm did not start: " +
                        (self.dir / "swtpm.log").read_text())
                time.sleep(0.05)

    def stop(self):
        """Stops swtpm through its control channel (swtpm_ioctl, Debian
        swtpm-tools: it saves its state and exits), else by SIGTERM."""
        if self.proc and self.proc.poll() is None:
            if shutil.which("swtpm_ioctl"):
                subprocess.run(["swtpm_ioctl", "--tcp",
                                f"127.0.0.1:{self.ctrl}", "-s"],
                               capture_output=True, timeout=10)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.terminate()
                self.proc.wait(timeout=10)
        self.proc = None

    def restart(self):
        """A reboot: the same TPM, its PCRs reset."""
        self.stop()
        self.start()

    def tools_env(self):
        """The environment for tpm2-tools against this TPM."""
        return dict(os.environ, TPM2TOOLS_TCTI=self.tcti)

    def tool(self, *args, check=True):
        """Runs a tpm2-tools command (tpm2_NAME ARGS)."""
        r = subprocess.run([f"tpm2_{args[0]}", *map(str, args[1:])],
                           env=self.tools_env(), capture_output=True,
                           text=True, timeout=60)
        if check:
            assert r.returncode == 0, (args, r.stdout, r.stderr)
        return r

    def pcr(self, index):
        """PCR index of the SHA-256 bank, as hex, through tpm2_pcrread."""
        out = self.tool("pcrread", f"sha256:{index}").stdout
        for line in out.splitlines():
            k, _, v = line.strip().partition(":")
            if k.strip() == str(index):
                return v.strip()[2:].lower()
        raise AssertionError(out)


@pytest.fixture
def swtpm(tmp_path):
    t = Swtpm(tmp_path / "swtpm")
    t.start()
    yield t
    t.stop()
