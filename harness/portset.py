"""Port sets written as ranges: 10 001 ports must read as ``10000-20000``, not 10 001 lines."""

from __future__ import annotations

from collections.abc import Iterable


def ranges(ports: Iterable[int]) -> list[tuple[int, int]]:
    """Sorted, merged inclusive ranges of ``ports``."""
    out: list[tuple[int, int]] = []
    for p in sorted(set(ports)):
        if out and p == out[-1][1] + 1:
            out[-1] = (out[-1][0], p)
        else:
            out.append((p, p))
    return out


def expand(spans: Iterable[tuple[int, int]]) -> set[int]:
    return {p for lo, hi in spans for p in range(lo, hi + 1)}


def fmt(ports: Iterable[int]) -> str:
    """``5060, 10000-20000`` (or ``none``)."""
    rs = ranges(ports)
    return ", ".join(f"{lo}" if lo == hi else f"{lo}-{hi}" for lo, hi in rs) or "none"
