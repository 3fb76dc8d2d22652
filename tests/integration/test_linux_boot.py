# SPDX-License-Identifier: GPL-2.0-only
"""Stock Debian Linux guests on bulkhead-hv: what the guest sees of its
machine, the serial console, several VMs in one hypervisor, a guest crash
contained, clean shutdown and reboot. Few boots, many checks each."""

import re
import subprocess

import pytest

from conftest import HV, guest_cmdline, read_until

pytestmark = pytest.mark.linux_guest

REPORT = """
echo "cpus=$(grep -c ^processor /proc/cpuinfo)"
echo "memtotal_kb=$(sed -n 's/^MemTotal: *\\([0-9]*\\) kB/\\1/p' /proc/meminfo)"
echo "uart=$(cat /proc/tty/driver/serial | grep -c 16550A)"
"""


def field(log, name):
    m = re.search(rf"^{name}=(\d+)\r?$", log, re.M)
    assert m, f"{name}= not in guest output:\n{log[-3000:]}"
    return int(m.group(1))


def test_two_linux_guests_one_hypervisor(hv, linux_guest, tmp_path):
    kernel, initrd = linux_guest
    c = hv.client
    c.call("subscribe")
    one = REPORT + """
echo "hello-from-guest $(uname -r)"
read word
echo "one: still alive, got $word"
exec sleep 1000
"""
    two = REPORT + """
echo crashing
echo c > /proc/sysrq-trigger
"""
    logs = {n: tmp_path / f"{n}.log" for n in ("one", "two")}
    c.create_vm("one", kernel, initrd=initrd, memory_mib=256, vcpus=1,
                cmdline=guest_cmdline(one), console_log=logs["one"])
    c.create_vm("two", kernel, initrd=initrd, memory_mib=512, vcpus=2,
                cmdline=guest_cmdline(two), console_log=logs["two"])

    # two crashes; its neighbour is untouched.
    ev = c.wait_event(lambda e: e["event"] == "vm-stopped", timeout=400)
    assert (ev["name"], ev["reason"]) == ("two", "crash")
    assert "panic" in ev["detail"]
    hvlog = hv.log.read_text()
    assert re.search(r"vm two: vCPU \d: rip=", hvlog), hvlog
    log_two = logs["two"].read_text(errors="replace")
    assert field(log_two, "cpus") == 2
    assert 440_000 < field(log_two, "memtotal_kb") <= 512 * 1024
    assert "sysrq: Trigger a crash" in log_two

    log_one = read_until(logs["one"], "hello-from-guest", timeout=400)
    assert field(log_one, "cpus") == 1
    assert 200_000 < field(log_one, "memtotal_kb") <= 256 * 1024
    assert field(log_one, "uart") == 1
    assert c.call("vm.info", name="one")["vm"]["state"] == "running"

    # Pause and unpause; then talk to the guest over its serial console.
    c.call("vm.pause", name="one")
    assert c.call("vm.info", name="one")["vm"]["state"] == "paused"
    c.call("vm.unpause", name="one")
    console = c.attach_console("one", history=False)
    console.sendall(b"tangerine\n")
    read_until(logs["one"], "one: still alive, got tangerine", timeout=120)
    console.close()

    # A clean shutdown request: Ctrl-Alt-Del, and the guest powers off.
    c.call("vm.shutdown", name="one")
    ev = c.wait_event(lambda e: e["event"] == "vm-stopped", timeout=200)
    assert (ev["name"], ev["reason"]) == ("one", "poweroff")
    assert "shutdown requested (Ctrl-Alt-Del)" in logs["one"].read_text()
    vms = {v["name"]: v for v in c.call("vm.list")["vms"]}
    assert vms["one"]["stop_reason"] == "poweroff"
    assert vms["two"]["stop_reason"] == "crash"


def test_mp_table_boot_and_reboot(linux_guest):
    """With acpi=off Linux finds CPUs and the IOAPIC in the MP table, and
    reboots through the i8042; the launcher's status says reboot."""
    kernel, initrd = linux_guest
    script = REPORT + """
dmesg | grep -q "Intel MultiProcessor Specification" && echo mptable=1
echo "reboot next"
reboot -f
"""
    r = subprocess.run([str(HV), "run", "--kernel", kernel, "--initrd", initrd,
                        "--vcpus", "2", "--memory", "256",
                        "--cmdline", guest_cmdline(script, "acpi=off")],
                       stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=400)
    out = r.stdout.decode(errors="replace")
    assert r.returncode == 10, (r.stderr, out[-2000:])
    assert field(out, "cpus") == 2
    assert field(out, "mptable") == 1
    assert b"i8042" in r.stderr
