"""firewall.openings on an operator whose relay latches (sends media only once the site's
first packet reached it), run as an integrator runs it, every proof checked against the
router's WAN (tests/lab/wan.py).

Every sampled port then sees media only after the site sent, exactly as behind a firewall that
drops it: the traffic cannot tell them apart, so it must not call the firewall closed (a false
fail) nor open (a false pass); the router's configuration decides.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.lab import Lab
from tests.lab.labrun import by_id, codes
from tests.lab.wan import gate_events, judged, statuses

SERVER = "198.51.100.10"


@pytest.fixture(scope="module")
def latching() -> Iterator[Lab]:
    built = Lab.up(prefix=f"rct{secrets.token_hex(2)}", operator="field", shape="latching")
    try:
        yield built
    finally:
        built.down()


@pytest.mark.lab
def test_strict_passes_with_the_range_vouched_for_by_the_configuration(
        latching: Lab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    doc = judged(latching, tmp_path, monkeypatch, firewall="strict")
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
        latching: Lab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    doc = judged(latching, tmp_path, monkeypatch, firewall="strict",
                 profile=lambda data: data.pop("router"),
                 checks=("sip.alg", "firewall.openings"))
    fw = by_id(doc)["firewall.openings"]
    assert fw.status == "error", (fw.status, fw.reason())
    assert codes(fw) == ["FW_MEDIA_LATE"] and fw.reasons[0].params["address"] == SERVER
    assert gate_events(tmp_path) == []
