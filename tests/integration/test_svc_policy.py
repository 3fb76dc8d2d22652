# SPDX-License-Identifier: GPL-2.0-only
"""`bulkhead policy check --call`: the service-call policy's decisions as
the CLI explains them, with freestanding guests (no Linux guest needed)."""

import pytest

from toolstack import Toolstack

EXIT_OK, EXIT_USAGE, EXIT_NO_VM, EXIT_DENIED = 0, 2, 3, 7


@pytest.fixture
def ts(tmp_path):
    t = Toolstack(tmp_path)
    t.start()
    yield t
    t.stop()


def check(ts, *args):
    return ts.cli("policy", "check", "--call", *args, timeout=30)


def test_call_decisions_name_rule_file_and_line(ts):
    ts.mini("work", tags=["trusted"])
    ts.mini("vault", role="service")
    ts.mini("personal")
    for name in ("work", "vault", "personal"):
        ts.ok("start", name)
    (ts.config / "10-base.svcpolicy").write_text(
        "# denials first\n"
        "vendor.Sync * work vault deny\n"
        "vendor.Sync * work @anyvm allow target=vault\n")
    (ts.config / "20-rest.svcpolicy").write_text(
        "bulkhead.Clipboard * @tag:trusted @anyvm ask\n"
        "vendor.Print +pdf @anyvm @type:service allow user=lp\n")

    r = check(ts, "personal", "vault", "vendor.Print+pdf")
    assert r.returncode == EXIT_OK, r
    assert r.stdout == (
        "call personal -> vault vendor.Print+pdf: allow, to vault as user lp\n"
        "  by 20-rest.svcpolicy:2: vendor.Print +pdf @anyvm @type:service "
        "allow user=lp\n")

    # The redirect to vault cannot bypass the deny above it (#8227).
    r = check(ts, "work", "personal", "vendor.Sync")
    assert r.returncode == EXIT_DENIED, r
    assert "by 10-base.svcpolicy:2: vendor.Sync * work vault deny" in r.stdout
    assert "refuses the redirect to vault of 10-base.svcpolicy:3" in r.stdout

    r = check(ts, "work", "personal", "bulkhead.Clipboard")
    assert r.returncode == EXIT_OK, r
    assert r.stdout.startswith(
        "call work -> personal bulkhead.Clipboard: ask, to personal\n")

    # Not tagged: nothing matches, default deny.
    r = check(ts, "personal", "work", "bulkhead.Clipboard")
    assert r.returncode == EXIT_DENIED, r
    assert "no rule matches: default deny" in r.stdout
    r = check(ts, "personal", "vault", "vendor.Print+txt")
    assert r.returncode == EXIT_DENIED, r

    # The caller must be a running VM; the call must be well formed.
    r = check(ts, "ghost", "vault", "vendor.Print")
    assert r.returncode == EXIT_NO_VM, r
    assert "unknown source VM" in r.stderr
    r = check(ts, "work", "@anyvm", "vendor.Print")
    assert r.returncode == EXIT_USAGE, r
    r = check(ts, "work", "vault")
    assert r.returncode == EXIT_USAGE, r
    assert "SOURCE, TARGET and SERVICE[+ARG]" in r.stderr

    # An error in any file is reported with its file and line.
    (ts.config / "30-bad.svcpolicy").write_text("\nvendor.X + work vault ok\n")
    r = check(ts, "personal", "vault", "vendor.Print+pdf")
    assert r.returncode != EXIT_OK, r
    assert "30-bad.svcpolicy:2: action \"ok\" is not allow, deny or ask" \
        in r.stderr
