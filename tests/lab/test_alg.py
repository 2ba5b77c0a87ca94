"""Acceptance: SIP ALG detection against the kernel's real SIP helper on the lab router."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness import lab as labmod
from harness import netns
from harness.lab import Lab
from harness.lab.profile import lab_password
from harness.probe.client import ProbeClient
from sip_checks.probes import alg
from tests.lab.labrun import run


@pytest.mark.lab
def test_alg_on_is_detected_with_a_diff_of_what_it_rewrote(strict_lab: Lab,
                                                            tmp_path: Path) -> None:
    strict_lab.set_policy(alg=True)
    prof = tmp_path / "lab.yaml"
    strict_lab.write_profile(prof)
    proc, doc = run(prof, tmp_path / "out", "sip.alg")
    (check,) = doc.checks
    assert proc.returncode == 1 and check.status == "fail"
    assert check.facts["SIP ALG"] == "DETECTED"
    for element in ("Via", "Contact", "SDP c=", "SDP o="):
        assert element in check.facts["rewritten elements"]
    (rewrites,) = (m for m in check.reasons if m.code == "ALG_REWRITES")
    for element in ("Via", "Contact", "SDP c=", "SDP o="):
        assert element in str(rewrites.params["elements"])
    by_label = {f"{p.direction} {p.method} {p.proto}/{p.port}": p for p in check.figures.alg}
    invite = by_label["site→operator INVITE udp/5060"]
    changed = {c.element: (c.before, c.after) for c in invite.changes}
    assert changed["SDP c="] == ("c=IN IP4 192.168.254.10", "c=IN IP4 192.0.2.2")
    assert changed["Via[0] sent-by"][1].startswith("SIP/2.0/UDP 192.0.2.2:")
    # The kernel helper is attached to UDP 5060 only: TCP and the other port pass untouched.
    for label in ("site→operator INVITE tcp/5060", "site→operator INVITE udp/5088",
                  "site→operator REGISTER tcp/5088"):
        assert by_label[label].delivered and not by_label[label].changes, label
    reverse = by_label["operator→site INVITE udp/5060"]
    assert {c.element for c in reverse.changes} >= {"Request-Line", "To"}


def test_received_and_rport_alone_are_ordinary_nat() -> None:
    sent, _ = alg.message("REGISTER", local_ip="192.168.254.10", local_port=5060, proto="udp",
                          target="198.51.100.20")
    got = sent.replace(b";rport", b";rport=5060;received=192.0.2.2", 1)
    changes, nat = alg.diff(alg._strip_original(sent), alg._strip_original(got))
    assert changes == [] and {c.element for c in nat} == {"Via[0] rport", "Via[0] received"}


@pytest.mark.lab
def test_alg_off_no_false_positive_in_twenty_runs(strict_lab: Lab) -> None:
    client = ProbeClient(str(labmod.PROBE), labmod.PROBE_PORT,
                         lab_password(strict_lab.prefix, "probe").encode())
    for i in range(20):
        with netns.inside(strict_lab.ns("lan")):
            probes = alg.run_all(client, str(labmod.PROBE), str(labmod.VOICE_HOST))
        assert len(probes) == 9
        assert all(p.delivered for p in probes), (i, [alg.summary(p) for p in probes])
        assert not any(alg.is_alg(p) for p in probes), (i, [alg.summary(p) for p in probes])


@pytest.mark.lab
def test_sip_dropped_on_udp_while_tcp_passes_is_a_finding(strict_lab: Lab,
                                                          tmp_path: Path) -> None:
    """What a filtering ALG does: UDP SIP to 5060 vanishes, TCP gets through."""
    prof = tmp_path / "lab.yaml"
    strict_lab.write_profile(prof)
    netns.run(strict_lab.ns("rtr"), ["nft", "insert", "rule", "inet", "recette_filter",
                                     "forward", "ip", "daddr", str(labmod.PROBE), "udp",
                                     "dport", "5060", "drop"])
    try:
        proc, doc = run(prof, tmp_path / "out", "sip.alg")
    finally:
        strict_lab.set_policy()
    (check,) = doc.checks
    assert proc.returncode == 1 and check.status == "fail"
    filtered = [(m.code, m.params) for m in check.reasons]
    assert ("ALG_FILTERS", {"method": "REGISTER", "port": 5060}) in filtered
    assert ("ALG_FILTERS", {"method": "INVITE", "port": 5060}) in filtered
    assert "ALG_REWRITES" not in [code for code, _ in filtered]
    assert check.facts["SIP ALG"] == "not detected"  # nothing was rewritten
