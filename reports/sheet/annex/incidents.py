"""Annex section: every failed call as a row of the operator's ticket format.

Reads ``RunResults.incidents`` (:class:`~harness.results.IncidentRow`): date, time, calling
and called numbers, and the symptom in the sheet's language, the same five fields the
technician pastes into a support ticket from ``incidents.csv``. Always shown ("none" when no
call failed), since the operator asks for it either way.
"""

from __future__ import annotations

from reports.sheet.blocks import e, section, table
from reports.sheet.page import Page


def render(page: Page) -> str:
    rows = [[e(i.date), e(i.time), e(i.calling), e(i.called), page.say(i.symptom)]
            for i in page.results.incidents]
    head = [page.label(k) for k in ("inc_date", "inc_time", "inc_calling", "inc_called",
                                    "inc_symptom")]
    body = table(head, rows) if rows else f"<p>{page.label('none')}</p>"
    return section(page.t["incidents"], body)
