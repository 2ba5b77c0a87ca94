"""Acceptance: ``security.exposure`` on the reference lab, through the lab's real outsider
probe (in ``out``, signing with the lab's key): the strict lab exposes nothing to the internet,
cold or while an account is registered, and both scans carry the probe's attestation of the
site's public address. (The weak IPBX's expectations are in ``WEAK_EXPECTED`` for the lab that
will have one.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.attest import key_id, verify
from harness.gate.record import site_key
from harness.lab import Lab
from harness.lab.profile import lab_signing_key
from harness.lab.topology import RTR_WAN
from tests.lab.labrun import run

# What the weak lab IPBX must make security.exposure report (ports forwarded by the lab
# router to it): (port, transport) -> the risk's code. For the lead to wire in once
# harness/lab has the weak IPBX; the strict lab must report none of them.
WEAK_EXPECTED = {
    (5060, "udp"): "EXPO_SIP", (5060, "tcp"): "EXPO_SIP", (69, "udp"): "EXPO_TFTP_FILE",
    (80, "tcp"): "EXPO_WEB",
}


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
