"""The acceptance sheet: what signatories and experts read, self-contained, printable.

No lab here: the sheet is built from hand-written but realistic results (and from a trimmed
real ``results.json`` in ``tests/data``: a lab run with SIP ALG on and the firewall open, eight
of seventeen checks, the SIP messages and the collected router configuration dropped, the
sweeps' open ports cut at 10099), then rendered by headless Chromium to PNG and PDF, as the
integrator would print it. Needs Debian's ``chromium`` and ``poppler-utils`` (pdftotext).
The sections one by one, without Chromium, are in ``tests/unit/test_sheet_sections.py``.
"""

from __future__ import annotations

import html as htmlmod
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from harness.errors import RecetteError
from harness.messages import Msg, msg
from harness.profile import Profile
from harness.results import (
    STATUSES,
    AlgChange,
    AlgProbe,
    CheckResult,
    Figures,
    Finding,
    IncidentRow,
    Item,
    QualityRow,
    RunResults,
    Status,
    Sweep,
    load_results,
)
from reports import pdf, sheet

Grade = Any  # QualityRow.grade's Literal
DATA = Path(__file__).resolve().parents[1] / "data"

LADDER = """   t (ms)  192.168.254.10:5060                                                remote
      0.0                 ──────────────── INVITE ────────────────▶  198.51.100.10:5060
      1.2                 ◀── 407 Proxy Authentication Req (INVITE) ──  198.51.100.10:5060
      3.1                 ◀───────────── 180 Ringing (INVITE) ──────────  198.51.100.10:5060
      4.2                 ◀─────────────── 200 OK (INVITE) ─────────────  198.51.100.10:5060"""

HOSTILE = "<script>alert('x')</script> <img src=https://evil.example/x.png>"


def _profile() -> Profile:
    return Profile.model_validate({
        "customer": {"name": "Boulangerie Martin SARL", "siret": "73282932000074",
                     "integrator": "Telecom Services Ouest", "technician": "Julie Garnier"},
        "site": {"name": "Rennes - atelier", "address": "12 rue de la Monnaie, 35000 Rennes"},
        "operator": {"sip_server": {"ip": "198.51.100.10", "domain": "sip.operator.example"}},
        "trunks": [{"name": "trunk-main", "user": "0299000000", "password": "not-shown",
                    "dids": ["+33299000001", "+33299000002"], "channels": 10}],
        "centrex": [{"name": "accueil", "user": "centrex101", "password": "not-shown",
                     "did": "+33299000101"}],
    })


def _quality(direction: str, loss: float, jitter: float, grade: Grade,
             problems: list[Msg]) -> QualityRow:
    return QualityRow(direction=msg(direction), sent=500, received=500 - int(loss * 5),
                      expected=500, loss_pct=loss, jitter_ms=jitter, jitter_max_ms=jitter * 3,
                      rtt_ms=12.5, one_way_ms=6.2, r=92.1 if grade == "good" else 61.0,
                      mos=4.4 if grade == "good" else 3.1, grade=grade, problems=problems)


def _check(ident: str, fr: str, en: str, status: Status = "pass", *reasons: Msg,
           **extra: Any) -> CheckResult:
    return CheckResult(id=ident, fr=fr, en=en, status=status, reasons=list(reasons),
                       duration_s=1.2, **extra)


LOSS = msg("Q_LOSS", value="4.00", limit=1)
POOR = msg("POOR_QUALITY", problems=[LOSS])
FW_OPEN = msg("FW_OPEN_TO_OTHERS", ports="5060, 10000-20000", who=[msg("WHO_ANY")],
              allowed="198.51.100.10")
GATEWAY = msg("DHCP_COVERS_GATEWAY", pool="voice", start="192.168.254.1",
              end="192.168.254.200", gateway="192.168.254.1")


def _results() -> RunResults:
    checks = [
        _check("sip.options", "Le serveur SIP de l'opérateur répond à OPTIONS",
               "The operator's SIP server answers OPTIONS"),
        _check("sip.call.outbound[trunk-main]", "Appel sortant vers le numéro de test",
               "Outbound call to the test number", "fail", POOR,
               evidence=[Item(title="SIP: ladder", text=LADDER, kind="ladder"),
                         Item(title="SIP: messages", text="INVITE sip:+33899000000@...",
                              kind="messages")],
               figures=Figures(quality=[
                   _quality("DIR_FAR_TO_SITE", 4.0, 41.0, "bad",
                            [LOSS, msg("Q_JITTER", value="41.0", limit=30)]),
                   _quality("DIR_ECHO", 0.0, 2.5, "good", [])])),
        _check("sip.capacity[trunk-main]", "Capacité : canaux simultanés",
               "Capacity: simultaneous channels", "error",
               msg("PROBE_REFUSED", vantage=msg("VANTAGE_SERVER"), where="198.51.100.20",
                   path="/call", status=500, detail=HOSTILE)),
        _check("sip.alg", "Absence de SIP ALG", "No SIP ALG", "fail",
               msg("ALG_REWRITES", elements="Contact, SDP c="),
               figures=Figures(alg=[
                   AlgProbe(direction="site→operator", method="INVITE", proto="udp", port=5060,
                            delivered=True, changes=[
                                AlgChange(element="Contact", before="<sip:101@192.168.254.10>",
                                          after="<sip:101@192.0.2.2:1024>"),
                                AlgChange(element="SDP c=", before="IN IP4 192.168.254.10",
                                          after="IN IP4 192.0.2.2")]),
                   AlgProbe(direction="operator→site", method="INVITE", proto="tcp", port=5062,
                            delivered=True)])),
        _check("firewall.openings", "Pare-feu : UDP 5060 et 10000-20000",
               "Firewall: UDP 5060 and 10000-20000", "fail",
               msg("OPENINGS_TO_OUTSIDER", phase=msg("PHASE_COLD"), ports="5060, 10000-20000",
                   source="203.0.113.66"),
               # Two reserves on one path: the first one used to be overwritten by the second.
               reserves=[msg("MEDIA_ELSEWHERE", addresses="198.51.100.30"),
                         msg("SIP_ELSEWHERE", address="198.51.100.11")],
               facts={"cold server": "5060, 10000-20000 [10002 ports]"},
               figures=Figures(sweeps=[
                   Sweep(vantage="server", phase="cold", source="198.51.100.10",
                         open=[5060, *range(10000, 20001)], sent=20010, seconds=0.4),
                   Sweep(vantage="outsider", phase="cold", source="203.0.113.66",
                         open=[5060, *range(10000, 20001)], sent=20010, seconds=0.4)],
                   media_sources=["198.51.100.10", "198.51.100.30"])),
        _check("router.audit", "Audit du routeur", "Router audit", "fail", FW_OPEN,
               evidence=[Item(title="FW_OPEN_TO_OTHERS", kind="config",
                              ref="nft:inet filter forward #12",
                              text="udp dport { 5060, 10000-20000 } accept # handle 12")],
               reserves=[GATEWAY],
               figures=Figures(findings=[
                   Finding(code="FW_OPEN_TO_OTHERS", severity="fail", message=FW_OPEN,
                           lines=["nft:inet filter forward #12"]),
                   Finding(code="DHCP_COVERS_GATEWAY", severity="warn", message=GATEWAY,
                           lines=["dnsmasq.conf:4"])])),
        _check("router.crosscheck", "Concordance configuration / mesure",
               "Configuration agrees with measurement", "skip",
               msg("CROSSCHECK_NEEDS_BOTH")),
    ]
    return RunResults(
        generated="2026-11-25T16:50:32+00:00", customer="Boulangerie Martin SARL",
        site="Rennes - atelier", operator_server="198.51.100.10", lang="fr",
        counts={s: sum(1 for c in checks if c.status == s) for s in STATUSES}, checks=checks,
        incidents=[IncidentRow(date="25/11/2026", time="17:42:05", calling="0299000000",
                               called="+33899000000", symptom=POOR)])


@pytest.fixture
def results(tmp_path: Path) -> RunResults:
    """The hand-written results, through a real results.json file as the CLI would read."""
    path = tmp_path / "results.json"
    path.write_text(_results().model_dump_json(indent=2), encoding="utf-8")
    return load_results(path)


def _external_refs(html: str) -> list[str]:
    """src=/href=/url() references that leave the document (a mailed sheet must not)."""
    tags = " ".join(re.findall(r"<[^>]+>", html))  # escaped evidence text has no tags
    attrs = re.findall(r"""(?:src|href|xlink:href)\s*=\s*["']?\s*([^"'\s>]+)""", tags, re.I)
    urls = re.findall(r"url\(\s*['\"]?([^'\")]+)", html, re.I)
    return [u for u in attrs + urls if re.match(r"(?i)(https?:)?//", u)]


def test_french_sheet_has_what_signatories_need(results: RunResults) -> None:
    html = sheet.render(results, _profile())
    for text in ("Feuille de recette", "Boulangerie Martin SARL", "73282932000074",
                 "12 rue de la Monnaie, 35000 Rennes", "Telecom Services Ouest",
                 "Julie Garnier", "25/11/2026", "Services livrés", "+33299000001, +33299000002",
                 "+33299000101", "centrex101", "198.51.100.10:5060/UDP", "Contrôles et verdicts",
                 "Conforme", "Non conforme", "Erreur", "Sans objet",
                 "mauvaise qualité de la voix : perte 4.00 % ≥ 1 %", "Prononcé de la recette",
                 "Recette prononcée sans réserve", "Recette prononcée avec réserves",
                 "Recette refusée", "Pour le client", "Pour l&#x27;intégrateur"):
        assert text in html, text
    # Each failure or error is a numbered reserve, in table order; a skip is not one.
    assert [int(n) for n in re.findall(r"<b>R(\d+)</b>", html)] == [1, 2, 3, 4, 5]
    assert html.index("Contrôles et verdicts") < html.index("Prononcé de la recette") \
        < html.index("Annexe technique")


def test_every_reserve_reaches_the_front_page(results: RunResults) -> None:
    """Both observations of the firewall check show (the second once overwrote the first)."""
    front = sheet.render(results, _profile()).split("Prononcé de la recette")[0]
    for text in ("le média de l&#x27;opérateur vient aussi de 198.51.100.30",
                 "les appels de l&#x27;opérateur viennent aussi de 198.51.100.11"):
        assert text in front, text
    assert front.count("<b>Observation</b> : ") == 2  # firewall (a list of two), router


def test_french_annex_has_the_expert_evidence(results: RunResults) -> None:
    html = sheet.render(results, _profile())
    for text in ("Annexe technique", "Qualité RTP par sens", "<svg", "opérateur→site",
                 "gigue 41.0 ms ≥ 30 ms", "mauvaise",
                 "Échanges SIP", "407 Proxy Authentication Req (INVITE)",
                 "SIP ALG : réécritures constatées", "site→opérateur", "SDP c=",
                 "IN IP4 192.0.2.2", "Pare-feu : ports UDP ouverts", "5060, 10000-20000",
                 "à froid", "198.51.100.10, 198.51.100.30", "Audit du routeur", "bloquant",
                 "FW_OPEN_TO_OTHERS", "udp dport { 5060, 10000-20000 } accept # handle 12",
                 "Incidents", "17:42:05", "+33899000000"):
        assert text in html, text
    assert "INVITE sip:+33899000000@..." not in html  # full messages stay in results.json
    assert "10000, 10001" not in html  # port sets read as ranges
    assert "cold server" not in html  # the English facts stay in report.html


def test_english_sheet(results: RunResults) -> None:
    html = sheet.render(results, _profile(), lang="en")
    for text in ("<html lang='en'>", "Acceptance sheet", "Customer", "Services delivered",
                 "Pass", "Fail", "Error", "N/A", "Acceptance decision",
                 "Accepted without reserve", "Accepted with reserves", "Acceptance refused",
                 "For the customer", "For the integrator", "Technical annex",
                 "RTP quality per direction", "Outbound call to the test number", "2026-11-25",
                 "poor voice quality: loss 4.00 % ≥ 1 %", "far end→site",
                 "<b>Observation</b>: <ul><li>the operator&#x27;s media also comes from "
                 "198.51.100.30"):
        assert text in html, text
    for french in ("Conforme", "Prononcé", "Annexe", "Sans objet", "mauvaise", "à froid"):
        assert french not in html, french


def test_sheet_is_self_contained_and_escaped(results: RunResults) -> None:
    for lang in ("fr", "en"):
        html = sheet.render(results, _profile(), lang=lang)
        assert _external_refs(html) == []
        assert "<script" not in html.lower()
        assert "@import" not in html
        assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
        assert "not-shown" not in html  # the profile's passwords never reach the sheet


def test_unknown_language_is_refused(results: RunResults) -> None:
    with pytest.raises(RecetteError, match="language"):
        sheet.render(results, _profile(), lang="de")


def _sample() -> RunResults:
    return load_results(DATA / "results-sample.json")


def test_real_results_sample_renders() -> None:
    """A trimmed results.json of a lab run with SIP ALG on and the firewall open."""
    html = sheet.render(_sample(), _profile())
    assert "Non conforme" in html and "Conforme" in html
    for text in ("Échanges SIP", "sip.register[trunk01]", "<svg", "réécritures constatées",
                 "Pare-feu", "Audit du routeur", "SIP_ALG_ON", "nft -a list ruleset:14"):
        assert text in html, text
    assert _external_refs(html) == []


def _messages(value: object) -> Iterator[Msg]:
    """Every message in a results document, parameters included (a Msg may carry Msgs)."""
    if isinstance(value, Msg):
        yield value
        yield from _messages(list(value.params.values()))
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _messages(getattr(value, name))
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _messages(v)
    elif isinstance(value, dict):
        yield from _messages(list(value.values()))


def test_french_sheet_of_the_sample_has_no_english_sentence() -> None:
    """The customer signs the French sheet: no reason, reserve, finding or symptom of the run
    may reach it in English."""
    sample = _sample()
    english = {m.render("en") for m in _messages(sample)}
    english -= {m.render("fr") for m in _messages(sample)}  # the same in both (a bare value)
    assert len(english) >= 5
    html = sheet.render(sample, _profile())
    found = [t for t in english if t in html or htmlmod.escape(t) in html]
    assert found == []


def _write(tmp_path: Path, results: RunResults, lang: str = "fr") -> Path:
    html_path = tmp_path / f"sheet-{lang}.html"
    html_path.write_text(sheet.render(results, _profile(), lang=lang), encoding="utf-8")
    return html_path


def test_screenshot(tmp_path: Path, results: RunResults) -> None:
    png = tmp_path / "sheet.png"
    pdf.write_png(_write(tmp_path, results), png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.stat().st_size > 10_000


def _pdf_pages(path: Path) -> list[str]:
    """The PDF's text, one string per page (pdftotext separates pages with form feeds)."""
    out = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                         text=True, check=True).stdout
    return out.split("\f")


@pytest.mark.parametrize("lang,heading,last", [
    ("fr", "Prononcé de la recette", "Pour l'intégrateur"),
    ("en", "Acceptance decision", "For the integrator"),
])
def test_pdf_has_the_sign_off(tmp_path: Path, results: RunResults, lang: str,
                        heading: str, last: str) -> None:
    out = tmp_path / "sheet.pdf"
    pdf.write_pdf(_write(tmp_path, results, lang), out)
    assert out.read_bytes()[:5] == b"%PDF-"
    pages = _pdf_pages(out)
    page = next(p for p in pages if heading in p)
    assert last in page
    assert not any("file://" in p for p in pages)  # no browser header/footer with the path


@pytest.mark.parametrize("filler", [6, 10, 14, 18])
def test_sign_off_never_splits_across_pages(tmp_path: Path, filler: int) -> None:
    """Whatever the length of the verdict table, heading and both signature boxes share a
    page: a sign-off split over two sheets of paper invites a signature without the decision."""
    results = _results()
    results.checks[:0] = [
        _check(f"sip.register[account{i:02}]", "Enregistrement du compte SIP",
               "SIP account registration") for i in range(filler)
    ]
    out = tmp_path / "sheet.pdf"
    pdf.write_pdf(_write(tmp_path, results), out)
    page = next(p for p in _pdf_pages(out) if "Prononcé de la recette" in p)
    for text in ("Recette refusée", "Pour le client", "Pour l'intégrateur"):
        assert text in page, (filler, text)
    assert page.count("Signature") == 2


def test_missing_chromium_is_a_clear_error(tmp_path: Path, results: RunResults,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(RecetteError, match="chromium not found"):
        pdf.write_pdf(_write(tmp_path, results), tmp_path / "sheet.pdf")


def test_pdftotext_is_installed() -> None:
    """The PDF tests read text with poppler-utils; say so plainly when it is missing."""
    assert shutil.which("pdftotext"), "apt-get install -y poppler-utils"
