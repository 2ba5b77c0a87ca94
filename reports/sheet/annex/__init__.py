"""The sheet's expert annex: one module per section, in the order of :data:`SECTIONS`.

Each section is a function of the :class:`~reports.sheet.page.Page` that reads the typed
payload it renders (``figures.quality``, ladder blocks, ``figures.alg`` …) and returns its
HTML, or an empty string when the run has nothing for it. A new section (a new check's
figures) is therefore one module here and one line in :data:`SECTIONS`.
"""

from __future__ import annotations

from collections.abc import Callable

from reports.sheet.annex import (
    alg,
    capture,
    exposure,
    firewall,
    incidents,
    ladders,
    quality,
    router,
    sip_moves,
)
from reports.sheet.page import Page

Section = Callable[[Page], str]

SECTIONS: tuple[Section, ...] = (
    quality.render,
    ladders.render,
    alg.render,
    firewall.render,
    exposure.render,
    sip_moves.render,
    router.render,
    incidents.render,
    capture.render,
)


def render(page: Page) -> str:
    """The annex, starting on a new printed page, with every section that has content."""
    sections = "".join(section(page) for section in SECTIONS)
    return f"<section class='annex'><h2>{page.label('annex')}</h2>{sections}</section>"
