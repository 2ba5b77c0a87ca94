"""Phone numbers as the console stores and searches them.

A customer reads a number on the phone in whatever form it has on paper: ``01 23 45 67 89``,
``+33 1 23 45 67 89``, ``0033 1 23 45 67 89``, the last nine digits, or the first few. The
profile holds them in the forms :func:`harness.profile._check_did` accepts (E.164 or French
national, with spaces, dots or dashes). Stored, every number is one canonical form, its E.164
digits without ``+`` (``33123456789``), and the same digits reversed, so that both a prefix
and a suffix search are a range on an indexed column (``LIKE '%…'`` would scan every row).

The profile has no country field: its national form is France's (``0`` then 9 digits), so a
national number is ``+33`` (:data:`COUNTRY`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

COUNTRY = "33"        # a profile's national numbers are French (the profile has no country)
MIN_DIGITS = 4        # fewer digits typed: not searched as a number (too many matches)
MAX_DIGITS = 15       # E.164's longest number
_SEPARATORS = re.compile(r"[\s.\-()/]")
_E164 = re.compile(r"\+[1-9]\d{6,14}")
_NATIONAL = re.compile(r"0[1-9]\d{8}")


def canonical(text: str, country: str = COUNTRY) -> str | None:
    """The E.164 digits (no ``+``) of a number as a profile writes it, or None when it is not
    one: ``+33 1 23 45 67 89``, ``0123456789`` and ``01.23.45.67.89`` all give
    ``33123456789``."""
    compact = _SEPARATORS.sub("", text)
    if _E164.fullmatch(compact):
        return compact[1:]
    if _NATIONAL.fullmatch(compact):
        return country + compact[1:]
    return None


def shown(digits: str) -> str:
    """A canonical number as a French technician reads it: ``+33 1 23 45 67 89`` (other
    countries: ``+`` and the digits, their grouping is theirs)."""
    if digits.startswith("33") and len(digits) == 11:
        rest = digits[2:]
        return "+33 " + rest[0] + " " + " ".join(rest[i:i + 2] for i in range(1, 9, 2))
    return "+" + digits


@dataclass(frozen=True)
class NumberQuery:
    """What a typed query means as a number: stored numbers starting with ``prefix`` (the
    whole number when ``exact``), or ending with ``suffix`` (None: not searched that way)."""

    prefix: str | None
    suffix: str | None
    exact: bool = False


def query(text: str, country: str = COUNTRY) -> NumberQuery | None:
    """A search box's text read as a number, or None when it is not one (letters, or fewer
    than :data:`MIN_DIGITS` digits). ``+`` or ``00`` starts an international number (a
    prefix of the canonical digits); a leading ``0`` a national one (``0123 45``: numbers
    starting ``+33 1 23 45``; all ten digits: that number exactly); bare digits are the
    start of an international number or the end of any number (``123456789``: the last nine
    digits, as a number is often read without its ``0``)."""
    compact = _SEPARATORS.sub("", text)
    if compact.startswith("+"):
        body, mode = compact[1:], "international"
    elif compact.startswith("00"):
        body, mode = compact[2:], "international"
    elif compact.startswith("0"):
        body, mode = compact[1:], "national"
    else:
        body, mode = compact, "bare"
    if not body.isdigit() or not body.isascii():
        return None
    if mode == "national":
        if len(body) + 1 < MIN_DIGITS or len(body) > 9:
            return None
        return NumberQuery(country + body, None, exact=len(body) == 9)
    if len(body) < MIN_DIGITS or len(body) > MAX_DIGITS:
        return None
    if mode == "international":
        return NumberQuery(body, None, exact=False)
    return NumberQuery(body, body[::-1])


def upper(prefix: str) -> str | None:
    """The least digit string above every string starting with ``prefix`` (``3312`` →
    ``3313``, ``3399`` → ``34``), so ``prefix <= x < upper`` is an index range; None when
    there is none (all nines)."""
    trimmed = prefix.rstrip("9")
    if not trimmed:
        return None
    return trimmed[:-1] + chr(ord(trimmed[-1]) + 1)
