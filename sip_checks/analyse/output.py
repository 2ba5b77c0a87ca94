"""What ``recette analyse`` writes: the summary, the incident rows and the HTML annex.

The incident rows are :mod:`harness.incidents`' five fields, the ones a technician pastes
into the operator's ticket. The HTML reuses the acceptance sheet's own annex sections
(quality table and plot, ladders, incidents) by handing them a run built from the capture
(one "check" per SIP dialog), so a capture reads like the annex of a run; the sheet's module
is passed in by the command line through the runner's table of rooms (this room does not
import the reports).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from html import escape
from pathlib import Path
from types import ModuleType
from typing import Any

from harness.incidents import Incident, csv_text
from harness.messages import Msg, msg
from harness.profile import Profile
from harness.results import CheckResult, Figures, Item, RunResults
from sip_checks.analyse.diagnose import Analysis, Call, gap_params
from sip_checks.analyse.dialogs import Dialog
from sip_checks.analyse.streams import Stream
from sip_checks.toolkit.quality import Quality


def incidents(a: Analysis) -> list[Incident]:
    """One row per failed call: when it started, its numbers, its symptom."""
    return [Incident(c.dialog.packets[0].at, c.dialog.calling, c.dialog.called, c.symptom)
            for c in a.calls if c.symptom is not None]


def _status(d: Dialog) -> str:
    status = d.status
    if status is None:
        return "—"
    final = d.final
    return f"{status} {final.message.reason}" if final is not None else str(status)


def _state(c: Call | None, d: Dialog, lang: str) -> str:
    """The dialog's final response, and what the capture could not show of it (it ended
    before the call did)."""
    if c is None or c.note is None:
        return _status(d)
    note = c.note.render(lang)
    return note if d.status is None else f"{_status(d)}; {note}"


def _say(m: Msg, lang: str) -> str:
    return m.render(lang)


def summary(a: Analysis, source: Path, lang: str) -> str:
    """The one-screen text: dialogs, streams with their figures, then every diagnosis."""
    out = [_say(msg("AN_SUMMARY", file=source.name, dialogs=len(a.dialogs), calls=len(a.calls),
                    streams=sum(len(c.streams) for c in a.calls) + len(a.others)), lang)]
    out += ["  ~ " + _say(n, lang) for n in _notes(a)]
    # Each call's streams right under it: with many calls at once, a list of streams after
    # the list of dialogs cannot be read.
    streams = {id(c.dialog): [(cs.stream, cs.quality) for cs in c.streams] for c in a.calls}
    calls = {id(c.dialog): c for c in a.calls}
    for d in _in_call_order(a):
        answered = d.answered
        length = ""
        if answered is not None and d.bye is not None:
            length = f" {d.bye.at - answered:.1f} s"
        c = calls.get(id(d))
        out.append(f"  {d.method} {d.calling} → {d.called}: {_state(c, d, lang)}{length} "
                   f"[{d.call_id}]")
        if c is not None and c.leg_of is not None:
            out.append("    ↳ " + _say(msg("AN_B2BUA_LEG", address=c.b2bua), lang))
        for s, q in streams.get(id(d), []):
            out += [_stream_line(s, q, lang), *_gap_lines(s, d.answered, lang)]
        out += [f"    {_say(m, lang)}" for m in _dtmf(streams.get(id(d), []))]
    if a.others and a.dialogs:  # else they could be read as the last dialog's streams
        out.append(f"  {_say(msg('AN_OTHER_STREAMS'), lang)}:")
    for s, q in a.others:
        out += [_stream_line(s, q, lang), *_gap_lines(s, None, lang)]
    out += [f"    {_say(m, lang)}" for m in _dtmf(a.others)]
    for f in a.findings:
        out.append("  ! " + _say(f, lang))
    if not a.findings:
        out.append("  " + _say(msg("AN_NOTHING_FOUND"), lang))
    return "\n".join(out) + "\n"


def _in_call_order(a: Analysis) -> list[Dialog]:
    """The dialogs in capture order, each later leg of a call through a B2BUA right after
    the leg it continues (so one call reads as one block)."""
    after: dict[int, list[Dialog]] = {}
    for c in a.calls:
        if c.leg_of is not None:
            after.setdefault(id(c.leg_of.dialog), []).append(c.dialog)
    legs = {id(d) for ds in after.values() for d in ds}
    out: list[Dialog] = []

    def place(d: Dialog) -> None:
        out.append(d)
        for leg in after.get(id(d), []):
            place(leg)

    for d in a.dialogs:
        if id(d) not in legs:
            place(d)
    return out


def _notes(a: Analysis) -> list[Msg]:
    """What the capture could not show (cut short, records not read, calls without RTP)."""
    return (a.capture.notes() if a.capture is not None else []) + a.notes


def _stream_line(s: Stream, q: Quality, lang: str) -> str:
    st = s.stats
    return (f"    RTP {q.direction.render(lang)} SSRC 0x{s.ssrc:08X}: {s.packets} pkts, "
            f"lost {st.lost} ({st.loss_pct:.2f} %), seq err {s.seq_errors}, jitter "
            f"{st.jitter_ms:.2f}/{st.jitter_max_ms:.2f} ms, R {q.r:.1f}, "
            f"MOS {q.mos:.2f} [{q.grade}]{_clock(s, lang)}")


def _clock(s: Stream, lang: str) -> str:
    """The clock rate jitter was measured at, said when it is not RFC 3551's static one."""
    if s.clock_source == "static":
        return ""
    source = msg(f"AN_CLOCK_{s.clock_source.upper()}")
    return ", " + _say(msg("AN_CLOCK", rate=s.stats.clock_rate, source=source), lang)


def _gap_lines(s: Stream, answered: float | None, lang: str) -> list[str]:
    return [f"      {_say(msg('AN_GAP_LINE', **gap_params(g, answered)), lang)}"
            for g in s.gaps]


def _dtmf(streams: list[tuple[Stream, Quality]]) -> list[Msg]:
    """One line per stream that carried RFC 4733 digits: the keys in order."""
    return [msg("AN_DTMF_LINE", stream=q.direction, digits="".join(d.key for d in s.digits))
            for s, q in streams if s.digits]


def _title(c: Call | None, d: Dialog) -> tuple[str, str]:
    m = msg("AN_DIALOG", method=d.method, calling=d.calling, called=d.called)
    return m.render("fr"), m.render("en")


def run_of(a: Analysis, source: Path, lang: str) -> RunResults:
    """The capture as a run: one result per dialog (its ladder, its streams' quality)."""
    checks = []
    by_dialog = {id(c.dialog): c for c in a.calls}
    for i, d in enumerate(a.dialogs, 1):
        c = by_dialog.get(id(d))
        fr, en = _title(c, d)
        quality = [cs.quality for cs in c.streams] if c is not None else []
        failed = c is not None and c.symptom is not None
        checks.append(CheckResult(
            id=f"#{i} {d.call_id}"[:60], fr=fr, en=en, status="fail" if failed else "pass",
            reasons=[c.symptom] if c is not None and c.symptom is not None else [],
            evidence=[Item(title=d.call_id, text=d.ladder(), kind="ladder")],
            figures=Figures(quality=quality)))
    if a.others:
        other = msg("AN_OTHER_STREAMS")
        fr, en = other.render("fr"), other.render("en")
        checks.append(CheckResult(id="RTP", fr=fr, en=en,
                                  figures=Figures(quality=[q for _, q in a.others])))
    return RunResults(generated=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                      customer="", site=source.name, operator_server="", lang=lang,
                      counts={}, checks=checks,
                      incidents=[i.model() for i in incidents(a)])


def html(a: Analysis, source: Path, lang: str, sheet: ModuleType) -> str:
    """The analysis page: findings, dialogs, rewrites, then the sheet's annex sections."""
    run = run_of(a, source, lang)
    profile = Profile.model_construct(thresholds=a.thresholds)
    page: Any = sheet.page.Page(run, profile, lang)
    annex = sheet.annex
    sections = "".join(s(page) for s in (annex.quality.render, annex.ladders.render,
                                         annex.incidents.render))
    def say(m: Msg) -> str:
        return escape(m.render(lang))

    findings = "".join(f"<li>{say(f)}</li>" for f in a.findings) or \
        f"<li>{say(msg('AN_NOTHING_FOUND'))}</li>"
    calls = {id(c.dialog): c for c in a.calls}
    dialogs = "".join(
        f"<tr><td class='mono'>{escape(d.call_id)}</td><td>{escape(d.method)}</td>"
        f"<td>{escape(d.calling)}</td><td>{escape(d.called)}</td>"
        f"<td>{escape(_state(calls.get(id(d)), d, lang))}</td></tr>"
        for d in _in_call_order(a))
    heads = "".join(f"<th>{say(k)}</th>" for k in (msg("AN_L_CALL_ID"), msg("AN_L_METHOD"),
                                                    msg("AN_L_FROM"), msg("AN_L_TO"),
                                                    msg("AN_L_FINAL")))
    rewrites = "".join(
        f"<tr><td>#{r.sent.frame} → #{r.got.frame}</td><td>{escape(r.sent.message.first_line)}"
        f"</td><td class='mono'>{escape(ch.element)}</td><td class='mono'>{escape(ch.before)}"
        f"</td><td class='mono'>{escape(ch.after)}</td></tr>"
        for r in a.rewrites for ch in r.changes)
    rw_heads = "".join(f"<th>{say(k)}</th>" for k in (msg("AN_L_FRAMES"), msg("AN_L_MESSAGE"),
                                                       msg("AN_L_ELEMENT"), msg("AN_L_BEFORE"),
                                                       msg("AN_L_AFTER")))
    rw = (f"<h3>{say(msg('AN_L_REWRITES'))}</h3><table class='small'><thead><tr>{rw_heads}</tr>"
          f"</thead><tbody>{rewrites}</tbody></table>") if rewrites else ""
    media = _media_html(a, say)
    title = say(msg("AN_L_TITLE", file=source.name))
    notes = "".join(f"<p class='small'>{say(n)}</p>" for n in _notes(a))
    return (f"<!DOCTYPE html>\n<html lang='{lang}'><head><meta charset='utf-8'>"
            f"<title>{title}</title><style>{sheet.css()}</style></head><body>"
            f"<h1>{title}</h1>{notes}<h3>{say(msg('AN_L_FINDINGS'))}</h3><ul>{findings}</ul>"
            f"<h3>{say(msg('AN_L_DIALOGS'))}</h3><table class='small'><thead><tr>{heads}</tr>"
            f"</thead><tbody>{dialogs}</tbody></table>{rw}{media}"
            f"<section class='annex'>{sections}</section></body></html>\n")


def _media_html(a: Analysis, say: Callable[[Msg], str]) -> str:
    """The DTMF digits and media gaps of every stream, as two tables (none when empty)."""
    rows: list[tuple[Stream, Quality, float | None]] = [
        (cs.stream, cs.quality, c.dialog.answered) for c in a.calls for cs in c.streams]
    rows += [(s, q, None) for s, q in a.others]
    digits = "".join(
        f"<tr><td>{say(q.direction)}</td><td class='mono'>"
        f"{escape(' '.join(d.key for d in s.digits))}</td></tr>" for s, q, _ in rows if s.digits)
    holes = "".join(
        f"<tr><td>{say(q.direction)}</td><td>{say(msg('AN_GAP_LINE', **gap_params(g, at)))}"
        f"</td></tr>" for s, q, at in rows for g in s.gaps)
    out = ""
    for title, head, body in ((msg("AN_L_DTMF"), msg("AN_L_DIGITS"), digits),
                              (msg("AN_L_GAPS"), msg("AN_L_GAP"), holes)):
        if body:
            out += (f"<h3>{say(title)}</h3><table class='small'><thead><tr>"
                    f"<th>{say(msg('AN_L_STREAM'))}</th><th>{say(head)}</th></tr></thead>"
                    f"<tbody>{body}</tbody></table>")
    return out


def write(a: Analysis, source: Path, out: Path, lang: str, sheet: ModuleType) -> list[Path]:
    """``summary.txt``, ``incidents.csv`` and ``analyse.html`` into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    files = {"summary.txt": summary(a, source, lang),
             "incidents.csv": csv_text(incidents(a), lang),
             "analyse.html": html(a, source, lang, sheet)}
    paths = []
    for name, text in files.items():
        path = out / name
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths
