"""How a check run looks in pytest-html: our verdicts, localized titles, inline evidence.

Registered by :mod:`harness.plugin` only for check runs that write an HTML report. The full
recette sheet (header block, sign-off, ladders, plots) builds on these hooks.
"""

from __future__ import annotations

from html import escape
from typing import Any

import pytest

from reports.sheet import STATUS  # one wording of the verdicts, for the sheet and the report

TEXT: dict[str, dict[str, Any]] = {
    "fr": {"title": "Feuille de recette", "check": "Contrôle", "label": "Intitulé",
           "verdict": "Verdict", "reason": "Motif"},
    "en": {"title": "Acceptance sheet", "check": "Check", "label": "Title",
           "verdict": "Verdict", "reason": "Reason"},
}


def evidence_html(data: dict[str, Any], lang: str) -> str:
    """Reason, key facts and evidence blocks of one check, as escaped HTML."""
    t = TEXT[lang]
    parts = []
    if data["reason"]:
        parts.append(f"<p><b>{t['reason']}</b>: {escape(data['reason'])}</p>")
    if data["facts"]:
        rows = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>"
                       for k, v in data["facts"].items())
        parts.append(f"<table class='recette-facts'>{rows}</table>")
    for ev in data["evidence"]:
        parts.append(f"<h4>{escape(ev['title'])}</h4><pre>{escape(ev['text'])}</pre>")
    return "".join(parts) or "&nbsp;"


class HtmlSheet:
    """pytest-html hook implementations bound to the report language."""

    def __init__(self, lang: str) -> None:
        self.lang = lang if lang in TEXT else "fr"

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        """Put the site, not the Python build, in the report's environment table."""
        try:
            from pytest_metadata.plugin import metadata_key
        except ImportError:  # pragma: no cover - pytest-html depends on pytest-metadata
            return
        from harness.plugin import PROFILE_KEY

        prof = session.config.stash.get(PROFILE_KEY, None)
        meta = session.config.stash.get(metadata_key, None)
        if prof is None or meta is None:
            return
        fr = self.lang == "fr"
        meta.clear()
        meta.update({
            ("Client" if fr else "Customer"): prof.customer.name,
            "SIRET": prof.customer.siret or "-",
            "Site": f"{prof.site.name} - {prof.site.address}",
            ("Intégrateur" if fr else "Integrator"): prof.customer.integrator,
            ("Technicien" if fr else "Technician"): prof.customer.technician or "-",
            ("Serveur SIP opérateur" if fr else "Operator SIP server"):
                f"{prof.operator.sip_server.ip}:{prof.operator.sip_server.port} "
                f"({prof.operator.sip_server.domain})",
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
        data = getattr(report, "recette", None)
        if data is None:
            return
        word = STATUS[self.lang].get(data["status"], data["status"])
        cells[:] = [cells[0], f'<td class="col-testId">{escape(data["id"])}</td>',
                    f"<td>{escape(data['title'])}</td>",
                    f'<td class="recette-{escape(data["status"])}">{escape(word)}</td>',
                    *cells[2:]]

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_table_html(self, report: Any, data: list[str]) -> None:
        rec = getattr(report, "recette", None)
        if rec is not None:
            data[:] = [evidence_html(rec, self.lang)]
