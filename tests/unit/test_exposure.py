"""security.exposure's judgement (sip_checks/exposure.py) and its annex section: every port an
internet host reaches is a risk said by what answered, a closed or silent port is none, a port
found only after registration says so, a port the deadline cut is unproven; the sheet lists
every port with its state per phase, in French and in English."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from harness.profile import load_profile
from harness.results import STATUSES, CheckResult, ExposurePort, ExposureScan, RunResults
from reports.sheet import front
from reports.sheet.annex import exposure as annex
from reports.sheet.page import Page
from sip_checks import exposure
from sip_checks.probes.exposure import PortAnswer

PROFILE = load_profile(Path(__file__).resolve().parents[1] / "data" / "profiles" / "good"
                       / "inline_secrets.yaml")


def _a(port: int, transport: str, state: str = "open", protocol: str | None = None,
       summary: str = "", **kw: object) -> PortAnswer:
    fields: dict[str, object] = {"tls": False, "tls_subject": None, "server": None,
                                 "title": None, "answer": summary, "redacted": 0, "ms": 3.0,
                                 "note": "", "complete": True, **kw}
    return PortAnswer(port=port, transport=transport, state=state, protocol=protocol,
                      summary=summary, **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(("answer", "code", "said"), [
    (_a(5060, "tcp", protocol="sip", summary="SIP/2.0 200 OK", server="Asterisk PBX 18"),
     "EXPO_SIP", "SIP/2.0 200 OK, Asterisk PBX 18"),
    (_a(69, "udp", protocol="tftp", summary="TFTP DATA block 1, 312 bytes"), "EXPO_TFTP_FILE",
     None),
    (_a(69, "udp", protocol="tftp", summary="TFTP ERROR 1: File not found"), "EXPO_TFTP",
     "TFTP ERROR 1: File not found"),
    (_a(4569, "udp", protocol="iax2", summary="IAX2 PONG"), "EXPO_IAX2", "IAX2 PONG"),
    (_a(8080, "tcp", protocol="http", summary="HTTP/1.1 200 OK", title="FreePBX"),
     "EXPO_WEB", "HTTP/1.1 200 OK, « FreePBX »"),
    (_a(443, "tcp", protocol="tls", tls_subject="CN=ipbx.example"), "EXPO_WEB",
     "CN=ipbx.example"),
    (_a(22, "tcp", protocol="ssh", summary="SSH-2.0-OpenSSH_9.2p1"), "EXPO_SSH",
     "SSH-2.0-OpenSSH_9.2p1"),
    (_a(23, "tcp", protocol="telnet", summary="telnet negotiation"), "EXPO_TELNET", None),
    (_a(1720, "tcp"), "EXPO_VOICE_OPEN", None),
    (_a(5060, "tcp"), "EXPO_VOICE_OPEN", None),  # accepts, says no SIP: still a door
    (_a(8088, "tcp"), "EXPO_OPEN", None),
])
def test_an_open_port_is_a_risk_said_by_what_answered(answer: PortAnswer, code: str,
                                                      said: str | None) -> None:
    risk = exposure.risk(answer)
    assert risk is not None and risk.code == code
    if said is not None:
        assert risk.params["said"] == said
    assert risk.render("fr") and risk.render("en") != risk.render("fr")


@pytest.mark.parametrize("state", ["closed", "filtered", "open|filtered"])
def test_nothing_reached_is_no_risk(state: str) -> None:
    assert exposure.risk(_a(5060, "udp", state)) is None


def test_judge_merges_phases_and_keeps_the_table_order() -> None:
    sip = _a(5060, "udp", protocol="sip", summary="SIP/2.0 200 OK")
    ssh = _a(22, "tcp", protocol="ssh", summary="SSH-2.0-OpenSSH_9.2p1")
    found = exposure.judge({"cold": [ssh, _a(80, "tcp", "closed")],
                            "warm": [sip, ssh, _a(80, "tcp", "closed")]})
    assert [(e.port, e.transport, e.phases) for e in found] == [
        (5060, "udp", ("warm",)), (22, "tcp", ("cold", "warm"))]
    assert found[0].reason().code == "EXPO_AFTER_REGISTRATION"
    assert "(seulement pendant qu'un compte est enregistré" in found[0].reason().render("fr")
    assert found[1].reason().code == "EXPO_SSH"


def test_a_port_the_deadline_cut_is_unproven_unless_it_was_seen_open() -> None:
    cut = replace(_a(5060, "tcp", "filtered"), complete=False)
    seen = replace(_a(80, "tcp", protocol="http", summary="HTTP/1.1 200 OK"), complete=False)
    assert exposure.unproven({"cold": [cut, seen]}) == ["5060/tcp (cold)"]


def test_the_ports_are_those_of_the_issue() -> None:
    assert set(exposure.ports()) == {
        (5060, "udp"), (5060, "tcp"), (5061, "tcp"), (5080, "udp"), (5080, "tcp"),
        (5160, "udp"), (5160, "tcp"), (4569, "udp"), (1720, "tcp"), (2000, "tcp"),
        (69, "udp"), (80, "tcp"), (443, "tcp"), (8080, "tcp"), (8088, "tcp"), (8089, "tcp"),
        (22, "tcp"), (23, "tcp")}


def _page(lang: str) -> Page:
    ssh = _a(22, "tcp", protocol="ssh", summary="SSH-2.0-OpenSSH_9.2p1")
    rows = [ExposurePort(port=22, transport="tcp", state="open", protocol="ssh",
                         answered=exposure.what(ssh), risk=exposure.risk(ssh)),
            ExposurePort(port=5060, transport="udp", state="open|filtered")]
    scans = [ExposureScan(phase="cold", source="198.51.100.20", to="203.0.113.2",
                          seconds=2.4, ports=rows),
             ExposureScan(phase="warm", source="198.51.100.20", to="203.0.113.2",
                          seconds=2.5, ports=[rows[0], ExposurePort(
                              port=5060, transport="udp", state="filtered", complete=False)])]
    check = CheckResult(id="security.exposure", fr="Exposition", en="Exposure", status="fail")
    check.figures.exposure = scans
    results = RunResults(generated="2026-11-25T16:50:32+00:00", customer="c", site="s",
                         operator_server="198.51.100.10", lang=lang,
                         counts={s: int(s == "fail") for s in STATUSES}, checks=[check])
    return Page(results, PROFILE, lang)


def test_annex_lists_every_port_per_phase_with_its_risk() -> None:
    html = annex.render(_page("fr"))
    assert "<h3>Exposition à la fraude" in html
    assert "22/TCP" in html and "5060/UDP" in html
    assert "<b>ouvert</b>" in html and "sans réponse" in html and "filtré (interrompu)" in html
    assert "SSH-2.0-OpenSSH_9.2p1" in html and "SSH (22/TCP : SSH-2.0-OpenSSH_9.2p1)" in html
    assert "non signé" in html and "203.0.113.2" in html
    en = annex.render(_page("en"))
    assert "Toll-fraud exposure" in en and "no answer" in en and "after registration" in en
    assert "SSH (22/TCP: SSH-2.0-OpenSSH_9.2p1) answers from the internet" in en


def test_annex_is_empty_without_scans() -> None:
    page = _page("fr")
    page.results.checks[0].figures.exposure = []
    assert annex.render(page) == ""


def test_the_front_page_says_what_a_fraudster_reaches_in_the_sheets_language() -> None:
    """The block the customer signs under: each port reached once (not once per phase), with
    the check's own sentence; a pass says nothing answered; an error says unverified; the
    gate's rule in every case."""
    fr = front.fraud(_page("fr"))
    assert "<h2>Exposition à la fraude</h2>" in fr and fr.count("<li>") == 1
    assert "22/TCP" in fr and "5060/UDP" not in fr  # no answer on UDP 5060: nothing reached
    assert "24 h après une vérification réussie" in fr
    en = front.fraud(_page("en"))
    assert "From the internet, a fraudster reaches:" in en
    assert "SSH (22/TCP: SSH-2.0-OpenSSH_9.2p1) answers from the internet" in en
    page = _page("fr")
    page.results.checks[0].status = "pass"
    page.results.checks[0].figures.exposure = []
    assert "aucun des ports qu&#x27;un fraudeur essaie ne répond" in front.fraud(page)
    page.results.checks[0].status = "error"
    assert "pas pu être vérifié" in front.fraud(page)
    page.results.checks = []
    assert front.fraud(page) == ""  # the run did not look: the sheet claims nothing
