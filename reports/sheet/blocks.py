"""The HTML building blocks every part of the sheet is made of: escaping, tables, numbers.

Evidence comes straight off the wire (SIP headers, router configuration), so every text goes
through :func:`e` before it reaches the page; the table helpers take already-escaped cells so
a cell may hold markup (a verdict badge, a list). Numbers and dates are written here once, in
the reader's convention, so a missing measure reads as a dash everywhere, never ``None``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from html import escape

# The colours of a grade (quality rows, plot bars) and of a finding's severity.
COLOURS = {"good": "#2e7d32", "warn": "#ef8f00", "bad": "#c62828"}


def e(value: object) -> str:
    """Escape anything for HTML text and attributes (evidence comes straight off the wire)."""
    return escape("" if value is None else str(value), quote=True)


def mono(value: object) -> str:
    """An identifier, address or wire value, escaped, in the fixed-width font."""
    return f"<span class='mono'>{e(value)}</span>"


def table(head: Iterable[str], rows: Iterable[Iterable[str]], cls: str = "") -> str:
    """A table from already-escaped cells; callers escape so cells may hold markup."""
    th = "".join(f"<th>{h}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    attr = f" class='{cls}'" if cls else ""
    return f"<table{attr}><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def kv(rows: Iterable[tuple[str, str]]) -> str:
    """A two-column key/value table (keys and values already escaped)."""
    body = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
    return f"<table class='kv'>{body}</table>"


def sentences(texts: list[str]) -> str:
    """One sentence as is, several as a list (texts already escaped)."""
    if len(texts) == 1:
        return texts[0]
    return "<ul>" + "".join(f"<li>{t}</li>" for t in texts) + "</ul>"


def section(heading: str, body: str) -> str:
    """An annex section: its heading (plain text, escaped here) and its body."""
    return f"<h3>{e(heading)}</h3>{body}"


def num(value: float | int | None, digits: int = 1) -> str:
    """A measured number as text; a missing measure shows as a dash rather than 'None'."""
    return "–" if value is None else f"{float(value):.{digits}f}"


def date(iso: str, lang: str) -> str:
    """The run's timestamp in the reader's convention (day first in French), escaped."""
    try:
        when = dt.datetime.fromisoformat(iso)
    except (TypeError, ValueError):
        return e(iso)
    zone = when.strftime(" %Z") if when.tzinfo else ""
    pattern = "%d/%m/%Y %H:%M" if lang == "fr" else "%Y-%m-%d %H:%M"
    return e(when.strftime(pattern) + zone)
