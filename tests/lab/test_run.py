"""Acceptance: ``recette run`` on the lab writes the report files with real verdicts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from harness import netns
from harness.lab import Lab
from harness.profile import load_profile
from harness.results import load_results

REPO = Path(__file__).resolve().parents[2]


def _recette(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harness.cli", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=120)


def _outputs_contain(folder: Path, secrets: list[str]) -> list[str]:
    hits = []
    for f in folder.rglob("*"):
        if f.is_file():
            data = f.read_bytes()
            hits += [f"{f.name}" for s in secrets if s.encode() in data]
    return hits


@pytest.mark.lab
def test_run_on_lab_passes_options_and_writes_reports(strict_lab: Lab, tmp_path: Path) -> None:
    prof = tmp_path / "lab.yaml"
    strict_lab.write_profile(prof)
    out = tmp_path / "out"
    proc = _recette("run", "--profile", str(prof), "--out", str(out), "--only", "sip.options")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = load_results(out / "results.json")
    options = doc.check("sip.options")
    assert options is not None and options.status == "pass"
    assert "SIP/2.0 200 OK" in options.evidence[0].text
    html = (out / "report.html").read_text()
    assert "sip.options" in html and "Conforme" in html and "Laboratoire recette" in html
    assert '<script src="http' not in html and '<link rel="stylesheet" href' not in html
    junit = (out / "junit.xml").read_text()
    assert "check_sip_options" in junit and 'failures="0"' in junit
    assert f"report: {(out / 'report.html').resolve()}" in proc.stdout
    sheet = (out / "sheet.html").read_text()
    assert "Feuille de recette" in sheet and "Prononcé de la recette" in sheet
    assert "<script" not in sheet and 'src="http' not in sheet
    assert (out / "sheet.pdf").read_bytes().startswith(b"%PDF")
    # The profile as tested is kept beside the report, masked, and still loads.
    kept = load_profile(out / "profile.yaml")
    assert kept.trunks[0].dids == strict_lab.profile.trunks[0].dids
    assert '"<redacted>"' in (out / "profile.yaml").read_text()
    assert _outputs_contain(out, strict_lab.profile.secrets()) == []


@pytest.mark.lab
def test_run_with_operator_server_stopped_is_never_pass(strict_lab: Lab, tmp_path: Path) -> None:
    prof = tmp_path / "lab.yaml"
    strict_lab.write_profile(prof)
    strict_lab.stop_kamailio()
    try:
        out = tmp_path / "out"
        proc = _recette("run", "--profile", str(prof), "--out", str(out), "--only",
                        "sip.options")
        assert proc.returncode == 1, proc.stdout + proc.stderr
        doc = load_results(out / "results.json")
        (options,) = doc.checks
        assert options.status in ("error", "fail")
        assert [m.params.get("server") for m in options.reasons] == ["198.51.100.10:5060"], \
            options.reasons
        junit = (out / "junit.xml").read_text()
        assert 'errors="1"' in junit and 'failures="0"' in junit
        assert "Erreur" in (out / "report.html").read_text()
    finally:
        strict_lab.start_kamailio()


@pytest.mark.lab
def test_run_with_outbound_sip_dropped_is_error(strict_lab: Lab, tmp_path: Path) -> None:
    """Outbound SIP silently dropped: the check waits its timeout and reports the causes."""
    prof = tmp_path / "lab.yaml"
    strict_lab.write_profile(prof)
    netns.run(strict_lab.ns("rtr"), ["nft", "insert", "rule", "inet", "recette_filter",
                                     "forward", "udp", "dport", "5060", "drop"])
    out = tmp_path / "out"
    proc = _recette("run", "--profile", str(prof), "--out", str(out), "--only", "options")
    assert proc.returncode == 1
    (options,) = load_results(out / "results.json").checks
    assert options.status == "error"
    (said,) = options.reasons
    assert said.code == "NO_RESPONSE", said
    assert (said.params["server"], said.params["seconds"]) == ("198.51.100.10:5060", 8)
    assert "firewall" in said.text and "SIP ALG" in said.text  # the likely causes


def test_run_refuses_a_broken_profile_in_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("customer: {name: x, integrator: y}\nsite: {name: s, address: a}\n")
    proc = _recette("run", "--profile", str(bad), "--out", str(tmp_path / "o"))
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"recette: {bad}:1: operator: required field is missing"
    ]
    assert not (tmp_path / "o").exists()


def test_run_on_a_lab_that_is_down_says_so(tmp_path: Path) -> None:
    prof = tmp_path / "lab.yaml"
    prof.write_text(
        (REPO / "profiles" / "example.yaml").read_text()
        .replace("password_env: RECETTE_TRUNK_MAIN_PASSWORD", "password: x1")
        .replace("password_env: RECETTE_CENTREX101_PASSWORD", "password: x2")
        .replace("password_env: RECETTE_ROUTER_PASSWORD", "password: x3")
        + "lab:\n  prefix: rctdead\n  agent_netns: rctdead-lan\n"
    )
    proc = _recette("run", "--profile", str(prof), "--out", str(tmp_path / "o"))
    assert proc.returncode == 2
    assert proc.stderr == (
        f"recette: {prof}: lab.agent_netns: namespace rctdead-lan does not exist; is the lab "
        "up? (`recette lab status`, `recette lab up`)\n"
    )
