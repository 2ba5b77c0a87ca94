"""Times and numbers as the console's reader reads them: every time in the user's zone
(Europe/Paris unless they chose another) and labelled with it, so a technician in Paris
and an integrator in Montréal never read a bare UTC time as their own; numbers with the
page language's decimal comma or point and its units ("1,5 Mo", "1.5 MB").

The gate and the store keep UTC (aware datetimes, or ISO 8601 text in runs); only this
module turns them into words, through the Jinja filter ``when`` every template uses and
the CSV exports' helpers. Zones come from :mod:`zoneinfo` with the ``tzdata`` package
behind it, so a machine without a system zone database answers alike.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

DEFAULT_TZ = "Europe/Paris"
_ZONE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+){0,2}$")
# Cities whose French name differs from the zone database's (English) one.
_FR_CITIES = {"Montreal": "Montréal", "London": "Londres", "Brussels": "Bruxelles",
              "Geneva": "Genève", "Algiers": "Alger", "Reunion": "La Réunion",
              "Noumea": "Nouméa", "Lisbon": "Lisbonne", "Vienna": "Vienne",
              "Warsaw": "Varsovie", "Athens": "Athènes", "Moscow": "Moscou",
              "Mexico_City": "Mexico", "Quebec": "Québec"}


class ZoneError(ValueError):
    """A time zone name the console does not know (one line, naming the field)."""


def zone(name: str) -> ZoneInfo:
    """The zone named ``name`` (an IANA name such as ``America/Montreal``), or ZoneError:
    a name is checked against the zone database's list before it is opened, so nothing
    such as a path is ever read as a zone file."""
    name = name.strip()
    if not name or len(name) > 64 or not _ZONE_NAME.match(name) \
            or name not in available_timezones():
        raise ZoneError(f"tz: unknown time zone {name[:64]!r} (expected e.g. Europe/Paris)")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ZoneError(f"tz: unknown time zone {name[:64]!r}") from None


def zone_or_default(name: str | None) -> ZoneInfo:
    """The user's stored zone, the default when none (or one a later tzdata dropped)."""
    try:
        return zone(name) if name else ZoneInfo(DEFAULT_TZ)
    except ZoneError:
        return ZoneInfo(DEFAULT_TZ)


def _city(tz: ZoneInfo) -> str:
    last = tz.key.rsplit("/", 1)[-1]
    return _FR_CITIES.get(last, last.replace("_", " "))


def zone_label(tz: ZoneInfo, lang: str, at: dt.datetime | None = None) -> str:
    """How a time in ``tz`` is labelled: "heure de Paris" (French, the season's offset is
    understood), "CET"/"CEST" (English, the abbreviation in force at ``at``)."""
    if tz.key in ("UTC", "Etc/UTC"):
        return "UTC"
    if lang != "en":
        return f"heure de {_city(tz)}"
    abbr = (at or dt.datetime.now(dt.UTC)).astimezone(tz).tzname() or tz.key
    return f"UTC{abbr}" if abbr[:1] in "+-" else abbr


def parse(value: object) -> dt.datetime | None:
    """An aware datetime from a datetime (naive: UTC, as the stores keep it) or ISO 8601
    text (a run's ``generated``); None for anything else."""
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if isinstance(value, str) and re.match(r"^\d{4}-\d\d-\d\d[T ]\d\d:\d\d", value):
        try:
            found = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
        return found if found.tzinfo else found.replace(tzinfo=dt.UTC)
    return None


def bare(value: object, lang: str, tz: ZoneInfo, *, seconds: bool = False) -> str:
    """The time in ``tz`` without its label (CSV cells, whose header names the zone);
    text that is not a time is returned as it is, None as nothing."""
    at = parse(value)
    if at is None:
        return "" if value is None else str(value)
    local = at.astimezone(tz)
    clock = "%H:%M:%S" if seconds else "%H:%M"
    return local.strftime(("%Y-%m-%d " if lang == "en" else "%d/%m/%Y ") + clock)


def when(value: object, lang: str, tz: ZoneInfo, *, seconds: bool = False) -> str:
    """``06/12/2026 23:38 (heure de Paris)`` in French, ``2026-12-06 23:38 CET`` in
    English: the one way the console writes a time."""
    at = parse(value)
    if at is None:
        return "" if value is None else str(value)
    text = bare(at, lang, tz, seconds=seconds)
    label = zone_label(tz, lang, at)
    return f"{text} ({label})" if lang != "en" else f"{text} {label}"


def number(value: float, lang: str, digits: int = 1) -> str:
    """``1,5`` in French, ``1.5`` in English."""
    text = f"{value:.{digits}f}"
    return text.replace(".", ",") if lang != "en" else text


def size(n: int, lang: str) -> str:
    """A file size in the page's units (decimal, as a file manager shows them): "820 o",
    "1,5 Mo" in French; "820 B", "1.5 MB" in English."""
    units = ("o", "ko", "Mo", "Go", "To") if lang != "en" else ("B", "kB", "MB", "GB", "TB")
    value, unit = float(n), 0
    while value >= 1000 and unit < len(units) - 1:
        value, unit = value / 1000, unit + 1
    if unit == 0:
        return f"{n} {units[0]}"
    return f"{number(value, lang)} {units[unit]}"
