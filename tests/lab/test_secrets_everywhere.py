"""No secret of the profile reaches any output file: every check, on a lab that fails most of
them (ALG on, firewall open), so that error paths and evidence are exercised too."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.lab import Lab
from tests.lab.labrun import run


@pytest.mark.lab
def test_no_lab_secret_in_any_output(strict_lab: Lab, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECETTE_GATE_URL", f"sqlite:///{tmp_path / 'gate.db'}")
    strict_lab.set_policy(alg=True, firewall="open")
    prof = tmp_path / "lab.yaml"
    strict_lab.write_profile(prof)
    secrets = strict_lab.profile.secrets()
    assert len(secrets) >= 5  # 3 SIP accounts, the router, the probes
    out = tmp_path / "out"
    proc, doc = run(prof, out, "--nat-idle-max", "5", call_seconds=2)
    assert proc.returncode == 1
    assert doc.counts["fail"] >= 3  # ALG, firewall, router audit at least
    files = [f for f in out.rglob("*") if f.is_file()]
    assert {f.name for f in files} >= {"report.html", "results.json", "junit.xml",
                                       "incidents.csv"}
    for f in files:
        data = f.read_bytes()
        for s in secrets:
            assert s.encode() not in data, f"{s[:3]}… leaked into {f.name}"
    for stream in (proc.stdout, proc.stderr):
        assert not any(s in stream for s in secrets)
