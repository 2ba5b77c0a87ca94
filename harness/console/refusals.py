"""An upload's refusal in the reader's language, from its code and parameters
(:meth:`harness.console.intake.UploadRefused.why`, kept in the audit line beside the English).

The API answers the English line, which ``recette upload`` prints and scripts compare; a
technician reading the form or the audit page in French gets the same refusal in French,
with French numbers ("1 200 caractères"), the SIRET grouped as it is written on a Kbis, and
no English words left in. The part and the field stay as sent (``results.json``,
``checks[0].status``): they name a file and a key the reader must find. A code this version
does not know (a newer console wrote the line) is shown as its stored English."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from harness.console import localtime
from harness.console.intake import MiB
from harness.console.labels import LABELS, label

_NUMBERS = ("n", "limit", "size", "line", "col")


def grouped(n: int, lang: str) -> str:
    """``1 200`` in French (a no-break space between thousands), ``1200`` in English, as
    the English line has always said it."""
    return f"{n:,}".replace(",", "\u00a0") if lang != "en" else str(n)


def siret(digits: str, lang: str) -> str:
    """A SIRET as a French reader writes it: ``732 829 320 00075`` (SIREN, then NIC)."""
    if lang == "en" or len(digits) != 14:
        return digits
    return f"{digits[:3]} {digits[3:6]} {digits[6:9]} {digits[9:]}"


def megabytes(n: int, lang: str) -> str:
    """A bound as the upload form states it: ``512 Mo``, ``256 Ko``."""
    if n >= MiB:
        return f"{n // MiB} {label('unit_mb', lang)}"
    return f"{n // 1024} {label('unit_kb', lang)}"


def _key(code: str) -> str:
    return code if code.startswith("zip_") else f"refusal_{code}"


def _param(code: str, name: str, value: Any, lang: str, tz: ZoneInfo) -> str:
    if code == "zip_total" and name == "name" and str(value).isdigit():
        return megabytes(int(value), lang)
    if lang == "en":  # as the English line said it
        return str(value)
    if name in _NUMBERS and isinstance(value, int) and not isinstance(value, bool):
        return grouped(value, lang)
    if name == "digits":
        return siret(str(value), lang)
    if name == "kind" and f"type_{value}" in LABELS:
        return label(f"type_{value}", lang)
    if code == "future" and localtime.parse(value) is not None:
        return localtime.when(value, lang, tz, seconds=True)
    return str(value)


def known(code: str) -> bool:
    return _key(code) in LABELS


def say(why: Mapping[str, Any], lang: str, tz: ZoneInfo | None = None,
        fallback: str = "") -> str:
    """The refusal ``why`` (part, where, code, params) as one line in ``lang``; the stored
    English ``fallback`` for a code or parameters this version does not know."""
    code = str(why.get("code", ""))
    params = why.get("params") if isinstance(why.get("params"), dict) else {}
    assert isinstance(params, dict)
    if not known(code):
        return fallback
    zone = tz or localtime.zone_or_default(None)
    try:
        text = label(_key(code), lang).format_map(
            {k: _param(code, k, v, lang, zone) for k, v in params.items()})
    except (KeyError, ValueError, IndexError):
        return fallback
    text = text.rstrip(".") if code.startswith("zip_") else text
    parts = [str(why.get(k) or "") for k in ("part", "where")]
    return label("colon", lang).join(p for p in (*parts, text) if p)
