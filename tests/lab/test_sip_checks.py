"""Acceptance of the SIP checks on the lab: registration, calls, capacity, failures."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from harness.incidents import row
from harness.lab import Lab
from harness.results import load_results
from tests.lab.labrun import by_id, codes, recette, run


@pytest.mark.lab
def test_registration_and_calls_pass_with_alg_off(strict_lab: Lab, tmp_path: Path) -> None:
    prof = tmp_path / "lab.yaml"
    strict_lab.write_profile(prof)
    proc, doc = run(prof, tmp_path / "out", "sip.register", "sip.call")
    checks = by_id(doc)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert sorted(checks) == sorted(
        [f"sip.register[{a}]" for a in ("trunk01", "centrex101", "centrex102")]
        + [f"sip.call.outbound[{a}]" for a in ("trunk01", "centrex101", "centrex102")]
        + [f"sip.call.inbound[{d}]" for d in ("+33199000001", "+33199000002",
                                              "+33199000101", "+33199000102")])
    assert {c.status for c in checks.values()} == {"pass"}
    reg = checks["sip.register[trunk01]"].facts
    assert reg["expires granted"].startswith("300 s")
    assert reg["public address seen by the registrar"] == "192.0.2.2:5060"
    for cid, c in checks.items():
        if ".call." not in cid:
            continue
        assert c.facts["codec"] == "PCMA (telephone-event PT 101)"
        assert "received from the far end '1#'" in c.facts["DTMF"]
        directions = {q.direction.code for q in c.figures.quality}
        assert directions == {"DIR_FAR_TO_SITE", "DIR_ECHO"}
        for q in c.figures.quality:
            assert q.received > 100 and q.loss_pct == 0 and q.grade == "good"
    assert "sent '2580', echoed back '2580'" in checks["sip.call.outbound[trunk01]"].facts[
        "DTMF"]
    ladder = next(e.text for e in checks["sip.call.outbound[trunk01]"].evidence
                  if e.kind == "ladder")
    assert "407 Proxy Authentication Req" in ladder and "BYE" in ladder
    assert (tmp_path / "out" / "incidents.csv").read_text().count("\n") == 1  # header only


@pytest.mark.lab
def test_wrong_password_fails_and_names_the_status(strict_lab: Lab, tmp_path: Path) -> None:
    prof = tmp_path / "lab.yaml"
    strict_lab.write_profile(prof)
    data = yaml.safe_load(prof.read_text())
    data["trunks"][0]["password"] = "not-the-password"
    prof.write_text(yaml.safe_dump(data))
    proc, doc = run(prof, tmp_path / "out", "sip.register")
    checks = by_id(doc)
    assert proc.returncode == 1
    bad = checks["sip.register[trunk01]"]
    assert bad.status == "fail"
    assert [(m.code, m.params) for m in bad.reasons] == [
        ("REGISTER_REFUSED_AUTH", {"account": "trunk01", "status": 401,
                                   "reason": "Unauthorized"})]
    assert checks["sip.register[centrex101]"].status == "pass"
    assert "not-the-password" not in (tmp_path / "out" / "results.json").read_text()


@pytest.mark.lab
def test_inbound_calls_fail_with_evidence_when_firewall_closed(strict_lab: Lab,
                                                               tmp_path: Path) -> None:
    strict_lab.set_policy(firewall="closed")
    prof = tmp_path / "lab.yaml"
    strict_lab.write_profile(prof)
    proc, doc = run(prof, tmp_path / "out", "sip.call.inbound[+33199000001]",
                    "sip.call.inbound[+33199000101]")
    checks = by_id(doc)
    assert proc.returncode == 1
    assert len(checks) == 2
    for cid, c in checks.items():
        assert c.status == "fail", c
        (said,) = c.reasons
        assert said.code == "INBOUND_NEVER_ARRIVED", said
        assert f"[{said.params['number']}]" in cid
        assert c.facts["operator-side caller"] == "got 408"
        caller = next(e.text for e in c.evidence if e.title == "operator-side caller")
        assert "SIP/2.0 408" in caller
    rows = (tmp_path / "out" / "incidents.csv").read_text().splitlines()
    assert len(rows) == 3
    assert rows[1].split(" ; ")[2:4] == ["+33100000000", "+33199000001"]


@pytest.mark.lab
def test_capacity_sixty_channels_connect_and_the_sixty_first_is_refused(strict_lab: Lab,
                                                                       tmp_path: Path) -> None:
    """A 60-channel trunk (the operator's sizing rule: 180 staff): 60 calls set up at the
    profile's rate, all up together with good audio both ways, and the 61st refused by the
    operator, while the other lab tests load the machine."""
    prof = tmp_path / "lab.yaml"
    strict_lab.set_channels(60)
    try:
        strict_lab.write_profile(prof)
        data = yaml.safe_load(prof.read_text())
        data["operator"]["max_cps"] = 20  # the lab's SBC takes 20 calls/s: a 3 s ramp
        prof.write_text(yaml.safe_dump(data, sort_keys=False))
        proc, doc = run(prof, tmp_path / "out", "sip.capacity")
    finally:
        strict_lab.set_channels(10)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (cap,) = doc.checks
    assert cap.status == "pass", cap.reason()
    assert cap.facts["connected"] == "60/60"
    assert cap.facts["call rate"].startswith("20 calls/s")
    assert cap.facts["up at once"].startswith("60 of 60")
    assert cap.facts["call 61"] == "486 Busy Here - all channels in use"
    assert cap.figures.extra_call_status == 486
    assert len(cap.figures.quality) == 120
    assert all(q.grade == "good" for q in cap.figures.quality)


@pytest.mark.lab
def test_a_hundred_centrex_accounts_register_and_call_in_one_run(strict_lab: Lab,
                                                                 tmp_path: Path) -> None:
    """A large hosted-PBX site: the trunk and 100 Centrex accounts registered, each account
    calling out to the test number and called in on its DID, in one run: 304 checks."""
    prof = tmp_path / "lab.yaml"
    strict_lab.set_centrex(100)
    try:
        strict_lab.write_profile(prof)
        proc, doc = run(prof, tmp_path / "out", "sip.register", "sip.call")
    finally:
        strict_lab.set_centrex(2)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    checks = by_id(doc)
    assert len(checks) == 101 + 101 + 102  # registrations, outbound calls, inbound per DID
    assert {c.status for c in checks.values()} == {"pass"}
    for ident in ("sip.register[centrex200]", "sip.call.outbound[centrex200]",
                  "sip.call.inbound[+33199000200]"):
        assert ident in checks


@pytest.mark.lab
def test_a_load_test_beyond_the_contract_shows_where_the_operator_stops(strict_lab: Lab,
                                                                       tmp_path: Path) -> None:
    """``--channels 12`` on the lab's 10-channel trunk: refused in one line before any call,
    then, with ``--beyond-contract``, twelve calls set up and the operator refusing the two
    beyond its contract: a failure naming them, no "one more" call of its own."""
    prof = tmp_path / "lab.yaml"
    strict_lab.write_profile(prof)
    refused = recette("run", "--profile", str(prof), "--out", str(tmp_path / "no"),
                      "--only", "sip.capacity", "--channels", "12")
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert refused.stderr.startswith("recette: --channels 12: above the 10 channels ordered")
    assert len(refused.stderr.splitlines()) == 1 and not (tmp_path / "no").exists()
    out = tmp_path / "out"
    proc = recette("run", "--profile", str(prof), "--out", str(out), "--call-seconds", "3",
                   "--only", "sip.capacity", "--channels", "12", "--beyond-contract")
    (cap,) = load_results(out / "results.json").checks
    assert proc.returncode == 1 and cap.status == "fail", proc.stdout + proc.stderr
    assert cap.facts["channels ordered"] == "10"
    assert cap.facts["load test"].startswith("12 calls")
    assert cap.facts["connected"] == "10/12"
    assert "486" in str(cap.reasons[0].params)
    assert "call 13" not in cap.facts and cap.figures.extra_call_status is None


@pytest.mark.lab
def test_sha256_digest_is_answered_when_the_registrar_offers_it(strict_lab: Lab,
                                                                tmp_path: Path) -> None:
    prof = tmp_path / "lab.yaml"
    strict_lab.write_profile(prof)
    strict_lab.set_digest("SHA-256")
    try:
        proc, doc = run(prof, tmp_path / "out", "sip.register[centrex101]")
    finally:
        strict_lab.set_digest("MD5")
    (reg,) = doc.checks
    assert proc.returncode == 0, reg.reason()
    assert reg.facts["digest"] == "SHA-256"
    messages = next(e.text for e in reg.evidence if e.kind == "messages")
    assert "algorithm=SHA-256" in messages


@pytest.mark.lab
@pytest.mark.parametrize(("blocked", "named"), [
    ("in", "NO_AUDIO_TO_SITE"),  # far end→site silent: no RTP received at all
    ("out", "NO_AUDIO_FROM_SITE"),  # the far end's audio arrives, our own never comes back
])
def test_one_way_audio_names_the_silent_direction(strict_lab: Lab, tmp_path: Path,
                                                  blocked: str, named: str) -> None:
    prof = tmp_path / "lab.yaml"
    strict_lab.write_profile(prof)
    strict_lab.impair(loss_pct=100, direction=blocked)
    try:
        proc, doc = run(prof, tmp_path / "out", "sip.call.outbound[centrex101]")
    finally:
        strict_lab.set_policy()
    (call,) = doc.checks
    assert proc.returncode == 1
    assert call.status == "fail"
    assert codes(call) == [named], call.reasons
    rows = (tmp_path / "out" / "incidents.csv").read_text().splitlines()
    assert len(rows) == 2 and rows[1].split(" ; ")[2:4] == ["centrex101", "0899000000"]
    (incident,) = doc.incidents
    assert incident.symptom.code == named
    assert rows[1] == row(incident, doc.lang)  # the symptom, in the run's language
