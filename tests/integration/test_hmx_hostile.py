# SPDX-License-Identifier: GPL-2.0-only
"""The hostile-guest suite: a 2-vCPU guest throws malformed hypercalls and
races at the HMX controller while a peer streams checked messages to a
victim. The hypervisor must survive, every error must be the documented
one, and the victim must get every peer message intact, in order, and
nothing where the hostile guest may not write. Freestanding guests: runs
on any KVM host."""

from conftest import read_until

VICTIM, HOSTILE, PEER = 3, 4, 5


def accept(sd, dd, dp, sp="any"):
    return dict(src_domid=sd, src_port=sp, dst_domid=dd, dst_port=dp,
                action="accept")


RULES = [
    accept(PEER, VICTIM, "any"),
    accept(HOSTILE, VICTIM, 1000),
    # The hostile guest's own rings: sends to itself on these ports only,
    # so a wildcard ring anywhere else is refused.
    *[accept(HOSTILE, HOSTILE, p) for p in (30, 31, 40, 42, 12345)],
    accept(VICTIM, PEER, 3000),  # admits the peer's wildcard ring
    accept(PEER, 0, 100),  # admits the host's ring; the peer never sends
]


def test_hostile_guest(hv, guest_elf, tmp_path):
    c = hv.client
    c.call("subscribe")
    c.call("hmx.firewall.set", rules=RULES)
    c.call("hmx.host.ring.open", aport=100, partner="any", len=4032)
    elf = guest_elf("hmx-hostile")
    logs = {}
    # The peer first: the victim's ring for it names it, and a ring may
    # only name a domain that exists.
    for name, domid, vcpus in (("peer", PEER, 1), ("victim", VICTIM, 1),
                               ("hostile", HOSTILE, 2)):
        logs[name] = tmp_path / f"{name}.log"
        c.create_vm(name, elf, memory_mib=8, vcpus=vcpus, domid=domid,
                    cmdline=f"role={name}", console_log=logs[name])
        if name == "victim":
            read_until(logs[name], "victim: rings ready", timeout=60)

    reasons = {}
    for _ in range(3):
        ev = c.wait_event(lambda e: e["event"] == "vm-stopped", timeout=600)
        reasons[ev["name"]] = ev["reason"]
    # Nobody crashed: the hostile guest included.
    assert reasons == {"victim": "poweroff", "hostile": "poweroff",
                       "peer": "poweroff"}, hv.log.read_text()

    for name, log in logs.items():
        text = log.read_text()
        fails = [l for l in text.splitlines() if l.startswith("FAIL")]
        assert not fails, f"{name}:\n{text}"
        assert "RESULT pass" in text, f"{name}:\n{text}"
    hostile = logs["hostile"].read_text()
    assert hostile.count("\nok ") + hostile.startswith("ok ") >= 60

    # The hypervisor is alive and the host's own ring was never written.
    assert c.call("host.info")["vms"] == 3
    assert c.call("hmx.host.recv", aport=100, partner="any")["messages"] == []
    # Refusals were audited: the spoofed source and the policy refusals.
    audit = c.call("hmx.audit.read", max=256)["entries"]
    kinds = {(e["kind"], e["src"]["domid"]) for e in audit}
    assert ("source", HOSTILE) in kinds
    assert ("default", HOSTILE) in kinds
