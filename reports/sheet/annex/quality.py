"""Annex section: RTP quality per direction of every call, as a table and a bar plot.

Reads ``figures.quality`` (:class:`~harness.results.QualityRow`) of every check. The plot
draws jitter and loss per direction against the profile's thresholds (a dashed line), as
inline SVG so the sheet stays one self-contained file; the problems column is the checks'
own sentences, rendered in the sheet's language.
"""

from __future__ import annotations

from harness.profile import Thresholds
from harness.results import QualityRow
from reports.sheet.blocks import COLOURS, e, mono, num, section, table
from reports.sheet.page import Page
from reports.sheet.text import GRADE

Row = tuple[str, QualityRow]  # (call id, one measured direction of that call)


def _bar(x: float, y: float, width: float, value: float, top: float, colour: str) -> str:
    w = max(0.0, min(1.0, value / top)) * width if top > 0 else 0.0
    return (f"<rect x='{x:.1f}' y='{y:.1f}' width='{w:.1f}' height='9' fill='{colour}'/>"
            f"<text x='{x + w + 3:.1f}' y='{y + 8:.1f}' font-size='8'>{value:.2f}</text>")


def _panel(x: float, width: float, values: list[tuple[float, str]], limit: float, title: str,
           limit_word: str) -> str:
    """One bar panel (jitter or loss): (value, grade) per row, the threshold dashed."""
    top = max([limit * 1.5, *(v * 1.15 for v, _ in values)])
    out = [f"<text x='{x:.1f}' y='12' font-size='9' font-weight='bold'>{e(title)}</text>"]
    for i, (value, grade) in enumerate(values):
        out.append(_bar(x, 22 + i * 20, width - 30, value, top, COLOURS.get(grade, "#546e7a")))
    lx = x + (width - 30) * limit / top
    bottom = 22 + len(values) * 20
    out.append(f"<line x1='{lx:.1f}' y1='18' x2='{lx:.1f}' y2='{bottom:.1f}' stroke='#333' "
               "stroke-dasharray='3,2'/>")
    out.append(f"<text x='{lx + 2:.1f}' y='{bottom + 10:.1f}' font-size='7.5' fill='#333'>"
               f"{e(limit_word)} {limit:g}</text>")
    return "".join(out)


def plot(page: Page, rows: list[Row], th: Thresholds) -> str:
    """Jitter and loss per direction per call as bars against the profile's limits."""
    t = page.t
    label_w, panel_w = 250.0, 200.0
    height = 22 + len(rows) * 20 + 16
    labels = "".join(
        f"<text x='0' y='{30 + i * 20}' font-size='8'>{e(cid)} · "
        f"{page.say(q.direction)}</text>" for i, (cid, q) in enumerate(rows))
    jitter = _panel(label_w, panel_w, [(q.jitter_ms, q.grade) for _, q in rows],
                    th.jitter_ms, t["jitter"], t["threshold"])
    loss = _panel(label_w + panel_w + 20, panel_w, [(q.loss_pct, q.grade) for _, q in rows],
                  th.loss_pct, t["loss"], t["threshold"])
    total_w = label_w + 2 * panel_w + 20
    return (f"<svg width='{total_w:.0f}' height='{height}' "
            f"viewBox='0 0 {total_w:.0f} {height}' role='img' aria-label='{e(t['quality'])}' "
            "font-family='DejaVu Sans, sans-serif'>"
            f"{labels}{jitter}{loss}</svg>")


def _row(page: Page, cid: str, q: QualityRow) -> list[str]:
    grade = (f"<b style='color:{COLOURS.get(q.grade, '#333')}'>"
             f"{page.word(GRADE, q.grade)}</b>")
    return [mono(cid), page.say(q.direction), f"{q.received}/{q.expected}",
            num(q.loss_pct, 2), num(q.jitter_ms), num(q.jitter_max_ms), num(q.rtt_ms),
            num(q.mos, 2), grade, "; ".join(page.say(p) for p in q.problems)]


def render(page: Page) -> str:
    """RTP measures per direction of each call; nothing when no call was measured."""
    rows = [(c.id, q) for c in page.results.checks for q in c.figures.quality]
    if not rows:
        return ""
    head = [page.label(k) for k in ("call", "direction", "received", "loss", "jitter",
                                    "jitter_max", "rtt", "mos", "grade", "problems")]
    body = [_row(page, cid, q) for cid, q in rows]
    return section(page.t["quality"],
                   plot(page, rows, page.profile.thresholds) + table(head, body, "small"))
