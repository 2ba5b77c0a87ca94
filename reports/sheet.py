"""The acceptance sheet ("feuille de recette"): one self-contained HTML page, and its PDF.

The sheet is what the customer and the integrator sign at the end of an installation, so it
opens with what the signatories need (who, where, what was delivered, each check's verdict,
reserves, the sign-off block) and keeps the expert evidence (SIP ladders, ALG diff, firewall
port sets, RTP quality, router findings, incident rows) in an annex below. It is one file with
inline CSS and SVG and no script or external resource, so it can be mailed, archived and
printed years later exactly as signed. Every text is escaped: evidence comes from the wire.
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from html import escape
from pathlib import Path
from typing import Any

from harness.errors import RecetteError
from harness.portset import fmt
from harness.profile import Profile, Thresholds

TEXT: dict[str, dict[str, str]] = {
    "fr": {
        "title": "Feuille de recette",
        "subtitle": "Raccordement SIP professionnel : procès-verbal de recette",
        "customer": "Client", "siret": "SIRET", "site": "Site", "address": "Adresse",
        "integrator": "Intégrateur", "technician": "Technicien", "date": "Date des essais",
        "services": "Services livrés", "trunks": "Trunks SIP", "centrex": "Comptes Centrex",
        "name": "Nom", "user": "Identifiant SIP", "dids": "Numéros (SDA)",
        "channels": "Canaux", "number": "Numéro", "operator": "Opérateur",
        "sip_server": "Serveur SIP opérateur", "domain": "Domaine",
        "checks": "Contrôles et verdicts", "check": "Contrôle", "label": "Intitulé",
        "verdict": "Verdict", "reserve": "Réserve", "summary": "Synthèse",
        "signoff": "Prononcé de la recette",
        "no_reserve": "Recette prononcée sans réserve",
        "with_reserves": "Recette prononcée avec réserves (voir ci-dessus et ci-dessous)",
        "refused": "Recette refusée",
        "extra_reserves": "Réserves complémentaires",
        "for_customer": "Pour le client", "for_integrator": "Pour l'intégrateur",
        "signatory": "Nom et qualité du signataire", "sign_date": "Date",
        "signature": "Signature (précédée de « Lu et approuvé »)",
        "annex": "Annexe technique : éléments de preuve",
        "ladders": "Échanges SIP (diagrammes en échelle)",
        "alg": "SIP ALG : réécritures constatées",
        "alg_none": "Aucune réécriture SIP/SDP constatée.",
        "direction": "Sens", "method": "Méthode", "transport": "Transport",
        "delivered": "Reçu", "element": "Élément", "before": "Envoyé",
        "after": "Reçu après le routeur", "yes": "oui", "no": "non",
        "firewall": "Pare-feu : ports UDP ouverts",
        "vantage": "Point de vue", "phase": "Phase", "source": "Source",
        "open": "Ports ouverts", "sent": "Sondes", "seconds": "Durée (s)",
        "server": "serveur SIP", "outsider": "autre adresse", "others": "autres sources",
        "cold": "à froid",
        "warm": "après enregistrement", "facts": "Constats",
        "crosscheck": "Configuration du routeur / mesure",
        "config": "Configuration", "measured": "Mesuré",
        "quality": "Qualité RTP par sens",
        "call": "Appel", "received": "Reçus/attendus", "loss": "Perte (%)",
        "jitter": "Gigue (ms)", "jitter_max": "Gigue max (ms)", "rtt": "RTT (ms)",
        "mos": "MOS", "grade": "Appréciation", "problems": "Problèmes",
        "threshold": "seuil",
        "router": "Audit du routeur : constats",
        "severity": "Gravité", "code": "Code", "message": "Constat",
        "lines": "Lignes de configuration", "router_none": "Aucun constat.",
        "incidents": "Incidents (format ticket opérateur)",
        "inc_date": "Date", "inc_time": "Heure", "inc_calling": "Numéro appelant",
        "inc_called": "Numéro appelé", "inc_symptom": "Symptôme",
        "none": "Néant", "no_port": "aucun", "observation": "Observation",
        "generated": "Document généré le",
    },
    "en": {
        "title": "Acceptance sheet",
        "subtitle": "Business SIP service: acceptance report",
        "customer": "Customer", "siret": "SIRET", "site": "Site", "address": "Address",
        "integrator": "Integrator", "technician": "Technician", "date": "Test date",
        "services": "Services delivered", "trunks": "SIP trunks", "centrex": "Centrex accounts",
        "name": "Name", "user": "SIP user", "dids": "Numbers (DIDs)",
        "channels": "Channels", "number": "Number", "operator": "Operator",
        "sip_server": "Operator SIP server", "domain": "Domain",
        "checks": "Checks and verdicts", "check": "Check", "label": "Title",
        "verdict": "Verdict", "reserve": "Reserve", "summary": "Summary",
        "signoff": "Acceptance decision",
        "no_reserve": "Accepted without reserve",
        "with_reserves": "Accepted with reserves (see above and below)",
        "refused": "Acceptance refused",
        "extra_reserves": "Further reserves",
        "for_customer": "For the customer", "for_integrator": "For the integrator",
        "signatory": "Signatory name and position", "sign_date": "Date",
        "signature": "Signature",
        "annex": "Technical annex: evidence",
        "ladders": "SIP exchanges (ladder diagrams)",
        "alg": "SIP ALG: rewrites seen",
        "alg_none": "No SIP/SDP rewrite seen.",
        "direction": "Direction", "method": "Method", "transport": "Transport",
        "delivered": "Delivered", "element": "Element", "before": "Sent",
        "after": "Received past the router", "yes": "yes", "no": "no",
        "firewall": "Firewall: open UDP ports",
        "vantage": "Vantage point", "phase": "Phase", "source": "Source",
        "open": "Open ports", "sent": "Probes", "seconds": "Time (s)",
        "server": "SIP server", "outsider": "other address", "others": "other sources",
        "cold": "cold",
        "warm": "after registration", "facts": "Facts",
        "crosscheck": "Router configuration / measurement",
        "config": "Configuration", "measured": "Measured",
        "quality": "RTP quality per direction",
        "call": "Call", "received": "Received/expected", "loss": "Loss (%)",
        "jitter": "Jitter (ms)", "jitter_max": "Max jitter (ms)", "rtt": "RTT (ms)",
        "mos": "MOS", "grade": "Grade", "problems": "Problems",
        "threshold": "limit",
        "router": "Router audit: findings",
        "severity": "Severity", "code": "Code", "message": "Finding",
        "lines": "Configuration lines", "router_none": "No finding.",
        "incidents": "Incidents (operator ticket format)",
        "inc_date": "Date", "inc_time": "Time", "inc_calling": "Calling number",
        "inc_called": "Called number", "inc_symptom": "Symptom",
        "none": "None", "no_port": "none", "observation": "Observation",
        "generated": "Document generated on",
    },
}

STATUS: dict[str, dict[str, str]] = {
    "fr": {"pass": "Conforme", "fail": "Non conforme", "error": "Erreur", "skip": "Sans objet"},
    "en": {"pass": "Pass", "fail": "Fail", "error": "Error", "skip": "N/A"},
}

GRADE: dict[str, dict[str, str]] = {
    "fr": {"good": "bonne", "warn": "limite", "bad": "mauvaise"},
    "en": {"good": "good", "warn": "borderline", "bad": "bad"},
}

COLOURS = {"good": "#2e7d32", "warn": "#ef8f00", "bad": "#c62828"}

CSS = """
@page { size: A4; margin: 14mm 12mm; }
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", "Liberation Sans", Arial, sans-serif; font-size: 10pt;
       color: #1a1a1a; margin: 0 auto; max-width: 190mm; padding: 8mm 0; }
h1 { font-size: 18pt; margin: 0; }
h2 { font-size: 12.5pt; border-bottom: 2px solid #1f3a5f; color: #1f3a5f;
     margin: 16px 0 6px; padding-bottom: 2px; break-after: avoid; }
h3 { font-size: 10.5pt; margin: 12px 0 4px; break-after: avoid; }
h4 { font-size: 9pt; margin: 8px 0 2px; color: #444; break-after: avoid; }
.subtitle { color: #555; margin: 2px 0 10px; }
table { border-collapse: collapse; width: 100%; margin: 4px 0; }
th, td { border: 1px solid #b8c2cc; padding: 3px 5px; text-align: left; vertical-align: top; }
th { background: #eef2f6; font-weight: bold; }
table.kv th { width: 30%; }
tr { break-inside: avoid; }
.mono, code { font-family: "DejaVu Sans Mono", "Liberation Mono", monospace; font-size: 8.5pt; }
.nowrap { white-space: nowrap; }
.v { font-weight: bold; white-space: nowrap; padding: 1px 5px; font-size: 8.5pt;
     border-radius: 3px; color: #fff; display: inline-block; }
.v-pass { background: #2e7d32; } .v-fail { background: #c62828; }
.v-error { background: #6a1b9a; } .v-skip { background: #78909c; }
table.verdicts { table-layout: fixed; }
table.verdicts th:nth-child(1) { width: 21%; } table.verdicts th:nth-child(2) { width: 29%; }
table.verdicts th:nth-child(3) { width: 15%; }
table.verdicts td { overflow-wrap: anywhere; }
.res { color: #8a1c1c; }
.res ul { margin: 2px 0 0; padding-left: 14px; }
.obs { color: #7a5200; }
.counts span { margin-right: 14px; }
.signoff { border: 2px solid #1f3a5f; padding: 8px 10px; margin-top: 14px;
           break-inside: avoid; page-break-inside: avoid; }
.signoff h2 { margin-top: 0; }
.choice { margin: 4px 0; }
.box { display: inline-block; width: 11px; height: 11px; border: 1.5px solid #1a1a1a;
       margin-right: 6px; vertical-align: -1px; }
.lines { border-bottom: 1px solid #bbb; height: 18px; }
.parties { display: flex; gap: 12px; margin-top: 8px; }
.party { flex: 1; border: 1px solid #b8c2cc; padding: 6px; }
.party h3 { margin-top: 0; }
.field { font-size: 8.5pt; color: #555; margin-top: 6px; }
.fill { border-bottom: 1px solid #999; min-height: 18px; padding-top: 2px; }
.sig { border: 1px solid #999; height: 30mm; margin-top: 2px; }
.annex { break-before: page; page-break-before: always; }
pre { font-family: "DejaVu Sans Mono", "Liberation Mono", monospace; font-size: 7.5pt;
      background: #f7f9fb; border: 1px solid #dde3e9; padding: 5px; margin: 2px 0 8px;
      white-space: pre; overflow-x: auto; line-height: 1.25; }
table.small { font-size: 8pt; }
.pre-wrap { white-space: pre-wrap; word-break: break-all; }
.muted { color: #666; }
svg { display: block; margin: 6px 0; }
footer { margin-top: 16px; font-size: 8pt; color: #666; }
@media print {
  body { max-width: none; padding: 0; }
  pre { overflow: visible; white-space: pre-wrap; }
  a { color: inherit; text-decoration: none; }
}
"""


# --- small helpers ----------------------------------------------------------------------------


def _e(value: object) -> str:
    """Escape anything for HTML text and attributes (evidence comes straight off the wire)."""
    return escape("" if value is None else str(value), quote=True)


def _table(head: Iterable[str], rows: Iterable[Iterable[str]], cls: str = "") -> str:
    """A table from already-escaped cells; callers escape so cells may hold markup."""
    th = "".join(f"<th>{h}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    attr = f" class='{cls}'" if cls else ""
    return f"<table{attr}><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def _kv(rows: Iterable[tuple[str, str]]) -> str:
    """A two-column key/value table (keys and values already escaped)."""
    body = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
    return f"<table class='kv'>{body}</table>"


def _num(value: Any, digits: int = 1) -> str:
    """A measured number as text; a missing measure shows as a dash rather than 'None'."""
    if value is None:
        return "–"
    try:
        return f"{float(value):.{digits}f}"
    except (TypeError, ValueError):
        return _e(value)


def _date(iso: str, lang: str) -> str:
    """The run's timestamp in the reader's convention (day first in French)."""
    try:
        when = dt.datetime.fromisoformat(iso)
    except (TypeError, ValueError):
        return _e(iso)
    zone = when.strftime(" %Z") if when.tzinfo else ""
    pattern = "%d/%m/%Y %H:%M" if lang == "fr" else "%Y-%m-%d %H:%M"
    return _e(when.strftime(pattern) + zone)


def _checks(results: dict[str, Any]) -> list[dict[str, Any]]:
    return list(results.get("checks") or [])


def _data(check: dict[str, Any], key: str) -> list[Any]:
    value = (check.get("data") or {}).get(key)
    return list(value) if isinstance(value, list) else []


# --- the part the signatories read -------------------------------------------------------------


def _header(results: dict[str, Any], profile: Profile, t: dict[str, str], lang: str) -> str:
    """Who and where: the block a signatory checks before anything else."""
    c, s = profile.customer, profile.site
    rows = [
        (t["customer"], _e(c.name)), (t["siret"], _e(c.siret or "–")),
        (t["site"], _e(s.name)), (t["address"], _e(s.address)),
        (t["integrator"], _e(c.integrator)), (t["technician"], _e(c.technician or "–")),
        (t["date"], _date(str(results.get("generated", "")), lang)),
    ]
    return (f"<header><h1>{_e(t['title'])}</h1><p class='subtitle'>{_e(t['subtitle'])}</p>"
            f"{_kv((_e(k), v) for k, v in rows)}</header>")


def _services(profile: Profile, t: dict[str, str]) -> str:
    """What was sold and delivered: the object of the acceptance."""
    sip = profile.operator.sip_server
    parts = [f"<h2>{_e(t['services'])}</h2>", _kv([
        (_e(t["operator"]), _e(profile.operator.name)),
        (_e(t["sip_server"]),
         f"<span class='mono'>{_e(sip.ip)}:{_e(sip.port)}/{_e(sip.transport.upper())}</span>"),
        (_e(t["domain"]), f"<span class='mono'>{_e(sip.domain)}</span>"),
    ])]
    if profile.trunks:
        rows = [[_e(tr.name), f"<span class='mono'>{_e(tr.user)}</span>",
                 _e(", ".join(tr.dids) or "–"), _e(tr.channels)] for tr in profile.trunks]
        parts.append(f"<h3>{_e(t['trunks'])}</h3>")
        parts.append(_table([_e(t[k]) for k in ("name", "user", "dids", "channels")], rows))
    if profile.centrex:
        rows = [[_e(a.name), f"<span class='mono'>{_e(a.user)}</span>", _e(a.did or "–")]
                for a in profile.centrex]
        parts.append(f"<h3>{_e(t['centrex'])}</h3>")
        parts.append(_table([_e(t[k]) for k in ("name", "user", "number")], rows))
    return "".join(parts)


def _counts(results: dict[str, Any], lang: str) -> str:
    counts = results.get("counts") or {}
    spans = "".join(f"<span><span class='v v-{s}'>{_e(STATUS[lang][s])}</span> "
                    f"{_e(counts.get(s, 0))}</span>" for s in ("pass", "fail", "error", "skip"))
    return f"<p class='counts'>{spans}</p>"


def _reserve_cell(check: dict[str, Any], number: int | None, t: dict[str, str]) -> str:
    """The reason of a failed or errored check, numbered so the sign-off can refer to it; a
    passing check's own 'reserve' fact (e.g. a warning) shows as an observation."""
    parts = []
    if number is not None:
        items = [i.strip() for i in str(check.get("reason", "")).split(" | ") if i.strip()]
        text = (_e(items[0]) if len(items) == 1 else
                "<ul>" + "".join(f"<li>{_e(i)}</li>" for i in items) + "</ul>")
        parts.append(f"<div class='res'><b>R{number}</b> {text}</div>")
    note = (check.get("facts") or {}).get("reserve")
    if note:
        parts.append(f"<div class='obs'><b>{_e(t['observation'])}</b> : {_e(note)}</div>")
    return "".join(parts)


def _verdicts(results: dict[str, Any], t: dict[str, str], lang: str) -> str:
    """Every check with its verdict; failures and errors carry their reason as a reserve."""
    rows, n = [], 0
    for check in _checks(results):
        status = str(check.get("status", "error"))
        number = None
        if status in ("fail", "error"):
            n += 1
            number = n
        title = check.get(lang) or check.get("fr") or check.get("id", "")
        rows.append([f"<span class='mono'>{_e(check.get('id', ''))}</span>", _e(title),
                     f"<span class='v v-{_e(status)}'>{_e(STATUS[lang].get(status, status))}"
                     "</span>", _reserve_cell(check, number, t)])
    head = [_e(t[k]) for k in ("check", "label", "verdict", "reserve")]
    return (f"<h2>{_e(t['checks'])}</h2>{_counts(results, lang)}"
            f"{_table(head, rows, 'verdicts')}")


def _party(title: str, org: str, person: str, t: dict[str, str]) -> str:
    return (f"<div class='party'><h3>{_e(title)}</h3><div>{_e(org)}</div>"
            f"<div class='field'>{_e(t['signatory'])}</div><div class='fill'>{_e(person)}</div>"
            f"<div class='field'>{_e(t['sign_date'])}</div><div class='fill'></div>"
            f"<div class='field'>{_e(t['signature'])}</div><div class='sig'></div></div>")


def _signoff(profile: Profile, t: dict[str, str]) -> str:
    """The decision and the two signatures; kept on one page when printed."""
    choices = "".join(f"<div class='choice'><span class='box'></span>{_e(t[k])}</div>"
                      for k in ("no_reserve", "with_reserves", "refused"))
    lines = "<div class='lines'></div>" * 3
    c = profile.customer
    return (f"<section class='signoff'><h2>{_e(t['signoff'])}</h2>{choices}"
            f"<div class='field'>{_e(t['extra_reserves'])}</div>{lines}"
            f"<div class='parties'>{_party(t['for_customer'], c.name, '', t)}"
            f"{_party(t['for_integrator'], c.integrator, c.technician or '', t)}</div>"
            "</section>")


# --- the annex an expert reads -----------------------------------------------------------------


def _ladders(results: dict[str, Any], t: dict[str, str]) -> str:
    """Each call's SIP ladder as recorded (evidence titled '...: ladder')."""
    parts = []
    for check in _checks(results):
        for ev in check.get("evidence") or []:
            title = str(ev.get("title", ""))
            if title == "SIP: ladder" or title.endswith(": ladder"):
                parts.append(f"<h4><span class='mono'>{_e(check.get('id', ''))}</span> · "
                             f"{_e(title)}</h4><pre>{_e(ev.get('text', ''))}</pre>")
    return f"<h3>{_e(t['ladders'])}</h3>" + "".join(parts) if parts else ""


def _alg_rows(probes: list[Any], t: dict[str, str]) -> list[list[str]]:
    rows = []
    for p in probes:
        where = (f"{_e(p.get('direction'))}", _e(p.get("method")),
                 f"{_e(str(p.get('proto', '')).upper())}/{_e(p.get('port'))}")
        for ch in p.get("changes") or []:
            rows.append([*where, f"<span class='mono'>{_e(ch.get('element'))}</span>",
                         f"<span class='mono'>{_e(ch.get('before'))}</span>",
                         f"<span class='mono'>{_e(ch.get('after'))}</span>"])
        if not p.get("delivered"):
            rows.append([*where, f"<i>{_e(t['delivered'])}: {_e(t['no'])}</i>",
                         _e(p.get("note", "")), ""])
    return rows


def _alg(results: dict[str, Any], t: dict[str, str]) -> str:
    """What the router rewrote in SIP/SDP, element by element (the ALG diff)."""
    for check in _checks(results):
        probes = _data(check, "alg")
        if not probes:
            continue
        rows = _alg_rows(probes, t)
        head = [_e(t[k]) for k in ("direction", "method", "transport", "element", "before",
                                   "after")]
        body = _table(head, rows, "small") if rows else f"<p>{_e(t['alg_none'])}</p>"
        return f"<h3>{_e(t['alg'])}</h3>{body}"
    return ""


def _ports(ports: Iterable[Any], t: dict[str, str]) -> str:
    """A port set as ranges (``5060, 10000-20000``), or the language's word for none."""
    spans = fmt(int(p) for p in ports)
    return f"<span class='mono'>{_e(t['no_port'] if spans == 'none' else spans)}</span>"


def _sweeps(sweeps: list[Any], t: dict[str, str]) -> str:
    rows = [[_e(t.get(str(s.get("vantage")), s.get("vantage"))),
             _e(t.get(str(s.get("phase")), s.get("phase"))),
             f"<span class='mono'>{_e(s.get('source'))}</span>",
             _ports(s.get("open") or [], t),
             _e(s.get("sent")), _num(s.get("seconds"))] for s in sweeps]
    head = [_e(t[k]) for k in ("vantage", "phase", "source", "open", "sent", "seconds")]
    return _table(head, rows)


def _crosscheck(data: dict[str, Any], t: dict[str, str]) -> str:
    """What the router's configuration predicts against what the sweeps measured."""
    cfg, real = data.get("config") or {}, data.get("measured") or {}
    rows = [[_e(t[who]), _ports(cfg.get(who) or [], t), _ports(real.get(who) or [], t)]
            for who in ("server", "others")]
    head = [_e(t["vantage"]), _e(t["config"]), _e(t["measured"])]
    return f"<h4>{_e(t['crosscheck'])}</h4>{_table(head, rows)}"


def _firewall(results: dict[str, Any], t: dict[str, str]) -> str:
    """Port sets seen open from each vantage point, written as ranges, and the facts."""
    parts = []
    for check in _checks(results):
        sweeps = _data(check, "sweeps")
        if sweeps:
            parts.append(_sweeps(sweeps, t))
            facts = check.get("facts") or {}
            if facts:
                parts.append(f"<h4>{_e(t['facts'])}</h4>")
                parts.append(_kv((_e(k), f"<span class='mono'>{_e(v)}</span>")
                                 for k, v in facts.items()))
        cross = (check.get("data") or {}).get("crosscheck")
        if isinstance(cross, dict):
            parts.append(_crosscheck(cross, t))
    return f"<h3>{_e(t['firewall'])}</h3>" + "".join(parts) if parts else ""


def _quality_rows(results: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(call id, quality entry) for every measured direction of every call."""
    return [(str(c.get("id", "")), q) for c in _checks(results) for q in _data(c, "quality")
            if isinstance(q, dict)]


def _bar(x: float, y: float, width: float, value: float, top: float, colour: str) -> str:
    w = max(0.0, min(1.0, value / top)) * width if top > 0 else 0.0
    return (f"<rect x='{x:.1f}' y='{y:.1f}' width='{w:.1f}' height='9' fill='{colour}'/>"
            f"<text x='{x + w + 3:.1f}' y='{y + 8:.1f}' font-size='8'>{value:.2f}</text>")


def _panel(x: float, width: float, rows: list[tuple[str, dict[str, Any]]], key: str,
           limit: float, title: str, limit_word: str) -> str:
    """One bar panel (jitter or loss) with the threshold as a dashed line."""
    top = max([limit * 1.5, *(float(q.get(key) or 0) * 1.15 for _, q in rows)])
    out = [f"<text x='{x:.1f}' y='12' font-size='9' font-weight='bold'>{_e(title)}</text>"]
    for i, (_, q) in enumerate(rows):
        colour = COLOURS.get(str(q.get("grade")), "#546e7a")
        out.append(_bar(x, 22 + i * 20, width - 30, float(q.get(key) or 0), top, colour))
    lx = x + (width - 30) * limit / top
    bottom = 22 + len(rows) * 20
    out.append(f"<line x1='{lx:.1f}' y1='18' x2='{lx:.1f}' y2='{bottom:.1f}' stroke='#333' "
               "stroke-dasharray='3,2'/>")
    out.append(f"<text x='{lx + 2:.1f}' y='{bottom + 10:.1f}' font-size='7.5' fill='#333'>"
               f"{_e(limit_word)} {limit:g}</text>")
    return "".join(out)


def _plot(rows: list[tuple[str, dict[str, Any]]], th: Thresholds, t: dict[str, str]) -> str:
    """Jitter and loss per direction per call as bars against the profile's limits."""
    label_w, panel_w = 250.0, 200.0
    height = 22 + len(rows) * 20 + 16
    labels = "".join(
        f"<text x='0' y='{30 + i * 20}' font-size='8'>{_e(cid)} · {_e(q.get('direction'))}</text>"
        for i, (cid, q) in enumerate(rows))
    jitter = _panel(label_w, panel_w, rows, "jitter_ms", th.jitter_ms, t["jitter"],
                    t["threshold"])
    loss = _panel(label_w + panel_w + 20, panel_w, rows, "loss_pct", th.loss_pct, t["loss"],
                  t["threshold"])
    total_w = label_w + 2 * panel_w + 20
    return (f"<svg width='{total_w:.0f}' height='{height}' "
            f"viewBox='0 0 {total_w:.0f} {height}' role='img' aria-label='{_e(t['quality'])}' "
            "font-family='DejaVu Sans, sans-serif'>"
            f"{labels}{jitter}{loss}</svg>")


def _quality(results: dict[str, Any], profile: Profile, t: dict[str, str], lang: str) -> str:
    """RTP measures per direction of each call, as a table and a small bar plot."""
    rows = _quality_rows(results)
    if not rows:
        return ""
    body = [[f"<span class='mono'>{_e(cid)}</span>", _e(q.get("direction")),
             f"{_e(q.get('received'))}/{_e(q.get('expected'))}", _num(q.get("loss_pct"), 2),
             _num(q.get("jitter_ms")), _num(q.get("jitter_max_ms")), _num(q.get("rtt_ms")),
             _num(q.get("mos"), 2),
             f"<b style='color:{COLOURS.get(str(q.get('grade')), '#333')}'>"
             f"{_e(GRADE[lang].get(str(q.get('grade')), q.get('grade')))}</b>",
             _e("; ".join(q.get("problems") or []))] for cid, q in rows]
    head = [_e(t[k]) for k in ("call", "direction", "received", "loss", "jitter", "jitter_max",
                               "rtt", "mos", "grade", "problems")]
    return (f"<h3>{_e(t['quality'])}</h3>{_plot(rows, profile.thresholds, t)}"
            f"{_table(head, body, 'small')}")


def _config_lines(check: dict[str, Any], code: str, ref: str) -> str:
    """The configuration text the audit cites for one finding at one place."""
    want = f"{code} at {ref}"
    for ev in check.get("evidence") or []:
        if ev.get("title") == want:
            return f"<pre class='pre-wrap'>{_e(ev.get('text', ''))}</pre>"
    return ""


def _router(results: dict[str, Any], t: dict[str, str]) -> str:
    """Each router finding with its severity and the configuration lines behind it."""
    for check in _checks(results):
        if not isinstance((check.get("data") or {}).get("findings"), list):
            continue
        rows = []
        for f in _data(check, "findings"):
            refs = [str(r) for r in f.get("lines") or []]
            cited = "".join(f"<div class='mono'>{_e(r)}</div>"
                            f"{_config_lines(check, str(f.get('code')), r)}" for r in refs)
            sev = str(f.get("severity", ""))
            colour = {"fail": COLOURS["bad"], "warn": COLOURS["warn"]}.get(sev, "#333")
            rows.append([f"<b style='color:{colour}'>{_e(sev)}</b>",
                         f"<span class='mono'>{_e(f.get('code'))}</span>",
                         _e(f.get("message")), cited])
        head = [_e(t[k]) for k in ("severity", "code", "message", "lines")]
        body = _table(head, rows) if rows else f"<p>{_e(t['router_none'])}</p>"
        return f"<h3>{_e(t['router'])}</h3>{body}"
    return ""


def _incidents(results: dict[str, Any], t: dict[str, str]) -> str:
    """Failed calls in the operator's ticket format (date; time; calling; called; symptom)."""
    rows = []
    for raw in results.get("incidents") or []:
        cells = [c.strip() for c in str(raw).split(";", 4)]
        cells += [""] * (5 - len(cells))
        rows.append([_e(c) for c in cells])
    head = [_e(t[k]) for k in ("inc_date", "inc_time", "inc_calling", "inc_called",
                               "inc_symptom")]
    body = _table(head, rows) if rows else f"<p>{_e(t['none'])}</p>"
    return f"<h3>{_e(t['incidents'])}</h3>{body}"


def _annex(results: dict[str, Any], profile: Profile, t: dict[str, str], lang: str) -> str:
    sections = [_quality(results, profile, t, lang), _ladders(results, t), _alg(results, t),
                _firewall(results, t), _router(results, t), _incidents(results, t)]
    return (f"<section class='annex'><h2>{_e(t['annex'])}</h2>"
            f"{''.join(s for s in sections if s)}</section>")


def render(results: dict[str, Any], profile: Profile, *, lang: str = "fr") -> str:
    """The whole acceptance sheet as one self-contained HTML document.

    ``results`` is a ``results.json`` document (see :mod:`harness.plugin`), already redacted;
    ``profile`` supplies what was sold (customer, site, trunks, Centrex, operator server).
    """
    if lang not in TEXT:
        raise RecetteError(f"sheet language must be one of {', '.join(TEXT)}, got {lang!r}")
    t = TEXT[lang]
    body = "".join([
        _header(results, profile, t, lang), _services(profile, t),
        _verdicts(results, t, lang), _signoff(profile, t), _annex(results, profile, t, lang),
        f"<footer>{_e(t['generated'])} {_date(str(results.get('generated', '')), lang)}"
        f" · recette</footer>",
    ])
    title = f"{t['title']} – {profile.customer.name} – {profile.site.name}"
    return (f"<!DOCTYPE html>\n<html lang='{lang}'><head><meta charset='utf-8'>"
            f"<title>{_e(title)}</title><style>{CSS}</style></head><body>{body}</body></html>\n")


# --- PDF ---------------------------------------------------------------------------------------

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync")


def chromium() -> str:
    """Path of a headless-capable Chromium, or a RecetteError saying how to install one."""
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    raise RecetteError("chromium not found: install it (apt-get install -y chromium) to "
                       "print the acceptance sheet as PDF")


def run_chromium(args: list[str], out: Path, *, timeout: float = 120.0) -> None:
    """Run headless Chromium with a throw-away profile and check it wrote ``out``.

    A fresh ``--user-data-dir`` keeps runs independent (no lock on a shared profile, nothing
    left behind); the flags stop it from calling home, so printing works offline.
    """
    exe = chromium()
    with tempfile.TemporaryDirectory(prefix="recette-chromium-") as profile_dir:
        cmd = [exe, *CHROMIUM_FLAGS, f"--user-data-dir={profile_dir}", *args]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                                  check=False)
        except subprocess.TimeoutExpired:
            raise RecetteError(f"chromium did not finish within {timeout:.0f} s") from None
    if proc.returncode != 0 or not out.exists() or out.stat().st_size == 0:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise RecetteError(f"chromium could not write {out} (exit {proc.returncode}): {tail}")


def write_pdf(html_path: Path, pdf_path: Path) -> None:
    """Print the sheet at ``html_path`` to ``pdf_path`` with headless Chromium (A4, no
    browser header or footer, so the page carries only the sheet)."""
    html_path, pdf_path = Path(html_path).resolve(), Path(pdf_path).resolve()
    if not html_path.is_file():
        raise RecetteError(f"{html_path}: no such sheet to print")
    pdf_path.unlink(missing_ok=True)
    run_chromium(["--no-pdf-header-footer", f"--print-to-pdf={pdf_path}",
                  html_path.as_uri()], pdf_path)


def write_png(html_path: Path, png_path: Path, *, width: int = 1000, height: int = 2800) -> None:
    """A screenshot of the sheet, to look at it as a person would (tests, reviews)."""
    html_path, png_path = Path(html_path).resolve(), Path(png_path).resolve()
    png_path.unlink(missing_ok=True)
    run_chromium(["--hide-scrollbars", f"--window-size={width},{height}",
                  f"--screenshot={png_path}", html_path.as_uri()], png_path)
