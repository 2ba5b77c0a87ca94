"""Annex section: the router audit's findings with the configuration lines behind them.

Reads ``figures.findings`` (:class:`~harness.results.Finding`): severity and message in the
sheet's language, the finding's code, and for each cited place (``Finding.lines``) the
configuration text the audit recorded as an evidence block of kind ``config`` with that
``ref``. Then the LAN plan the audit compared with (``figures.lan_plan``: the profile's, the
operator's default assumed, or none) and what the audit could not evaluate
(``figures.unevaluated``, each with its line), so a pass is never read as covering rules the
parser skipped or a plan nobody stated.
"""

from __future__ import annotations

from harness.results import CheckResult, Finding
from reports.sheet.blocks import COLOURS, e, mono, section, sentences, table
from reports.sheet.page import Page
from reports.sheet.text import SEVERITY

SEVERITY_COLOURS = {"fail": COLOURS["bad"], "warn": COLOURS["warn"]}


def cited(check: CheckResult, ref: str) -> str:
    """The configuration text a check recorded for one cited place (empty if none)."""
    for item in check.evidence:
        if item.kind == "config" and item.ref == ref:
            return f"<pre class='pre-wrap'>{e(item.text)}</pre>"
    return ""


def _row(page: Page, check: CheckResult, f: Finding) -> list[str]:
    lines = "".join(f"<div class='mono'>{e(ref)}</div>{cited(check, ref)}" for ref in f.lines)
    colour = SEVERITY_COLOURS.get(f.severity, "#333")
    return [f"<b style='color:{colour}'>{page.word(SEVERITY, f.severity)}</b>", mono(f.code),
            page.say(f.message), lines]


def render(page: Page) -> str:
    """Findings and unevaluated parts of every audit; nothing when no router was audited."""
    audits = [c for c in page.results.checks
              if c.figures.findings is not None or c.figures.unevaluated
              or c.figures.lan_plan is not None]
    if not audits:
        return ""
    rows = [_row(page, c, f) for c in audits for f in c.figures.findings or []]
    head = [page.label(k) for k in ("severity", "code", "message", "lines")]
    parts = [table(head, rows) if rows else f"<p>{page.label('router_none')}</p>"]
    plans = [page.say(c.figures.lan_plan) for c in audits if c.figures.lan_plan is not None]
    if plans:
        parts.append(f"<h4>{page.label('lan_plan')}</h4><p>{sentences(plans)}</p>")
    skipped = [page.say(m) for c in audits for m in c.figures.unevaluated]
    if skipped:
        parts.append(f"<h4>{page.label('unevaluated')}</h4>"
                     f"<div class='muted'>{sentences(skipped)}</div>")
    return section(page.t["router"], "".join(parts))
