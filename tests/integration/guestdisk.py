# SPDX-License-Identifier: GPL-2.0-only
"""Disk images for Linux guest tests and benchmarks: a guest initramfs that
can use disks (virtio_blk, ext4, mkfs.ext4), and a read-only "tools" disk
carrying programs too big for an initramfs (fio and its 80 MB of shared
libraries), run in the guest through the dynamic loader on that disk."""

import os
import shutil
import subprocess

from conftest import BUILD_DIR, SOURCE_ROOT

# In the guest, with the tools disk mounted at /tools.
TOOLS_MOUNT = "/tools"
LOADER = "ld-linux-x86-64.so.2"
DISK_MODULES = ("virtio_pci", "virtio_blk", "ext4", "crc32c_generic")


def host_tool(name):
    """A program on this machine, or None."""
    for d in ("/usr/sbin", "/sbin", "/usr/bin", "/bin"):
        p = os.path.join(d, name)
        if os.path.exists(p):
            return p
    return shutil.which(name)


def fetch_kernel(what):
    r = subprocess.run(
        [str(SOURCE_ROOT / "guest" / "image" / "fetch-kernel"), "--offline",
         "--cache", str(BUILD_DIR / "guest-cache"), "--print", what],
        capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("guest kernel missing: run `ninja -C build "
                           f"guest-assets` first ({r.stderr.strip()})")
    return r.stdout.strip()


def disk_initramfs(out, script):
    """busybox, the disk modules, mkfs.ext4, and script baked in as the
    command the guest runs."""
    path = out.with_suffix(".sh")
    path.write_text(script)
    args = [str(SOURCE_ROOT / "guest" / "image" / "mkinitramfs"), "-q",
            "-o", str(out), "--modules-dir", fetch_kernel("modules"),
            "--run", str(path),
            "--binary", host_tool("mke2fs") + ":/sbin/mkfs.ext4"]
    for m in DISK_MODULES:
        args += ["--module", m]
    r = subprocess.run(args, capture_output=True, text=True)
    if r.returncode:
        raise RuntimeError(f"mkinitramfs: {r.stderr}")
    return out


def shared_libraries(binary):
    """The shared objects binary loads, resolved (ldd's view)."""
    r = subprocess.run(["ldd", binary], capture_output=True, text=True,
                       check=True)
    libs = []
    for line in r.stdout.splitlines():
        parts = line.split()
        if "=>" in parts and len(parts) >= 3 and parts[2].startswith("/"):
            libs.append(parts[2])
        elif parts and parts[0].startswith("/"):
            libs.append(parts[0])  # the loader itself
    return libs


def tools_image(out, programs, extra_mib=16):
    """An ext4 image holding bin/NAME and lib/ (every shared library they
    need, and the loader) for each program path given. Returns the
    in-guest command prefix for one: run_tool(name)."""
    root = out.with_suffix(".d")
    shutil.rmtree(root, ignore_errors=True)
    (root / "bin").mkdir(parents=True)
    (root / "lib").mkdir()
    for prog in programs:
        shutil.copy2(prog, root / "bin" / os.path.basename(prog))
        for lib in shared_libraries(prog):
            shutil.copy2(lib, root / "lib" / os.path.basename(lib))
    size = sum(f.stat().st_size for f in root.rglob("*") if f.is_file())
    mib = size // (1 << 20) + extra_mib
    with open(out, "wb") as f:
        f.truncate(mib << 20)
    r = subprocess.run([host_tool("mke2fs"), "-q", "-F", "-t", "ext4", "-d",
                        str(root), str(out)], capture_output=True, text=True)
    shutil.rmtree(root, ignore_errors=True)
    if r.returncode:
        raise RuntimeError(f"mke2fs -d: {r.stderr}")
    return out


def run_tool(name):
    """The guest command line that runs tools-disk program name."""
    return (f"{TOOLS_MOUNT}/lib/{LOADER} --library-path {TOOLS_MOUNT}/lib "
            f"{TOOLS_MOUNT}/bin/{name}")


def debugfs_cat(image, path):
    """A file from an ext4 image, after replaying its journal on a copy
    (the guest may have stopped before a checkpoint)."""
    copy = f"{image}.fsck"
    shutil.copyfile(image, copy)
    try:
        fsck = subprocess.run([host_tool("e2fsck"), "-fy", copy],
                              capture_output=True, text=True)
        # 0: clean, 1: errors corrected (the journal replayed).
        if fsck.returncode not in (0, 1):
            raise RuntimeError(f"e2fsck: {fsck.stdout}{fsck.stderr}")
        r = subprocess.run([host_tool("debugfs"), "-R", f"cat {path}", copy],
                           capture_output=True)
        if r.returncode:
            raise RuntimeError(f"debugfs: {r.stderr!r}")
        return r.stdout
    finally:
        os.unlink(copy)
