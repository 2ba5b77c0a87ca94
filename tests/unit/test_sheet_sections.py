"""The acceptance sheet part by part: each annex section, the front page, report.html's cell.

Fast and without Chromium (the printed sheet is tested in ``tests/system/test_sheet.py``):
each test builds the few typed results a section reads and checks what it shows, in French
unless said otherwise, and that it finds its payload by type (an evidence block's ``kind``
and ``ref``), never by a title.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness.messages import Msg, msg
from harness.profile import load_profile
from harness.results import (
    STATUSES,
    AddressRow,
    AlgChange,
    AlgProbe,
    CheckResult,
    CrossCheck,
    Figures,
    Finding,
    IncidentRow,
    Item,
    OperatorTraffic,
    PortSets,
    QualityRow,
    RunResults,
    SampleRow,
    Status,
    Sweep,
)
from reports import html as report_html
from reports.sheet import annex, css, front, render
from reports.sheet.annex import alg, firewall, incidents, ladders, quality, router
from reports.sheet.page import Page

PROFILE = load_profile(Path(__file__).resolve().parents[1] / "data" / "profiles" / "good"
                       / "inline_secrets.yaml")


def _check(ident: str, status: Status = "pass", *reasons: Msg, **extra: object) -> CheckResult:
    return CheckResult.model_validate({"id": ident, "fr": f"Contrôle {ident}",
                                       "en": f"Check {ident}", "status": status,
                                       "reasons": list(reasons), **extra})


def _page(*checks: CheckResult, lang: str = "fr",
          rows: list[IncidentRow] | None = None) -> Page:
    results = RunResults(generated="2026-11-25T16:50:32+00:00", customer="c", site="s",
                         operator_server="198.51.100.10", lang=lang,
                         counts={s: sum(c.status == s for c in checks) for s in STATUSES},
                         checks=list(checks), incidents=rows or [])
    return Page(results, PROFILE, lang)


# --- annex sections -------------------------------------------------------------------------


def test_sections_are_in_reading_order() -> None:
    names = [section.__module__.rsplit(".", 1)[1] for section in annex.SECTIONS]
    assert names == ["quality", "ladders", "alg", "firewall", "exposure", "sip_moves", "router",
                     "incidents", "capture"]
    page = _page()  # nothing measured: only the incident table, which is always there
    assert annex.render(page).count("<h3>") == 1
    assert "Incidents" in annex.render(page)


def _row(direction: str, grade: str, *problems: Msg) -> QualityRow:
    return QualityRow.model_validate({
        "direction": msg(direction), "sent": None, "received": 480, "expected": 500,
        "loss_pct": 4.0, "jitter_ms": 41.0, "jitter_max_ms": 90.0, "rtt_ms": None,
        "one_way_ms": None, "r": 61.0, "mos": 3.1, "grade": grade, "problems": list(problems)})


def test_quality_table_and_plot() -> None:
    loss = msg("Q_LOSS", value="4.00", limit="1")
    check = _check("sip.call.outbound[t]", figures=Figures(quality=[
        _row("DIR_FAR_TO_SITE", "bad", loss), _row("DIR_ECHO", "good")]))
    out = quality.render(_page(check))
    for text in ("Qualité RTP par sens", "<svg", "seuil 30", "seuil 1", "opérateur→site",
                 "site→opérateur→site (écho)", "480/500", "mauvaise", "bonne",
                 "perte 4.00 % ≥ 1 %", "–"):  # no RTT measured: a dash
        assert text in out, text
    english = quality.render(_page(check, lang="en"))
    assert "far end→site" in english and "loss 4.00 % ≥ 1 %" in english
    assert quality.render(_page(_check("sip.options"))) == ""


def test_ladders_are_found_by_kind_not_title() -> None:
    check = _check("sip.register[t]", evidence=[
        Item(title="SIP: ladder", text="not a ladder block", kind="text"),
        Item(title="first", text="REGISTER ──▶ <1>", kind="ladder"),
        Item(title="second", text="INVITE ──▶", kind="ladder")])
    out = ladders.render(_page(check))
    assert "Échanges SIP" in out and "Contrôle sip.register[t] (1/2)" in out
    assert "REGISTER ──▶ &lt;1&gt;" in out and "(2/2)" in out
    assert "not a ladder block" not in out
    assert ladders.render(_page(_check("sip.options"))) == ""


def test_alg_diff() -> None:
    probes = [
        AlgProbe(direction="site→operator", method="INVITE", proto="udp", port=5060,
                 delivered=True, changes=[AlgChange(element="SDP c=",
                                                    before="IN IP4 192.168.254.10",
                                                    after="IN IP4 192.0.2.2")]),
        AlgProbe(direction="operator→site", method="REGISTER", proto="udp", port=5088,
                 delivered=False, note=msg("ALG_NOT_RECEIVED", seconds=2.0))]
    out = alg.render(_page(_check("sip.alg", figures=Figures(alg=probes))))
    for text in ("SIP ALG : réécritures constatées", "site→opérateur", "UDP/5060", "SDP c=",
                 "IN IP4 192.0.2.2", "opérateur→site", "Reçu : non",
                 "non reçu par la sonde en 2 s", "Témoin", "sonde au serveur SIP"):
        assert text in out, text
    clean = [probes[0].model_copy(update={"changes": []})]
    assert "Aucune réécriture" in alg.render(_page(_check("sip.alg",
                                                          figures=Figures(alg=clean))))
    assert alg.render(_page(_check("sip.options"))) == ""


def test_alg_diff_names_each_witness_and_what_it_compared() -> None:
    """The outsider probe and the registrar as witnesses: each row says who saw it, and the
    line above the table how many messages each compared (so a clean table says by whom)."""
    probes = [
        AlgProbe(direction="site→outsider", method="INVITE", proto="udp", port=5060,
                 delivered=True, vantage="outsider",
                 changes=[AlgChange(element="SDP c=", before="c=IN IP4 192.168.254.10",
                                    after="c=IN IP4 192.0.2.2")]),
        AlgProbe(direction="outsider→site", method="INVITE", proto="udp", port=5060,
                 delivered=True, vantage="outsider"),
        AlgProbe(direction="site→registrar", method="REGISTER", proto="udp", port=5060,
                 delivered=True, vantage="registrar",
                 changes=[AlgChange(element="Via[0] received",
                                    before="(absent; the registrar saw us from 192.0.2.2)",
                                    after="192.168.254.10")])]
    fr = alg.render(_page(_check("sip.alg", figures=Figures(alg=probes))))
    for text in ("Témoins (messages comparés) : sonde extérieure 2, serveur "
                 "d&#x27;enregistrement de l&#x27;opérateur (sa réponse) 1",
                 "<td>sonde extérieure</td><td>site→sonde extérieure</td>",
                 "<td>site→serveur d&#x27;enregistrement</td>", "Via[0] received",
                 "192.168.254.10"):
        assert text in fr, text
    en = alg.render(_page(_check("sip.alg", figures=Figures(alg=probes)), lang="en"))
    assert "<th>Witness</th>" in en and "(messages compared): outsider probe 2, " in en
    # A results.json written before the witnesses: its probes were the server probe's.
    old = AlgProbe.model_validate({"direction": "site→operator", "method": "INVITE",
                                   "proto": "udp", "port": 5060, "delivered": True})
    assert old.vantage == "server"


def test_firewall_sweeps_media_and_crosscheck() -> None:
    sweeps = [Sweep(vantage="server", phase="cold", source="198.51.100.10",
                    open=[5060, *range(10000, 20001)], sent=20010, seconds=0.4),
              Sweep(vantage="outsider", phase="warm", source="203.0.113.66", open=[],
                    sent=20010, seconds=0.41)]
    fw = _check("firewall.openings", facts={"cold server": "English fact"},
                figures=Figures(sweeps=sweeps, media_sources=["198.51.100.10"]))
    cross = _check("router.crosscheck", figures=Figures(crosscheck=CrossCheck(
        config=PortSets(server=[5060], others=[5060]), measured=PortSets(server=[5060]))))
    out = firewall.render(_page(fw, cross))
    for text in ("Pare-feu : ports UDP ouverts", "serveur SIP", "à froid", "autre adresse",
                 "après enregistrement", "5060, 10000-20000", "aucun", "0.4",
                 "Sources des flux média de l&#x27;opérateur", "198.51.100.10",
                 "Configuration du routeur / mesure", "autres sources"):
        assert text in out, text
    assert "10000, 10001" not in out and "English fact" not in out
    english = firewall.render(_page(fw, cross, lang="en"))
    assert "after registration" in english and "other address" in english
    assert firewall.render(_page(_check("sip.options"))) == ""


def test_crosscheck_rows_per_operator_address() -> None:
    rng = list(range(10000, 20001))
    cross = _check("router.crosscheck", figures=Figures(crosscheck=CrossCheck(
        config=PortSets(others=[], by_source={"198.51.100.11": [5060], "198.51.100.30": rng}),
        measured=PortSets(others=[], by_source={"198.51.100.11": [5060],
                                                "198.51.100.30": [10000, 12500]},
                          tested_by_source={"198.51.100.30": [10000, 12500, 20001]}))))
    out = firewall.render(_page(cross))
    rows = re.findall(r"<tr>(.*?)</tr>", out)
    assert any("198.51.100.11" in r and r.count("5060") == 2 for r in rows), rows
    (relay,) = [r for r in rows if "198.51.100.30" in r]
    assert "10000-20000" in relay and "10000, 12500" in relay
    assert "essayés : " in relay and "10000, 12500, 20001" in relay
    assert "serveur SIP" not in out  # the per-address rows replace the server's


def test_firewall_operator_traffic_in_the_sheets_language() -> None:
    traffic = OperatorTraffic(
        route="hairpin trunk01 → +33199000101 (centrex101)", seconds=6.4,
        sip="INVITE from 198.51.100.10:5062 reached port 5060: a new flow", sip_proven=True,
        sip_source="198.51.100.10:5062",
        samples=[SampleRow(port=10000, outcome="open", first_ms=11.2,
                           sources=["198.51.100.10:30610"]),
                 SampleRow(port=20001, outcome="closed", after_punch_ms=21.0,
                           sources=["198.51.100.10:30924"]),
                 SampleRow(port=15002, outcome="silent")])
    fw = _check("firewall.openings", figures=Figures(operator_traffic=traffic))
    out = firewall.render(_page(fw))
    for text in ("Trafic de l&#x27;opérateur : ports RTP échantillonnés",
                 "SIP 5060 depuis l&#x27;opérateur", "INVITE reçu sur un flux que le site",
                 "198.51.100.10:5062", "ouvert (média reçu en premier)", "11",
                 "fermé (média reçu seulement après émission du site)", "21",
                 "non prouvé (aucun média)", "198.51.100.10:30924"):
        assert text in out, text
    assert "a new flow" not in out  # the check's English line stays in report.html
    english = firewall.render(_page(fw, lang="en"))
    assert "open (media arrived first)" in english and "sampled RTP ports" in english


def test_firewall_operator_addresses_in_the_sheets_language() -> None:
    rows = [AddressRow(address="198.51.100.11", roles=["signalling"], ports="5060",
                       status="proven", basis="operator traffic"),
            AddressRow(address="198.51.100.30", roles=["media"], ports="10000-20000",
                       status="vouched", basis="router configuration"),
            AddressRow(address="198.51.100.40", roles=["seen"], ports="10000-20000",
                       status="unproven")]
    fw = _check("firewall.openings", figures=Figures(operator_addresses=rows))
    out = firewall.render(_page(fw))
    for text in ("Adresses de l&#x27;opérateur", "198.51.100.11", "signalisation (proxy)",
                 "ouvert, prouvé", "trafic de l&#x27;opérateur", "média (relais)",
                 "ouvert selon la configuration du routeur", "non prouvé",
                 "vue dans le trafic, absente du profil"):
        assert text in out, text
    english = firewall.render(_page(fw, lang="en"))
    assert "open per the router&#x27;s configuration" in english
    assert "seen in traffic, not in the profile" in english and "non prouvé" not in english


def test_router_findings_cite_config_by_ref() -> None:
    finding = Finding(code="FW_OPEN_TO_OTHERS", severity="fail", lines=["nft:12", "nft:14"],
                      message=msg("FW_OPEN_TO_OTHERS", ports="5060", who=[msg("WHO_ANY")],
                                  allowed="198.51.100.10"))
    skipped = msg("RULE_NOT_EVALUATED", ref="nft:20", detail="named set @voice")
    check = _check("router.audit", "fail", finding.message, evidence=[
        Item(title="anything", kind="config", ref="nft:12", text="udp dport 5060 accept"),
        Item(title="FW_OPEN_TO_OTHERS at nft:14", kind="text", text="not a citation")],
        figures=Figures(findings=[finding], unevaluated=[skipped]))
    out = router.render(_page(check))
    for text in ("Audit du routeur : constats", "bloquant", "FW_OPEN_TO_OTHERS",
                 "Les ports UDP 5060 sont ouverts à d&#x27;autres sources que les adresses "
                 "de l&#x27;opérateur (n&#x27;importe quelle adresse) : les réserver à ces "
                 "adresses (198.51.100.10)", "nft:12",
                 "udp dport 5060 accept", "nft:14", "Non évalué",
                 "nft:20 : non évalué par l&#x27;audit (named set @voice)"):
        assert text in out, text
    assert "not a citation" not in out
    none = router.render(_page(_check("router.audit", figures=Figures(findings=[]))))
    assert "Aucun constat." in none
    assert router.render(_page(_check("sip.options"))) == ""


def test_router_annex_says_the_lan_plan_was_assumed() -> None:
    plan = msg("LAN_PLAN_ASSUMED", data="192.168.1.0/24", data_gw="192.168.1.1",
               voice="192.168.254.0/24", voice_gw="192.168.254.1")
    out = router.render(_page(_check("router.audit", figures=Figures(findings=[],
                                                                      lan_plan=plan))))
    assert "Plan des LAN" in out and "Plan des LAN supposé (absent du profil)" in out
    assert "Aucun constat." in out
    english = router.render(_page(_check("router.audit", figures=Figures(
        findings=[], lan_plan=plan)), lang="en"))
    assert "LAN plan assumed (the profile gives no router.lans)" in english


def test_incident_rows() -> None:
    symptom = msg("POOR_QUALITY", problems=[msg("Q_LOSS", value="4.00", limit="1")])
    row = IncidentRow(date="25/11/2026", time="17:42:05", calling="0299000000",
                      called="+33899000000", symptom=symptom)
    out = incidents.render(_page(rows=[row]))
    for text in ("Incidents (format ticket opérateur)", "25/11/2026", "17:42:05",
                 "+33899000000", "mauvaise qualité de la voix : perte 4.00 % ≥ 1 %"):
        assert text in out, text
    assert "Néant" in incidents.render(_page())


# --- front page, whole sheet, report.html ---------------------------------------------------


def test_reserves_are_numbered_and_observations_kept() -> None:
    a, b = msg("SKIPPED", detail="a"), msg("SKIPPED", detail="b")
    page = _page(_check("one", "fail", a, b),
                 _check("two", "skip", a),
                 _check("three", "error", a, reserves=[b]),
                 _check("four", reserves=[a, b]))
    out = front.verdicts(page)
    assert out.count("<b>R1</b> <ul><li>") == 1 and "<b>R2</b> sans objet : a" in out
    assert "R3" not in out  # a skip is no reserve
    assert out.count("<b>Observation</b> : ") == 2
    assert "<ul><li>sans objet : a</li><li>sans objet : b</li></ul>" in out
    for word, n in (("Conforme", 1), ("Non conforme", 1), ("Erreur", 1), ("Sans objet", 1)):
        assert f"{word}</span> {n}" in out, word


def test_whole_sheet_and_its_style() -> None:
    page = _page(_check("sip.options"))
    out = render(page.results, PROFILE)
    assert out.index("Contrôles et verdicts") < out.index("Prononcé de la recette") \
        < out.index("Annexe technique") < out.index("Document généré le 25/11/2026")
    assert "@page { size: A4" in css() and css() in out
    assert "Tr0nc-Secret-42" not in out


def test_report_cell_shows_the_check_in_the_report_language() -> None:
    check = _check("firewall.openings", "fail", msg("SKIPPED", detail="<a>"),
                   reserves=[msg("SKIPPED", detail="r")], facts={"cold server": "5060"},
                   evidence=[Item(title="ports reached", text="5060 <open>")])
    fr = report_html.evidence_html(check, "fr")
    for text in ("<b>Motif</b> : sans objet : &lt;a&gt;", "<b>Observation</b> : sans objet : r",
                 "cold server", "ports reached", "5060 &lt;open&gt;"):
        assert text in fr, text
    assert "<b>Reason</b>: not applicable: &lt;a&gt;" in report_html.evidence_html(check, "en")
    assert report_html.evidence_html(_check("sip.options"), "fr") == "&nbsp;"


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_report_row_uses_the_sheet_words(lang: str) -> None:
    class Report:
        recette = _check("sip.alg", "fail")

    cells = ["<td>result</td>", "<td>test id</td>", "<td>duration</td>"]
    report_html.HtmlSheet(lang).pytest_html_results_table_row(Report(), cells)
    assert cells[3] == ('<td class="recette-fail">Non conforme</td>' if lang == "fr"
                        else '<td class="recette-fail">Fail</td>')
    assert cells[2] == f"<td>{'Contrôle' if lang == 'fr' else 'Check'} sip.alg</td>"
