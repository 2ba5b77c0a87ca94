"""Decimal numbers read from a peer's bytes, without letting ``int()`` raise.

SIP and SDP numbers are ASCII digits (RFC 3261 §25.1 DIGIT, RFC 4566 §9). ``str.isdigit()``
is not that test: it accepts superscripts and other scripts that ``int()`` then refuses with a
bare ValueError, and ``int()`` also refuses strings over 4 300 digits. A parser that promises
only its own error type must read numbers through here.
"""

from __future__ import annotations

_ASCII_DIGITS = frozenset("0123456789")


def ascii_digits(text: str) -> bool:
    """True for a non-empty string of ASCII digits only."""
    return bool(text) and all(c in _ASCII_DIGITS for c in text)


def uint(text: str, cap: int) -> int | None:
    """The value of ``text`` if it is ASCII digits, saturated at ``cap``; None otherwise.

    Saturating (not failing) lets each caller say in its own words that the value is too
    large, and bounds the work: leading zeros are dropped and at most ``cap``'s number of
    digits (plus one) are converted, so a 60 kB run of digits costs no more than a short one.
    """
    if not ascii_digits(text):
        return None
    significant = text.lstrip("0")
    if len(significant) > len(str(cap)):
        return cap
    return min(int(significant or "0"), cap)
