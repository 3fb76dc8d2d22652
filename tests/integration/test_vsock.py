# SPDX-License-Identifier: GPL-2.0-only
"""AF_VSOCK over HMX with real Debian guests running the hmx_vsock module:
guest-to-guest streams and datagrams, bulk transfers checked by sha256,
concurrent connections, socket options, a pair the firewall refuses (and
the audit log), a flood that must not stall another pair, a peer destroyed
mid-transfer, and module unload with open sockets. Few boots, many checks
each: every guest runs a script and the test reads its console."""

import os
import re
import time

import pytest

from conftest import BUILD_DIR, guest_cmdline, read_until

pytestmark = pytest.mark.linux_guest

BULK = int(os.environ.get("BULKHEAD_VSOCK_BULK", 256 << 20))
T = "hmx-vsock-test"
# The guest kernel finds PCI devices only with pci=noacpi on bulkhead-hv
# today (its ACPI tables describe no PCI root bridge).
EXTRA = "pci=noacpi panic=-1"


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

    def create(self, name, script, memory=256):
        self.log[name] = self.tmp / f"{name}.log"
        vm = self.c.create_vm(name, self.kernel, initrd=self.initrd,
                              memory_mib=memory,
                              cmdline=guest_cmdline(script, EXTRA),
                              console_log=self.log[name], start=False)
        self.domid[name] = vm["domid"]
        return vm["domid"]

    def start(self):
        for name in self.domid:
            self.c.call("vm.start", name=name)
            self.console[name] = self.c.attach_console(name, history=False)

    def wait(self, name, text, timeout=600):
        return read_until(self.log[name], text, timeout=timeout)

    def say(self, name, line):
        self.console[name].sendall(line.encode() + b"\n")

    def text(self, name):
        return self.log[name].read_text(errors="replace")


# The guests wait for "go" on their console so that every listener of
# every guest is up before anyone connects.
SCRIPT_B = f"""
{T} recv 5001 > /tmp/bulk &
{T} serve 5002 32 > /tmp/serve &
{T} dgram-recv 5003 200 600 > /tmp/dgram &
{T} pong 5004 > /tmp/pong &
{T} sink 5005 > /tmp/sink &
{T} recv 5006 > /tmp/during &
{T} recv 5007 > /tmp/dies &
sleep 1; echo b-ready; read go
{T} send %(a)d:6001 {BULK} 7
wait; cat /tmp/bulk /tmp/serve /tmp/dgram /tmp/pong /tmp/sink /tmp/during \
  /tmp/dies; echo b-done
"""

SCRIPT_A = f"""
{T} recv 6001 > /tmp/bulk &
sleep 1; echo a-ready; read go
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
kill $h; wait; sleep 1; rmmod hmx_vsock; echo "rmmod-idle rc=$?"
insmod /lib/modules/*/extra/hmx_vsock.ko; echo "insmod rc=$?"
sleep 1; {T} connect %(b)d:5999
echo a-done
"""

SCRIPT_C = f"""
echo c-ready; read go
{T} connect %(a)d:6002
read go
sleep 5; {T} send %(b)d:5006 {16 << 20} 9
{T} send %(b)d:5007 {64 << 30} 11
"""


def test_guest_to_guest(hv, vsock_guest, tmp_path):
    g = Guests(hv, tmp_path, *vsock_guest)
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
    log_a = g.wait("a", "a-phase1", timeout=3600)
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
    assert results(log_a, "connect")[-1]["error"] == "ECONNREFUSED"
    assert "Oops" not in log_a + log_b and "BUG" not in log_a + log_b
