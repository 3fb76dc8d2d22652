# SPDX-License-Identifier: GPL-2.0-only
"""Driving bulkheadd and the bulkhead command from tests: a daemon in a
private state directory, the CLI run as a subprocess, and helpers to wait
for what VMs print."""

import json
import os
import pathlib
import socket
import subprocess
import time

from conftest import BUILD_DIR, HV

BULKHEADD = BUILD_DIR / "src" / "toolstack" / "daemon" / "bulkheadd"
BULKHEAD = BUILD_DIR / "src" / "cli" / "bulkhead"
MINIGUEST = BUILD_DIR / "tests" / "integration" / "miniguest"
HMX_PEER = BUILD_DIR / "tests" / "integration" / "hmx-peer.elf"


class Toolstack:
    """A bulkheadd with its own state and config directories."""

    def __init__(self, workdir, tpm="none"):
        for p in (BULKHEADD, BULKHEAD, HV, MINIGUEST, HMX_PEER):
            if not p.exists():
                raise RuntimeError(f"{p} is not built")
        self.workdir = pathlib.Path(workdir)
        self.state = self.workdir / "state"
        self.config = self.workdir / "vms"
        self.config.mkdir(exist_ok=True)
        self.daemon_log = self.workdir / "bulkheadd.log"
        # No test touches a TPM it did not start (test_tpm's swtpm).
        self.env = dict(os.environ, BULKHEAD_STATE_DIR=str(self.state),
                        BULKHEAD_TPM=tpm)
        self.proc = None

    def start(self, *args):
        """Starts bulkheadd; args: more of its options."""
        self.proc = subprocess.Popen(
            [str(BULKHEADD), "--config-dir", str(self.config),
             "--hv", str(HV), *args],
            env=self.env, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=open(self.daemon_log, "ab"))
        deadline = time.monotonic() + 20
        while True:
            try:
                if self.request("daemon.info")["pid"] == self.proc.pid:
                    return
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("bulkheadd did not start:\n" +
                                   self.daemon_log.read_text())
            time.sleep(0.05)

    def kill9(self):
        self.proc.kill()
        self.proc.wait()

    def request(self, op, **fields):
        """One raw API request; returns the reply (ok or not)."""
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        s.settimeout(30)
        try:
            s.connect(str(self.state / "bulkheadd.sock"))
            s.send(json.dumps(dict(fields, op=op, id=1)).encode())
            return json.loads(s.recv(65536))
        finally:
            s.close()

    def stop(self):
        """Stops every VM, the hypervisor and the daemon."""
        if self.proc and self.proc.poll() is None:
            try:
                self.request("daemon.quit", stop_vms=True)
            except OSError:
                self.proc.terminate()
            self.proc.wait(timeout=30)
        else:
            # No daemon: stop the hypervisor it left, if any.
            try:
                from hvctl import HvClient
                with HvClient(str(self.state / "hv.sock")) as c:
                    c.call("hv.quit")
            except OSError:
                pass
        # Shown by pytest when the test failed: what the daemon and the
        # hypervisor said, which a flake leaves nowhere else.
        for log in (self.daemon_log, self.state / "hv.log"):
            if log.exists():
                print(f"===== {log.name}\n" + log.read_text(errors="replace")[-8000:])

    def cli(self, *args, input=None, timeout=60, check=None):
        r = subprocess.run([str(BULKHEAD), *map(str, args)], env=self.env,
                           input=input, capture_output=True, text=True,
                           timeout=timeout)
        if check is not None:
            assert r.returncode == check, (args, r.returncode, r.stdout,
                                           r.stderr)
        return r

    def ok(self, *args, **kw):
        return self.cli(*args, check=0, **kw).stdout

    def vms(self):
        return {v["name"]: v for v in json.loads(self.ok("list", "--json"))}

    def vm(self, name):
        return self.vms()[name]

    def define(self, name, directory=None, **keys):
        """Writes NAME.cfg (in the config dir unless directory is given)."""
        d = pathlib.Path(directory) if directory else self.config
        lines = [f'name = "{name}"']
        for k, v in keys.items():
            if isinstance(v, bool):
                lines.append(f"{k} = {'yes' if v else 'no'}")
            elif isinstance(v, int):
                lines.append(f"{k} = {v}")
            elif isinstance(v, list):
                items = ", ".join(json.dumps(x) for x in v)
                lines.append(f"{k} = [ {items} ]")
            else:
                lines.append(f"{k} = {json.dumps(str(v))}")
        path = d / f"{name}.cfg"
        path.write_text("\n".join(lines) + "\n")
        return path

    def mini(self, name, directory=None, **keys):
        keys.setdefault("memory", 16)
        keys.setdefault("kernel", str(MINIGUEST))
        return self.define(name, directory, **keys)

    def console_log(self, name):
        return self.state / "logs" / f"{name}.log"

    def wait_log(self, name, text, timeout=30, after=0):
        """Waits until the console log of name has text past offset after."""
        deadline = time.monotonic() + timeout
        path = self.console_log(name)
        while True:
            data = path.read_bytes()[after:].decode(errors="replace") \
                if path.exists() else ""
            if text in data:
                return data
            if time.monotonic() > deadline:
                raise TimeoutError(f"{text!r} not in {path}:\n{data[-2000:]}")
            time.sleep(0.05)

    def wait_state(self, name, state, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            v = self.vm(name)
            if v["state"] == state:
                return v
            if time.monotonic() > deadline:
                raise TimeoutError(f"{name} is {v['state']}, not {state}")
            time.sleep(0.05)

    def console_send(self, name, data, wait_for=None, timeout=30):
        """Attaches with the CLI (no terminal), sends data, waits for
        wait_for in the console output, then detaches with Ctrl-]."""
        p = subprocess.Popen([str(BULKHEAD), "console", "--no-history",
                              name], env=self.env, stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out = b""
        try:
            os.set_blocking(p.stdout.fileno(), False)
            time.sleep(0.2)
            p.stdin.write(data)
            p.stdin.flush()
            deadline = time.monotonic() + timeout
            while wait_for and wait_for.encode() not in out:
                chunk = p.stdout.read()
                if chunk:
                    out += chunk
                elif p.poll() is not None:
                    break
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{wait_for!r} not in {out!r}")
                time.sleep(0.05)
            if p.poll() is None:
                p.stdin.write(b"\x1d")
                p.stdin.flush()
            p.wait(timeout=10)
            rest = p.stdout.read()
            out += rest or b""
            return p.returncode, out.decode(errors="replace"), \
                p.stderr.read().decode(errors="replace")
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
