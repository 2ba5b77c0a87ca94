"""firewall.openings on an operator whose relay latches (sends media only once the site's
first packet reached it), run as an integrator runs it, every proof checked against the
router's WAN (tests/lab/wan.py).

Every sampled port then sees media only after the site sent, exactly as behind a firewall that
drops it: the traffic cannot tell them apart, so it must not call the firewall closed (a false
fail) nor open (a false pass); the router's configuration decides.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.lab import Lab
from tests.lab.labrun import by_id, codes
from tests.lab.wan import gate_events, judged, statuses

SERVER = "198.51.100.10"


@pytest.mark.lab
def test_strict_passes_with_the_range_vouched_for_by_the_configuration(
        latching_lab: Lab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    doc = judged(latching_lab, tmp_path, monkeypatch, firewall="strict")
    fw = by_id(doc)["firewall.openings"]
    assert fw.status == "pass", (fw.reason(), fw.reserves)
    traffic = fw.figures.operator_traffic
    assert traffic is not None
    inside = [s for s in traffic.samples if 10000 <= s.port <= 20000]
    assert {s.outcome for s in inside} == {"closed"}  # media only after the site's
    assert statuses(fw) == {(SERVER, "5060"): "proven", (SERVER, "10000-20000"): "vouched"}
    assert fw.facts["evidence"] == "operator traffic, outsider sweep, router configuration"
    assert gate_events(tmp_path) == ["verification_pass"]


@pytest.mark.lab
def test_without_the_routers_configuration_it_is_an_error_not_a_fail(
        latching_lab: Lab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    doc = judged(latching_lab, tmp_path, monkeypatch, firewall="strict",
                 profile=lambda data: data.pop("router"),
                 checks=("sip.alg", "firewall.openings"))
    fw = by_id(doc)["firewall.openings"]
    assert fw.status == "error", (fw.status, fw.reason())
    assert codes(fw) == ["FW_MEDIA_LATE"] and fw.reasons[0].params["address"] == SERVER
    assert gate_events(tmp_path) == []


@pytest.mark.lab
def test_closed_fails_the_configuration_agreeing_with_the_late_media(
        latching_lab: Lab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    doc = judged(latching_lab, tmp_path, monkeypatch, firewall="closed")
    fw = by_id(doc)["firewall.openings"]
    assert fw.status == "fail"
    assert codes(fw) == ["SIP_CLOSED_TO_SERVER", "RTP_CLOSED_TO_MEDIA"]
    assert statuses(fw) == {(SERVER, "5060"): "closed", (SERVER, "10000-20000"): "closed"}
    # late media alone cannot say closed (the relay waits); with the configuration it can
    (rtp,) = [r for r in fw.figures.operator_addresses if r.ports == "10000-20000"]
    assert rtp.basis == "operator traffic and router configuration"
    assert gate_events(tmp_path) == ["verification_fail"]
