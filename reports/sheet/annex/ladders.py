"""Annex section: each SIP exchange as the ladder diagram the check recorded.

Reads the evidence blocks of kind ``ladder`` (:class:`~harness.results.Item`), never their
titles: a ladder is headed by its check's id and title in the sheet's language, numbered
when a check recorded several. The full SIP messages stay in ``results.json`` and
report.html; the ladder is what an expert reads first.
"""

from __future__ import annotations

from reports.sheet.blocks import e, mono, section
from reports.sheet.page import Page


def render(page: Page) -> str:
    """Every ladder of every check, in check order; nothing when no check recorded one."""
    parts = []
    for check in page.results.checks:
        ladders = [item for item in check.evidence if item.kind == "ladder"]
        for i, item in enumerate(ladders, 1):
            count = f" ({i}/{len(ladders)})" if len(ladders) > 1 else ""
            parts.append(f"<h4>{mono(check.id)} · {e(check.title(page.lang))}{count}</h4>"
                         f"<pre>{e(item.text)}</pre>")
    return section(page.t["ladders"], "".join(parts)) if parts else ""
