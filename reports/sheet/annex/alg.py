"""Annex section: what the router's SIP ALG rewrote, element by element.

Reads ``figures.alg`` (:class:`~harness.results.AlgProbe`): for each SIP message sent across
the router, every header or SDP line that arrived changed (sent value, received value), and
the messages that did not arrive at all, with why (in the sheet's language). Elements and
values are wire text, shown as sent.
"""

from __future__ import annotations

from harness.results import AlgProbe
from reports.sheet.blocks import e, mono, section, table
from reports.sheet.page import Page
from reports.sheet.text import DIRECTION


def _rows(page: Page, probe: AlgProbe) -> list[list[str]]:
    where = [page.word(DIRECTION, probe.direction), e(probe.method),
             f"{e(probe.proto.upper())}/{probe.port}"]
    rows = [[*where, mono(ch.element), mono(ch.before), mono(ch.after)]
            for ch in probe.changes]
    if not probe.delivered:
        rows.append([*where, f"<i>{page.label('delivered')}{page.label('colon')}"
                             f"{page.label('no')}</i>",
                     page.say(probe.note) if probe.note else "", ""])
    return rows


def render(page: Page) -> str:
    """The ALG diff of every probe; nothing when no check probed for an ALG."""
    probes = [p for c in page.results.checks for p in c.figures.alg]
    if not probes:
        return ""
    rows = [row for p in probes for row in _rows(page, p)]
    head = [page.label(k) for k in ("direction", "method", "transport", "element", "before",
                                    "after")]
    body = table(head, rows, "small") if rows else f"<p>{page.label('alg_none')}</p>"
    return section(page.t["alg"], body)
