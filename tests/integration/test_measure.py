# SPDX-License-Identifier: GPL-2.0-only
"""Measured launch through the real toolstack and CLI, with tiny guests
(any KVM host; docs/measured-launch.md):

- `bulkhead measure` prints the digests Python's hashlib computes over the
  same kernel, initrd, command line and disk, and over the canonical
  forms of the definition and its compiled rules as the documentation
  defines them; the PCR it prints is the replay of those digests;
- `bulkhead measure --eventlog` gives the log's bytes, which
  tpm2_eventlog (tpm2-tools) parses to the same events and PCR value;
- a measure_expect pin that does not match refuses the start, names what
  differed with both digests, leaves nothing running, and is audited;
  pins that match start the VM; bad pins are refused when the definition
  is read;
- the log lives while the instance does, across a daemon restart.
"""

import hashlib
import json
import os
import pty
import re
import shutil
import subprocess

import pytest

from test_hv_run import fake_bzimage
from toolstack import BULKHEAD, Toolstack

PCR = 23
TAG_BASE = 0x42480000
WHAT = ["kernel", "initrd", "cmdline", "config", "rules", "disk"]


@pytest.fixture
def ts(tmp_path):
    t = Toolstack(tmp_path)
    t.start()
    yield t
    t.stop()


def halting_bzimage(path):
    """fake_bzimage whose 64-bit entry (+0x200 into the protected-mode
    code, which follows the two setup sectors) is cli; hlt; jmp back: it
    runs, quietly, until destroyed."""
    fake_bzimage(path)
    b = bytearray(path.read_bytes())
    b[1024 + 0x200:1024 + 0x204] = b"\xfa\xf4\xeb\xfd"
    path.write_bytes(bytes(b))
    return path


def sha(data):
    return hashlib.sha256(data).hexdigest()


def canonical(value):
    """docs/measured-launch.md's canonical JSON (RFC 8785 for these)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode()


def replay(digests):
    pcr = bytes(32)
    for d in digests:
        pcr = hashlib.sha256(pcr + bytes.fromhex(d)).digest()
    return pcr.hex()


@pytest.fixture
def files(tmp_path):
    k = halting_bzimage(tmp_path / "bzImage")
    initrd = tmp_path / "initrd.img"
    initrd.write_bytes(os.urandom(64 << 10))
    disk = tmp_path / "data.img"
    disk.write_bytes(os.urandom(1 << 20))
    return k, initrd, disk


CMDLINE = 'console=ttyS0 quiet label="a/b\\c"'


def define_web(ts, files, **more):
    k, initrd, disk = files
    keys = dict(memory=64, kernel=str(k), ramdisk=str(initrd),
                cmdline=CMDLINE, disk=[f"{disk},raw,xvda,ro,measure=on"],
                hmx_rules=["myself -> host:5555"])
    return ts.define("web", **dict(keys, **more))


def expected_config(files):
    k, initrd, disk = files
    return canonical({
        "form": "bulkhead-vm-config/2", "name": "web", "role": "guest",
        "memory_mib": 64, "vcpus": 1, "kernel": str(k),
        "ramdisk": str(initrd), "cmdline": CMDLINE, "hmx": True,
        "vsock": False, "serial": "pty", "serial_path": None,
        "hmx_rules": ["accept myself -> host:5555"], "vifs": [],
        "disks": [{"vdev": "xvda", "target": str(disk), "format": "raw",
                   "readonly": True, "backend": "bulkhead-blk",
                   "discard": True, "direct": False,
                   "snapshot": "persistent", "measure": True,
                   "verify": None, "verity": None}],
    })


EXPECTED_RULES = canonical([{"action": "accept", "src": "web",
                             "src_port": "*", "dst": "host",
                             "dst_port": 5555}])


def measure_json(ts, name):
    return json.loads(ts.ok("measure", "--json", name))


def test_log_matches_hashlib(ts, files, tmp_path):
    k, initrd, disk = files
    define_web(ts, files)
    ts.ok("start", "web")
    m = measure_json(ts, "web")
    ev = m["events"]
    assert [e["what"] for e in ev] == ["kernel", "initrd", "cmdline",
                                       "config", "disk", "rules"]
    assert [e["index"] for e in ev] == [1, 2, 3, 4, 5, 6]
    assert {(e["pcr"], e["type"]) for e in ev} == {(PCR, "EV_EVENT_TAG")}
    want = [sha(k.read_bytes()), sha(initrd.read_bytes()),
            sha(CMDLINE.encode()), sha(expected_config(files)),
            sha(disk.read_bytes()), sha(EXPECTED_RULES)]
    assert [e["sha256"] for e in ev] == want
    assert [e["detail"] for e in ev] == [
        str(k), str(initrd), CMDLINE, "web", f"xvda {disk}",
        "web (1 entry)"]
    assert m["pcr"] == PCR and m["complete"] is True
    assert m["pcr_sha256"] == replay(want)
    log = ts.state / "measure" / "web.eventlog"
    assert m["log"] == str(log)
    assert log.stat().st_mode & 0o777 == 0o600

    # The table: one row per event, then the PCR.
    text = ts.ok("measure", "web")
    for e in ev:
        assert re.search(rf"^ +{e['index']} +{PCR} +EV_EVENT_TAG +"
                         rf"{e['what']} +{e['sha256']} +", text, re.M), text
    assert f"PCR {PCR} replayed from zero: sha256:{m['pcr_sha256']}" in text

    # The binary log, through the CLI, is the file.
    binary = tmp_path / "web.eventlog"
    with open(binary, "wb") as f:
        subprocess.run([str(BULKHEAD), "measure", "--eventlog", "web"],
                       env=ts.env, stdout=f, check=True, timeout=30)
    assert binary.read_bytes() == log.read_bytes()
    check_with_tpm2_eventlog(binary, ev, m["pcr_sha256"])


def check_with_tpm2_eventlog(path, events, pcr):
    tool = shutil.which("tpm2_eventlog")
    if not tool:
        print("tpm2_eventlog not installed (Debian tpm2-tools): "
              "skipping the check against it")
        return
    r = subprocess.run([tool, str(path)], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 0, r.stderr
    assert "WARN" not in r.stdout + r.stderr, r.stdout + r.stderr
    out = r.stdout
    assert "Signature: Spec ID Event03" in out and "algorithmId: sha256" in out
    assert re.search(rf"^ +{PCR} : 0x{pcr}$", out, re.M), out
    # Its events, in order: PCR, type, digest and the tagged event.
    found = [re.search(r"^(\d+)\n  PCRIndex: (\d+)\n  EventType: (\w+)\n"
                       r".*Digest: \"([0-9a-f]+)\"\n  EventSize: \d+\n"
                       r"  Event: \"([0-9a-f]+)\"", block, re.S).groups()
             for block in out.split("- EventNum: ")[2:]]
    assert len(found) == len(events), out
    for (num, pcr_index, etype, digest, data), e in zip(found, events):
        assert (int(num), int(pcr_index), etype, digest) == (
            e["index"], PCR, "EV_EVENT_TAG", e["sha256"])
        raw = bytes.fromhex(data)
        tag = int.from_bytes(raw[:4], "little")
        size = int.from_bytes(raw[4:8], "little")
        assert tag == TAG_BASE + WHAT.index(e["what"]) + 1
        assert size == len(raw) - 8
        assert raw[8:].decode() == f"{e['what']} {e['detail']}"


def start_refused(ts, name, *want):
    r = ts.cli("start", name)
    assert r.returncode == 1, (r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    for w in want:
        assert w in lines[0], lines[0]
    assert ts.vm(name)["state"] in ("stopped", "off")
    return lines[0]


def audited(ts, what):
    """The audit entries of kind measure.expect about what."""
    show = ts.request("policy.show", audit_max=50)
    return [e for e in show["audit"]["entries"]
            if e.get("kind") == "measure.expect"
            and e.get("dst_label") == what]


def test_pins(ts, files):
    k, initrd, disk = files
    define_web(ts, files)
    ts.ok("start", "web")
    got = {e["what"]: e["sha256"] for e in measure_json(ts, "web")["events"]}
    ts.ok("destroy", "web")
    pins = [f"{w}=sha256:{got[w]}" for w in WHAT[:5]]

    # Every pin met: it starts, and the pins are not part of config=.
    define_web(ts, files, measure_expect=pins)
    ts.ok("start", "web")
    assert measure_json(ts, "web")["events"][3]["sha256"] == got["config"]
    ts.ok("destroy", "web")

    # An edited kernel: refused before any device model, and audited.
    data = bytearray(k.read_bytes())
    data[-1] ^= 1
    k.write_bytes(bytes(data))
    err = start_refused(ts, "web", "measure_expect: kernel", str(k),
                        f"expected sha256:{got['kernel']}",
                        f"measured sha256:{sha(bytes(data))}",
                        "not starting")
    assert "device model" not in err
    (entry,) = audited(ts, "kernel")
    assert entry["src_label"] == "web" and got["kernel"] in entry["rule_text"]
    assert not (ts.state / "measure" / "web.eventlog").exists()
    assert ts.vm("web")["disks"][0]["state"] == "off"

    # Two differ: both audited, the message says so.
    define_web(ts, files, measure_expect=pins, vcpus=2)
    err = start_refused(ts, "web", "measure_expect: kernel",
                        "also config differ; not starting")
    assert len(audited(ts, "config")) == 1
    assert len(audited(ts, "kernel")) == 2

    # The rules are measured last, once compiled: refused then, the
    # domain and its disk's device model gone.
    k.write_bytes(bytes(data[:-1]) + bytes([data[-1] ^ 1]))
    define_web(ts, files, measure_expect=pins[:3] + pins[4:],
               hmx_rules=["myself -> host:5556"])
    start_refused(ts, "web", "measure_expect: rules web (1 entry)",
                  f"expected sha256:{got['rules']}")
    assert len(audited(ts, "rules")) == 1
    assert not (ts.state / "measure" / "web.eventlog").exists()
    assert ts.vm("web")["disks"][0]["state"] == "off"
    assert "rules" in ts.vm("web")["stop_detail"]


@pytest.mark.parametrize("pins,want", [
    (["kernal=sha256:" + "0" * 64], 'unknown measurement "kernal"'),
    (["kernel=sha256:" + "0" * 63], "got 63 characters"),
    (["kernel=sha256:" + "0" * 63 + "g"], "not a hexadecimal digit"),
    (["kernel=" + "0" * 64], "expected sha256:"),
    (["cmdline=sha256:" + "0" * 64] * 2, "cmdline is pinned twice"),
    (["disk=sha256:" + "0" * 64], "verify=sha256:HEX in its disk spec"),
])
def test_bad_pins_refused_at_define(ts, tmp_path, pins, want):
    path = ts.define("bad", directory=tmp_path, memory=16,
                     kernel="/nonexistent", measure_expect=pins)
    r = ts.cli("create", "--no-start", path)
    assert r.returncode != 0
    assert "measure_expect" in r.stderr and want in r.stderr, r.stderr
    assert "bad" not in ts.vms()


def test_log_lives_with_the_instance(ts, files):
    define_web(ts, files)
    ts.ok("start", "web")
    before = measure_json(ts, "web")
    ts.kill9()
    ts.start()
    assert measure_json(ts, "web") == before
    ts.ok("destroy", "web")
    assert not (ts.state / "measure" / "web.eventlog").exists()
    r = ts.cli("measure", "web")
    assert r.returncode == 6 and "not running" in r.stderr
    r = ts.cli("measure", "nosuch")
    assert r.returncode == 3
    help_text = ts.ok("measure", "--help")
    assert help_text.startswith("usage: bulkhead measure [--json | --eventlog]")
    # The binary log is not for a terminal, and one mode at a time.
    r = ts.cli("measure", "--json", "--eventlog", "web")
    assert r.returncode == 2 and "exclude each other" in r.stderr
    leader, tty = pty.openpty()
    try:
        r = subprocess.run([str(BULKHEAD), "measure", "--eventlog", "web"],
                           env=ts.env, stdout=tty, stderr=subprocess.PIPE,
                           timeout=30)
    finally:
        os.close(tty)
        os.close(leader)
    assert r.returncode == 2 and b"redirect it" in r.stderr


def test_log_too_big_for_a_reply(ts, files, tmp_path):
    """Sixteen measured disks with paths near PATH_MAX (relative targets
    in a deep directory) make a log the JSON reply cannot hold: the
    daemon says so, and --eventlog still gives it."""
    k, initrd, _ = files
    deep = tmp_path
    while len(str(deep)) < 3800:
        deep = deep / ("d" * 200)
    deep.mkdir(parents=True)
    disks = []
    for i in range(16):
        (deep / f"{i}.img").write_bytes(bytes([i]) * 4096)
        disks.append(f"{i}.img,raw,xvd{chr(ord('a') + i)},ro,measure=on")
    ts.define("deep", directory=deep, memory=64, kernel=str(k),
              disk=disks)
    # vm.create's own reply names the sixteen targets and may not fit
    # either (the CLI then loses the connection, exit 5): the VM starts
    # all the same.
    assert ts.cli("create", deep / "deep.cfg").returncode in (0, 5)
    r = ts.cli("measure", "deep")
    assert r.returncode == 1 and "--eventlog" in r.stderr, r.stderr
    out = subprocess.run([str(BULKHEAD), "measure", "--eventlog", "deep"],
                         env=ts.env, capture_output=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert out.stdout == (ts.state / "measure" / "deep.eventlog").read_bytes()
    assert out.stdout.count(b"disk xvd") == 16
