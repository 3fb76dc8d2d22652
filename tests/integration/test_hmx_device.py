# SPDX-License-Identifier: GPL-2.0-only
"""HMX through the real controller device: two freestanding guests and the
host exchange messages through bulkhead-hv under a firewall; refusals are
counted and audited. The guests are tiny, so this runs on any KVM host,
even one that emulates guests instruction by instruction."""

import pytest

from conftest import read_until

PORT_A, PORT_B, PORT_HOST = 1000, 2000, 100


def rule(sd, sp, dd, dp, action):
    return dict(src_domid=sd, src_port=sp, dst_domid=dd, dst_port=dp,
                action=action)


RULES = [
    rule(3, "any", 0, PORT_HOST, "accept"),
    rule(4, "any", 0, PORT_HOST, "reject"),
    rule(3, "any", 4, "any", "accept"),
    rule(4, "any", 3, "any", "accept"),
    rule(0, PORT_HOST, 3, PORT_A, "accept"),
]


def guest_checks(log):
    oks = [l for l in log.splitlines() if l.startswith("ok ")]
    fails = [l for l in log.splitlines() if l.startswith("FAIL")]
    return oks, fails


def test_two_guests_and_host_over_hmx(hv, guest_elf, tmp_path):
    c = hv.client
    c.call("subscribe")
    assert c.call("hmx.firewall.set", rules=RULES)["nrules"] == len(RULES)
    c.call("hmx.host.ring.open", aport=PORT_HOST, partner="any", len=4032)

    logs = {n: tmp_path / f"{n}.log" for n in "ab"}
    c.create_vm("a", guest_elf("hmx-basic"), memory_mib=4,
                cmdline="role=a domid=3", console_log=logs["a"])
    c.create_vm("b", guest_elf("hmx-basic"), memory_mib=4,
                cmdline="role=b domid=4", console_log=logs["b"])
    read_until(logs["a"], "a: waiting for messages", timeout=120)
    sent = c.call("hmx.host.send", src_aport=PORT_HOST, dst_domid=3,
                  dst_aport=PORT_A, data=b"from host".hex())
    assert sent["sent"] == 9

    stops = {c.wait_event(lambda e: e["event"] == "vm-stopped",
                          timeout=120)["name"]: None for _ in range(2)}
    assert set(stops) == {"a", "b"}

    for n in "ab":
        text = logs[n].read_text()
        oks, fails = guest_checks(text)
        assert not fails, text
        assert "RESULT pass" in text, text
        assert len(oks) >= 6

    # What a sent to the host arrived once, with an authenticated source.
    msgs = c.call("hmx.host.recv", aport=PORT_HOST, partner="any")["messages"]
    assert msgs == [{"src": {"domid": 3, "aport": PORT_A}, "message_type": 0,
                     "len": 10, "data": b"hello host".hex()}]

    # Every refusal was audited, once, with the deciding rule.
    audit = c.call("hmx.audit.read", max=64)["entries"]
    kinds = sorted((e["op"], e["kind"], e["rule"], e["src"]["domid"],
                    e["src"]["aport"]) for e in audit)
    assert kinds == sorted([
        ("sendv", "rule", 1, 4, PORT_B),
        ("sendv", "source", None, 3, 9999),
        ("notify", "rule", 1, 4, 0xFFFFFFFF),
    ])
    stats = c.call("hmx.firewall.stats")
    # b to a: "from b", the query of a's ring, "done".
    assert stats["hits"] == [1, 2, 0, 3, 1]
    assert stats["default_denied"] == 0


def test_firewall_requests_are_validated(hv):
    c = hv.client
    bad = [
        ({"rules": [{"src_domid": 3}]}, "missing field"),
        ({"rules": [dict(RULES[0], action="maybe")]}, "accept or reject"),
        ({"rules": [dict(RULES[0], extra=1)]}, "unknown field"),
        ({"rules": [dict(RULES[0], dst_port=-1)]}, "between"),
        ({}, "exactly one of rules and rules_fd"),
    ]
    before = c.call("hmx.firewall.stats")["generation"]
    for fields, message in bad:
        with pytest.raises(Exception, match=message):
            c.call("hmx.firewall.set", **fields)
    # A refused update leaves the old set in place.
    assert c.call("hmx.firewall.stats")["generation"] == before


def test_large_rule_set_through_an_fd(hv, tmp_path):
    import json
    rules = [rule(3, p, 4, p, "accept") for p in range(10000)]
    path = tmp_path / "rules.json"
    path.write_text(json.dumps(rules))
    with open(path, "rb") as f:
        reply = hv.client.call("hmx.firewall.set", fds=[f.fileno()],
                               rules_fd=0)
    assert reply["nrules"] == 10000


def test_rules_read_back_and_introspection(hv, guest_elf):
    c = hv.client
    assert "hmx.firewall.get" in c.hello["ops"]
    assert {"vm.create", "hmx.audit.read", "hello"} <= set(c.hello["ops"])
    gen = c.call("hmx.firewall.set", rules=RULES)["generation"]
    got = c.call("hmx.firewall.get")
    assert (got["generation"], got["nrules"]) == (gen, len(RULES))
    assert got["rules"] == RULES
    page = c.call("hmx.firewall.get", first=3, max=1)
    assert page["rules"] == RULES[3:4] and page["first"] == 3

    # An empty command line is a command line; hmx shows in the vm object.
    vm = c.create_vm("quiet", guest_elf("lifecycle"), memory_mib=4,
                     cmdline="", start=False)
    assert vm["hmx"] is True and vm["state"] == "created"
    vm = c.create_vm("nohmx", guest_elf("lifecycle"), memory_mib=4,
                     cmdline="action=poweroff", start=False, hmx=False)
    assert vm["hmx"] is False

    # Refusals carry the generation of the set that decided them.
    c.call("subscribe")
    c.call("vm.destroy", name="quiet")
    c.create_vm("a", guest_elf("hmx-basic"), memory_mib=4,
                cmdline="role=b domid=5", domid=5)
    c.wait_event(lambda e: e["event"] == "vm-stopped" and e["name"] == "a",
                 timeout=120)
    audit = c.call("hmx.audit.read")["entries"]
    assert audit and all(e["generation"] == gen for e in audit)
