"""A site's standing: one light per trunk and for the site, from the same records as the gate.

Before, the sites page coloured a site from its latest run alone while the gate decided from
its own events, and one page could say "verified with reserves" beside "no verification".
Now the light is computed from both, here, and nowhere else: the latest run's checks (a
failure or error is red, reserves are orange) and each trunk's gate state (a blocked or
revoked option is red; no accepted verification, or an expired one, is grey). A later
failing run, a revocation or an expiry turns the light and the gate together.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any, Literal

from harness.gate.store import VALID, Event, Status

Light = Literal["green", "orange", "red", "grey"]
LIGHT_ORDER: dict[str, int] = {"red": 0, "orange": 1, "grey": 2, "green": 3}
RED_STATES = ("blocked", "revoked")
GREY_STATES = ("no-verification", "expired")


def checks_light(digest: Mapping[str, Any]) -> Light:
    """The latest run's checks alone: red on any failure or error, orange with reserves."""
    checks = [c for c in digest.get("checks") or [] if isinstance(c, dict)]
    if any(c.get("status") in ("fail", "error") for c in checks):
        return "red"
    if any(c.get("reserves") for c in checks):
        return "orange"
    return "green"


def trunk_light(checks: Light, state: str) -> Light:
    """One trunk's light: the checks' light, lowered by the gate's state of its option."""
    if checks == "red" or state in RED_STATES:
        return "red"
    if state in GREY_STATES:
        return "grey"
    return checks


def worst(lights: Iterable[Light]) -> Light:
    return min(lights, key=lambda x: LIGHT_ORDER[x], default="grey")


def expires(events: list[Event], states: Iterable[Status]) -> dt.datetime | None:
    """When the site's verification expires for a trunk not yet switched on (the listing
    turns such a site grey from then, without a write)."""
    if not any(s.state in ("waiting", "eligible") for s in states):
        return None
    passes = [e for e in events if e.kind == "verification_pass"]
    return passes[-1].at + VALID if passes else None
