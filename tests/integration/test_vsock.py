# SPDX-License-Identifier: GPL-2.0-only
"""AF_VSOCK over HMX with real Debian guests running the hmx_vsock module:
guest-to-guest streams and datagrams, bulk transfers checked by sha256,
concurrent connections, socket options, a pair the firewall refuses (and
the audit log), a flood that must not stall another pair, a peer destroyed
mid-transfer, and module unload with open sockets. Few boots, many checks
each: every guest runs a script and the test reads its console."""

import hashlib
import os
import re
import shutil
import socket
import tempfile
import threading
import time

import pytest

from conftest import BUILD_DIR, guest_cmdline, read_until

pytestmark = pytest.mark.linux_guest

BULK = int(os.environ.get("BULKHEAD_VSOCK_BULK", 256 << 20))
T = "hmx-vsock-test"
# Nested guests under TCG can be slow: allow 60 s for a handshake. Listeners
# are up once their output says so (a peer connecting earlier is refused).
PRELUDE = """export HVT_CONNECT_TIMEOUT=60
up() { for f in "$@"; do until grep -q listening $f; do sleep 0.2; done; done; }
"""
EXTRA = "panic=-1"


@pytest.fixture
def hv_args():
    return ("--vsock",)  # the host end needs the wider sandbox


@pytest.fixture(scope="module")
def vsock_guest():
    """(kernel, initrd): `ninja guest-vsock` builds both (the kernel through
    fetch-kernel, whose cache may be read-only here)."""
    cache = BUILD_DIR / "guest-cache" / "current"
    kernels = sorted((cache / "root" / "boot").glob("vmlinuz-*"))
    initrd = BUILD_DIR / "guest" / "vsock.cpio.gz"
    if not kernels or not initrd.exists():
        pytest.fail(f"guest kernel or {initrd} missing: run `ninja -C "
                    f"{BUILD_DIR} guest-vsock` first")
    return str(kernels[-1]), str(initrd)


def rule(sd, sp, dd, dp, action="accept"):
    return dict(src_domid=sd, src_port=sp, dst_domid=dd, dst_port=dp,
                action=action)


def results(log, prefix):
    """The key=value pairs of every line starting with prefix."""
    out = []
    for line in log.splitlines():
        line = line.strip()
        if line.startswith(prefix + " "):
            out.append(dict(kv.split("=", 1) for kv in line.split()[1:]
                            if "=" in kv))
    return out


def one(log, prefix):
    r = results(log, prefix)
    assert len(r) == 1, f"expected one {prefix!r} line:\n{log[-4000:]}"
    return r[0]


class Guests:
    """VMs created stopped, so the firewall can name their domids before
    they run, then started together."""

    def __init__(self, hv, tmp_path, kernel, initrd):
        self.c = hv.client
        self.c.call("subscribe")
        self.tmp = tmp_path
        self.kernel, self.initrd = kernel, initrd
        self.domid, self.log, self.console = {}, {}, {}

    def create(self, name, script, memory=256, extra=""):
        self.log[name] = self.tmp / f"{name}.log"
        vm = self.c.create_vm(name, self.kernel, initrd=self.initrd,
                              memory_mib=memory,
                              cmdline=guest_cmdline(script,
                                                    f"{EXTRA} {extra}"),
                              console_log=self.log[name], start=False)
        self.domid[name] = vm["domid"]
        return vm["domid"]

    def start(self):
        for name in self.domid:
            self.c.call("vm.start", name=name)
            self.console[name] = self.c.attach_console(name, history=False)

    def wait(self, name, text, timeout=600):
        """Waits for a whole line (the console writes it a byte at a time)
        containing text."""
        deadline = time.monotonic() + timeout
        while True:
            log = read_until(self.log[name], text,
                             timeout=max(1, deadline - time.monotonic()))
            line = log[log.index(text):]
            if "\n" in line:
                return log
            time.sleep(0.2)

    def say(self, name, line):
        self.console[name].sendall(line.encode() + b"\n")

    def text(self, name):
        return self.log[name].read_text(errors="replace")


@pytest.fixture
def guests(hv, vsock_guest, tmp_path):
    """Guests; on failure their consoles and the hypervisor log are shown."""
    g = Guests(hv, tmp_path, *vsock_guest)
    yield g
    for name, log in g.log.items():
        if log.exists():
            print(f"===== console of {name}\n{g.text(name)[-6000:]}")
    print(f"===== hypervisor\n{hv.log.read_text(errors='replace')[-4000:]}")


# The guests wait for "go" on their console so that every listener of
# every guest is up before anyone connects.
SCRIPT_B = PRELUDE + f"""
{T} recv 5001 > /tmp/bulk &
{T} serve 5002 32 > /tmp/serve &
{T} dgram-recv 5003 200 600 > /tmp/dgram &
{T} pong 5004 > /tmp/pong &
{T} sink 5005 > /tmp/sink &
{T} recv 5006 > /tmp/during &
{T} recv 5007 > /tmp/dies &
up /tmp/bulk /tmp/serve /tmp/dgram /tmp/pong /tmp/sink /tmp/during /tmp/dies
sleep 0.1; echo b-ready; read go
{T} send %(a)d:6001 {BULK} 7
wait; cat /tmp/bulk /tmp/serve /tmp/dgram /tmp/pong /tmp/sink /tmp/during \
  /tmp/dies; echo b-done
# Up until the test ends: a's last connect after re-loading its module
# must find b alive and nobody listening (ECONNREFUSED).
read go
"""

SCRIPT_A = PRELUDE + f"""
{T} recv 6001 > /tmp/bulk &
up /tmp/bulk; sleep 0.1; echo a-ready; read go
{T} send %(b)d:5001 {BULK} 5 &
{T} multi %(b)d:5002 32 65536
{T} dgram-send %(b)d 5003 200 1500
{T} opts %(b)d:5004
{T} connect %(c)d:7000
{T} connect %(b)d:5999
wait; cat /tmp/bulk; echo a-phase1
read go
{T} flood %(b)d:5005 25
{T} dgram-recv 5010 1 600 > /dev/null &
h=$!; sleep 1; rmmod hmx_vsock; echo "rmmod-busy rc=$?"
kill $h; wait
# The vsock core holds a socket after a non-blocking connect until its
# connect timeout (60 s here) expires; then nothing uses the module.
rc=1; for i in $(seq 100); do rmmod hmx_vsock 2>/dev/null && rc=0 && break
sleep 1; done; echo "rmmod-idle rc=$rc after=${{i}}s"
[ $rc = 0 ] || cat /sys/module/hmx_vsock/parameters/state
echo "core-after-rmmod $(cat /sys/module/hmx_core/parameters/state)"
insmod /lib/modules/*/extra/hmx_vsock.ko; echo "insmod rc=$?"
echo "core-after-insmod $(cat /sys/module/hmx_core/parameters/state)"
sleep 1; {T} connect %(b)d:5999
echo a-done
"""

SCRIPT_C = PRELUDE + f"""
echo c-ready; read go
{T} connect %(a)d:6002
read go
sleep 5; {T} send %(b)d:5006 {16 << 20} 9
{T} send %(b)d:5007 {64 << 30} 11
"""


def test_guest_to_guest(hv, guests):
    g = guests
    # Domids are allocated in order from 3; the scripts need them up front.
    ids = {"a": 3, "b": 4, "c": 5}
    for name, script in (("a", SCRIPT_A), ("b", SCRIPT_B), ("c", SCRIPT_C)):
        assert g.create(name, script % ids) == ids[name]
    a, b, c = ids["a"], ids["b"], ids["c"]
    rules = [
        rule(a, "any", c, 7000, "reject"),   # the denied pair, audited
        rule(a, "any", b, "any"), rule(b, "any", a, "any"),
        rule(c, "any", b, "any"), rule(b, "any", c, "any"),
    ]
    hv.client.call("hmx.firewall.set", rules=rules)
    g.start()
    for n in "abc":
        g.wait(n, f"{n}-ready")
    for n in "abc":
        g.say(n, "go")

    # Phase 1: bulk both ways, 32 connections, datagrams, options, refusals.
    log_a = g.wait("a", "a-phase1", timeout=300 + BULK // 250_000)
    sent_ab = one(log_a, "send")
    assert int(sent_ab["bytes"]) == BULK, log_a[-3000:]
    got_ba = one(log_a, "recv")
    multi = one(log_a, "multi")
    assert (multi["ok"], multi["failed"]) == ("32", "0"), log_a[-3000:]
    dg = one(log_a, "dgram-send")
    assert (dg["sent"], dg["echoes"]) == ("200", "200"), log_a[-3000:]
    assert one(log_a, "opts")["failed"] == "0", log_a[-3000:]
    assert "FAIL" not in log_a
    connects = results(log_a, "connect")
    # Refused by the firewall: at once, EPERM. Nobody listening:
    # ECONNREFUSED after the short retries.
    assert connects[0]["error"] == "EPERM", connects
    assert int(connects[0]["ms"]) < 500, connects
    assert connects[1]["error"] == "ECONNREFUSED", connects
    assert int(connects[1]["ms"]) < 2000, connects
    audit = hv.client.call("hmx.audit.read", max=256)["entries"]
    assert any(e["op"] == "sendv" and e["kind"] == "rule" and
               e["rule"] == 0 and e["src"]["domid"] == a and
               e["dst"] == {"domid": c, "aport": 7000} for e in audit), audit
    # c -> a:6002 has no rule: default deny, audited too.
    log_c = g.wait("c", "connect error")
    assert one(log_c, "connect")["error"] == "EPERM", log_c[-2000:]
    assert any(e["kind"] == "default" and e["src"]["domid"] == c and
               e["dst"] == {"domid": a, "aport": 6002} for e in audit), audit

    # Phase 2: a floods b while c sends to b; then c dies mid-transfer.
    g.say("a", "go")
    g.say("c", "go")
    log_c = g.wait("c", "send bytes=", timeout=600)
    during = one(log_c, "send")
    assert int(during["bytes"]) == 16 << 20
    # c's transfer finished while a's 25 s flood was still running.
    log_a = g.wait("a", "flood bytes=", timeout=600)
    flood = one(log_a, "flood")
    assert flood["end"] == "time", log_a[-2000:]
    assert float(during["secs"]) < 25, (during, flood)
    time.sleep(5)  # c is now in the middle of its 64 GiB send
    t0 = time.monotonic()
    hv.client.call("vm.destroy", name="c")

    log_b = g.wait("b", "b-done", timeout=600)
    recvs = {r.get("sha256"): r for r in results(log_b, "recv")}
    assert sent_ab["sha256"] in recvs, log_b[-4000:]
    assert int(recvs[sent_ab["sha256"]]["bytes"]) == BULK
    assert during["sha256"] in recvs, log_b[-4000:]
    errors = [r for r in results(log_b, "recv") if "error" in r]
    assert [r["error"] for r in errors] == ["ECONNRESET"], log_b[-4000:]
    assert int(errors[0]["bytes"]) > 0
    assert time.monotonic() - t0 < 60
    sent_ba = one(log_b, "send")
    assert (got_ba["sha256"], got_ba["bytes"]) == (sent_ba["sha256"],
                                                   str(BULK))
    assert one(log_b, "serve") == {"conns": "32", "bad": "0"}
    assert one(log_b, "dgram-recv") == {"got": "200", "bad": "0"}
    assert one(log_b, "sink")["end"] in ("eof", "ECONNRESET"), log_b[-3000:]

    # Module unload: refused while a socket uses it, clean when none does,
    # and it works again after insmod.
    log_a = g.wait("a", "a-done", timeout=600)
    assert re.search(r"rmmod-busy rc=[1-9]", log_a), log_a[-3000:]
    assert "rmmod-idle rc=0" in log_a, log_a[-3000:]
    assert "insmod rc=0" in log_a, log_a[-3000:]
    # hmx_core stays bound across the client's unload: the client's rings
    # are all gone with it, and it comes back as the only client.
    assert re.search(r"core-after-rmmod domid=\d+ rings=0 clients=\n",
                     log_a), log_a[-3000:]
    assert re.search(r"core-after-insmod domid=\d+ rings=\d+ "
                     r"clients=hmx_vsock\n", log_a), log_a[-3000:]
    assert results(log_a, "connect")[-1]["error"] == "ECONNREFUSED"
    assert "Oops" not in log_a + log_b and "BUG" not in log_a + log_b


SCRIPT_H = PRELUDE + f"""
{T} recv 6000 > /tmp/fromhost &
up /tmp/fromhost; sleep 0.1; echo g-ready; read go
{T} send 2:5000 {BULK} 3
echo hello-from-socat | socat - VSOCK-CONNECT:2:5001; echo "socat rc=$?"
{T} connect 2:5002
{T} connect 2:5003
wait; cat /tmp/fromhost; echo g-done; read end
"""


def unix_listen(path):
    """A listener for guest connections: the jailed hypervisor connects to
    it as its own uid (conftest.HV_UID), so it must let that uid write;
    only root and that uid can reach its directory."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    os.chmod(path, 0o666)
    s.listen(4)
    return s


def drain_sha(sock, out):
    h, n = hashlib.sha256(), 0
    while True:
        data = sock.recv(1 << 16)
        if not data:
            break
        h.update(data)
        n += len(data)
    out.update(sha256=h.hexdigest(), bytes=n)


def test_guest_and_host(hv, guests):
    """Guest to host and host to guest through Firecracker-style unix
    sockets; socat in the guest; a port the firewall closes, and one
    whose socket is a symlink out of the hypervisor's jail."""
    g = guests
    path = str(g.tmp / "g.vsock")
    g.log["g"] = g.tmp / "g.log"
    files = [open(g.kernel, "rb"), open(g.initrd, "rb"),
             open(g.log["g"], "ab")]
    vm = g.c.call("vm.create", fds=[f.fileno() for f in files], name="g",
                  memory_mib=256, kernel_fd=0, initrd_fd=1, console_fd=2,
                  cmdline=guest_cmdline(SCRIPT_H, EXTRA), start=False,
                  vsock_socket=path)["vm"]
    for f in files:
        f.close()
    d = vm["domid"]
    g.domid["g"] = d
    rules = [
        rule(d, "any", 0, 5000), rule(0, 5000, d, "any"),
        rule(d, "any", 0, 5001), rule(0, 5001, d, "any"),
        rule(d, "any", 0, 5003), rule(0, 5003, d, "any"),
        rule(0, "any", d, 6000), rule(d, 6000, 0, "any"),
    ]
    hv.client.call("hmx.firewall.set", rules=rules)
    # Host programs listening on host ports 5000 and 5001. 5003: none in
    # the jail; its name is a symlink to a listener outside the vsock
    # directory, which the jailed hypervisor must not reach.
    bulk = unix_listen(path + "_5000")
    small = unix_listen(path + "_5001")
    outside_dir = tempfile.mkdtemp(prefix="bh-outside-")
    outside = unix_listen(os.path.join(outside_dir, "s"))
    outside.setblocking(False)
    os.chmod(outside_dir, 0o755)
    os.symlink(os.path.join(outside_dir, "s"), path + "_5003")
    # A dead hypervisor must fail the test, not hang it.
    bulk.settimeout(900)
    small.settimeout(900)
    got = {}
    g.start()
    g.wait("g", "g-ready")

    # Host to guest: CONNECT, OK, then the bytes.
    h = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    h.settimeout(900)
    h.connect(path)
    h.sendall(b"CONNECT 6000\n")
    f = h.makefile("rb")
    ok = f.readline()
    assert re.fullmatch(rb"OK \d+\n", ok), ok
    g.say("g", "go")

    def host_send():
        sha, left, seed = hashlib.sha256(), BULK, os.urandom(1 << 16)
        while left:
            chunk = seed[:min(left, len(seed))]
            h.sendall(chunk)
            sha.update(chunk)
            left -= len(chunk)
        h.shutdown(socket.SHUT_WR)
        got["host_sent"] = sha.hexdigest()
        h.recv(1)  # the guest's close

    def host_recv():
        conn, _ = bulk.accept()
        drain_sha(conn, got.setdefault("host_recv", {}))
        conn.close()

    threads = [threading.Thread(target=host_send),
               threading.Thread(target=host_recv)]
    for t in threads:
        t.start()
    conn, _ = small.accept()
    assert conn.makefile("rb").readline() == b"hello-from-socat\n"
    conn.close()
    for t in threads:
        t.join(timeout=3600)
    log = g.wait("g", "g-done", timeout=600)
    sent = one(log, "send")
    assert got["host_recv"] == {"sha256": sent["sha256"], "bytes": BULK}
    recv = one(log, "recv")
    assert (recv["sha256"], int(recv["bytes"])) == (got["host_sent"], BULK)
    assert "socat rc=0" in log, log[-3000:]
    connects = results(log, "connect")
    # 5002: no rule, refused at once; 5003: allowed, but its socket is
    # outside the jail: refused, and the listener there saw nothing.
    assert connects[0]["error"] == "EPERM", connects
    assert connects[1]["error"] == "ECONNREFUSED", connects
    with pytest.raises(BlockingIOError):
        outside.accept()
    outside.close()
    shutil.rmtree(outside_dir)
    audit = hv.client.call("hmx.audit.read", max=256)["entries"]
    assert any(e["kind"] == "default" and e["src"]["domid"] == d and
               e["dst"] == {"domid": 0, "aport": 5002} for e in audit), audit

    # A host CONNECT to a guest port nobody listens on is closed, no OK.
    h2 = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    h2.settimeout(30)
    h2.connect(path)
    h2.sendall(b"CONNECT 6001\n")
    assert h2.recv(64) == b""
    # Only now may the guest power off: its socket must be there for h2.
    g.say("g", "end")
