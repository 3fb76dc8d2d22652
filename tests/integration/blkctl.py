# SPDX-License-Identifier: GPL-2.0-only
"""Starting bulkhead-blk for tests, and looking at it from outside."""

import os
import pathlib
import socket
import subprocess
import time

from conftest import BUILD_DIR
from vhost_frontend import Frontend

BLK = BUILD_DIR / "src" / "devmodel" / "blk" / "bulkhead-blk"
# The ids bulkhead-blk switches to when the tests run as root.
JAIL_UID = 65534
JAIL_GID = 65534


def sanitized():
    """A sanitizer build: its shadow memory makes RSS figures meaningless."""
    return b"__asan_init" in BLK.read_bytes()


def jail_ids():
    """--uid/--gid when root; unprivileged runs use a user namespace."""
    if os.geteuid() == 0:
        return ["--uid", str(JAIL_UID), "--gid", str(JAIL_GID)]
    return []


class Blk:
    """A bulkhead-blk process on one end of a socketpair (--fd mode)."""

    instances = []  # for the tests' cleanup

    def __init__(self, workdir, image, args=(), ids=True, name="test:vda",
                 pass_fds=()):
        if not BLK.exists():
            raise RuntimeError(f"{BLK} is not built")
        self.log = pathlib.Path(workdir) / f"blk-{time.monotonic_ns()}.log"
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        cmd = [str(BLK), "--fd", str(theirs.fileno()), "--image",
               str(image), "--name", name, *(jail_ids() if ids else []),
               *args]
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(cmd,
                                         pass_fds=[theirs.fileno(),
                                                   *pass_fds],
                                         stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL,
                                         stderr=log)
        theirs.close()
        Blk.instances.append(self)
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

    def close(self, timeout=10.0):
        """Disconnects; returns the exit status."""
        self.sock.close()
        return self.wait(timeout)

    def wait(self, timeout=10.0):
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


def proc_status(pid):
    """/proc/PID/status as a dict of strings."""
    out = {}
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        out[key] = value.strip()
    return out


def rss_kib(pid):
    """(RssAnon, RssFile, RssShmem) in KiB."""
    st = proc_status(pid)
    return tuple(int(st[k].split()[0]) for k in
                 ("RssAnon", "RssFile", "RssShmem"))


def namespaces(pid):
    return {ns: os.readlink(f"/proc/{pid}/ns/{ns}")
            for ns in ("mnt", "net", "ipc", "uts", "user", "pid")}


def open_fds(pid):
    """{fd: link target} of a process (needs root for a jailed one)."""
    base = f"/proc/{pid}/fd"
    return {int(fd): os.readlink(f"{base}/{fd}") for fd in os.listdir(base)}
