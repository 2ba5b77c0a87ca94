"""firewall.openings on an operator that sends everything from one address:port (registrar,
proxy and INVITEs from 198.51.100.10:5060, media from the same address), run as an
integrator runs it (no probe at the operator), with every proof checked against the router's
WAN (tests/lab/wan.py).

Its INVITE always rides the flow the site's REGISTER opened, so the traffic can never prove
the 5060 forward: it must say so (never "a new flow, through the forward") and leave it to the
router's configuration.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.lab import Lab
from tests.lab.labrun import by_id, codes
from tests.lab.wan import gate_events, judged, statuses

SERVER = "198.51.100.10"


@pytest.mark.lab
def test_strict_passes_with_5060_vouched_for_by_the_configuration(
        one_address_lab: Lab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    doc = judged(one_address_lab, tmp_path, monkeypatch, firewall="strict")
    checks = by_id(doc)
    fw = checks["firewall.openings"]
    assert fw.status == "pass", (fw.reason(), fw.reserves)
    traffic = fw.figures.operator_traffic
    assert traffic is not None
    assert traffic.sip_source == f"{SERVER}:5060" and traffic.sip_proven is False
    assert "proves nothing" in traffic.sip and "new flow" not in traffic.sip
    assert statuses(fw) == {(SERVER, "5060"): "vouched", (SERVER, "10000-20000"): "proven"}
    assert fw.facts["evidence"] == "operator traffic, outsider sweep, router configuration"
    assert checks["router.crosscheck"].status == "pass", checks["router.crosscheck"].reason()
    assert gate_events(tmp_path) == ["verification_pass"]


@pytest.mark.lab
def test_closed_fails_on_media_and_never_claims_the_5060_forward(
        one_address_lab: Lab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The call still comes in (on the REGISTER's flow); the relay's media is dropped until
    the site sends, and the configuration opens nothing: a fail, 5060 named unproven."""
    doc = judged(one_address_lab, tmp_path, monkeypatch, firewall="closed")
    checks = by_id(doc)
    fw = checks["firewall.openings"]
    assert fw.status == "fail"
    assert codes(fw) == ["RTP_CLOSED_TO_MEDIA"]
    assert fw.reasons[0].params["sources"] == SERVER
    assert [m.code for m in fw.reserves] == ["FW_UNPROVEN_CONFIG_CLOSED"]
    assert statuses(fw) == {(SERVER, "5060"): "unproven", (SERVER, "10000-20000"): "closed"}
    # the cross-check compares only what the traffic could tell: 5060 was not tried
    cross = checks["router.crosscheck"]
    assert cross.status == "pass", cross.reason()
    assert gate_events(tmp_path) == ["verification_fail"]
