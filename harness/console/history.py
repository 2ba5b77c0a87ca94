"""What a site's page draws from its runs' digests (:func:`harness.console.store.digest_of`):
the check-by-check history of state changes, the incident rows across runs, and a small chart
of MOS and loss per run (inline SVG drawn here: no script, nothing fetched, printable)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape

from harness.console.store import Run
from harness.messages import Msg, catalog


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


def chart(pts: list[Point], *, mos_label: str, loss_label: str) -> Markup:
    """MOS (1 to 5, left axis, blue) and loss (0 to 10 % and above, right axis, red) per run,
    as inline SVG; empty without a measured call."""
    if not pts:
        return Markup("")
    w, h, pad = 560, 160, 36
    step = (w - 2 * pad) / max(1, len(pts) - 1)

    def x(i: int) -> float:
        return pad + i * step if len(pts) > 1 else w / 2

    def y_mos(m: float) -> float:
        return pad / 2 + (5 - max(1.0, min(5.0, m))) / 4 * (h - pad)

    def y_loss(loss: float) -> float:
        return pad / 2 + (1 - min(loss, 10.0) / 10) * (h - pad)

    mos = " ".join(f"{x(i):.1f},{y_mos(p.mos):.1f}" for i, p in enumerate(pts))
    loss = " ".join(f"{x(i):.1f},{y_loss(p.loss):.1f}" for i, p in enumerate(pts))
    dots = "".join(
        f'<circle cx="{x(i):.1f}" cy="{y_mos(p.mos):.1f}" r="3" fill="#1f5fbf">'
        f"<title>{escape(p.when[:16])} MOS {p.mos:.2f}</title></circle>"
        f'<circle cx="{x(i):.1f}" cy="{y_loss(p.loss):.1f}" r="3" fill="#d12f2f">'
        f"<title>{escape(p.when[:16])} {p.loss:.2f} %</title></circle>"
        for i, p in enumerate(pts))
    axis = (f'<text x="2" y="{y_mos(5) + 4:.0f}" font-size="10">5</text>'
            f'<text x="2" y="{y_mos(1) + 4:.0f}" font-size="10">1</text>'
            f'<text x="{w - pad + 4}" y="{y_loss(10) + 4:.0f}" font-size="10">10 %</text>'
            f'<text x="{w - pad + 4}" y="{y_loss(0) + 4:.0f}" font-size="10">0 %</text>'
            f'<line x1="{pad}" y1="{y_mos(1):.0f}" x2="{w - pad}" y2="{y_mos(1):.0f}" '
            'stroke="#ccc"/>')
    legend = (f'<text x="{pad}" y="{h - 2}" font-size="11" fill="#1f5fbf">'
              f"{escape(mos_label)}</text><text x=\"{pad + 200}\" y=\"{h - 2}\" "
              f'font-size="11" fill="#d12f2f">{escape(loss_label)}</text>')
    return Markup(
        f'<svg id="quality-chart" xmlns="http://www.w3.org/2000/svg" width="{w}" '
        f'height="{h + 12}" viewBox="0 0 {w} {h + 12}" role="img">{axis}'
        f'<polyline points="{mos}" fill="none" stroke="#1f5fbf" stroke-width="2"/>'
        f'<polyline points="{loss}" fill="none" stroke="#d12f2f" stroke-width="2"/>'
        f"{dots}{legend}</svg>")
