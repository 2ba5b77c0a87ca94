"""Acceptance: the firewall proved without a probe at the operator (field lab: Kamailio +
rtpengine, only an outsider probe, the profile has no ``vantage_points.server``).

What proves it is the operator's own traffic (its INVITE on a new flow to 5060, its relay's
media on SDP ports we chose and kept silent), the outsider's sweep and the router's
configuration; every firewall the lab router can be given is judged truly from them.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness import lab as labmod
from harness.lab import Lab
from harness.portset import fmt
from harness.results import CheckResult, RunResults
from sip_checks.probes.media_ports import OUTSIDE
from tests.lab.labrun import assert_sweeps_attested, by_id, codes, run
from tests.lab.wan import assert_proofs_true, uploaded, wan_capture

CHECKS = ("router.audit", "firewall.openings", "router.crosscheck")
MEDIA_IP = "198.51.100.30"


def _run(lab: Lab, tmp: Path, monkeypatch: pytest.MonkeyPatch, *also: str) -> RunResults:
    """The three checks (and ``also``), with the router's WAN recorded: every proof of the
    firewall check is then checked against what crossed it."""
    prof = tmp / "field.yaml"
    lab.write_profile(prof)
    assert yaml.safe_load(prof.read_text())["vantage_points"].get("server") is None
    with wan_capture(lab, tmp / "wan.pcapng") as packets:
        _, doc = run(prof, tmp / "out", *CHECKS, *also)
    fw = by_id(doc)["firewall.openings"]
    if fw.figures.operator_traffic is not None:
        assert_proofs_true(fw, packets)
    return doc


def _judged(lab: Lab, tmp: Path, monkeypatch: pytest.MonkeyPatch,
            **policy: Any) -> CheckResult:
    """firewall.openings with the router set to ``policy``, then back to strict."""
    lab.set_policy(alg=False, **policy)
    try:
        return by_id(_run(lab, tmp, monkeypatch))["firewall.openings"]
    finally:
        lab.set_policy(alg=False, firewall="strict")


def _samples(check: CheckResult) -> dict[int, str]:
    traffic = check.figures.operator_traffic
    assert traffic is not None, check.facts
    return {s.port: s.outcome for s in traffic.samples}


@pytest.fixture
def healthy(field_lab: Lab) -> Lab:
    field_lab.set_policy(alg=False, firewall="strict")
    return field_lab


@pytest.mark.lab
def test_strict_passes_on_operator_traffic_and_the_outsider(
        healthy: Lab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # With security.exposure: the console starts the wait only beside its attested pass.
    checks = by_id(_run(healthy, tmp_path, monkeypatch, "security.exposure"))
    assert {c: checks[c].status for c in CHECKS} == dict.fromkeys(CHECKS, "pass"), \
        {c: checks[c].reason() for c in CHECKS}
    fw = checks["firewall.openings"]
    traffic = fw.figures.operator_traffic
    assert traffic is not None
    # The INVITE came from the operator's outbound socket to the forwarded port: a flow the
    # site never opened (its REGISTER went to 5060).
    assert traffic.sip_proven is True and traffic.sip_source == f"{labmod.OP_SERVER}:5062"
    samples = _samples(fw)
    inside = {p: o for p, o in samples.items() if p not in OUTSIDE}
    assert {10000, 20000} <= set(inside) and len(inside) == 10
    assert set(inside.values()) == {"open"}
    assert {samples[p] for p in OUTSIDE} == {"closed"}
    for s in traffic.samples:  # every sample's media came from the relay on the server IP
        assert {src.rsplit(":", 1)[0] for src in s.sources} == {str(labmod.OP_SERVER)}
    assert fw.facts["evidence"] == "operator traffic, outsider sweep"
    assert fw.facts["cold outsider"].startswith("none [0 ports")
    assert fw.facts["warm outsider"].startswith("none [0 ports")
    assert fw.reserves == []
    # The outsider signed both sweeps (the field lab has no server probe), to the address
    # the registrar saw the site at.
    assert healthy.probe_keys().keys() == {"outsider"}
    public = fw.figures.public_address
    assert public is not None and public.seen_by == "registrar"
    assert_sweeps_attested(healthy, fw, tmp_path)
    # The gate's record says which evidence the pass rests on.
    (event,) = uploaded(tmp_path, healthy)
    assert event.kind == "verification_pass", event.detail["refused"]
    assert event.detail["evidence"] == "operator traffic, outsider sweep"
    assert [a["phase"] for a in event.detail["attested"]] == ["cold", "warm"]
    assert "the operator's own traffic (its INVITE, its media on sampled ports)" \
        in event.detail["declared"]
    # The cross-check compared the configuration on the sampled ports.
    cross = checks["router.crosscheck"].figures.crosscheck
    assert cross is not None and cross.measured.tested is not None
    assert set(cross.measured.tested) == {5060, *samples}


@pytest.mark.lab
def test_open_fails_with_the_outsider_ports(
        field_lab: Lab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fw = _judged(field_lab, tmp_path, monkeypatch, firewall="open")
    assert fw.status == "fail"
    assert codes(fw) == ["OPENINGS_TO_OUTSIDER", "OPENINGS_TO_OUTSIDER"]
    assert {m.params["ports"] for m in fw.reasons} == {"5060, 10000-20000"}
    assert {m.params["source"] for m in fw.reasons} == {str(labmod.OUTSIDER)}


@pytest.mark.lab
def test_closed_fails_naming_the_sampled_server_ports(
        field_lab: Lab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fw = _judged(field_lab, tmp_path, monkeypatch, firewall="closed")
    assert fw.status == "fail"
    assert codes(fw) == ["SIP_CLOSED_TO_SERVER", "RTP_CLOSED_TO_MEDIA"]
    samples = _samples(fw)
    inside = sorted(p for p in samples if p not in OUTSIDE)
    assert {samples[p] for p in inside} == {"closed"}  # the test number's media, dropped
    rtp = fw.reasons[1]
    assert rtp.params == {"sources": str(labmod.OP_SERVER), "ports": fmt(inside)}
    assert fw.figures.operator_traffic is not None
    assert fw.figures.operator_traffic.sip_proven is None


@pytest.mark.lab
def test_rtp_forwarded_only_up_to_15000_fails_naming_the_ports_above(
        field_lab: Lab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fw = _judged(field_lab, tmp_path, monkeypatch, firewall="strict", rtp=(10000, 15000))
    assert fw.status == "fail"
    samples = _samples(fw)
    above = sorted(p for p in samples if 15000 < p <= 20000)
    assert len(above) >= 4 and 20000 in above
    assert codes(fw) == ["RTP_CLOSED_TO_MEDIA"]
    assert fw.reasons[0].params == {"sources": str(labmod.OP_SERVER), "ports": fmt(above)}
    assert {samples[p] for p in samples if 10000 <= p <= 15000} == {"open"}


@pytest.mark.lab
def test_media_relay_on_an_address_nothing_allows_fails_naming_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """rtpengine on 198.51.100.30; the router admits only the SIP server's address."""
    built = Lab.up(prefix=f"rct{secrets.token_hex(2)}", operator="field", media_ip=MEDIA_IP)
    try:
        fw = by_id(_run(built, tmp_path, monkeypatch))["firewall.openings"]
    finally:
        built.down()
    assert fw.status == "fail"
    assert "RTP_CLOSED_TO_MEDIA" in codes(fw)
    (rtp,) = (m for m in fw.reasons if m.code == "RTP_CLOSED_TO_MEDIA")
    assert rtp.params["sources"] == MEDIA_IP
    assert fw.facts["operator media sources"] == MEDIA_IP


@pytest.mark.lab
def test_run_from_another_host_than_the_ipbx_is_an_error_not_a_fail(
        field_lab: Lab, tmp_path: Path) -> None:
    """The router forwards the voice ports to the IPBX: a laptop beside it would see every
    port closed. The check says where to run from instead of failing the site."""
    prof = tmp_path / "field.yaml"
    field_lab.write_profile(prof)
    data = yaml.safe_load(prof.read_text())
    data["router"]["ipbx"] = "192.168.254.20"
    prof.write_text(yaml.safe_dump(data))
    _, doc = run(prof, tmp_path / "out", "firewall.openings")
    (fw,) = doc.checks
    assert fw.status == "error"
    assert [(m.code, m.params) for m in fw.reasons] == [
        ("AGENT_NOT_IPBX", {"ipbx": "192.168.254.20", "agent": "192.168.254.10"})]


@pytest.mark.lab
def test_an_operator_that_cannot_be_sampled_is_an_error_and_nothing_reaches_the_gate(
        healthy: Lab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The operator is silent (its SIP server down) and the profile gives no router to read:
    the outsider's clean sweep proves only "closed to others", so the check is an error
    naming each operator address it could not prove, and the gate learns nothing."""
    prof = tmp_path / "field.yaml"
    healthy.write_profile(prof)
    data = yaml.safe_load(prof.read_text())
    del data["router"]
    prof.write_text(yaml.safe_dump(data))
    healthy.stop_kamailio()
    try:
        _, doc = run(prof, tmp_path / "out", "firewall.openings")
    finally:
        healthy.start_kamailio()
    (fw,) = doc.checks
    assert fw.status == "error", (fw.status, fw.reason())
    server = str(labmod.OP_SERVER)
    assert [(m.code, m.params["address"], m.params["ports"]) for m in fw.reasons] == [
        ("FW_NOT_SAMPLED", server, "UDP 5060")]
    assert [(m.code, m.params["address"], m.params["ports"]) for m in fw.reserves] == [
        ("FW_NOT_SAMPLED", server, "UDP 10000-20000")]
    assert fw.facts["operator traffic"].startswith("not sampled")
    assert fw.facts["cold outsider"].startswith("none [0 ports")  # the sweep ran, clean
    assert fw.facts[f"{server} UDP 5060"] == "unproven"
    assert fw.facts["recorded for the international option"].startswith("no")
    assert uploaded(tmp_path, healthy) == []
