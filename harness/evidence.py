"""Evidence a check attaches to its result, and redaction of secrets from everything shown.

Evidence is what lets an expert trust a verdict: the SIP messages exchanged, the rewritten
headers, the figures. It is redacted once, here, before reaching any report or file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MASK = "********"


@dataclass
class Item:
    """One titled block of evidence (plain text, shown preformatted)."""

    title: str
    text: str


@dataclass
class Evidence:
    """Collects evidence for one check; ``facts`` are short key/value results for the table."""

    items: list[Item] = field(default_factory=list)
    facts: dict[str, str] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)  # figures for JSON, plots, tests

    def add(self, title: str, text: str) -> None:
        self.items.append(Item(title, text))

    def fact(self, key: str, value: object) -> None:
        self.facts[key] = str(value)


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
