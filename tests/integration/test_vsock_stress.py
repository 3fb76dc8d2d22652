# SPDX-License-Identifier: GPL-2.0-only
"""The vsock benchmark's traffic pattern, over and over, in one boot: a
guest floods another guest and the host, then ping-pongs with each, in
rounds of short and long transfers, each round a fresh connection. A
round that makes no progress for STALL seconds fails the test with what
every party holds: both guests' hmx_vsock and hmx_core `state`
parameters and the host end's `vsock.state`. This is the reproducer for
the benchmark's hang (issue 14); BULKHEAD_VSOCK_STRESS_ROUNDS sets the
length (the short CI form by default)."""

import json
import os
import re
import threading
import time

import pytest

from conftest import guest_cmdline
# The guests and vsock_guest fixtures are test_vsock's.
from test_vsock import (EXTRA, PRELUDE, guests, rule,  # noqa: F401
                        results, unix_listen, vsock_guest)

pytestmark = pytest.mark.linux_guest

ROUNDS = int(os.environ.get("BULKHEAD_VSOCK_STRESS_ROUNDS", 6))
STALL = int(os.environ.get("BULKHEAD_VSOCK_STRESS_STALL", 120))
T = "hmx-vsock-test"

# Every guest answers "dump" on its console with its transport's state,
# whatever its traffic is doing in the background.
CONSOLE = """
while read cmd; do
  case "$cmd" in
  dump) echo "dump-begin"; cat /sys/module/hmx_vsock/parameters/state
        echo "core: $(cat /sys/module/hmx_core/parameters/state)"
        ps -o pid,stat,args | grep -v ' ps ' ; echo "dump-end" ;;
  esac
done
"""

# Listeners take one connection each; a loop re-listens for the next
# round (the client retries while none is up yet).
SERVER = PRELUDE + f"""
(while :; do {T} sink 5005 > /dev/null; done) &
(while :; do {T} pong 5004 > /dev/null; done) &
echo b-ready
""" + CONSOLE

# Rounds alternate short (1 s) and, every fourth, long (4 s) floods; the
# pings use the bench's 64-byte messages and, every third round, 64 KiB.
CLIENT = PRELUDE + f"""
export HVT_CONNECT_RETRY=300
echo a-ready; read go
(for i in $(seq %(rounds)d); do
  s=1; [ $((i %% 4)) = 0 ] && s=4
  z=64; [ $((i %% 3)) = 0 ] && z=65536
  {T} flood %(b)d:5005 $s && {T} ping %(b)d:5004 200 $z &&
  {T} flood 2:5100 $s && {T} ping 2:5101 200 $z || echo "round $i failed"
  echo "round $i done"
done; echo stress-done) &
""" + CONSOLE


def serve_forever(listener, echo):
    """Takes connection after connection: drains each, or echoes it."""
    def run():
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                while True:
                    data = conn.recv(1 << 16)
                    if not data:
                        break
                    if echo:
                        conn.sendall(data)
    threading.Thread(target=run, daemon=True).start()


def dump(hv, g, names):
    """What every party holds, as one text for the failure message."""
    out = []
    for n in names:
        start = len(g.text(n))
        g.say(n, "dump")
        deadline = time.monotonic() + 30
        while "dump-end" not in g.text(n)[start:] and \
                time.monotonic() < deadline:
            time.sleep(0.5)
        out.append(f"===== {n} state\n{g.text(n)[start:][-8000:]}")
    try:
        state = hv.client.call("vsock.state").get("vsock")
        out.append("===== host end\n" + json.dumps(state, indent=1))
    except Exception as e:  # a dead hypervisor is itself the finding
        out.append(f"===== host end: vsock.state failed: {e}")
    return "\n".join(out)


@pytest.fixture
def hv_args():
    return ("--vsock",)


def create_with_socket(g, name, script, path):
    """Like Guests.create, with a Firecracker-style vsock socket."""
    g.log[name] = g.tmp / f"{name}.log"
    files = [open(g.kernel, "rb"), open(g.initrd, "rb"),
             open(g.log[name], "ab")]
    vm = g.c.call("vm.create", fds=[f.fileno() for f in files], name=name,
                  memory_mib=256, kernel_fd=0, initrd_fd=1, console_fd=2,
                  cmdline=guest_cmdline(script, EXTRA), start=False,
                  vsock_socket=path)["vm"]
    for f in files:
        f.close()
    g.domid[name] = vm["domid"]
    return vm["domid"]


def test_vsock_rounds_never_stall(hv, guests):
    g = guests
    a, b = 3, 4  # domids are allocated in order from 3
    path = str(g.tmp / "a.vsock")
    assert create_with_socket(g, "a", CLIENT % dict(b=b, rounds=ROUNDS),
                              path) == a
    assert g.create("b", SERVER) == b
    hv.client.call("hmx.firewall.set", rules=[
        rule(a, "any", b, "any"), rule(b, "any", a, "any"),
        rule(a, "any", 0, "any"), rule(0, "any", a, "any")])
    sink, pong = unix_listen(path + "_5100"), unix_listen(path + "_5101")
    serve_forever(sink, echo=False)
    serve_forever(pong, echo=True)
    g.start()
    g.wait("b", "b-ready")
    g.wait("a", "a-ready")
    g.say("a", "go")

    done, last, since = 0, None, time.monotonic()
    while "stress-done" not in g.text("a"):
        log = g.text("a")
        done = len(re.findall(r"^round \d+ done", log, re.M))
        if done != last:
            last, since = done, time.monotonic()
        elif time.monotonic() - since > STALL:
            pytest.fail(f"round {done + 1} of {ROUNDS} made no progress "
                        f"for {STALL} s\n{dump(hv, g, ('a', 'b'))}")
        time.sleep(1)
    log = g.text("a")
    assert not re.search(r"^round \d+ failed", log, re.M), log[-4000:]
    floods = results(log, "flood")
    pings = results(log, "ping")
    assert len(floods) == 2 * ROUNDS and len(pings) == 2 * ROUNDS, \
        log[-4000:]
    assert all(f["end"] == "time" and int(f["bytes"]) > 0
               for f in floods), floods
    # The host end holds nothing once the rounds are over.
    deadline = time.monotonic() + 30
    while True:
        conns = hv.client.call("vsock.state")["vsock"]["connections"]
        if not conns or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert conns == [], conns
