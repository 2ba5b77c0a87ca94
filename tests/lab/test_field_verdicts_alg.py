"""firewall.openings behind the router's own SIP ALG (the kernel's nf_conntrack_sip), run as
an integrator runs it, every proof checked against the router's WAN (tests/lab/wan.py).

The ALG opens pinholes from the SDP and the registrations it rewrites: the operator's media
and INVITEs then come in whatever the firewall's rules say, so nothing the traffic shows open
counts as a proof, and the ports outside 10000-20000 it opened are the ALG's effect, not a
rule for the customer to close.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.lab import Lab
from tests.lab.labrun import by_id
from tests.lab.wan import gate_events, judged, statuses

SERVER = "198.51.100.10"


@pytest.mark.lab
def test_strict_with_the_alg_rests_on_the_configuration_and_blames_the_alg(
        field_lab: Lab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    doc = judged(field_lab, tmp_path, monkeypatch, firewall="strict", alg=True)
    checks = by_id(doc)
    assert checks["sip.alg"].status == "fail"
    fw = checks["firewall.openings"]
    assert fw.status == "pass", (fw.reason(), fw.reserves)
    assert statuses(fw) == {(SERVER, "5060"): "vouched", (SERVER, "10000-20000"): "vouched"}
    assert fw.facts["evidence"] == "outsider sweep, router configuration"
    assert "RTP_OPEN_BEYOND" not in [m.code for m in fw.reasons + fw.reserves]
    # what the ALG opened is said to be the ALG's: 9999 and 20001 from the samples' SDP
    by_alg = {m.code: m.params for m in fw.reserves}
    assert set(by_alg) <= {"RTP_OPEN_BY_ALG", "OPENINGS_BY_ALG"}, fw.reserves
    assert by_alg["RTP_OPEN_BY_ALG"] == {"ports": "9999, 20001"}
    assert gate_events(tmp_path) == ["verification_pass"]


@pytest.mark.lab
def test_closed_with_the_alg_is_never_a_pass(
        field_lab: Lab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Calls work through the ALG's pinholes; the rules open nothing: not a pass."""
    doc = judged(field_lab, tmp_path, monkeypatch, firewall="closed", alg=True)
    checks = by_id(doc)
    fw = checks["firewall.openings"]
    assert fw.status in ("error", "fail"), fw.reason()
    assert "proven" not in statuses(fw).values()
    assert "verification_pass" not in gate_events(tmp_path)
    # the ALG's pinholes (to the operator from the samples' SDP, to the outsider from the ALG
    # probe's) are the ALG's in the cross-check too, not a rule the configuration lacks
    cross = checks["router.crosscheck"]
    assert cross.status == "pass", (cross.reason(), cross.reserves)
    assert {m.code for m in cross.reserves} == {"CONFIG_ALG_OPENED"}
