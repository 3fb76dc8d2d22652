# SPDX-License-Identifier: GPL-2.0-only
"""guest/image: fetch-kernel, mkinitramfs, and the guest init booted for real
(QEMU TCG on this machine: no KVM needed to check the init's behaviour)."""

import base64
import os
import re
import stat
import subprocess
import threading
import time

import pytest

from conftest import FETCH_KERNEL, MKINITRAMFS, read_cpio


def mkinitramfs(*args, check=True):
    return subprocess.run([MKINITRAMFS, *args], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, check=check)


def test_fetch_kernel_gives_kernel_modules_and_headers(kernel):
    rel = kernel["RELEASE"]
    assert re.fullmatch(r"\d+\.\d+\.\d+-\d+-amd64", rel)
    with open(kernel["KERNEL"], "rb") as f:
        f.seek(0x202)
        assert f.read(4) == b"HdrS", "kernel is not a bzImage"
    with open(kernel["VMLINUX"], "rb") as f:
        assert f.read(4) == b"\x7fELF"
    assert os.path.basename(kernel["MODULES"]) == rel
    with open(os.path.join(kernel["MODULES"], "modules.dep")) as f:
        assert "kvm-amd.ko:" in f.read()
    assert os.path.exists(os.path.join(kernel["KDIR"], ".config"))
    # Cached: the same answer without apt.
    offline = subprocess.run([FETCH_KERNEL, "-q", "--offline"], check=True,
                             stdout=subprocess.PIPE, text=True).stdout
    assert f"BULKHEAD_GUEST_RELEASE={rel}" in offline.splitlines()
    bad = subprocess.run([FETCH_KERNEL, "-q", "--release", "latest"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    assert bad.returncode == 1 and "not of the form" in bad.stderr


def test_kdir_builds_an_out_of_tree_module(kernel, hello_module):
    def field(name):
        return subprocess.run(["modinfo", "-F", name, hello_module],
                              check=True, stdout=subprocess.PIPE,
                              text=True).stdout.strip()
    assert field("vermagic").split()[0] == kernel["RELEASE"]
    assert field("depends") == "vsock"


def test_mkinitramfs_contents(kernel, scratch, hello_module):
    extra = os.path.join(scratch, "extra.txt")
    with open(extra, "w") as f:
        f.write("extra file\n")
    script = os.path.join(scratch, "baked.sh")
    with open(script, "w") as f:
        f.write("echo baked\n")
    out = os.path.join(scratch, "contents.cpio.gz")
    mkinitramfs("-o", out, "--force", "--module", "kvm-amd",
                "--module-file", hello_module,
                "--binary", "/usr/bin/socat", "--file", f"{extra}:/etc/x.txt",
                "--run", script)
    img = read_cpio(out)

    mode, _ = img["init"]
    assert stat.S_ISREG(mode) and mode & 0o111
    assert stat.S_ISREG(img["bin/busybox"][0])
    assert stat.S_ISLNK(img["bin/sh"][0]) and img["bin/sh"][1] == \
        b"/bin/busybox"
    assert stat.S_ISCHR(img["dev/console"][0])
    assert img["etc/x.txt"][1] == b"extra file\n"
    assert img["etc/bulkhead/run"][1] == b"echo baked\n"
    assert img["etc/bulkhead/run"][0] & 0o111

    # Dependencies first, each once; the default pvpanic_pci included.
    order = [line.split()[0] for line in
             img["etc/bulkhead/modules"][1].decode().splitlines()]
    assert len(order) == len(set(order))
    for dep, mod in (("irqbypass", "kvm"), ("kvm", "kvm_amd"),
                     ("ccp", "kvm_amd"), ("pvpanic", "pvpanic_pci"),
                     ("vsock", "hello")):
        assert order.index(dep) < order.index(mod)
    assert order[-1] == "hello"
    for line in img["etc/bulkhead/modules"][1].decode().splitlines():
        name, path = line.split()
        assert f"lib/modules/{kernel['RELEASE']}/{path}" in img
    dep = img[f"lib/modules/{kernel['RELEASE']}/modules.dep"][1].decode()
    assert "kernel/arch/x86/kvm/kvm-amd.ko:" in dep

    # socat and every library ldd names, at the paths ldd names.
    assert "usr/bin/socat" in img
    ldd = subprocess.run(["ldd", "/usr/bin/socat"], check=True,
                         stdout=subprocess.PIPE, text=True).stdout
    libs = re.findall(r"(/\S+) \(0x", ldd)
    assert any("libc.so.6" in lib for lib in libs)
    for lib in libs:
        assert lib.lstrip("/") in img, lib

    # Owner root, fixed mtime, sorted names: checked on the raw headers.
    names = list(img)
    assert names == sorted(names)


def test_mkinitramfs_is_reproducible_and_incremental(scratch):
    a = os.path.join(scratch, "repro-a.cpio.gz")
    b = os.path.join(scratch, "repro-b.cpio.gz")
    mkinitramfs("-o", a, "--force")
    mkinitramfs("-o", b, "--force")
    with open(a, "rb") as fa, open(b, "rb") as fb:
        assert fa.read() == fb.read()
    before = os.stat(a).st_mtime_ns
    r = mkinitramfs("-o", a)
    assert "up to date" in r.stderr
    assert os.stat(a).st_mtime_ns == before
    extra = os.path.join(scratch, "changing.txt")
    with open(extra, "w") as f:
        f.write(str(time.time()))
    r = mkinitramfs("-o", a, "--file", f"{extra}:/etc/changing")
    assert "wrote" in r.stderr


def test_mkinitramfs_rejects_bad_input(scratch, kernel, hello_module):
    out = os.path.join(scratch, "bad.cpio.gz")
    r = mkinitramfs("-o", out, "--module", "no_such_module", check=False)
    assert r.returncode == 1 and "no module named no_such_module" in r.stderr
    r = mkinitramfs("-o", out, "--file", "/etc/hostname", check=False)
    assert r.returncode == 1 and "SRC:DST" in r.stderr
    r = mkinitramfs("-o", out, "--binary", "/nonexistent/x", check=False)
    assert r.returncode == 1 and "cannot read" in r.stderr
    # A module built for another kernel (same module, other vermagic).
    with open(hello_module, "rb") as f:
        data = f.read()
    rel = kernel["RELEASE"].encode()
    other = b"9" * (len(rel) - len(b"-amd64")) + b"-amd64"
    assert b"vermagic=" + rel in data
    data = data.replace(b"vermagic=" + rel, b"vermagic=" + other)
    foreign = os.path.join(scratch, "foreign.ko")
    with open(foreign, "wb") as f:
        f.write(data)
    r = mkinitramfs("-o", out, "--module-file", foreign, check=False)
    assert r.returncode == 1
    assert f"was built for {other.decode()}, not {kernel['RELEASE']}" in \
        r.stderr
    # Built into the Debian kernel: nothing to load, not an error.
    r = mkinitramfs("-o", out, "--module", "unix")
    assert "built into the kernel" in r.stderr


# --- the init, booted -------------------------------------------------------

def tcg_boot(kernel, initrd, cmdline, stdin_script=None, timeout=180):
    """Boot under QEMU TCG; return the serial console output.

    stdin_script: list of (wait_for, send) pairs typed on the console.
    """
    argv = ["qemu-system-x86_64", "-M", "q35", "-accel", "tcg", "-m", "256M",
            "-smp", "1", "-nodefaults", "-no-user-config", "-display", "none",
            "-no-reboot", "-serial", "stdio",
            "-kernel", kernel["VMLINUX"] or kernel["KERNEL"],
            "-initrd", initrd, "-append", cmdline]
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = bytearray()
    cond = threading.Condition()

    def reader():
        for chunk in iter(lambda: proc.stdout.read1(4096), b""):
            with cond:
                out.extend(chunk)
                cond.notify_all()

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    deadline = time.monotonic() + timeout
    try:
        for wait_for, send in stdin_script or []:
            with cond:
                ok = cond.wait_for(lambda: wait_for.encode() in out,
                                   timeout=deadline - time.monotonic())
            assert ok, f"never saw {wait_for!r}:\n{out.decode(errors='replace')}"
            time.sleep(0.3)
            proc.stdin.write(send.encode())
            proc.stdin.flush()
        proc.wait(timeout=max(1, deadline - time.monotonic()))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        t.join(timeout=5)
    text = out.decode(errors="replace").replace("\r", "")
    assert proc.returncode == 0, f"QEMU exit {proc.returncode}:\n{text}"
    return text


@pytest.fixture(scope="module")
def boot_image(scratch, hello_module):
    script = os.path.join(scratch, "baked-run.sh")
    with open(script, "w") as f:
        f.write('echo "baked script ran on $(hostname)"\nexit 9\n')
    out = os.path.join(scratch, "boot.cpio.gz")
    mkinitramfs("-o", out, "--module", "loop", "--module-file", hello_module,
                "--run", script)
    return out


def test_init_runs_command_line_argv(kernel, boot_image):
    out = tcg_boot(kernel, boot_image,
                   "console=ttyS0 quiet panic=-1 loop.max_loop=3 -- "
                   '/bin/sh -c "echo argv $(cat /sys/module/loop/parameters/'
                   'max_loop) $(lsmod | grep -c ^pvpanic_pci) '
                   '$(lsmod | grep -c ^hello); exit 3"')
    assert "bulkhead-init: start argv" in out
    # A module parameter from the command line; default and out-of-tree
    # modules loaded.
    assert "argv 3 1 1" in out
    assert re.search(r"bulkhead-init: exit 3$", out, re.M)


def test_init_runs_baked_script_and_base64_script(kernel, boot_image):
    out = tcg_boot(kernel, boot_image, "console=ttyS0 quiet panic=-1")
    assert "baked script ran on bulkhead-guest" in out
    assert re.search(r"bulkhead-init: exit 9$", out, re.M)

    script = 'echo "quoted \\"$((6 * 7))\\" | ok"; exit 0\n'
    b64 = base64.b64encode(script.encode()).decode()
    out = tcg_boot(kernel, boot_image,
                   f"console=ttyS0 quiet panic=-1 bulkhead.script={b64}")
    assert "bulkhead-init: start script" in out
    assert 'quoted "42" | ok' in out
    assert re.search(r"bulkhead-init: exit 0$", out, re.M)


def test_init_interactive_shell_then_poweroff(kernel, boot_image):
    out = tcg_boot(kernel, boot_image,
                   "console=ttyS0 quiet panic=-1 bulkhead.shell",
                   stdin_script=[("# ", "echo typed $((6 * 7))\n"),
                                 ("typed 42", "poweroff\n")])
    assert "bulkhead-init: start shell" in out
    assert "bulkhead-init: poweroff requested" in out
