"""What the console shows from stored codes, in the page's language and the user's zone:
the gate's reasons (its :class:`~harness.gate.store.Status` code and parameters), the
gatekeeper's notes and its refused or declared lines on a run, the audit log's actions and
details. The stores keep codes and English (the CLI's, the API's, older rows'); this module
alone turns them into the reader's words, and the templates reach it through the helpers
:func:`install` registers (``when``, ``size``, ``gate_reason``, …).

The gatekeeper's refused and declared lines are read back from their stored English by a
few patterns, not from new codes: runs stored before this module keep only the English,
and both old and new runs must read alike. Every cause the gatekeeper and
:mod:`harness.attest` write has its pattern (:data:`_WHY`); a line no pattern knows (a newer
console's) is shown as stored. An upload's refusal is said by :mod:`harness.console.refusals`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, g

from harness.console import localtime, refusals
from harness.console.labels import LABELS, label


def lang_of() -> str:
    """The page's language (``g.lang``, set per request; French outside one)."""
    return str(g.get("lang", "fr"))


def zone_of() -> ZoneInfo:
    """The signed-in user's time zone, the default for a visitor."""
    user = g.get("user")
    return localtime.zone_or_default(getattr(user, "tz", None))


def _fill(key: str, lang: str, /, **params: str) -> str:
    return label(key, lang).format_map(params)


def evidence(ref: object, lang: str) -> str:
    """The gate's evidence reference: "run 12" is the console's own, said in ``lang``."""
    text = str(ref or "")
    found = re.fullmatch(r"run (\d+)", text)
    if found:
        return _fill("evidence_run", lang, n=found.group(1))
    return text or label("evidence_none", lang)


def _param(name: str, value: object, lang: str, tz: ZoneInfo) -> str:
    if name == "evidence":
        return evidence(value, lang)
    if name == "status":
        key = f"status_{value}"
        return label(key, lang) if key in LABELS else str(value)
    if localtime.parse(value) is not None:
        return localtime.when(value, lang, tz)
    return "" if value is None else str(value)


def gate_reason(code: str, params: Mapping[str, Any], lang: str, tz: ZoneInfo,
                fallback: str = "") -> str:
    """A gate state's reason from its code (``GATE_WAITING`` …), its times in ``tz``; the
    stored English ``fallback`` for a code this version does not know."""
    key = code.lower()
    if key not in LABELS:
        return fallback
    try:
        return label(key, lang).format_map({k: _param(k, v, lang, tz)
                                            for k, v in params.items()})
    except (KeyError, ValueError, IndexError):
        return fallback


def note(gate: Mapping[str, Any], lang: str, tz: ZoneInfo) -> str:
    """The gatekeeper's note on a run (its stored summary, or an audit line's detail)."""
    code = str(gate.get("note_code") or "")
    params = gate.get("note_params") if isinstance(gate.get("note_params"), dict) else {}
    assert isinstance(params, dict)
    if f"note_{code}" not in LABELS:
        return str(gate.get("note") or "")
    try:
        return label(f"note_{code}", lang).format_map(
            {k: _param(k, v, lang, tz) for k, v in params.items()})
    except (KeyError, ValueError, IndexError):
        return str(gate.get("note") or "")


def _phase(p: str, lang: str) -> str:
    return label(f"phase_{p}", lang) if f"phase_{p}" in LABELS else p


# Every cause gatekeeper.py and harness.attest write for refusing an attestation: its
# pattern, its label, the names of its groups. A time group (``at``) is said in the zone.
_WHY: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (r"already used by another run", "why_used", ()),
    (r"unsigned\b.*", "why_unsigned", ()),
    (r"unknown probe key (.+)", "why_unknown_key", ("key",)),
    (r"bad signature for probe key (.+)", "why_bad_signature", ("key",)),
    (r"does not cover (.+)", "why_not_covered", ("what",)),
    (r"the probe found open: (.+)", "why_found_open", ("what",)),
    (r"stale: made (\S+ \S+?)Z, .*", "why_stale", ("at",)),
    (r"its time is not ISO 8601", "why_time_not_iso", ()),
    (r"its time has no time zone", "why_time_no_zone", ()),
    (r"signs a (.+), not a (sweep|scan)", "why_wrong_kind", ("kind", "expected")),
    (r"dated (\S+ \S+?)Z, after its receipt", "why_ahead", ("at",)),
    (r"made for site (.+), not (.+)", "why_other_site", ("other", "site")),
    (r"the run names no public address of the site to compare with", "why_no_public", ()),
    (r"sent to (.+), not to the site's public address (.+)", "why_misaimed",
     ("target", "public")),
    (r"(.+) datagrams sent for (\d+) ports", "why_too_few", ("sent", "n")),
    (r"says nothing of what it found open", "why_silent_open", ()),
    (r"unreadable attestation \((\w+)\)", "why_unreadable", ("error",)),
    (r"attestation is not an object", "why_not_object", ()),
    (r"attestation needs doc, sig and key strings", "why_fields", ()),
    (r"attestation too long", "why_att_too_long", ()),
    (r"malformed registered public key (\S+): .*", "why_bad_public", ("key",)),
    (r"signature is not base64", "why_sig_base64", ()),
    (r"signature is not 64 bytes", "why_sig_length", ()),
    (r"doc is not UTF-8 text", "why_doc_utf8", ()),
    (r"doc is not JSON", "why_doc_json", ()),
    (r"doc is not a JSON object", "why_doc_object", ()),
    (r"doc names another probe than key (.+)", "why_doc_probe", ("key",)),
    (r"unsupported attestation version \(expected (\d+)\)", "why_version", ("expected",)),
)


def _why(text: str, lang: str, tz: ZoneInfo) -> str:
    """An attestation's refusal cause (harness.attest, gatekeeper) from its pattern in
    :data:`_WHY`; one no pattern knows (a newer console's) keeps its English in brackets."""
    for pattern, key, names in _WHY:
        found = re.fullmatch(pattern, text, re.S)
        if not found:
            continue
        params = dict(zip(names, found.groups(), strict=True))
        if "at" in params:
            params["at"] = localtime.when(params["at"].replace(" ", "T") + "+00:00", lang,
                                          tz, seconds=key == "why_ahead")
        if key == "why_wrong_kind":
            params["expected"] = label(f"doc_{params['expected']}", lang)
        return _fill(key, lang, **params)
    return _fill("why_other", lang, detail=text) if lang != "en" else text


def refused(line: str, lang: str, tz: ZoneInfo) -> str:
    """One of the gatekeeper's refused lines in ``lang``."""
    text = str(line)
    if found := re.fullmatch(r"no (\w+) sweep from the outsider probe in the run", text):
        return _fill("refused_no_sweep", lang, phase=_phase(found.group(1), lang))
    if found := re.fullmatch(r"no (\w+) exposure scan from the outsider probe in the run",
                             text):
        return _fill("refused_no_scan", lang, phase=_phase(found.group(1), lang))
    if found := re.fullmatch(r"no (\S+) check in the run: .*", text):
        return _fill("refused_no_exposure", lang, check=found.group(1))
    if found := re.fullmatch(r"(security\.\w+): (.*?): what an attacker .*", text, re.S):
        return _fill("refused_exposure_status", lang, check=found.group(1),
                     status=_param("status", found.group(2), lang, tz))
    if found := re.fullmatch(r"(\w+) sweep from the (\w+): (.*)", text, re.S):
        vantage = f"vantage_{found.group(2)}"
        return _fill("refused_sweep", lang, phase=_phase(found.group(1), lang),
                     vantage=label(vantage, lang) if vantage in LABELS else found.group(2),
                     why=_why(found.group(3), lang, tz))
    if found := re.fullmatch(r"(\w+) exposure scan: (.*)", text, re.S):
        return _fill("refused_scan", lang, phase=_phase(found.group(1), lang),
                     why=_why(found.group(2), lang, tz))
    return text


_DECLARED = {"which swept ports": "declared_listener", "the operator's own": "declared_operator",
             "the router's configuration": "declared_config",
             "the site's public address": "declared_registrar"}


def declared(line: str, lang: str, tz: ZoneInfo) -> str:
    """One of the gatekeeper's declared lines (what rests on the agent's word)."""
    text = str(line)
    for start, key in _DECLARED.items():
        if text.startswith(start):
            return label(key, lang)
    if found := re.fullmatch(r"the (\w+) sweep from the (\w+) \((.*)\)", text, re.S):
        vantage = f"vantage_{found.group(2)}"
        return _fill("refused_sweep", lang, phase=_phase(found.group(1), lang),
                     vantage=label(vantage, lang) if vantage in LABELS else found.group(2),
                     why=_why(found.group(3), lang, tz))
    return text


def attested(a: Mapping[str, Any], lang: str, tz: ZoneInfo) -> str:
    """One attested sweep of the gate's trail."""
    vantage = f"vantage_{a.get('vantage')}"
    return _fill("attested_line", lang, phase=_phase(str(a.get("phase")), lang),
                 vantage=label(vantage, lang) if vantage in LABELS else str(a.get("vantage")),
                 probe=str(a.get("probe", "")), target=str(a.get("target", "")),
                 ports=str(a.get("ports", "")), sent=str(a.get("sent", "")),
                 at=localtime.when(a.get("at"), lang, tz, seconds=True))


def action(name: str, lang: str) -> str:
    """An audit action's label; an action this version does not know, as stored."""
    return label(f"act_{name}", lang) if f"act_{name}" in LABELS else name


def _value(key: str, value: Any, lang: str, tz: ZoneInfo) -> str:
    if isinstance(value, list):
        if key == "refused":
            return " ; ".join(refused(v, lang, tz) for v in value)
        return ", ".join(str(v) for v in value)
    if key == "state" and f"state_{value}" in LABELS:
        return label(f"state_{value}", lang)
    if key == "role" and str(value) in ("administrator", "technical", "integrator"):
        return label(str(value), lang)
    if key == "via" and f"via_{value}" in LABELS:
        return label(f"via_{value}", lang)
    if key == "reason" and value == "bad token":
        return label("bad_token", lang)
    if key == "run_id":
        return str(value)[:12]
    return _param(key, value, lang, tz)


_HIDDEN = {"note_code", "note_params", "why"}


def detail(act: str, d: Mapping[str, Any], lang: str, tz: ZoneInfo) -> list[tuple[str, str]]:
    """An audit entry's detail as (key, value) pairs in ``lang``: a gate refusal said from
    its code, a note from its code, states and roles translated, times in ``tz``."""
    out: list[tuple[str, str]] = []
    why = d.get("why") if isinstance(d.get("why"), dict) else None
    for k, v in d.items():
        if k in _HIDDEN or (k == "reason" and why is not None):
            continue
        text = note(d, lang, tz) if k == "note" else _value(k, v, lang, tz)
        out.append((label(f"key_{k}", lang) if f"key_{k}" in LABELS else k, text))
    if why is not None and act == "upload_refused":
        out.append((label("key_why", lang),
                    refusals.say(why, lang, tz, str(d.get("reason", "")))))
    elif why is not None:
        out.append((label("key_why", lang),
                    gate_reason(str(why.get("code", "")), why.get("params") or {}, lang, tz,
                                str(d.get("reason", "")))))
    return out


def detail_text(act: str, d: Mapping[str, Any], lang: str, tz: ZoneInfo) -> str:
    sep = " : " if lang != "en" else ": "
    return " · ".join(f"{k}{sep}{v}" for k, v in detail(act, d, lang, tz))


def install(app: Flask) -> None:
    """The templates' helpers, each reading the request's language and zone."""
    env = app.jinja_env

    def when(value: object, seconds: bool = False) -> str:
        return localtime.when(value, lang_of(), zone_of(), seconds=seconds)

    env.filters["when"] = when
    env.filters["size"] = lambda n: localtime.size(int(n), lang_of())
    env.globals.update(
        gate_note=lambda gate: note(gate, lang_of(), zone_of()),
        refused_line=lambda line: refused(line, lang_of(), zone_of()),
        declared_line=lambda line: declared(line, lang_of(), zone_of()),
        attested_line=lambda a: attested(a, lang_of(), zone_of()),
        action_label=lambda name: action(name, lang_of()),
        audit_detail=lambda act, d: detail_text(act, d, lang_of(), zone_of()),
        evidence_ref=lambda ref: evidence(ref, lang_of()),
        zone_label=lambda: localtime.zone_label(zone_of(), lang_of(),
                                                dt.datetime.now(dt.UTC)),
    )
