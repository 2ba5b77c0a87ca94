"""Evidence a check attaches to its result, and redaction of secrets from everything shown.

Evidence is what lets an expert trust a verdict: the SIP messages exchanged, the rewritten
headers, the figures. It is gathered through typed channels (a block of a given kind, a
fact, a reserve appended to a list, the typed :class:`~harness.results.Figures`) so the
reports never have to find it by title or key, and it is redacted once, in the plugin,
before reaching any report or file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from harness.messages import Msg
from harness.results import Figures, Item

MASK = "********"

Kind = Literal["text", "ladder", "messages", "config", "collected"]


@dataclass
class Evidence:
    """Collects evidence for one check; ``facts`` are short key/value results for the
    expert report, ``reserves`` the observations a passing check still owes the customer."""

    items: list[Item] = field(default_factory=list)
    facts: dict[str, str] = field(default_factory=dict)
    reserves: list[Msg] = field(default_factory=list)
    figures: Figures = field(default_factory=Figures)

    def add(self, title: str, text: str, *, kind: Kind = "text", ref: str = "") -> None:
        self.items.append(Item(title=title, text=text, kind=kind, ref=ref))

    def fact(self, key: str, value: object) -> None:
        self.facts[key] = str(value)

    def reserve(self, message: Msg) -> None:
        """Something the customer should know or fix although the check passed."""
        self.reserves.append(message)


class Redactor:
    """Replaces every known secret (and its digest-free appearances) with a mask."""

    def __init__(self, secrets: list[str]) -> None:
        # Longest first, so a secret containing another is masked whole.
        self._secrets = sorted({s for s in secrets if len(s) >= 3}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for s in self._secrets:
            if s in text:
                text = text.replace(s, MASK)
        return text
