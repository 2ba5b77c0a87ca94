"""The acceptance sheet: what signatories and experts read, self-contained, printable.

No lab here: the sheet is built from a hand-written but realistic ``results.json`` (and from a
trimmed real one in ``tests/data``), then rendered by headless Chromium to PNG and PDF, as the
integrator would print it. Needs Debian's ``chromium`` and ``poppler-utils`` (pdftotext).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from harness.errors import RecetteError
from harness.profile import Profile
from reports import sheet

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


def _quality(direction: str, loss: float, jitter: float, grade: str,
             problems: list[str]) -> dict[str, Any]:
    return {"direction": direction, "sent": 500, "received": 500 - int(loss * 5),
            "expected": 500, "loss_pct": loss, "jitter_ms": jitter,
            "jitter_max_ms": jitter * 3, "rtt_ms": 12.5, "one_way_ms": 6.2,
            "r": 92.1 if grade == "good" else 61.0, "mos": 4.4 if grade == "good" else 3.1,
            "grade": grade, "problems": problems}


def _check(ident: str, fr: str, en: str, status: str = "pass", reason: str = "",
           **extra: Any) -> dict[str, Any]:
    return {"id": ident, "fr": fr, "en": en, "status": status, "reason": reason,
            "duration_s": 1.2, "evidence": extra.pop("evidence", []),
            "facts": extra.pop("facts", {}), "data": extra.pop("data", {})}


def _results() -> dict[str, Any]:
    checks = [
        _check("sip.options", "Le serveur SIP de l'opérateur répond à OPTIONS",
               "The operator's SIP server answers OPTIONS"),
        _check("sip.call.outbound[trunk-main]", "Appel sortant vers le numéro de test",
               "Outbound call to the test number", "fail",
               "poor voice quality: loss 4.00 % above 1 %",
               evidence=[{"title": "SIP: ladder", "text": LADDER},
                         {"title": "SIP: messages", "text": "INVITE sip:+33899000000@..."}],
               data={"quality": [
                   _quality("far end→site", 4.0, 41.0, "bad", ["loss 4.00 % above 1 %"]),
                   _quality("site→far end→site (echo)", 0.0, 2.5, "good", [])]}),
        _check("sip.capacity[trunk-main]", "Capacité : canaux simultanés",
               "Capacity: simultaneous channels", "error", HOSTILE),
        _check("sip.alg", "Absence de SIP ALG", "No SIP ALG", "fail",
               "SIP ALG: site→operator INVITE UDP/5060 rewritten",
               data={"alg": [
                   {"direction": "site→operator", "method": "INVITE", "proto": "udp",
                    "port": 5060, "delivered": True, "note": "", "nat_only": [],
                    "changes": [{"element": "Contact", "before": "<sip:101@192.168.254.10>",
                           "after": "<sip:101@192.0.2.2:1024>"},
                          {"element": "SDP c=", "before": "IN IP4 192.168.254.10",
                           "after": "IN IP4 192.0.2.2"}]},
                   {"direction": "operator→site", "method": "INVITE", "proto": "tcp",
                    "port": 5062, "delivered": True, "note": "", "nat_only": [],
                    "changes": []}]}),
        _check("firewall.openings", "Pare-feu : UDP 5060 et 10000-20000",
               "Firewall: UDP 5060 and 10000-20000", "fail",
               "UDP 5060, 10000-20000 open to other sources",
               facts={"cold server": "5060, 10000-20000 [10002 ports]",
                      "cold outsider": "5060, 10000-20000 [10002 ports]"},
               data={"sweeps": [
                   {"vantage": "server", "phase": "cold", "source": "198.51.100.10",
                    "open": [5060, *range(10000, 20001)], "sent": 20010, "seconds": 0.4},
                   {"vantage": "outsider", "phase": "cold", "source": "203.0.113.66",
                    "open": [5060, *range(10000, 20001)], "sent": 20010, "seconds": 0.4}]}),
        _check("router.audit", "Audit du routeur", "Router audit", "fail",
               "fail FW_OPEN_TO_ALL: UDP 5060 accepted from any source",
               evidence=[{"title": "FW_OPEN_TO_ALL at nft:inet filter forward #12",
                          "text": "udp dport { 5060, 10000-20000 } accept # handle 12"}],
               facts={"reserve": "DHCP_LEASE_SHORT (dnsmasq.conf:4)"},
               data={"findings": [
                   {"code": "FW_OPEN_TO_ALL", "severity": "fail",
                    "message": "UDP 5060 accepted from any source",
                    "lines": ["nft:inet filter forward #12"]},
                   {"code": "DHCP_LEASE_SHORT", "severity": "warn",
                    "message": "voice LAN lease time 2m", "lines": ["dnsmasq.conf:4"]}]}),
        _check("router.crosscheck", "Concordance configuration / mesure",
               "Configuration agrees with measurement", "skip",
               "needs the router audit and the active firewall verification in one run"),
    ]
    counts = {s: sum(1 for c in checks if c["status"] == s)
              for s in ("pass", "fail", "error", "skip")}
    return {"generated": "2026-11-25T16:50:32+00:00", "customer": "Boulangerie Martin SARL",
            "site": "Rennes - atelier", "operator_server": "198.51.100.10", "lang": "fr",
            "counts": counts, "checks": checks,
            "incidents": ["25/11/2026 ; 17:42:05 ; 0299000000 ; +33899000000 ; "
                          "poor voice quality: loss 4.00 % above 1 %"]}


@pytest.fixture
def results(tmp_path: Path) -> dict[str, Any]:
    """The hand-written results, through a real results.json file as the CLI would read."""
    path = tmp_path / "results.json"
    path.write_text(json.dumps(_results(), ensure_ascii=False, indent=2), encoding="utf-8")
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def _external_refs(html: str) -> list[str]:
    """src=/href=/url() references that leave the document (a mailed sheet must not)."""
    tags = " ".join(re.findall(r"<[^>]+>", html))  # escaped evidence text has no tags
    attrs = re.findall(r"""(?:src|href|xlink:href)\s*=\s*["']?\s*([^"'\s>]+)""", tags, re.I)
    urls = re.findall(r"url\(\s*['\"]?([^'\")]+)", html, re.I)
    return [u for u in attrs + urls if re.match(r"(?i)(https?:)?//", u)]


def test_french_sheet_has_what_signatories_need(results: dict[str, Any]) -> None:
    html = sheet.render(results, _profile())
    for text in ("Feuille de recette", "Boulangerie Martin SARL", "73282932000074",
                 "12 rue de la Monnaie, 35000 Rennes", "Telecom Services Ouest",
                 "Julie Garnier", "25/11/2026", "Services livrés", "+33299000001, +33299000002",
                 "+33299000101", "centrex101", "198.51.100.10:5060/UDP", "Contrôles et verdicts",
                 "Conforme", "Non conforme", "Erreur", "Sans objet",
                 "poor voice quality: loss 4.00 % above 1 %", "Prononcé de la recette",
                 "Recette prononcée sans réserve", "Recette prononcée avec réserves",
                 "Recette refusée", "Pour le client", "Pour l&#x27;intégrateur"):
        assert text in html, text
    # Each failure or error is a numbered reserve, in table order; a skip is not one.
    assert [int(n) for n in re.findall(r"<b>R(\d+)</b>", html)] == [1, 2, 3, 4, 5]
    assert html.index("Contrôles et verdicts") < html.index("Prononcé de la recette") \
        < html.index("Annexe technique")


def test_french_annex_has_the_expert_evidence(results: dict[str, Any]) -> None:
    html = sheet.render(results, _profile())
    for text in ("Annexe technique", "Qualité RTP par sens", "<svg", "far end→site",
                 "Échanges SIP", "407 Proxy Authentication Req (INVITE)",
                 "SIP ALG : réécritures constatées", "SDP c=", "IN IP4 192.0.2.2",
                 "Pare-feu : ports UDP ouverts", "5060, 10000-20000", "Audit du routeur",
                 "FW_OPEN_TO_ALL", "udp dport { 5060, 10000-20000 } accept # handle 12",
                 "Incidents", "17:42:05", "+33899000000"):
        assert text in html, text
    assert "INVITE sip:+33899000000@..." not in html  # full messages stay in results.json
    assert "10000, 10001" not in html  # port sets read as ranges


def test_english_sheet(results: dict[str, Any]) -> None:
    html = sheet.render(results, _profile(), lang="en")
    for text in ("<html lang='en'>", "Acceptance sheet", "Customer", "Services delivered",
                 "Pass", "Fail", "Error", "N/A", "Acceptance decision",
                 "Accepted without reserve", "Accepted with reserves", "Acceptance refused",
                 "For the customer", "For the integrator", "Technical annex",
                 "RTP quality per direction", "Outbound call to the test number", "2026-11-25"):
        assert text in html, text
    for french in ("Conforme", "Prononcé", "Annexe", "Sans objet"):
        assert french not in html, french


def test_sheet_is_self_contained_and_escaped(results: dict[str, Any]) -> None:
    for lang in ("fr", "en"):
        html = sheet.render(results, _profile(), lang=lang)
        assert _external_refs(html) == []
        assert "<script" not in html.lower()
        assert "@import" not in html
        assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
        assert "not-shown" not in html  # the profile's passwords never reach the sheet


def test_unknown_language_is_refused(results: dict[str, Any]) -> None:
    with pytest.raises(RecetteError, match="language"):
        sheet.render(results, _profile(), lang="de")


def test_real_results_sample_renders() -> None:
    """A trimmed results.json of a lab run with SIP ALG on and the firewall open."""
    results = json.loads((DATA / "results-sample.json").read_text(encoding="utf-8"))
    html = sheet.render(results, _profile())
    assert "Non conforme" in html and "Conforme" in html
    for text in ("SIP: ladder", "<svg", "réécritures constatées", "Pare-feu", "Audit du routeur"):
        assert text in html, text
    assert _external_refs(html) == []


def _write(tmp_path: Path, results: dict[str, Any], lang: str = "fr") -> Path:
    html_path = tmp_path / f"sheet-{lang}.html"
    html_path.write_text(sheet.render(results, _profile(), lang=lang), encoding="utf-8")
    return html_path


def test_screenshot(tmp_path: Path, results: dict[str, Any]) -> None:
    png = tmp_path / "sheet.png"
    sheet.write_png(_write(tmp_path, results), png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.stat().st_size > 10_000


def _pdf_pages(pdf: Path) -> list[str]:
    """The PDF's text, one string per page (pdftotext separates pages with form feeds)."""
    out = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                         text=True, check=True).stdout
    return out.split("\f")


@pytest.mark.parametrize("lang,heading,last", [
    ("fr", "Prononcé de la recette", "Pour l'intégrateur"),
    ("en", "Acceptance decision", "For the integrator"),
])
def test_pdf_has_the_sign_off(tmp_path: Path, results: dict[str, Any], lang: str,
                        heading: str, last: str) -> None:
    pdf = tmp_path / "sheet.pdf"
    sheet.write_pdf(_write(tmp_path, results, lang), pdf)
    assert pdf.read_bytes()[:5] == b"%PDF-"
    pages = _pdf_pages(pdf)
    page = next(p for p in pages if heading in p)
    assert last in page
    assert not any("file://" in p for p in pages)  # no browser header/footer with the path


@pytest.mark.parametrize("filler", [6, 10, 14, 18])
def test_sign_off_never_splits_across_pages(tmp_path: Path, filler: int) -> None:
    """Whatever the length of the verdict table, heading and both signature boxes share a
    page: a sign-off split over two sheets of paper invites a signature without the decision."""
    results = _results()
    results["checks"] = [
        _check(f"sip.register[account{i:02}]", "Enregistrement du compte SIP",
               "SIP account registration") for i in range(filler)
    ] + results["checks"]
    pdf = tmp_path / "sheet.pdf"
    sheet.write_pdf(_write(tmp_path, results), pdf)
    page = next(p for p in _pdf_pages(pdf) if "Prononcé de la recette" in p)
    for text in ("Recette refusée", "Pour le client", "Pour l'intégrateur"):
        assert text in page, (filler, text)
    assert page.count("Signature") == 2


def test_missing_chromium_is_a_clear_error(tmp_path: Path, results: dict[str, Any],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(RecetteError, match="chromium not found"):
        sheet.write_pdf(_write(tmp_path, results), tmp_path / "sheet.pdf")


def test_pdftotext_is_installed() -> None:
    """The PDF tests read text with poppler-utils; say so plainly when it is missing."""
    assert shutil.which("pdftotext"), "apt-get install -y poppler-utils"
