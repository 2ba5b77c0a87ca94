"""Annex section: what the router's SIP ALG rewrote, element by element, and who saw it.

Reads ``figures.alg`` (:class:`~harness.results.AlgProbe`): for each SIP message sent across
the router, every header or SDP line that arrived changed (sent value, received value), and
the messages that did not arrive at all, with why (in the sheet's language). Each row names
its witness (the outsider probe, the operator's registrar, a probe at the SIP server), since
they do not see the same things; a line above the table says how many messages each witness
compared, so "no rewrite seen" says by whom. Elements and values are wire text, shown as
sent.
"""

from __future__ import annotations

from harness.results import AlgProbe
from reports.sheet.blocks import e, mono, section, table
from reports.sheet.page import Page
from reports.sheet.text import DIRECTION, WITNESS


def _rows(page: Page, probe: AlgProbe) -> list[list[str]]:
    where = [page.word(WITNESS, probe.vantage), page.word(DIRECTION, probe.direction),
             e(probe.method),
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
    head = [page.label(k) for k in ("witness", "direction", "method", "transport", "element",
                                    "before", "after")]
    body = table(head, rows, "small") if rows else f"<p>{page.label('alg_none')}</p>"
    return section(page.t["alg"], _witnesses(page, probes) + body)


def _witnesses(page: Page, probes: list[AlgProbe]) -> str:
    """Each witness and the number of messages it compared, in order of first appearance."""
    counts: dict[str, int] = {}
    for p in probes:
        counts[p.vantage] = counts.get(p.vantage, 0) + p.delivered
    said = ", ".join(f"{page.word(WITNESS, v)} {n}" for v, n in counts.items())
    return f"<p>{page.label('witnesses')}{page.label('colon')}{said}</p>"
