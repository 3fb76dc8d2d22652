# SPDX-License-Identifier: GPL-2.0-only
"""tests/host/run: mode choice, exit statuses, timeouts and cleanup, in
direct mode (cheap) and in qemu mode (each test-host boot costs ~15-25 s, so
each boot checks many things)."""

import base64
import os
import re
import signal
import socket
import subprocess
import time

from conftest import (MKINITRAMFS, RUNNER, hardware_virt_expected,
                      inside_test_host)


def runner(*args, env=None, cwd=None, timeout=600):
    full_env = dict(os.environ)
    full_env.pop("BULKHEAD_TEST_HOST", None)
    full_env.update(env or {})
    t0 = time.monotonic()
    r = subprocess.run([RUNNER, *args], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, env=full_env,
                       cwd=cwd, timeout=timeout)
    r.elapsed = time.monotonic() - t0
    return r


def processes_matching(marker):
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if marker.encode() in f.read():
                    found.append(int(pid))
        except OSError:
            pass
    return found


# --- no test-host boot ------------------------------------------------------

def test_usage_errors_are_runner_failures():
    r = runner()
    assert r.returncode == 125 and "no COMMAND" in r.stderr
    r = runner("--memory", "lots", "--", "true")
    assert r.returncode == 125
    r = runner("--", "true", env={"BULKHEAD_TEST_HOST": "vmware"})
    assert r.returncode == 125 and "BULKHEAD_TEST_HOST" in r.stderr


def test_direct_mode_propagates_status():
    r = runner("--mode", "direct", "--", "sh", "-c",
               "echo out; echo err >&2; exit 3")
    assert r.returncode == 3
    assert r.stdout == "out\n"
    assert "err\n" in r.stderr
    assert "mode direct (--mode)" in r.stderr
    assert runner("--mode", "direct", "--", "true").returncode == 0
    # Killed by SIGKILL: 128 + 9, as a shell reports it.
    r = runner("--mode", "direct", "--", "sh", "-c", "kill -9 $$")
    assert r.returncode == 137
    r = runner("--mode", "direct", "--", "/nonexistent/command")
    assert r.returncode == 127


def test_env_variable_chooses_mode():
    r = runner("--", "true", env={"BULKHEAD_TEST_HOST": "direct"})
    assert r.returncode == 0
    assert "mode direct (BULKHEAD_TEST_HOST)" in r.stderr
    # The flag wins over the variable.
    r = runner("--mode", "direct", "--", "true",
               env={"BULKHEAD_TEST_HOST": "qemu"})
    assert "mode direct (--mode)" in r.stderr


def test_direct_timeout_and_leftovers_are_killed():
    # A child that left the process group and session is still found.
    r = runner("--mode", "direct", "--timeout", "2", "--", "sh", "-c",
               "setsid sleep 1234.51 & sleep 1234.51")
    assert r.returncode == 124
    assert "timeout after 2 s" in r.stderr
    assert r.elapsed < 15
    assert processes_matching("1234.51") == []
    # Background leftovers of a command that exited are killed too.
    r = runner("--mode", "direct", "--", "sh", "-c",
               "setsid sleep 1234.52 & exit 0")
    assert r.returncode == 0
    assert processes_matching("1234.52") == []


def test_signal_to_runner_kills_the_command():
    p = subprocess.Popen([RUNNER, "--mode", "direct", "--", "sh", "-c",
                          "sleep 1234.53 & sleep 1234.53"],
                         stderr=subprocess.PIPE, text=True)
    for _ in range(100):
        if len(processes_matching("sleep\x001234.53")) == 2:
            break
        time.sleep(0.05)
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=20)
    assert p.returncode == 128 + signal.SIGTERM
    assert "interrupted by SIGTERM" in err
    assert processes_matching("1234.53") == []


# --- test-host boots ---------------------------------------------------------

CHECKS = r"""
echo "cwd=$(pwd)"
grep -qw svm /proc/cpuinfo && echo "cpu=svm"
python3 - <<'EOF'
import fcntl, os
fd = os.open("/dev/kvm", os.O_RDWR)
print("kvm_api=%d" % fcntl.ioctl(fd, 0xAE00))          # KVM_GET_API_VERSION
vm = fcntl.ioctl(fd, 0xAE01, 0)                         # KVM_CREATE_VM
print("kvm_create_vm=%s" % ("ok" if vm >= 0 else "failed"))
EOF
touch /usr/bulkhead-ro-probe 2>/dev/null && echo root=rw || echo root=ro
touch ./tree-probe 2>/dev/null && echo tree=rw || echo tree=ro
echo data >/tmp/probe && echo "tmp=$(cat /tmp/probe)"
echo "env=${BULKHEAD_MARK-unset}|${FLAG_FROM_OPTION-unset}|${NOT_PASSED-unset}"
echo "inner_mode=$BULKHEAD_TEST_HOST"
echo "cpus=$(nproc)"
echo "kernel=$(uname -r)"
echo "written in the test host" >"$RESULTS_DIR/result.txt"
echo "to stderr" >&2
exit 42
"""


@inside_test_host
def test_qemu_mode_runs_the_command_with_kvm(scratch, kernel, tmp_path):
    """Also: a directory under /tmp (the test host's tmpfs covers /tmp),
    as the current directory, is visible inside, read-only, at its path:
    where a clone under /tmp runs its tests."""
    results = os.path.join(scratch, "results")
    if os.path.exists(os.path.join(results, "result.txt")):
        os.unlink(os.path.join(results, "result.txt"))
    cwd = str(tmp_path)
    script = os.path.join(cwd, "checks.sh")
    with open(script, "w") as f:
        f.write(CHECKS)
    # Let auto mode choose qemu when that is what this machine needs.
    mode = [] if not hardware_virt_expected() else ["--mode", "qemu"]
    r = runner(*mode, "--timeout", "300", "--cpus", "2", "--rw", results,
               "--env", "FLAG_FROM_OPTION=yes", "--", "sh", script,
               env={"BULKHEAD_MARK": "passed", "NOT_PASSED": "leak",
                    "RESULTS_DIR": results},  # not passed: RESULTS_DIR unset
               cwd=cwd)
    out = r.stdout
    assert r.returncode == 42, r.stdout + r.stderr
    assert "mode qemu (" in r.stderr
    if not mode:
        assert "mode qemu (auto: " in r.stderr
    assert f"cwd={cwd}\n" in out
    assert "cpu=svm\n" in out
    assert "kvm_api=12\n" in out
    assert "kvm_create_vm=ok\n" in out
    assert "root=ro\n" in out
    assert "tree=ro\n" in out
    assert "tmp=data\n" in out
    assert "env=passed|yes|unset\n" in out
    assert "inner_mode=direct\n" in out
    assert "cpus=2\n" in out
    assert f"kernel={kernel['RELEASE']}\n" in out
    assert "to stderr" in r.stderr and "to stderr" not in out
    # RESULTS_DIR was not passed through, so the write went to "/result.txt"
    # on the read-only root and failed: nothing in the results share.
    assert not os.path.exists(os.path.join(results, "result.txt"))


@inside_test_host
def test_qemu_mode_results_share_and_nested_guest(scratch, kernel):
    """One test-host boot: a guest built by mkinitramfs runs under QEMU with
    KVM inside the test host; its output and exit marker come back; files
    written to the --rw share appear here; exit status 0 propagates."""
    image = os.path.join(scratch, "nested-guest.cpio.gz")
    subprocess.run([MKINITRAMFS, "-q", "-o", image, "--binary",
                    "/usr/bin/socat"], check=True, stdout=subprocess.DEVNULL)
    results = os.path.join(scratch, "nested-results")
    os.makedirs(results, exist_ok=True)
    marker = os.path.join(results, "written-inside")
    if os.path.exists(marker):
        os.unlink(marker)
    guest_script = ('echo "guest kernel $(uname -r) cpus $(nproc)"\n'
                    'lsmod | grep -q "^pvpanic_pci" && echo "pvpanic loaded"\n'
                    'socat -V | grep -m1 "socat version"\n'
                    'exit 7\n')
    b64 = base64.b64encode(guest_script.encode()).decode()
    vmm = ("qemu-system-x86_64 -M microvm,rtc=on -enable-kvm -cpu host -m 256M "
           "-smp 1 -nodefaults -no-user-config -display none -no-reboot "
           f"-serial stdio -kernel {kernel['VMLINUX'] or kernel['KERNEL']} "
           f"-initrd {image} -append "
           f"'console=ttyS0 quiet panic=-1 bulkhead.script={b64}' "
           "</dev/null 2>&1 | grep -v \"TCG doesn't support\"")
    r = runner("--mode", "qemu", "--timeout", "600", "--rw", results, "--",
               "sh", "-c", f"set -e; {vmm}; echo ok >{marker}", cwd=scratch)
    out = r.stdout.replace("\r", "")
    assert r.returncode == 0, out + r.stderr
    assert f"guest kernel {kernel['RELEASE']} cpus 1" in out
    assert "pvpanic loaded" in out
    assert "socat version" in out
    assert "bulkhead-init: exit 7" in out
    with open(marker) as f:
        assert f.read() == "ok\n"


@inside_test_host
def test_qemu_mode_timeout_kills_the_test_host(scratch):
    p = subprocess.Popen([RUNNER, "--mode", "qemu", "--timeout", "15", "--",
                          "sleep", "1000"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, cwd=scratch)
    t0 = time.monotonic()
    out, err = p.communicate(timeout=120)
    elapsed = time.monotonic() - t0
    assert p.returncode == 124, out + err
    assert "timeout after 15 s: killed the test host" in err
    assert elapsed < 60
    # The job directory names the runner's pid; no QEMU may still use it.
    assert processes_matching(f"/jobs/{p.pid}-") == []
    jobs = os.path.join(os.path.dirname(scratch), "test-host", "jobs")
    assert not [j for j in os.listdir(jobs) if j.startswith(f"{p.pid}-")]


@inside_test_host
def test_qemu_mode_frozen_test_host_is_killed(scratch):
    """A test host whose heartbeat stops (here: paused through its QEMU
    monitor, as a freeze looks from outside) is killed with 125 and its
    vCPU state shown, long before the hard timeout."""
    p = subprocess.Popen([RUNNER, "--mode", "qemu", "--timeout", "600", "--",
                          "sleep", "1000"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, cwd=scratch,
                         env=dict(os.environ, BULKHEAD_TEST_HOST_FROZEN_S="12"))
    jobs = os.path.join(os.path.dirname(scratch), "test-host", "jobs")
    deadline = time.monotonic() + 120
    beat = None
    while beat is None and time.monotonic() < deadline:
        for j in os.listdir(jobs):
            if j.startswith(f"{p.pid}-") and \
                    os.path.exists(os.path.join(jobs, j, "heartbeat")):
                beat = os.path.join(jobs, j)
        time.sleep(0.5)
    assert beat, "no heartbeat from the test host"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as m:
        m.connect(os.path.join(beat, "monitor.sock"))
        m.sendall(b"stop\n")
        time.sleep(1)
    t0 = time.monotonic()
    out, err = p.communicate(timeout=120)
    assert p.returncode == 125, out + err
    assert "the test host froze: no heartbeat for 1" in err, err
    assert re.search(r"RIP=[0-9a-f]{16}", err), err
    assert time.monotonic() - t0 < 60
    assert processes_matching(f"/jobs/{p.pid}-") == []


@inside_test_host
def test_qemu_mode_test_host_failure_is_125(scratch):
    # Init exits at once: the test host kernel panics and QEMU stops
    # without a status from the job.
    r = runner("--mode", "qemu", "--timeout", "300", "--kernel-args",
               "rdinit=/bin/false", "--", "true", cwd=scratch)
    assert r.returncode == 125, r.stderr
    assert "the test host kernel panicked" in r.stderr
    assert "without reporting the command's status" in r.stderr
    # QEMU itself failing to start is a test host failure too.
    r = runner("--mode", "qemu", "--cpus", "1000", "--", "true",
               cwd=scratch)
    assert r.returncode == 125, r.stderr
    assert "QEMU exit" in r.stderr
