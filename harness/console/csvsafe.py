"""Every CSV the console exports goes through here: a spreadsheet opening it must not run a
formula a customer name or an audit detail smuggled in (CSV injection, OWASP).

A cell beginning with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading
``'``, which spreadsheets take for "text" and do not show; everything else is left as is.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: object) -> str:
    """``value`` as a CSV cell a spreadsheet shows as text."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(DANGEROUS) else text


class Writer:
    """:func:`csv.writer` with every cell passed through :func:`cell` (semicolons, as the
    console's and the runner's CSVs are: the French spreadsheet's default)."""

    def __init__(self, delimiter: str = ";") -> None:
        self.buf = io.StringIO()
        self._w = csv.writer(self.buf, delimiter=delimiter)

    def row(self, values: Iterable[object]) -> None:
        self._w.writerow([cell(v) for v in values])

    def text(self) -> str:
        return self.buf.getvalue()
