"""How a check run looks in pytest-html: our verdicts, localized titles, inline evidence.

Registered by :mod:`harness.plugin` (through the runner's table of rooms, never a static
import) only for check runs that write an HTML report. Each test report carries its check's
redacted :class:`~harness.results.CheckResult` as ``rep.recette``; these hooks show its
title, verdict word, reasons and reserves in the report's language, then the expert facts
(English key/values) and every evidence block. Labels and verdict words are the sheet's
(:mod:`reports.sheet.text`), so the report and the sheet say a verdict the same way.
"""

from __future__ import annotations

from html import escape
from typing import Any

import pytest

from harness.messages import Msg
from harness.results import CheckResult
from reports.sheet.blocks import sentences
from reports.sheet.text import LANGS, STATUS, TEXT


def _sentences(label: str, messages: list[Msg], lang: str) -> str:
    """A labelled paragraph: one sentence as is, several as a list."""
    if not messages:
        return ""
    body = sentences([escape(m.render(lang)) for m in messages])
    return f"<div><b>{escape(label)}</b>{escape(TEXT[lang]['colon'])}{body}</div>"


def evidence_html(check: CheckResult, lang: str) -> str:
    """Reasons, reserves, facts and evidence blocks of one check, as escaped HTML."""
    t = TEXT[lang]
    parts = [_sentences(t["reason"], check.reasons, lang),
             _sentences(t["observation"], check.reserves, lang)]
    if check.facts:
        rows = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>"
                       for k, v in check.facts.items())
        parts.append(f"<table class='recette-facts'>{rows}</table>")
    for item in check.evidence:
        parts.append(f"<h4>{escape(item.title)}</h4><pre>{escape(item.text)}</pre>")
    return "".join(parts) or "&nbsp;"


class HtmlSheet:
    """pytest-html hook implementations bound to the report language."""

    def __init__(self, lang: str) -> None:
        self.lang = lang if lang in LANGS else "fr"

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        """Put the site, not the Python build, in the report's environment table."""
        try:
            from pytest_metadata.plugin import metadata_key
        except ImportError:  # pragma: no cover - pytest-html depends on pytest-metadata
            return
        # Imported here: the plugin loads this module by name, and the core must never be
        # imported back from a report at module level (no cycle harness <-> reports).
        from harness.plugin import PROFILE_KEY

        prof = session.config.stash.get(PROFILE_KEY, None)
        meta = session.config.stash.get(metadata_key, None)
        if prof is None or meta is None:
            return
        t = TEXT[self.lang]
        sip = prof.operator.sip_server
        meta.clear()
        meta.update({
            t["customer"]: prof.customer.name,
            t["siret"]: prof.customer.siret or "-",
            t["site"]: f"{prof.site.name} - {prof.site.address}",
            t["integrator"]: prof.customer.integrator,
            t["technician"]: prof.customer.technician or "-",
            t["sip_server"]: f"{sip.ip}:{sip.port} ({sip.domain})",
        })

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_report_title(self, report: Any) -> None:
        report.title = TEXT[self.lang]["title"]

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_table_header(self, cells: list[str]) -> None:
        t = TEXT[self.lang]
        # pytest-html's own result column stays: its filters and counters read that text.
        cells[:] = [cells[0], f'<th class="sortable" data-column-type="testId">{t["check"]}'
                    "</th>", f"<th>{t['label']}</th>", f"<th>{t['verdict']}</th>", *cells[2:]]

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_table_row(self, report: Any, cells: list[str]) -> None:
        check: CheckResult | None = getattr(report, "recette", None)
        if check is None:
            return
        word = STATUS[self.lang].get(check.status, check.status)
        cells[:] = [cells[0], f'<td class="col-testId">{escape(check.id)}</td>',
                    f"<td>{escape(check.title(self.lang))}</td>",
                    f'<td class="recette-{check.status}">{escape(word)}</td>', *cells[2:]]

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_table_html(self, report: Any, data: list[str]) -> None:
        check: CheckResult | None = getattr(report, "recette", None)
        if check is not None:
            data[:] = [evidence_html(check, self.lang)]
