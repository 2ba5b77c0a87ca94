"""The call checks against the field lab's operator, which runs nothing of ours: the test
number plays an announcement and never echoes, no one calls the site for us, and rtpengine
anchors every call's media. Inbound calls go by hairpin (another line of the site calls the
DID); the site's own audio to the operator is proven by a hairpin too.

Also: the same checks from the agent's namespace with a profile that has no ``lab:`` section
(what a real site has) give the same verdicts; with the firewall closed the inbound calls fail
with evidence while the outbound ones still pass; with the site's outgoing media dropped at
the router, the silent direction is named although the test number does not echo.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.lab import Lab
from harness.results import RunResults
from sip_checks.hairpin import DID_PORTS
from tests.lab.labrun import codes, run, run_on_site

CALLS = ("sip.call", "sip.capacity")


@pytest.fixture
def healthy(field_lab: Lab) -> Lab:
    field_lab.set_policy(alg=False, firewall="strict")
    return field_lab


def _statuses(doc: RunResults) -> dict[str, str]:
    return {c.id: c.status for c in doc.checks}


@pytest.mark.lab
def test_every_sip_check_passes_against_an_operator_that_runs_nothing_of_ours(
        healthy: Lab, tmp_path: Path) -> None:
    prof = tmp_path / "field.yaml"
    healthy.write_profile(prof)
    proc, doc = run(prof, tmp_path / "out", "sip.options", "sip.register", *CALLS)
    statuses = _statuses(doc)
    assert len(statuses) == 12  # options, 3 registrations, 3 outbound, 4 inbound, capacity
    assert set(statuses.values()) == {"pass"}, [(c.id, c.reason()) for c in doc.checks]
    assert proc.returncode == 0
    for c in doc.checks:
        if c.id.startswith("sip.call.inbound"):
            directions = {q.direction.code: q for q in c.figures.quality}
            assert set(directions) == {"DIR_TO_DID", "DIR_FROM_DID"}
            # Both legs ours: one-way delay measured per direction, not RTT/2.
            assert all(q.one_way_ms is not None and 0 <= q.one_way_ms < 100
                       for q in directions.values())
        if c.id.startswith("sip.call.outbound"):
            assert c.facts["test number"] == "announcement (detected)"
            assert "echo" not in c.facts["DTMF"]
            # The far end's audio is graded; the site's own is proven through a DID.
            assert {q.direction.code for q in c.figures.quality} == {
                "DIR_FAR_TO_SITE", "DIR_TO_DID"}
            assert c.reserves == []


@pytest.mark.lab
def test_a_profile_without_a_lab_section_gives_the_same_verdicts(
        healthy: Lab, tmp_path: Path) -> None:
    """What a real site has: no ``lab:`` section, the run started on the voice LAN."""
    proc, doc = run_on_site(healthy, tmp_path, "--call-seconds", "3",
                            *[a for o in CALLS for a in ("--only", o)])
    assert len(doc.checks) == 8, proc.stderr[-2000:]
    assert set(_statuses(doc).values()) == {"pass"}, [(c.id, c.reason()) for c in doc.checks]
    assert proc.returncode == 0


@pytest.mark.lab
def test_firewall_closed_fails_the_inbound_calls_and_not_the_outbound_ones(
        healthy: Lab, tmp_path: Path) -> None:
    healthy.set_policy(firewall="closed")
    prof = tmp_path / "field.yaml"
    healthy.write_profile(prof)
    try:
        _, doc = run(prof, tmp_path / "out", "sip.call.inbound[+33199000101]",
                     "sip.call.outbound[centrex101]")
    finally:
        healthy.set_policy(firewall="strict")
    inbound = doc.check("sip.call.inbound[+33199000101]")
    outbound = doc.check("sip.call.outbound[centrex101]")
    assert inbound is not None and outbound is not None
    assert inbound.status == "fail" and codes(inbound) == ["HAIRPIN_NOT_DELIVERED"]
    assert inbound.reasons[0].params == {"number": "+33199000101", "caller": "trunk01"}
    assert any(e.kind == "ladder" for e in inbound.evidence)
    assert outbound.status == "pass", outbound.reason()
    # Its uplink could not be followed back in: said, not failed.
    assert [m.code for m in outbound.reserves] == ["UPLINK_NOT_PROVEN_INBOUND"]
    assert [i.symptom.code for i in doc.incidents] == ["HAIRPIN_NOT_DELIVERED"]


@pytest.mark.lab
@pytest.mark.parametrize(("blocked", "named", "graded"), [
    ("out", "NO_AUDIO_FROM_SITE_HAIRPIN", ["DIR_FAR_TO_SITE"]),  # the announcement arrives
    ("in", "NO_AUDIO_TO_SITE", []),  # nothing arrives: no hairpin needed to say so
])
def test_media_dropped_in_one_direction_is_named_with_an_announcement(
        healthy: Lab, tmp_path: Path, blocked: str, named: str, graded: list[str]) -> None:
    prof = tmp_path / "field.yaml"
    healthy.write_profile(prof)
    healthy.impair(loss_pct=100, direction=blocked)
    try:
        proc, doc = run(prof, tmp_path / "out", "sip.call.outbound[centrex101]")
    finally:
        healthy.set_policy()
    (call,) = doc.checks
    assert proc.returncode == 1 and call.status == "fail"
    assert codes(call) == [named], call.reasons
    assert [q.direction.code for q in call.figures.quality] == graded
    assert [i.symptom.code for i in doc.incidents] == [named]


@pytest.mark.lab
def test_a_delay_added_to_one_direction_is_measured_on_that_direction_only(
        healthy: Lab, tmp_path: Path) -> None:
    """40 ms added on the internet to the media the relay sends to the DID's leg (its ports
    are the upper half of the range): the caller→DID direction shows it within 20 %, the
    other direction does not."""
    prof = tmp_path / "field.yaml"
    healthy.write_profile(prof)
    held = healthy.delay_to_site(ms=40, ports=DID_PORTS)
    try:
        _, doc = run(prof, tmp_path / "out", "sip.call.inbound[+33199000101]")
    finally:
        healthy.undelay(held)
    (call,) = doc.checks
    assert call.status == "pass", call.reason()
    by = {q.direction.code: q.one_way_ms for q in call.figures.quality}
    to_did, from_did = by["DIR_TO_DID"], by["DIR_FROM_DID"]
    assert to_did is not None and from_did is not None
    assert 32 <= to_did <= 48, to_did
    assert from_did < 8, from_did
