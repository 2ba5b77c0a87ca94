"""Acceptance: ``security.exposure`` on the reference lab, through the lab's real outsider
probe (in ``out``, signing with the lab's key): the strict lab exposes nothing to the internet,
cold or while an account is registered, and both scans carry the probe's attestation of the
site's public address; a site whose router forwards SIP, the web administration and TFTP to a
weak IPBX (``harness/lab/ipbx.py``) fails, port by port, with what answered."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.attest import key_id, verify
from harness.gate.record import site_key
from harness.lab import Lab
from harness.lab.profile import lab_password, lab_signing_key
from harness.lab.provisioning import PHONE_ACCOUNT
from harness.lab.topology import RTR_WAN
from tests.lab.labrun import run

# What the weak lab IPBX makes security.exposure report (the ports the lab router forwards
# to it, harness/lab/firewall.py IPBX_FORWARDS): (port, transport) -> the risk's code.
WEAK_EXPECTED = {
    (5060, "udp"): "EXPO_SIP", (5060, "tcp"): "EXPO_SIP", (69, "udp"): "EXPO_TFTP_FILE",
    (80, "tcp"): "EXPO_WEB", (8080, "tcp"): "EXPO_WEB",
}


@pytest.fixture(scope="module")
def weak_lab() -> Iterator[Lab]:
    built = Lab.up(prefix=f"rct{secrets.token_hex(2)}", ipbx="weak")
    try:
        yield built
    finally:
        built.down()


@pytest.mark.lab
def test_strict_lab_exposes_nothing(strict_lab: Lab, tmp_path: Path) -> None:
    prof = tmp_path / "lab.yaml"
    strict_lab.write_profile(prof)
    proc, doc = run(prof, tmp_path / "out", "security.exposure")
    (check,) = doc.checks
    assert check.status == "pass", proc.stdout + proc.stderr + repr(check.reasons)
    scans = check.figures.exposure
    assert [s.phase for s in scans] == ["cold", "warm"]
    public_key = strict_lab.probe_keys()["outsider"]
    for s in scans:
        assert len(s.ports) == 18 and all(p.complete for p in s.ports)
        assert {p.state for p in s.ports} <= {"closed", "filtered", "open|filtered"}
        assert all(p.risk is None for p in s.ports)
        assert s.attestation is not None
        signed = verify(s.attestation.model_dump(), {key_id(public_key): public_key})
        assert signed["kind"] == "scan" and signed["target"] == s.to == str(RTR_WAN)
        assert signed["site"] == site_key(strict_lab.profile)
    assert check.facts["cold outsider"] == check.facts["warm outsider"] == "nothing reached"
    written = b"".join(f.read_bytes() for f in (tmp_path / "out").rglob("*") if f.is_file())
    assert lab_signing_key(strict_lab.prefix, "outsider").encode() not in written


@pytest.mark.lab
def test_a_weak_ipbx_forwarded_to_the_internet_fails_port_by_port(weak_lab: Lab,
                                                                   tmp_path: Path) -> None:
    prof = tmp_path / "lab.yaml"
    weak_lab.write_profile(prof)
    proc, doc = run(prof, tmp_path / "out", "security.exposure")
    (check,) = doc.checks
    assert check.status == "fail", proc.stdout + proc.stderr + repr(check.reasons)
    for scan in check.figures.exposure:
        reached = {(p.port, p.transport): p.risk.code for p in scan.ports if p.risk}
        assert reached == WEAK_EXPECTED, (scan.phase, reached)
        sip = next(p for p in scan.ports if (p.port, p.transport) == (5060, "tcp"))
        assert "FPBX" in sip.answered  # what answered: the PBX names itself
    # Every port is a reason of the check, each a sentence of its own.
    assert len(check.reasons) >= len(WEAK_EXPECTED)
    written = b"".join(f.read_bytes() for f in (tmp_path / "out").rglob("*") if f.is_file())
    # The phone's file the IPBX serves by TFTP holds a Centrex password: it is evidence that
    # the file is served, never a copy of the password.
    assert lab_password(weak_lab.prefix, PHONE_ACCOUNT).encode() not in written


@pytest.mark.lab
def test_the_firewall_check_fails_a_forward_to_another_device_of_the_site(
        weak_lab: Lab, tmp_path: Path) -> None:
    """The weak site's router forwards UDP 5060 from anyone to the IPBX, not to the agent:
    the outsider's sweep reaches nothing here, so it once passed. The outsider's OPTIONS,
    answered by the IPBX while the sweep's listener held the agent's 5060, fails it."""
    prof = tmp_path / "lab.yaml"
    weak_lab.write_profile(prof)
    proc, doc = run(prof, tmp_path / "out", "firewall.openings")
    (check,) = doc.checks
    assert check.status == "fail", proc.stdout + proc.stderr
    assert check.facts["cold outsider"].startswith("none [0 ports")  # the sweep saw nothing
    (reason,) = [m for m in check.reasons if m.code == "OPENINGS_ANSWERED_ELSEWHERE"]
    assert reason.params["port"] == 5060 and "FPBX" in str(reason.params["answered"])


@pytest.mark.lab
def test_a_router_whose_web_administration_answers_its_wan_is_caught_twice(
        strict_lab: Lab, tmp_path: Path) -> None:
    """The router's own web administration open to the internet: the audit finds the rule
    (with its line in the ruleset it pulled over SSH), and the outsider reaches the page."""
    strict_lab.set_policy(firewall="strict", admin_wan=True)
    try:
        prof = tmp_path / "lab.yaml"
        strict_lab.write_profile(prof)
        proc, doc = run(prof, tmp_path / "out", "router.audit", "security.exposure")
        audit = next(c for c in doc.checks if c.id == "router.audit")
        exposure = next(c for c in doc.checks if c.id == "security.exposure")
        assert audit.status == "fail", proc.stdout + proc.stderr
        assert "ADMIN_WEB_OPEN" in [m.code for m in audit.reasons], audit.reasons
        findings = "\n".join(i.text for i in audit.evidence)
        assert "ADMIN_WEB_OPEN" in findings and "tcp dport 80 accept" in findings, findings[:3000]
        assert exposure.status == "fail"
        for scan in exposure.figures.exposure:
            reached = {(p.port, p.transport): p for p in scan.ports if p.risk}
            assert set(reached) == {(80, "tcp")}, (scan.phase, sorted(reached))
            assert "Router administration" in reached[80, "tcp"].answered
    finally:
        strict_lab.set_policy(firewall="strict")
