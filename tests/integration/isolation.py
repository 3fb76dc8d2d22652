# SPDX-License-Identifier: GPL-2.0-only
"""The fault-isolation scenario, shared by its test and its benchmark: a
sender streams verified data to a receiver over HMX; then one guest
triple-faults, one floods HMX and one hoards rings it never reads. The
receiver's byte count at console marks gives the stream's throughput
before and during the disturbance."""

import re
import time

from conftest import read_until

SENDER, RECEIVER, FLOODER, HOARDER, CRASHER = 3, 4, 5, 6, 7
MARK = re.compile(r"^mark (\d+) bytes (\d+) tsc (\d+) bad (\d+)", re.M)


def accept(sd, dd, dp):
    return dict(src_domid=sd, src_port="any", dst_domid=dd, dst_port=dp,
                action="accept")


RULES = [
    accept(SENDER, RECEIVER, 5000),
    accept(RECEIVER, SENDER, 5001),
    accept(FLOODER, HOARDER, "any"),
    accept(HOARDER, FLOODER, 1),
]


def marks(log, n, timeout):
    """Waits for the receiver's nth mark; returns all marks so far."""
    deadline = time.monotonic() + timeout
    while True:
        found = [tuple(map(int, m)) for m in MARK.findall(log.read_text())]
        if len(found) > n:
            return found
        if time.monotonic() > deadline:
            raise TimeoutError(f"mark {n} not in {log}:\n"
                               f"{log.read_text()[-2000:]}")
        time.sleep(0.05)


def rate(a, b):
    """Bytes per TSC tick between two marks."""
    return (b[1] - a[1]) / max(1, b[2] - a[2])


def run(hv, guest_elf, tmp_path, window_s):
    c = hv.client
    c.call("subscribe")
    c.call("hmx.firewall.set", rules=RULES)
    stream = guest_elf("hmx-stream")
    logs = {n: tmp_path / f"{n}.log" for n in
            ("sender", "receiver", "flooder", "hoarder", "crasher")}
    # The pair's rings name each other, so both exist before either runs.
    for name, domid in (("sender", SENDER), ("receiver", RECEIVER)):
        c.create_vm(name, stream, memory_mib=8, domid=domid, start=False,
                    cmdline=f"role={name}", console_log=logs[name])
    c.call("vm.start", name="receiver")
    c.call("vm.start", name="sender")
    console = c.attach_console("receiver", history=False)
    read_until(logs["receiver"], "receiver: ready", timeout=60)
    read_until(logs["sender"], "sender: streaming", timeout=60)

    time.sleep(window_s / 2)  # let the stream settle
    console.sendall(b"m")
    marks(logs["receiver"], 0, 30)
    time.sleep(window_s)
    console.sendall(b"m")
    marks(logs["receiver"], 1, 30)

    # The disturbance: a crash, a flood, a hoard.
    c.create_vm("hoarder", stream, memory_mib=8, domid=HOARDER,
                cmdline="role=hoarder", console_log=logs["hoarder"])
    c.create_vm("flooder", stream, memory_mib=8, domid=FLOODER,
                cmdline="role=flooder", console_log=logs["flooder"])
    c.create_vm("crasher", guest_elf("lifecycle"), memory_mib=4,
                domid=CRASHER, cmdline="action=triple-fault",
                console_log=logs["crasher"])
    crash = c.wait_event(lambda e: e["event"] == "vm-stopped", timeout=60)
    read_until(logs["flooder"], "flooder: flooding", timeout=60)
    console.sendall(b"m")
    marks(logs["receiver"], 2, 30)
    time.sleep(window_s)
    console.sendall(b"m")
    found = marks(logs["receiver"], 3, 30)
    console.close()

    states = {v["name"]: v["state"] for v in c.call("vm.list")["vms"]}
    return dict(
        baseline=rate(found[0], found[1]),
        disturbed=rate(found[2], found[3]),
        bytes=[m[1] for m in found],
        bad=found[-1][3],
        crash=crash,
        states=states,
        logs=logs,
        stats=c.call("hmx.firewall.stats"),
    )
