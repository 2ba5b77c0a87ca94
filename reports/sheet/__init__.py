"""The acceptance sheet ("feuille de recette"): one self-contained HTML page.

The sheet is what the customer and the integrator sign at the end of an installation, so it
opens with what the signatories need (:mod:`~reports.sheet.front`: who, where, what was
delivered, each check's verdict with its reserves, the sign-off block) and keeps the expert
evidence in an annex below (:mod:`~reports.sheet.annex`, one module per section). It is read
from the typed run (:class:`~harness.results.RunResults`), never from string keys, and says
everything in the sheet's language: labels from :mod:`~reports.sheet.text`, the checks'
sentences from their message codes. It is one file with inline CSS (``sheet.css``) and SVG
and no script or external resource, so it can be mailed, archived and printed years later
exactly as signed; :mod:`reports.pdf` prints it. Every text is escaped: evidence comes from
the wire.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

from harness.errors import RecetteError
from harness.profile import Profile
from harness.results import RunResults
from reports.sheet import annex, front
from reports.sheet.blocks import date, e
from reports.sheet.page import Page
from reports.sheet.text import LANGS


@cache
def css() -> str:
    """The sheet's style sheet (``sheet.css``, shipped as package data), without its comments:
    they are written for maintainers, in English, and the signed document carries only style."""
    text = resources.files(__name__).joinpath("sheet.css").read_text(encoding="utf-8")
    return re.sub(r"/\*.*?\*/\s*", "", text, flags=re.S)


def render(results: RunResults, profile: Profile, *, lang: str = "fr") -> str:
    """The whole acceptance sheet as one self-contained HTML document.

    ``results`` is the run (``results.json``, already redacted); ``profile`` supplies what was
    sold (customer, site, trunks, Centrex, operator server).
    """
    if lang not in LANGS:
        raise RecetteError(f"sheet language must be one of {', '.join(LANGS)}, got {lang!r}")
    page = Page(results, profile, lang)
    body = "".join([
        front.render(page), annex.render(page),
        f"<footer>{page.label('generated')} {date(results.generated, lang)} · recette</footer>",
    ])
    title = f"{page.t['title']} – {profile.customer.name} – {profile.site.name}"
    return (f"<!DOCTYPE html>\n<html lang='{lang}'><head><meta charset='utf-8'>"
            f"<title>{e(title)}</title><style>{css()}</style></head><body>{body}</body></html>\n")
