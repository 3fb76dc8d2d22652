# SPDX-License-Identifier: GPL-2.0-only
"""VM exits counted in a (test) host's kernel: tracing hist triggers on
kvm:kvm_exit, kvm:kvm_userspace_exit and kvm:kvm_msr keyed by vCPU thread
and reason (in-kernel counters, no buffer to overflow). Used by the
benchmarks that print exits per MB (bench/net, bench/vsock): the figure
that does not depend on how fast this host is. Also loads the (test)
host's modules the peers need."""

import os
import pathlib
import re
import subprocess
import time

TRACING = pathlib.Path("/sys/kernel/tracing")
# Each event's reason field: an SVM exit code, a KVM_EXIT_* code, the
# MSR (accesses the vCPU made, handled in the kernel or not).
EVENTS = {"kvm_exit": "exit_reason", "kvm_userspace_exit": "reason",
          "kvm_msr": "ecx"}
# Port I/O by port: which device a guest talks to most (bench/boot).
PIO = {"kvm_pio": "port"}


class ExitCounter:
    """Counts KVM exits and exits to user space per vCPU thread and
    reason: tracing hist triggers (in-kernel counters, no buffer to
    overflow)."""

    def __init__(self, events=None):
        self.events = events or EVENTS
        if not (TRACING / "events").exists():
            subprocess.run(["mount", "-t", "tracefs", "nodev",
                            str(TRACING)], capture_output=True)
        self.error = None
        self.armed = []
        for ev, key in self.events.items():
            trig = TRACING / "events" / "kvm" / ev / "trigger"
            spec = f"hist:keys=common_pid,{key}:size=4096"
            try:
                with open(trig, "a") as f:
                    f.write(spec + "\n")
                self.armed.append((trig, spec))
            except OSError as e:
                self.error = f"{trig}: {e}"
                self.close()
                return

    def close(self):
        for trig, spec in self.armed:
            try:
                with open(trig, "a") as f:
                    f.write(f"!{spec}\n")
            except OSError:
                pass
        self.armed = []

    def snapshot(self):
        """{event: {(tid, reason): count}} and the time."""
        out = {"t": time.monotonic()}
        if self.error:
            return out
        for ev in self.events:
            text = (TRACING / "events" / "kvm" / ev / "hist").read_text()
            counts = {}
            for m in re.finditer(r"\{([^}]*)\}\s*hitcount:\s*(\d+)", text):
                k = [int(v) for v in re.findall(
                    r"\w+:\s*(?:[^\[,]*\[\s*)?(\d+)", m[1])]
                if len(k) == 2:
                    counts[(k[0], k[1])] = int(m[2])
            out[ev] = counts
        return out


def tasks(pid):
    try:
        return {int(t) for t in os.listdir(f"/proc/{pid}/task")}
    except OSError:
        return set()


def pid_of(exe):
    want = os.path.realpath(exe)
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                if os.readlink(f"/proc/{p}/exe") == want:
                    return int(p)
            except OSError:
                pass
    return None


def delta(a, b, tids):
    """Per event, the counts of threads tids between snapshots a and b:
    the total, and by reason ("by", reason -> count)."""
    out = {}
    for ev in (k for k in b if k != "t"):
        by = {}
        for (tid, why), n in b.get(ev, {}).items():
            if tid in tids:
                d = n - a.get(ev, {}).get((tid, why), 0)
                if d:
                    by[str(why)] = by.get(str(why), 0) + d
        out[ev] = sum(by.values())
        out[ev + "_by"] = by
    return out


# Names of the exit codes seen here (SVM exit codes, KVM_EXIT_*).
SVM_EXITS = {0x60: "intr", 0x61: "nmi", 0x64: "vintr", 0x72: "cpuid",
             0x78: "hlt", 0x7b: "ioio", 0x7c: "msr", 0x7f: "shutdown",
             0x81: "vmmcall", 0x400: "npf", 0x402: "avic_ipi",
             0x403: "avic_access"}
KVM_EXITS = {2: "io", 5: "hlt", 6: "mmio", 10: "intr", 24: "system_event"}
MSRS = {0x6e0: "tsc_deadline", 0x80b: "x2apic_eoi", 0x830: "x2apic_icr",
        0x838: "x2apic_tmict", 0x4b564d02: "kvm_steal_time",
        0x4b564d04: "kvm_pv_eoi"}


def reasons(by, names, mb, top=4):
    items = sorted(by.items(), key=lambda kv: -kv[1])[:top]
    return " ".join(f"{names.get(int(k), hex(int(k)))}={n / mb:.0f}"
                    for k, n in items)


def modprobe(name):
    """Loads a module of the (test) host's kernel; its error, or None."""
    kroot = os.environ.get("BULKHEAD_TEST_HOST_KROOT")
    r = subprocess.run(["modprobe"] + (["-d", kroot] if kroot else []) +
                       [name], capture_output=True, text=True)
    return (r.stderr.strip() or f"status {r.returncode}") \
        if r.returncode else None
