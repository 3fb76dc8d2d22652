# SPDX-License-Identifier: GPL-2.0-only
"""The TPM layer (src/tpm) and bulkheadd's use of it, against swtpm
(tests/integration/swtpm.py; docs/measured-launch.md, "TPM"):

- sealing to PolicyPCR and unsealing; an extend since makes unsealing
  fail as "measurement changed", naming the PCR; a TPM_RC_PCR_CHANGED is
  tried once more; nothing transient is left in the TPM after many
  cycles, failed ones included; the policy digest is the one tpm2-tools
  computes; forward sealing to predicted values; a reboot (swtpm restart)
  keeps what was sealed;
- the NV counter; an owner password and a lockout give clear messages;
- bulkheadd: each VM launch is extended into PCR 23 and the log replays
  to what the TPM holds; the host's measurements (bulkheadd, bulkhead-hv,
  the device models, its settings, the policy files) into PCR 13, once per
  boot; a changed bulkhead-hv keeps a secret sealed to PCR 13 sealed and
  is named by bulkhead measure --host --compare; no TPM is said so.
"""

import hashlib
import json
import os
import re
import shutil
import subprocess

import pytest

from conftest import BUILD_DIR, HV
from swtpm import swtpm  # noqa: F401 (a fixture)
from test_measure import check_with_tpm2_eventlog, halting_bzimage, replay
from toolstack import BULKHEAD, BULKHEADD, Toolstack

TOOL = BUILD_DIR / "tests" / "tpm" / "bh-tpm-tool"
HOST_PCR, VM_PCR = 13, 23
COUNTER = "0x01004248"
# bh-tpm-tool's exit status: 10 + enum tpm_status
NO_TPM, IO, MEASUREMENT, PCR_CHANGED, AUTH, NV_MISSING = 11, 14, 15, 16, 18, 19
SECRET = bytes(range(32)).hex()


def tool(t, *args, check=0):
    r = subprocess.run([str(TOOL), "--tcti", t.tcti, *map(str, args)],
                       capture_output=True, text=True, timeout=120)
    if check is not None:
        assert r.returncode == check, (args, r.returncode, r.stdout,
                                       r.stderr)
    return r


def sha(data):
    return hashlib.sha256(data).hexdigest()


def chain(start, digests):
    pcr = bytes.fromhex(start)
    for d in digests:
        pcr = hashlib.sha256(pcr + bytes.fromhex(d)).digest()
    return pcr.hex()


ZERO = "00" * 32


def test_seal_unseal_round_trip(swtpm, tmp_path):
    blob = tmp_path / "blob"
    tool(swtpm, "seal", "13,23", SECRET, blob)
    assert tool(swtpm, "unseal", blob).stdout.strip() == SECRET
    # The blob records what it was sealed to.
    assert tool(swtpm, "blob-pcrs", blob).stdout.split() == [
        f"13={ZERO}", f"23={ZERO}"]
    # Unsealing again works: the object is loaded afresh each time.
    assert tool(swtpm, "unseal", blob).stdout.strip() == SECRET


def test_extend_means_measurement_changed(swtpm, tmp_path):
    blob = tmp_path / "blob"
    tool(swtpm, "seal", HOST_PCR, SECRET, blob)
    tool(swtpm, "pcr-extend", HOST_PCR, "11" * 32)
    r = tool(swtpm, "unseal", blob, check=MEASUREMENT)
    assert r.stdout == ""
    now = chain(ZERO, ["11" * 32])
    assert r.stderr.startswith("measurement-changed: unsealing: a "
                               "measurement changed: PCR 13 is sha256:"
                               f"{now[:16]}..., sealed to sha256:"
                               f"{ZERO[:16]}..."), r.stderr
    assert now == swtpm.pcr(HOST_PCR)
    # A PCR outside the policy changes nothing.
    blob2 = tmp_path / "blob2"
    tool(swtpm, "seal", HOST_PCR, SECRET, blob2)
    tool(swtpm, "pcr-extend", 12, "22" * 32)
    assert tool(swtpm, "unseal", blob2).stdout.strip() == SECRET


def test_pcr_changed_is_tried_once_more(swtpm, tmp_path):
    blob = tmp_path / "blob"
    tool(swtpm, "seal", HOST_PCR, SECRET, blob)
    # PCR 12 extended between PolicyPCR and Unseal, once: the retry works.
    r = tool(swtpm, "unseal-race", blob, 12, 1)
    assert r.stdout.split() == [SECRET, "raced", "1"]
    # Twice: the second failure is reported as it is.
    r = tool(swtpm, "unseal-race", blob, 12, 2, check=PCR_CHANGED)
    assert "pcr-changed: unsealing: a PCR was extended while the TPM " \
        "checked the policy" in r.stderr
    assert "0x128" in r.stderr


def test_cycles_leave_nothing_loaded(swtpm):
    # Each cycle: seal, unseal, a failing unseal (a corrupt private
    # part), another seal.
    r = tool(swtpm, "cycles", 40, "13,23")
    assert r.stdout.split() == ["transient", "0", "sessions", "0"]
    out = swtpm.tool("getcap", "handles-transient").stdout
    assert out.strip() == "", out
    for kind in ("handles-loaded-session", "handles-saved-session"):
        assert swtpm.tool("getcap", kind).stdout.strip() == ""
    # After a measurement change too.
    tool(swtpm, "pcr-extend", 13, "33" * 32)
    r = tool(swtpm, "cycles", 3, "13")
    assert r.stdout.split() == ["transient", "0", "sessions", "0"]


def test_policy_digest_is_tpm2_tools(swtpm, tmp_path):
    values = tmp_path / "values"
    values.write_bytes(bytes([0x11] * 32) + bytes([0x22] * 32))
    pol = tmp_path / "policy"
    swtpm.tool("createpolicy", "--policy-pcr", "-l", "sha256:13,23",
               "-f", values, "-L", pol)
    ours = tool(swtpm, "policy", "13=" + "11" * 32, "23=" + "22" * 32)
    assert ours.stdout.strip() == pol.read_bytes().hex()


def test_forward_seal_to_predicted_values(swtpm, tmp_path):
    digests = [sha(b"bulkheadd 2"), sha(b"bulkhead-hv 2")]
    predicted = tool(swtpm, "chain", ZERO, *digests).stdout.strip()
    assert predicted == chain(ZERO, digests)
    blob = tmp_path / "blob"
    tool(swtpm, "seal-to", blob, SECRET, f"{HOST_PCR}={predicted}")
    # Not yet: the PCR is still zero.
    tool(swtpm, "unseal", blob, check=MEASUREMENT)
    tool(swtpm, "pcr-extend", HOST_PCR, digests[0])
    tool(swtpm, "unseal", blob, check=MEASUREMENT)
    tool(swtpm, "pcr-extend", HOST_PCR, digests[1])
    assert tool(swtpm, "unseal", blob).stdout.strip() == SECRET


def test_reboot_keeps_what_was_sealed(swtpm, tmp_path):
    d = sha(b"the host")
    tool(swtpm, "pcr-extend", HOST_PCR, d)
    blob = tmp_path / "blob"
    tool(swtpm, "seal", HOST_PCR, SECRET, blob)
    swtpm.restart()
    # PCRs reset: not the state sealed to, until measured the same way.
    assert swtpm.pcr(HOST_PCR) == ZERO
    tool(swtpm, "unseal", blob, check=MEASUREMENT)
    tool(swtpm, "pcr-extend", HOST_PCR, d)
    assert tool(swtpm, "unseal", blob).stdout.strip() == SECRET


def test_counter(swtpm):
    r = tool(swtpm, "counter-read", COUNTER, check=NV_MISSING)
    assert "no NV counter is defined there" in r.stderr
    tool(swtpm, "counter-define", COUNTER)
    first = int(tool(swtpm, "counter-read", COUNTER).stdout)
    assert int(tool(swtpm, "counter-inc", COUNTER).stdout) == first + 1
    # Defining it again leaves it.
    tool(swtpm, "counter-define", COUNTER)
    assert int(tool(swtpm, "counter-read", COUNTER).stdout) == first + 1
    # The store's anchor: up to a value, never down.
    assert int(tool(swtpm, "anchor-advance", COUNTER, 20).stdout) == 20
    assert int(tool(swtpm, "anchor-advance", COUNTER, 5).stdout) == 20
    # Undefined and defined again, it does not start lower.
    swtpm.tool("nvundefine", COUNTER)
    tool(swtpm, "counter-define", COUNTER)
    assert int(tool(swtpm, "counter-read", COUNTER).stdout) > 20
    r = tool(swtpm, "counter-read", "0x01800000", check=12)
    assert "not in the owner range" in r.stderr


def test_owner_password_is_a_clear_auth_error(swtpm, tmp_path):
    swtpm.tool("changeauth", "-c", "owner", "s3cret")
    r = tool(swtpm, "seal", HOST_PCR, SECRET, tmp_path / "b", check=AUTH)
    assert r.stderr.startswith("auth: creating the owner hierarchy's "
                               "storage key: authorization failed"), r.stderr
    assert "this TPM's owner hierarchy has one" in r.stderr


def provoke_lockout(swtpm, tmp_path):
    """A DA-protected key of tpm2-tools' own, used with a wrong password
    once more than the TPM allows."""
    swtpm.tool("dictionarylockout", "-s", "-n", 1, "-t", 600, "-l", 600)
    ctx = tmp_path / "da.ctx"
    swtpm.tool("createprimary", "-C", "o", "-G", "ecc", "-c", ctx,
               "-p", "good", "-a", "fixedtpm|fixedparent|"
               "sensitivedataorigin|userwithauth|restricted|decrypt")
    for _ in range(2):
        swtpm.tool("create", "-C", ctx, "-P", "bad", "-G", "ecc",
                   "-u", tmp_path / "k.pub", "-r", tmp_path / "k.priv",
                   check=False)
    swtpm.tool("flushcontext", "-t")


def test_lockout_is_reported_and_does_not_lock_the_seal(swtpm, tmp_path):
    blob = tmp_path / "blob"
    tool(swtpm, "seal", HOST_PCR, SECRET, blob)
    provoke_lockout(swtpm, tmp_path)
    info = dict(line.split(" ", 1) for line in
                tool(swtpm, "info").stdout.splitlines())
    assert info["in_lockout"] == "1" and info["max_auth_fail"] == "1"
    # Bulkhead's objects are outside DA counting: a lockout someone else
    # caused does not keep the store closed.
    assert tool(swtpm, "unseal", blob).stdout.strip() == SECRET


def test_no_tpm(tmp_path):
    r = subprocess.run([str(TOOL), "--tcti", "none", "info"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == NO_TPM
    assert r.stderr.strip() == 'no-tpm: no TPM: the TPM setting is "none"'
    if not os.path.exists("/dev/tpmrm0"):
        r = subprocess.run([str(TOOL), "--tcti", "auto", "info"],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == NO_TPM
        assert "/dev/tpmrm0 does not exist, and no TCTI is set" in r.stderr
    # Nobody listens there: a transport error, said so.
    from swtpm import free_port
    r = subprocess.run([str(TOOL), "--tcti",
                        f"swtpm:host=127.0.0.1,port={free_port()}", "info"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == IO, r.stderr
    assert "cannot talk to the TPM" in r.stderr
    r = subprocess.run([str(TOOL), "--tcti", "tpm0", "info"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 12 and "not auto, none or a TCTI" in r.stderr


# bulkheadd


@pytest.fixture
def ts_tpm(tmp_path, swtpm):
    t = Toolstack(tmp_path, tpm=swtpm.tcti)
    yield t
    t.stop()


def define_vm(ts, tmp_path, name):
    k = halting_bzimage(tmp_path / f"{name}.bzImage")
    return ts.define(name, memory=64, kernel=str(k), cmdline=name)


def test_vm_launches_extend_pcr23(ts_tpm, swtpm, tmp_path):
    ts = ts_tpm
    ts.start()
    define_vm(ts, tmp_path, "web")
    ts.ok("start", "web")
    m = json.loads(ts.ok("measure", "--json", "web"))
    digests = [e["sha256"] for e in m["events"]]
    assert [e["pcr"] for e in m["events"]] == [VM_PCR] * len(digests)
    # The log recomputed from its measurements is what the TPM holds.
    assert m["pcr_sha256"] == replay(digests) == swtpm.pcr(VM_PCR)
    assert m["tpm"] == {"tcti": swtpm.tcti, "extended": len(digests),
                        "pcr_sha256": swtpm.pcr(VM_PCR)}
    log = tmp_path / "web.eventlog"
    with open(log, "wb") as f:
        subprocess.run([str(BULKHEAD), "measure", "--eventlog", "web"],
                       env=ts.env, stdout=f, check=True, timeout=30)
    check_with_tpm2_eventlog(log, m["events"], m["pcr_sha256"])
    text = ts.ok("measure", "web")
    assert f"TPM {swtpm.tcti}: PCR 23 is sha256:{swtpm.pcr(VM_PCR)}" in text
    # A second launch extends the same PCR further: every launch since
    # the TPM's reset, in order.
    first = swtpm.pcr(VM_PCR)
    define_vm(ts, tmp_path, "db")
    ts.ok("start", "db")
    m2 = json.loads(ts.ok("measure", "--json", "db"))
    assert swtpm.pcr(VM_PCR) == chain(first,
                                      [e["sha256"] for e in m2["events"]])
    # Restarting the daemon extends nothing again.
    before = swtpm.pcr(VM_PCR)
    ts.proc.terminate()
    ts.proc.wait(timeout=30)
    ts.start()
    assert swtpm.pcr(VM_PCR) == before
    assert json.loads(ts.ok("measure", "--json", "web"))["tpm"][
        "extended"] == len(digests)


def daemon_config(ts, hv):
    build = BUILD_DIR
    return json.dumps({
        "form": "bulkhead-daemon-config/1",
        "state_dir": str(ts.state), "config_dir": str(ts.config),
        "hv": str(hv),
        "blk": str(build / "src" / "devmodel" / "blk" / "bulkhead-blk"),
        "net": str(build / "src" / "devmodel" / "net" / "bulkhead-net"),
        "overlay_dir": str(ts.state / "overlays"), "vsock": True,
        "devmodel_uid_base": 0x60000000, "hv_uid": 0x5fffffff,
    }, sort_keys=True, separators=(",", ":")).encode()


def host_json(ts):
    return json.loads(ts.ok("measure", "--host", "--json"))


def restart(ts):
    ts.proc.terminate()
    ts.proc.wait(timeout=30)
    ts.start()


def test_host_measurements(ts_tpm, swtpm, tmp_path):
    ts = ts_tpm
    policy = ts.config / "10-web.svcpolicy"
    policy.write_text("# no rules yet\n")
    ts.start()
    h = host_json(ts)
    ev = h["events"]
    blk = BUILD_DIR / "src" / "devmodel" / "blk" / "bulkhead-blk"
    net = BUILD_DIR / "src" / "devmodel" / "net" / "bulkhead-net"
    assert [(e["what"], e["detail"], e["sha256"]) for e in ev] == [
        ("bulkheadd", "/proc/self/exe", sha(BULKHEADD.read_bytes())),
        ("bulkhead-hv", str(HV), sha(HV.read_bytes())),
        ("bulkhead-blk", str(blk), sha(blk.read_bytes())),
        ("bulkhead-net", str(net), sha(net.read_bytes())),
        ("daemon-config", "bulkheadd settings", sha(daemon_config(ts, HV))),
        ("policy", str(policy), sha(policy.read_bytes())),
    ]
    assert {e["pcr"] for e in ev} == {HOST_PCR}
    digests = [e["sha256"] for e in ev]
    assert h["pcr_sha256"] == replay(digests) == swtpm.pcr(HOST_PCR)
    assert h["tpm"] == {"tcti": swtpm.tcti, "pcr_sha256": h["pcr_sha256"],
                        "matches": True}
    assert h["current_from"] == 1
    text = ts.ok("measure", "--host")
    assert re.search(rf"^ +2 +13 +EV_EVENT_TAG +bulkhead-hv +"
                     rf"{digests[1]} +{re.escape(str(HV))}$", text, re.M), text
    assert f"PCR 13 is sha256:{h['pcr_sha256']} (the log's replay)" in text
    binary = tmp_path / "host.eventlog"
    with open(binary, "wb") as f:
        subprocess.run([str(BULKHEAD), "measure", "--host", "--eventlog"],
                       env=ts.env, stdout=f, check=True, timeout=30)
    check_host_eventlog(binary, h["pcr_sha256"], len(ev))

    # The same again: measured already since the TPM's reset.
    restart(ts)
    h2 = host_json(ts)
    assert h2["events"] == ev and swtpm.pcr(HOST_PCR) == h["pcr_sha256"]
    r = ts.cli("measure", "--host", "--compare", binary, check=0)
    assert f"Compared with {binary}: the same measurements" in r.stdout

    # A policy file changed: the new set is extended and appended.
    policy.write_text("# changed\n")
    restart(ts)
    h3 = host_json(ts)
    assert h3["current_from"] == len(ev) + 1
    assert len(h3["events"]) == 2 * len(ev)
    assert swtpm.pcr(HOST_PCR) == h3["pcr_sha256"] == replay(
        [e["sha256"] for e in h3["events"]])
    r = ts.cli("measure", "--host", "--compare", binary, check=1)
    now = sha(policy.read_bytes())
    assert f"Compared with {binary}: policy {policy} changed: recorded " \
        f"sha256:{digests[5]}, now sha256:{now}" in r.stdout
    assert "(events 1 to 6 are an earlier start's" in r.stdout


def check_host_eventlog(path, pcr, n):
    tool_path = shutil.which("tpm2_eventlog")
    if not tool_path:
        return
    r = subprocess.run([tool_path, str(path)], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 0 and "WARN" not in r.stdout + r.stderr, r
    assert re.search(rf"^ +13 : 0x{pcr}$", r.stdout, re.M), r.stdout
    assert r.stdout.count("PCRIndex: 13") == n


def test_changed_hypervisor_keeps_the_secret_sealed(ts_tpm, swtpm, tmp_path):
    ts = ts_tpm
    hv = tmp_path / "bulkhead-hv"
    shutil.copy(HV, hv)
    ts.start("--hv", hv)
    recorded = tmp_path / "recorded.eventlog"
    with open(recorded, "wb") as f:
        subprocess.run([str(BULKHEAD), "measure", "--host", "--eventlog"],
                       env=ts.env, stdout=f, check=True, timeout=30)
    blob = tmp_path / "blob"
    tool(swtpm, "seal", HOST_PCR, SECRET, blob)
    ts.stop()

    # A reboot with the same host: the secret unseals.
    swtpm.restart()
    ts.start("--hv", hv)
    assert tool(swtpm, "unseal", blob).stdout.strip() == SECRET
    ts.stop()

    # A byte more in bulkhead-hv, then a reboot: it stays sealed, and
    # the comparison with the recorded log names the hypervisor.
    with open(hv, "ab") as f:
        f.write(b"\0")
    swtpm.restart()
    ts.start("--hv", hv)
    r = tool(swtpm, "unseal", blob, check=MEASUREMENT)
    assert "PCR 13 is sha256:" in r.stderr
    r = ts.cli("measure", "--host", "--compare", recorded, check=1)
    assert re.search(rf"Compared with {re.escape(str(recorded))}: "
                     rf"bulkhead-hv {re.escape(str(hv))} changed: recorded "
                     rf"sha256:{sha(HV.read_bytes())}, now sha256:"
                     rf"{sha(hv.read_bytes())}$", r.stdout, re.M), r.stdout


def test_tpm_status(ts_tpm, swtpm, tmp_path):
    ts = ts_tpm
    ts.start()
    s = json.loads(ts.ok("tpm", "status", "--json"))
    assert s["tcti"] == swtpm.tcti and s["manufacturer"] == "IBM"
    assert s["pcrs"] == {"13": swtpm.pcr(13), "23": swtpm.pcr(23)}
    assert (s["transient"], s["sessions"], s["in_lockout"]) == (0, 0, False)
    provoke_lockout(swtpm, tmp_path)
    text = ts.ok("tpm", "status")
    assert "lockout:    LOCKED OUT, 1 failed authorizations of 1" in text
    assert f"PCR 13:     sha256:{swtpm.pcr(13)} (host measurements)" in text


def test_without_tpm(tmp_path):
    ts = Toolstack(tmp_path)  # BULKHEAD_TPM=none
    ts.start()
    try:
        r = ts.cli("tpm", "status", check=6)
        assert r.stderr.strip() == (
            'bulkhead: no TPM: the TPM setting is "none" (bulkheadd --tpm): '
            "measurements are logged, not extended into PCRs, and nothing "
            "can be sealed")
        h = host_json(ts)
        assert h["tpm"] is None and len(h["events"]) == 5
        assert "No TPM: the log is the whole record" in ts.ok(
            "measure", "--host")
        define_vm(ts, tmp_path, "web")
        ts.ok("start", "web")
        assert json.loads(ts.ok("measure", "--json", "web"))["tpm"] is None
    finally:
        ts.stop()


def test_bad_tpm_setting_stops_bulkheadd(tmp_path):
    from swtpm import free_port
    r = subprocess.run([str(BULKHEADD), "--tpm", "tpm0"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2
    assert 'bulkheadd: error: --tpm: TPM setting "tpm0": not auto, none ' \
        "or a TCTI" in r.stderr
    # Set, but not there: bulkheadd does not start unmeasured.
    state = tmp_path / "state"
    r = subprocess.run(
        [str(BULKHEADD), "--state-dir", state, "--config-dir", tmp_path,
         "--tpm", f"swtpm:host=127.0.0.1,port={free_port()}"],
        capture_output=True, text=True, timeout=30)
    assert r.returncode == 1
    assert "cannot talk to the TPM" in r.stderr
