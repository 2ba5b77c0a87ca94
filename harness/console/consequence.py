"""What the confirmation page says before an activation or a revocation takes effect.

The person confirming must read the consequence in words, not infer it from a button: who
gets international calls (or loses them), from when, and on what grounds (the verification
the gate counts, or the reason and destinations typed). The sentences come from
:mod:`harness.console.labels` in the page's language; the facts from the gate's own trail, so
the page shows what the gate will re-check at confirmation.
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from harness.console import localtime, wording
from harness.console.labels import label
from harness.gate.store import Event


@dataclass(frozen=True)
class Consequence:
    """The confirmation page's words: a headline sentence and the grounds beneath it."""

    title: str
    sentence: str
    grounds: list[str]


def activation(trunk: str, site_name: str, trail: list[Event], lang: str,
               tz: ZoneInfo | None = None) -> Consequence:
    """Activation: international calls allowed at once; grounded on the last verified pass."""
    passes = [e for e in trail if e.kind == "verification_pass"]
    grounds = []
    if passes:
        last = passes[-1]
        grounds.append(label("confirm_verified", lang).format(
            when=localtime.when(last.at, lang, tz or localtime.zone_or_default(None)),
            run=wording.evidence(last.evidence, lang), actor=last.actor))
    grounds.append(label("confirm_recheck", lang))
    return Consequence(label("confirm_activate_title", lang),
                       label("confirm_activate", lang).format(trunk=trunk, site=site_name),
                       grounds)


def revocation(trunk: str, reason: str, destinations: list[str], lang: str) -> Consequence:
    """Revocation: international calls refused at once, until a new verification + 24 h."""
    dests = " ".join(destinations) if destinations else label("confirm_no_destinations", lang)
    return Consequence(label("confirm_revoke_title", lang),
                       label("confirm_revoke", lang).format(trunk=trunk),
                       [f"{label('reason', lang)} : {reason}" if lang != "en"
                        else f"{label('reason', lang)}: {reason}",
                        label("confirm_destinations", lang).format(destinations=dests)])
