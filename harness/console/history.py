"""What a site's page draws from its runs' digests (:func:`harness.console.store.digest_of`):
the check-by-check history of state changes, the incident rows across runs, and a small chart
of MOS and loss per run on a date axis (inline SVG drawn here: no script, nothing fetched,
printable)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from markupsafe import Markup, escape

from harness.console import localtime
from harness.console.labels import label
from harness.console.store import Run
from harness.messages import Msg, catalog

UTC_ZONE = ZoneInfo("UTC")


@dataclass(frozen=True)
class Change:
    """A check whose status differs from the run before (or its first run)."""

    when: str
    check: str
    title: str
    before: str | None
    after: str


@dataclass(frozen=True)
class Incident:
    run: str
    date: str
    time: str
    calling: str
    called: str
    symptom: str


@dataclass(frozen=True)
class Point:
    """One run's worst call quality: the lowest MOS and the highest loss of any direction."""

    when: str
    mos: float
    loss: float


Runs = list[tuple[Run, dict[str, Any]]]


def _render(msg: Any, lang: str) -> str:
    """A message in ``lang`` from the catalog; its stored English text when the code is not
    (or no longer) known to this version, or when its stored parameters do not fill the
    sentence (a run of another version, or a digest stored before the intake checked
    uploads): a stored run must never make its site's page fail."""
    try:
        m = Msg.model_validate(msg)
    except (ValueError, RecursionError):
        return str(msg)[:500]
    if m.code not in catalog():
        return m.text
    try:
        return m.render(lang)
    except (KeyError, IndexError, ValueError, AttributeError, TypeError, RecursionError):
        return m.text


def changes(runs: Runs, lang: str) -> list[Change]:
    """State changes per check: newest run first, the sheet's order within a run. A check's
    first pass is not a change (the first run would list every check); its first failure,
    error or skip is."""
    last: dict[str, str] = {}
    per_run: list[list[Change]] = []
    for run, digest in sorted(runs, key=lambda r: (r[0].generated, r[0].id)):
        mine = []
        for c in digest.get("checks") or []:
            ident, status = str(c.get("id")), str(c.get("status"))
            before = last.get(ident)
            if before != status and (before is not None or status != "pass"):
                mine.append(Change(run.generated, ident,
                                   str(c.get("en" if lang == "en" else "fr") or ident),
                                   before, status))
            last[ident] = status
        per_run.append(mine)
    return [c for mine in reversed(per_run) for c in mine]


def incidents(runs: Runs, lang: str) -> list[Incident]:
    out = []
    for run, digest in runs:
        for row in digest.get("incidents") or []:
            out.append(Incident(run.generated, str(row.get("date", "")),
                                str(row.get("time", "")), str(row.get("calling", "")),
                                str(row.get("called", "")),
                                _render(row.get("symptom", {}), lang)))
    return out


def points(runs: Runs) -> list[Point]:
    """The runs with a measured call, oldest first."""
    out = []
    for run, digest in sorted(runs, key=lambda r: (r[0].generated, r[0].id)):
        q = digest.get("quality")
        if q:
            out.append(Point(run.generated, float(q["mos"]), float(q["loss_pct"])))
    return out


def _moment(when: str) -> dt.datetime | None:
    """A run's ``generated`` as an aware time (UTC when it says no zone); None when it is
    not a date (a stored run must not make the page fail)."""
    try:
        t = dt.datetime.fromisoformat(when)
    except ValueError:
        return None
    return t.replace(tzinfo=dt.UTC) if t.tzinfo is None else t.astimezone(dt.UTC)


def ticks(first: dt.datetime, last: dt.datetime, most: int = 4, *, lang: str = "en",
          tz: ZoneInfo = UTC_ZONE) -> list[tuple[dt.datetime, str]]:
    """At most ``most`` evenly spaced dates between ``first`` and ``last`` with their labels
    in ``tz``, written as ``lang`` writes dates: days over a span of two days or more, else
    days and hours. Few and short, so that they do not overlap when the chart is shrunk to
    a phone's width (they scale with it)."""
    span = last - first
    days = span >= dt.timedelta(days=2)
    if lang == "en":
        fmt = "%Y-%m-%d" if days else "%m-%d %H:%M"
    else:
        fmt = "%d/%m/%Y" if days else "%d/%m %H:%M"
    if span <= dt.timedelta(0):
        return [(first, first.astimezone(tz).strftime(fmt))]
    out: list[tuple[dt.datetime, str]] = []
    for k in range(most):
        t = first + span * k / (most - 1)
        text = t.astimezone(tz).strftime(fmt)
        if not out or out[-1][1] != text:
            out.append((t, text))
    return out


def chart(pts: list[Point], lang: str, tz: ZoneInfo = UTC_ZONE) -> Markup:
    """MOS (1 to 5, left axis, blue) and loss (0 to 10 % and above, right axis, red) per run,
    as inline SVG; empty without a measured call. Runs are placed by their date, not their
    rank (three runs in a week then one a month later must look so), under a date axis;
    the title, the legend and a text alternative (``<title>``/``<desc>`` and a table of the
    values) are in the page's language, for a screen reader and for whoever prints it."""
    timed = [(t, p) for p in pts if (t := _moment(p.when)) is not None]
    if not timed:
        return Markup("")
    w, h, pad, top = 560, 200, 40, 26
    bottom = h - 46  # room for the date labels and the legend
    first, last = timed[0][0], timed[-1][0]
    span = (last - first).total_seconds()

    def x(t: dt.datetime) -> float:
        if span <= 0:
            return w / 2
        return pad + (t - first).total_seconds() / span * (w - 2 * pad)

    def y_mos(m: float) -> float:
        return top + (5 - max(1.0, min(5.0, m))) / 4 * (bottom - top)

    def y_loss(loss: float) -> float:
        return top + (1 - min(loss, 10.0) / 10) * (bottom - top)

    def stamp(t: dt.datetime) -> str:
        return localtime.when(t, lang, tz)

    def num(v: float) -> str:
        return localtime.number(v, lang, 2)

    mos = " ".join(f"{x(t):.1f},{y_mos(p.mos):.1f}" for t, p in timed)
    loss = " ".join(f"{x(t):.1f},{y_loss(p.loss):.1f}" for t, p in timed)
    dots = "".join(
        f'<circle class="run" data-when="{t.isoformat()}" cx="{x(t):.1f}" '
        f'cy="{y_mos(p.mos):.1f}" r="3" fill="#1f5fbf">'
        f"<title>{escape(stamp(t))} MOS {num(p.mos)}</title></circle>"
        f'<circle cx="{x(t):.1f}" cy="{y_loss(p.loss):.1f}" r="3" fill="#d12f2f">'
        f"<title>{escape(stamp(t))} {num(p.loss)} %</title></circle>"
        for t, p in timed)
    marks = []
    shown = ticks(first, last, lang=lang, tz=tz)
    for k, (t, text) in enumerate(shown):
        anchor = ("middle" if len(shown) == 1 else
                  "start" if k == 0 else "end" if k == len(shown) - 1 else "middle")
        marks.append(f'<line x1="{x(t):.1f}" y1="{bottom}" x2="{x(t):.1f}" y2="{bottom + 5}" '
                     f'stroke="#777"/><text class="tick" x="{x(t):.1f}" y="{bottom + 19}" '
                     f'font-size="15" text-anchor="{anchor}">{escape(text)}</text>')
    axis = (f'<text x="4" y="{y_mos(5) + 4:.0f}" font-size="12">5</text>'
            f'<text x="4" y="{y_mos(1) + 4:.0f}" font-size="12">1</text>'
            f'<text x="{w - pad + 4}" y="{y_loss(10) + 4:.0f}" font-size="12">10 %</text>'
            f'<text x="{w - pad + 4}" y="{y_loss(0) + 4:.0f}" font-size="12">0 %</text>'
            f'<line x1="{pad}" y1="{bottom}" x2="{w - pad}" y2="{bottom}" stroke="#999"/>'
            + "".join(marks))
    title, tid = label("chart_title", lang), "quality-chart-title"
    desc = label("chart_desc", lang).format(
        n=len(timed), first=stamp(first), last=stamp(last),
        mos_min=num(min(p.mos for _, p in timed)), mos_max=num(max(p.mos for _, p in timed)),
        loss_min=num(min(p.loss for _, p in timed)),
        loss_max=num(max(p.loss for _, p in timed)))
    legend = (f'<text x="{pad}" y="{h - 4}" font-size="14" fill="#1f5fbf">'
              f'\u25cf {escape(label("chart_mos", lang))}</text>'
              f'<text x="{w / 2 + 10:.0f}" y="{h - 4}" font-size="14" fill="#d12f2f">'
              f'\u25cf {escape(label("chart_loss", lang))}</text>')
    rows = "".join(f"<tr><td>{escape(stamp(t))}</td><td>{num(p.mos)}</td>"
                   f"<td>{num(p.loss)}</td></tr>"
                   for t, p in timed)
    table = (f'<details><summary>{escape(label("chart_table", lang))}</summary>'
             f'<table class="chart-values" id="quality-values"><thead><tr>'
             f'<th>{escape(label("when", lang))}</th><th>MOS</th>'
             f'<th>{escape(label("chart_loss", lang))}</th></tr></thead>'
             f"<tbody>{rows}</tbody></table></details>")
    return Markup(
        f'<svg id="quality-chart" class="chart" xmlns="http://www.w3.org/2000/svg" '
        f'width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" '
        f'aria-labelledby="{tid} quality-chart-desc"><title id="{tid}">{escape(title)}'
        f'</title><desc id="quality-chart-desc">{escape(desc)}</desc>'
        f'<text x="{w / 2:.0f}" y="16" font-size="16" font-weight="bold" '
        f'text-anchor="middle">{escape(title)}</text>{axis}'
        f'<polyline points="{mos}" fill="none" stroke="#1f5fbf" stroke-width="2"/>'
        f'<polyline points="{loss}" fill="none" stroke="#d12f2f" stroke-width="2"/>'
        f"{dots}{legend}</svg>{table}")
